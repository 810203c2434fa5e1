"""``serve_lambda`` with a servicer that sets two cookies, CORS and the access log on.

Used by tests/test_lambda_cookies_logs.py under the real awslambdaric.
"""

from __future__ import annotations

import grpcgw
from tests.servicers import CookiePingServicer

handler = grpcgw.serve_lambda(
    CookiePingServicer(),
    options=grpcgw.GatewayOptions(
        access_log=True,
        cors=grpcgw.CorsOptions(allow_origins=["https://app.example.com"]),
    ),
)
