"""grpcgw on Lambda: ``serve_lambda`` (the real gRPC server on a /tmp unix socket)."""

from __future__ import annotations

import grpcgw

from bench.service import BenchServicer, tmp_dir

# The socket directory (reflection's, in direct mode) is /tmp unless the cold-start
# scenario gives the child an empty one, as Lambda's /tmp is at init.
handler = grpcgw.serve_lambda(
    BenchServicer(), lambda_options=grpcgw.LambdaOptions(socket_dir=tmp_dir())
)
