"""The Lambda function of the reliability suite, for the real awslambdaric:
``python -m awslambdaric tests.reliability.lambda_app.handler``."""

from __future__ import annotations

from grpcgw import serve_lambda

from .apps import Reporting

handler = serve_lambda(Reporting())
