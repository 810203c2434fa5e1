"""A grpcgw Lambda handler whose init fails: ``serve_lambda`` is given something that is
not a servicer, so the error must reach ``/runtime/init/error``."""

from __future__ import annotations

import grpcgw

handler = grpcgw.serve_lambda(object())  # type: ignore[attr-defined, unused-ignore]
