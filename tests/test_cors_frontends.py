"""One configuration, every front end: ``start_local`` (a real aiohttp server, a real
HTTP client) and ``serve_lambda`` (events) give the same answers to CORS
requests, set the same cookies, and take the same keywords: in both dispatch
modes (the ``mode`` fixture)."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from examples.ping.interceptor import LoggingInterceptor
from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import (
    CorsOptions,
    GatewayConfig,
    GatewayError,
    GatewayOptions,
    HttpRequest,
    HttpResponse,
    LambdaOptions,
    serve_lambda,
    start_local,
)
from grpcgw.awslambda import LambdaHandler
from grpcgw.server import LocalServer

from . import modes
from .servicers import COOKIES, CookiePingServicer
from .test_lambda import Context, v2

mode = modes.mode

APP = "https://app.example.com"


def on_error(request: HttpRequest, error: GatewayError) -> HttpResponse:
    body = json.dumps({"error": error.code.name, "message": error.message}).encode()
    return HttpResponse(error.http_status, [("Content-Type", "application/problem+json")], body)


def on_response(request: HttpRequest, response: HttpResponse, reply: Any) -> None:
    response.headers.append(("X-Hooked", "yes"))


#: One configuration for both front ends.
CONFIG: GatewayConfig = {
    "options": GatewayOptions(
        cors=CorsOptions(
            allow_origins=[APP, "https://*.example.org"],
            allow_headers=["content-type", "authorization"],
            expose_headers=["Grpc-Metadata-X-Total", "X-Hooked"],
            allow_credentials=True,
            max_age=300,
        )
    ),
    "error_hook": on_error,
    "response_hook": on_response,
    "outgoing_header_matcher": lambda key: "X-Total" if key == "x-total" else None,
}


@pytest.fixture
async def local(mode: str) -> AsyncIterator[LocalServer]:
    server = await start_local(
        PingServicer(),
        ShelfServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        dispatch=mode,
        **CONFIG,
    )
    async with server:
        yield server


@pytest.fixture
def on_lambda(sock_dir: Path, mode: str) -> Iterator[LambdaHandler]:
    handler = serve_lambda(
        PingServicer(),
        ShelfServicer(),
        lambda_options=LambdaOptions(socket_dir=str(sock_dir)),
        dispatch=mode,
        **CONFIG,
    )
    yield handler
    handler.stop()


_COMPARED = ("access-control-", "vary", "x-hooked", "x-total", "content-type", "allow")


def _headers(pairs: Any) -> dict[str, list[str]]:
    """The headers that matter here, by lowercase name, comma-joined values split."""
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        lower = name.lower()
        if lower.startswith(_COMPARED):
            out.setdefault(lower, []).extend(v.strip() for v in value.split(","))
    return out


async def local_answer(
    local: LocalServer, method: str, path: str, headers: dict[str, str]
) -> tuple[int, dict[str, list[str]], Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, f"http://127.0.0.1:{local.http_port}{path}", headers=headers
        ) as resp,
    ):
        body = await resp.read()
        return resp.status, _headers(resp.headers.items()), json.loads(body) if body else None


def lambda_answer(
    handler: LambdaHandler, method: str, path: str, headers: dict[str, str]
) -> tuple[int, dict[str, list[str]], Any]:
    path, _, query = path.partition("?")
    out = handler(v2(method, path, query=query, headers=headers), Context())
    body = out.get("body")
    return out["statusCode"], _headers(out["headers"].items()), json.loads(body) if body else None


PREFLIGHT = {"Origin": APP, "Access-Control-Request-Method": "POST"}
GET_PREFLIGHT = {"Origin": APP, "Access-Control-Request-Method": "GET"}

CASES = [
    # preflights: allowed, with headers, a pattern origin; refused origin, method, header
    ("OPTIONS", "/v1/shelves", PREFLIGHT, 204),
    (
        "OPTIONS",
        "/v1/shelves",
        {**PREFLIGHT, "Access-Control-Request-Headers": "content-type,authorization"},
        204,
    ),
    (
        "OPTIONS",
        "/v1/ping",
        {"Origin": "https://a.b.example.org", "Access-Control-Request-Method": "GET"},
        204,
    ),
    (
        "OPTIONS",
        "/v1/ping",
        {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        403,
    ),
    ("OPTIONS", "/v1/ping", {"Origin": APP, "Access-Control-Request-Method": "PUT"}, 403),
    (
        "OPTIONS",
        "/v1/ping",
        {
            **PREFLIGHT,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-secret",
        },
        403,
    ),
    # not preflights: OPTIONS without the request method; a path without routes
    ("OPTIONS", "/v1/ping", {"Origin": APP}, 405),
    ("OPTIONS", "/v1/nowhere", PREFLIGHT, 404),
    # actual requests: success, errors of every kind, a stream, no or another origin
    ("GET", "/v1/ping", {"Origin": APP}, 200),
    ("GET", "/v1/ping", {"Origin": "https://evil.example"}, 200),
    ("GET", "/v1/ping", {}, 200),
    ("GET", "/v1/shelves/none", {"Origin": APP}, 404),
    ("GET", "/v1/shelves?pageSize=x", {"Origin": APP}, 400),
    ("DELETE", "/v1/ping", {"Origin": APP}, 405),
    ("GET", "/v2/nowhere", {"Origin": APP}, 404),
    ("GET", "/v1/shelves:watch", {"Origin": APP}, 200),
]


@pytest.mark.parametrize(("method", "path", "headers", "status"), CASES)
async def test_local_and_lambda_answer_alike(
    local: LocalServer,
    on_lambda: LambdaHandler,
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    here = await local_answer(local, method, path, headers)
    there = lambda_answer(on_lambda, method, path, headers)
    assert here == there
    assert here[0] == status
    cors = here[1]
    origin = headers.get("Origin")
    allowed = status != 403 and origin in (APP, "https://a.b.example.org")
    if allowed:
        assert cors["access-control-allow-origin"] == [origin]
        assert cors["access-control-allow-credentials"] == ["true"]
    else:
        assert "access-control-allow-origin" not in cors
    assert "Origin" in cors["vary"]
    if status >= 400:
        assert here[2]["error"]  # error_hook's body, everywhere


async def test_the_preflight_answer(local: LocalServer) -> None:
    status, headers, body = await local_answer(
        local,
        "OPTIONS",
        "/v1/shelves",
        {**PREFLIGHT, "Access-Control-Request-Headers": "content-type,authorization"},
    )
    assert (status, body) == (204, None)
    assert headers == {
        "access-control-allow-origin": [APP],
        "access-control-allow-credentials": ["true"],
        "access-control-allow-methods": ["GET", "HEAD", "POST"],
        "access-control-allow-headers": ["content-type", "authorization"],
        "access-control-max-age": ["300"],
        "vary": ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"],
    }


async def test_hooks_and_matchers_apply_on_both(sock_dir: Path, mode: str) -> None:
    handler = serve_lambda(
        CookiePingServicer(),
        lambda_options=LambdaOptions(socket_dir=str(sock_dir)),
        dispatch=mode,
        **CONFIG,
    )
    try:
        async with await start_local(
            CookiePingServicer(),
            http_address="127.0.0.1:0",
            grpc_address="127.0.0.1:0",
            dispatch=mode,
            **CONFIG,
        ) as local:
            here = await local_answer(local, "GET", "/v1/ping", {"Origin": APP})
        there = lambda_answer(handler, "GET", "/v1/ping", {"Origin": APP})
    finally:
        handler.stop()
    assert here == there
    assert here[1]["x-hooked"] == ["yes"]
    assert here[1]["x-total"] == ["2"]
    assert here[1]["access-control-expose-headers"] == ["Grpc-Metadata-X-Total", "X-Hooked"]


async def test_cookies_reach_a_real_client_locally(mode: str) -> None:
    async with (
        await start_local(
            CookiePingServicer(),
            http_address="127.0.0.1:0",
            grpc_address="127.0.0.1:0",
            dispatch=mode,
        ) as local,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session,
    ):
        async with session.get(f"http://127.0.0.1:{local.http_port}/v1/ping") as resp:
            assert resp.status == 200
            assert resp.headers.getall("Set-Cookie") == list(COOKIES)
        jar = {c.key: c.value for c in session.cookie_jar}
        assert jar == {"session": "abc123", "theme": "dark"}


@pytest.mark.parametrize("where", ["start_local", "serve_lambda", "serve_local"])
async def test_unknown_keywords_are_refused_everywhere(where: str, sock_dir: Path) -> None:
    import grpcgw

    front_end = getattr(grpcgw, where)
    with pytest.raises(TypeError, match=rf"{where}\(\) got an unexpected keyword argument 'hook'"):
        await _call(front_end, PingServicer(), hook=None)


async def _call(function: Any, *args: Any, **kwargs: Any) -> Any:
    result = function(*args, **kwargs)
    return await result if hasattr(result, "__await__") else result


@pytest.mark.parametrize("where", ["start_local", "serve_lambda", "serve_local"])
async def test_a_dispatch_mode_that_does_not_exist_is_refused(where: str) -> None:
    import grpcgw

    front_end = getattr(grpcgw, where)
    match = rf"{where}\(\): dispatch must be 'socket' or 'direct', not 'inline'"
    with pytest.raises(ValueError, match=match):
        await _call(front_end, PingServicer(), dispatch="inline")


_WRONG_KINDS = {
    "options": (
        {"api_docs": True},
        r"options must be a grpcgw.GatewayOptions, not a dict "
        r"\(build one from it: options=grpcgw.GatewayOptions\(\*\*\.\.\.\)\)",
    ),
    "response_hook": (3, r"response_hook must be a function \(or None\), not an int"),
    "header_matcher": ("x-*", r"header_matcher must be a function \(or None\), not a str"),
    "error_hook": (object(), r"error_hook must be a function \(or None\), not an object"),
    "interceptors": (
        LoggingInterceptor(),
        r"interceptors must be a list of interceptors, not a LoggingInterceptor "
        r"\(write interceptors=\[\.\.\.\]\)",
    ),
    "limits": ({"max_connections": 10}, r"limits must be a grpcgw.HttpLimits, not a dict"),
    "lambda_options": ({"strip_stage": True}, r"lambda_options must be a grpcgw.LambdaOptions"),
}


_EVERY_FRONT_END = ("start_local", "serve_lambda", "serve_local", "Gateway")
#: Which front ends take the arguments not every one takes (the rest: all four).
_TAKEN_BY = {
    "limits": ("start_local", "serve_local"),
    "lambda_options": ("serve_lambda",),
    "interceptors": ("start_local", "serve_local", "serve_lambda"),
}


@pytest.mark.parametrize(
    ("where", "keyword"),
    [
        (where, keyword)
        for keyword in sorted(_WRONG_KINDS)
        for where in _TAKEN_BY.get(
            keyword, ("start_local", "serve_lambda", "serve_local", "Gateway")
        )
    ],
)
async def test_a_value_of_the_wrong_kind_is_refused_before_anything_starts(
    where: str, keyword: str
) -> None:
    """Not an AttributeError from deep inside, nor a 500 on every request: a TypeError
    naming the argument, raised before any server, socket or thread exists."""
    import grpcgw

    value, message = _WRONG_KINDS[keyword]
    extra: dict[str, Any] = {"target": "unix:/nowhere.sock"} if where == "Gateway" else {}
    threads = threading.active_count()
    with pytest.raises(TypeError, match=rf"^{where}\(\): {message}"):
        await _call(getattr(grpcgw, where), PingServicer(), **extra, **{keyword: value})
    assert threading.active_count() == threads


def test_no_interceptors_may_be_said_with_none_as_grpc_server_takes_it() -> None:
    handler = serve_lambda(PingServicer(), interceptors=None)
    try:
        assert lambda_answer(handler, "GET", "/v1/ping", {})[0] == 200
    finally:
        handler.stop()
