"""Serving one routed request: the gateway's one place for calls, deadlines,
cancellation and failures.

:class:`Driver` turns a request and its route into a call (request message,
metadata, deadline), awaits the invoker, and turns what comes back into an
:class:`~grpcgw.exchange.HttpResponse`. Whatever goes wrong — a bad request,
the server's status, a reply that cannot be rendered as JSON, a bug in a hook
or in grpcgw — ends here as a ``google.rpc.Status`` response, or as the last
frame of a stream whose framing can carry it: :meth:`Driver.serve` never
raises for what a request or a reply contains. Messages not meant for
clients (an unhandled servicer exception, gRPC's account of a transport
failure) are logged once and replaced by a generic message, unless
``GatewayOptions.expose_internal_errors`` is set.

Every response it answers gets the CORS headers (``GatewayOptions.cors``)
and, with ``access_log``, one access line (:mod:`grpcgw.logs`); a stream's line
is written when the stream ends.

It never suspends except in the invoker's own awaits, so the Lambda handler
can run it with no event loop (:func:`grpcgw.channel.run_blocking`).
"""

from __future__ import annotations

import asyncio
import logging
from array import array
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from time import perf_counter
from typing import TYPE_CHECKING, overload

from google.protobuf.message import Message

from grpcgw.errors import Code, GatewayError, bad_request
from grpcgw.exchange import ErrorHook, HttpRequest, HttpResponse, ResponseHook, error_response
from grpcgw.invoker import Invoker, ResponseStream, UndecodableReply
from grpcgw.logs import AccessLog, RateLimitedLog
from grpcgw.metadata import (
    MAX_TIMEOUT,
    HeaderMatcher,
    MetadataError,
    MetadataTooLarge,
    OutgoingHeaders,
    call_metadata,
)
from grpcgw.options import GatewayOptions
from grpcgw.streaming import Framing, choose_framing, raw_chunks, split_lines
from grpcgw.transcode import ResponseTranscoder, TranscodeError

if TYPE_CHECKING:
    from grpcgw.cors import CorsPolicy
    from grpcgw.gateway import Route
    from grpcgw.routing import Match
    from grpcgw.wssession import WebSocketCall

log = logging.getLogger("grpcgw")

_INTERNAL_ERROR = "internal gateway error"
_CORS_REFUSED = "CORS preflight refused: "
_UNRENDERABLE = "internal error: the reply cannot be rendered as JSON"


class _Entry:
    """What the access line of one request needs, kept until its stream ends."""

    __slots__ = ("done", "route", "start", "status")

    def __init__(self, start: float, route: Route | None) -> None:
        self.start = start
        self.route = route
        self.status = 0
        #: Logged already (or to be logged by someone else): a stream's end skips it.
        self.done = False


