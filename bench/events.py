"""API Gateway events (REST v1 and HTTP API v2) for the two calls, and a Lambda context.

Shaped like what API Gateway really sends (headers, request context, identity),
so event parsing costs what it costs in production.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from bench.service import ECHO_BODY, ECHO_PATH

_HOST = "abcdef1234.execute-api.eu-west-1.amazonaws.com"
_HEADERS = {
    "accept": "application/json",
    "accept-encoding": "gzip, deflate, br",
    "host": _HOST,
    "user-agent": "python-httpx/0.28.1",
    "x-amzn-trace-id": "Root=1-67891233-abcdef012345678912345678",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
}


def _body(call: str) -> tuple[str | None, dict[str, str]]:
    if call == "ping":
        return None, dict(_HEADERS)
    body = json.dumps(ECHO_BODY, separators=(",", ":"))
    headers = dict(_HEADERS)
    headers["content-type"] = "application/json"
    headers["content-length"] = str(len(body))
    return body, headers


def _method_path(call: str) -> tuple[str, str]:
    return ("GET", "/v1/ping") if call == "ping" else ("POST", ECHO_PATH)


def http_v2(call: str) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event on the ``$default`` stage."""
    method, path = _method_path(call)
    body, headers = _body(call)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": _HOST,
            "domainPrefix": "abcdef1234",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": headers["user-agent"],
            },
            "requestId": "Zx3fAhlYoAMEbRw=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2025:12:00:00 +0000",
            "timeEpoch": 1735732800000,
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = body
    return event


def rest_v1(call: str) -> dict[str, Any]:
    """A REST API (payload 1.0) event, proxy integration, stage ``prod``."""
    method, path = _method_path(call)
    body, headers = _body(call)
    return {
        "version": "1.0",
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": _HOST,
            "domainPrefix": "abcdef1234",
            "extendedRequestId": "Zx3fAhlYoAMEbRw=",
            "httpMethod": method,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": headers["user-agent"]},
            "path": f"/prod{path}",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTime": "01/Jan/2025:12:00:00 +0000",
            "requestTimeEpoch": 1735732800000,
            "resourceId": "abc123",
            "resourcePath": "/{proxy+}",
            "stage": "prod",
        },
        "body": body,
        "isBase64Encoded": False,
    }


EVENTS = {"v2": http_v2, "v1": rest_v1}


def event(call: str, kind: str) -> dict[str, Any]:
    """A fresh event (``call``: ping or echo; ``kind``: v2 or v1)."""
    return copy.deepcopy(EVENTS[kind](call))


class Context:
    """The parts of a Lambda context object the handlers read."""

    aws_request_id = "8f507cfc-example-4697-b07a-ac58fc914c95"
    function_name = "gwbench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:gwbench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000
