"""Built-in CORS: the options, the policy (pure), and the gateway core answering with it.

The same answers through a real aiohttp server and through Lambda events are in
test_cors_frontends.py; a real browser in test_cors_browser.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import CorsOptions, Gateway, GatewayOptions, HttpRequest, HttpResponse
from grpcgw.cors import CorsPolicy

from . import modes
from .modes import Backend

mode, backend = modes.mode, modes.backend

APP = "https://app.example.com"


# -- options -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("https://app.example.com/", "no path, not even a trailing /"),
        ("https://app.example.com/x", "no path"),
        ("app.example.com", "is not an origin"),
        ("https://", "is not an origin"),
        ("https://*", "is not an origin"),
        ("https://*.", "is not an origin"),
        ("https://*..example.com", "not a valid origin pattern"),
        ("https://a.*.example.com", "is not an origin"),
        ("https://app.example.com:99999", "no valid port"),
    ],
)
def test_an_origin_that_cannot_match_is_refused_when_made(origin: str, message: str) -> None:
    with pytest.raises(ValueError, match="allow_origins") as info:
        CorsOptions(allow_origins=[origin])
    assert message in str(info.value)


def test_origins_are_normalised_to_what_browsers_send() -> None:
    options = CorsOptions(
        allow_origins=["HTTPS://App.Example.COM:443", "http://localhost:80", "http://h:8080"]
    )
    assert options.allow_origins == ("https://app.example.com", "http://localhost", "http://h:8080")
    # One origin given as a bare string is one origin, not its characters.
    assert CorsOptions(allow_origins=APP).allow_origins == (APP,)
    assert CorsOptions(allow_origins=["*"], allow_methods=["get"]).allow_methods == ("GET",)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"allow_origins": []}, "allow_origins is empty"),
        ({"allow_origins": ["*"], "allow_methods": ["GET POST"]}, "not a method name"),
        ({"allow_origins": ["*"], "allow_headers": ["x y"]}, "not a header name"),
        ({"allow_origins": ["*"], "expose_headers": ["a:b"]}, "not a header name"),
        ({"allow_origins": ["*"], "max_age": -1}, "max_age"),
        ({"allow_origins": ["*"], "max_age": True}, "max_age"),
        ({"allow_origins": ["*"], "max_age": 1.5}, "max_age"),
        ({"allow_origins": ["*"], "allow_credentials": "yes"}, "allow_credentials"),
        ({"allow_origins": [1]}, "must hold strings"),
    ],
)
def test_bad_options_raise_naming_the_option(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CorsOptions(**kwargs)


def test_gateway_options_take_only_cors_options() -> None:
    with pytest.raises(ValueError, match=r"GatewayOptions\.cors"):
        GatewayOptions(cors={"allow_origins": ["*"]})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"GatewayOptions\.access_log"):
        GatewayOptions(access_log=1)  # type: ignore[arg-type]


# -- the policy ------------------------------------------------------------------------


def policy(**kwargs: Any) -> CorsPolicy:
    kwargs.setdefault("allow_origins", [APP])
    return CorsPolicy(CorsOptions(**kwargs))


def headers(policy: CorsPolicy, origin: str | None, response: Any = ()) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in policy.response_headers(origin, response):
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def test_an_exact_origin_is_echoed_and_responses_vary_on_origin() -> None:
    p = policy()
    assert headers(p, APP) == {"Vary": "Origin", "Access-Control-Allow-Origin": APP}
    assert headers(p, "https://evil.example.com") == {"Vary": "Origin"}
    assert headers(p, None) == {"Vary": "Origin"}  # a cache must not serve it to a page


def test_any_origin_without_credentials_is_a_plain_star() -> None:
    p = policy(allow_origins=["*"])
    assert headers(p, "https://anyone.example") == {"Access-Control-Allow-Origin": "*"}
    assert headers(p, "null") == {"Access-Control-Allow-Origin": "*"}
    assert headers(p, None) == {}  # the same for everyone: nothing to vary on


def test_any_origin_with_credentials_echoes_the_origin_but_not_null() -> None:
    p = policy(allow_origins=["*"], allow_credentials=True)
    assert headers(p, "https://anyone.example") == {
        "Vary": "Origin",
        "Access-Control-Allow-Origin": "https://anyone.example",
        "Access-Control-Allow-Credentials": "true",
    }
    # A sandboxed page or a file: URL is "null": with credentials only if listed.
    assert "Access-Control-Allow-Origin" not in headers(p, "null")
    listed = policy(allow_origins=["*", "null"], allow_credentials=True)
    assert headers(listed, "null")["Access-Control-Allow-Origin"] == "null"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://a.example.com", True),
        ("https://a.b.example.com", True),
        ("https://A.Example.com", True),
        ("https://example.com", False),
        ("https://evil-example.com", False),
        ("https://a.example.com.evil.net", False),
        ("http://a.example.com", False),
        ("https://a.example.com:8443", False),
        ("https://user@a.example.com", False),
    ],
)
def test_a_subdomain_pattern(origin: str, allowed: bool) -> None:
    p = policy(allow_origins=["https://*.example.com"])
    assert (p.allowed_origin(origin) == origin) is allowed
    if not allowed:
        assert p.allowed_origin(origin) is None


def test_exposed_headers() -> None:
    response = [
        ("Content-Type", "application/json"),
        ("Grpc-Metadata-X-Total", "2"),
        ("Set-Cookie", "a=1"),
        ("Grpc-Metadata-X-Total", "3"),
    ]
    listed = policy(expose_headers=["Grpc-Metadata-X-Total", "X-Other"])
    assert headers(listed, APP)["Access-Control-Expose-Headers"] == (
        "Grpc-Metadata-X-Total, X-Other"
    )
    star = policy(expose_headers=["*"])
    assert headers(star, APP)["Access-Control-Expose-Headers"] == "*"
    # With credentials "*" means nothing to a browser: the response's own names are
    # sent, less the ones always readable and Set-Cookie, which never is.
    credentialed = policy(expose_headers=["*"], allow_credentials=True)
    assert headers(credentialed, APP, response)["Access-Control-Expose-Headers"] == (
        "Grpc-Metadata-X-Total"
    )
    assert "Access-Control-Expose-Headers" not in headers(credentialed, APP, response[:1])


def test_preflight_allowed() -> None:
    p = policy(max_age=60, allow_credentials=True)
    answer = p.preflight(APP, "POST", "content-type, Authorization", ["GET", "HEAD", "POST"])
    assert answer.refused is None
    assert dict(answer.headers) | {"Vary": None} == {
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "GET, HEAD, POST",
        "Access-Control-Allow-Headers": "content-type, authorization",
        "Access-Control-Max-Age": "60",
        "Vary": None,
    }
    assert [v for k, v in answer.headers if k == "Vary"] == [
        "Origin",
        "Access-Control-Request-Method",
        "Access-Control-Request-Headers",
    ]


@pytest.mark.parametrize(
    ("kwargs", "origin", "method", "request_headers", "reason"),
    [
        ({}, "https://evil.example", "GET", None, "origin 'https://evil.example' is not allowed"),
        ({}, APP, "PUT", None, "method 'PUT' is not allowed for this path (allowed: GET, POST)"),
        ({"allow_methods": ["GET"]}, APP, "POST", None, "(allowed: GET)"),
        ({"allow_headers": ["x-a"]}, APP, "GET", "x-a, x-b", "request header 'x-b' is not allowed"),
        ({}, APP, "GET", "x a", "request header 'x a' is not allowed"),
    ],
)
def test_preflight_refused(
    kwargs: dict[str, Any], origin: str, method: str, request_headers: str | None, reason: str
) -> None:
    answer = policy(**kwargs).preflight(origin, method, request_headers, ["GET", "POST"])
    assert answer.refused is not None
    assert reason in answer.refused
    assert {k for k, _ in answer.headers} == {"Vary"}


def test_safelisted_request_headers_are_always_allowed() -> None:
    p = policy(allow_headers=[])
    answer = p.preflight(APP, "GET", "Content-Type,accept", ["GET"])
    assert answer.refused is None
    assert dict(answer.headers)["Access-Control-Allow-Headers"] == "content-type, accept"
    assert "Access-Control-Max-Age" in dict(answer.headers)
    assert "Access-Control-Max-Age" not in dict(
        policy(max_age=None).preflight(APP, "GET", None, ["GET"]).headers
    )


# -- the gateway core ---------------------------------------------------------------------


def gateway(target: str, **cors: Any) -> Gateway:
    cors.setdefault("allow_origins", [APP])
    options = GatewayOptions(cors=CorsOptions(**cors))
    return Gateway([PingServicer(), ShelfServicer()], target=target, options=options)


def preflight(
    path: str, method: str, origin: str = APP, request_headers: str | None = None
) -> HttpRequest:
    headers = [("Origin", origin), ("Access-Control-Request-Method", method)]
    if request_headers is not None:
        headers.append(("Access-Control-Request-Headers", request_headers))
    return HttpRequest("OPTIONS", path, headers=headers)


async def test_the_gateway_answers_preflights_with_the_methods_of_the_path(
    example_target: str,
) -> None:
    async with gateway(example_target) as gw:
        ping = await gw.handle(preflight("/v1/ping", "GET"))
        assert ping.status == 204
        assert ping.body == b""
        assert ping.header("Access-Control-Allow-Origin") == APP
        assert ping.header("Access-Control-Allow-Methods") == "GET, HEAD"
        shelves = await gw.handle(preflight("/v1/shelves", "POST", request_headers="content-type"))
        assert shelves.status == 204
        assert shelves.header("Access-Control-Allow-Methods") == "GET, HEAD, POST"
        assert shelves.header("Access-Control-Allow-Headers") == "content-type"
        # A path variable: the methods of the routes this path matches.
        shelf = await gw.handle(preflight("/v1/shelves/7", "PATCH"))
        assert shelf.header("Access-Control-Allow-Methods") == "DELETE, GET, HEAD, PATCH"


async def test_a_refused_preflight_is_403_without_cors_headers(example_target: str) -> None:
    async with gateway(example_target) as gw:
        for request in (
            preflight("/v1/ping", "DELETE"),
            preflight("/v1/ping", "GET", origin="https://evil.example"),
        ):
            response = await gw.handle(request)
            assert response.status == 403
            assert response.json()["code"] == 7
            assert response.json()["message"].startswith("CORS preflight refused: ")
            assert response.header("Access-Control-Allow-Origin") is None
            assert response.header("Vary") == "Origin"


async def test_what_is_not_a_preflight_is_routed_as_usual(example_target: str) -> None:
    async with gateway(example_target) as gw:
        # No route on the path: 404, like any request there (with CORS headers).
        nowhere = await gw.handle(preflight("/v1/nowhere", "GET"))
        assert nowhere.status == 404
        assert nowhere.header("Access-Control-Allow-Origin") == APP
        # OPTIONS without Access-Control-Request-Method is no preflight: 405.
        plain = await gw.handle(HttpRequest("OPTIONS", "/v1/ping", headers=[("Origin", APP)]))
        assert plain.status == 405
        assert plain.header("Allow") == "GET, HEAD"
    # Without CORS a preflight is just an OPTIONS request.
    async with Gateway([PingServicer()], target=example_target) as gw:
        response = await gw.handle(preflight("/v1/ping", "GET"))
        assert response.status == 405
        assert response.header("Access-Control-Allow-Origin") is None


async def _cors_gateway(backend: Backend, **cors: Any) -> Gateway:
    cors.setdefault("allow_origins", [APP])
    options = GatewayOptions(cors=CorsOptions(**cors))
    return await backend.gateway(PingServicer(), ShelfServicer(), options=options)


async def test_every_actual_response_carries_the_cors_headers(backend: Backend) -> None:
    gw = await _cors_gateway(backend, expose_headers=["Grpc-Metadata-X-Total"])
    origin = [("Origin", APP)]
    for method, path, status in [
        ("GET", "/v1/ping", 200),
        ("HEAD", "/v1/ping", 200),
        ("GET", "/v1/shelves/nope", 404),  # the server's error
        ("GET", "/v1/shelves?pageSize=x", 400),  # a transcoding error
        ("DELETE", "/v1/ping", 405),  # a routing error
        ("GET", "/v2/none", 404),
    ]:
        response = await gw.handle(HttpRequest(method, path, headers=origin))
        assert response.status == status, (method, path)
        assert response.header("Access-Control-Allow-Origin") == APP, (method, path)
        assert response.header("Access-Control-Expose-Headers") == "Grpc-Metadata-X-Total"
        assert response.header("Vary") == "Origin"
        other = await gw.handle(HttpRequest(method, path, headers=[("Origin", "https://x.y")]))
        assert other.status == status
        assert other.header("Access-Control-Allow-Origin") is None
        assert other.header("Vary") == "Origin"


async def test_streams_carry_the_cors_headers(backend: Backend) -> None:
    gw = await _cors_gateway(backend)
    await gw.handle(HttpRequest("POST", "/v1/shelves", query="shelf_id=s", body=b"{}"))
    request = HttpRequest("GET", "/v1/shelves:watch", headers=[("Origin", APP)])
    streamed = await gw.handle(request)
    assert streamed.stream is not None
    assert streamed.header("Access-Control-Allow-Origin") == APP
    assert b"shelves/s" in await streamed.read()
    buffered = await gw.handle_buffered(request)
    assert buffered.header("Access-Control-Allow-Origin") == APP


async def test_a_response_hook_result_gets_the_cors_headers(example_target: str) -> None:
    def hook(request: HttpRequest, response: HttpResponse, reply: Any) -> HttpResponse:
        return HttpResponse(200, [("Content-Type", "text/plain")], b"hooked")

    options = GatewayOptions(cors=CorsOptions(allow_origins=[APP]))
    async with Gateway(
        [PingServicer()], target=example_target, options=options, response_hook=hook
    ) as gw:
        response = await gw.handle(HttpRequest("GET", "/v1/ping", headers=[("Origin", APP)]))
        assert response.body == b"hooked"
        assert response.header("Access-Control-Allow-Origin") == APP


async def test_method_override_makes_post_a_method_of_every_path(example_target: str) -> None:
    options = GatewayOptions(method_override=True, cors=CorsOptions(allow_origins=[APP]))
    async with Gateway([PingServicer()], target=example_target, options=options) as gw:
        response = await gw.handle(
            preflight("/v1/ping", "POST", request_headers="x-http-method-override")
        )
        assert response.status == 204
        assert response.header("Access-Control-Allow-Methods") == "GET, HEAD, POST"
