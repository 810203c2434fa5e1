"""grpcgw on AWS Lambda: :func:`serve_lambda` and the event sources it answers.

This package never imports aiohttp (see :mod:`grpcgw.awslambda.handler`).
"""

from grpcgw.awslambda.events import EventSourceError
from grpcgw.awslambda.handler import LambdaHandler, LambdaOptions, serve_lambda

__all__ = ["EventSourceError", "LambdaHandler", "LambdaOptions", "serve_lambda"]
