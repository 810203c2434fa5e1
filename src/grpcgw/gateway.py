"""The gateway core: HTTP request in, gRPC call, HTTP response out.

Ties routing, transcoding, the invoker, header/metadata mapping and errors
together, with no knowledge of aiohttp or Lambda: the web and Lambda adapters
turn their requests into :class:`HttpRequest` and write back :class:`HttpResponse`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message

from grpcgw.descriptors import (
    HttpBinding,
    ServiceInfo,
    ServiceLike,
    grpc_method_path,
    method_bindings,
    resolve_service,
)
from grpcgw.errors import Code, GatewayError
from grpcgw.httprule import PathTemplate, TemplateError
from grpcgw.invoker import Invoker, MethodSpec, ResponseStream
from grpcgw.metadata import (
    HeaderMatcher,
    MetadataError,
    call_metadata,
    default_header_matcher,
    response_headers,
)
from grpcgw.options import GatewayOptions
from grpcgw.routing import MalformedPath, Match, MethodNotAllowed, NotFound, RouteTable
from grpcgw.streaming import Framing, choose_framing, raw_chunks, split_lines
from grpcgw.transcode import (
    BindingConfigError,
    RequestTranscoder,
    ResponseTranscoder,
    TranscodeError,
)

if TYPE_CHECKING:
    import grpc.aio

    from grpcgw.channel import TLSConfig

log = logging.getLogger("grpcgw")

_JSON = "application/json"


#: ``response_hook(request, response, reply)``: may change a successful response
#: (headers, status, body) or return a new one; ``reply`` is ``None`` for streams.
ResponseHook = Callable[["HttpRequest", "HttpResponse", Message | None], "HttpResponse | None"]
#: ``error_hook(request, error)``: renders every error response instead of the default.
ErrorHook = Callable[["HttpRequest", GatewayError], "HttpResponse"]

_HEALTH_METHOD = "grpc.health.v1.Health.Check"


class RouteConfigError(ValueError):
    """A ``google.api.http`` annotation that cannot be served; names the method and rule."""


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """An HTTP request as the gateway sees it, independent of the server that received it.

    ``path`` is the raw request path with its percent-escapes intact (routing
    decodes path variables itself, so ``%2F`` never splits a segment).
    """

    method: str
    path: str
    query: str = ""
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    #: The client's address, forwarded as ``x-forwarded-for``.
    remote_addr: str | None = None
    #: Metadata to send besides what the headers map to (e.g. the Lambda request context).
    metadata: Sequence[tuple[str, str]] = ()
    #: Seconds the call may take at most (e.g. what is left of a Lambda invocation).
    deadline: float | None = None


@dataclass(slots=True)
class HttpResponse:
    """An HTTP response: status, header list (repeats allowed) and body bytes.

    A streamed reply has ``stream`` instead of ``body``: chunks to send (and
    flush) as they come. Closing the iterator early cancels the gRPC call.
    """

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None

    async def read(self) -> bytes:
        """The whole body, collecting a stream (for adapters that cannot stream)."""
        if self.stream is None:
            return self.body
        return b"".join([chunk async for chunk in self.stream])

    def header(self, name: str) -> str | None:
        """The first value of a header, case-insensitively."""
        lower = name.lower()
        return next((v for k, v in self.headers if k.lower() == lower), None)

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


class Route(NamedTuple):
    """One HTTP binding of one gRPC method, compiled for serving."""

    binding: HttpBinding
    template: PathTemplate
    spec: MethodSpec
    request: RequestTranscoder
    response: ResponseTranscoder
    #: Renders replies inside a stream: always compact (one line per message).
    stream_response: ResponseTranscoder
    #: The ``health_path`` route: NOT_SERVING answers 503.
    health: bool = False

    @property
    def http_method(self) -> str:
        return self.binding.http_method

    @property
    def method(self) -> MethodDescriptor:
        return self.spec.descriptor

    @property
    def rpc(self) -> str:
        """The gRPC method path, ``/package.Service/Method``."""
        return self.spec.rpc

    def __str__(self) -> str:
        return f"{self.binding} -> {self.rpc}"


def error_response(
    error: GatewayError, extra_headers: Sequence[tuple[str, str]] = ()
) -> HttpResponse:
    """The HTTP response for a :class:`GatewayError`: a ``google.rpc.Status`` JSON body."""
    headers = [("Content-Type", _JSON), *error.headers, *extra_headers]
    return HttpResponse(error.http_status, headers, error.body())


def _health_route(path: str, options: GatewayOptions) -> Route:
    """``GET <path>?service=...`` -> ``grpc.health.v1.Health/Check``."""
    from google.protobuf import descriptor_pool
    from grpc_health.v1 import health_pb2  # noqa: F401  (puts the service in the pool)

    method = descriptor_pool.Default().FindMethodByName(_HEALTH_METHOD)
    route = _compile_route(method, HttpBinding("GET", path, "", ""), options)
    return route._replace(health=True)


def _compile_route(
    method: MethodDescriptor, binding: HttpBinding, options: GatewayOptions
) -> Route:
    where = f"{method.full_name} ({binding})"
    try:
        template = PathTemplate.parse(binding.template)
    except TemplateError as exc:
        raise RouteConfigError(f"{where}: {exc}") from None
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    try:
        request = RequestTranscoder(
            request_class,
            path_fields=[v.name for v in template.variables],
            body=binding.body,
            options=options,
            fill_field_mask=options.fill_patch_field_mask and binding.http_method == "PATCH",
        )
        response = ResponseTranscoder(
            response_class, response_body=binding.response_body, options=options
        )
        stream_response = ResponseTranscoder(
            response_class,
            response_body=binding.response_body,
            options=replace(options, indent=None),
        )
    except BindingConfigError as exc:
        raise RouteConfigError(f"{where}: {exc}") from None
    spec = MethodSpec(
        grpc_method_path(method),
        method,
        request_class,
        response_class,
        # Read once: descriptor attributes are slow to read.
        bool(method.client_streaming),
        bool(method.server_streaming),
    )
    return Route(binding, template, spec, request, response, stream_response)


def _earliest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _as_list(services: Iterable[ServiceLike] | ServiceLike) -> list[ServiceLike]:
    if isinstance(services, str | bytes) or not isinstance(services, Iterable):
        return [services]
    return list(services)


class Gateway:
    """An HTTP/JSON gateway for the ``google.api.http`` rules of some gRPC services.

    ``services`` are servicer instances, ``ServiceDescriptor`` objects or full
    service names (whose ``_pb2`` module has been imported). Calls go to the
    gRPC server at ``target`` (``unix:///tmp/app.sock``, ``host:port``, ...)
    over one ``grpc.aio`` channel opened on first use, or over ``channel``, or
    through any :class:`~grpcgw.invoker.Invoker` given as ``invoker``.
    Every route is compiled here: a bad annotation raises
    :class:`RouteConfigError` now, not at the first request.

    >>> gateway = Gateway([PingServicer()], target="unix:///tmp/app.sock")  # doctest: +SKIP
    >>> response = await gateway.handle(HttpRequest("GET", "/v1/ping"))    # doctest: +SKIP
    """

    def __init__(
        self,
        services: Iterable[ServiceLike] | ServiceLike,
        *,
        target: str | None = None,
        channel: grpc.aio.Channel | None = None,
        invoker: Invoker | None = None,
        tls: TLSConfig | None = None,
        options: GatewayOptions | None = None,
        header_matcher: HeaderMatcher | None = None,
        channel_options: Sequence[tuple[str, Any]] = (),
        response_hook: ResponseHook | None = None,
        error_hook: ErrorHook | None = None,
    ) -> None:
        if sum(x is not None for x in (target, channel, invoker)) != 1:
            raise TypeError("Gateway needs exactly one of target=, channel= or invoker=")
        if target is not None:
            from grpcgw.channel import parse_target

            parse_target(target)  # fail now on a malformed target, not at the first call
        self.options = options or GatewayOptions()
        self.services: tuple[ServiceInfo, ...] = tuple(
            resolve_service(s) for s in _as_list(services)
        )
        self._target = target
        self._tls = tls
        self._channel = channel
        self._channel_options = tuple(channel_options)
        if self.options.max_response_message is not None:
            self._channel_options += (
                ("grpc.max_receive_message_length", self.options.max_response_message),
            )
        self._response_hook = response_hook
        self._error_hook = error_hook
        self._invoker: Invoker | None = invoker
        #: Whether aclose() closes the invoker (only one the gateway made itself).
        self._owns_invoker = invoker is None
        self._matcher = header_matcher or default_header_matcher
        self._table: RouteTable[Route] = RouteTable(
            unescape_mode=self.options.unescape_mode,
            match_unregistered_custom_verb=self.options.match_unregistered_custom_verb,
        )
        for info in self.services:
            for method in info.descriptor.methods:
                for binding in method_bindings(
                    method, expose_unannotated=self.options.expose_unannotated
                ):
                    self._add(_compile_route(method, binding, self.options))
        if self.options.health_path:
            self._add(_health_route(self.options.health_path, self.options))

    def _add(self, route: Route) -> None:
        try:
            self._table.add(route.http_method, route.template, route)
        except ValueError as exc:
            raise RouteConfigError(f"{route.method.full_name} ({route.binding}): {exc}") from None

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every route, in the order the services and methods were given."""
        return tuple(target for _, _, target in self._table.routes())

    def match(
        self, method: str, raw_path: str, headers: Sequence[tuple[str, str]] = ()
    ) -> Match[Route]:
        """Route a request; raises :class:`GatewayError` (404, 405, 400) when it cannot.

        ``headers`` matter only with ``method_override`` (``X-HTTP-Method-Override``).
        """
        if self.options.method_override and method == "POST":
            override = next((v for k, v in headers if k.lower() == "x-http-method-override"), None)
            if override:
                method = override.strip().upper()
        try:
            return self._table.match(method, raw_path)
        except MethodNotAllowed as exc:
            raise GatewayError(
                Code.UNIMPLEMENTED,
                f"method {method} is not allowed for {raw_path.partition('?')[0]}",
                http_status=405,
                headers=[("Allow", ", ".join(exc.allowed))],
            ) from None
        except NotFound:
            raise GatewayError(
                Code.NOT_FOUND, f"no route for {method} {raw_path.partition('?')[0]}"
            ) from None
        except MalformedPath as exc:
            raise GatewayError(Code.INVALID_ARGUMENT, str(exc)) from None

    def _get_invoker(self) -> Invoker:
        if self._invoker is None:
            from grpcgw.channel import ChannelInvoker, open_channel

            channel = self._channel
            if channel is None:
                assert self._target is not None
                channel = open_channel(self._target, tls=self._tls, options=self._channel_options)
            self._invoker = ChannelInvoker(channel, owns_channel=self._channel is None)
        return self._invoker

    async def handle(self, request: HttpRequest) -> HttpResponse:
        """Serve one request. Never raises for a client's or server's failure:
        every error becomes a ``google.rpc.Status`` JSON response."""
        try:
            match = self.match(request.method, request.path, request.headers)
        except GatewayError as exc:
            return self.error(request, exc)
        return await self.dispatch(request, match)

    def error(
        self,
        request: HttpRequest,
        error: GatewayError,
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> HttpResponse:
        """The response for an error: ``error_hook``'s, or the ``google.rpc.Status`` JSON body."""
        if error.code == Code.UNAUTHENTICATED and not any(
            k.lower() == "www-authenticate" for k, _ in (*error.headers, *extra_headers)
        ):
            # The server's own challenge if it sent one, else grpc-gateway's: the message.
            challenge = next(
                (str(v) for k, v in error.header_metadata if k == "www-authenticate"),
                error.message,
            )
            error.headers.append(("WWW-Authenticate", challenge))
        if self._error_hook is not None:
            return self._error_hook(request, error)
        return error_response(error, extra_headers)

    async def handle_buffered(self, request: HttpRequest) -> HttpResponse:
        """:meth:`handle`, with a streamed reply collected into ``body`` (for Lambda).

        A raw byte stream that fails midway becomes an error response here,
        since nothing has been sent yet.
        """
        response = await self.handle(request)
        if response.stream is not None:
            try:
                response.body = await response.read()
            except GatewayError as exc:
                return self.error(request, exc)
            response.stream = None
        return response

    async def dispatch(self, request: HttpRequest, match: Match[Route]) -> HttpResponse:
        """Serve a request already routed by :meth:`match`."""
        route = match.target
        try:
            if len(request.body) > self.options.max_request_body:
                raise GatewayError(
                    Code.RESOURCE_EXHAUSTED,
                    f"request body of {len(request.body)} bytes exceeds the limit of "
                    f"{self.options.max_request_body} bytes",
                    http_status=413,
                )
            metadata, timeout = self._call_metadata(request)
            invoker = self._invoker or self._get_invoker()
            spec = route.spec
            payload: Message | list[Message] = (
                self._request_stream(route, match, request)
                if spec.client_streaming
                else self._request_message(route, match, request, request.body)
            )
            if spec.server_streaming:
                stream = invoker.stream(spec, payload, metadata=metadata, deadline=timeout)
                return await self._stream_response(route, stream, request)
            result = await invoker.unary(spec, payload, metadata=metadata, deadline=timeout)
        except GatewayError as exc:
            headers, _ = response_headers(exc.header_metadata, exc.trailing_metadata)
            return self.error(request, exc, headers)
        except Exception:
            # Never a traceback to the client; the server log gets it.
            log.exception("internal error serving %s %s", request.method, request.path)
            return self.error(request, GatewayError(Code.INTERNAL, "internal gateway error"))
        headers, status = response_headers(result.header_metadata, result.trailing_metadata)
        if route.health and getattr(result.message, "status", 1) != 1:  # 1: SERVING
            status = 503
        if status == 204:
            response = HttpResponse(204, headers, b"")
        else:
            body, content_type = route.response.render(result.message)
            headers.insert(0, ("Content-Type", content_type))
            response = HttpResponse(status or 200, headers, body)
        return self._respond(request, response, result.message)

    def _respond(
        self, request: HttpRequest, response: HttpResponse, reply: Message | None
    ) -> HttpResponse:
        if self._response_hook is None:
            return response
        return self._response_hook(request, response, reply) or response

    def _request_message(
        self, route: Route, match: Match[Route], request: HttpRequest, body: bytes
    ) -> Message:
        query = request.query or request.path.partition("?")[2]
        content_type = ""
        if route.request.raw_body:  # only google.api.HttpBody keeps the Content-Type
            content_type = next((v for k, v in request.headers if k.lower() == "content-type"), "")
        try:
            return route.request.transcode(match.bindings, query, body, content_type)
        except TranscodeError as exc:
            raise GatewayError(Code.INVALID_ARGUMENT, str(exc)) from None

    def _request_stream(
        self, route: Route, match: Match[Route], request: HttpRequest
    ) -> list[Message]:
        """The request messages of a client stream: one per NDJSON line, or raw chunks.

        The body is read whole first, so a bad line answers 400 before any call.
        """
        chunks = raw_chunks if route.request.raw_body else split_lines
        messages = []
        for n, chunk in enumerate(chunks(request.body), 1):
            try:
                messages.append(self._request_message(route, match, request, chunk))
            except GatewayError as exc:
                raise GatewayError(exc.code, f"request stream message {n}: {exc.message}") from None
        return messages

    async def _stream_response(
        self, route: Route, stream: ResponseStream, request: HttpRequest
    ) -> HttpResponse:
        """A streamed reply. A failure before the first reply is an ordinary error response."""
        try:
            first = await stream.next()
            header_metadata = await stream.header_metadata()
        except BaseException:
            stream.cancel()
            raise
        accept = next((v for k, v in request.headers if k.lower() == "accept"), None)
        framing = choose_framing(accept, http_body=route.response.http_body)
        headers, status = response_headers(header_metadata, ())
        content_type = framing.content_type
        if route.response.http_body and first is not None:
            content_type = route.response.render(first)[1]
        headers.insert(0, ("Content-Type", content_type))
        response = HttpResponse(
            status or 200, headers, stream=self._frames(route, stream, first, framing)
        )
        return self._respond(request, response, None)

    async def _frames(
        self, route: Route, stream: ResponseStream, first: Message | None, framing: Framing
    ) -> AsyncIterator[bytes]:
        try:
            message = first
            while message is not None:
                yield framing.message(route.stream_response.render(message)[0])
                message = await stream.next()
        except GatewayError as exc:
            if not framing.can_report_errors:
                raise  # the adapter aborts the response: a truncated body, never a silent one
            yield framing.error(exc.body())
        finally:
            # Ends the call when the client went away (the adapter closes this generator).
            stream.cancel()

    def _call_metadata(
        self, request: HttpRequest
    ) -> tuple[list[tuple[str, str | bytes]], float | None]:
        try:
            metadata, header_timeout = call_metadata(
                request.headers, remote_addr=request.remote_addr, matcher=self._matcher
            )
        except MetadataError as exc:
            raise GatewayError(Code.INVALID_ARGUMENT, str(exc)) from None
        metadata.extend(request.metadata)
        timeout = _earliest(_earliest(self.options.timeout, request.deadline), header_timeout)
        return metadata, timeout

    async def aclose(self) -> None:
        """Close the channel the gateway opened (a channel or invoker passed in is left open)."""
        if self._invoker is not None and self._owns_invoker:
            await self._invoker.aclose()
            self._invoker = None

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
