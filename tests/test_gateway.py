"""The gateway core against a real gRPC server and dispatched in process (each test
in both modes): transcoding, errors, metadata."""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
import pytest
from example.v1 import ping_pb2, ping_pb2_grpc, shelf_pb2
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import Gateway, GatewayOptions, HttpRequest, HttpResponse

from . import modes
from .gwhttp import req
from .modes import Backend, socket_only

mode, backend = modes.mode, modes.backend


@pytest.fixture
async def gateway(backend: Backend, shelf_servicer: ShelfServicer) -> Gateway:
    return await backend.gateway(PingServicer(), shelf_servicer)


def assert_status(resp: HttpResponse, http: int, code: int) -> dict[str, Any]:
    assert resp.status == http, resp.body
    assert resp.header("Content-Type") == "application/json"
    body = resp.json()
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["details"] == [] or isinstance(body["details"], list)
    return body


async def test_ping(gateway: Gateway) -> None:
    resp = await gateway.handle(req("GET", "/v1/ping"))
    assert resp.status == 200
    assert resp.header("content-type") == "application/json"
    assert resp.body == b'{"message":"Pong"}'


async def test_services_given_by_name_or_descriptor(backend: Backend) -> None:
    descriptor = ping_pb2.DESCRIPTOR.services_by_name["PingService"]
    for services in (["example.v1.PingService"], [descriptor]):
        gw = await backend.gateway(PingServicer(), services=services)
        assert (await gw.handle(req("GET", "/v1/ping"))).json() == {"message": "Pong"}


async def test_shelf_crud_round_trip(gateway: Gateway, shelf_servicer: ShelfServicer) -> None:
    created = await gateway.handle(
        req(
            "POST",
            "/v1/shelves?shelf_id=fiction",
            b'{"theme":"Sci-fi","genre":"GENRE_FICTION","bookCount":"12","tags":["a","b"],'
            b'"createTime":"2024-05-01T10:00:00Z","location":{"floor":2}}',
        )
    )
    # x-http-code metadata from the servicer sets the success status.
    assert created.status == 201
    assert created.header("Grpc-Metadata-x-http-code") is None
    shelf = created.json()
    assert shelf == {
        "name": "shelves/fiction",
        "theme": "Sci-fi",
        "genre": "GENRE_FICTION",
        "bookCount": "12",
        "tags": ["a", "b"],
        "createTime": "2024-05-01T10:00:00Z",
        "location": {"floor": 2, "room": ""},
    }
    got = await gateway.handle(req("GET", "/v1/shelves/fiction"))
    assert got.json() == shelf
    # The additional binding reaches the same method.
    assert (await gateway.handle(req("GET", "/v1/shelf/shelves%2Ffiction"))).json() == shelf

    listed = await gateway.handle(req("GET", "/v1/shelves?genre=GENRE_FICTION&tags=a&pageSize=5"))
    assert listed.json()["shelves"] == [shelf]
    last = shelf_servicer.last["ListShelves"]
    assert (last.genre, list(last.tags), last.page_size) == (shelf_pb2.GENRE_FICTION, ["a"], 5)

    patched = await gateway.handle(
        req("PATCH", "/v1/shelves/fiction?updateMask=theme", b'{"theme":"Space","tags":["z"]}')
    )
    assert patched.json()["theme"] == "Space"
    assert patched.json()["tags"] == ["a", "b"]  # not in the mask
    assert shelf_servicer.last["UpdateShelf"].shelf.name == "shelves/fiction"

    book = await gateway.handle(
        req(
            "POST",
            "/v1/shelves/fiction/books",
            b'{"book":{"title":"Dune","pageCount":"412","readTime":"3600.5s","rating":4.5,'
            b'"cover":"AAEC"},"bookId":"dune"}',
        )
    )
    assert book.status == 200, book.body
    assert book.json()["name"] == "shelves/fiction/books/dune"
    assert book.json()["readTime"] == "3600.500s"
    assert shelf_servicer.last["CreateBook"].book.cover == b"\x00\x01\x02"

    # ** binds several segments.
    got_book = await gateway.handle(
        req("GET", "/v1/books/shelves/fiction/books/dune?readMask=title")
    )
    assert got_book.json()["title"] == "Dune"
    assert got_book.json()["pageCount"] == "0"  # masked out, emitted as unpopulated

    # Custom verb + response_body: only the book is returned.
    moved = await gateway.handle(
        req("POST", "/v1/shelves/fiction/books/dune:move", b'{"destinationShelf":"shelves/x"}')
    )
    assert moved.status == 200, moved.body
    assert moved.json()["name"] == "shelves/x/books/dune"
    assert "took" not in moved.json()

    deleted = await gateway.handle(req("DELETE", "/v1/shelves/fiction"))
    assert (deleted.status, deleted.json()) == (200, {})


