"""Streaming methods over WebSocket (``GatewayOptions(websocket=True)``): real servers
from ``start_local`` in both dispatch modes, driven by aiohttp's WebSocket client."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import grpc
import pytest
from google.api import httpbody_pb2
from grpcgwtest.stream.v1 import stream_pb2, stream_pb2_grpc

from grpcgw import CorsOptions, GatewayOptions, HttpLimits, start_local
from grpcgw.exchange import HttpRequest, HttpResponse
from grpcgw.logs import ACCESS_LOGGER
from grpcgw.server import LocalServer
from grpcgw.web import create_app
from grpcgw.wsframes import SUBPROTOCOL, TOKEN_PREFIX

from . import modes
from .modes import Backend
from .test_streaming import StreamServicer

mode, backend = modes.mode, modes.backend

WAIT = 10  # seconds any one step may take before the test fails
#: A request that keeps Double busy after its reply, until the test releases it.
HOLD = 5


class Servicer(StreamServicer):
    """test_streaming's servicer (Count, Sum: metadata and cancellation recorded), with a
    Double that echoes each message as it comes and can be held busy."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[int] = []

    async def Double(self, requests: Any, context: Any) -> AsyncIterator[stream_pb2.Num]:
        try:
            async for num in requests:
                self.received.append(num.value)
                if num.value < 0:
                    await context.abort(grpc.StatusCode.OUT_OF_RANGE, "negative")
                yield stream_pb2.Num(value=2 * num.value)
                if num.value == HOLD:  # busy until released (or cancelled)
                    await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise

    async def Download(self, request: Any, context: Any) -> AsyncIterator[httpbody_pb2.HttpBody]:
        for i in range(request.n):
            yield httpbody_pb2.HttpBody(content_type="image/png", data=bytes([i]))


class SyncServicer(stream_pb2_grpc.StreamServiceServicer):
    """A plain bidi handler: reads its requests on a worker thread, one at a time."""

    def __init__(self) -> None:
        self.received: list[int] = []
        #: Set when the handler's thread is done with the call, however it ended.
        self.done = threading.Event()

    def Double(self, requests: Iterator[Any], context: Any) -> Iterator[stream_pb2.Num]:
        try:
            for num in requests:
                self.received.append(num.value)
                yield stream_pb2.Num(value=2 * num.value)
        finally:
            self.done.set()


