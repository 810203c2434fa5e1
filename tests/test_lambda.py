"""serve_lambda in process: every real event source, golden responses, and the lifecycle.

Each test with a handler runs in both dispatch modes (the ``mode`` fixture):
the servicers behind the real gRPC server on its socket, and called directly.
The end-to-end tests with the real awslambdaric client are in test_lambda_e2e.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http
import json
import logging
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpcgwtest.echo.v1 import echo_pb2, echo_pb2_grpc

from grpcgw import GatewayOptions, LambdaOptions, serve_lambda
from grpcgw.awslambda import EventSourceError, LambdaHandler
from grpcgw.awslambda.handler import socket_path

from . import modes
from .conftest import DATA
from .modes import socket_only

mode = modes.mode

EVENTS = DATA / "lambda-events"
GOLDEN = DATA / "lambda-golden"
#: Set GRPCGW_UPDATE_GOLDEN=1 to rewrite the golden files (then review the diff).
UPDATE = os.environ.get("GRPCGW_UPDATE_GOLDEN") == "1"

_SEEN = (
    "authorization",
    "grpcgateway-authorization",
    "grpcgateway-content-type",
    "grpcgateway-cookie",
    "x-apigateway-authorizer",
    "x-apigateway-request-id",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-lambda-event-source",
    "x-lambda-request-id",
)


class EchoServicer(echo_pb2_grpc.EchoServiceServicer):
    async def Echo(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        md = {k: v for k, v in context.invocation_metadata() if k in _SEEN}
        return echo_pb2.EchoResponse(request=request, metadata=md)

    async def Hang(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def Fail(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        raise RuntimeError("servicer bug")


class PlainEchoServicer(echo_pb2_grpc.EchoServiceServicer):
    """EchoServicer with plain methods (what the threaded server runs)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def Echo(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        md = {k: v for k, v in context.invocation_metadata() if k in _SEEN}
        return echo_pb2.EchoResponse(request=request, metadata=md)

    def Hang(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        # Until released, or a little past the deadline (one that ignored it would hold
        # the invoking thread in direct dispatch: docs/dispatch.md). The gateway answers
        # at the deadline either way; released before it, this would answer CANCELLED.
        self.release.wait(context.time_remaining() + 0.2)
        context.abort(grpc.StatusCode.CANCELLED, "released")
        raise AssertionError("unreachable")

    def Fail(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        raise RuntimeError("servicer bug")


class Context:
    """A Lambda context with a fixed request id and a chosen remaining time."""

    def __init__(self, remaining_ms: int = 3000) -> None:
        self.aws_request_id = "c0ffee00-0000-4000-8000-000000000001"
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def sock_tmp(sock_dir: Path) -> str:
    return str(sock_dir)


@pytest.fixture
def make_handler(sock_tmp: str, mode: str) -> Iterator[Any]:
    handlers: list[LambdaHandler] = []

    def make(*servicers: Any, **lambda_opts: Any) -> LambdaHandler:
        options = lambda_opts.pop("options", None)
        interceptors = lambda_opts.pop("interceptors", ())
        h = serve_lambda(
            *(servicers or (EchoServicer(),)),
            interceptors=interceptors,
            options=options,
            lambda_options=LambdaOptions(socket_dir=sock_tmp, **lambda_opts),
            dispatch=mode,
        )
        handlers.append(h)
        return h

    yield make
    for h in handlers:
        h.stop()


# -- golden responses for every real event -------------------------------------------

#: Per-event LambdaOptions (the custom-domain event needs its base path stripped).
EVENT_OPTIONS: dict[str, dict[str, Any]] = {
    "apigw-rest-v1-post-base64-body-custom-domain": {"base_path": "v1"},
}
REQUEST_EVENTS = sorted(p.stem for p in EVENTS.glob("*.json") if not p.stem.startswith("response-"))


def _normalise(response: dict[str, Any]) -> dict[str, Any]:
    """Compare JSON bodies as data (map order is not part of the contract)."""
    out = dict(response)
    if not out.get("isBase64Encoded") and out.get("body"):
        with contextlib.suppress(ValueError):
            out["body"] = json.loads(out["body"])
    return out


def test_every_request_event_has_a_golden_response() -> None:
    assert len(REQUEST_EVENTS) == 20
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == REQUEST_EVENTS


@pytest.mark.parametrize("name", REQUEST_EVENTS)
def test_golden(name: str, make_handler: Any) -> None:
    event = json.loads((EVENTS / f"{name}.json").read_text())
    handler = make_handler(**EVENT_OPTIONS.get(name, {}))
    got = _normalise(handler(event, Context()))
    golden = GOLDEN / f"{name}.json"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(got, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    assert got == json.loads(golden.read_text())


# -- what the golden files show, asserted by name ------------------------------------


def _echo(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 200, response
    body: dict[str, Any] = json.loads(response["body"])
    return body


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def test_multi_value_query_and_request_context(make_handler: Any) -> None:
    echo = _echo(make_handler()(load("apigw-rest-v1-post-multivalue-query"), Context()))
    assert echo["request"]["multiValueName"] == ["you", "me"]
    assert echo["request"]["name"] == "me"
    assert echo["request"]["payload"] == {"a": 1}
    md = echo["metadata"]
    assert md["x-lambda-request-id"] == "c0ffee00-0000-4000-8000-000000000001"
    assert md["x-lambda-event-source"] == "apigw-rest-v1"
    assert md["x-apigateway-request-id"]


def test_the_websocket_option_is_a_warning_on_lambda(
    make_handler: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A configuration shared with serve_local (docs/options.md) may turn WebSocket
    on: Lambda says once that it does not apply, and serves HTTP as ever."""
    caplog.set_level(logging.WARNING, logger="grpcgw")
    make_handler()
    assert not [r for r in caplog.records if "websocket" in r.getMessage().lower()]
    handler = make_handler(options=GatewayOptions(websocket=True))
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "grpcgw",
            "WARNING",
            "GatewayOptions.websocket does not apply on Lambda: streaming methods are "
            "served over HTTP only (docs/streaming.md, WebSocket)",
        )
    ]
    echo = _echo(handler(load("apigw-rest-v1-post-multivalue-query"), Context()))
    assert echo["request"]["name"] == "me"


def test_v2_cookies_authorizer_and_source_ip(make_handler: Any) -> None:
    echo = _echo(make_handler()(load("apigw-http-v2-get-cookies-query"), Context()))
    assert echo["request"]["parameter1"] == ["value1", "value2"]
    md = echo["metadata"]
    assert md["grpcgateway-cookie"] == "cookie1; cookie2"
    assert json.loads(md["x-apigateway-authorizer"])["jwt"]["claims"] == {
        "claim1": "value1",
        "claim2": "value2",
    }
    assert md["x-forwarded-for"] == "192.168.0.1"


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        # API Gateway already appended the caller: not added a second time.
        (["198.51.100.1", "192.168.196.186"], "198.51.100.1, 192.168.196.186"),
        (["198.51.100.1, 192.168.196.186"], "198.51.100.1, 192.168.196.186"),
        # Only the chain's last hop counts: an earlier one equal to the caller is not it.
        (["192.168.196.186", "198.51.100.1"], "192.168.196.186, 198.51.100.1, 192.168.196.186"),
        ([], "192.168.196.186"),
    ],
)
def test_source_ip_ends_the_forwarded_chain_once(
    make_handler: Any, forwarded: list[str], expected: str
) -> None:
    event = load("apigw-rest-v1-post-multivalue-query")
    del event["headers"]["X-Forwarded-For"]
    event["multiValueHeaders"]["X-Forwarded-For"] = forwarded
    if not forwarded:
        del event["multiValueHeaders"]["X-Forwarded-For"]
    md = _echo(make_handler()(event, Context()))["metadata"]
    assert md["x-forwarded-for"] == expected


def test_encoded_slash_stays_in_the_segment(make_handler: Any) -> None:
    handler = make_handler()
    for name in ("apigw-http-v2-encoded-slash-in-path", "apigw-rest-v1-encoded-slash-in-path"):
        assert _echo(handler(load(name), Context()))["request"]["name"] == "foo/bar"


def test_alb_query_values_are_decoded_exactly_once(make_handler: Any) -> None:
    echo = _echo(make_handler()(load("alb-multi-value-encoded-query"), Context()))
    assert echo["request"]["myKey"] == ["?showAll=true", "?showAll=false"]


def test_named_stage_and_base_path_are_stripped(make_handler: Any) -> None:
    assert make_handler()(load("apigw-http-v2-get-named-stage"), Context())["statusCode"] == 200
    event = load("apigw-rest-v1-post-base64-body-custom-domain")
    assert make_handler()(event, Context())["statusCode"] == 404  # /v1/example: no such route
    echo = _echo(make_handler(base_path="v1")(event, Context()))
    assert echo["request"]["payload"] == {"example": "value"}  # base64 body decoded


def test_http_api_payload_1_0_named_stage_is_stripped(make_handler: Any) -> None:
    # An HTTP API sends payload 1.0 with the stage in `path`, as v2 has it in rawPath.
    event = load("apigw-rest-v1-get-query-multivalue")  # HTTP API, payload 1.0
    event["requestContext"]["stage"] = "beta"
    event["path"] = "/beta/my/path"
    assert make_handler()(event, Context())["statusCode"] == 200
    assert make_handler(strip_stage=False)(event, Context())["statusCode"] == 404


def test_rest_path_is_never_stripped_of_its_stage(make_handler: Any) -> None:
    # A REST API leaves the stage out of `path`: a stage named like the path's first
    # segment must not eat it.
    event = load("apigw-rest-v1-post-proxy-stagevars")  # REST, on execute-api
    event["requestContext"]["stage"] = "hello"
    assert _echo(make_handler()(event, Context()))["request"]["payload"]


def test_stage_kept_when_asked(make_handler: Any) -> None:
    event = load("apigw-http-v2-get-named-stage")
    assert make_handler(strip_stage=False)(event, Context())["statusCode"] == 404


# -- synthetic events for what the real ones lack ---------------------------------------


def v2(
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    b64: bool = False,
    query: str = "",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API v2 event built from the minimal real one."""
    event = load("apigw-http-v2-minimal-get")
    event["rawPath"] = path
    event["rawQueryString"] = query
    event["requestContext"]["http"]["method"] = method
    event["headers"] = headers or {}
    if body is not None:
        event["body"] = base64.b64encode(body).decode() if b64 else body.decode()
        event["isBase64Encoded"] = b64
    return event


def test_v2_base64_body(make_handler: Any) -> None:
    event = v2("POST", "/my/path", body='{"x": "ü"}'.encode(), b64=True)
    assert _echo(make_handler()(event, Context()))["request"]["payload"] == {"x": "ü"}


def _zipped(kind: str, data: bytes) -> bytes:
    import gzip
    import zlib

    if kind == "gzip":
        return gzip.compress(data)
    if kind == "deflate":  # RFC 9110's deflate: zlib's format
        return zlib.compress(data)
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)  # raw deflate, which aiohttp reads too
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize("kind", ["gzip", "deflate", "raw deflate"])
def test_an_encoded_body_is_decoded_as_over_http(make_handler: Any, kind: str) -> None:
    # API Gateway, function URLs and ALB pass a compressed body on as it came
    # (base64): over HTTP, aiohttp decodes it before the gateway sees it.
    encoding = kind.split()[-1]
    body = _zipped(kind, '{"x": "ü"}'.encode())
    event = v2("POST", "/my/path", body=body, b64=True, headers={"content-encoding": encoding})
    assert _echo(make_handler()(event, Context()))["request"]["payload"] == {"x": "ü"}


def _error(response: dict[str, Any], status: int) -> dict[str, Any]:
    assert response["statusCode"] == status, response
    body: dict[str, Any] = json.loads(response["body"])
    assert set(body) == {"code", "message", "details"}
    return body


def test_an_encoded_body_that_cannot_be_decoded_is_refused(make_handler: Any) -> None:
    handler = make_handler()

    def post(body: bytes, encoding: str, path: str = "/my/path") -> dict[str, Any]:
        headers = {"content-encoding": encoding}
        return handler(v2("POST", path, body=body, b64=True, headers=headers), Context())

    # Never passed on as if it were the body: 415 names what is decoded.
    response = post(b'{"x": 1}', "br")
    assert _error(response, 415) == {
        "code": 3,
        "message": "Content-Encoding 'br' is not supported",
        "details": [],
    }
    assert response["headers"]["Accept-Encoding"] == "deflate, gzip"
    assert _error(post(b'{"x": 1}', "gzip, gzip"), 415)["code"] == 3
    # Not gzip, or cut short: 400, never what decoded so far.
    assert _error(post(b'{"x": 1}', "gzip"), 400)["message"] == (
        "malformed request body: not valid gzip data"
    )
    truncated = _zipped("gzip", b'{"x": "' + b"a" * 1000 + b'"}')[:-20]
    assert _error(post(truncated, "gzip"), 400)["code"] == 3
    # A bomb stops at max_request_body (4 MiB), unexpanded.
    bomb = _zipped("gzip", b" " * (8 << 20))
    assert _error(post(bomb, "gzip"), 413)["code"] == 8
    # Routing answers first, as over HTTP.
    assert _error(post(b"x", "br", path="/no/such/path"), 404)["code"] == 5
    # identity, or no coding at all, is the body as it is.
    assert _echo(post(b'{"x": 1}', "identity"))["request"]["payload"] == {"x": 1}
    assert _echo(post(b'{"x": 1}', " "))["request"]["payload"] == {"x": 1}


def test_binary_media_types_force_base64(make_handler: Any) -> None:
    resp = make_handler(binary_media_types=("application/*",))(v2("GET", "/"), Context())
    assert resp["isBase64Encoded"] is True
    decoded = json.loads(base64.b64decode(resp["body"]))
    assert decoded["metadata"]["x-lambda-event-source"] == "apigw-http-v2"


def _described(status: int) -> str:
    return f"{status} {http.HTTPStatus(status).phrase}"


def _multi(headers: dict[str, str]) -> dict[str, list[str]]:
    return {k: [v] for k, v in headers.items()}


#: The whole error response each source must give, from (status, body, extra headers).
ERROR_SHAPES: dict[str, Callable[[int, str, dict[str, str]], dict[str, Any]]] = {
    "apigw-rest-v1-get-query-multivalue": lambda status, body, extra: {
        "statusCode": status,
        "multiValueHeaders": _multi({"Content-Type": "application/json", **extra}),
        "body": body,
        "isBase64Encoded": False,
    },
    "apigw-http-v2-minimal-get": lambda status, body, extra: {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **extra},
        "cookies": [],
        "body": body,
        "isBase64Encoded": False,
    },
    "alb-get-single-value-headers": lambda status, body, extra: {
        "statusCode": status,
        "statusDescription": _described(status),
        "headers": {"Content-Type": "application/json", **extra},
        "body": body,
        "isBase64Encoded": False,
    },
    "alb-get-multi-value-headers": lambda status, body, extra: {
        "statusCode": status,
        "statusDescription": _described(status),
        "multiValueHeaders": _multi({"Content-Type": "application/json", **extra}),
        "body": body,
        "isBase64Encoded": False,
    },
    "vpc-lattice-v2": lambda status, body, extra: {
        "statusCode": status,
        "statusDescription": _described(status),
        "headers": {"Content-Type": "application/json", **extra},
        "body": body,
        "isBase64Encoded": False,
    },
}
# Function URLs share the HTTP API v2 format.
ERROR_SHAPES["function-url-get-root"] = ERROR_SHAPES["apigw-http-v2-minimal-get"]


_COOKIES = ["a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/", "b=2; HttpOnly"]


@pytest.mark.parametrize(
    "source",
    [
        "apigw-http-v2-minimal-get",
        "apigw-rest-v1-post-proxy-stagevars",
        "alb-get-multi-value-headers",
        "alb-get-single-value-headers",
        "vpc-lattice-v1-base64",
        "vpc-lattice-v2",
    ],
)
def test_every_set_cookie_arrives_whole(source: str) -> None:
    # Cookie dates hold commas: joined Set-Cookie values cannot be split again.
    from grpcgw.awslambda.events import EventOptions, detect
    from grpcgw.gateway import HttpResponse

    headers = [("Set-Cookie", c) for c in _COOKIES] + [("Vary", "a"), ("Vary", "b")]
    out = detect(load(source), EventOptions()).response(HttpResponse(200, headers, b"{}"))
    if "cookies" in out:
        cookies = out["cookies"]
    elif "multiValueHeaders" in out:
        cookies = out["multiValueHeaders"]["Set-Cookie"]
    else:
        named = [(k, v) for k, v in out["headers"].items() if k.lower() == "set-cookie"]
        assert len({k for k, _ in named}) == len(named)  # distinct names, none overwritten
        cookies = [v for _, v in named]
    assert sorted(cookies) == sorted(_COOKIES)


def _retarget(event: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    for key in ("path", "rawPath", "raw_path"):
        if key in event:
            event[key] = path
    for key in ("httpMethod", "method"):
        if key in event:
            event[key] = method
    http_ctx = event.get("requestContext", {}).get("http")
    if http_ctx:
        http_ctx["method"] = method
    for key in ("queryStringParameters", "multiValueQueryStringParameters"):
        event.pop(key, None)
    if "rawQueryString" in event:
        event["rawQueryString"] = ""
    return event


@pytest.mark.parametrize("source", sorted(ERROR_SHAPES))
@pytest.mark.parametrize(
    ("method", "path", "status", "code", "extra"),
    [
        ("GET", "/no/such/route", 404, 5, {}),
        ("DELETE", "/my/path", 405, 12, {"Allow": "GET, HEAD, POST"}),
        ("GET", "/bad%zzescape", 400, 3, {}),
    ],
)
def test_error_shapes_per_source(
    make_handler: Any,
    source: str,
    method: str,
    path: str,
    status: int,
    code: int,
    extra: dict[str, str],
) -> None:
    resp = make_handler()(_retarget(load(source), method, path), Context())
    body = json.loads(resp["body"])
    assert body["code"] == code
    assert resp == ERROR_SHAPES[source](status, resp["body"], extra)


@socket_only("the server on the socket dies under the handler")
@pytest.mark.parametrize("source", sorted(ERROR_SHAPES))
def test_unreachable_server_is_503_per_source(make_handler: Any, source: str) -> None:
    handler = make_handler()
    assert handler._server is not None
    assert handler._loop is not None
    # The server dies under us (it runs on its own loop's thread).
    asyncio.run_coroutine_threadsafe(handler._server.stop(0), handler._loop).result()
    resp = handler(_retarget(load(source), "GET", "/"), Context())
    assert json.loads(resp["body"])["code"] == 14
    assert resp == ERROR_SHAPES[source](503, resp["body"], {})


def test_unknown_event_is_an_invocation_error(make_handler: Any) -> None:
    handler = make_handler()
    with pytest.raises(EventSourceError, match="not an HTTP event"):
        handler({"foo": 1}, Context())
    with pytest.raises(EventSourceError, match="JSON object"):
        handler(["not", "an", "object"], Context())
    # An HTTP event with a bad field is still an HTTP event: answered 400, not raised
    # (every such case: test_lambda_events.py).
    bad = v2("POST", "/my/path", body=b"x")
    bad["body"], bad["isBase64Encoded"] = "***", True
    resp = handler(bad, Context())
    assert (resp["statusCode"], json.loads(resp["body"])["code"]) == (400, 3)
    assert "not valid base64" in json.loads(resp["body"])["message"]


def test_deadline_is_remaining_time_less_margin(make_handler: Any) -> None:
    handler = make_handler(deadline_margin=0.2)
    resp = handler(v2("GET", "/hang"), Context(remaining_ms=300))
    assert resp["statusCode"] == 504
    assert json.loads(resp["body"])["code"] == 4


def test_servicer_exception_is_500_and_the_handler_lives_on(make_handler: Any) -> None:
    handler = make_handler()
    resp = handler(v2("GET", "/fail"), Context())
    assert resp["statusCode"] == 500
    assert json.loads(resp["body"])["code"] == 2
    assert handler(v2("GET", "/"), Context())["statusCode"] == 200


class _Deny(grpc.aio.ServerInterceptor):
    async def intercept_service(self, continuation: Any, details: Any) -> Any:
        if dict(details.invocation_metadata).get("authorization") == "Bearer ok":
            return await continuation(details)

        async def deny(request: Any, context: Any) -> None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "no")

        return grpc.unary_unary_rpc_method_handler(deny)


def test_interceptors_see_the_callers_authorization(make_handler: Any) -> None:
    handler = make_handler(interceptors=[_Deny()])
    assert handler(v2("GET", "/"), Context())["statusCode"] == 401
    ok = handler(v2("GET", "/", headers={"authorization": "Bearer ok"}), Context())
    assert ok["statusCode"] == 200


class _Record(grpc.aio.ServerInterceptor):
    """Keeps every call's whole metadata, repeats and order included."""

    def __init__(self) -> None:
        self.seen: list[list[tuple[str, Any]]] = []

    async def intercept_service(self, continuation: Any, details: Any) -> Any:
        self.seen.append(list(details.invocation_metadata))
        return await continuation(details)


_CONTEXT_KEYS = (
    "x-apigateway-authorizer",
    "x-apigateway-request-id",
    "x-lambda-event-source",
    "x-lambda-request-id",
)


@pytest.mark.parametrize(
    "name",
    ["apigw-http-v2-get-cookies-query", "function-url-get-root", "alb-get-single-value-headers"],
)
def test_headers_cannot_forge_the_request_context(make_handler: Any, name: str) -> None:
    # An authorizer's claims are what an auth interceptor trusts: a client header
    # must never add to them or stand in for them (function URLs and ALB have none).
    record = _Record()
    handler = make_handler(interceptors=[record])
    honest = load(name)
    assert handler(honest, Context())["statusCode"] == 200
    forged = load(name)
    forged_headers = {
        f"Grpc-Metadata-{k}": '{"jwt":{"claims":{"sub":"admin"}}}' for k in _CONTEXT_KEYS
    }
    if forged.get("multiValueHeaders"):
        forged["multiValueHeaders"].update({k: [v] for k, v in forged_headers.items()})
    else:
        forged["headers"].update(forged_headers)
    assert handler(forged, Context())["statusCode"] == 200
    real, got = ([(k, v) for k, v in md if k in _CONTEXT_KEYS] for md in record.seen)
    assert got == real
    assert "admin" not in json.dumps(got)


def test_a_bad_annotation_fails_init_before_any_server_starts(sock_tmp: str, mode: str) -> None:
    import threading

    from grpcgw.gateway import RouteConfigError

    before = set(threading.enumerate())
    with pytest.raises(RouteConfigError):
        serve_lambda(
            EchoServicer(),
            options=GatewayOptions(health_path="no-slash{"),
            lambda_options=LambdaOptions(socket_dir=sock_tmp, reflection=True),
            dispatch=mode,
        )
    assert not [t for t in set(threading.enumerate()) - before if t.name == "grpcgw-grpc-server"]
    assert not list(Path(sock_tmp).glob("grpcgw-*.sock"))


def test_health_path_is_served_and_health_only_added_for_it(make_handler: Any) -> None:
    plain = make_handler()
    # Nothing could ask: no health service.
    if plain.dispatch == "socket":
        assert plain._server is not None
        assert plain._server.health is None
    else:
        assert plain._direct is not None
        assert plain._direct.invoker.health is None
    handler = make_handler(options=GatewayOptions(health_path="/healthz"))
    resp = handler(v2("GET", "/healthz"), Context())
    assert (resp["statusCode"], json.loads(resp["body"])) == (200, {"status": "SERVING"})


def test_a_header_grpc_cannot_carry_is_400_on_lambda(make_handler: Any) -> None:
    handler = make_handler()
    resp = handler(v2("GET", "/", headers={"grpc-metadata-note": "caf\u00e9"}), Context())
    assert resp["statusCode"] == 400
    assert json.loads(resp["body"])["code"] == 3


def _no_event_loop(handler: LambdaHandler) -> bool:
    """Whether plain servicers are called with no event loop in between: on the threaded
    server (socket), or on the invoking thread (direct)."""
    if handler.dispatch == "socket":
        return handler._server is not None and not handler._server.is_async
    return handler._direct is not None and handler._direct.inline


def test_plain_servicers_run_on_a_threaded_server(make_handler: Any) -> None:
    servicer = PlainEchoServicer()
    handler = make_handler(servicer, deadline_margin=0.2)
    assert _no_event_loop(handler)
    ok = handler(v2("GET", "/my/path", headers={"authorization": "Bearer t"}), Context())
    assert ok["statusCode"] == 200
    assert json.loads(ok["body"])["metadata"]["authorization"] == "Bearer t"
    failed = handler(v2("GET", "/fail"), Context())
    assert (failed["statusCode"], json.loads(failed["body"])["code"]) == (500, 2)
    try:
        late = handler(v2("GET", "/hang"), Context(remaining_ms=300))
        assert (late["statusCode"], json.loads(late["body"])["code"]) == (504, 4)
    finally:
        servicer.release.set()


def test_health_path_on_the_threaded_server(make_handler: Any) -> None:
    handler = make_handler(PlainEchoServicer(), options=GatewayOptions(health_path="/healthz"))
    assert _no_event_loop(handler)
    resp = handler(v2("GET", "/healthz"), Context())
    assert (resp["statusCode"], json.loads(resp["body"])) == (200, {"status": "SERVING"})
    unknown = handler(v2("GET", "/healthz", query="service=nope.Svc"), Context())
    assert (unknown["statusCode"], json.loads(unknown["body"])["code"]) == (404, 5)


def test_plain_servicers_with_aio_interceptors_stay_on_the_aio_server(make_handler: Any) -> None:
    handler = make_handler(PlainEchoServicer(), interceptors=[_Deny()])
    assert not _no_event_loop(handler)
    assert handler(v2("GET", "/"), Context())["statusCode"] == 401
    ok = handler(v2("GET", "/", headers={"authorization": "Bearer ok"}), Context())
    assert ok["statusCode"] == 200


def test_gateway_options_apply(make_handler: Any) -> None:
    handler = make_handler(options=GatewayOptions(strict=True))
    assert handler(v2("GET", "/", query="nope=1"), Context())["statusCode"] == 400


# -- the lifecycle ---------------------------------------------------------------------


@socket_only("the socket's own lifecycle")
def test_socket_is_private_unique_and_reused(make_handler: Any, sock_tmp: str) -> None:
    a, b = make_handler(), make_handler()
    assert a.socket is not None
    assert b.socket is not None
    assert a.socket != b.socket
    assert a.socket.name.startswith(f"grpcgw-{os.getpid()}-")
    assert a.socket.stat().st_mode & 0o777 == 0o600
    server = a._server
    for _ in range(3):
        assert a(v2("GET", "/"), Context())["statusCode"] == 200
    assert a._server is server  # warm invocations reuse the server and channel


@socket_only("the socket's own lifecycle")
def test_stale_sockets_are_removed(make_handler: Any, sock_tmp: str) -> None:
    import socket as socket_mod

    dead = Path(sock_tmp) / "grpcgw-999999999-deadbeef.sock"
    with socket_mod.socket(socket_mod.AF_UNIX) as s:
        s.bind(str(dead))
    other = Path(sock_tmp) / "unrelated.sock"
    other.touch()
    make_handler()
    assert not dead.exists()
    assert other.exists()


def _listener(path: Path) -> Any:
    import socket as socket_mod

    sock = socket_mod.socket(socket_mod.AF_UNIX)
    sock.bind(str(path))
    sock.listen()
    return sock


def _still_serves(listener: Any, path: Path) -> bool:
    """Whether ``listener`` still owns ``path``: a connection to the path reaches it."""
    import socket as socket_mod

    with socket_mod.socket(socket_mod.AF_UNIX) as client:
        client.connect(str(path))
        listener.settimeout(10)
        conn, _ = listener.accept()
        conn.close()
    return True


@socket_only("the socket's own lifecycle")
def test_a_live_socket_is_never_replaced(
    make_handler: Any, sock_tmp: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # grpcio removes whatever is at a unix socket path before binding it: a name
    # that is taken must never be used, whatever is there.
    from grpcgw.awslambda import handler as handler_mod

    tokens = iter(["aaaaaaaa", "cccccccc", "bbbbbbbb"])
    monkeypatch.setattr(handler_mod, "_token", lambda: next(tokens))
    live = Path(sock_tmp) / f"grpcgw-{os.getpid()}-aaaaaaaa.sock"
    a_file = Path(sock_tmp) / f"grpcgw-{os.getpid()}-cccccccc.sock"
    a_file.write_text("not ours to remove")
    with _listener(live) as listener:
        handler = make_handler()
        assert handler.socket == Path(sock_tmp) / f"grpcgw-{os.getpid()}-bbbbbbbb.sock"
        assert _still_serves(listener, live)
    assert a_file.read_text() == "not ours to remove"
    assert handler(v2("GET", "/"), Context())["statusCode"] == 200


def test_a_directory_full_of_taken_names_fails_clearly(
    sock_tmp: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grpcgw.awslambda import handler as handler_mod

    monkeypatch.setattr(handler_mod, "_token", lambda: "aaaaaaaa")
    (Path(sock_tmp) / f"grpcgw-{os.getpid()}-aaaaaaaa.sock").touch()
    before = set(threading.enumerate())
    with pytest.raises(OSError, match="no free socket name"):
        serve_lambda(EchoServicer(), lambda_options=LambdaOptions(socket_dir=sock_tmp))
    assert not [t for t in set(threading.enumerate()) - before if t.name == "grpcgw-grpc-server"]


@socket_only("the socket's own lifecycle")
def test_a_live_socket_of_a_process_that_looks_dead_is_kept(
    make_handler: Any, sock_tmp: str
) -> None:
    # Containers sharing /tmp: another PID namespace's live server looks dead here.
    elsewhere = Path(sock_tmp) / "grpcgw-999999999-feedface.sock"
    with _listener(elsewhere) as listener:
        make_handler()
        assert _still_serves(listener, elsewhere)


def test_socket_path_limit() -> None:
    assert len(os.fsencode(socket_path("/tmp"))) <= 105
    with pytest.raises(ValueError, match="105 bytes"):
        socket_path("/tmp/" + "d" * 100)


def _in_a_fork(handler: LambdaHandler) -> bytes:
    """What ``handler`` answers (or raises) when called in a fork of this process."""
    import select
    import signal
    import warnings

    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # forking a threaded process
        pid = os.fork()
    if pid == 0:  # the child: report, and never return into pytest
        code = 1
        try:
            try:
                got = handler(v2("GET", "/"), Context())
                message = f"answered {got['statusCode']}".encode()
            except RuntimeError as exc:
                message = str(exc).encode()
            handler.stop()  # must not touch the parent's server, channel or socket
            os.write(write_end, message)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 60)
        answer = os.read(read_end, 4096) if ready else b"(no answer: the child hung)"
    finally:
        os.close(read_end)
        if os.waitpid(pid, os.WNOHANG) == (0, 0):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    return answer


@socket_only("gRPC's core does not survive fork(): direct dispatch has none running")
def test_a_forked_child_gets_a_clear_error_not_a_hang(make_handler: Any) -> None:
    # grpcio hangs in a fork of a process whose gRPC threads run: the handler must
    # say so at once instead of calling (awslambdaric forks before importing it).
    handler = make_handler()
    assert handler(v2("GET", "/"), Context())["statusCode"] == 200
    assert b"a fork of it" in _in_a_fork(handler)
    assert handler.socket is not None
    assert handler.socket.exists()  # the child left the parent's socket alone
    assert handler(v2("GET", "/"), Context())["statusCode"] == 200


@pytest.mark.parametrize("servicer", [EchoServicer, PlainEchoServicer], ids=["aio", "plain"])
@pytest.mark.parametrize("mode", ["direct"])
def test_direct_dispatch_serves_in_a_forked_child(make_handler: Any, servicer: Any) -> None:
    # No gRPC core runs: a fork makes its own event loop (and pool) and answers.
    handler = make_handler(servicer())
    assert handler(v2("GET", "/"), Context())["statusCode"] == 200
    assert _in_a_fork(handler) == b"answered 200"
    assert handler(v2("GET", "/"), Context())["statusCode"] == 200
    # With reflection asked for, a gRPC server runs on the socket: a fork is refused.
    served = make_handler(servicer(), reflection=True)
    assert served.socket is not None
    assert b"a fork of it" in _in_a_fork(served)
    assert served(v2("GET", "/"), Context())["statusCode"] == 200


def test_snapstart_hooks_stop_and_restart(
    make_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks: dict[str, Any] = {}
    fake = types.ModuleType("snapshot_restore_py")
    fake.register_before_snapshot = lambda f: hooks.setdefault("before", f)  # type: ignore[attr-defined]
    fake.register_after_restore = lambda f: hooks.setdefault("after", f)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    handler = make_handler()
    if handler.dispatch == "direct":
        # No socket, server or thread to keep out of the snapshot: the dispatch's
        # loop and pool are shut and made again.
        assert handler.socket is None
        before = handler._direct
        hooks["before"]()
        assert handler._direct is None
        hooks["after"]()
        assert handler._direct is not None
        assert handler._direct is not before
        assert handler(v2("GET", "/"), Context())["statusCode"] == 200
        return
    first = handler.socket
    assert first is not None
    hooks["before"]()
    assert not first.exists()  # nothing of the server survives into the snapshot
    hooks["after"]()
    assert handler.socket != first
    assert handler.socket is not None
    assert handler.socket.exists()
    assert handler(v2("GET", "/"), Context())["statusCode"] == 200


def test_ping_example_handler_for_every_source() -> None:
    from examples.ping import lambda_function

    try:
        for name in ("apigw-rest-v1-get-query-multivalue", "apigw-http-v2-minimal-get",
                     "alb-get-single-value-headers", "function-url-get-root"):  # fmt: skip
            resp = lambda_function.handler(_retarget(load(name), "GET", "/v1/ping"), Context())
            assert resp["statusCode"] == 200
            assert json.loads(resp["body"]) == {"message": "Pong"}
    finally:
        lambda_function.handler.stop()


def test_lambda_path_never_imports_aiohttp() -> None:
    import subprocess

    from .conftest import ROOT

    code = (
        "import sys, json\n"
        "from examples.ping import lambda_function\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'aiohttp')))\n"
        "lambda_function.handler.stop()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == []


def test_serve_lambda_needs_servicers() -> None:
    with pytest.raises(TypeError, match="at least one servicer"):
        serve_lambda()
