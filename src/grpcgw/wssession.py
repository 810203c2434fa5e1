"""One streaming call over a WebSocket: the gateway's side of it, apart from the server.

:meth:`grpcgw.Gateway.open_websocket` checks a handshake (its ``Origin``, the
metadata its headers make) and returns a :class:`WebSocketCall`; the server
that holds the socket (:mod:`grpcgw.web`, over aiohttp's ``WebSocketResponse``)
answers the handshake and hands :meth:`WebSocketCall.run` a :class:`Peer`:
receive a frame, send a frame, close. Everything else is here, and knows
nothing of aiohttp: the rules are in :mod:`grpcgw.wsframes`.

Two tasks run the call: the *reader* turns each client frame into a request
message and puts it in a :class:`~grpcgw.feed.MessageFeed` (waiting for room:
at most one message is read ahead of the call), the *caller* makes the call
and sends each reply as it comes (waiting for the socket: a client that reads
slowly holds the call, down to gRPC's flow control). Whichever ends first ends
the other: the call's end closes the socket, the client's close or a bad frame
cancels the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from time import perf_counter
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol

from google.protobuf.message import Message

# The driver is loaded by then: it imports this module when it opens a WebSocket call.
from grpcgw.driver import _request_message, _transcode
from grpcgw.errors import Code, GatewayError, bad_request
from grpcgw.exchange import HttpResponse
from grpcgw.feed import MessageFeed
from grpcgw.streaming import WebSocketFrames
from grpcgw.transcode import TranscodeError
from grpcgw.wsframes import (
    END,
    GOING_AWAY,
    INTERNAL_ERROR,
    INVALID_DATA,
    NORMAL,
    POLICY_VIOLATION,
    UNSUPPORTED_DATA,
)

if TYPE_CHECKING:
    from grpcgw.driver import Driver
    from grpcgw.exchange import HttpRequest
    from grpcgw.gateway import Route
    from grpcgw.invoker import Metadata, Requests
    from grpcgw.routing import Match

log = logging.getLogger("grpcgw")

#: What :meth:`Peer.receive` returns: a text frame, a binary frame, the socket closed.
TEXT: Final = 1
BINARY: Final = 2
CLOSED: Final = 8

_FRAMES: Final = WebSocketFrames()
_INTERNAL_TEXT = "internal gateway error"


class Peer(Protocol):
    """The client's end of an accepted WebSocket, as the server holding it offers it."""

    async def receive(self) -> tuple[int, bytes]:
        """The next data frame, ``(TEXT | BINARY, payload)``; ``(CLOSED, b"")`` once the
        client closed the socket or went away (pings and pongs are the server's)."""
        ...

    async def send(self, frame: bytes) -> None:
        """Send one text frame; raises :class:`ConnectionError` when the client is gone."""
        ...

    async def close(self, code: int) -> None:
        """Close the socket with ``code`` (a no-op once closed)."""
        ...


class _Refused(NamedTuple):
    """Why the reader stopped taking frames: the error to tell, the close code."""

    error: GatewayError
    close_code: int


