"""grpcgw on Lambda with direct dispatch: ``serve_lambda(..., dispatch="direct")`` calls
the servicer in process (the parent checks that the option exists first)."""

from __future__ import annotations

import grpcgw

from bench.service import BenchServicer

handler = grpcgw.serve_lambda(BenchServicer(), dispatch="direct")