class Recorder(grpc.aio.ServerInterceptor):
    """Keeps the invocation metadata of every call (what an auth interceptor reads)."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        self.seen.append(dict(details.invocation_metadata))  # type: ignore[attr-defined]
        return await continuation(details)


Start = Callable[..., Awaitable[tuple[str, LocalServer]]]


@pytest.fixture
async def start(mode: str) -> AsyncIterator[Start]:
    """Starts ``start_local`` servers in the test's dispatch mode; stops them after."""
    started: list[LocalServer] = []

    async def start(servicer: object, **kwargs: Any) -> tuple[str, LocalServer]:
        kwargs.setdefault("options", GatewayOptions(websocket=True))
        local = await start_local(
            servicer,
            http_address="127.0.0.1:0",
            grpc_address="127.0.0.1:0",
            dispatch=mode,
            **kwargs,
        )
        started.append(local)
        return f"http://127.0.0.1:{local.http_port}", local

    yield start
    for local in started:
        await local.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def frame(ws: aiohttp.ClientWebSocketResponse) -> Any:
    """The next text frame, as JSON."""
    message = await asyncio.wait_for(ws.receive(), WAIT)
    assert message.type is aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def closed(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    """Wait for the server's close; its code."""
    message = await asyncio.wait_for(ws.receive(), WAIT)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
    return ws.close_code


# -- the three kinds of streams -------------------------------------------------------------


@pytest.mark.parametrize("kind", [Servicer, SyncServicer])
async def test_bidi_is_full_duplex(
    start: Start, session: aiohttp.ClientSession, kind: type
) -> None:
    servicer = kind()
    base, _ = await start(servicer)
    async with session.ws_connect(base + "/double") as ws:
        for value in (1, 2, 3):
            # Each reply arrives before the next request is sent: the stream is open both ways.
            await ws.send_str(json.dumps({"value": value}))
            assert await frame(ws) == {"result": {"value": str(2 * value)}}
        assert servicer.received == [1, 2, 3]
        await ws.send_str("EOF")
        assert await closed(ws) == 1000


async def test_server_stream(start: Start, session: aiohttp.ClientSession) -> None:
    base, _ = await start(Servicer())
    async with session.ws_connect(base + "/count/3") as ws:
        assert [await frame(ws) for _ in range(3)] == [
            {"result": {"value": str(i)}} for i in range(3)
        ]
        assert await closed(ws) == 1000


async def test_client_stream(start: Start, session: aiohttp.ClientSession) -> None:
    base, _ = await start(Servicer())
    # Sum's binding is a POST: the handshake (a GET) opens it all the same.
    async with session.ws_connect(base + "/sum") as ws:
        for value in (1, 2, 3):
            await ws.send_str(json.dumps({"value": value}))
        await ws.send_str("")  # blank, as a blank NDJSON line: skipped
        await ws.send_str("EOF")
        assert await frame(ws) == {"result": {"value": "6"}}
        assert await closed(ws) == 1000


class AccessLines(logging.Handler):
    """The access lines as they are written; :attr:`call` is set by a WebSocket call's."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[tuple[str, str, int, str, int]] = []
        self.call = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        fields = record.__dict__
        status = fields["status"]
        self.lines.append(
            (fields["method"], fields["path"], status, fields["grpc_code"], fields["bytes_out"])
        )
        if status == 101:
            self.call.set()


async def test_one_access_line_per_call(
    start: Start, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)  # restored after the test
    access = AccessLines()
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(access)
    try:
        base, _ = await start(Servicer())
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(base + "/double", origin="https://evil.example")
        async with session.ws_connect(base + "/double") as ws:
            await ws.send_str('{"value": 1}')
            assert await frame(ws) == {"result": {"value": "2"}}
            await ws.send_str("EOF")
            assert await closed(ws) == 1000
        # Written when the handler ends, which the client need not wait for.
        await asyncio.wait_for(access.call.wait(), WAIT)
    finally:
        logger.removeHandler(access)
    assert access.lines == [
        ("GET", "/double", 403, "PERMISSION_DENIED", access.lines[0][4]),
        ("GET", "/double", 101, "OK", len(b'{"result":{"value":"2"}}')),
    ]


# -- failures ----------------------------------------------------------------------------------


async def test_servicer_error_is_the_last_frame(
    start: Start, session: aiohttp.ClientSession
) -> None:
    base, _ = await start(Servicer())
    async with session.ws_connect(base + "/count/5?failAt=3") as ws:
        assert await frame(ws) == {"result": {"value": "0"}}
        assert await frame(ws) == {"result": {"value": "1"}}
        assert await frame(ws) == {"error": {"code": 9, "message": "failed at 3", "details": []}}
        assert await closed(ws) == 1000
    async with session.ws_connect(base + "/double") as ws:
        await ws.send_str('{"value": 4}')
        assert await frame(ws) == {"result": {"value": "8"}}
        await ws.send_str('{"value": -1}')
        assert await frame(ws) == {"error": {"code": 11, "message": "negative", "details": []}}
        assert await closed(ws) == 1000


async def test_bad_json_is_an_error_frame_and_1007(
    start: Start, session: aiohttp.ClientSession
) -> None:
    servicer = Servicer()
    base, _ = await start(servicer)
    async with session.ws_connect(base + "/double") as ws:
        await ws.send_str('{"value": 5}')
        assert await frame(ws) == {"result": {"value": "10"}}
        await ws.send_str('{"value": ')
        error = (await frame(ws))["error"]
        assert error["code"] == 3
        assert error["message"].startswith("request stream message 2: ")
        # As for an NDJSON line: a google.rpc.BadRequest says what is wrong.
        assert [d["@type"] for d in error["details"]] == [
            "type.googleapis.com/google.rpc.BadRequest"
        ]
        assert await closed(ws) == 1007
    # The call was cancelled: the busy servicer sees it.
    await asyncio.wait_for(servicer.cancelled.wait(), WAIT)


async def test_frames_a_method_does_not_take(start: Start, session: aiohttp.ClientSession) -> None:
    base, _ = await start(Servicer())
    async with session.ws_connect(base + "/double") as ws:
        await ws.send_bytes(b'{"value": 1}')
        assert (await frame(ws))["error"]["code"] == 3
        assert await closed(ws) == 1003
    async with session.ws_connect(base + "/count/1?hold=true") as ws:
        assert await frame(ws) == {"result": {"value": "0"}}
        await ws.send_str('{"n": 2}')  # Count takes its request from the URL
        error = (await frame(ws))["error"]
        assert error["message"] == (
            "/grpcgwtest.stream.v1.StreamService/Count takes its request from the URL, "
            "not from frames"
        )
        assert await closed(ws) == 1008


async def test_oversized_message_closes_1009(start: Start, session: aiohttp.ClientSession) -> None:
    servicer = Servicer()
    base, _ = await start(servicer, options=GatewayOptions(websocket=True, max_request_body=64))
    async with session.ws_connect(base + "/double") as ws:
        await ws.send_str(json.dumps({"value": 5}))
        assert await frame(ws) == {"result": {"value": "10"}}
        await ws.send_str(json.dumps({"value": 1, "pad": "x" * 100}))
        assert await closed(ws) == 1009
    await asyncio.wait_for(servicer.cancelled.wait(), WAIT)
    assert servicer.received == [5]


async def test_the_servers_message_size_limit_applies(
    start: Start, session: aiohttp.ClientSession
) -> None:
    base, _ = await start(Servicer(), grpc_server_options=[("grpc.max_receive_message_length", 4)])
    async with session.ws_connect(base + "/double") as ws:
        await ws.send_str('{"value": 1}')  # 2 bytes
        assert await frame(ws) == {"result": {"value": "2"}}
        await ws.send_str(json.dumps({"value": 2**40}))  # 7 bytes
        error = (await frame(ws))["error"]
        assert error["code"] == 8, error
        assert await closed(ws) == 1000


# -- the client goes -----------------------------------------------------------------------------


async def test_client_close_cancels_the_call(start: Start, session: aiohttp.ClientSession) -> None:
    servicer = Servicer()
    base, _ = await start(servicer)
    async with session.ws_connect(base + "/double") as ws:
        await ws.send_str('{"value": 5}')
        assert await frame(ws) == {"result": {"value": "10"}}
        # Double is busy with it; the client closes.
    await asyncio.wait_for(servicer.cancelled.wait(), WAIT)
    assert not servicer.release.is_set()


async def test_client_close_frees_a_plain_handler_waiting_for_a_request(
    start: Start, session: aiohttp.ClientSession
) -> None:
    servicer = SyncServicer()
    base, _ = await start(servicer)
    async with session.ws_connect(base + "/double") as ws:
        await ws.send_str('{"value": 1}')
        assert await frame(ws) == {"result": {"value": "2"}}
        # The handler's thread now waits for the next request; the client closes.
    # Its thread is let go (grpc's server ends the request iterator; direct dispatch
    # raises its cancellation from it), not held waiting for a frame that will not come.
    assert await asyncio.to_thread(servicer.done.wait, WAIT)
    assert servicer.received == [1]


async def test_client_close_cancels_a_busy_server_stream(
    start: Start, session: aiohttp.ClientSession
) -> None:
    servicer = Servicer()
    base, _ = await start(servicer)
    async with session.ws_connect(base + "/count/3?hold=true") as ws:
        assert await frame(ws) == {"result": {"value": "0"}}
    await asyncio.wait_for(servicer.cancelled.wait(), WAIT)
    assert not servicer.release.is_set()


async def test_heartbeat_ends_a_call_whose_client_stopped_answering(
    start: Start, session: aiohttp.ClientSession
) -> None:
    """A peer gone without a word (here: alive, but answering no ping) is noticed by
    the heartbeat (``idle_timeout``): the connection is dropped and the call cancelled."""
    servicer = Servicer()
    base, _ = await start(servicer, limits=HttpLimits(idle_timeout=0.2))
    async with session.ws_connect(base + "/double", autoping=False) as ws:
        await ws.send_str(f'{{"value": {HOLD}}}')
        assert await frame(ws) == {"result": {"value": str(2 * HOLD)}}
        # Double is busy with it; the client reads on but never answers a ping.
        kinds = []
        while True:
            message = await asyncio.wait_for(ws.receive(), WAIT)
            kinds.append(message.type)
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                break
        assert kinds[0] is aiohttp.WSMsgType.PING  # the heartbeat asked first
        assert aiohttp.WSMsgType.TEXT not in kinds  # no error frame: nobody to read it
    await asyncio.wait_for(servicer.cancelled.wait(), WAIT)
    assert not servicer.release.is_set()


async def test_shutdown_ends_open_calls(mode: str, session: aiohttp.ClientSession) -> None:
    """Stopping the server does not wait its whole grace period for calls that last as
    long as their clients like: each is cancelled, told UNAVAILABLE, closed 1001."""
    servicer = Servicer()
    local = await start_local(
        servicer,
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        dispatch=mode,
        options=GatewayOptions(websocket=True),
    )
    stopping = None
    try:
        base = f"http://127.0.0.1:{local.http_port}"
        async with (
            session.ws_connect(base + "/double") as busy,
            session.ws_connect(base + "/double") as idle,
        ):
            await busy.send_str(json.dumps({"value": HOLD}))
            assert await frame(busy) == {"result": {"value": "10"}}
            stopping = asyncio.create_task(local.stop())
            for ws in (busy, idle):
                assert await frame(ws) == {
                    "error": {"code": 14, "message": "the server is shutting down", "details": []}
                }
                assert await closed(ws) == 1001
            await asyncio.wait_for(servicer.cancelled.wait(), WAIT)
            await asyncio.wait_for(stopping, WAIT)
    finally:
        if stopping is None:
            await local.stop()


class BrokenPeer:
    """A server's side of a socket (:class:`grpcgw.wssession.Peer`) that delivers one
    request frame, then fails (as a server holding the socket might) once the reply
    to it was sent."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.replied = asyncio.Event()
        self.close_codes: list[int] = []
        self._frames = [b'{"value": 1}']

    async def receive(self) -> tuple[int, bytes]:
        from grpcgw.wssession import TEXT

        if self._frames:
            return TEXT, self._frames.pop(0)
        await asyncio.wait_for(self.replied.wait(), WAIT)
        raise RuntimeError("socket state 0x7f3a: broken")

    async def send(self, frame: bytes) -> None:
        self.sent.append(frame)
        self.replied.set()

    async def close(self, code: int) -> None:
        self.close_codes.append(code)


async def test_an_internal_error_reading_frames_is_1011_and_one_log_line(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """The reader's internal-error path: the client is told ``INTERNAL`` with the
    gateway's generic message and 1011, the log gets one line with the traceback."""
    caplog.set_level(logging.DEBUG)
    gateway = await backend.gateway(Servicer(), options=GatewayOptions(websocket=True))
    match = gateway.websocket_match("/double")
    assert match is not None
    call = gateway.open_websocket(HttpRequest("GET", "/double"), match)
    peer = BrokenPeer()
    await asyncio.wait_for(call.run(peer), WAIT)
    assert [json.loads(f) for f in peer.sent] == [
        {"result": {"value": "2"}},
        {"error": {"code": 13, "message": "internal gateway error", "details": []}},
    ]
    assert peer.close_codes == [1011]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [(r.name, r.getMessage()) for r in errors] == [
        ("grpcgw", "internal error reading a WebSocket on '/double'")
    ]
    assert errors[0].exc_info is not None
    assert "0x7f3a" in caplog.text  # the log has it; the client's frames do not
    assert not any(b"0x7f3a" in f or b"Traceback" in f for f in peer.sent)


# -- the handshake ------------------------------------------------------------------------------


async def handshake(
    session: aiohttp.ClientSession, url: str, **headers: str
) -> aiohttp.ClientResponse:
    """A WebSocket handshake sent as a plain GET, to read a refusal's body."""
    return await session.get(
        url,
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            **headers,
        },
    )


async def test_origin_of_another_site_is_refused(
    start: Start, session: aiohttp.ClientSession
) -> None:
    base, _ = await start(Servicer())
    async with await handshake(session, base + "/double", Origin="https://evil.example") as resp:
        assert resp.status == 403
        assert await resp.json() == {
            "code": 7,
            "message": "WebSocket handshake from origin 'https://evil.example' refused: not "
            "this host, nor allowed by GatewayOptions.cors",
            "details": [],
        }
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await session.ws_connect(base + "/double", origin="https://evil.example")
    assert refused.value.status == 403
    # The gateway's own pages, and clients that are not browsers (no Origin), are let in.
    async with session.ws_connect(base + "/count/1", origin=base) as ws:
        assert await frame(ws) == {"result": {"value": "0"}}
    async with session.ws_connect(base + "/count/1") as ws:
        assert await frame(ws) == {"result": {"value": "0"}}


async def test_origin_allowed_by_cors(start: Start, session: aiohttp.ClientSession) -> None:
    cors = CorsOptions(allow_origins=["https://app.example"])
    base, _ = await start(Servicer(), options=GatewayOptions(websocket=True, cors=cors))
    async with session.ws_connect(base + "/count/1", origin="https://app.example") as ws:
        assert await frame(ws) == {"result": {"value": "0"}}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await session.ws_connect(base + "/count/1", origin="https://other.example")
    assert refused.value.status == 403


async def test_handshake_headers_are_call_metadata(
    start: Start, session: aiohttp.ClientSession
) -> None:
    recorder = Recorder()
    base, _ = await start(Servicer(), interceptors=[recorder])
    async with session.ws_connect(
        base + "/double", headers={"Authorization": "Bearer s3cret", "Grpc-Metadata-Tenant": "t1"}
    ) as ws:
        await ws.send_str('{"value": 1}')
        assert await frame(ws) == {"result": {"value": "2"}}
    (seen,) = [m for m in recorder.seen if "authorization" in m]
    assert seen["authorization"] == "Bearer s3cret"
    assert seen["tenant"] == "t1"


def token_protocol(token: bytes) -> str:
    """The subprotocol a page offers its bearer token as (base64url, no padding)."""
    return TOKEN_PREFIX + base64.urlsafe_b64encode(token).decode().rstrip("=")


async def test_bearer_token_subprotocol_is_authorization(
    start: Start, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """What a page's ``new WebSocket(url, ["grpcgw.v1", token])`` sends: the token
    reaches an auth interceptor as ``authorization``, the answer selects ``grpcgw.v1``,
    and no log line carries the token."""
    caplog.set_level(logging.DEBUG)  # every logger, the access log included
    access = AccessLines()
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(access)
    recorder = Recorder()
    token = "eyJhbGciOi.J9-_x~y+z/w=="  # every character RFC 6750 allows
    offered = token_protocol(token.encode())
    try:
        base, _ = await start(Servicer(), interceptors=[recorder])
        async with session.ws_connect(base + "/double", protocols=(offered, SUBPROTOCOL)) as ws:
            assert ws.protocol == SUBPROTOCOL  # never the token
            await ws.send_str('{"value": 1}')
            assert await frame(ws) == {"result": {"value": "2"}}
            await ws.send_str("EOF")
            assert await closed(ws) == 1000
        await asyncio.wait_for(access.call.wait(), WAIT)
    finally:
        logger.removeHandler(access)
    (seen,) = [m for m in recorder.seen if "authorization" in m]
    assert seen["authorization"] == "Bearer " + token
    # What an Authorization header makes; the subprotocol header is not sent on.
    holding = sorted(key for key, value in seen.items() if token in str(value))
    assert holding == ["authorization", "grpcgateway-authorization"]
    assert access.lines[-1][2:4] == (101, "OK")
    assert token not in caplog.text
    assert offered not in caplog.text


async def test_authorization_header_wins_over_a_token_subprotocol(
    start: Start, session: aiohttp.ClientSession
) -> None:
    recorder = Recorder()
    base, _ = await start(Servicer(), interceptors=[recorder])
    async with session.ws_connect(
        base + "/count/1",
        headers={"Authorization": "Bearer from-header"},
        protocols=(SUBPROTOCOL, token_protocol(b"from-protocol")),
    ) as ws:
        assert ws.protocol == SUBPROTOCOL
        assert await frame(ws) == {"result": {"value": "0"}}
    (seen,) = [m for m in recorder.seen if "authorization" in m]
    assert seen["authorization"] == "Bearer from-header"


async def test_other_subprotocols_select_grpcgw_or_nothing(
    start: Start, session: aiohttp.ClientSession
) -> None:
    base, _ = await start(Servicer())
    async with session.ws_connect(base + "/count/1", protocols=("chat", SUBPROTOCOL)) as ws:
        assert ws.protocol == SUBPROTOCOL
        assert await frame(ws) == {"result": {"value": "0"}}
    async with session.ws_connect(base + "/count/1", protocols=("chat",)) as ws:
        assert ws.protocol is None  # as before: the gateway speaks no "chat"
        assert await frame(ws) == {"result": {"value": "0"}}


@pytest.mark.parametrize(
    ("protocols", "message"),
    [
        (
            f"{SUBPROTOCOL}, {TOKEN_PREFIX}not*base64",
            f"bearer token subprotocol: not base64url after {TOKEN_PREFIX!r}",
        ),
        (
            f"{SUBPROTOCOL}, {TOKEN_PREFIX}" + base64.urlsafe_b64encode(b"two words").decode(),
            "bearer token subprotocol: the decoded token is not an RFC 6750 bearer token",
        ),
        (
            f"{SUBPROTOCOL}, {TOKEN_PREFIX}dG9rMQ, {TOKEN_PREFIX}dG9rMg",
            "more than one bearer token subprotocol",
        ),
        (
            f"{TOKEN_PREFIX}dG9rMQ",
            f"a bearer token subprotocol must be offered with {SUBPROTOCOL!r}, "
            "the subprotocol the answer selects",
        ),
    ],
)
async def test_bad_token_subprotocol_is_refused(
    start: Start, session: aiohttp.ClientSession, protocols: str, message: str
) -> None:
    base, _ = await start(Servicer())
    headers = {"Sec-WebSocket-Protocol": protocols}
    async with await handshake(session, base + "/double", **headers) as resp:
        assert resp.status == 400
        assert await resp.json() == {"code": 3, "message": message, "details": []}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await session.ws_connect(base + "/double", headers=headers)
    assert refused.value.status == 400


class Hook:
    """A ``response_hook`` that records what it is called with and adds a header
    (and headers that are the handshake's own, which must not reach its answer)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, object, bool]] = []

    def __call__(
        self, request: HttpRequest, response: HttpResponse, reply: object
    ) -> HttpResponse | None:
        self.calls.append((request.path, response.status, reply, response.stream is None))
        response.headers.append(("X-Hook", "seen"))
        if response.status == 101:
            response.headers += [
                ("Sec-WebSocket-Protocol", "chat"),
                ("Connection", "close"),
                ("Content-Length", "5"),
            ]
        return None


async def test_response_hook_shapes_the_handshakes_answer_once(
    start: Start, session: aiohttp.ClientSession
) -> None:
    """As for a server stream's HTTP response, the hook is called once per call, for
    the answer (the 101), with no reply; never for the frames."""
    hook = Hook()
    base, _ = await start(Servicer(), response_hook=hook)
    answers: list[aiohttp.ClientResponse] = []

    async def on_end(_: object, __: object, params: aiohttp.TraceRequestEndParams) -> None:
        answers.append(params.response)

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    async with (
        aiohttp.ClientSession(trace_configs=[trace]) as traced,
        traced.ws_connect(base + "/double") as ws,
    ):
        for value in (1, 2, 3):
            await ws.send_str(json.dumps({"value": value}))
            assert await frame(ws) == {"result": {"value": str(2 * value)}}
        await ws.send_str("EOF")
        assert await closed(ws) == 1000
    [answer] = answers
    assert answer.status == 101
    assert answer.headers.getall("X-Hook") == ["seen"]
    # What the handshake owns stays the handshake's (no subprotocol was offered).
    assert "Sec-WebSocket-Protocol" not in answer.headers
    assert answer.headers["Connection"].lower() == "upgrade"
    assert "Content-Length" not in answer.headers
    assert hook.calls == [("/double", 101, None, True)]
    # The same server stream over HTTP: one call too, for its response.
    async with session.get(base + "/count/3") as resp:
        assert resp.status == 200
        assert resp.headers.getall("X-Hook") == ["seen"]
        assert len((await resp.read()).splitlines()) == 3
    assert hook.calls[1:] == [("/count/3", 200, None, False)]


async def test_response_hook_may_answer_the_handshake_otherwise(
    start: Start, session: aiohttp.ClientSession
) -> None:
    recorder = Recorder()

    def refuse(request: HttpRequest, response: HttpResponse, reply: object) -> HttpResponse:
        return HttpResponse(403, [("Content-Type", "text/plain")], b"not today")

    base, _ = await start(Servicer(), response_hook=refuse, interceptors=[recorder])
    async with await handshake(session, base + "/double") as resp:
        assert (resp.status, await resp.read()) == (403, b"not today")
        assert "Upgrade" not in resp.headers
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await session.ws_connect(base + "/double")
    assert refused.value.status == 403
    assert recorder.seen == []  # no call was made


async def test_a_response_hook_that_raises_answers_the_handshake_500(
    start: Start, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: HttpRequest, response: HttpResponse, reply: object) -> None:
        raise RuntimeError("hook bug 1234")

    recorder = Recorder()
    base, _ = await start(Servicer(), response_hook=broken, interceptors=[recorder])
    async with await handshake(session, base + "/double") as resp:
        assert resp.status == 500
        assert await resp.json() == {"code": 13, "message": "internal gateway error", "details": []}
    assert recorder.seen == []
    assert "hook bug 1234" in caplog.text  # in the server's log, never to the client


async def test_no_upgrade_where_it_does_not_apply(
    start: Start, session: aiohttp.ClientSession
) -> None:
    base, _ = await start(Servicer())
    # A unary binding: the handshake is a plain request (here a GET on a PUT route: 405).
    async with await handshake(session, base + "/files/a") as resp:
        assert resp.status == 405
    # An HttpBody stream is not served over WebSocket: the stream answers as HTTP.
    async with await handshake(session, base + "/download/1") as resp:
        assert (resp.status, resp.headers["Content-Type"]) == (200, "image/png")


async def test_option_off_no_upgrade(start: Start, session: aiohttp.ClientSession) -> None:
    base, _ = await start(Servicer(), options=GatewayOptions())
    async with await handshake(session, base + "/count/2") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/x-ndjson"
        assert [json.loads(line) for line in (await resp.read()).splitlines()] == [
            {"result": {"value": "0"}},
            {"result": {"value": "1"}},
        ]
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await session.ws_connect(base + "/double")


# -- the other front ends ---------------------------------------------------------------------


async def test_grpcgw_web_app_on_its_own_runner(backend: Backend, aiohttp_client: Any) -> None:
    """``create_app`` served by aiohttp's own runner (no grpcgw server, no handler
    cancellation): the transport is the same."""
    servicer = Servicer()
    gateway = await backend.gateway(servicer, options=GatewayOptions(websocket=True))
    client = await aiohttp_client(create_app(gateway))
    async with client.ws_connect("/double") as ws:
        for value in (3, 4):
            await ws.send_str(json.dumps({"value": value}))
            assert await frame(ws) == {"result": {"value": str(2 * value)}}
        await ws.send_str("EOF")
        assert await closed(ws) == 1000
    async with client.ws_connect("/double") as ws:
        await ws.send_str(json.dumps({"value": HOLD}))
        assert await frame(ws) == {"result": {"value": "10"}}
    await asyncio.wait_for(servicer.cancelled.wait(), WAIT)


async def test_the_proxy_serves_it(session: aiohttp.ClientSession) -> None:
    """``grpcgw proxy --websocket`` in front of a server it learns by reflection: its
    request messages are of the proxy's own descriptor pool."""
    from grpcgw.proxy._config import load_config
    from grpcgw.proxy._serve import start_proxy
    from grpcgw.settings import Layer

    backend = await start_local(Servicer(), http_address="127.0.0.1:0", grpc_address="127.0.0.1:0")
    try:
        given = {
            "target": f"127.0.0.1:{backend.grpc_port}",
            "http_address": "127.0.0.1:0",
            "reflect": True,
            "websocket": True,
        }
        config, _ = load_config(Layer(given, {"websocket": "--websocket"}), {})
        proxy = await start_proxy(config)
        try:
            base = f"http://127.0.0.1:{proxy.http_port}"
            async with session.ws_connect(base + "/double") as ws:
                await ws.send_str('{"value": 21}')
                assert await frame(ws) == {"result": {"value": "42"}}
                await ws.send_str("EOF")
                assert await closed(ws) == 1000
            async with session.ws_connect(base + "/sum") as ws:
                await ws.send_str('{"value": 1}\n')
                await ws.send_str('{"value": 2}')
                await ws.send_str("EOF")
                assert await frame(ws) == {"result": {"value": "3"}}
                assert await closed(ws) == 1000
        finally:
            await proxy.stop()
    finally:
        await backend.stop()


# -- the pure parts: the rules and the feed -------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "host", "same"),
    [
        ("http://app.example", "app.example", True),
        ("https://app.example", "app.example", True),  # TLS ended by a proxy in front
        ("https://app.example", "app.example:443", True),
        ("http://app.example:80", "APP.example", True),
        ("http://127.0.0.1:8080", "127.0.0.1:8080", True),
        ("http://127.0.0.1:8081", "127.0.0.1:8080", False),
        ("https://app.example.evil", "app.example", False),
        ("https://evil.example", "app.example", False),
        ("null", "app.example", False),
        ("file://", "app.example", False),
        ("http://app.example", None, False),
        ("http://[::1", "app.example", False),  # malformed
    ],
)
def test_same_origin(origin: str, host: str | None, same: bool) -> None:
    from grpcgw.wsframes import same_origin

    assert same_origin(origin, host) is same


