"""grpcgw on AWS Lambda, end to end: the ping example under the real awslambdaric.

``python -m awslambdaric examples.ping.lambda_function.handler`` runs against the
fake Runtime API of tests/lambda_runtime.py; each test hands it an API Gateway,
ALB or function URL event and checks the response dict for that event source.
Each runs in both dispatch modes: the example as it is (socket) and
tests.lambda_apps.ping_direct (the same with ``dispatch="direct"``).

Events are the samples in tests/data/lambda-events/ (their origin is in
tests/data/README.md) with the method and path replaced and the query and body
removed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from .lambda_runtime import (
    ROOT,
    FakeRuntime,
    LambdaProcess,
    RuntimeProcessExited,
    lambda_function,
)

TIMEOUT = 20
#: The ping example's handler in each dispatch mode.
PING_HANDLERS = {
    "socket": "examples.ping.lambda_function.handler",
    "direct": "tests.lambda_apps.ping_direct.handler",
}
#: Lets INFO records of the ``grpcgw`` logger through awslambdaric's root logger.
ENV = {"AWS_LAMBDA_LOG_LEVEL": "INFO"}
CALL_LOG = '"msg":"rpc call: method = /example.v1.PingService/Ping"'
#: What the handler logs once at init, in each mode.
INIT_LOGS = {"socket": "gRPC server listening", "direct": "serving in process (direct dispatch"}
PONG = '{"message":"Pong"}'
EVENTS_DIR = ROOT / "tests" / "data" / "lambda-events"

# -- events ------------------------------------------------------------------------------

#: event source -> its sample GET event in tests/data/lambda-events
SOURCES = {
    "rest-v1": "apigw-rest-v1-get-query-multivalue.json",
    "http-v2": "apigw-http-v2-minimal-get.json",
    "function-url": "function-url-get-root.json",
    "alb": "alb-get-single-value-headers.json",
    "alb-multi": "alb-get-multi-value-headers.json",
}


def http_event(source: str, path: str, method: str = "GET") -> dict[str, Any]:
    """The ``source`` sample event, rewritten to a body-less ``method path`` without a query."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / SOURCES[source]).read_text("utf-8"))
    if source in ("http-v2", "function-url"):
        event["rawPath"] = path
        event["rawQueryString"] = ""
        event["requestContext"]["http"].update(method=method, path=path)
        for key in ("queryStringParameters", "pathParameters", "body"):
            event.pop(key, None)
        event["isBase64Encoded"] = False
    elif source == "rest-v1":
        event.update(
            resource=path,
            path=path,
            httpMethod=method,
            queryStringParameters=None,
            multiValueQueryStringParameters=None,
            pathParameters=None,
            body=None,
            isBase64Encoded=False,
        )
        event["requestContext"].update(httpMethod=method, path=path, resourcePath=path)
    else:  # alb, alb-multi
        query = "queryStringParameters" if source == "alb" else "multiValueQueryStringParameters"
        event.update({"httpMethod": method, "path": path, query: {}, "body": ""})
        event["isBase64Encoded"] = False
    return event


# -- expected responses ------------------------------------------------------------------

_V2_PONG = {
    "statusCode": 200,
    "headers": {"Content-Type": "application/json"},
    "cookies": [],
    "body": PONG,
    "isBase64Encoded": False,
}

EXPECTED_PONG: dict[str, dict[str, Any]] = {
    "rest-v1": {
        "statusCode": 200,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "body": PONG,
        "isBase64Encoded": False,
    },
    "http-v2": _V2_PONG,
    "function-url": _V2_PONG,
    "alb": {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "headers": {"Content-Type": "application/json"},
        "body": PONG,
        "isBase64Encoded": False,
    },
    "alb-multi": {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "body": PONG,
        "isBase64Encoded": False,
    },
}