async def test_custom_method_and_maps(gateway: Gateway) -> None:
    info = await gateway.handle(req("HEAD", "/v1/library"))
    assert info.status == 200
    assert info.json() == {"shelfCount": "0", "booksByGenre": {}}


async def test_unannotated_methods_hidden_unless_asked(backend: Backend) -> None:
    gw = await backend.gateway(ShelfServicer())
    assert (await gw.handle(req("POST", "/example.v1.ShelfService/Audit", b"{}"))).status == 404
    opts = GatewayOptions(expose_unannotated=True)
    gw = await backend.gateway(ShelfServicer(), options=opts)
    resp = await gw.handle(req("POST", "/example.v1.ShelfService/Audit", b"{}"))
    assert (resp.status, resp.json()) == (200, {})


async def test_output_options(backend: Backend) -> None:
    opts = GatewayOptions(use_proto_names=True, enums_as_ints=True, emit_unpopulated=False)
    gw = await backend.gateway(ShelfServicer(), options=opts)
    resp = await gw.handle(
        req("POST", "/v1/shelves?shelfId=s1", b'{"genre":"GENRE_HISTORY","book_count":3}')
    )
    assert resp.json() == {"name": "shelves/s1", "genre": 2, "book_count": "3"}


@pytest.mark.parametrize(
    ("method", "path", "body", "http", "code"),
    [
        ("GET", "/v1/nothing/here", b"", 404, 5),
        ("GET", "/v1/shelves/x/books/y:move", b"", 405, 12),
        ("GET", "/v1/shelves?pageSize=ten", b"", 400, 3),
        ("GET", "/v1/shelves?genre=GENRE_NOPE", b"", 400, 3),
        ("GET", "/v1/shelves/%zz", b"", 400, 3),
        ("POST", "/v1/shelves", b"{not json", 400, 3),
        ("POST", "/v1/shelves", b'{"bookCount": "many"}', 400, 3),
        ("GET", "/v1/shelves/missing", b"", 404, 5),
        ("POST", "/v1/shelves/missing/books", b"{}", 400, 9),
    ],
)
async def test_errors_are_status_json(
    gateway: Gateway, method: str, path: str, body: bytes, http: int, code: int
) -> None:
    assert_status(await gateway.handle(req(method, path, body)), http, code)


#: ``PATCH`` takes a ``Thing`` as its body (``body: "thing"``), ``POST`` the whole
#: request (``body: "*"``): paths are within what the client sent.
_UPDATE = "/v1/groups/g/things/t"
_CREATE = "/v1/groups/g/things"