def test_upgrade_and_verb_rules() -> None:
    from grpcgw.wsframes import wants_upgrade, websocket_methods

    assert wants_upgrade("GET", [("upgrade", "WebSocket")])
    assert wants_upgrade("GET", [("Upgrade", "h2c, websocket")])
    assert not wants_upgrade("POST", [("Upgrade", "websocket")])
    assert not wants_upgrade("GET", [("Upgrade", "h2c")])
    assert not wants_upgrade("GET", [])
    assert websocket_methods(("PUT", "POST", "LIST", "GET", "ARCHIVE")) == [
        "GET",
        "POST",
        "PUT",
        "ARCHIVE",
        "LIST",
    ]


def test_subprotocol_rules() -> None:
    from grpcgw.wsframes import Subprotocols, negotiate

    header = "Sec-WebSocket-Protocol"
    assert negotiate([]) == Subprotocols(None, None)
    assert negotiate([(header, "chat")]) == Subprotocols(None, None)
    # Several headers, spaces, and padding on the token are all taken.
    offered = [("sec-websocket-protocol", "chat"), (header, f" {TOKEN_PREFIX}YS5i= ,grpcgw.v1")]
    assert negotiate(offered) == Subprotocols(SUBPROTOCOL, "a.b")
    assert negotiate([(header, SUBPROTOCOL)]) == Subprotocols(SUBPROTOCOL, None)
    assert negotiate([(header, f"{SUBPROTOCOL},{TOKEN_PREFIX}YQ")]).token == "a"
    # Empty, a NUL byte, too much padding, a non-ASCII token ("é").
    for bad in ("", "AA", "YS5i===", "w6k"):
        with pytest.raises(ValueError, match="bearer token subprotocol"):
            negotiate([(header, f"{SUBPROTOCOL},{TOKEN_PREFIX}{bad}")])