class Driver:
    """Makes the calls of one :class:`~grpcgw.Gateway` and renders their outcome."""

    __slots__ = (
        "_access",
        "_compress_min",
        "_connect",
        "_cors",
        "_error_hook",
        "_expose",
        "_invoker",
        "_matcher",
        "_max_body",
        "_outgoing",
        "_owns_invoker",
        "_reply_limit",
        "_response_hook",
        "_timeout",
        "_transport_log",
    )

    def __init__(
        self,
        options: GatewayOptions,
        *,
        invoker: Invoker | None,
        connect: Callable[[], Invoker],
        matcher: HeaderMatcher,
        response_hook: ResponseHook | None,
        error_hook: ErrorHook | None,
        check_reply_size: bool,
        outgoing: OutgoingHeaders | None = None,
        access_log: AccessLog | None = None,
    ) -> None:
        self._invoker = invoker
        #: Opens the gateway's own invoker on first use (when none was given).
        self._connect = connect
        self._owns_invoker = invoker is None
        self._matcher = matcher
        self._response_hook = response_hook
        self._error_hook = error_hook
        self._expose = options.expose_internal_errors
        self._max_body = options.max_request_body
        # Measured here only where no channel the gateway made enforces it.
        self._reply_limit = options.max_response_message if check_reply_size else None
        self._timeout = None if options.timeout is None else min(options.timeout, MAX_TIMEOUT)
        #: ``None`` when off (the default): one attribute check per request.
        self._compress_min = options.compress_min_size
        self._outgoing = outgoing or OutgoingHeaders()
        #: ``None`` when off: one attribute check per request.
        self._access = access_log
        self._cors: CorsPolicy | None = None
        if options.cors is not None:
            # Imported only where CORS is configured: a cold start without it skips it.
            from grpcgw.cors import CorsPolicy

            self._cors = CorsPolicy(options.cors)
        # A backend that is down fails every request: one line per 10 s says so
        # (with a count), not one per request (the access log has each).
        self._transport_log = RateLimitedLog(log, logging.WARNING)

    # -- one request ---------------------------------------------------------------

    async def serve(self, request: HttpRequest, match: Match[Route]) -> HttpResponse:
        """The response to a routed request; never raises for what it or the reply holds."""
        route = match.target
        access = self._access
        entry = None if access is None or not access.enabled() else _Entry(perf_counter(), route)
        code = Code.OK
        try:
            response = await self._exchange(request, match, route, entry)
        except Exception as exc:
            code, response = self._failed(request, exc)
        if self._cors is not None:
            self.add_cors(request, response)
        if self._compress_min is not None:
            response = self.compress(request, response)
        head = request.method == "HEAD" and route.http_method != "HEAD"
        if entry is not None:
            entry.status = response.status
            if response.stream is None or head:
                entry.done = True  # logged here, not when a stream ends
        if head:
            response = await without_body(response)  # HEAD of a GET route: GET's headers only
        if entry is not None and (response.stream is None or head):
            self._log(request, entry, code, len(response.body))
        return response

    def compress(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """``response`` gzipped for ``request`` where ``compress_min_size`` and
        :mod:`grpcgw.compression`'s rules allow (before a HEAD's body is dropped, so
        that its headers are GET's)."""
        if self._compress_min is None:
            return response
        from grpcgw.compression import compress_response

        return compress_response(request.headers, response, self._compress_min)

    async def _exchange(
        self, request: HttpRequest, match: Match[Route], route: Route, entry: _Entry | None
    ) -> HttpResponse:
        if len(request.body) > self._max_body:
            raise GatewayError(
                Code.RESOURCE_EXHAUSTED,
                f"request body of {len(request.body)} bytes exceeds the limit of "
                f"{self._max_body} bytes",
                http_status=413,
            )
        metadata, timeout = self._call_metadata(request)
        invoker = self._invoker or self._open()
        spec = route.spec
        payload: Message | Sequence[Message] = (
            await _request_stream(route, match, request)
            if spec.client_streaming
            else _request_message(route, match, request, request.body)
        )
        if spec.server_streaming:
            stream = invoker.stream(spec, payload, metadata=metadata, deadline=timeout)
            return await self._stream_response(request, route, stream, entry)
        result = await invoker.unary(spec, payload, metadata=metadata, deadline=timeout)
        message = result.message
        if isinstance(message, UndecodableReply):
            raise _undecodable(route, message)
        if self._reply_limit is not None:
            self._check_size(message)
        header_metadata, trailing_metadata = result.header_metadata, result.trailing_metadata
        if header_metadata or trailing_metadata:
            headers, status = self._outgoing(header_metadata, trailing_metadata)
        else:  # what it makes of none
            headers, status = [], None
        if route.health and getattr(message, "status", 1) != 1:  # 1: SERVING
            status = 503
        if status == 204:
            response = HttpResponse(204, headers, b"")
        else:
            try:
                body, content_type = route.response.render(message)
            except Exception as exc:
                raise _unrenderable(route, exc) from None
            headers.insert(0, ("Content-Type", content_type))
            response = HttpResponse(status or 200, headers, body)
        if self._response_hook is None:
            return response
        return self._response_hook(request, response, message) or response

    def open_websocket(self, request: HttpRequest, match: Match[Route]) -> WebSocketCall:
        """The call a WebSocket handshake opens, once its ``Origin`` is checked and its
        headers made metadata; raises :class:`GatewayError` (403, 400, 431, or 500
        for a ``response_hook`` that raised) to answer the handshake with instead
        (see :mod:`grpcgw.wssession`). A bearer token
        offered as a subprotocol becomes ``authorization`` unless the handshake has
        an ``Authorization`` header (:func:`grpcgw.wsframes.negotiate`)."""
        from grpcgw.wsframes import SubprotocolError, negotiate, same_origin
        from grpcgw.wssession import WebSocketCall

        handshake = request  # as the client sent it: what response_hook is given
        origin = host = None
        authorized = False
        for name, value in request.headers:
            lower = name.lower()
            if lower == "origin" and origin is None:
                origin = value
            elif lower == "host" and host is None:
                host = value
            elif lower == "authorization":
                authorized = True
        # Browsers send cookies with cross-origin handshakes, and CORS does not
        # cover them: a page of another site must not open a call in its visitor's name.
        cors = self._cors
        if (
            origin is not None
            and not same_origin(origin, host)
            and (cors is None or cors.allowed_origin(origin) is None)
        ):
            raise GatewayError(
                Code.PERMISSION_DENIED,
                f"WebSocket handshake from origin {origin[:200]!r} refused: not this "
                "host, nor allowed by GatewayOptions.cors",
            )
        try:
            offer = negotiate(request.headers)
        except SubprotocolError as exc:
            raise GatewayError(Code.INVALID_ARGUMENT, str(exc)) from None
        if offer.token is not None:
            # The token travels as the header a client that can set one sends; the
            # subprotocol header itself (the token in it) is no metadata of the call.
            headers = [
                (name, value)
                for name, value in request.headers
                if name.lower() != "sec-websocket-protocol"
            ]
            if not authorized:
                headers.append(("Authorization", f"Bearer {offer.token}"))
            request = replace(request, headers=headers)
        metadata, timeout = self._call_metadata(request)
        answer = self._handshake_answer(handshake)
        return WebSocketCall(self, request, match, metadata, timeout, offer.selected, answer)

    def _handshake_answer(self, request: HttpRequest) -> HttpResponse:
        """The answer to a handshake the gateway accepts: ``101`` with the headers
        ``response_hook`` adds (called once, ``reply`` ``None``, as for a server
        stream's response: the frames are messages, not responses), but those the
        handshake owns; or the response of another status it returns instead. A
        hook that raises answers 500, as for any response."""
        answer = HttpResponse(101)
        hook = self._response_hook
        if hook is None:
            return answer
        try:
            answer = hook(request, answer, None) or answer
        except Exception:
            log.exception("response_hook failed on the WebSocket handshake %.200r", request.path)
            raise GatewayError(Code.INTERNAL, _INTERNAL_ERROR) from None
        if answer.status != 101:
            return answer
        from grpcgw.wsframes import answer_headers

        return HttpResponse(101, answer_headers(answer.headers))

    def log_websocket(
        self, request: HttpRequest, route: Route, code: Code, start: float, bytes_out: int
    ) -> None:
        """The access line of a WebSocket call, at its end (status 101)."""
        access = self._access
        if access is not None and access.enabled():
            entry = _Entry(start, route)
            entry.status = 101
            self._log(request, entry, code, bytes_out)

    def _call_metadata(
        self, request: HttpRequest
    ) -> tuple[list[tuple[str, str | bytes]], float | None]:
        """The call's metadata and timeout: the earliest of the option, the request's
        deadline and ``Grpc-Timeout``, each made one that grpc can keep."""
        try:
            metadata, header_timeout = call_metadata(
                request.headers,
                remote_addr=request.remote_addr,
                matcher=self._matcher,
                extra=request.metadata,
            )
        except MetadataTooLarge as exc:
            raise GatewayError(Code.RESOURCE_EXHAUSTED, str(exc), http_status=431) from None
        except MetadataError as exc:
            raise GatewayError(Code.INVALID_ARGUMENT, str(exc)) from None
        timeout = self._timeout
        deadline = request.deadline
        if deadline is not None:
            deadline = _usable_deadline(deadline)
            if deadline is not None and (timeout is None or deadline < timeout):
                timeout = deadline
        if header_timeout is not None and (timeout is None or header_timeout < timeout):
            if header_timeout <= 0:  # Grpc-Timeout: 0S, as grpc-gateway: already expired
                raise GatewayError(Code.DEADLINE_EXCEEDED, "deadline exceeded")
            timeout = header_timeout
        return metadata, timeout

    async def _stream_response(
        self, request: HttpRequest, route: Route, stream: ResponseStream, entry: _Entry | None
    ) -> HttpResponse:
        """A streamed reply. A failure before the first reply, or a first reply
        that cannot be rendered, is an ordinary error response."""
        try:
            first = await stream.next()
            header_metadata = await stream.header_metadata()
            accept = next((v for k, v in request.headers if k.lower() == "accept"), None)
            framing = choose_framing(accept, http_body=route.response.http_body)
            headers, status = self._outgoing(header_metadata, ())
            content_type = framing.content_type
            pending = None
            if first is not None:
                body, first_type = self._render(route.stream_response, route, first)
                pending = framing.message(body)
                if route.response.http_body:
                    content_type = first_type
            headers.insert(0, ("Content-Type", content_type))
            frames = _Frames(self, request, route, stream, framing, pending, entry)
            response = HttpResponse(status or 200, headers, stream=frames)
            if self._response_hook is None:
                return response
            replaced = self._response_hook(request, response, None)
            if replaced is not None and replaced.stream is None:
                # The hook answered with a whole body: nothing will read the replies,
                # so the call must end now, not hold the servicer until its deadline
                # (the hook's answer is what the access log records).
                stream.cancel()
            return replaced or response
        except BaseException:
            stream.cancel()  # nothing will read the stream: end the call now
            raise

    def _render(
        self, transcoder: ResponseTranscoder, route: Route, message: Message
    ) -> tuple[bytes, str]:
        if isinstance(message, UndecodableReply):
            raise _undecodable(route, message)
        if self._reply_limit is not None:
            self._check_size(message)
        try:
            return transcoder.render(message)
        except Exception as exc:
            raise _unrenderable(route, exc) from None

    def _check_size(self, message: Message) -> None:
        assert self._reply_limit is not None
        if message.ByteSize() > self._reply_limit:
            raise GatewayError(
                Code.RESOURCE_EXHAUSTED,
                f"the reply is larger than the gateway accepts ({self._reply_limit} bytes)",
            )

    # -- CORS and the access log ------------------------------------------------------

    def add_cors(self, request: HttpRequest, response: HttpResponse) -> None:
        """Add the CORS headers for the request's ``Origin`` to ``response`` (CORS on)."""
        cors = self._cors
        assert cors is not None
        origin = None
        for name, value in request.headers:
            if len(name) == 6 and name.lower() == "origin":
                origin = value
                break
        response.headers.extend(cors.response_headers(origin, response.headers))

    def preflight(
        self, request: HttpRequest, origin: str, method: str, route_methods: Iterable[str]
    ) -> HttpResponse:
        """The answer to a CORS preflight for a path whose routes have ``route_methods``:
        204 with the CORS headers, or 403 (with none) when the policy refuses it."""
        assert self._cors is not None
        start = perf_counter()
        requested = next(
            (v for k, v in request.headers if k.lower() == "access-control-request-headers"),
            None,
        )
        outcome = self._cors.preflight(origin, method, requested, route_methods)
        if outcome.refused is None:
            response = HttpResponse(204, outcome.headers)
            self.log(request, None, response, Code.OK, start)
            return response
        error = GatewayError(Code.PERMISSION_DENIED, _CORS_REFUSED + outcome.refused)
        response = self.render_error(request, error)
        response.headers.extend(outcome.headers)  # only Vary: a refusal is not cacheable per origin
        self.log(request, None, response, error.code, start)
        return response

    def answer_error(
        self,
        request: HttpRequest,
        error: GatewayError,
        extra_headers: Sequence[tuple[str, str]] = (),
        *,
        start: float | None = None,
    ) -> HttpResponse:
        """:meth:`render_error` for a request the gateway answers with ``error`` before
        any route (no route, wrong method, a body too large): with the CORS headers,
        and logged."""
        response = self.render_error(request, error, extra_headers)
        if self._cors is not None:
            self.add_cors(request, response)
        self.log(request, None, response, error.code, start)
        return response

    def log(
        self,
        request: HttpRequest,
        route: Route | None,
        response: HttpResponse,
        code: Code,
        start: float | None = None,
    ) -> None:
        """The access line of a request answered with ``response`` (access log on)."""
        if self._access is not None:
            entry = _Entry(perf_counter() if start is None else start, route)
            entry.status = response.status
            self._log(request, entry, code, len(response.body))

    def _log(self, request: HttpRequest, entry: _Entry, code: Code, bytes_out: int) -> None:
        assert self._access is not None
        route = entry.route
        self._access.emit(
            request,
            route=None if route is None else route.binding.template,
            rpc=None if route is None else route.rpc,
            status=entry.status,
            code=code.name,
            start=entry.start,
            bytes_out=bytes_out,
        )

    def _failed(self, request: HttpRequest, exc: Exception) -> tuple[Code, HttpResponse]:
        """The code and answer for what serving ``request`` raised (called in the
        ``except`` block, so that an unexpected exception is logged with its traceback)."""
        if isinstance(exc, GatewayError):
            return exc.code, self.render_error(request, exc, self._metadata_headers(exc))
        # Never a traceback to the client; the server log gets it.
        log.exception("internal error serving %s %.200r", request.method, request.path)
        internal = GatewayError(Code.INTERNAL, _INTERNAL_ERROR)
        return Code.INTERNAL, self.render_error(request, internal)

    def _metadata_headers(self, error: GatewayError) -> list[tuple[str, str]]:
        """The headers the metadata of a failed call maps to."""
        if not error.header_metadata and not error.trailing_metadata:
            return []
        return self._outgoing(error.header_metadata, error.trailing_metadata)[0]

    def end_stream(self, request: HttpRequest, entry: _Entry, code: Code, bytes_out: int) -> None:
        """Log a stream at its end (once)."""
        if not entry.done:
            entry.done = True
            self._log(request, entry, code, bytes_out)

    # -- errors ----------------------------------------------------------------------

    def render_error(
        self,
        request: HttpRequest,
        error: GatewayError,
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> HttpResponse:
        """The response for an error: ``error_hook``'s, or the ``google.rpc.Status`` JSON body."""
        error = self._public(request, error)
        if error.code == Code.UNAUTHENTICATED and not any(
            k.lower() == "www-authenticate" for k, _ in (*error.headers, *extra_headers)
        ):
            # The server's own challenge if it sent one, else grpc-gateway's: the message.
            challenge = next(
                (str(v) for k, v in error.header_metadata if k == "www-authenticate"),
                error.message,
            )
            error = error.replace(headers=[*error.headers, ("WWW-Authenticate", challenge)])
        if self._error_hook is not None:
            try:
                return self._error_hook(request, error)
            except Exception:
                log.exception("error_hook failed; answering with the default error body")
        return error_response(error, extra_headers)

    def error_frame(self, request: HttpRequest, error: GatewayError, framing: Framing) -> bytes:
        """The last frame of a stream that failed: ``error_hook``'s body, or the Status."""
        error = self._public(request, error)
        if self._error_hook is not None:
            try:
                return framing.error(self._error_hook(request, error).body)
            except Exception:
                log.exception("error_hook failed; answering with the default error body")
        return framing.error(error.body())

    def _public(self, request: HttpRequest, error: GatewayError) -> GatewayError:
        """Log an internal message once, and give clients the generic one instead."""
        if error.internal is None:
            return error
        if error.internal == "servicer":
            level = logging.ERROR  # a bug in the service
        elif error.code in (Code.CANCELLED, Code.DEADLINE_EXCEEDED):
            level = logging.DEBUG  # every client may cause these
        elif error.http_status == 431:
            level = logging.INFO
        else:  # the backend is down, or the way to it: rate-limited
            level = None
        message = "%s %.200r failed: %s %r"
        args = (request.method, request.path, error.code.name, error.message)
        if level is None:
            self._transport_log(message, *args)
        else:
            log.log(level, message, *args)
        return error if self._expose else error.public()

    async def collect(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """``response`` with its stream read into ``body`` (for adapters that cannot
        stream); a stream that fails midway without saying so in-band becomes an
        error response here, since nothing has been sent yet."""
        stream = response.stream
        if stream is None:
            return response
        entry = stream._entry if isinstance(stream, _Frames) else None
        if entry is not None and not entry.done:
            entry.done = True  # logged here, with the status actually answered
        else:
            entry = None
        code = Code.OK
        try:
            response.body = b"".join([chunk async for chunk in stream])
        except Exception as exc:
            code, response = self._failed(request, exc)
        else:
            response.stream = None
            if isinstance(stream, _Frames):
                code = stream.code
            if entry is not None:
                entry.status = response.status
                self._log(request, entry, code, len(response.body))
            return response
        finally:
            await _close(stream)
        # The stream failed before anything was sent: an error response in its place.
        if self._cors is not None:
            self.add_cors(request, response)
        if entry is not None:
            entry.status = response.status
            self._log(request, entry, code, len(response.body))
        return response

    # -- the invoker -----------------------------------------------------------------

    def _open(self) -> Invoker:
        self._invoker = self._connect()
        return self._invoker

    async def aclose(self) -> None:
        """Close the invoker if the gateway made it."""
        if self._invoker is not None and self._owns_invoker:
            invoker, self._invoker = self._invoker, None
            await invoker.aclose()


class _Frames:
    """The chunks of a streamed reply, one per message, then an error frame if it
    fails and the framing can say so.

    Closing it (``aclose()``), even before the first chunk is read, cancels the
    call: the client went away. A raw (HttpBody) stream that fails raises its
    :class:`GatewayError` instead, so that the adapter cuts the response short.
    """

    __slots__ = (
        "_done",
        "_driver",
        "_entry",
        "_framing",
        "_pending",
        "_request",
        "_route",
        "_sent",
        "_stream",
        "code",
    )

    def __init__(
        self,
        driver: Driver,
        request: HttpRequest,
        route: Route,
        stream: ResponseStream,
        framing: Framing,
        pending: bytes | None,
        entry: _Entry | None = None,
    ) -> None:
        self._driver = driver
        self._request = request
        self._route = route
        self._stream = stream
        self._framing = framing
        #: The first chunk, rendered before the response was returned.
        self._pending = pending
        self._done = pending is None  # no first reply: the stream ended OK
        #: The access-log entry, written when the stream ends (access log on).
        self._entry = entry
        #: Bytes handed out so far.
        self._sent = 0
        #: How the call ended: OK, its error's code, or CANCELLED when closed early.
        self.code = Code.OK

    def __aiter__(self) -> _Frames:
        return self

    async def __anext__(self) -> bytes:
        chunk = self._pending
        if chunk is not None:
            self._pending = None
            self._sent += len(chunk)
            return chunk
        if self._done:
            self._end(self.code)
            raise StopAsyncIteration
        error: GatewayError
        try:
            message = await self._stream.next()
            if message is not None:
                driver = self._driver
                body = driver._render(self._route.stream_response, self._route, message)[0]
                chunk = self._framing.message(body)
                self._sent += len(chunk)
                return chunk
        except GatewayError as exc:
            error = exc
        except Exception:
            log.exception(
                "internal error streaming %s %.200r", self._request.method, self._request.path
            )
            error = GatewayError(Code.INTERNAL, _INTERNAL_ERROR)
        except BaseException:  # cancelled: whoever reads the stream is gone
            self._close(Code.CANCELLED)
            raise
        else:
            self._done = True  # ended with OK
            self._end(Code.OK)
            raise StopAsyncIteration
        self.code = error.code
        if not self._framing.can_report_errors:
            self._close(error.code)
            raise error  # the adapter aborts the response: a truncated body, never a silent one
        chunk = self._driver.error_frame(self._request, error, self._framing)
        self._sent += len(chunk)
        self._close(error.code)
        return chunk

    def _close(self, code: Code) -> None:
        if not self._done or self._pending is not None:
            self.code = code
        self._done = True
        self._pending = None
        self._stream.cancel()
        self._end(self.code)

    def _end(self, code: Code) -> None:
        if self._entry is not None and not self._entry.done:
            self._driver.end_stream(self._request, self._entry, code, self._sent)

    async def aclose(self) -> None:
        """End the call (idempotent); before its end, the access log says CANCELLED."""
        self._close(Code.CANCELLED)


async def without_body(response: HttpResponse) -> HttpResponse:
    """``response`` as the answer to a HEAD request: its headers (with the
    ``Content-Length`` the body would have had), no body; a stream is ended."""
    if response.stream is not None:
        await _close(response.stream)
        return HttpResponse(response.status, response.headers, stream=_no_chunks())
    if not response.body:
        return response
    headers = response.headers
    if not any(k.lower() == "content-length" for k, _ in headers):
        headers = [*headers, ("Content-Length", str(len(response.body)))]
    return HttpResponse(response.status, headers, b"")


async def _no_chunks() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover  (makes this an async generator)


async def _close(stream: AsyncIterator[bytes]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is None:
        return
    try:
        await aclose()
    except Exception:
        log.exception("closing a response stream failed")


def _usable_deadline(deadline: float) -> float | None:
    """A deadline grpc can keep: ``None`` for one that is not above zero (NaN,
    negative, not a number at all), at most :data:`MAX_TIMEOUT` (grpcio's clock
    overflows beyond it and the call would expire at once)."""
    try:
        if 0 < deadline <= MAX_TIMEOUT:
            return deadline
        return MAX_TIMEOUT if deadline > MAX_TIMEOUT else None
    except TypeError:
        return None


def _unrenderable(route: Route, exc: Exception) -> GatewayError:
    # The detail is the server's to read, once; the client learns only that it failed.
    log.error(
        "a reply of %s cannot be rendered as JSON: %s: %s", route.rpc, type(exc).__name__, exc
    )
    return GatewayError(Code.INTERNAL, _UNRENDERABLE)


def _undecodable(route: Route, reply: UndecodableReply) -> GatewayError:
    # Answered as a reply that cannot be rendered: the client learns only that.
    log.error("a reply of %s does not decode: %s", route.rpc, reply.reason)
    return GatewayError(Code.INTERNAL, _UNRENDERABLE)


def _request_message(
    route: Route, match: Match[Route], request: HttpRequest, body: bytes
) -> Message:
    try:
        return _transcode(route, match, request, body)
    except TranscodeError as exc:
        raise bad_request(str(exc), exc.fields) from None


def _transcode(route: Route, match: Match[Route], request: HttpRequest, body: bytes) -> Message:
    """The request message, or :class:`TranscodeError` (what the 400 names)."""
    content_type = ""
    if route.request.raw_body:  # only google.api.HttpBody keeps the Content-Type
        content_type = next((v for k, v in request.headers if k.lower() == "content-type"), "")
    try:
        return route.request.transcode(match.bindings, request.query, body, content_type)
    except UnicodeError:  # a lone surrogate in the query (Lambda events can carry one)
        raise TranscodeError("the request is not valid UTF-8") from None


#: Client-stream lines transcoded between two turns of a running event loop (about
#: 1 ms of work): a body of a million small lines must not hold every other client
#: of the server for seconds.
LINES_PER_TURN = 512


async def _request_stream(
    route: Route, match: Match[Route], request: HttpRequest
) -> Sequence[Message]:
    """The request messages of a client stream: one per NDJSON line, or raw chunks.

    The body is read whole first, so a bad line answers 400 before any call. On a
    running event loop the work yields to it every :data:`LINES_PER_TURN` lines;
    without one (the Lambda handler's blocking calls) there is no one to yield to.
    """
    chunks = raw_chunks if route.request.raw_body else split_lines
    messages = _SerializedMessages(route.spec.request_class)
    try:
        asyncio.get_running_loop()
        turn = LINES_PER_TURN
    except RuntimeError:
        turn = 0
    for n, chunk in enumerate(chunks(request.body), 1):
        try:
            messages.append(_transcode(route, match, request, chunk))
        except TranscodeError as exc:
            # The field violations name fields of message n, which the text names.
            raise bad_request(f"request stream message {n}: {exc}", exc.fields) from None
        if turn and not n % turn:
            await asyncio.sleep(0)
    return messages


class _SerializedMessages(Sequence[Message]):
    """A client stream's messages, kept serialized until the call reads them.

    A message object costs some 600 bytes even when empty, so a 4 MiB body of
    ``{}`` lines held as objects took 820 MB; serialized, it takes a few bytes a
    message. Each iteration reads them back, one at a time (the in-process
    invoker iterates twice).
    """

    __slots__ = ("_cls", "_data", "_ends")

    def __init__(self, cls: type[Message]) -> None:
        self._cls = cls
        self._data = bytearray()
        self._ends = array("Q")

    def append(self, message: Message) -> None:
        self._data += message.SerializeToString()
        self._ends.append(len(self._data))

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> Message: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Message]: ...
    def __getitem__(self, index: int | slice) -> Message | Sequence[Message]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        end = self._ends[index]  # IndexError as a list's
        start = self._ends[index - 1] if index % len(self) else 0
        return self._cls.FromString(bytes(self._data[start:end]))

    def __iter__(self) -> Iterator[Message]:
        start, data, parse = 0, self._data, self._cls.FromString
        for end in self._ends:
            yield parse(bytes(data[start:end]))
            start = end
