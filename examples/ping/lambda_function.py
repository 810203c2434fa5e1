"""The ping example on AWS Lambda: ``Handler: examples.ping.lambda_function.handler``.

At init, ``serve_lambda`` starts the real gRPC server (with the logging
interceptor) on a unix socket in /tmp; each API Gateway / ALB / function URL
event is then routed and transcoded in process.
"""

from __future__ import annotations

import grpcgw
from examples.ping.interceptor import LoggingInterceptor
from examples.ping.service import PingServicer, ShelfServicer

handler = grpcgw.serve_lambda(PingServicer(), ShelfServicer(), interceptors=[LoggingInterceptor()])
