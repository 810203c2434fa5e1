"""Serving an aiohttp application at the edge, within :class:`~grpcgw.limits.HttpLimits`.

aiohttp's server has a keep-alive timer, header size limits and handler
cancellation, but no header-read timeout, no write timeout, no connection
limit, answers what its parser rejects as ``text/plain`` and logs each with a
traceback, and asyncio logs a traceback per ``accept()`` that fails for want
of file descriptors. This module adds what is missing at the layer it belongs
to, without patching aiohttp:

- :class:`_EdgeHandler`, a ``RequestHandler`` subclass (the per-connection
  protocol): the header timeout, the send timeout (armed only while the
  transport has paused writing for a client that does not read), the
  ``google.rpc.Status`` rendering of parser errors, one rate-limited line
  instead of a traceback;
- the protocol's parser is :class:`grpcgw.edgeparser.EdgeParser` (aiohttp's, fed
  message by message, the head bounded as a whole), and whole simple unary
  requests are answered in the protocol itself by the fast lane
  (:mod:`grpcgw.fastlane`);
- the linger after an answer that ends the connection (a parser error, a 408, a
  refused body): the client's further bytes are read and discarded for a
  bounded time and size, so that the answer reaches it instead of a reset;
- the answer to ``Expect`` on a request no route takes: its 404 or 405, without
  ``100 Continue`` first;
- :class:`EdgeSite`, its own accept loop: counts connections and stops
  accepting at ``max_connections`` (the kernel queues the rest), and waits
  out ``EMFILE``/``ENFILE`` with one rate-limited line.

Body timeouts are enforced where the body is read (:mod:`grpcgw.web`), which
finds the limits on the connection (``request.protocol.limits``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import ssl
import stat
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from aiohttp import hdrs, web, web_protocol
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler, RequestPayloadError
from aiohttp.web_urldispatcher import MatchInfoError

from grpcgw.edgeparser import ANSWER, EdgeParser, classify, error_reason
from grpcgw.errors import Code, status_body
from grpcgw.fastlane import LANE_HOLD, LANE_ROUTER, Lane, make_lane
from grpcgw.http11 import SimpleRequest, render_response, whole_messages
from grpcgw.limits import HttpLimits
from grpcgw.listen import bind_every_address
from grpcgw.logs import RateLimitedLog
from grpcgw.workers import reserve_tcp_port

__all__ = [
    "DECODED_ENCODINGS",
    "SERVER_NAME",
    "EdgeSite",
    "HttpServer",
    "RateLimitedLog",
    "SharedAddress",
    "accepted_encodings",
    "bind_unix",
    "close_after",
    "run_server",
    "share_address",
    "split_address",
    "start_server",
]

log = logging.getLogger("grpcgw")

#: accept() failures that mean "no descriptor or memory left now": wait, then retry.
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
#: accept() failures about one connection that went away before it was accepted.
_CLIENT_GONE = frozenset(
    {errno.ECONNABORTED, errno.EPROTO, errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR}
)
#: Seconds to wait before accepting again when out of descriptors (asyncio's own delay).
_ACCEPT_RETRY = 1.0
#: Seconds to keep discarding what a client still sends after an answer that ends
#: the connection (a 408, a parser error, a refused body), so that the answer reaches
#: it instead of a reset (the kernel resets a connection closed with unread bytes).
_LINGER = 2.0
#: Bytes discarded so at most (counted from the parser error, or from the answer):
#: a client still sending beyond is cut off. Twice the default ``max_request_body``:
#: a client may still be sending a body refused as too large.
_LINGER_BYTES = 8 << 20
#: aiohttp's stand-in request for what its parser refused (answered in HTTP/1.1 here).
_UNPARSED: Any = getattr(web_protocol, "ERROR", None)
#: The ``Server`` header of every answer: no versions (aiohttp's default names
#: Python's and its own), as Envoy says ``envoy``; docs/security.md.
SERVER_NAME = "grpcgw"
#: Descriptors kept for everything but client connections (gRPC, logs, the loop).
_FD_RESERVE = 64
#: The application key of the fast handler's builder (set by ``grpcgw.web.create_app``).
_FAST_HANDLER: Any = (
    web.AppKey("grpcgw.fast_handler", object) if hasattr(web, "AppKey") else "grpcgw.fast_handler"
)


def _remote(peer: Any) -> str | None:
    """``request.remote`` as aiohttp gives it."""
    if peer is None:
        return None
    if isinstance(peer, list | tuple):
        return str(peer[0])
    return str(peer)


def _edge_error(status: int, code: Code, text: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """What :meth:`_EdgeHandler.handle_error` answers for a handler that raised."""
    headers = [
        ("Connection", "close"),
        ("Server", SERVER_NAME),
        ("Content-Type", "application/json"),
    ]
    return status, headers, status_body(code, text)


class _Logs:
    """One server's rate-limited lines, one limiter per kind of event."""

    __slots__ = ("full", "malformed", "out_of_fds", "slow")

    def __init__(self) -> None:
        self.malformed = RateLimitedLog(log, logging.DEBUG)
        self.slow = RateLimitedLog(log, logging.DEBUG)
        self.full = RateLimitedLog(log, logging.INFO)
        self.out_of_fds = RateLimitedLog(log, logging.WARNING)