class WebSocketCall:
    """A handshake the gateway accepts, and the call it opens once answered."""

    __slots__ = (
        "_away",
        "_driver",
        "_match",
        "_metadata",
        "_request",
        "_route",
        "_start",
        "_timeout",
        "answer",
        "subprotocol",
    )

    def __init__(
        self,
        driver: Driver,
        request: HttpRequest,
        match: Match[Route],
        metadata: Metadata,
        timeout: float | None,
        subprotocol: str | None = None,
        answer: HttpResponse | None = None,
    ) -> None:
        #: The subprotocol the handshake's answer selects (``None``: none).
        self.subprotocol = subprotocol
        #: The handshake's answer as ``response_hook`` shaped it: ``101`` and the
        #: headers it carries besides the handshake's own, or (:meth:`refusal`)
        #: another response to send instead.
        self.answer = HttpResponse(101) if answer is None else answer
        self._driver = driver
        self._request = request
        self._match = match
        self._route = match.target
        self._metadata = metadata
        self._timeout = timeout
        self._start = perf_counter()
        self._away = asyncio.Event()

    def _wanted(self) -> int | None:
        """How many request messages the client sends: any (a client stream), one
        (the body of a method that takes one request), or none (its binding has no
        body: the path and query make the request, and the call starts at once)."""
        route = self._route
        if route.spec.client_streaming:
            return None
        return 1 if route.request.plan.has_body else 0

    def refusal(self) -> HttpResponse | None:
        """The response ``response_hook`` returned instead of the ``101`` (another
        status), logged, to send instead of answering the handshake; ``None`` to
        answer it. The call is then never made."""
        answer = self.answer
        if answer.status == 101:
            return None
        self._driver.log(self._request, self._route, answer, Code.OK, self._start)
        return answer

    def shut_down(self) -> None:
        """End the call now, the server is stopping: it is cancelled, the client told
        ``UNAVAILABLE`` and the socket closed with :data:`GOING_AWAY`. A call over a
        WebSocket lasts as long as its client likes, which no grace period waits for."""
        self._away.set()

    async def run(self, peer: Peer) -> None:
        """Serve the call over ``peer`` until it ends; never raises for what the client
        or the server did (a cancellation of the serving task is passed on)."""
        feed = MessageFeed()
        wanted = self._wanted()
        sent = [0]
        reader = asyncio.create_task(self._read(peer, feed, wanted))
        caller = asyncio.create_task(self._call(peer, feed, wanted, sent))
        away = asyncio.create_task(self._away.wait())
        code = Code.CANCELLED
        try:
            await asyncio.wait((reader, caller, away), return_when=asyncio.FIRST_COMPLETED)
            error: GatewayError | None = None
            close_code = NORMAL
            if caller.done():  # the call ended: tell how, and close
                reader.cancel()
                if isinstance(caller.exception(), ConnectionError):
                    return  # the client went away while a reply was sent
                error = caller.result()
                code = Code.OK if error is None else error.code
            elif reader.done():  # the client closed, or sent what ends the call
                caller.cancel()
                await _settle(caller)
                if reader.exception() is not None:
                    log.error(
                        "internal error reading a WebSocket on %.200r",
                        self._request.path,
                        exc_info=reader.exception(),
                    )
                    failure = GatewayError(Code.INTERNAL, _INTERNAL_TEXT)
                    refused: _Refused | None = _Refused(failure, INTERNAL_ERROR)
                else:
                    refused = reader.result()
                if refused is None:
                    return
                error, close_code = refused
                code = error.code
            else:  # the server is stopping
                reader.cancel()
                caller.cancel()
                await _settle(caller)
                error = GatewayError(Code.UNAVAILABLE, "the server is shutting down")
                code, close_code = error.code, GOING_AWAY
            with contextlib.suppress(ConnectionError):
                if error is not None:
                    frame = self._driver.error_frame(self._request, error, _FRAMES)
                    await peer.send(frame)
                    sent[0] += len(frame)
                await peer.close(close_code)
        finally:
            for task in (reader, caller, away):
                task.cancel()
            feed.close()  # wakes a handler thread waiting for a message
            # Logged before waiting: the server cancels this task once the connection
            # closes, which may well be while it waits for its own tasks to end.
            self._log(code, sent[0])
            for task in (reader, caller, away):
                await _settle(task)

    async def _read(self, peer: Peer, feed: MessageFeed, wanted: int | None) -> _Refused | None:
        """Take the client's frames until it closes (``None``) or sends one the call
        cannot take (what to tell it)."""
        route, match, request = self._route, self._match, self._request
        count = 0
        ended = False
        while True:
            kind, data = await peer.receive()
            if kind == CLOSED:
                return None
            if kind != TEXT:
                error = GatewayError(
                    Code.INVALID_ARGUMENT, "binary frame: send each request message as JSON text"
                )
                return _Refused(error, UNSUPPORTED_DATA)
            if data == END and not ended:
                ended = True
                if wanted is None or (wanted == 1 and count == 0):
                    await feed.end()
                continue
            if not data.strip():
                continue  # as a blank NDJSON line
            if ended or (wanted is not None and count >= wanted):
                if ended:
                    text = "a request message after EOF"
                elif wanted:
                    text = f"{route.rpc} takes one request message"
                else:
                    text = f"{route.rpc} takes its request from the URL, not from frames"
                return _Refused(GatewayError(Code.INVALID_ARGUMENT, text), POLICY_VIOLATION)
            count += 1
            try:
                message = _transcode(route, match, request, data)
            except TranscodeError as exc:
                # As for an NDJSON line: the violations name fields of message ``count``.
                error = bad_request(f"request stream message {count}: {exc}", exc.fields)
                return _Refused(error, INVALID_DATA)
            await feed.put(message)  # waits until the call took the one before

    async def _call(
        self, peer: Peer, feed: MessageFeed, wanted: int | None, sent: list[int]
    ) -> GatewayError | None:
        """Make the call and send its replies; its failure, or ``None`` for OK. Raises
        :class:`ConnectionError` when the client went away while a reply was sent."""
        driver, route = self._driver, self._route
        spec = route.spec
        try:
            payload: Requests
            if wanted is None:
                payload = feed
            elif wanted:
                first = await feed.next_or_none()
                if first is None:
                    return GatewayError(
                        Code.INVALID_ARGUMENT, f"EOF before the request message of {route.rpc}"
                    )
                payload = first
            else:
                payload = _request_message(route, self._match, self._request, b"")
            invoker = driver._invoker or driver._open()
            if spec.server_streaming:
                stream = invoker.stream(
                    spec, payload, metadata=self._metadata, deadline=self._timeout
                )
                try:
                    while (reply := await stream.next()) is not None:
                        await self._send(peer, reply, sent)
                finally:
                    stream.cancel()  # a no-op once it ended
            else:
                result = await invoker.unary(
                    spec, payload, metadata=self._metadata, deadline=self._timeout
                )
                await self._send(peer, result.message, sent)
            return None
        except GatewayError as exc:
            return exc
        except ConnectionError:
            raise
        except Exception:
            log.exception("internal error serving a WebSocket on %.200r", self._request.path)
            return GatewayError(Code.INTERNAL, _INTERNAL_TEXT)

    async def _send(self, peer: Peer, reply: Message, sent: list[int]) -> None:
        route = self._route
        body = self._driver._render(route.stream_response, route, reply)[0]
        frame = _FRAMES.message(body)
        await peer.send(frame)
        sent[0] += len(frame)

    def _log(self, code: Code, bytes_out: int) -> None:
        self._driver.log_websocket(self._request, self._route, code, self._start, bytes_out)


async def _settle(task: asyncio.Task[Any]) -> None:
    """Wait for a task that was cancelled or ended (its outcome is not wanted)."""
    if not task.done():
        await asyncio.wait((task,))
    if not task.cancelled():
        task.exception()  # retrieved: asyncio does not log it as never retrieved
