"""What clients see when things go wrong: replies that cannot be rendered, servicer
crashes, transport failures, hooks that fail. Real gRPC servers throughout, and
every case with a servicer also dispatched in process (the ``mode`` fixture).

Each case asserts the status, the ``google.rpc.Status`` body, that nothing
internal reached the client, and what the log got (once).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import socket
from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
import pytest
from aiohttp.test_utils import TestClient
from example.v1 import ping_pb2, ping_pb2_grpc, shelf_pb2, shelf_pb2_grpc
from google.protobuf import timestamp_pb2
from grpcgwtest.echo.v1 import echo_pb2, echo_pb2_grpc

from examples.ping.service import PingServicer
from grpcgw import Gateway, GatewayError, GatewayOptions, HttpRequest, HttpResponse
from grpcgw.errors import Code, status_error
from grpcgw.web import create_app

from . import modes
from .gwhttp import req, status_of
from .modes import Backend
from .servicers import HangingPing, HeldPing

mode, backend = modes.mode, modes.backend

SECRET = "SECRET-db-password-hunter2"
BAD_TIME = timestamp_pb2.Timestamp(seconds=10**12)  # beyond year 9999: no RFC 3339 form


def grpcgw_records(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "grpcgw" and text in r.getMessage()]


# -- replies that cannot be rendered ------------------------------------------------------


class BadReplies(shelf_pb2_grpc.ShelfServiceServicer):
    """Replies JSON cannot hold: a Timestamp past year 9999."""

    async def GetShelf(self, request: Any, context: Any) -> shelf_pb2.Shelf:
        return shelf_pb2.Shelf(name=request.name, create_time=BAD_TIME)

    async def WatchShelves(self, request: Any, context: Any) -> AsyncIterator[shelf_pb2.Shelf]:
        # page_size good replies, then one that cannot be rendered, then more.
        for i in range(request.page_size):
            yield shelf_pb2.Shelf(name=f"shelves/{i}")
        yield shelf_pb2.Shelf(name="shelves/bad", create_time=BAD_TIME)
        yield shelf_pb2.Shelf(name="shelves/after")


class NonFiniteValues(echo_pb2_grpc.EchoServiceServicer):
    """A google.protobuf.Value holding NaN or Infinity: no JSON number can say it."""

    def __init__(self, value: float) -> None:
        self.value = value

    async def Echo(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        reply = echo_pb2.EchoResponse()
        reply.request.payload.list_value.values.add().number_value = self.value
        return reply


@pytest.fixture
async def bad(backend: Backend) -> Gateway:
    return await backend.gateway(BadReplies())


async def test_unrenderable_reply_is_500_with_a_generic_message(
    bad: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    resp = await bad.handle(req("GET", "/v1/shelves/s1"))
    message = status_of(resp, 500, Code.INTERNAL)
    assert "Timestamp" not in message
    assert "1000000000000" not in message
    # The detail goes to the server's log, once.
    [record] = grpcgw_records(caplog, "cannot be rendered")
    assert record.levelno == logging.ERROR
    assert "GetShelf" in record.getMessage()
    assert "Timestamp" in record.getMessage()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
async def test_value_holding_a_non_finite_number_is_500(backend: Backend, value: float) -> None:
    gw = await backend.gateway(NonFiniteValues(value))
    resp = await gw.handle(req("GET", "/my/path"))
    buffered = await gw.handle_buffered(req("GET", "/my/path"))
    status_of(resp, 500, Code.INTERNAL)
    status_of(buffered, 500, Code.INTERNAL)


async def test_stream_with_an_unrenderable_reply_ends_with_an_error_line(
    bad: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    resp = await bad.handle(req("GET", "/v1/shelves:watch?pageSize=2"))
    assert resp.status == 200
    lines = [json.loads(line) for line in (await resp.read()).splitlines()]
    assert [line.get("result", {}).get("name") for line in lines[:2]] == [
        "shelves/0",
        "shelves/1",
    ]
    assert lines[2:] == [
        {
            "error": {
                "code": 13,
                "message": "internal error: the reply cannot be rendered as JSON",
                "details": [],
            }
        }
    ]  # and nothing after it: the stream ended there
    assert len(grpcgw_records(caplog, "cannot be rendered")) == 1


async def test_stream_whose_first_reply_is_unrenderable_is_an_ordinary_500(bad: Gateway) -> None:
    resp = await bad.handle(req("GET", "/v1/shelves:watch?pageSize=0"))
    assert resp.stream is None
    status_of(resp, 500, Code.INTERNAL)


async def test_sse_stream_with_an_unrenderable_reply_ends_with_an_error_event(
    bad: Gateway, aiohttp_client: Any
) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(create_app(bad))
    resp = await client.get("/v1/shelves:watch?pageSize=1", headers={"Accept": "text/event-stream"})
    assert resp.status == 200
    text = await resp.text()  # a complete chunked body: no ClientPayloadError
    events = [e for e in text.split("\n\n") if e]
    assert events[0].startswith("data: ")
    assert events[1].startswith("event: error\ndata: ")
    assert json.loads(events[1].partition("data: ")[2])["code"] == 13
    assert len(events) == 2


async def test_ndjson_over_http_ends_properly(bad: Gateway, aiohttp_client: Any) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(create_app(bad))
    resp = await client.get("/v1/shelves:watch?pageSize=1")
    lines = (await resp.read()).splitlines()  # raises if the connection were cut
    assert json.loads(lines[-1])["error"]["code"] == 13
    assert len(lines) == 2


async def test_unrenderable_replies_on_the_buffered_path(bad: Gateway) -> None:
    unary = await bad.handle_buffered(req("GET", "/v1/shelves/s1"))
    stream = await bad.handle_buffered(req("GET", "/v1/shelves:watch?pageSize=1"))
    status_of(unary, 500, Code.INTERNAL)
    assert stream.status == 200
    assert json.loads(stream.body.splitlines()[-1])["error"]["code"] == 13


def test_lambda_handler_answers_unrenderable_replies(mode: str, sock_dir: Any) -> None:
    from grpcgw import LambdaOptions, serve_lambda

    handler = serve_lambda(
        BadReplies(), lambda_options=LambdaOptions(socket_dir=str(sock_dir)), dispatch=mode
    )
    try:
        event = {
            "version": "2.0",
            "rawPath": "/v1/shelves/s1",
            "rawQueryString": "",
            "headers": {},
            "requestContext": {"http": {"method": "GET", "sourceIp": "1.2.3.4"}},
            "isBase64Encoded": False,
        }
        resp = handler(event)
    finally:
        handler.stop()
    assert resp["statusCode"] == 500
    assert json.loads(resp["body"])["code"] == 13


class UndecodableReplies(echo_pb2_grpc.EchoServiceServicer):
    """Replies protobuf writes but will not read back: a Value nested past its
    decoder's depth limit (what a Java or Go server may well send)."""

    async def Echo(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        reply = echo_pb2.EchoResponse()
        inner = reply.request.payload  # built in place: copying one decodes it
        for _ in range(150):
            inner = inner.list_value.values.add()
        return reply


def _alarms(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


@modes.socket_only("in process, no reply is decoded from bytes")
async def test_a_reply_that_does_not_decode_is_one_line_naming_why(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    # grpc would log its own traceback for each such reply and hand the gateway
    # None, which it then failed to render ("NoneType has no DESCRIPTOR").
    gw = await backend.gateway(UndecodableReplies())
    for _ in range(2):
        caplog.clear()
        resp = await gw.handle(req("GET", "/my/path"))
        assert "MaxDepth" not in status_of(resp, 500, Code.INTERNAL)
        [alarm] = _alarms(caplog)
        assert alarm.startswith("grpcgw: a reply of /grpcgwtest.echo.v1.EchoService/Echo")
        assert "does not decode" in alarm
        assert "grpcgwtest.echo.v1.EchoResponse" in alarm
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_a_reply_that_does_not_decode_on_lambda(
    sock_dir: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The Lambda handler's blocking channel: grpc's synchronous deserializer path.
    from grpcgw import LambdaOptions, serve_lambda

    handler = serve_lambda(
        UndecodableReplies(), lambda_options=LambdaOptions(socket_dir=str(sock_dir))
    )
    event = {
        "version": "2.0",
        "rawPath": "/my/path",
        "rawQueryString": "",
        "headers": {},
        "requestContext": {"http": {"method": "GET", "sourceIp": "1.2.3.4"}},
        "isBase64Encoded": False,
    }
    try:
        caplog.clear()
        resp = handler(event)
    finally:
        handler.stop()
    assert resp["statusCode"] == 500
    assert json.loads(resp["body"])["code"] == 13
    [alarm] = _alarms(caplog)
    assert "does not decode" in alarm
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


# -- servicer crashes and messages set on purpose ---------------------------------------


class AsyncCrash(ping_pb2_grpc.PingServiceServicer):
    async def Ping(self, request: Any, context: Any) -> Any:
        raise RuntimeError(SECRET)


class PlainCrash(ping_pb2_grpc.PingServiceServicer):
    def Ping(self, request: Any, context: Any) -> Any:
        raise RuntimeError(SECRET)


class AsyncAbort(ping_pb2_grpc.PingServiceServicer):
    """A status set on purpose."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        self.code, self.message = code, message

    async def Ping(self, request: Any, context: Any) -> Any:
        await context.abort(self.code, self.message)


class PlainAbort(AsyncAbort):
    def Ping(self, request: Any, context: Any) -> Any:  # type: ignore[override]
        context.abort(self.code, self.message)


class PlainSetDetails(AsyncAbort):
    """The other way a plain servicer says it: set_code and set_details, then return."""

    def Ping(self, request: Any, context: Any) -> Any:  # type: ignore[override]
        context.set_code(self.code)
        context.set_details(self.message)
        return ping_pb2.PingResponse()


#: Statuses set on purpose, under the codes gRPC also uses for its own failures.
_ON_PURPOSE = [
    (grpc.StatusCode.INTERNAL, "the ledger is inconsistent; support was told"),
    (grpc.StatusCode.UNAVAILABLE, "down for maintenance until 17:00"),
    (grpc.StatusCode.UNKNOWN, "the upstream answered something odd"),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, "quota of 100 calls a day used up"),
]


@pytest.mark.parametrize(
    ("servicer", "threaded"),
    [(AsyncCrash(), False), (PlainCrash(), False), (PlainCrash(), True)],
    ids=["async", "plain-on-aio", "plain-threaded"],
)
async def test_servicer_exception_text_never_reaches_the_client(
    backend: Backend, caplog: pytest.LogCaptureFixture, servicer: object, threaded: bool
) -> None:
    gw = await backend.gateway(servicer, prefer_threaded=threaded)
    resp = await gw.handle(req("GET", "/v1/ping"))
    assert status_of(resp, 500, Code.UNKNOWN) == "internal error"
    assert SECRET not in resp.body.decode()
    [record] = grpcgw_records(caplog, SECRET)
    assert record.levelno == logging.ERROR
    assert record.exc_info is None  # one line, no traceback


@pytest.mark.parametrize(
    ("kind", "threaded"),
    [
        (AsyncAbort, False),
        (PlainAbort, False),
        (PlainAbort, True),
        (PlainSetDetails, False),
        (PlainSetDetails, True),
    ],
)
@pytest.mark.parametrize(("code", "message"), _ON_PURPOSE)
async def test_messages_set_on_purpose_pass_through(
    backend: Backend, kind: type[AsyncAbort], threaded: bool, code: grpc.StatusCode, message: str
) -> None:
    gw = await backend.gateway(kind(code, message), prefer_threaded=threaded)
    resp = await gw.handle(req("GET", "/v1/ping"))
    body = resp.json()
    assert (body["code"], body["message"]) == (code.value[0], message)


async def test_expose_internal_errors_passes_everything(backend: Backend, sock_dir: Any) -> None:
    opts = GatewayOptions(expose_internal_errors=True)
    gw = await backend.gateway(AsyncCrash(), options=opts)
    crash = await gw.handle(req("GET", "/v1/ping"))
    assert status_of(crash, 500, Code.UNKNOWN) == f"Unexpected <class 'RuntimeError'>: {SECRET}"
    async with Gateway([AsyncCrash()], target=f"unix://{sock_dir}/nobody.sock", options=opts) as gw:
        down = await gw.handle(req("GET", "/v1/ping"))
    assert "nobody.sock" in status_of(down, 503, Code.UNAVAILABLE)


class StreamCrash(shelf_pb2_grpc.ShelfServiceServicer):
    async def WatchShelves(self, request: Any, context: Any) -> AsyncIterator[shelf_pb2.Shelf]:
        yield shelf_pb2.Shelf(name="shelves/1")
        raise RuntimeError(SECRET)


async def test_servicer_crash_mid_stream_is_a_generic_error_line(backend: Backend) -> None:
    gw = await backend.gateway(StreamCrash())
    resp = await gw.handle(req("GET", "/v1/shelves:watch"))
    body = await resp.read()
    assert SECRET not in body.decode()
    last = json.loads(body.splitlines()[-1])
    assert last == {"error": {"code": 2, "message": "internal error", "details": []}}


# -- transport failures -------------------------------------------------------------------


async def test_unreachable_socket_path_is_not_revealed(
    sock_dir: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with Gateway([AsyncCrash()], target=f"unix://{sock_dir}/nobody.sock") as gw:
        resp = await gw.handle(req("GET", "/v1/ping"))
    assert status_of(resp, 503, Code.UNAVAILABLE) == "the service is unavailable"
    assert "nobody" not in resp.body.decode()
    [record] = grpcgw_records(caplog, "nobody.sock")
    assert record.levelno == logging.WARNING


async def test_refused_tcp_address_is_not_revealed() -> None:
    # A port bound and never listened on: refused, and (held) no server can take it.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        async with Gateway([AsyncCrash()], target=f"127.0.0.1:{port}") as gw:
            resp = await gw.handle(req("GET", "/v1/ping"))
    assert status_of(resp, 503, Code.UNAVAILABLE) == "the service is unavailable"
    assert "127.0.0.1" not in resp.body.decode()
    assert str(port) not in resp.body.decode()


@pytest.mark.parametrize(
    ("code", "message", "internal"),
    [
        # grpc's Python servers, for an exception escaping a servicer (any code).
        (Code.UNKNOWN, "Exception calling application: x", "servicer"),
        (Code.UNKNOWN, "Exception iterating responses: x", "servicer"),
        (Code.INTERNAL, "Unexpected <class 'KeyError'>: 'k'", "servicer"),
        # grpc's own fixed texts (the whole list: test_every_fixed_grpc_text_is_internal).
        (Code.UNKNOWN, "Calling application raised unprintable Exception!", "servicer"),
        (Code.INTERNAL, "Failed to serialize response!", "servicer"),
        (Code.UNKNOWN, "Error in service handler!", "servicer"),
        (Code.UNIMPLEMENTED, "Method not found!", "transport"),
        (Code.UNIMPLEMENTED, '"/a.B/C" requires exactly one request message.', "transport"),
        # gRPC's core, making a status up itself.
        (Code.UNAVAILABLE, "failed to connect to all addresses; last error: ...", "transport"),
        (Code.UNAVAILABLE, "Socket closed", "transport"),
        (Code.UNAVAILABLE, "Connection reset by peer", "transport"),
        (Code.INTERNAL, "Received RST_STREAM with error code 2", "transport"),
        (Code.UNKNOWN, "Stream removed", "transport"),
        (Code.RESOURCE_EXHAUSTED, "Received message larger than max (5 vs. 4)", "transport"),
        (Code.DEADLINE_EXCEEDED, "Deadline Exceeded", "transport"),
        (Code.UNAVAILABLE, "DNS resolution failed for backend.internal:50051", "transport"),
        (Code.UNAVAILABLE, "upstream ipv4:10.1.2.3:50051 gone", "transport"),
        (Code.INTERNAL, "cannot open unix:/run/app.sock", "transport"),
        # What a servicer says on purpose passes, whatever the code.
        (Code.UNAVAILABLE, "down for maintenance", None),
        (Code.INTERNAL, "the ledger is inconsistent", None),
        (Code.UNKNOWN, "Unexpected answer from the bank", None),
        # Codes gRPC never makes up: always the servicer's own.
        (Code.NOT_FOUND, "no unix:/x here, and Socket closed", None),
        (Code.FAILED_PRECONDITION, "Deadline Exceeded for the filing", None),
    ],
)
def test_status_error_tells_internal_messages_apart(
    code: Code, message: str, internal: str | None
) -> None:
    error = status_error(code, message)
    assert (error.code, error.message, error.internal) == (code, message, internal)
    public = error.public()
    if internal is None:
        assert public is error
    else:
        assert public.message not in message
        assert public.internal is None
        assert public.code == code


def _grpc_status_texts(path: str) -> set[str]:
    """The fixed status texts in one of grpc's Python sources: the messages its calls
    to ``_abort``/``_reject_rpc``/``cancel``/``close`` pass, and those it assigns to
    ``details`` (a ``.format`` template with ``x`` put in)."""
    import ast
    import pathlib

    source = (pathlib.Path(grpc.__file__).parent / path).read_text()
    texts: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        value: Any = None
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "details" for t in node.targets
        ):
            value = node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
                value = value.func.value  # "...{}".format(exception)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("_abort", "_reject_rpc", "cancel", "close"):
                value = next((a for a in reversed(node.args) if isinstance(a, ast.Constant)), None)
        if isinstance(value, ast.Constant) and isinstance(value.value, str | bytes):
            text = value.value.decode() if isinstance(value.value, bytes) else value.value
            texts.add(text.format("x") if "{}" in text else text)
    return texts - {""}


#: Texts grpc only logs (never sent as a status).
_LOGGED_ONLY = {"Exception servicing handler: x"}


@pytest.mark.parametrize("path", ["_server.py", "_channel.py"])
def test_every_fixed_grpc_text_is_internal(path: str) -> None:
    # Read from the grpc installed: a text a new grpcio adds fails here until
    # errors.py knows it.
    texts = _grpc_status_texts(path) - _LOGGED_ONLY
    assert len(texts) >= (10 if path == "_server.py" else 6)
    for text in sorted(texts):
        for code in (Code.UNKNOWN, Code.INTERNAL, Code.UNIMPLEMENTED, Code.CANCELLED):
            assert status_error(code, text).internal is not None, (text, code)


async def test_a_full_server_is_429_in_grpcs_own_words_hidden(sock_dir: Any) -> None:
    # grpc.aio's server is compiled: its fixed texts are checked by running it.
    servicer = HeldPing()
    server = grpc.aio.server(maximum_concurrent_rpcs=1)
    ping_pb2_grpc.add_PingServiceServicer_to_server(servicer, server)
    server.add_insecure_port(f"unix://{sock_dir}/full.sock")
    await server.start()
    try:
        async with Gateway([servicer], target=f"unix://{sock_dir}/full.sock") as gw:
            held = asyncio.ensure_future(gw.handle(req("GET", "/v1/ping")))
            await asyncio.wait_for(servicer.entered.wait(), 10)
            full = await gw.handle(req("GET", "/v1/ping"))
            servicer.release.set()
            assert (await held).status == 200
    finally:
        await server.stop(0)
    assert status_of(full, 429, Code.RESOURCE_EXHAUSTED) == "resource exhausted"
    assert status_error(Code.RESOURCE_EXHAUSTED, "Concurrent RPC limit exceeded!").internal


def test_a_servicer_may_say_what_grpc_says_only_in_other_words() -> None:
    # Only the whole fixed text is grpc's: a servicer's message that quotes it passes.
    error = status_error(Code.UNIMPLEMENTED, "Method not found! Try /v2/ping")
    assert error.internal is None


def test_metadata_refused_by_the_backend_is_431_without_its_listing() -> None:
    error = status_error(
        Code.RESOURCE_EXHAUSTED,
        "received metadata size exceeds soft limit (9574 vs. 8192);  :path:65B x-big:9037B",
    )
    assert (error.http_status, error.internal) == (431, "transport")
    assert error.public().message == "request headers too large for the service"
    too_long = status_error(
        Code.RESOURCE_EXHAUSTED,
        "received metadata size exceeds hard limit (value length 20000 vs. 16384)",
    )
    assert too_long.http_status == 431


@pytest.mark.parametrize(
    "message",
    [
        "Stream removed (received metadata size exceeds hard limit (65646 vs. 65536);  "
        ":status:42B content-type:60B grpc-accept-encoding:75B big:65435B)",
        "Stream removed (received metadata size exceeds hard limit (value length 70000 vs. 65536))",
        "received metadata size exceeds hard limit (65557 vs. 65536);  grpc-status:44B "
        "grpc-message:44B big:65435B",
    ],
)
def test_reply_metadata_over_the_limit_is_not_blamed_on_the_request(message: str) -> None:
    # The gateway's channel refused what the server sent: not the client's headers.
    error = status_error(Code.RESOURCE_EXHAUSTED, message)
    assert (error.http_status, error.internal) == (429, "transport")
    assert error.public().message == "resource exhausted"


# -- hooks and Gateway.error --------------------------------------------------------------


async def test_error_does_not_change_the_error_it_renders(example_target: str) -> None:
    error = GatewayError(Code.UNAUTHENTICATED, "token expired")
    async with Gateway([AsyncCrash()], target=example_target) as gw:
        first = gw.error(req("GET", "/v1/ping"), error)
        second = gw.error(req("GET", "/v1/ping"), error)
    assert error.headers == []
    assert first.headers == second.headers
    assert [v for k, v in first.headers if k == "WWW-Authenticate"] == ["token expired"]


async def test_error_hook_gets_the_public_error_in_and_out_of_streams(backend: Backend) -> None:
    seen: list[GatewayError] = []

    def on_error(request: HttpRequest, error: GatewayError) -> HttpResponse:
        seen.append(error)
        return HttpResponse(error.http_status, [], json.dumps({"oops": error.message}).encode())

    gw = await backend.gateway(
        StreamCrash(),
        services=["example.v1.ShelfService", "example.v1.PingService"],
        error_hook=on_error,
    )
    resp = await gw.handle(req("GET", "/v1/shelves:watch"))
    lines = (await resp.read()).splitlines()
    missing = await gw.handle(req("GET", "/v1/nothing"))
    assert json.loads(lines[-1]) == {"error": {"oops": "internal error"}}
    assert missing.json() == {"oops": "no route for GET /v1/nothing"}
    assert [e.message for e in seen] == ["internal error", "no route for GET /v1/nothing"]


async def test_hooks_that_raise_are_contained(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    def bad_response_hook(*args: Any) -> None:
        raise ValueError("hook bug")

    def bad_error_hook(*args: Any) -> HttpResponse:
        raise ValueError("error hook bug")

    gw = await backend.gateway(
        PingServicer(), response_hook=bad_response_hook, error_hook=bad_error_hook
    )
    resp = await gw.handle(req("GET", "/v1/ping"))
    missing = await gw.handle(req("GET", "/v1/nothing"))
    # The response hook failed: 500; then the error hook failed: the default body.
    assert status_of(resp, 500, Code.INTERNAL) == "internal gateway error"
    assert status_of(missing, 404, Code.NOT_FOUND) == "no route for GET /v1/nothing"
    assert grpcgw_records(caplog, "error_hook failed")


# -- cancellation -------------------------------------------------------------------------


async def test_cancelling_a_unary_request_cancels_the_call(backend: Backend) -> None:
    servicer = HangingPing()
    gw = await backend.gateway(servicer)
    task = asyncio.ensure_future(gw.handle(req("GET", "/v1/ping")))
    await asyncio.wait_for(servicer.started.wait(), 10)
    task.cancel()  # what the adapter does when the client goes away
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(servicer.cancelled.wait(), 10)


async def test_closing_a_stream_before_reading_it_cancels_the_call(backend: Backend) -> None:
    class Watch(shelf_pb2_grpc.ShelfServiceServicer):
        cancelled = asyncio.Event()

        async def WatchShelves(self, request: Any, context: Any) -> AsyncIterator[Any]:
            yield shelf_pb2.Shelf(name="shelves/1")
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise

    gw = await backend.gateway(Watch())
    resp = await gw.handle(req("GET", "/v1/shelves:watch"))
    assert resp.stream is not None
    await resp.stream.aclose()  # type: ignore[attr-defined]
    await asyncio.wait_for(Watch.cancelled.wait(), 10)


# -- text that UTF-8 cannot hold --------------------------------------------------------


async def test_lone_surrogates_in_a_request_answer_400(example_target: str) -> None:
    # Lambda events can carry them (JSON "\ud800"); aiohttp never does.
    async with Gateway([AsyncCrash(), BadReplies()], target=example_target) as gw:
        query = await gw.handle(req("GET", "/v1/shelves?pageToken=\ud800"))
        header = await gw.handle(req("GET", "/v1/ping", headers=[("Grpc-Metadata-X", "\ud800")]))
    status_of(query, 400, Code.INVALID_ARGUMENT)
    status_of(header, 400, Code.INVALID_ARGUMENT)


def test_a_message_echoing_a_lone_surrogate_is_still_a_body() -> None:
    body = GatewayError(Code.NOT_FOUND, "no route for GET /\ud800").body()
    assert json.loads(body)["message"] == "no route for GET /\ud800"
