"""grpcgw on Lambda with the same servicer written with plain methods: ``serve_lambda``
then runs it on a threaded gRPC server (no event loop between call and servicer)."""

from __future__ import annotations

import grpcgw

from bench.service import PlainBenchServicer

handler = grpcgw.serve_lambda(PlainBenchServicer())