def test_the_headers_a_response_hook_may_give_the_101() -> None:
    from grpcgw.wsframes import answer_headers

    given = [
        ("Set-Cookie", "a=1"),
        ("upgrade", "h2c"),
        ("CONNECTION", "close"),
        ("Keep-Alive", "timeout=5"),
        ("Sec-WebSocket-Extensions", "permessage-deflate"),
        ("sec-websocket-accept", "x"),
        ("Content-Length", "5"),
        ("Transfer-Encoding", "chunked"),
        ("Strict-Transport-Security", "max-age=60"),
        ("Set-Cookie", "b=2"),
    ]
    assert answer_headers(given) == [
        ("Set-Cookie", "a=1"),
        ("Strict-Transport-Security", "max-age=60"),
        ("Set-Cookie", "b=2"),
    ]


async def test_feed_holds_one_message_and_makes_the_producer_wait() -> None:
    from grpcgw.feed import MessageFeed

    feed = MessageFeed()
    await feed.put(stream_pb2.Num(value=1))
    second = asyncio.create_task(feed.put(stream_pb2.Num(value=2)))
    for _ in range(5):
        await asyncio.sleep(0)  # turns of the loop, no waiting: the put cannot finish
    assert not second.done()
    assert (await feed.__anext__()).value == 1
    await asyncio.wait_for(second, WAIT)  # room again: the second goes in
    ended = asyncio.create_task(feed.end())
    assert (await feed.__anext__()).value == 2
    await asyncio.wait_for(ended, WAIT)
    assert await feed.next_or_none() is None
    assert await feed.next_or_none() is None  # ends for every later read too
    assert feed.taken == 2


async def test_feed_close_drops_what_waits_and_wakes_a_thread() -> None:
    from grpcgw.feed import MessageFeed

    feed = MessageFeed()
    reading = asyncio.create_task(asyncio.to_thread(feed.next_blocking))
    await feed.put(stream_pb2.Num(value=7))
    assert (await asyncio.wait_for(reading, WAIT)).value == 7
    reading = asyncio.create_task(asyncio.to_thread(feed.next_blocking))
    feed.close()
    assert await asyncio.wait_for(reading, WAIT) is None
    await feed.put(stream_pb2.Num(value=8))  # a late message is not read
    feed.close()
    assert await feed.next_or_none() is None
