"""The gateway: HTTP request in, gRPC call, HTTP response out.

:class:`Gateway` is the façade: it compiles the routes of some services
(:class:`Route`), matches requests to them, and hands each matched request
to its :class:`~grpcgw.driver.Driver`, which makes the call and renders the
outcome. It knows nothing of aiohttp or Lambda: the web and Lambda adapters
turn their requests into :class:`HttpRequest` and write back
:class:`HttpResponse` (both in :mod:`grpcgw.exchange`).

Every front end takes the same configuration, :class:`GatewayConfig`: the
keyword arguments of :class:`Gateway` that say how requests are served
(options, matchers, hooks), as opposed to how calls reach the server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from time import perf_counter
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict, Unpack

from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.descriptor_pb2 import FileDescriptorProto, FileDescriptorSet

from grpcgw.descriptors import (
    HttpBinding,
    ServiceInfo,
    ServiceLike,
    grpc_method_path,
    method_bindings,
    resolve_service,
)
from grpcgw.driver import Driver, without_body
from grpcgw.errors import Code, GatewayError
from grpcgw.exchange import (
    ErrorHook,
    HttpRequest,
    HttpResponse,
    ResponseHook,
    error_response,
)
from grpcgw.httprule import PathTemplate, TemplateError
from grpcgw.invoker import Invoker, MethodSpec
from grpcgw.logs import AccessLog
from grpcgw.metadata import (
    HeaderMatcher,
    OutgoingHeaders,
    OutgoingMatcher,
    default_header_matcher,
    forwarded_as,
)
from grpcgw.options import SECURITY_HEADER, GatewayOptions
from grpcgw.routing import (
    DuplicateRouteError,
    MalformedPath,
    Match,
    MethodNotAllowed,
    NotFound,
    RouteTable,
)
from grpcgw.transcode import (
    BindingConfigError,
    RequestTranscoder,
    ResponseTranscoder,
    clear_caches,
)

if TYPE_CHECKING:
    import grpc.aio
    from google.protobuf.descriptor_pool import DescriptorPool

    from grpcgw.apidocs import ApiDocs
    from grpcgw.wssession import WebSocketCall

    #: A ``FileDescriptorSet``, or its files.
    DescriptorSetLike = FileDescriptorSet | Iterable[FileDescriptorProto]
    from grpcgw.channel import TLSConfig

__all__ = [
    "ErrorHook",
    "Gateway",
    "GatewayConfig",
    "HttpRequest",
    "HttpResponse",
    "ResponseHook",
    "Route",
    "RouteConfigError",
    "error_response",
]

log = logging.getLogger("grpcgw")

_HEALTH_METHOD = "grpc.health.v1.Health.Check"
# A method no route has: matching it lists every method a path has routes for.
_NO_METHOD = "\x00"


class GatewayConfig(TypedDict, total=False):
    """How requests are served: the keyword arguments that :class:`Gateway`,
    :func:`~grpcgw.serve_local`, :func:`~grpcgw.start_local` and
    :func:`~grpcgw.serve_lambda` all take, with the same meaning (the proxy
    takes ``options`` as flags, environment variables and a TOML file).

    One configuration can be written once and given to each::

        config: grpcgw.GatewayConfig = {"options": grpcgw.GatewayOptions(...),
                                        "error_hook": on_error}
        grpcgw.serve_local(MyServicer(), **config)
        handler = grpcgw.serve_lambda(MyServicer(), **config)
    """

    #: Routing, transcoding, limits, CORS, the access log (:class:`GatewayOptions`).
    options: GatewayOptions | None
    #: Request header name -> call metadata key, or ``None`` to drop it
    #: (default: :func:`grpcgw.metadata.default_header_matcher`).
    header_matcher: HeaderMatcher | None
    #: Response header metadata key -> response header name, or ``None`` to drop it
    #: (default: ``Grpc-Metadata-<k>``, and ``set-cookie`` -> ``Set-Cookie``).
    outgoing_header_matcher: OutgoingMatcher | None
    #: Trailer metadata key -> response header name, or ``None`` to drop it
    #: (default: ``Grpc-Trailer-<k>``, and ``set-cookie`` -> ``Set-Cookie``).
    outgoing_trailer_matcher: OutgoingMatcher | None
    #: Reshapes every successful response.
    response_hook: ResponseHook | None
    #: Renders every error response.
    error_hook: ErrorHook | None


#: The names :class:`GatewayConfig` holds.
CONFIG_KEYS = frozenset(GatewayConfig.__annotations__)


def front_end_defaults(config: GatewayConfig, on: bool) -> GatewayConfig:
    """``config`` with what its options leave to the front end (``None``) set to
    ``on``: ``access_log`` and ``api_docs``, on for a server that owns its process
    (``serve_local``, the proxy), off on Lambda."""
    options = config.get("options") or GatewayOptions()
    if options.access_log is not None and options.api_docs is not None:
        return config
    access_log = on if options.access_log is None else options.access_log
    api_docs = on if options.api_docs is None else options.api_docs
    return {**config, "options": replace(options, access_log=access_log, api_docs=api_docs)}


#: The former name of :func:`front_end_defaults`.
access_log_default = front_end_defaults


#: The :class:`GatewayConfig` keywords that take a function.
_CALLABLE_KEYS = (
    "header_matcher",
    "outgoing_header_matcher",
    "outgoing_trailer_matcher",
    "response_hook",
    "error_hook",
)


def check_config(config: Mapping[str, object], where: str) -> None:
    """Raise ``TypeError`` for a keyword :class:`GatewayConfig` does not have (the
    keywords arrive as ``**config``, which Python itself does not check) or a value
    of the wrong kind: found at start-up, not as a 500 on every request."""
    unknown = config.keys() - CONFIG_KEYS
    if unknown:
        name = min(unknown)
        raise TypeError(
            f"{where}() got an unexpected keyword argument {name!r} "
            f"(it takes {', '.join(sorted(CONFIG_KEYS))})"
        )
    check_instance(config.get("options"), GatewayOptions, "options", where)
    for key in _CALLABLE_KEYS:
        value = config.get(key)
        if value is not None and not callable(value):
            raise TypeError(f"{where}(): {key} must be a function (or None), not {_kind(value)}")


def check_instance(value: object, cls: type, name: str, where: str) -> None:
    """Raise ``TypeError`` unless ``value`` (the argument ``name`` of ``where()``) is
    ``None`` or a ``cls``; a mapping gets the spelling that would have worked."""
    if value is None or isinstance(value, cls):
        return
    hint = ""
    if isinstance(value, Mapping):
        hint = f" (build one from it: {name}=grpcgw.{cls.__name__}(**...))"
    raise TypeError(f"{where}(): {name} must be a grpcgw.{cls.__name__}, not {_kind(value)}{hint}")


def check_interceptors(interceptors: object, where: str) -> tuple[object, ...]:
    """``interceptors`` as a tuple (``None``: none, as ``grpc.server`` takes it), or
    ``TypeError`` for one interceptor (or anything else) where a list is expected."""
    if interceptors is None:
        return ()
    if isinstance(interceptors, str | bytes | Mapping) or not isinstance(interceptors, Iterable):
        raise TypeError(
            f"{where}(): interceptors must be a list of interceptors, not {_kind(interceptors)} "
            "(write interceptors=[...])"
        )
    return tuple(interceptors)


def _kind(value: object) -> str:
    """``a dict``, ``an int``: what a value is, for a message."""
    name = type(value).__qualname__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


class RouteConfigError(ValueError):
    """``google.api.http`` annotations that cannot be served, every one of them at once.

    :attr:`problems` has one line per bad rule: the method, the rule and what is
    wrong (``pkg.Service.Method (GET /v1/{x}): ...``). With one bad rule the
    message is that line; with several, a count and then the lines, so a user
    fixes them all before the next run. A conflict between two rules is
    reported on the later one, naming the earlier one's method.
    """

    problems: tuple[str, ...]

    def __init__(self, *problems: str) -> None:
        if not problems:
            raise TypeError("RouteConfigError needs at least one problem")
        self.problems = problems
        if len(problems) == 1:
            message = problems[0]
        else:
            lines = "".join(f"\n  {line}" for line in problems)
            message = f"{len(problems)} HTTP rules cannot be served:{lines}"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self.problems)


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


def _as_list(services: Iterable[ServiceLike] | ServiceLike) -> list[ServiceLike]:
    if isinstance(services, str | bytes) or not isinstance(services, Iterable):
        return [services]
    return list(services)


class _RouteSet(NamedTuple):
    """What a gateway serves: its services, their compiled routes and the files
    their comments come from, swapped as one."""

    services: tuple[ServiceInfo, ...]
    table: RouteTable[Route]
    files: tuple[FileDescriptorProto, ...] | None


def _add(table: RouteTable[Route], route: Route) -> None:
    try:
        table.add(route.http_method, route.template, route)
    except DuplicateRouteError as exc:
        # Name the method whose rule was there first: the fix may be in either.
        first = next(
            (
                target
                for method, template, target in table.routes()
                if method == exc.method and template == exc.existing
            ),
            None,
        )
        whose = f" of {first.method.full_name}" if first is not None else ""
        raise RouteConfigError(
            f"{route.method.full_name} ({route.binding}): duplicate route: it matches the same "
            f"requests as {exc.method} {exc.existing.text}{whose}"
        ) from None
    except ValueError as exc:
        raise RouteConfigError(f"{route.method.full_name} ({route.binding}): {exc}") from None


def _compile_routes(
    services: Iterable[ServiceLike] | ServiceLike,
    options: GatewayOptions,
    pool: DescriptorPool | None,
    descriptor_set: DescriptorSetLike | None,
) -> _RouteSet:
    """Every route of ``services``, or one :class:`RouteConfigError` with every bad rule."""
    infos = tuple(resolve_service(s, pool) for s in _as_list(services))
    table: RouteTable[Route] = RouteTable(
        unescape_mode=options.unescape_mode,
        match_unregistered_custom_verb=options.match_unregistered_custom_verb,
    )
    problems: list[str] = []
    bindings = 0
    for info in infos:
        for method in info.descriptor.methods:
            for binding in method_bindings(method, expose_unannotated=options.expose_unannotated):
                bindings += 1
                try:
                    _add(table, _compile_route(method, binding, options))
                except RouteConfigError as exc:
                    problems.extend(exc.problems)
    if infos and not bindings:
        _say_nothing_is_served(infos)
    if options.health_path:
        try:
            _add(table, _health_route(options.health_path, options))
        except RouteConfigError as exc:
            problems.extend(exc.problems)
    if options.api_docs:
        problems.extend(_api_docs_problems(table, options))
    if problems:
        raise RouteConfigError(*problems)
    return _RouteSet(infos, table, _files_of(descriptor_set))


def _say_nothing_is_served(infos: Sequence[ServiceInfo]) -> None:
    """A gateway whose services have no ``google.api.http`` rule answers 404 to every
    request: say why once, at start-up, where a user looks first."""
    names = ", ".join(info.descriptor.full_name for info in infos)
    log.warning(
        "no method of %s has a google.api.http annotation: nothing is served over HTTP "
        '(the .proto needs import "google/api/annotations.proto" and an option '
        "(google.api.http) on each method; GatewayOptions(expose_unannotated=True) "
        "serves every method at POST /<package.Service>/<Method>)",
        names,
    )


def _files_of(descriptor_set: DescriptorSetLike | None) -> tuple[FileDescriptorProto, ...] | None:
    if descriptor_set is None:
        return None
    if isinstance(descriptor_set, FileDescriptorSet):
        return tuple(descriptor_set.file)
    return tuple(descriptor_set)


def _read_comments(path: str) -> tuple[FileDescriptorProto, ...]:
    """The files of the descriptor set ``GatewayOptions.openapi_comments`` names."""
    from pathlib import Path

    from grpcgw.proxy._files import DescriptorError, parse_descriptor_set

    where = f"GatewayOptions.openapi_comments ({path})"
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DescriptorError(f"{where}: cannot read it: {exc.strerror or exc}") from None
    files = tuple(parse_descriptor_set(data, where))
    if not any(f.source_code_info.location for f in files):
        log.warning(
            "%s holds no comments: build it with protoc --include_source_info (buf build "
            "keeps them)",
            where,
        )
    return files


def _check_security_headers(security: Sequence[str], matcher: HeaderMatcher) -> None:
    """Say in the log when ``GatewayOptions.openapi_security`` declares an API key in a
    header that the header matcher drops: the explorer would send it, the server
    would never see it."""
    for scheme in security:
        header = scheme.removeprefix(SECURITY_HEADER)
        if scheme.startswith(SECURITY_HEADER) and forwarded_as(header, matcher) is None:
            log.warning(
                "GatewayOptions.openapi_security declares an API key in the %s header, "
                "which the header matcher does not forward: the server never sees it "
                "(declare header:Grpc-Metadata-%s, which arrives as %s, or pass a "
                "header_matcher that keeps it)",
                header,
                header,
                header.lower(),
            )


def _api_docs_problems(table: RouteTable[Route], options: GatewayOptions) -> list[str]:
    """A binding whose template is one of the API description's paths is an error;
    one that matches such a path through a variable is left to the description
    there (a literal path is more specific), and said once in the log."""
    from grpcgw.apidocs import served_paths

    problems: list[str] = []
    seen: set[int] = set()
    for path, name in served_paths(options).items():
        try:
            table.match(_NO_METHOD, path)
        except MethodNotAllowed as exc:
            methods = exc.allowed
        except (NotFound, MalformedPath):
            continue
        else:  # pragma: no cover  (no route has that method)
            continue
        for method in methods:
            route = table.match(method, path).target
            if id(route) in seen:
                continue
            seen.add(id(route))
            if not route.template.variables:
                problems.append(
                    f"{route.method.full_name} ({route.binding}): claims {path}, where the "
                    f"gateway serves the API description (GatewayOptions.{name}): move the "
                    f"binding, or give {name} another path (or None), or api_docs=False"
                )
                continue
            log.warning(
                "%s (%s) also matches %s; the API description is served there (GatewayOptions.%s)",
                route.method.full_name,
                route.binding,
                path,
                name,
            )
    return problems


class Gateway:
    """An HTTP/JSON gateway for the ``google.api.http`` rules of some gRPC services.

    ``services`` are servicer instances, ``ServiceDescriptor`` objects or full
    service names, looked up in ``pool``: by default the default descriptor
    pool, where imported ``_pb2`` modules put their files; or a pool of the
    gateway's own, such as :func:`grpcgw.proxy.load_descriptors` builds from
    server reflection or a descriptor set (a ``ServiceDescriptor`` brings its
    own pool). :meth:`replace_services` swaps them while serving. Calls go to the
    gRPC server at ``target`` (``unix:///tmp/app.sock``, ``host:port``, ...)
    over one ``grpc.aio`` channel opened on first use, or over ``channel``, or
    through any :class:`~grpcgw.invoker.Invoker` given as ``invoker``.
    Every route is compiled here: a bad annotation raises
    :class:`RouteConfigError` now, not at the first request.

    ``descriptor_set``: the ``FileDescriptorSet`` (or its files) the services'
    descriptors came from, built with ``protoc --include_source_info``: its proto
    comments become the summaries and descriptions of :meth:`openapi` and of the
    served API description (``GatewayOptions.openapi_comments`` names a file
    to take them from instead).

    ``config`` is a :class:`GatewayConfig`: ``options``, ``header_matcher``,
    ``outgoing_header_matcher``, ``outgoing_trailer_matcher``,
    ``response_hook``, ``error_hook``.

    >>> gateway = Gateway([PingServicer()], target="unix:///tmp/app.sock")  # doctest: +SKIP
    >>> response = await gateway.handle(HttpRequest("GET", "/v1/ping"))    # doctest: +SKIP
    """

    def __init__(
        self,
        services: Iterable[ServiceLike] | ServiceLike,
        *,
        pool: DescriptorPool | None = None,
        target: str | None = None,
        channel: grpc.aio.Channel | None = None,
        invoker: Invoker | None = None,
        tls: TLSConfig | None = None,
        channel_options: Sequence[tuple[str, Any]] = (),
        descriptor_set: DescriptorSetLike | None = None,
        **config: Unpack[GatewayConfig],
    ) -> None:
        check_config(config, "Gateway")
        if sum(x is not None for x in (target, channel, invoker)) != 1:
            raise TypeError("Gateway needs exactly one of target=, channel= or invoker=")
        if target is not None:
            from grpcgw.channel import parse_target

            parse_target(target)  # fail now on a malformed target, not at the first call
        self.options = config.get("options") or GatewayOptions()
        self._routes = _compile_routes(services, self.options, pool, descriptor_set)
        comments = self.options.openapi_comments
        self._comment_files = None if comments is None else _read_comments(comments)
        self._target = target
        self._tls = tls
        self._channel = channel
        self._channel_options = tuple(channel_options)
        matcher = config.get("header_matcher") or default_header_matcher
        if self.options.openapi_security:
            _check_security_headers(self.options.openapi_security, matcher)
        self._driver = Driver(
            self.options,
            invoker=invoker,
            connect=self._open_invoker,
            matcher=matcher,
            response_hook=config.get("response_hook"),
            error_hook=config.get("error_hook"),
            # A channel the gateway opens enforces max_response_message itself.
            check_reply_size=target is None,
            outgoing=OutgoingHeaders(
                config.get("outgoing_header_matcher"), config.get("outgoing_trailer_matcher")
            ),
            access_log=AccessLog() if self.options.access_log else None,
        )
        self._cors = self.options.cors is not None
        #: No hook reshapes a reply (the edge's fast lane needs that: grpcgw.web).
        self._plain_replies = (
            config.get("response_hook") is None and config.get("error_hook") is None
        )
        self._api_docs: ApiDocs | None = None
        if self.options.api_docs:
            from grpcgw.apidocs import ApiDocs

            self._api_docs = ApiDocs(self.options, self.openapi)

    @property
    def services(self) -> tuple[ServiceInfo, ...]:
        """The services served, in the order given."""
        return self._routes.services

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every route, in the order the services and methods were given."""
        return tuple(target for _, _, target in self._routes.table.routes())

    def replace_services(
        self,
        services: Iterable[ServiceLike] | ServiceLike,
        *,
        pool: DescriptorPool | None = None,
        descriptor_set: DescriptorSetLike | None = None,
    ) -> None:
        """Serve ``services`` (looked up in ``pool``) instead, from the next request on.

        The new routes are compiled first, with the gateway's options: a bad
        annotation or an unknown name raises here and the gateway keeps
        serving what it served. Then they replace the old ones in one step, so
        a request is routed wholly by the old set or wholly by the new; requests
        already routed finish with the route (and message types) they matched.
        The channel stays open. ``descriptor_set`` is as for the gateway: the
        comments of the new services (the old ones' go with them).
        """
        self._routes = _compile_routes(services, self.options, pool, descriptor_set)
        clear_caches()  # they hold the old descriptors, and so their pool

    def match(
        self, method: str, raw_path: str, headers: Sequence[tuple[str, str]] = ()
    ) -> Match[Route]:
        """Route a request; raises :class:`GatewayError` (404, 405, 400) when it cannot.

        ``HEAD`` takes a path's ``GET`` route unless a ``HEAD`` route (a
        ``custom`` binding) matches. ``headers`` matter only with
        ``method_override`` (``X-HTTP-Method-Override``).
        """
        if self.options.method_override and method == "POST":
            override = next((v for k, v in headers if k.lower() == "x-http-method-override"), None)
            if override:
                method = override.strip().upper()
        try:
            return self._routes.table.match(method, raw_path)
        except MethodNotAllowed as exc:
            allowed = exc.allowed
        except NotFound:
            raise GatewayError(
                Code.NOT_FOUND, f"no route for {method} {raw_path.partition('?')[0]}"
            ) from None
        except MalformedPath as exc:
            raise GatewayError(Code.INVALID_ARGUMENT, str(exc)) from None
        if "GET" in allowed:
            if method == "HEAD":
                return self.match("GET", raw_path)  # answered like GET, without the body
            if "HEAD" not in allowed:
                allowed = tuple(sorted((*allowed, "HEAD")))
        raise GatewayError(
            Code.UNIMPLEMENTED,
            f"method {method} is not allowed for {raw_path.partition('?')[0]}",
            http_status=405,
            headers=[("Allow", ", ".join(allowed))],
        )

    def websocket_match(self, raw_path: str) -> Match[Route] | None:
        """The route a WebSocket handshake on ``raw_path`` opens (``websocket`` on):
        the path's streaming binding whatever its verb, ``GET``'s first, then
        ``POST``, ``PUT``, ``PATCH``, ``DELETE``, custom verbs by name; ``None`` when
        the path has none (the handshake is then answered as a plain request).
        ``google.api.HttpBody`` streams are not served over WebSocket."""
        from grpcgw.wsframes import websocket_methods

        table = self._routes.table
        try:
            table.match(_NO_METHOD, raw_path)
        except MethodNotAllowed as exc:
            allowed = exc.allowed
        except (NotFound, MalformedPath):
            return None
        else:  # pragma: no cover  (no route has that method)
            return None
        for verb in websocket_methods(allowed):
            match = table.match(verb, raw_path)
            route = match.target
            spec = route.spec
            if (spec.client_streaming or spec.server_streaming) and not (
                route.request.raw_body or route.response.http_body
            ):
                return match
        return None

    def open_websocket(self, request: HttpRequest, match: Match[Route]) -> WebSocketCall:
        """The call a WebSocket handshake for ``match`` (:meth:`websocket_match`) opens;
        raises :class:`GatewayError` to answer the handshake with instead: 403 for an
        ``Origin`` that is neither this host nor allowed by ``cors`` (Cross-Site
        WebSocket Hijacking), 400 or 431 for headers that make bad metadata. The
        server answers the handshake and runs :meth:`WebSocketCall.run
        <grpcgw.wssession.WebSocketCall.run>` (:mod:`grpcgw.web` does)."""
        return self._driver.open_websocket(request, match)

    def _open_invoker(self) -> Invoker:
        """The gateway's own invoker, over ``channel`` or a channel to ``target``."""
        from grpcgw.channel import ChannelInvoker, gateway_channel_options, open_channel

        channel = self._channel
        if channel is None:
            assert self._target is not None
            options = [*gateway_channel_options(self.options), *self._channel_options]
            channel = open_channel(self._target, tls=self._tls, options=options)
        return ChannelInvoker(channel, owns_channel=self._channel is None)

    async def handle(self, request: HttpRequest) -> HttpResponse:
        """Serve one request. Never raises for what a request or a reply contains:
        every error becomes a ``google.rpc.Status`` JSON response."""
        if not request.query and "?" in request.path:
            path, _, query = request.path.partition("?")
            request = replace(request, path=path, query=query)
        if self._api_docs is not None:
            answer = self.serve_api_docs(request)
            if answer is not None:
                return answer
        if self._cors and request.method == "OPTIONS":
            preflight = self.preflight(request)
            if preflight is not None:
                return preflight
        try:
            match = self.match(request.method, request.path, request.headers)
        except GatewayError as exc:
            response = self.error(request, exc)
            return await without_body(response) if request.method == "HEAD" else response
        return await self._driver.serve(request, match)

    @property
    def api_docs_paths(self) -> tuple[str, ...]:
        """The paths :meth:`serve_api_docs` answers (none unless ``GatewayOptions.api_docs``)."""
        return () if self._api_docs is None else self._api_docs.paths

    def serve_api_docs(self, request: HttpRequest) -> HttpResponse | None:
        """The answer to a request for the API description (``GatewayOptions.api_docs``):
        the OpenAPI 3.1 or Swagger 2.0 document, the explorer page or one of its
        files, with the CORS headers and an access line; ``None`` for any other
        path. :meth:`handle` asks it first; an adapter that routes with
        :meth:`match` itself asks it too (see :mod:`grpcgw.apidocs`).

        ``request.path`` is the raw path, without the query.
        """
        docs = self._api_docs
        target = None if docs is None else docs.find(request.path)
        if target is None:
            return None
        assert docs is not None
        start = perf_counter()
        if self._cors and request.method == "OPTIONS":
            origin = next((v for k, v in request.headers if k.lower() == "origin"), None)
            method = next(
                (v for k, v in request.headers if k.lower() == "access-control-request-method"),
                None,
            )
            if origin is not None and method is not None:
                return self._driver.preflight(request, origin, method, ("GET", "HEAD"))
        try:
            response = docs.answer(request, target)
        except GatewayError as exc:
            return self._driver.answer_error(request, exc, start=start)
        except Exception:
            log.exception("internal error serving %s %.200r", request.method, request.path)
            error = GatewayError(Code.INTERNAL, "internal gateway error")
            return self._driver.answer_error(request, error, start=start)
        if self._cors:
            self._driver.add_cors(request, response)
        response = self._driver.compress(request, response)
        self._driver.log(request, None, response, Code.OK, start)
        return response

    def preflight(self, request: HttpRequest) -> HttpResponse | None:
        """The answer to a CORS preflight (``OPTIONS`` with ``Origin`` and
        ``Access-Control-Request-Method``) on a path that has routes, by
        ``GatewayOptions.cors``: 204 with the CORS headers, or 403 when refused.
        ``None`` for any other request, a path without routes, or with CORS off.

        :meth:`handle` and :meth:`dispatch` ask it first; an adapter that
        routes with :meth:`match` itself asks it before answering an error.
        """
        if not self._cors or request.method != "OPTIONS":
            return None
        origin = method = None
        for name, value in request.headers:
            lower = name.lower()
            if lower == "origin" and origin is None:
                origin = value
            elif lower == "access-control-request-method" and method is None:
                method = value
        if origin is None or method is None:
            return None
        try:
            self._routes.table.match(_NO_METHOD, request.path)
        except MethodNotAllowed as exc:
            allowed = set(exc.allowed)
        except (NotFound, MalformedPath):
            return None  # routed as usual: 404 or 400
        else:  # pragma: no cover  (no route has that method)
            return None
        if "GET" in allowed:
            allowed.add("HEAD")
        if self.options.method_override:
            allowed.add("POST")  # X-HTTP-Method-Override reaches every route of the path
        return self._driver.preflight(request, origin, method, sorted(allowed))

    def error(
        self,
        request: HttpRequest,
        error: GatewayError,
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> HttpResponse:
        """The response for a request answered with ``error`` before any call (no
        route, wrong method, a body too large): ``error_hook``'s, or the
        ``google.rpc.Status`` JSON body, with the CORS headers; logged in the
        access log.

        An internal message (:attr:`GatewayError.internal`) is logged and replaced
        by a generic one unless ``expose_internal_errors``; ``error`` itself is
        left as it is.
        """
        return self._driver.answer_error(request, error, extra_headers)

    async def handle_buffered(self, request: HttpRequest) -> HttpResponse:
        """:meth:`handle`, with a streamed reply collected into ``body`` (for Lambda).

        A raw byte stream that fails midway becomes an error response here,
        since nothing has been sent yet.
        """
        response = await self.handle(request)
        if response.stream is None:
            return response
        return await self._driver.collect(request, response)

    async def dispatch(self, request: HttpRequest, match: Match[Route]) -> HttpResponse:
        """Serve a request already routed by :meth:`match` (``request.query``
        holds its query string). A CORS preflight is answered by :meth:`preflight`,
        even on a path with an ``OPTIONS`` route."""
        if self._cors and request.method == "OPTIONS":
            preflight = self.preflight(request)
            if preflight is not None:
                return preflight
        return await self._driver.serve(request, match)

    async def aclose(self) -> None:
        """Close the channel the gateway opened (a channel or invoker passed in is left open)."""
        await self._driver.aclose()

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def descriptor_set(self) -> tuple[FileDescriptorProto, ...] | None:
        """The files the API description's comments come from: those of
        ``GatewayOptions.openapi_comments``, else the ``descriptor_set`` given
        with the services now served; ``None`` if neither."""
        if self._comment_files is not None:
            return self._comment_files
        return self._routes.files

    def openapi(self, version: str = "3.1") -> dict[str, Any]:
        """These routes as an OpenAPI document: ``"3.1"`` (OpenAPI 3.1.0) or ``"2.0"``
        (Swagger 2.0), with the proto comments of :attr:`descriptor_set`. Built on
        first use and cached; shared, so copy before changing. See
        :mod:`grpcgw.openapi`."""
        from grpcgw.openapi import document

        return document(self, version)
