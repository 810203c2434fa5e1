"""Issue-4 behaviours against a real server and dispatched in process (each test in
both modes): PATCH field masks, strict mode, method override, health,
WWW-Authenticate, hooks, size limits, x-http-code."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from example.v1 import ping_pb2, ping_pb2_grpc

from examples.ping.service import PingServicer, ShelfServicer, SyncPingServicer
from grpcgw import Gateway, GatewayError, GatewayOptions, HttpRequest, HttpResponse

from . import modes
from .gwhttp import req
from .modes import Backend

mode, backend = modes.mode, modes.backend


@pytest.fixture
async def gateway(backend: Backend, shelf_servicer: ShelfServicer) -> Gateway:
    return await backend.gateway(PingServicer(), shelf_servicer)


async def _shelf(gw: Gateway, name: str = "s") -> None:
    body = b'{"theme":"Old","tags":["a","b"],"location":{"floor":1,"room":"r1"}}'
    resp = await gw.handle(req("POST", f"/v1/shelves?shelfId={name}", body))
    assert resp.status == 201, resp.body


# -- PATCH with FieldMask ----------------------------------------------------------------


async def test_patch_fills_an_empty_field_mask_from_the_body(
    gateway: Gateway, shelf_servicer: ShelfServicer
) -> None:
    await _shelf(gateway)
    resp = await gateway.handle(
        req("PATCH", "/v1/shelves/s", b'{"theme":"New","location":{"floor":3},"tags":["z"]}')
    )
    assert resp.status == 200, resp.body
    mask = list(shelf_servicer.last["UpdateShelf"].update_mask.paths)
    assert mask == ["theme", "location.floor", "tags"]  # proto names; repeated taken whole
    shelf = resp.json()
    assert (shelf["theme"], shelf["location"], shelf["tags"]) == (
        "New",
        {"floor": 3, "room": "r1"},  # room kept: only location.floor was in the mask
        ["z"],
    )


async def test_patch_keeps_a_mask_the_client_gave(
    gateway: Gateway, shelf_servicer: ShelfServicer
) -> None:
    await _shelf(gateway)
    resp = await gateway.handle(
        req("PATCH", "/v1/shelves/s?updateMask=tags", b'{"theme":"Ignored","tags":["z"]}')
    )
    assert resp.json()["theme"] == "Old"
    assert list(shelf_servicer.last["UpdateShelf"].update_mask.paths) == ["tags"]


async def test_patch_mask_uses_json_or_proto_names_and_rejects_unknown_keys(
    gateway: Gateway, shelf_servicer: ShelfServicer
) -> None:
    await _shelf(gateway)
    resp = await gateway.handle(req("PATCH", "/v1/shelves/s", b'{"book_count":"5"}'))
    assert resp.status == 200
    assert list(shelf_servicer.last["UpdateShelf"].update_mask.paths) == ["book_count"]
    bad = await gateway.handle(req("PATCH", "/v1/shelves/s", b'{"nope":1}'))
    assert bad.status == 400
    assert "nope" in bad.json()["message"]


async def test_patch_mask_fill_can_be_turned_off(
    backend: Backend, shelf_servicer: ShelfServicer
) -> None:
    opts = GatewayOptions(fill_patch_field_mask=False)
    gw = await backend.gateway(shelf_servicer, options=opts)
    await _shelf(gw)
    await gw.handle(req("PATCH", "/v1/shelves/s", b'{"theme":"New"}'))
    assert list(shelf_servicer.last["UpdateShelf"].update_mask.paths) == []


# -- strict mode -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "lenient_status"),
    [
        ("GET", "/v1/shelves?unknownKey=1", b"", 200),
        ("POST", "/v1/shelves?shelfId=q", b'{"theme":"x","unknownField":1}', 201),
        # The path binds shelf.name; the body says otherwise.
        ("PATCH", "/v1/shelves/s", b'{"name":"shelves/other","theme":"x"}', 200),
    ],
)
async def test_strict_mode(
    backend: Backend, method: str, path: str, body: bytes, lenient_status: int
) -> None:
    shelves = ShelfServicer()
    lenient = await backend.gateway(shelves)
    await _shelf(lenient)
    resp = await lenient.handle(req(method, path, body))
    assert resp.status == lenient_status, resp.body
    if method == "PATCH":
        assert resp.json()["name"] == "shelves/s"  # the path wins
    strict = await backend.gateway(shelves, options=GatewayOptions(strict=True))
    resp = await strict.handle(req(method, path, body))
    assert resp.status == 400, resp.body
    assert resp.json()["code"] == 3


async def test_strict_mode_accepts_a_body_agreeing_with_the_path(backend: Backend) -> None:
    gw = await backend.gateway(ShelfServicer(), options=GatewayOptions(strict=True))
    await _shelf(gw)
    resp = await gw.handle(req("PATCH", "/v1/shelves/s", b'{"name":"shelves/s","theme":"y"}'))
    assert resp.status == 200, resp.body


# -- method override ---------------------------------------------------------------------


async def test_x_http_method_override(backend: Backend) -> None:
    override = [("X-HTTP-Method-Override", "patch")]
    shelves = ShelfServicer()
    off = await backend.gateway(shelves)
    await _shelf(off)
    assert (await off.handle(req("POST", "/v1/shelves/s", b"{}", override))).status == 405
    on = await backend.gateway(shelves, options=GatewayOptions(method_override=True))
    resp = await on.handle(req("POST", "/v1/shelves/s", b'{"theme":"Via override"}', override))
    assert resp.status == 200, resp.body
    assert resp.json()["theme"] == "Via override"
    # Only POST may be overridden.
    assert (await on.handle(req("GET", "/v1/shelves/s", headers=override))).status == 200


# -- health ---------------------------------------------------------------------------------


@pytest.mark.parametrize("servicer", [PingServicer(), SyncPingServicer()], ids=["aio", "plain"])
async def test_health_endpoint(backend: Backend, servicer: object) -> None:
    gw = await backend.gateway(servicer, options=GatewayOptions(health_path="/healthz"))
    ok = await gw.handle(req("GET", "/healthz"))
    assert (ok.status, ok.json()) == (200, {"status": "SERVING"})
    one = await gw.handle(req("GET", "/healthz?service=example.v1.PingService"))
    assert one.json() == {"status": "SERVING"}
    unknown = await gw.handle(req("GET", "/healthz?service=no.Such"))
    assert unknown.status == 404
    await backend.set_serving("", False)
    down = await gw.handle(req("GET", "/healthz"))
    assert (down.status, down.json()) == (503, {"status": "NOT_SERVING"})


async def test_no_health_route_unless_asked(gateway: Gateway) -> None:
    assert (await gateway.handle(req("GET", "/healthz"))).status == 404


# -- errors: WWW-Authenticate, hooks --------------------------------------------------------


class _Denied(ping_pb2_grpc.PingServiceServicer):
    async def Ping(self, request: Any, context: Any) -> Any:
        md = dict(context.invocation_metadata())
        if md.get("challenge"):
            await context.send_initial_metadata((("www-authenticate", md["challenge"]),))
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "token expired")


async def test_unauthenticated_adds_www_authenticate(backend: Backend) -> None:
    gw = await backend.gateway(_Denied())
    resp = await gw.handle(req("GET", "/v1/ping"))
    assert resp.status == 401
    assert resp.header("WWW-Authenticate") == "token expired"  # grpc-gateway's default
    challenge = 'Bearer realm="api", error="invalid_token"'
    resp = await gw.handle(req("GET", "/v1/ping", headers=[("Grpc-Metadata-Challenge", challenge)]))
    assert resp.header("WWW-Authenticate") == challenge  # the server's own, when it sends one
    assert resp.header("Grpc-Metadata-www-authenticate") == challenge


async def test_response_and_error_hooks(backend: Backend) -> None:
    seen: list[Any] = []

    def on_response(request: HttpRequest, response: HttpResponse, reply: Any) -> None:
        seen.append(reply)
        response.headers.append(("X-Served-By", "grpcgw"))

    def on_error(request: HttpRequest, error: GatewayError) -> HttpResponse:
        return HttpResponse(
            error.http_status,
            [("Content-Type", "text/plain")],
            f"{error.code.name}: {error.message} ({request.path})".encode(),
        )

    gw = await backend.gateway(
        PingServicer(), ShelfServicer(), response_hook=on_response, error_hook=on_error
    )
    ok = await gw.handle(req("GET", "/v1/ping"))
    assert ok.header("X-Served-By") == "grpcgw"
    assert seen == [ping_pb2.PingResponse(message="Pong")]
    missing = await gw.handle(req("GET", "/nope"))
    assert (missing.status, missing.body) == (404, b"NOT_FOUND: no route for GET /nope (/nope)")
    upstream = await gw.handle(req("GET", "/v1/shelves/x"))
    assert upstream.body == b"NOT_FOUND: shelves/x not found (/v1/shelves/x)"


# -- sizes and x-http-code ---------------------------------------------------------------


class _Big(ping_pb2_grpc.PingServiceServicer):
    async def Ping(self, request: Any, context: Any) -> ping_pb2.PingResponse:
        md = dict(context.invocation_metadata())
        if "code" in md:
            await context.send_initial_metadata((("x-http-code", md["code"]),))
        return ping_pb2.PingResponse(message="x" * int(md.get("size", "4")))


async def test_max_response_message(backend: Backend) -> None:
    gw = await backend.gateway(_Big(), options=GatewayOptions(max_response_message=1000))
    small = await gw.handle(req("GET", "/v1/ping", headers=[("Grpc-Metadata-Size", "100")]))
    assert small.status == 200
    big = await gw.handle(req("GET", "/v1/ping", headers=[("Grpc-Metadata-Size", "5000")]))
    assert big.json()["code"] == 8


@pytest.mark.parametrize(("code", "body"), [("201", True), ("202", True), ("204", False)])
async def test_x_http_code(backend: Backend, code: str, body: bool) -> None:
    gw = await backend.gateway(_Big())
    resp = await gw.handle(req("GET", "/v1/ping", headers=[("Grpc-Metadata-Code", code)]))
    assert resp.status == int(code)
    assert (resp.body == b'{"message":"xxxx"}') is body
    assert (resp.body == b"") is not body
