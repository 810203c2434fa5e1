"""The aiohttp adapter: serve a :class:`~grpcgw.Gateway` from an ``aiohttp.web.Application``.

The gateway's routes go into the aiohttp router as one resource that matches
with grpcgw's own :class:`~grpcgw.routing.RouteTable` on the *raw* path (aiohttp
routes on the decoded path, where ``%2F`` would split a segment), and that
lists one aiohttp route per HttpRule binding. It is tried after the
application's other routes, so it can share an application with them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from functools import partial, update_wrapper
from typing import Any

from aiohttp import WSMsgType, hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from aiohttp.web_urldispatcher import (
    AbstractResource,
    AbstractRoute,
    PlainResource,
    UrlMappingMatchInfo,
    _default_expect_handler,
    _InfoDict,
)
from yarl import URL

from grpcgw.edgeparser import error_reason
from grpcgw.errors import Code, GatewayError
from grpcgw.exchange import safe_headers
from grpcgw.fastlane import LANE_ROUTER
from grpcgw.gateway import Gateway, HttpRequest, HttpResponse, Route
from grpcgw.http11 import SimpleRequest
from grpcgw.httpserver import (
    _FAST_HANDLER,
    DECODED_ENCODINGS,
    HttpServer,
    accepted_encodings,
    close_after,
    run_server,
    start_server,
)
from grpcgw.limits import HttpLimits
from grpcgw.routing import Match
from grpcgw.wsframes import wants_upgrade
from grpcgw.wssession import BINARY, CLOSED, TEXT, WebSocketCall

__all__ = [
    "GatewayResource",
    "HttpLimits",
    "HttpServer",
    "create_app",
    "run_server",
    "setup",
    "start_server",
]

log = logging.getLogger("grpcgw")

# Where resolve() leaves the routing outcome for the handler (typed keys since aiohttp 3.13).
_OUTCOME: Any = (
    web.RequestKey("grpcgw.outcome", object) if hasattr(web, "RequestKey") else "grpcgw.outcome"
)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: A grpcgw middleware that lets the edge's fast lane serve gateway requests in its
#: stead carries this attribute: (the exact paths it answers itself, a function
#: wrapping the gateway's call as the middleware wraps its handler).
LANE_AWARE = "grpcgw_lane"


class _GatewayRoute(AbstractRoute):
    """One HttpRule binding as aiohttp sees it (for listing and introspection)."""

    def __init__(self, route: Route, handler: _Handler, resource: GatewayResource) -> None:
        super().__init__(
            route.http_method, handler, expect_handler=resource._expect, resource=resource
        )
        self.grpcgw_route = route

    def url_for(self, *args: str, **kwargs: str) -> URL:
        raise NotImplementedError("HttpRule routes cannot build URLs")

    @property
    def name(self) -> str | None:
        return None

    def get_info(self) -> _InfoDict:
        return {"path": str(self.grpcgw_route.template), "rpc": self.grpcgw_route.rpc}  # type: ignore[typeddict-unknown-key]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        return await self.handler(request)

    def __repr__(self) -> str:
        return f"<GatewayRoute {self.grpcgw_route}>"


class GatewayResource(AbstractResource):
    """An aiohttp resource serving every route of a :class:`~grpcgw.Gateway`."""

    def __init__(
        self, gateway: Gateway, *, prefix: str = "", limits: HttpLimits | None = None
    ) -> None:
        super().__init__(name=None)
        self.gateway = gateway
        #: Body timeouts, unless the connection brings its own (grpcgw's server does).
        self.limits = limits or HttpLimits()
        self._method_override = gateway.options.method_override  # only then are headers routed on
        self._websocket = gateway.options.websocket  # off: one attribute check per request
        #: The WebSocket calls running, ended when the application shuts down.
        self._sockets: set[WebSocketCall] = set()
        self._prefix = prefix.rstrip("/")
        self._routes = [_GatewayRoute(r, self._handle, self) for r in gateway.routes]
        # One route object answers every request; the routing outcome rides on the request.
        self._any = _GatewayRoute(gateway.routes[0], self._handle, self) if self._routes else None

    @property
    def canonical(self) -> str:
        # Indexed under the root, so aiohttp tries the application's own routes first.
        return self._prefix or "/"

    def url_for(self, **kwargs: str) -> URL:
        raise NotImplementedError("HttpRule routes cannot build URLs")

    def add_prefix(self, prefix: str) -> None:
        self._prefix = prefix.rstrip("/") + self._prefix

    def get_info(self) -> _InfoDict:
        return {"prefix": self._prefix}

    def raw_match(self, path: str) -> bool:
        return False

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._routes)

    async def resolve(self, request: web.Request) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        if self._any is None:
            return None, set()
        raw = _raw_target(request)
        if self._prefix:
            if not (raw == self._prefix or raw.startswith(self._prefix + "/")):
                return None, set()
            raw = raw[len(self._prefix) :] or "/"
        outcome: Match[Route] | GatewayError
        try:
            headers = list(request.headers.items()) if self._method_override else ()
            outcome = self.gateway.match(request.method, raw, headers)
        except GatewayError as exc:
            if exc.http_status == 404:
                return None, set()  # let the application's other resources answer
            outcome = exc  # 405 with Allow, or 400 for a malformed path: ours to answer
        request[_OUTCOME] = outcome
        return UrlMappingMatchInfo({}, self._any), set()

    async def _expect(self, request: web.Request) -> web.StreamResponse | None:
        """``Expect`` as aiohttp answers ``100-continue``, unless the request is
        refused whatever its body (no route for the method, a declared length over
        ``max_request_body``, an encoding not decoded): then that answer comes
        instead of ``100 Continue`` (RFC 9110 10.1.1), whatever the expectation, and
        the connection closes. Any other expectation of a request that would be
        served is ``417`` with a Status body (aiohttp's own answer is text, and
        comes before any middleware)."""
        path, _, query = _raw_target(request).partition("?")
        http_request = _gateway_request(request, path, query)
        outcome = request.get(_OUTCOME)
        if isinstance(outcome, GatewayError):
            answer = self.gateway.preflight(http_request) or self.gateway.error(
                http_request, outcome
            )
            return await _answer_and_close(request, _to_aiohttp(answer))
        refusal = _refusal(request, self.gateway.options.max_request_body)
        if refusal is not None:
            answer = self.gateway.error(http_request, refusal)
            return await _answer_and_close(request, _to_aiohttp(answer))
        return await _expected(request, self.gateway, http_request)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._websocket and hdrs.UPGRADE in request.headers:
            upgraded = await self._upgrade(request)
            if upgraded is not None:
                return upgraded
        outcome = request[_OUTCOME]
        path, _, query = _raw_target(request).partition("?")  # raw: escapes intact
        body = b""
        body_error = False
        if request.body_exists and not isinstance(outcome, GatewayError):
            limits = getattr(request.protocol, "limits", None) or self.limits
            try:
                body = await _read_body(request, self.gateway.options.max_request_body, limits)
            except GatewayError as exc:
                outcome, body_error = exc, True
            except _ClientGone:
                log.debug("client left %s %s before sending its body", request.method, path)
                return web.Response(status=499)  # nobody reads it
        http_request = _gateway_request(request, path, query, body)
        if isinstance(outcome, GatewayError):
            if not body_error:
                # A CORS preflight routes as OPTIONS on a path without that method.
                preflight = self.gateway.preflight(http_request)
                if preflight is not None:
                    return _to_aiohttp(preflight)
            response = _to_aiohttp(self.gateway.error(http_request, outcome))
            if outcome.http_status in (400, 408, 413) and body_error:
                # The rest of that body is not coming, cannot be read, or is not
                # wanted: answer and close rather than have aiohttp wait for (or trip
                # over, or drain) the rest.
                return await _answer_and_close(request, response)
            return response
        result = await self.gateway.dispatch(http_request, outcome)
        if result.stream is None:
            return _to_aiohttp(result)
        return await _stream(request, result, result.stream)

    async def _upgrade(self, request: web.Request) -> web.StreamResponse | None:
        """Serve a WebSocket handshake on a streaming binding's path (``websocket`` on);
        ``None`` for any other request, answered as a plain one (RFC 9110 7.8 lets a
        server ignore ``Upgrade``)."""
        if not wants_upgrade(request.method, request.headers.items()):
            return None
        target = _raw_target(request)
        path, _, query = target.partition("?")
        raw = target[len(self._prefix) :] or "/" if self._prefix else target
        gateway = self.gateway
        match = gateway.websocket_match(raw.partition("?")[0])
        if match is None:
            return None
        http_request = _gateway_request(request, path, query)
        try:
            call = gateway.open_websocket(http_request, match)
            refusal = call.refusal()
            if refusal is not None:  # response_hook answered the handshake otherwise
                return _to_aiohttp(refusal)
            ws = web.WebSocketResponse(
                # The one the answer selects when offered: never a token subprotocol.
                protocols=() if call.subprotocol is None else (call.subprotocol,),
                # One frame is one request message: bounded as a request body (1009 beyond).
                max_msg_size=max(gateway.options.max_request_body, 1),
                # A peer gone without a word (a dead link) is noticed within 1.5 idle
                # timeouts.
                heartbeat=(getattr(request.protocol, "limits", None) or self.limits).idle_timeout,
                # Per-message deflate would let a small frame inflate to the size limit
                # on every message; JSON frames are sent as they are.
                compress=False,
                decode_text=False,
            )
            if not ws.can_prepare(request).ok:
                raise GatewayError(Code.INVALID_ARGUMENT, "not a valid WebSocket handshake")
        except GatewayError as exc:
            return _to_aiohttp(gateway.error(http_request, exc))
        for name, value in _reply_headers(call.answer.headers):  # response_hook's
            ws.headers.add(name, value)
        await ws.prepare(request)
        self._sockets.add(call)
        try:
            await call.run(_WebSocketPeer(ws))
        finally:
            self._sockets.discard(call)
        return ws

    async def _shut_down(self, _: web.Application) -> None:
        """End the WebSocket calls running (``on_shutdown``, before the server waits for
        its handlers): each would hold the shutdown for its whole grace period."""
        for call in list(self._sockets):
            call.shut_down()


class _WebSocketPeer:
    """An accepted aiohttp ``WebSocketResponse`` as :class:`grpcgw.wssession.Peer`."""

    __slots__ = ("_ws",)

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws

    async def receive(self) -> tuple[int, bytes]:
        try:
            message = await self._ws.receive()
        except RuntimeError:  # closed already (aiohttp's word for it)
            return CLOSED, b""
        kind = message.type
        if kind is WSMsgType.TEXT or kind is WSMsgType.BINARY:
            data = message.data
            return (TEXT if kind is WSMsgType.TEXT else BINARY), (
                data if isinstance(data, bytes) else data.encode()
            )
        return CLOSED, b""  # closed, closing, or failed (aiohttp closed it: 1009, 1002)

    async def send(self, frame: bytes) -> None:
        try:
            await self._ws.send_frame(frame, WSMsgType.TEXT)
        except (ConnectionError, RuntimeError) as exc:  # closing: aiohttp's words for gone
            raise ConnectionResetError(str(exc)) from None

    async def close(self, code: int) -> None:
        await self._ws.close(code=code)


async def _expected(
    request: web.Request, gateway: Gateway, http_request: HttpRequest
) -> web.StreamResponse | None:
    """``Expect`` of a request that will be served: ``100 Continue`` for
    ``100-continue`` (aiohttp's answer), else ``417`` with a Status body (aiohttp's
    own is text, and comes before any middleware)."""
    expect = request.headers.get("Expect", "")
    if request.version < (1, 1) or expect.lower() == "100-continue":
        await _default_expect_handler(request)
        return None
    error = GatewayError(
        Code.FAILED_PRECONDITION,
        f"unsupported Expect: {expect[:50]!r} (only 100-continue is)",
        http_status=417,
    )
    response = _to_aiohttp(gateway.error(http_request, error))
    response.force_close()  # the body, if any, is not read
    return response


async def _answer_and_close(request: web.Request, response: web.Response) -> web.Response:
    # What the client still sends (a body it held back or had not finished) is read
    # and dropped for a while where grpcgw's edge serves it: a reset would lose the answer.
    await close_after(request, response)
    return response


class _ClientGone(Exception):
    """The client disconnected while its request body was being read."""


async def _read_body(request: web.Request, max_size: int, limits: HttpLimits) -> bytes:
    """The request body, decoded, within the size limit and the body timeouts.

    aiohttp's parser has already decompressed the encodings it knows
    (:data:`~grpcgw.httpserver.DECODED_ENCODINGS`); any other is refused
    with 415 rather than passed on as if it were the body.
    """
    refusal = _refusal(request, max_size)
    if refusal is not None:
        raise refusal
    encoding = _encoding(request)
    content = request.content
    # Decompress in chunks up to the limit (what request.read() does), so a bomb
    # stops at the limit instead of expanding in memory.
    content.set_read_chunk_size(max_size)
    try:
        chunk = content.read_nowait()
        if content.at_eof():  # the whole body came with the request: no timers
            if len(chunk) > max_size:
                raise _too_large(max_size)
            return chunk
    except (RequestPayloadError, HttpProcessingError) as exc:
        raise _undecodable(exc, encoding) from None
    except (ConnectionError, RuntimeError) as exc:
        raise _ClientGone from exc
    chunks = [chunk] if chunk else []
    size = len(chunk)
    loop = asyncio.get_running_loop()
    gap, total = limits.body_read_timeout, limits.body_timeout
    deadline = None if total is None else loop.time() + total
    try:
        while True:
            chunk = content.read_nowait()  # what has arrived: no timer on the fast path
            if not chunk:
                if content.at_eof():
                    break
                wait = gap
                if deadline is not None:
                    left = deadline - loop.time()
                    wait = left if wait is None else min(wait, left)
                try:
                    async with asyncio.timeout(wait):
                        chunk = await content.readany()
                except TimeoutError:
                    late = deadline is not None and loop.time() >= deadline
                    raise GatewayError(
                        Code.DEADLINE_EXCEEDED,
                        f"request body not received within {total:g} s"
                        if late
                        else f"request body stalled: nothing received for {gap:g} s",
                        http_status=408,
                    ) from None
                if not chunk:
                    break
            size += len(chunk)
            if size > max_size:
                raise _too_large(max_size)
            chunks.append(chunk)
    except (RequestPayloadError, HttpProcessingError) as exc:
        raise _undecodable(exc, encoding) from None
    except (ConnectionError, RuntimeError) as exc:
        # aiohttp: ConnectionResetError once the client is gone, RuntimeError when
        # a read starts after it went.
        raise _ClientGone from exc
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _encoding(request: web.Request) -> str | None:
    encoding = request.headers.get("Content-Encoding")
    if encoding is not None and not encoding.strip():
        return None  # an empty list of codings (RFC 9110 5.6.1): none
    return encoding


def _refusal(request: web.Request, max_size: int) -> GatewayError | None:
    """What refuses the request's body before any of it is read: a
    ``Content-Encoding`` not decoded (415), a declared length beyond ``max_size``
    (413); ``None`` if neither."""
    encoding = _encoding(request)
    if encoding is not None and encoding.strip().lower() not in DECODED_ENCODINGS:
        return GatewayError(
            Code.INVALID_ARGUMENT,
            f"Content-Encoding {encoding.strip()[:50]!r} is not supported",
            http_status=415,
            headers=[("Accept-Encoding", accepted_encodings())],
        )
    length = request.content_length
    if length is not None and length > max_size and encoding is None:
        return _too_large(max_size)  # said before it is sent: refuse it without waiting
    return None


def _gateway_request(request: web.Request, path: str, query: str, body: bytes = b"") -> HttpRequest:
    """The gateway's view of an aiohttp request (``path`` and ``query`` raw). With an
    absolute-form target, its authority is the ``Host`` (RFC 9112 3.2.2: the server
    ignores the ``Host`` field then), so ``x-forwarded-host`` names it, as Go's
    server gives it to grpc-gateway (which keeps ``Host`` for an empty authority)."""
    headers = list(request.headers.items())
    raw = request.raw_path
    if raw[:1] != "/" and "://" in raw:
        authority = _split_absolute(raw)[0]
        if authority:
            headers = [pair for pair in headers if pair[0].lower() != "host"]
            headers.append(("Host", authority))
    return HttpRequest(
        method=request.method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        remote_addr=request.remote,
    )


def _raw_target(request: web.Request) -> str:
    """The request target in origin form with its escapes intact: an absolute-form
    target (``GET http://host/path?q``, which a server must accept: RFC 9112 3.2.2)
    without its scheme and authority."""
    raw = request.raw_path
    if raw[:1] == "/" or "://" not in raw:
        return raw
    return _split_absolute(raw)[1]


def _split_absolute(raw: str) -> tuple[str, str]:
    """An absolute-form target's authority (``host[:port]``, without any userinfo,
    which RFC 9110 4.2.4 forbids senders) and the origin-form target after it."""
    rest = raw.partition("://")[2]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    target = rest[cut:]
    authority = rest[:cut].rpartition("@")[2]
    return authority, target if target[:1] == "/" else "/" + target


def _too_large(max_size: int) -> GatewayError:
    return GatewayError(
        Code.RESOURCE_EXHAUSTED,
        f"request body exceeds the limit of {max_size} bytes",
        http_status=413,
    )


def _undecodable(exc: Exception, encoding: str | None) -> GatewayError:
    """A body that does not decode (gzip that is not), or a bad chunked framing."""
    reason = error_reason(exc, fields="trailer")  # a field in a body is a trailer
    if encoding is not None and "content-encoding" in reason.lower():
        reason = f"not valid {encoding.strip().lower()} data"
    return GatewayError(Code.INVALID_ARGUMENT, f"malformed request body: {reason}")


def _reply_headers(headers: Sequence[tuple[str, str]]) -> Sequence[tuple[str, str]]:
    """A reply's headers as this adapter sends them (the fast lane's answers too): a
    header HTTP cannot carry (CR, LF in an HttpBody's content type) dropped."""
    return safe_headers(headers)


def _to_aiohttp(response: HttpResponse) -> web.Response:
    # aiohttp copies the pairs into its own CIMultiDict (repeated names kept). A
    # header it cannot write (CR, LF in an HttpBody's content type) is dropped
    # first: aiohttp would refuse it only while writing, and answer nothing.
    return web.Response(
        status=response.status,
        body=response.body or None,
        headers=_reply_headers(response.headers),
    )


async def _stream(
    request: web.Request, response: HttpResponse, chunks: AsyncIterator[bytes]
) -> web.StreamResponse:
    """Send each chunk as it comes (chunked encoding), and cancel the call if the client goes."""
    resp = web.StreamResponse(status=response.status)
    for name, value in safe_headers(response.headers):
        resp.headers.add(name, value)
    resp.headers["Cache-Control"] = "no-cache"  # proxies must not hold the stream back
    try:
        await resp.prepare(request)
        async for chunk in chunks:
            await resp.write(chunk)
    except ConnectionError:
        # The client went away mid-stream: nothing to tell it, nothing to log loudly.
        log.debug("client left the stream %s %s", request.method, request.path)
        return resp
    except GatewayError as exc:
        # A raw (HttpBody) stream failed midway and cannot say so in-band: cut the
        # connection so the client sees a truncated response, not a complete one.
        log.warning("stream %s %s failed: %s", request.method, request.path, exc.message)
        if request.transport is not None:
            request.transport.abort()
        return resp
    except Exception:
        log.exception("stream %s %s failed", request.method, request.path)
        if request.transport is not None:
            request.transport.abort()
        return resp
    finally:
        # Closing the generator cancels the gRPC call (client gone, or cancelled).
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
    await resp.write_eof()
    return resp


def _status_errors(gateway: Gateway) -> Any:
    """A middleware rendering aiohttp's own HTTP errors (404, 405, 413, ...) as the
    gateway renders its errors: ``google.rpc.Status`` JSON (or ``error_hook``'s),
    with the CORS headers and an access line, as on Lambda."""

    @web.middleware
    async def status_errors(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            code = _CODE_FOR_HTTP.get(exc.status, Code.UNKNOWN)
            headers = [
                (k, v) for k, v in exc.headers.items() if k.lower() in ("allow", "www-authenticate")
            ]
            message = exc.text or exc.reason
            path, _, query = _raw_target(request).partition("?")
            if message == f"{exc.status}: {exc.reason}":  # aiohttp's default text: say more
                message = _DEFAULT_MESSAGES.get(exc.status, "{reason}").format(
                    reason=exc.reason, method=request.method, path=path
                )
            error = GatewayError(code, message, http_status=exc.status, headers=headers)
            return _to_aiohttp(gateway.error(_gateway_request(request, path, query), error))

    return status_errors


_DEFAULT_MESSAGES = {
    404: "no route for {method} {path}",
    405: "method {method} is not allowed for {path}",
}

_CODE_FOR_HTTP = {
    400: Code.INVALID_ARGUMENT,
    401: Code.UNAUTHENTICATED,
    403: Code.PERMISSION_DENIED,
    404: Code.NOT_FOUND,
    405: Code.UNIMPLEMENTED,
    409: Code.ABORTED,
    413: Code.RESOURCE_EXHAUSTED,
    429: Code.RESOURCE_EXHAUSTED,
    499: Code.CANCELLED,
    500: Code.INTERNAL,
    501: Code.UNIMPLEMENTED,
    503: Code.UNAVAILABLE,
    504: Code.DEADLINE_EXCEEDED,
}


def _add_api_docs(app: web.Application, gateway: Gateway, prefix: str) -> None:
    """One aiohttp route per path of the API description (``GatewayOptions.api_docs``),
    answered by :meth:`~grpcgw.Gateway.serve_api_docs` (no binding has those paths)."""
    paths = gateway.api_docs_paths
    if not paths:
        return
    prefix = prefix.rstrip("/")

    async def api_docs(request: web.Request) -> web.StreamResponse:
        path, _, query = _raw_target(request).partition("?")  # absolute form too
        answer = gateway.serve_api_docs(_gateway_request(request, path[len(prefix) :], query))
        if answer is None:  # pragma: no cover  (only its own paths come here)
            raise web.HTTPNotFound()
        return _to_aiohttp(answer)

    async def expect(request: web.Request) -> web.StreamResponse | None:
        # Its refusals (a method other than GET or HEAD) come instead of 100 Continue.
        path, _, query = _raw_target(request).partition("?")
        http_request = _gateway_request(request, path[len(prefix) :], query)
        answer = gateway.serve_api_docs(http_request)
        if answer is not None and answer.status >= 400:
            return await _answer_and_close(request, _to_aiohttp(answer))
        return await _expected(request, gateway, http_request)

    for path in paths:
        app.router.add_route("*", prefix + path, api_docs, expect_handler=expect)


def setup(
    app: web.Application,
    gateway: Gateway,
    *,
    prefix: str = "",
    close: bool = True,
    limits: HttpLimits | None = None,
) -> GatewayResource:
    """Add a gateway's routes to an existing application (after its own routes).

    With ``close`` the gateway's channel is closed on application cleanup.
    The gateway's routes answer every error of theirs, body errors included,
    with a ``google.rpc.Status`` body, whatever the application's middlewares;
    ``limits`` bounds how long their request bodies may take (served by
    :func:`start_server`, the server's limits apply instead). With
    ``GatewayOptions(api_docs=True)`` the API description and its explorer are
    served too, at their paths below ``prefix`` (:mod:`grpcgw.apidocs`).
    """
    _add_api_docs(app, gateway, prefix)
    resource = GatewayResource(gateway, prefix=prefix, limits=limits)
    app.router.register_resource(resource)
    if gateway.options.websocket:
        app.on_shutdown.append(resource._shut_down)
    if close:

        async def _close(_: web.Application) -> None:
            await gateway.aclose()

        app.on_cleanup.append(_close)
    return resource


def create_app(
    gateway: Gateway, *, limits: HttpLimits | None = None, **app_kwargs: Any
) -> web.Application:
    """A standalone ``aiohttp.web.Application`` serving ``gateway``.

    Every error, aiohttp's own 404/405/413 included, answers with a
    ``google.rpc.Status`` JSON body. ``app_kwargs`` go to ``web.Application``
    (``middlewares=`` are added after grpcgw's error middleware). Serve it
    with :func:`start_server` or :func:`run_server` for the connection limits,
    Status bodies for what aiohttp's parser rejects, and calls cancelled when
    their client goes; with your own ``AppRunner``, pass
    ``handler_cancellation=True`` for the last.
    """
    status_errors = _status_errors(gateway)
    middlewares = [status_errors, *app_kwargs.pop("middlewares", ())]
    app_kwargs.setdefault("client_max_size", gateway.options.max_request_body)
    app = web.Application(middlewares=middlewares, **app_kwargs)
    resource = setup(app, gateway, limits=limits)
    app[_FAST_HANDLER] = lambda expecting: _fast_handler(app, resource, status_errors, expecting)
    app[LANE_ROUTER] = lambda: _lane_router(app, resource, status_errors)
    return app


def _as_created(
    app: web.Application, resource: GatewayResource, status_errors: Any
) -> tuple[list[Any], set[str]] | None:
    """``app``'s middlewares and the exact paths of its other resources, while it is
    as :func:`create_app` made it (grpcgw's error middleware first, the gateway at
    the root, every other resource an exact path); else ``None``: what both the
    lean handler and the fast lane need before they may answer for aiohttp."""
    middlewares = list(app.middlewares)
    if not middlewares or middlewares[0] is not status_errors or resource._prefix:
        return None
    exact = _exact_paths(app, resource)
    return None if exact is None else (middlewares, exact)


def _exact_paths(app: web.Application, resource: GatewayResource) -> set[str] | None:
    """The paths of the application's other resources, if all are exact paths."""
    exact: set[str] = set()
    for other in app.router.resources():
        if other is resource:
            continue
        if type(other) is not PlainResource:
            return None
        exact.add(other.canonical)
    return exact


def _fast_handler(
    app: web.Application, resource: GatewayResource, status_errors: Any, expecting: Any
) -> Any:
    """A request handler doing for ``app`` what ``Application._handle`` does, without
    its per-request generality, or ``None`` where it would not do the same; a
    request that carries ``Expect`` goes to ``expecting`` (the edge's handler for those).

    Called by :func:`~grpcgw.httpserver.start_server` once the application is
    frozen. It applies only while the application is as :func:`create_app` made
    it: grpcgw's error middleware first, then only new-style middlewares (run in
    aiohttp's order, composed once rather than per request), no sub-application,
    no resource but the gateway's and exact paths (the API description's, a
    proxy's probes). A request one of those could match (an exact path, a
    percent-escape or dot segment that aiohttp normalises, an absolute-form
    target) or that carries ``Expect``, and every request the gateway does not
    route, goes through ``Application._handle``.
    """
    lean = _as_created(app, resource, status_errors)
    if lean is None:
        return None
    middlewares, exact = lean
    chain: Any = resource._handle
    for middleware in reversed(middlewares):
        if getattr(middleware, "__middleware_version__", None) != 1:
            return None  # an old-style middleware: aiohttp's own way of calling it
        chain = update_wrapper(partial(middleware, handler=chain), chain)
    handle = app._handle
    expect = hdrs.EXPECT

    async def fast(request: web.Request) -> web.StreamResponse:
        path = request.raw_path.partition("?")[0]
        if path[:1] != "/" or "%" in path or "/." in path or path in exact:
            return await handle(request)
        if expect in request.headers:
            return await expecting(request)  # type: ignore[no-any-return]
        match_info, _ = await resource.resolve(request)
        if match_info is None:  # not ours: aiohttp's 404 (or another resource's answer)
            return await handle(request)
        match_info.add_app(app)
        match_info.freeze()
        request._match_info = match_info
        response: web.StreamResponse = await chain(request)
        return response

    return fast


class _GatewayLane:
    """What the edge's fast lane (:mod:`grpcgw.httpserver`) asks of a ``create_app``
    application: which requests the lean handler would give the gateway to call a
    unary method with, and that call.

    Only for an application whose answer to such a request nothing but grpcgw
    shapes: grpcgw's error middleware and no other, the lean handler's resources,
    a gateway without ``response_hook`` or ``error_hook``. A request with a
    percent-escape or dot segment in its path, on an exact path of another
    resource, or that the gateway does not route to a unary method goes the
    lean handler's way instead.
    """

    __slots__ = ("_exact", "_gateway", "_override", "_wraps", "max_body")

    #: The headers of an answer as ``_to_aiohttp`` sends them.
    reply_headers = staticmethod(_reply_headers)

    def __init__(self, gateway: Gateway, exact: set[str], wraps: list[Any]) -> None:
        self._gateway = gateway
        self._exact = frozenset(exact)
        #: grpcgw's own middlewares around the call, innermost first.
        self._wraps = wraps
        self._override = gateway.options.method_override
        self.max_body = gateway.options.max_request_body

    def route(
        self, method: str, target: str, headers: list[tuple[str, str]]
    ) -> Match[Route] | None:
        path = target.partition("?")[0]
        if "%" in path or "/." in path or path in self._exact:
            return None
        try:
            match = self._gateway.match(method, target, headers if self._override else ())
        except GatewayError:
            return None  # 404, 405, 400: aiohttp's path answers (and may find a preflight)
        spec = match.target.spec
        if spec.client_streaming or spec.server_streaming:
            return None
        return match

    def serve(
        self, match: Match[Route], request: SimpleRequest, remote: str | None
    ) -> Awaitable[HttpResponse]:
        path, _, query = request.target.partition("?")
        http_request = HttpRequest(
            request.method, path, query, request.headers, request.body, remote
        )
        call: Awaitable[HttpResponse] = self._gateway.dispatch(http_request, match)
        for wrap in self._wraps:
            call = wrap(call)
        return call


def _lane_router(
    app: web.Application, resource: GatewayResource, status_errors: Any
) -> _GatewayLane | None:
    """The fast lane's router for ``app``, where the lane answers as aiohttp would:
    grpcgw's error middleware first, and no other but grpcgw's own that say how
    (:data:`LANE_AWARE`, the proxy's probes and counting)."""
    lean = _as_created(app, resource, status_errors)
    gateway = resource.gateway
    if lean is None or not gateway._plain_replies or not resource._routes:
        return None
    middlewares, exact = lean
    wraps = []
    for middleware in middlewares[1:]:
        aware = getattr(middleware, LANE_AWARE, None)
        if aware is None:
            return None  # the user's: it may do anything with the request or answer
        paths, wrap = aware
        exact |= set(paths)
        wraps.append(wrap)
    return _GatewayLane(gateway, exact, wraps[::-1])
