"""``serve_lambda`` with a servicer that sets two cookies, CORS and the access log on,
in the dispatch mode ``$GRPCGW_TEST_DISPATCH`` names (socket by default).

Used by tests/test_lambda_cookies_logs.py under the real awslambdaric.
"""

from __future__ import annotations

import os

import grpcgw
from tests.servicers import CookiePingServicer

handler = grpcgw.serve_lambda(
    CookiePingServicer(),
    dispatch=os.environ.get("GRPCGW_TEST_DISPATCH", "socket"),  # type: ignore[arg-type]
    options=grpcgw.GatewayOptions(
        access_log=True,
        cors=grpcgw.CorsOptions(allow_origins=["https://app.example.com"]),
    ),
)
