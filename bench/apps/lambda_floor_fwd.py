"""The floor doing the gRPC work grpcgw's call does: the same bare stub call, with the
metadata grpcgw forwards for the bench's events and the deadline it sets.

No HTTP and no JSON, as the floor; what differs from it is gRPC's core handling
eight metadata entries (user-agent aside) and a deadline, which costs the
floor's caller tens of µs (docs/performance.md). grpcgw's socket mode against
this contender is grpcgw's own work; against the floor, that and gRPC's.
"""

from __future__ import annotations

from typing import Any

from bench.apps import lambda_floor
from bench.events import Context

#: What grpcgw sends for the bench's API Gateway events (seen by a server interceptor,
#: gRPC's own user-agent aside), per event kind.
_COMMON = (
    ("x-forwarded-for", "203.0.113.7"),
    ("x-forwarded-host", "abcdef1234.execute-api.eu-west-1.amazonaws.com"),
    ("grpcgateway-accept", "application/json"),
    ("grpcgateway-user-agent", "python-httpx/0.28.1"),
)
METADATA = {
    "v2": (
        *_COMMON,
        ("x-lambda-event-source", "apigw-http-v2"),
        ("x-apigateway-request-id", "Zx3fAhlYoAMEbRw="),
        ("x-lambda-request-id", Context.aws_request_id),
    ),
    "v1": (
        *_COMMON,
        ("x-lambda-event-source", "apigw-rest-v1"),
        ("x-apigateway-request-id", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"),
        ("x-lambda-request-id", Context.aws_request_id),
    ),
}
#: grpcgw's deadline for the bench's context: its remaining 29 s less the 0.5 s margin.
TIMEOUT = 28.5

_loop, _stub = lambda_floor.loop, lambda_floor._stub_


def _call(method: Any, request: Any, kind: str) -> Any:
    metadata = METADATA[kind]
    return lambda: _loop.run_until_complete(method(request, metadata=metadata, timeout=TIMEOUT))


#: (call, kind) -> a function making that call.
CALLS_BY_KIND = {
    (call, kind): _call(method, request, kind)
    for call, method, request in (
        ("ping", _stub.Ping, lambda_floor._ping_request),
        ("echo", _stub.Echo, lambda_floor._echo_request),
    )
    for kind in METADATA
}
