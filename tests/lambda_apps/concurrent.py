"""A ``serve_lambda`` handler for Lambda Managed Instances tests (awslambdaric's
multi-concurrency mode, ``AWS_LAMBDA_MAX_CONCURRENCY``).

Each worker process imports this module, so each starts its own gRPC server on
its own socket in ``$GRPCGW_TEST_SOCKET_DIR`` (or, with ``$GRPCGW_TEST_DISPATCH``
set to ``direct``, calls the servicer in process). The servicer tells who answered:

- ``GET /<name>``: the name, this worker's pid and socket, and the invocation's
  request id as the servicer received it (``x-lambda-request-id``);
- ``GET /hang?key=<port>``: a gate. It connects to ``127.0.0.1:<port>``, sends
  its pid and waits for one byte before answering, so a test can hold several
  invocations inside their servicers at once.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "gen"))

from grpcgwtest.echo.v1 import echo_pb2, echo_pb2_grpc  # noqa: E402

import grpcgw  # noqa: E402


class WhoServicer(echo_pb2_grpc.EchoServiceServicer):
    """Plain methods: run on the threaded server, as plain servicers are everywhere."""

    def _who(self, context: Any) -> dict[str, str]:
        md = dict(context.invocation_metadata())
        return {
            "pid": str(os.getpid()),
            "socket": str(handler.socket),
            "request-id": md.get("x-lambda-request-id", ""),
        }

    def Echo(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        return echo_pb2.EchoResponse(request=request, metadata=self._who(context))

    def Hang(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        with socket.create_connection(("127.0.0.1", int(request.key)), timeout=60) as gate:
            gate.sendall(f"{os.getpid()}\n".encode())
            if gate.recv(1) != b"!":
                raise RuntimeError("the gate closed without opening")
        return echo_pb2.EchoResponse(request=request, metadata=self._who(context))


handler = grpcgw.serve_lambda(
    WhoServicer(),
    lambda_options=grpcgw.LambdaOptions(socket_dir=os.environ["GRPCGW_TEST_SOCKET_DIR"]),
    dispatch=os.environ.get("GRPCGW_TEST_DISPATCH", "socket"),  # type: ignore[arg-type]
)
