"""The committed generated protobuf code must match its .proto sources."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_generated_code_is_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "genprotos.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        "generated code is stale; run `python scripts/genprotos.py`\n"
        + result.stdout
        + result.stderr
    )