def _response(status: int, reason: str, code: Code, message: str) -> bytes:
    body = status_body(code, message)
    head = (
        f"HTTP/1.1 {status} {reason}\r\nServer: {SERVER_NAME}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class _EdgeHandler(RequestHandler):
    """aiohttp's per-connection protocol, within :class:`HttpLimits`."""

    __slots__ = (
        "_clean",
        "_discarded",
        "_discarding",
        "_edge_parser",
        "_head_bytes",
        "_head_timer",
        "_lane",
        "_lane_held",
        "_lane_paused",
        "_lane_task",
        "_linger_timer",
        "_logs",
        "_on_lost",
        "_send_timer",
        "limits",
    )

    def __init__(
        self,
        manager: web.Server,
        *,
        loop: asyncio.AbstractEventLoop,
        limits: HttpLimits,
        on_lost: Callable[[], None],
        logs: _Logs,
        lane: Lane | None = None,
    ) -> None:
        super().__init__(
            manager,
            loop=loop,
            # aiohttp's keep-alive timer (armed from the connection's start, then
            # after each response) is the idle timeout; None: one that never fires.
            keepalive_timeout=limits.idle_timeout or 1e9,
            max_line_size=limits.max_request_line,
            max_field_size=limits.max_header_size,
            max_headers=limits.max_headers,
            access_log=None,  # type: ignore[arg-type]  # aiohttp's documented "no access log"
        )
        self.limits = limits
        self._logs = logs
        self._edge_parser = EdgeParser(self._parser, limits)
        self._parser = self._edge_parser  # type: ignore[assignment]
        self._on_lost: Callable[[], None] | None = on_lost
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = False
        self._send_timer: asyncio.TimerHandle | None = None
        #: What the client sends is read and dropped (the parser refused what came, or
        #: the connection lingers after its last answer); _discarded counts it.
        self._discarding = False
        self._discarded = 0
        self._linger_timer: asyncio.TimerHandle | None = None
        self._lane = lane
        #: The lane's request in flight, and what arrived meanwhile (handed on after).
        self._lane_task: asyncio.Task[None] | None = None
        self._lane_held: bytes | None = None
        self._lane_paused = False
        #: Every byte aiohttp's parser got so far ended where a request ends (so the
        #: next packet starts a request: the lane may read it).
        self._clean = True

    # -- header timeout ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_head()  # a new connection owes us a request

    def _arm_head(self) -> None:
        timeout = self.limits.header_timeout
        if timeout is not None:
            self._head_timer = self._loop.call_later(timeout, self._head_timed_out)

    def _disarm_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _waiting_for_request(self) -> bool:
        # What aiohttp's own keep-alive check uses: start() awaits the next message
        # (and no lane request is being served meanwhile).
        waiter = self._waiter
        return waiter is not None and not waiter.done() and self._lane_task is None

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            self._discard(len(data))
            return
        lane = self._lane
        if lane is not None and data:
            if self._lane_task is not None:
                self._hold(data)  # behind the lane's request, in order
                return
            if self._clean and self._lane_takes(lane, data):
                return
            self._clean = self._clean and whole_messages(data)
        # start() awaits _waiter while no request is being served (what aiohttp's
        # own keep-alive check looks at): bytes then begin the next request's head.
        waiter = self._waiter
        starts_head = (
            waiter is not None and not waiter.done() and not self._head_bytes and bool(data)
        )
        super().data_received(data)
        parser = self._edge_parser
        if parser.failed:
            if parser.held is not None:
                super().data_received(b"")  # queue the error behind the requests before it
            # Its answer ends the connection: nothing after it is parsed, or held.
            self._discarding = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            if starts_head:
                # Not a whole head in that packet: the header timeout bounds the rest
                # from now, not the idle timeout (keep_alive() cancels aiohttp's idle
                # timer until the next response). A head in one packet costs no timer.
                self._head_bytes = True
                if self._head_timer is None:
                    self._arm_head()
                if self._head_timer is not None:
                    self.keep_alive(True)
        else:  # a request (or an error to answer) arrived, or is being served
            if self._head_timer is not None:
                self._disarm_head()
            self._head_bytes = False

    # -- the fast lane -----------------------------------------------------------------

    def _lane_takes(self, lane: Lane, data: bytes) -> bool:
        """Serve ``data`` in the lane if it is one whole request the lane answers as
        aiohttp's path would, on a connection aiohttp holds idle; else leave it."""
        waiter = self._waiter
        if (
            waiter is None
            or waiter.done()
            or self._messages
            or self._head_bytes
            or self._close
            or self._force_close
            or self._upgraded
            or self._payload_parser is not None
            or self._edge_parser.failed
        ):
            return False
        request = lane.rules.parse(data)
        if request is None:
            return False
        match = lane.router.route(request.method, request.target, request.headers)
        if match is None:
            return False
        # What aiohttp does as a request arrives (data_received, start()).
        self._request_count += 1
        lane.served += 1
        if self._head_timer is not None:
            self._disarm_head()
        transport = self.transport
        remote = None if transport is None else _remote(transport.get_extra_info("peername"))
        self._lane_task = self._loop.create_task(self._lane_serve(lane, request, match, remote))
        return True

    def _hold(self, data: bytes) -> None:
        held = self._lane_held
        held = self._lane_held = data if held is None else held + data
        if len(held) >= LANE_HOLD and not self._lane_paused:
            self._lane_paused = True  # as aiohttp bounds what it buffers: stop reading
            self._pause_transport_reading()

    async def _lane_serve(
        self, lane: Lane, request: SimpleRequest, match: object, remote: str | None
    ) -> None:
        """One lane request, as aiohttp's start(), _handle_request() and
        finish_response() would serve it through grpcgw's application."""
        manager = self._manager
        assert manager is not None
        manager.requests_count += 1
        self._request_in_progress = True  # RequestHandler.shutdown waits for it
        keep_alive = request.keep_alive
        try:
            try:
                response = await lane.router.serve(match, request, remote)
                status, body = response.status, response.body
                headers = lane.router.reply_headers(response.headers)
                if response.stream is not None:  # pragma: no cover  (unary routes only)
                    raise RuntimeError("a streamed reply in the lane")
            except TimeoutError:
                status, code, text = 504, Code.DEADLINE_EXCEEDED, "request timed out"
                status, headers, body = _edge_error(status, code, text)
                keep_alive = False
            except Exception as exc:
                path = request.target.partition("?")[0]
                log.error("unhandled error serving %s %s", request.method, path, exc_info=exc)
                status, code, text = 500, Code.INTERNAL, "internal server error"
                status, headers, body = _edge_error(status, code, text)
                keep_alive = False
            try:
                data = render_response(
                    status,
                    headers,
                    body,
                    keep_alive=keep_alive,
                    date=lane.date(),
                    software=SERVER_SOFTWARE,
                    server_name=SERVER_NAME,
                )
            except Exception as exc:  # what aiohttp's writer refuses: no answer
                self.log_exception("Unhandled exception", exc_info=exc)
                self.force_close()
                return
            transport = self.transport
            if transport is None or transport.is_closing():
                return  # the client is gone: aiohttp's writer gives up the same way
            transport.write(data)
            self._keepalive = keep_alive
            if self._paused:
                try:
                    await self._drain_helper()  # as the writer's drain after the body
                except ConnectionError:
                    return
        finally:
            self._request_in_progress = False
            waiter = self._handler_waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            self._lane_task = None
        # What start() does after a response: the idle timer from now, or the end.
        if keep_alive and not self._close and not self._force_close:
            loop = self._loop
            close_time = loop.time() + self._keepalive_timeout
            self._next_keepalive_close_time = close_time
            if self._keepalive_handle is None:
                self._keepalive_handle = loop.call_at(close_time, self._process_keepalive)
            held, self._lane_held = self._lane_held, None
            if self._lane_paused:
                self._lane_paused = False
                if not self._reading_paused and not self._buffer_paused:
                    self._resume_transport_reading()
            if held:
                self.data_received(held)
        else:
            self._lane_held = None
            self.close()  # start() returns; what is written is sent, then the close
            transport = self.transport
            if transport is not None:
                transport.close()

    def _process_keepalive(self) -> None:
        if self._lane_task is not None:  # a request is being served: not idle
            self._keepalive_handle = None
            return
        super()._process_keepalive()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        transport = self.transport
        if transport is None or not self._waiting_for_request():
            return
        timeout = self.limits.header_timeout
        self._logs.slow(
            "closing a connection from %s: no complete request within %g s",
            _peer(transport),
            timeout,
        )
        if not self._head_bytes:
            self.force_close()
            return
        message = f"request headers not received within {timeout:g} s"
        transport.write(_response(408, "Request Timeout", Code.DEADLINE_EXCEEDED, message))
        self.linger_close()

    # -- lingering close -----------------------------------------------------------------

    def linger_close(self) -> None:
        """End the connection after what is written, without a reset: close the
        sending side, then read and discard what the client still sends until it
        closes, for at most ``_LINGER`` seconds and ``_LINGER_BYTES`` bytes.

        A connection closed with unread bytes in the kernel's buffer is reset, and
        the reset can overtake the answer (a client still sending a head the parser
        refused would see ``ECONNRESET``, not the 431).
        """
        transport = self.transport
        if transport is None or transport.is_closing() or self._linger_timer is not None:
            return
        self._disarm_head()
        self._discarding = True
        # aiohttp's start() then ends without closing the transport: the linger does.
        self._force_close = True
        try:
            if transport.can_write_eof():  # not over TLS: the linger alone, then
                transport.write_eof()
        except OSError:  # the client is gone already (ENOTCONN after its reset)
            self.force_close()
            return
        self._linger_timer = self._loop.call_later(_LINGER, self.force_close)

    def _discard(self, size: int) -> None:
        self._discarded += size
        if self._discarded > _LINGER_BYTES:
            self.force_close()  # a client still sending that much gets a reset

    # -- send timeout ----------------------------------------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        timeout = self.limits.send_timeout
        if timeout is not None and self._send_timer is None:
            self._send_timer = self._loop.call_later(timeout, self._send_timed_out)

    def resume_writing(self) -> None:
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None
        super().resume_writing()

    def _send_timed_out(self) -> None:
        self._send_timer = None
        transport = self.transport
        if transport is not None:
            self._logs.slow(
                "aborting a connection from %s: it read nothing for %g s",
                _peer(transport),
                self.limits.send_timeout,
            )
            transport.abort()  # the handler is cancelled; a stream's call with it

    # -- end of the connection ---------------------------------------------------------------

    def connection_lost(self, exc: BaseException | None) -> None:
        task = self._lane_task
        manager = self._manager
        if task is not None and manager is not None and manager.handler_cancellation:
            task.cancel()  # the gRPC call with it, as aiohttp cancels its handler
        self._lane_held = None
        self._disarm_head()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        super().connection_lost(exc)
        on_lost, self._on_lost = self._on_lost, None
        if on_lost is not None:
            on_lost()

    # -- errors as google.rpc.Status -------------------------------------------------------

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp's traceback for a failure outside a handler; one quiet line for a client's."""
        exc = kw.get("exc_info")
        if isinstance(exc, RequestPayloadError | HttpProcessingError | ConnectionError):
            self._logs.malformed("connection ended by a bad request: %s", error_reason(exc))
            return
        super().log_exception(*args, **kw)

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """aiohttp's answer to a request it could not parse or a handler that raised.

        What the parser refused is answered in HTTP/1.1 (aiohttp's stand-in request is
        HTTP/1.0), and the connection then lingers (:meth:`linger_close`)."""
        if request.writer.output_size > 0:
            raise ConnectionError("response already started: cannot send an error")
        headers = {"Connection": "close", hdrs.SERVER: SERVER_NAME}
        answer = getattr(exc, ANSWER, None)
        if answer is None and isinstance(exc, HttpProcessingError):
            answer = classify(exc, b"", self.limits)
        if answer is not None:
            http_status, code, text = answer
            self._logs.malformed("answered %d to %s: %s", http_status, request.remote, text)
            if http_status == 415:
                headers["Accept-Encoding"] = accepted_encodings()
            if _UNPARSED is not None and request._message is _UNPARSED:
                request._message = _UNPARSED._replace(version=HttpVersion11)
                if hasattr(request, "_version"):  # aiohttp keeps its own copy
                    request._version = HttpVersion11
            refusal = _LingeringResponse(
                status=http_status,
                body=status_body(code, text),
                content_type="application/json",
                headers=headers,
            )
            refusal.force_close()
            refusal.then = self.linger_close
            return refusal
        if status == 504:
            http_status, code, text = 504, Code.DEADLINE_EXCEEDED, "request timed out"
        else:
            http_status, code, text = 500, Code.INTERNAL, "internal server error"
            log.error("unhandled error serving %s %s", request.method, request.path, exc_info=exc)
        response = web.Response(
            status=http_status,
            body=status_body(code, text),
            content_type="application/json",
            headers=headers,
        )
        response.force_close()
        return response


class _LingeringResponse(web.Response):
    """An answer after which the connection lingers: once it is written, ``then``."""

    then: Callable[[], None] | None = None

    async def write_eof(self, data: bytes = b"") -> None:
        await super().write_eof(data)
        then, self.then = self.then, None
        if then is not None:
            then()


async def close_after(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """Send ``response`` now and end the connection: lingering where grpcgw's edge
    serves it (:meth:`_EdgeHandler.linger_close`), else at once."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    protocol = request.protocol
    if isinstance(protocol, _EdgeHandler):
        protocol.linger_close()
    else:
        protocol.force_close()  # the transport sends what is written, then closes


async def _name_server(request: web.Request, response: web.StreamResponse) -> None:
    """Replace aiohttp's versioned ``Server`` header; one the handler set stays."""
    if response.headers.get(hdrs.SERVER) == SERVER_SOFTWARE:
        response.headers[hdrs.SERVER] = SERVER_NAME


def _peer(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer or "a unix socket")


# -- listening and accepting -----------------------------------------------------------------


def split_address(address: str) -> tuple[str, int]:
    """``"[::]:8080"`` -> ``("::", 8080)``; ``"0.0.0.0:80"``, ``"localhost:0"`` alike."""
    host, sep, port = address.rpartition(":")
    # ASCII digits only: int() would also read "\u0668\u0660" (Arabic-Indic) as 80.
    if not sep or not (port.isascii() and port.isdigit()) or not host or int(port) > 65535:
        raise ValueError(f"address {address!r} is not host:port (e.g. [::]:8080 or 127.0.0.1:8080)")
    return host.strip("[]"), int(port)


def accepted_encodings() -> str:
    """The request ``Content-Encoding``s served, for a 415's ``Accept-Encoding``."""
    return ", ".join(sorted(DECODED_ENCODINGS - {"identity"}))


def _decoded_encodings() -> frozenset[str]:
    # What aiohttp's parser decompresses, as far as the installed codecs allow.
    try:
        from aiohttp.compression_utils import HAS_BROTLI, HAS_ZSTD
    except ImportError:  # older aiohttp: gzip and deflate only, for certain
        HAS_BROTLI = HAS_ZSTD = False
    return frozenset(
        {"identity", "gzip", "deflate"}
        | ({"br"} if HAS_BROTLI else set())
        | ({"zstd"} if HAS_ZSTD else set())
    )


#: Request ``Content-Encoding`` values served (the body arrives decoded); others are 415.
DECODED_ENCODINGS = _decoded_encodings()


def _bind_tcp(host: str, port: int, backlog: int, reuse_port: bool = False) -> list[socket.socket]:
    """Listening sockets for ``host`` (every address of it this host has, one port for
    all: :func:`grpcgw.listen.bind_every_address`); with ``reuse_port``,
    ``SO_REUSEPORT`` (``serve_local``'s workers share the port)."""
    sockets = bind_every_address(host, port, reuse_port=reuse_port)
    try:
        for sock in sockets:
            sock.listen(backlog)
            sock.setblocking(False)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def bind_unix(path: str, backlog: int) -> socket.socket:
    """A listening unix socket; a stale socket file is replaced, a live one is not."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(os.stat(path).st_mode):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(path)
            except OSError:
                os.unlink(path)  # nobody listens: a leftover
            else:
                raise OSError(errno.EADDRINUSE, f"a server already listens on {path}")
            finally:
                probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass(frozen=True)
class SharedAddress:
    """An HTTP address every worker of a supervisor listens on, planned before they fork."""

    #: The address, port 0 resolved: what each worker gives :func:`start_server`.
    address: str
    #: Its TCP port (0 for a unix socket).
    port: int
    #: Listening sockets every worker accepts on (``start_server(sockets=)``): a unix
    #: socket, made once. None for TCP, which each worker binds with ``SO_REUSEPORT``.
    sockets: tuple[socket.socket, ...]
    #: What the supervisor keeps open while workers may (re)start: the unix socket, or
    #: the TCP port, bound without listening so that nobody else takes it meanwhile.
    held: tuple[socket.socket, ...]

    def close(self) -> None:
        for sock in self.held:
            sock.close()


def share_address(address: str, backlog: int) -> SharedAddress:
    """Plan ``address`` (``host:port`` or ``unix:/path``) for workers that fork next.

    Raises ``OSError`` naming the address if it cannot be had (a port in use, a
    host that does not resolve, a unix socket another server listens on).
    """
    if address.startswith("unix:"):
        # One listening socket, inherited by every worker (the kernel queues the
        # connections; whichever worker is free accepts).
        sock = bind_unix(address[5:].removeprefix("//"), backlog)
        return SharedAddress(address, 0, (sock,), (sock,))
    host, port = split_address(address)
    port, reserved = reserve_tcp_port(host, port)
    return SharedAddress(f"{address.rpartition(':')[0]}:{port}", port, (), tuple(reserved))


def _descriptor_room() -> int | None:
    """How many client connections the process's descriptor limit leaves room for."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    return max(soft - _FD_RESERVE, soft // 2, 1)


class EdgeSite(web.BaseSite):
    """An aiohttp site with its own accept loop, serving within :class:`HttpLimits`.

    ``address`` is ``host:port`` (``[::1]:8080``, ``0.0.0.0:0``) or
    ``unix:/path/to.sock``; with ``ssl_context`` it serves HTTPS. With
    ``reuse_port`` a TCP address is bound with ``SO_REUSEPORT``; ``sockets``, when
    given, are listening sockets to accept on instead of binding ``address``.
    """

    def __init__(
        self,
        runner: web.BaseRunner,
        address: str,
        limits: HttpLimits,
        ssl_context: ssl.SSLContext | None = None,
        *,
        reuse_port: bool = False,
        sockets: Sequence[socket.socket] = (),
        lane: Lane | None = None,
    ) -> None:
        super().__init__(runner, backlog=limits.backlog)
        self._lane = lane
        self._address = address
        self._limits = limits
        self._ssl = ssl_context
        self._sockets: list[socket.socket] = []
        self._given = list(sockets)
        self._reuse_port = reuse_port
        self._accepting: list[asyncio.Task[None]] = []
        #: TLS handshakes under way (each in a task of its own).
        self._handshakes: set[asyncio.Task[None]] = set()
        self._max: int | None = limits.max_connections
        #: Connections open now.
        self.connections = 0
        self._freed = asyncio.Event()
        self._logs = _Logs()

    @property
    def name(self) -> str:
        return f"{'https' if self._ssl else 'http'}://{self._address}"

    @property
    def sockets(self) -> list[socket.socket]:
        return list(self._sockets)

    async def start(self) -> None:
        await super().start()
        backlog = self._limits.backlog
        if self._given:
            self._sockets = self._given
        elif self._address.startswith("unix:"):
            self._sockets = [bind_unix(self._address[5:].removeprefix("//"), backlog)]
        else:
            host, port = split_address(self._address)
            self._sockets = _bind_tcp(host, port, backlog, self._reuse_port)
        room = _descriptor_room()
        if self._max is not None and room is not None and self._max > room:
            log.info(
                "max_connections %d lowered to %d: the file descriptor limit is %d "
                "(raise it with ulimit -n)",
                self._max,
                room,
                room + _FD_RESERVE,
            )
            self._max = room
        loop = asyncio.get_running_loop()
        self._accepting = [loop.create_task(self._accept(sock)) for sock in self._sockets]

    async def stop(self) -> None:
        for task in self._accepting:
            task.cancel()
        for task in self._accepting:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._accepting = []
        for task in list(self._handshakes):
            task.cancel()
        if self._handshakes:
            await asyncio.gather(*self._handshakes, return_exceptions=True)
        for sock in self._sockets:
            sock.close()
        await super().stop()

    def _lost(self) -> None:
        self.connections -= 1
        self._freed.set()

    async def _room(self) -> None:
        limit = self._max
        while limit is not None and self.connections >= limit:
            self._logs.full(
                "connection limit of %d reached: new connections wait to be accepted", limit
            )
            self._freed.clear()
            await self._freed.wait()

    async def _accept(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        limits = self._limits
        lane = self._lane

        def protocol() -> _EdgeHandler:
            return _EdgeHandler(
                server, loop=loop, limits=limits, on_lost=self._lost, logs=self._logs, lane=lane
            )

        while True:
            await self._room()
            try:
                conn, _ = await loop.sock_accept(sock)
            except OSError as exc:
                if exc.errno in _CLIENT_GONE:
                    continue
                if exc.errno in _OUT_OF_RESOURCES:
                    self._logs.out_of_fds(
                        "cannot accept connections: %s (%d open); "
                        "waiting for one to close (raise the limit with ulimit -n)",
                        exc.strerror,
                        self.connections,
                    )
                else:
                    self._logs.out_of_fds("cannot accept connections: %s", exc)
                self._freed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._freed.wait(), _ACCEPT_RETRY)
                continue
            self.connections += 1
            if self._ssl is None:
                await self._serve(loop, protocol, conn)  # no handshake: done at once
            else:
                # The TLS handshake waits for the client: never in this loop, or one
                # that stays silent stops every other connection being accepted.
                task = loop.create_task(self._serve(loop, protocol, conn))
                self._handshakes.add(task)
                task.add_done_callback(self._handshakes.discard)

    async def _serve(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol: Callable[[], _EdgeHandler],
        conn: socket.socket,
    ) -> None:
        """Hand an accepted connection to a protocol (after the TLS handshake, which
        must end within ``header_timeout``: the client owes a request from the start)."""
        try:
            if self._ssl is None:
                await loop.connect_accepted_socket(protocol, conn)
            else:
                await loop.connect_accepted_socket(
                    protocol,
                    conn,
                    ssl=self._ssl,
                    ssl_handshake_timeout=self._limits.header_timeout,
                )
        except (Exception, asyncio.CancelledError) as exc:  # e.g. the client went away
            log.debug("dropped a connection before serving it: %r", exc)
            conn.close()
            self.connections -= 1
            self._freed.set()
            if isinstance(exc, asyncio.CancelledError):
                raise


class HttpServer:
    """An aiohttp application served within :class:`HttpLimits` (see :func:`start_server`)."""

    def __init__(self, runner: web.AppRunner, site: EdgeSite) -> None:
        self.runner = runner
        self._site = site

    @property
    def port(self) -> int:
        """The first TCP port listened on (useful with port 0); 0 for a unix socket."""
        for sock in self._site.sockets:
            name = sock.getsockname()
            if isinstance(name, tuple):
                return int(name[1])
        return 0

    @property
    def addresses(self) -> list[Any]:
        """The addresses listened on, as ``getsockname()`` gives them."""
        return [sock.getsockname() for sock in self._site.sockets]

    @property
    def connections(self) -> int:
        """Client connections open now."""
        return self._site.connections

    async def stop(self) -> None:
        """Stop accepting, close idle connections, let running requests finish."""
        await self.runner.cleanup()

    async def __aenter__(self) -> HttpServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def start_server(
    app: web.Application,
    address: str = "[::]:8080",
    *,
    limits: HttpLimits | None = None,
    ssl_context: ssl.SSLContext | None = None,
    shutdown_timeout: float = 60.0,
    reuse_port: bool = False,
    sockets: Sequence[socket.socket] = (),
) -> HttpServer:
    """Serve ``app`` on ``address`` within ``limits`` in the running loop
    (HTTPS with ``ssl_context``).

    Handlers are cancelled when their client disconnects (aiohttp's
    ``handler_cancellation``), which cancels the gateway's gRPC call.
    :meth:`HttpServer.stop` gives running handlers ``shutdown_timeout`` seconds.
    ``reuse_port`` and ``sockets`` are :class:`EdgeSite`'s (``serve_local``'s workers).
    """
    if _name_server not in app.on_response_prepare:
        app.on_response_prepare.append(_name_server)
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        handler_cancellation=True,
        shutdown_timeout=shutdown_timeout,
    )
    await runner.setup()
    assert runner.server is not None
    expecting = _expecting(app, runner.server.request_handler)
    # A grpcgw application (web.create_app) brings a leaner request handler, which
    # it gives only where it serves each request as aiohttp's own would (handing
    # requests that carry Expect to ``expecting``).
    fast = app.get(_FAST_HANDLER)
    handler = fast(expecting) if fast is not None else None
    runner.server.request_handler = expecting if handler is None else handler
    limits = limits or HttpLimits()
    lane = _make_lane(app, limits) if handler is not None else None
    try:
        site = EdgeSite(
            runner,
            address,
            limits,
            ssl_context,
            reuse_port=reuse_port,
            sockets=sockets,
            lane=lane,
        )
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return HttpServer(runner, site)


_RequestHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


def _expecting(app: web.Application, handle: _RequestHandler) -> _RequestHandler:
    """``handle`` (aiohttp's handler for ``app``), but a request with ``Expect``
    (HTTP/1.1) that no route of ``app`` takes gets that 404 or 405 (through the
    middlewares, as if it expected nothing), not ``100 Continue`` first: aiohttp's
    stand-in route would invite a body that nobody reads (RFC 9110 10.1.1). The
    connection then ends (lingering), as after the gateway's own refusals."""
    router = app.router
    expect = hdrs.EXPECT

    async def expecting(request: web.BaseRequest) -> web.StreamResponse:
        if not request.headers.get(expect) or request.version < HttpVersion11:
            return await handle(request)
        # The application's requests are web.Request (app._make_request).
        if not isinstance(await router.resolve(cast(web.Request, request)), MatchInfoError):
            return await handle(request)
        headers = request.headers.copy()
        headers.popall(expect)
        plain = request.clone(headers=headers)
        try:
            response = await handle(plain)
        except web.HTTPException as exc:  # no grpcgw middleware: aiohttp's own answer
            if exc.status >= 400:
                await close_after(plain, exc)
            raise
        if response.status >= 400:  # (a middleware may answer paths no route has)
            await close_after(plain, response)
        return response

    return expecting


def _make_lane(app: web.Application, limits: HttpLimits) -> Lane | None:
    """The fast lane for ``app`` (a ``create_app`` application that allows it), or None:
    only while nothing else could change its answers, no ``on_response_prepare`` but
    grpcgw's own (:func:`grpcgw.fastlane.make_lane`)."""
    build = app.get(LANE_ROUTER)
    if build is None or list(app.on_response_prepare) != [_name_server]:
        return None
    return make_lane(build, limits)


def run_server(
    app: web.Application,
    address: str = "[::]:8080",
    *,
    limits: HttpLimits | None = None,
    on_start: Callable[[HttpServer], None] | None = None,
) -> None:
    """Serve ``app`` like :func:`start_server` until SIGINT or SIGTERM (blocks).

    Logging is left as the program set it up (see :func:`grpcgw.logs.configure`).
    """

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
                loop.add_signal_handler(sig, stop.set)
        async with await start_server(app, address, limits=limits) as server:
            if on_start is not None:
                on_start(server)
            await stop.wait()
            log.info("shutting down")

    asyncio.run(serve())
