"""grpcgw on Lambda: ``serve_lambda`` (the real gRPC server on a /tmp unix socket)."""

from __future__ import annotations

import grpcgw

from bench.service import BenchServicer

handler = grpcgw.serve_lambda(BenchServicer())