@pytest.mark.parametrize(
    ("strict", "method", "path", "body", "message", "fields"),
    [
        # A value of the wrong form: the field's path in the body field's value.
        (False, "PATCH", _UPDATE, rb'{"size": "x"}',
         'invalid value "x" for field "size" (int64): not an integer', ["thing.size"]),
        (False, "POST", _CREATE, rb'{"thing": {"size": "x"}}',
         'invalid value "x" for field "thing.size" (int64): not an integer', ["thing.size"]),
        (False, "PATCH", _UPDATE, rb'"x"',
         "the request body (grpcgwtest.openapi.v1.Thing) must be an object, not a string",
         ["thing"]),
        # Two members of a oneof, in either mode: a violation for each.
        (False, "PATCH", _UPDATE, rb'{"note": "a", "number": 1}',
         'fields "note" and "number" both set oneof "kind"', ["thing.note", "thing.number"]),
        (True, "POST", _CREATE, rb'{"thing": {"title": "t", "note": "a", "detail": {}}}',
         'fields "thing.note" and "thing.detail" both set oneof "kind"',
         ["thing.note", "thing.detail"]),
        # An unknown field when they are refused, at any depth.
        (True, "PATCH", _UPDATE, rb'{"title": "t", "bogus": 1}', 'unknown field "bogus"',
         ["thing.bogus"]),
        (True, "PATCH", _UPDATE, rb'{"title": "t", "parts": [{"name": "p", "x": 1}]}',
         'unknown field "parts[0].x"', ["thing.parts[0].x"]),
        (True, "POST", _CREATE, rb'{"thing": {"title": "t", "detail": {"nope": 1}}}',
         'unknown field "thing.detail.nope"', ["thing.detail.nope"]),
        # A key naming no extension is an unknown field (lenient mode ignores it, as
        # Go's DiscardUnknown); one naming another message's extension, either mode.
        (True, "PATCH", _UPDATE, rb'{"[ext.name]": 1}', 'unknown field "[ext.name]"',
         ["thing.[ext.name]"]),
        (False, "PATCH", _UPDATE, rb'{"[google.api.http]": {}}',
         'field "[google.api.http]" names an extension of google.protobuf.MethodOptions, '
         "not of grpcgwtest.openapi.v1.Thing", ["thing.[google.api.http]"]),
        # What json_format refuses in a form Go reads too: a Timestamp out of range
        # once its offset is applied, a lone surrogate (a "\ud800" escape).
        (False, "PATCH", _UPDATE, rb'{"createTime": "0001-01-01T00:00:00+01:00"}',
         'invalid value "0001-01-01T00:00:00+01:00" for field "createTime" '
         "(google.protobuf.Timestamp): out of range (years 0001 to 9999 in UTC)",
         ["thing.createTime"]),
        (True, "PATCH", _UPDATE, rb'{"title": "\ud800"}',
         'invalid value "\ud800" for field "title" (string): '
         "not valid Unicode (a lone surrogate)", ["thing.title"]),
        (False, "PATCH", _UPDATE, rb'{"attributes": {"a": ["\udc00"]}}',
         'invalid value "\udc00" for field "attributes.a[0]" (google.protobuf.Value): '
         "not valid Unicode (a lone surrogate)", ["thing.attributes.a[0]"]),
        # Not about one field: the JSON text itself. One violation without a field.
        (False, "PATCH", _UPDATE, rb'{"title": ', "Expecting value: line 1 column 11 (char 10)",
         [""]),
        (False, "POST", _CREATE, rb'{"thing": {}, "thing": {}}', 'duplicate key "thing"', [""]),
        (False, "POST", _CREATE, rb'"x"',
         "the request body (grpcgwtest.openapi.v1.CreateThingRequest) must be an object, "
         "not a string", [""]),
    ],
)  # fmt: skip
async def test_body_errors_name_the_field_as_the_client_sent_it(
    backend: Backend,
    strict: bool,
    method: str,
    path: str,
    body: bytes,
    message: str,
    fields: list[str],
) -> None:
    """The message names the place in the JSON sent; the ``google.rpc.BadRequest``
    detail names the field in the request message (below the body field ``thing``),
    described by the same message; a violation of the request as a whole has no
    ``field`` (proto3 JSON leaves the empty string out)."""
    from .openapi_echo import EchoServicer

    gw = await backend.gateway(EchoServicer(), options=GatewayOptions(strict=strict))
    resp = await gw.handle(req(method, path, body))
    assert resp.status == 400, resp.body
    message = f"invalid JSON body: {message}"
    violations = [{"field": f, "description": message} if f else {"description": message}
                  for f in fields]  # fmt: skip
    assert resp.json() == {
        "code": 3,
        "message": message,
        "details": [
            {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": violations}
        ],
    }
    if not strict:  # the same answer when unknown fields are refused
        strict_gw = await backend.gateway(EchoServicer(), options=GatewayOptions(strict=True))
        assert (await strict_gw.handle(req(method, path, body))).json() == resp.json()


async def test_lenient_mode_ignores_a_key_naming_no_extension(backend: Backend) -> None:
    """``"[foo.bar.baz]"`` where no such extension exists: ignored like any unknown
    field, as grpc-gateway (protojson with DiscardUnknown) ignores it."""
    from .openapi_echo import EchoServicer

    gw = await backend.gateway(EchoServicer())
    plain = await gw.handle(req("PATCH", _UPDATE, rb'{"title": "t"}'))
    odd = await gw.handle(req("PATCH", _UPDATE, rb'{"title": "t", "[foo.bar.baz]": 1}'))
    assert plain.status == 200, plain.body
    assert plain.json()["title"] == "t"
    assert (odd.status, odd.json()) == (200, plain.json())


async def test_405_lists_allowed_methods(gateway: Gateway) -> None:
    resp = await gateway.handle(req("PUT", "/v1/shelves/x"))
    assert_status(resp, 405, 12)
    # HEAD is served wherever GET is.
    assert resp.header("Allow") == "DELETE, GET, HEAD, PATCH"


@socket_only("a server that is not there")
async def test_unreachable_server_is_503(mode: str, sock_dir: Any) -> None:
    async with Gateway([PingServicer()], target=f"unix://{sock_dir}/nobody.sock") as gw:
        body = assert_status(await gw.handle(req("GET", "/v1/ping")), 503, 14)
        assert "nobody.sock" in body["message"] or body["message"]


async def test_body_limit_is_413(backend: Backend) -> None:
    gw = await backend.gateway(ShelfServicer(), options=GatewayOptions(max_request_body=10))
    assert_status(await gw.handle(req("POST", "/v1/shelves", b"{" + b" " * 20 + b"}")), 413, 8)


class _Recorder(grpc.aio.ServerInterceptor):
    def __init__(self) -> None:
        self.metadata: list[tuple[str, Any]] = []

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        self.metadata = list(details.invocation_metadata)  # type: ignore[attr-defined]
        return await continuation(details)


class _Auth(grpc.aio.ServerInterceptor):
    """Rejects calls without the right bearer token, as a real auth interceptor would."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        md = dict(details.invocation_metadata)  # type: ignore[attr-defined]
        if md.get("authorization") == "Bearer s3cret":
            return await continuation(details)

        async def deny(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or bad token")

        return grpc.unary_unary_rpc_method_handler(deny)


async def test_authorization_reaches_interceptor(backend: Backend) -> None:
    gw = await backend.gateway(PingServicer(), interceptors=[_Auth()])
    assert_status(await gw.handle(req("GET", "/v1/ping")), 401, 16)
    ok = await gw.handle(req("GET", "/v1/ping", headers=[("Authorization", "Bearer s3cret")]))
    assert ok.json() == {"message": "Pong"}


async def test_headers_become_metadata(backend: Backend) -> None:
    recorder = _Recorder()
    gw = await backend.gateway(PingServicer(), interceptors=[recorder])
    resp = await gw.handle(
        HttpRequest(
            "GET",
            "/v1/ping",
            headers=[
                ("Authorization", "Bearer t"),
                ("Grpc-Metadata-Tenant", "acme"),
                ("Grpc-Metadata-Trace-Bin", base64.b64encode(b"\x00\xff").decode()),
                ("User-Agent", "curl/8"),
                ("X-Custom", "dropped"),
                ("Connection", "keep-alive"),
                ("Host", "api.example.com"),
                ("X-Forwarded-For", "203.0.113.9"),
            ],
            remote_addr="10.0.0.7",
        )
    )
    assert resp.status == 200
    md = recorder.metadata
    assert ("authorization", "Bearer t") in md
    assert ("grpcgateway-authorization", "Bearer t") in md
    assert ("tenant", "acme") in md
    assert ("trace-bin", b"\x00\xff") in md
    assert ("grpcgateway-user-agent", "curl/8") in md
    assert ("x-forwarded-host", "api.example.com") in md
    assert ("x-forwarded-for", "203.0.113.9, 10.0.0.7") in md
    assert not [k for k, _ in md if k in ("x-custom", "connection", "grpcgateway-host")]


async def test_bad_metadata_headers_are_400(gateway: Gateway) -> None:
    bad_bin = [("Grpc-Metadata-Trace-Bin", "***")]
    assert_status(await gateway.handle(req("GET", "/v1/ping", headers=bad_bin)), 400, 3)
    bad_timeout = [("Grpc-Timeout", "soon")]
    assert_status(await gateway.handle(req("GET", "/v1/ping", headers=bad_timeout)), 400, 3)
    # gRPC text metadata is printable ASCII: anything else is the client's error, not a 500.
    for value in ("caf\u00e9", "a\tb", "x\x00y"):
        resp = await gateway.handle(req("GET", "/v1/ping", headers=[("Grpc-Metadata-Note", value)]))
        assert_status(resp, 400, 3)
        assert "Grpc-Metadata-Note" in resp.json()["message"]
    # A header that is not forwarded may hold anything.
    ok = await gateway.handle(req("GET", "/v1/ping", headers=[("X-Note", "caf\u00e9")]))
    assert ok.status == 200


async def test_longest_grpc_timeout_is_not_an_instant_deadline(gateway: Gateway) -> None:
    # 99999999H is a legal Grpc-Timeout; taken literally it overflows grpcio's clock.
    resp = await gateway.handle(req("GET", "/v1/ping", headers=[("Grpc-Timeout", "99999999H")]))
    assert resp.status == 200


class _Slow(ping_pb2_grpc.PingServiceServicer):
    async def Ping(self, request: Any, context: Any) -> ping_pb2.PingResponse:
        import asyncio

        await asyncio.Event().wait()  # never answers: only the deadline ends the call
        raise AssertionError("unreachable")


async def test_grpc_timeout_is_a_deadline(backend: Backend) -> None:
    gw = await backend.gateway(_Slow())
    resp = await gw.handle(req("GET", "/v1/ping", headers=[("Grpc-Timeout", "50m")]))
    assert_status(resp, 504, 4)


class _Rich(ping_pb2_grpc.PingServiceServicer):
    """Fails with details and metadata, like a real service reporting a bad request."""

    async def Ping(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.send_initial_metadata((("request-id", "r-1"),))
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field="x", description="bad x")
                ]
            )
        )
        status = status_pb2.Status(code=3, message="bad x", details=[detail])
        context.set_trailing_metadata(
            (("grpc-status-details-bin", status.SerializeToString()), ("retry", "no"))
        )
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad x")


async def test_status_details_and_metadata_on_errors(backend: Backend) -> None:
    gw = await backend.gateway(_Rich())
    resp = await gw.handle(req("GET", "/v1/ping"))
    body = assert_status(resp, 400, 3)
    assert body == {
        "code": 3,
        "message": "bad x",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": "x", "description": "bad x"}],
            }
        ],
    }
    assert resp.header("Grpc-Metadata-request-id") == "r-1"
    assert resp.header("Grpc-Trailer-retry") == "no"


def _deep_value(levels: int) -> Any:
    from google.protobuf import struct_pb2

    value = struct_pb2.Value()
    inner = value
    for _ in range(levels):
        inner = inner.list_value.values.add()
    return value


class _UndecodableDetails(ping_pb2_grpc.PingServiceServicer):
    """Fails with details of known types whose bytes protobuf will not decode: a
    BadRequest that is not one, a Value nested deeper than protobuf reads."""

    async def Ping(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        garbled = any_pb2.Any(
            type_url="type.googleapis.com/google.rpc.BadRequest", value=b"\xff\xff\xff"
        )
        deep = any_pb2.Any()
        deep.Pack(_deep_value(200))
        fine = any_pb2.Any()
        fine.Pack(error_details_pb2.ErrorInfo(reason="R"))
        status = status_pb2.Status(code=3, message="bad x", details=[garbled, deep, fine])
        context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad x")


async def test_details_that_do_not_decode_keep_the_servers_status(backend: Backend) -> None:
    # The server's own code and message stand; a detail protobuf cannot decode is
    # shown raw, as one of a type the gateway does not know is.
    gw = await backend.gateway(_UndecodableDetails())
    resp = await gw.handle(req("GET", "/v1/ping"))
    body = assert_status(resp, 400, 3)
    assert body["message"] == "bad x"
    garbled, deep, fine = body["details"]
    assert garbled == {"@type": "type.googleapis.com/google.rpc.BadRequest", "value": "////"}
    assert deep["@type"] == "type.googleapis.com/google.protobuf.Value"
    assert base64.b64decode(deep["value"]) == _deep_value(200).SerializeToString()
    assert fine == {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "R"}


class _Broken(ping_pb2_grpc.PingServiceServicer):
    async def Ping(self, request: Any, context: Any) -> Any:
        raise RuntimeError("boom: secret internals")


async def test_servicer_exception_is_500_without_traceback(backend: Backend) -> None:
    gw = await backend.gateway(_Broken())
    resp = await gw.handle(req("GET", "/v1/ping"))
    body = assert_status(resp, 500, 2)
    assert "Traceback" not in body["message"]


# -- the blocking invoker's driver (what the Lambda handler runs requests with) -------


def test_run_blocking_returns_what_a_never_suspending_coroutine_returns() -> None:
    from grpcgw.channel import run_blocking

    async def answer() -> int:
        return 42

    assert run_blocking(answer()) == 42


def test_run_blocking_refuses_a_coroutine_that_suspends() -> None:
    import asyncio

    from grpcgw.channel import run_blocking

    reached_finally: list[bool] = []

    async def suspends() -> None:
        try:
            await asyncio.sleep(0)
        finally:
            reached_finally.append(True)

    with pytest.raises(RuntimeError, match="tried to suspend"):
        run_blocking(suspends())
    assert reached_finally == [True]  # closed, not left pending


async def test_gateway_needs_exactly_one_way_to_call() -> None:
    channel = grpc.aio.insecure_channel("unix:///nonexistent.sock")
    with pytest.raises(TypeError, match="exactly one of target=, channel= or invoker="):
        Gateway([PingServicer()])
    with pytest.raises(TypeError, match="exactly one of"):
        Gateway([PingServicer()], target="unix:///x.sock", channel=channel)
    await channel.close()


async def test_a_given_invoker_is_used_and_left_open(example_target: str) -> None:
    from grpcgw.channel import ChannelInvoker, open_channel

    invoker = ChannelInvoker(open_channel(example_target))
    async with Gateway([PingServicer()], invoker=invoker) as gw:
        assert (await gw.handle(req("GET", "/v1/ping"))).json() == {"message": "Pong"}
    # The gateway did not close what it was given: the invoker still calls.
    async with Gateway([PingServicer()], invoker=invoker) as gw:
        assert (await gw.handle(req("GET", "/v1/ping"))).json() == {"message": "Pong"}
    await invoker.aclose()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"headers": {"accept": "*/*"}},
            "HttpRequest.headers must be a sequence of (name, value) pairs, not dict: "
            "pass list(headers.items())",
        ),
        (
            {"headers": "accept: */*"},
            "HttpRequest.headers must be a sequence of (name, value) pairs, not str",
        ),
        (
            {"metadata": {"tenant": "acme"}},
            "HttpRequest.metadata must be a sequence of (name, value) pairs, not dict: "
            "pass list(metadata.items())",
        ),
        (
            {"body": '{"theme":"Sci-fi"}'},
            "HttpRequest.body must be bytes, not str: encode it (body=text.encode())",
        ),
        ({"body": None}, "HttpRequest.body must be bytes, not NoneType"),
        ({"method": b"GET"}, "HttpRequest.method must be a str, not bytes"),
        ({"path": None}, "HttpRequest.path must be a str, not NoneType"),
        ({"query": {"a": "1"}}, "HttpRequest.query must be a str, not dict"),
    ],
)
def test_a_request_of_the_wrong_types_is_refused_when_made(
    fields: dict[str, Any], message: str
) -> None:
    """What a requests/httpx habit writes fails where it is written, naming the field
    (it used to reach the gateway and answer 500 with a traceback in the log)."""
    args: dict[str, Any] = {"method": "POST", "path": "/v1/shelves", **fields}
    with pytest.raises(TypeError) as caught:
        HttpRequest(**args)
    assert str(caught.value) == message


async def test_a_body_of_other_bytes_like_types_is_taken_as_bytes(gateway: Gateway) -> None:
    for body in (bytearray(b'{"theme":"Sci-fi"}'), memoryview(b'{"theme":"Sci-fi"}')):
        request = HttpRequest(
            "POST",
            "/v1/shelves",
            query="shelfId=bytes-like",
            headers=(("accept", "*/*"),),
            body=body,
        )
        assert type(request.body) is bytes
        resp = await gateway.handle(request)
        assert resp.status == 201, resp.body
        assert resp.json()["theme"] == "Sci-fi"
        deleted = await gateway.handle(HttpRequest("DELETE", "/v1/shelves/bytes-like"))
        assert deleted.status == 200, deleted.body


async def test_str_and_bytes_subclasses_are_taken(gateway: Gateway) -> None:
    """A str subclass is a str: ``http.HTTPMethod.GET`` (the standard library's StrEnum)
    as the method, as a program on Python 3.11+ may write it, is served, not refused."""
    from http import HTTPMethod

    class Path(str):
        pass

    request = HttpRequest(HTTPMethod.GET, Path("/v1/ping"), body=type("B", (bytes,), {})())
    assert type(request.method) is str
    assert type(request.path) is str
    assert type(request.body) is bytes
    resp = await gateway.handle(request)
    assert (resp.status, resp.json()) == (200, {"message": "Pong"})


def test_a_gateway_with_no_annotated_method_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every request would be a 404 with no hint why: the usual cause is a .proto
    compiled without google/api/annotations.proto or without the options."""
    from grpc_health.v1.health import HealthServicer

    with caplog.at_level(logging.WARNING, logger="grpcgw"):
        Gateway(HealthServicer(), target="unix:/nowhere.sock")
    said = [r.getMessage() for r in caplog.records if r.name == "grpcgw"]
    assert said == [
        "no method of grpc.health.v1.Health has a google.api.http annotation: nothing is "
        'served over HTTP (the .proto needs import "google/api/annotations.proto" and an '
        "option (google.api.http) on each method; GatewayOptions(expose_unannotated=True) "
        "serves every method at POST /<package.Service>/<Method>)"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="grpcgw"):
        # One annotated service among them, or the unannotated ones served: nothing to say.
        Gateway([PingServicer(), HealthServicer()], target="unix:/nowhere.sock")
        Gateway(
            HealthServicer(),
            target="unix:/nowhere.sock",
            options=GatewayOptions(expose_unannotated=True),
        )
    assert [r for r in caplog.records if r.name == "grpcgw"] == []
