"""The ping example: ``GET /v1/ping`` -> ``{"message":"Pong"}``, plus a small ShelfService.

The generated code under ``gen/`` imports itself as ``example.v1`` (protoc
derives import paths from the .proto paths), so that directory goes on
``sys.path``: the usual arrangement for protoc Python output.
"""

import sys
from pathlib import Path

_GEN = str(Path(__file__).resolve().parent / "gen")
if _GEN not in sys.path:
    sys.path.insert(0, _GEN)
