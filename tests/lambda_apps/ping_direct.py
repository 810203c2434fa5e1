"""The ping example's Lambda handler with direct dispatch (otherwise as
``examples.ping.lambda_function``): the servicers and the logging interceptor are
called in process, with no socket or gRPC server."""

from __future__ import annotations

import grpcgw
from examples.ping.interceptor import LoggingInterceptor
from examples.ping.service import PingServicer, ShelfServicer

handler = grpcgw.serve_lambda(
    PingServicer(), ShelfServicer(), interceptors=[LoggingInterceptor()], dispatch="direct"
)
