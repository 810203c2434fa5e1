"""Replies larger than a Lambda response can carry: a clear 429, not a bare 502.

Lambda fails an invocation whose response JSON is over 6,291,556 bytes
(``Function.ResponseSizeTooLarge``), an ALB one over 1 MB, and API Gateway then
answers ``502 {"message": "Internal Server Error"}`` with nothing in the
function's own log. The handler measures large replies as the runtime will
write them (awslambdaric's JSON, which escapes non-ASCII before python3.12).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from awslambdaric import lambda_runtime_marshaller
from example.v1 import ping_pb2, ping_pb2_grpc

from grpcgw import GatewayOptions, LambdaOptions, serve_lambda
from grpcgw.awslambda import LambdaHandler
from grpcgw.awslambda.handler import response_size

from .modes import MODES
from .test_lambda import Context, load, v2

#: The message of the next reply (set by each test).
_reply = {"message": ""}


class Sized(ping_pb2_grpc.PingServiceServicer):
    def Ping(self, request: Any, context: Any) -> Any:
        return ping_pb2.PingResponse(message=_reply["message"])


@pytest.fixture(params=MODES, scope="module")
def handler(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LambdaHandler]:
    sockets = tmp_path_factory.mktemp("s", numbered=True)
    h = serve_lambda(
        Sized(),
        lambda_options=LambdaOptions(socket_dir=str(sockets)),
        dispatch=request.param,
        # Above gRPC's 4 MiB: what brings a reply near Lambda's limit.
        options=GatewayOptions(max_response_message=16 << 20),
    )
    yield h
    h.stop()


def _alb() -> dict[str, Any]:
    event = load("alb-get-single-value-headers")
    event["path"] = "/v1/ping"
    event["httpMethod"] = "GET"
    event["queryStringParameters"] = {}
    return event


def _answer(handler: LambdaHandler, event: dict[str, Any], message: str) -> dict[str, Any]:
    _reply["message"] = message
    return handler(event, Context())


def _posted(answer: dict[str, Any]) -> int:
    """The bytes awslambdaric itself posts for ``answer``."""
    return len(lambda_runtime_marshaller.to_json(answer).encode())


@pytest.mark.parametrize(
    ("event", "limit"), [(lambda: v2("GET", "/v1/ping"), 6_291_556), (_alb, 1_048_576)]
)
def test_a_reply_is_refused_one_byte_over_the_limit_and_delivered_at_it(
    handler: LambdaHandler, event: Any, limit: int, caplog: pytest.LogCaptureFixture
) -> None:
    # Find the message length whose response is exactly the limit, as the runtime posts it.
    probe = _answer(handler, event(), "x")
    assert probe["statusCode"] == 200
    fitting = "x" * (1 + limit - _posted(probe))
    at_limit = _answer(handler, event(), fitting)
    assert at_limit["statusCode"] == 200
    assert _posted(at_limit) == limit
    assert json.loads(at_limit["body"]) == {"message": fitting}

    over = _answer(handler, event(), fitting + "x")
    assert over["statusCode"] == 429
    size = limit + 1
    assert json.loads(over["body"]) == {
        "code": 8,
        "message": f"reply too large for a Lambda response: {size} bytes, at most {limit}",
        "details": [],
    }
    assert f"is {size} bytes as a Lambda response, more than the {limit}" in caplog.text


def test_non_ascii_is_measured_as_the_runtime_escapes_it(
    handler: LambdaHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before python3.12 awslambdaric writes ``\\u00e9`` for ``é``: six bytes, not two."""
    text = "\u00e9" * 1_200_000  # 2.4 MB of UTF-8; 7.2 MB escaped
    monkeypatch.delenv("AWS_EXECUTION_ENV", raising=False)
    assert _answer(handler, v2("GET", "/v1/ping"), text)["statusCode"] == 429
    monkeypatch.setenv("AWS_EXECUTION_ENV", "AWS_Lambda_python3.12")
    answer = _answer(handler, v2("GET", "/v1/ping"), text)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["message"] == text


@pytest.mark.parametrize("runtime", [None, "AWS_Lambda_python3.11", "AWS_Lambda_python3.13"])
def test_response_size_is_what_awslambdaric_posts(
    runtime: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if runtime is None:
        monkeypatch.delenv("AWS_EXECUTION_ENV", raising=False)
    else:
        monkeypatch.setenv("AWS_EXECUTION_ENV", runtime)
    answer = {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Note": 'a "quoted"\\ value'},
        "cookies": ["a=b"],
        "body": '{"m":"caf\u00e9 \U0001f600 \u2028 tab\\t \\u0000"}',
        "isBase64Encoded": False,
    }
    assert response_size(answer) == len(lambda_runtime_marshaller.to_json(answer).encode())


def test_max_response_message_raises_grpcs_4_mib_on_lambda_too(handler: LambdaHandler) -> None:
    """In socket mode the handler's own channel takes the gateway's options, as
    ``Gateway(target=)``'s does (it kept gRPC's 4 MiB whatever the option said)."""
    answer = _answer(handler, v2("GET", "/v1/ping"), "y" * (5 << 20))
    assert answer["statusCode"] == 200
    assert len(json.loads(answer["body"])["message"]) == 5 << 20


def test_grpcs_4_mib_stays_the_default(sock_dir: Path) -> None:
    plain = serve_lambda(Sized(), lambda_options=LambdaOptions(socket_dir=str(sock_dir)))
    try:
        answer = _answer(plain, v2("GET", "/v1/ping"), "y" * (5 << 20))
    finally:
        plain.stop()
    assert answer["statusCode"] == 429
    assert json.loads(answer["body"])["code"] == 8  # RESOURCE_EXHAUSTED, from gRPC's limit