def content_type(source: str, response: dict[str, Any]) -> Any:
    """The Content-Type of ``response``, read from the header field ``source`` uses."""
    if "multiValueHeaders" in EXPECTED_PONG[source]:
        return response["multiValueHeaders"].get("Content-Type")
    return response["headers"].get("Content-Type")


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module", params=list(PING_HANDLERS))
def ping_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def ping(ping_mode: str) -> Iterator[tuple[FakeRuntime, LambdaProcess]]:
    """The ping example's handler in one awslambdaric process per dispatch mode, shared
    by the module."""
    handler = PING_HANDLERS[ping_mode]
    with lambda_function(handler, env_extra=ENV) as (rt, proc):
        try:
            rt.wait_for_next(TIMEOUT)
        except RuntimeProcessExited as exc:
            if rt.init_errors:
                error = rt.init_errors[0]
                raise AssertionError(
                    f"{handler} failed at init: {error.error_type}: {error.error_message}"
                ) from exc
            raise
        yield rt, proc


def invoke_ok(rt: FakeRuntime, event: dict[str, Any]) -> dict[str, Any]:
    inv = rt.invoke(event, timeout=TIMEOUT)
    assert inv.kind == "response", inv.payload
    assert isinstance(inv.payload, dict)
    return inv.payload


def ping_once(rt: FakeRuntime, proc: LambdaProcess, source: str) -> str:
    """GET /v1/ping through ``source``, check the response, and return the call's log line.

    Every test that reaches the gRPC server waits for its log line like this, so the
    next test's count of lines starts from a settled output.
    """
    calls = proc.count(CALL_LOG)
    assert invoke_ok(rt, http_event(source, "/v1/ping")) == EXPECTED_PONG[source]
    return proc.wait_for_line(CALL_LOG, timeout=TIMEOUT, count=calls + 1)[-1]


# -- tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("source", list(SOURCES))
def test_get_ping(ping: tuple[FakeRuntime, LambdaProcess], source: str) -> None:
    rt, proc = ping
    # ping_once also waits for the example interceptor's log line for this call.
    line = ping_once(rt, proc, source)
    assert json.loads(line[line.index("{") :])["level"] == "debug"


def test_warm_invocations_reuse_the_process(
    ping: tuple[FakeRuntime, LambdaProcess], ping_mode: str
) -> None:
    rt, proc = ping
    ping_once(rt, proc, "http-v2")
    ping_once(rt, proc, "function-url")
    assert proc.poll() is None
    assert proc.count(INIT_LOGS[ping_mode]) == 1
    assert rt.init_errors == []
    assert rt.protocol_errors == []


@pytest.mark.parametrize("source", list(SOURCES))
def test_unknown_route_is_404(ping: tuple[FakeRuntime, LambdaProcess], source: str) -> None:
    rt, _ = ping
    response = invoke_ok(rt, http_event(source, "/v1/no/such/route"))
    assert response["statusCode"] == 404
    assert response.keys() == EXPECTED_PONG[source].keys()
    assert content_type(source, response) in ("application/json", ["application/json"])
    assert response["isBase64Encoded"] is False
    assert json.loads(response["body"])["code"] == 5
    if source.startswith("alb"):
        assert response["statusDescription"] == "404 Not Found"


def test_unknown_event_shape_is_an_invocation_error(
    ping: tuple[FakeRuntime, LambdaProcess],
) -> None:
    rt, proc = ping
    inv = rt.invoke({"foo": 1}, timeout=TIMEOUT)
    assert inv.kind == "error", inv.payload
    assert inv.payload["errorType"]
    assert inv.payload["errorMessage"]
    assert inv.payload["requestId"] == inv.request_id
    # The process survives it and keeps serving.
    ping_once(rt, proc, "rest-v1")
    assert proc.poll() is None


def test_init_error_is_reported() -> None:
    with lambda_function("tests.lambda_apps.broken_gateway.handler", env_extra=ENV) as (rt, proc):
        error = rt.wait_init_error(TIMEOUT)
        assert "is not a gRPC servicer" in (error.error_message or ""), error.payload
        assert proc.wait_exit(TIMEOUT) != 0
        assert rt.invocations == []
