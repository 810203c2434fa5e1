"""The aiohttp adapter: serve a :class:`~grpcgw.Gateway` from an ``aiohttp.web.Application``.

The gateway's routes go into the aiohttp router as one resource that matches
with grpcgw's own :class:`~grpcgw.routing.RouteTable` on the *raw* path (aiohttp
routes on the decoded path, where ``%2F`` would split a segment), and that
lists one aiohttp route per HttpRule binding. It is tried after the
application's other routes, so it can share an application with them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from aiohttp import web
from aiohttp.web_urldispatcher import (
    AbstractResource,
    AbstractRoute,
    UrlMappingMatchInfo,
    _InfoDict,
)
from yarl import URL

from grpcgw.errors import Code, GatewayError
from grpcgw.gateway import Gateway, HttpRequest, HttpResponse, Route
from grpcgw.routing import Match

__all__ = ["GatewayResource", "create_app", "setup"]

log = logging.getLogger("grpcgw")

# Where resolve() leaves the routing outcome for the handler (typed keys since aiohttp 3.13).
_OUTCOME: Any = (
    web.RequestKey("grpcgw.outcome", object) if hasattr(web, "RequestKey") else "grpcgw.outcome"
)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _GatewayRoute(AbstractRoute):
    """One HttpRule binding as aiohttp sees it (for listing and introspection)."""

    def __init__(self, route: Route, handler: _Handler, resource: GatewayResource) -> None:
        super().__init__(route.http_method, handler, resource=resource)
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

    def __init__(self, gateway: Gateway, *, prefix: str = "") -> None:
        super().__init__(name=None)
        self.gateway = gateway
        self._method_override = gateway.options.method_override  # only then are headers routed on
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
        raw = request.raw_path
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

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        outcome = request[_OUTCOME]
        path, _, query = request.raw_path.partition("?")  # raw: escapes intact
        try:
            body = (
                await request.read()
                if request.body_exists and not isinstance(outcome, GatewayError)
                else b""
            )
        except web.HTTPRequestEntityTooLarge as exc:
            outcome = GatewayError(Code.RESOURCE_EXHAUSTED, exc.text or "", http_status=413)
            body = b""
        http_request = HttpRequest(
            method=request.method,
            path=path,
            query=query,
            headers=list(request.headers.items()),
            body=body,
            remote_addr=request.remote,
        )
        if isinstance(outcome, GatewayError):
            # A CORS preflight routes as OPTIONS on a path without that method.
            preflight = self.gateway.preflight(http_request)
            if preflight is not None:
                return _to_aiohttp(preflight)
            return _to_aiohttp(self.gateway.error(http_request, outcome))
        response = await self.gateway.dispatch(http_request, outcome)
        if response.stream is None:
            return _to_aiohttp(response)
        return await _stream(request, response, response.stream)


def _to_aiohttp(response: HttpResponse) -> web.Response:
    # aiohttp copies the pairs into its own CIMultiDict (repeated names kept).
    return web.Response(
        status=response.status, body=response.body or None, headers=response.headers
    )


async def _stream(
    request: web.Request, response: HttpResponse, chunks: AsyncIterator[bytes]
) -> web.StreamResponse:
    """Send each chunk as it comes (chunked encoding), and cancel the call if the client goes."""
    resp = web.StreamResponse(status=response.status)
    for name, value in response.headers:
        resp.headers.add(name, value)
    resp.headers["Cache-Control"] = "no-cache"  # proxies must not hold the stream back
    await resp.prepare(request)
    try:
        async for chunk in chunks:
            await resp.write(chunk)
    except GatewayError as exc:
        # A raw (HttpBody) stream failed midway and cannot say so in-band: cut the
        # connection so the client sees a truncated response, not a complete one.
        log.warning("stream %s %s failed: %s", request.method, request.path, exc.message)
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
            path, _, query = request.raw_path.partition("?")
            if message == f"{exc.status}: {exc.reason}":  # aiohttp's default text: say more
                message = _DEFAULT_MESSAGES.get(exc.status, "{reason}").format(
                    reason=exc.reason, method=request.method, path=path
                )
            error = GatewayError(code, message, http_status=exc.status, headers=headers)
            http_request = HttpRequest(
                method=request.method,
                path=path,
                query=query,
                headers=list(request.headers.items()),
                remote_addr=request.remote,
            )
            return _to_aiohttp(gateway.error(http_request, error))

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


def setup(
    app: web.Application, gateway: Gateway, *, prefix: str = "", close: bool = True
) -> GatewayResource:
    """Add a gateway's routes to an existing application (after its own routes).

    With ``close`` the gateway's channel is closed on application cleanup.
    """
    resource = GatewayResource(gateway, prefix=prefix)
    app.router.register_resource(resource)
    if close:

        async def _close(_: web.Application) -> None:
            await gateway.aclose()

        app.on_cleanup.append(_close)
    return resource


def create_app(gateway: Gateway, **app_kwargs: Any) -> web.Application:
    """A standalone ``aiohttp.web.Application`` serving ``gateway``.

    Every error, aiohttp's own 404/405/413 included, answers with a
    ``google.rpc.Status`` JSON body. ``app_kwargs`` go to ``web.Application``
    (``middlewares=`` are added after grpcgw's error middleware).
    """
    middlewares = [_status_errors(gateway), *app_kwargs.pop("middlewares", ())]
    app_kwargs.setdefault("client_max_size", gateway.options.max_request_body)
    app = web.Application(middlewares=middlewares, **app_kwargs)
    setup(app, gateway)
    return app
