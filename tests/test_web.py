"""The aiohttp adapter, through real HTTP requests (pytest-aiohttp); the gateway calls
the servicers in both dispatch modes (the ``client`` fixture)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from google.api import httpbody_pb2
from grpcgwtest.stream.v1 import stream_pb2_grpc

from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import Gateway, GatewayOptions
from grpcgw.web import create_app, setup

from . import modes
from .modes import Backend

mode, backend = modes.mode, modes.backend

AiohttpClient = Any


@pytest.fixture
async def client(backend: Backend, aiohttp_client: AiohttpClient) -> TestClient[Any, Any]:
    gateway = await backend.gateway(PingServicer(), ShelfServicer())
    return await aiohttp_client(create_app(gateway))


async def test_ping_over_http(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/v1/ping")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert await resp.read() == b'{"message":"Pong"}'


async def test_router_lists_the_httprule_routes(example_target: str) -> None:
    gateway = Gateway([PingServicer(), ShelfServicer()], target=example_target)
    app = create_app(gateway)
    listed = {(r.method, r.get_info()["path"]) for r in app.router.routes()}
    assert ("GET", "/v1/ping") in listed
    assert ("POST", "/v1/{name=shelves/*/books/*}:move") in listed
    assert ("HEAD", "/v1/library") in listed
    assert len(listed) == len(gateway.routes)


async def test_escaped_slash_stays_in_one_segment(client: TestClient[Any, Any]) -> None:
    created = await client.post("/v1/shelves?shelf_id=a%2Fb", data=b"{}")
    assert created.status == 201, await created.text()
    # %2F inside a single-segment variable does not split the path...
    resp = await client.get("/v1/shelf/shelves%2Fa%2Fb")
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["name"] == "shelves/a/b"


async def test_raw_query_reaches_the_transcoder(client: TestClient[Any, Any]) -> None:
    # '+' means space, %26 is a literal '&' inside a value.
    await client.post("/v1/shelves?shelf_id=q", data=b'{"tags":["a b&c"]}')
    resp = await client.get("/v1/shelves?tags=a+b%26c")
    assert [s["name"] for s in (await resp.json())["shelves"]] == ["shelves/q"]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nope", 404, 5),
        ("DELETE", "/v1/ping", 405, 12),
        ("GET", "/v1/shelves/%E0%A4%A", 400, 3),
        ("GET", "/v1/shelves?pageSize=x", 400, 3),
    ],
)
async def test_errors_are_json(
    client: TestClient[Any, Any], method: str, path: str, status: int, code: int
) -> None:
    resp = await client.request(method, path)
    assert resp.status == status
    assert resp.headers["Content-Type"].startswith("application/json")
    body = await resp.json()
    if status == 404:
        assert body["message"] == f"no route for {method} {path}"
    assert body["code"] == code
    assert body["message"]
    if status == 405:
        assert resp.headers["Allow"] == "GET, HEAD"


async def test_oversized_body_is_413_json(
    example_target: str, aiohttp_client: AiohttpClient
) -> None:
    gateway = Gateway(
        [ShelfServicer()], target=example_target, options=GatewayOptions(max_request_body=64)
    )
    client = await aiohttp_client(create_app(gateway))
    resp = await client.post("/v1/shelves", data=b"{" + b" " * 1000 + b"}")
    assert resp.status == 413
    assert (await resp.json())["code"] == 8


async def test_embedding_in_an_existing_app(
    example_target: str, aiohttp_client: AiohttpClient
) -> None:
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def own_ping(request: web.Request) -> web.Response:
        return web.Response(text="mine")

    app = web.Application()
    app.router.add_get("/healthz", health)
    app.router.add_get("/v1/ping", own_ping)  # the application's own route wins
    setup(app, Gateway([PingServicer(), ShelfServicer()], target=example_target))
    client = await aiohttp_client(app)
    assert await (await client.get("/healthz")).json() == {"ok": True}
    assert await (await client.get("/v1/ping")).text() == "mine"
    resp = await client.get("/v1/shelves")
    assert resp.status == 200
    assert await resp.json() == {"shelves": [], "nextPageToken": ""}
    # Paths nobody serves fall through to aiohttp's own 404.
    assert (await client.get("/elsewhere")).status == 404


async def test_method_override_over_http(
    example_target: str, aiohttp_client: AiohttpClient
) -> None:
    opts = GatewayOptions(method_override=True)
    client = await aiohttp_client(
        create_app(Gateway([ShelfServicer()], target=example_target, options=opts))
    )
    created = await client.post("/v1/shelves?shelfId=o", data=b'{"theme":"a"}')
    assert created.status == 201
    resp = await client.post(
        "/v1/shelves/o", data=b'{"theme":"b"}', headers={"X-HTTP-Method-Override": "PATCH"}
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["theme"] == "b"


class _RepeatingPing(PingServicer):
    async def Ping(self, request: Any, context: Any) -> Any:
        await context.send_initial_metadata((("x-tag", "a"), ("x-tag", "b")))
        return await super().Ping(request, context)


async def test_repeated_response_headers_all_reach_the_client(
    backend: Backend, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(create_app(await backend.gateway(_RepeatingPing())))
    resp = await client.get("/v1/ping")
    assert resp.status == 200
    assert resp.headers.getall("Grpc-Metadata-X-Tag") == ["a", "b"]
    assert resp.headers.getall("Content-Type") == ["application/json"]


class _EchoingContentType(stream_pb2_grpc.StreamServiceServicer):
    """HttpBody replies whose content type is what the client chose (``?tag=``), or
    that a backend wrote with control characters in it."""

    async def Store(self, request: Any, context: Any) -> httpbody_pb2.HttpBody:
        return httpbody_pb2.HttpBody(content_type=request.tag, data=b"stored")

    async def Download(self, request: Any, context: Any) -> Any:
        yield httpbody_pb2.HttpBody(content_type="text/plain\r\nSet-Cookie: evil=1", data=b"one")
        yield httpbody_pb2.HttpBody(data=b"two")


async def test_a_content_type_no_header_can_carry_is_dropped(
    backend: Backend, aiohttp_client: AiohttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    # aiohttp refuses to write such a header (no injection), but then answered
    # nothing at all, cut the connection and logged a traceback per request. As on
    # Lambda: the header is dropped and logged, the rest of the reply goes out.
    client = await aiohttp_client(create_app(await backend.gateway(_EchoingContentType())))
    for tag in ("text/html%0D%0ASet-Cookie:%20evil=1", "text/plain%00"):
        resp = await client.put(f"/files/a?tag={tag}", data=b"x")
        assert resp.status == 200
        assert await resp.read() == b"stored"
        assert "Set-Cookie" not in resp.headers
        assert resp.headers["Content-Type"] == "application/octet-stream"  # aiohttp's default
    resp = await client.get("/download/1")
    assert (resp.status, await resp.read()) == (200, b"onetwo")
    assert "Set-Cookie" not in resp.headers
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert dropped == ["dropped response header Content-Type: its value is not valid in HTTP"] * 3


async def test_chunked_request_body_is_read(client: TestClient[Any, Any]) -> None:
    # No Content-Length: the body is there all the same, and must not be taken as empty.
    async def chunks() -> Any:
        yield b'{"tags":'
        yield b'["chunked"]}'

    created = await client.post("/v1/shelves?shelf_id=ch", data=chunks())
    assert created.status == 201, await created.text()
    assert (await created.json())["tags"] == ["chunked"]


async def _answers(port: int, requests: list[tuple[str, str, dict[str, str]]]) -> list[Any]:
    import aiohttp

    seen = []
    async with aiohttp.ClientSession() as session:
        for method, path, headers in requests:
            url = f"http://127.0.0.1:{port}{path}"
            async with session.request(method, url, headers=headers, data=b"{}") as resp:
                kept = {
                    k: resp.headers.get(k)
                    for k in ("Content-Type", "Allow", "Connection", "X-Seen")
                }
                seen.append((method, path, resp.status, kept, await resp.read()))
    return seen


async def test_start_server_answers_as_aiohttp_application_would(servers: Any) -> None:
    """start_server serves a create_app application through a leaner handler than
    aiohttp's Application._handle; every kind of request answers exactly as through
    aiohttp's (kept for an application with a route of a kind the lean one leaves
    to aiohttp), middlewares included."""
    from grpcgw.web import start_server

    seen: list[str] = []

    @web.middleware
    async def passthrough(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append(request.path)
        response: web.StreamResponse = await handler(request)
        response.headers["X-Seen"] = "1"
        return response

    async def other(request: web.Request) -> web.Response:
        return web.Response(text="other")

    requests = [
        ("GET", "/v1/ping", {}),
        ("HEAD", "/v1/ping", {}),
        ("GET", "/v1/ping?x=1", {}),
        ("DELETE", "/v1/ping", {}),
        ("GET", "/nope", {}),
        ("GET", "/v1/./ping", {}),
        ("GET", "/v1/shelves/%E0%A4%A", {}),
        ("GET", "/v1/shelf/shelves%2Fa", {}),
        ("GET", "/v1/shelf/shelves%2Fa?x", {"Expect": ""}),
        ("POST", "/v1/shelves?shelf_id=a", {"Expect": "100-continue"}),
        ("POST", "/v1/shelves?shelf_id=b", {"Expect": "something-else"}),
        ("GET", "/openapi.json", {}),
        ("GET", "/v1/shelves", {}),
    ]
    answers = []
    for lean, middlewares in ((True, []), (True, [passthrough]), (False, [passthrough])):
        target = await servers.start(PingServicer(), ShelfServicer())  # the same state
        gateway = Gateway(
            [PingServicer(), ShelfServicer()], target=target, options=GatewayOptions(api_docs=True)
        )
        app = create_app(gateway, middlewares=middlewares)
        if not lean:
            app.router.add_get("/other/{name}", other)  # not an exact path: aiohttp routes
        server = await start_server(app, "127.0.0.1:0")
        try:
            assert server.runner.server is not None
            # The lean handler, or aiohttp's own behind the edge's Expect check.
            assert (server.runner.server.request_handler.__name__ == "fast") == lean
            answers.append(await _answers(server.port, requests))
        finally:
            await server.stop()
    plain, lean_with_middleware, general = answers
    assert [a[2] for a in plain] == [
        200,
        200,
        200,
        405,
        404,
        200,
        400,
        404,
        404,
        201,
        417,
        200,
        200,
    ]
    assert lean_with_middleware == general
    assert len(seen) == 2 * len(requests) - 2  # the 417s are answered before middlewares
    assert [a[:3] + a[4:] for a in plain] == [a[:3] + a[4:] for a in general]
