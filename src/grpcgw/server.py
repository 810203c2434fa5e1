"""``serve_local``: the gRPC server and the HTTP/JSON gateway side by side, for development.

One event loop runs both: the gRPC server (with reflection, so ``grpcurl
-plaintext localhost:8081 list`` works; threaded for plain servicers,
``grpc.aio`` otherwise) and an aiohttp site serving the gateway. With
``dispatch="socket"`` (the default) the gateway dials the gRPC server over
loopback like any client; with ``dispatch="direct"`` it calls the same
servicers, with the same interceptors, in process (:mod:`grpcgw.dispatch`),
and the gRPC server serves gRPC clients only.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Sequence
from typing import Any, Unpack

from grpcgw.descriptors import ServiceInfo, ServiceLike, resolve_service
from grpcgw.gateway import Gateway, GatewayConfig, check_config, front_end_defaults
from grpcgw.grpcserver import GrpcServer
from grpcgw.httpserver import HttpServer, split_address, start_server
from grpcgw.invoker import Dispatch, Invoker, check_dispatch
from grpcgw.limits import HttpLimits
from grpcgw.logs import LogFormat, configure
from grpcgw.web import create_app

log = logging.getLogger("grpcgw")

DEFAULT_HTTP_ADDRESS = "[::]:8080"
DEFAULT_GRPC_ADDRESS = "[::]:8081"


def _dial_address(grpc_address: str, port: int) -> str:
    if grpc_address.startswith("unix"):
        return grpc_address
    host, _ = split_address(grpc_address)
    # A wildcard bind address is not something to dial: use loopback.
    if host in ("", "::", "0.0.0.0", "*"):
        host = "localhost"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class LocalServer:
    """A running ``serve_local`` pair; :func:`start_local` creates it."""

    def __init__(
        self,
        grpc_server: GrpcServer,
        http_server: HttpServer,
        gateway: Gateway,
        invoker: Invoker | None = None,
    ) -> None:
        self.grpc_server = grpc_server
        self.http_server = http_server
        self.gateway = gateway
        #: The direct-dispatch invoker the gateway calls through (``None``: the socket).
        self.invoker = invoker

    @property
    def dispatch(self) -> Dispatch:
        """How the gateway reaches the servicers: ``"socket"`` or ``"direct"``."""
        return "socket" if self.invoker is None else "direct"

    @property
    def grpc_port(self) -> int:
        return self.grpc_server.port

    @property
    def http_port(self) -> int:
        """The TCP port the HTTP gateway listens on (useful with port 0)."""
        return self.http_server.port

    async def stop(self, grace: float = 5.0) -> None:
        """Stop HTTP first (no new gateway calls), then the gRPC server, gracefully."""
        await self.http_server.stop()
        await self.grpc_server.stop(grace)
        if self.invoker is not None:
            await self.invoker.aclose()

    async def __aenter__(self) -> LocalServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def start_local(
    *servicers: ServiceLike,
    http_address: str = DEFAULT_HTTP_ADDRESS,
    grpc_address: str = DEFAULT_GRPC_ADDRESS,
    interceptors: Sequence[object] = (),
    reflection: bool = True,
    grpc_server_options: Sequence[tuple[str, Any]] = (),
    limits: HttpLimits | None = None,
    dispatch: Dispatch = "socket",
    **config: Unpack[GatewayConfig],
) -> LocalServer:
    """Start the gRPC server and the HTTP gateway in the running loop, and return them.

    ``config`` is the :class:`~grpcgw.GatewayConfig` every front end takes; the
    access log is on unless ``GatewayOptions(access_log=False)``. Logging itself
    is left as the program set it up. ``dispatch`` is as for :func:`serve_local`.
    """
    check_config(config, "start_local")
    dispatch = check_dispatch(dispatch, "start_local")
    if not servicers:
        raise TypeError("start_local() needs at least one servicer")
    services = [resolve_service(s) for s in servicers]
    gateway_services = [s.descriptor for s in services]
    config = front_end_defaults(config, on=True)
    grpc_server = await GrpcServer.start(
        services,
        grpc_address,
        interceptors=interceptors,
        reflection=reflection,
        options=grpc_server_options,
    )
    invoker = None
    try:
        if dispatch == "direct":
            invoker = _direct_invoker(
                services, grpc_server, interceptors, grpc_server_options, config
            )
            gateway = Gateway(gateway_services, invoker=invoker, **config)
        else:
            gateway = Gateway(
                gateway_services, target=_dial_address(grpc_address, grpc_server.port), **config
            )
        http_server = await start_server(create_app(gateway), http_address, limits=limits)
    except BaseException:
        await grpc_server.stop(0)
        if invoker is not None:
            await invoker.aclose()
        raise
    local = LocalServer(grpc_server, http_server, gateway, invoker)
    log.info(
        "gRPC server listening on %s%s",
        grpc_address,
        f" (port {local.grpc_port})" if grpc_address.endswith(":0") else "",
    )
    http_port = local.http_port
    log.info(
        "HTTP/JSON gateway listening on http://%s%s%s",
        http_address,
        f" (port {http_port})" if http_address.endswith(":0") else "",
        " (calls the servicers in process)" if dispatch == "direct" else "",
    )
    docs = gateway.options.api_docs_paths()
    if docs and not http_address.startswith("unix:"):
        base = "http://" + _dial_address(http_address, http_port)
        where = [base + docs[n] for n in ("openapi_path", "swagger_path") if n in docs]
        line = "API description at " + ", ".join(where) if where else ""
        if "docs_path" in docs:
            line += f"; explorer at {base}{docs['docs_path']}"
        log.info("%s", line.lstrip("; "))
    for route in gateway.routes:
        log.debug("route %s", route)
    gc.freeze()  # what start-up built lives as long as the server: spare it GC scans
    return local


def _direct_invoker(
    services: Sequence[ServiceInfo],
    grpc_server: GrpcServer,
    interceptors: Sequence[object],
    server_options: Sequence[tuple[str, Any]],
    config: GatewayConfig,
) -> Invoker:
    """The gateway's way to the servicers in process: the servicers and interceptors
    the gRPC server runs, under its rules and limits, and its own health servicer
    (so ``health_path`` answers what gRPC health checks answer)."""
    from grpcgw.dispatch import DirectInvoker

    dispatched = list(services)
    if grpc_server.health is not None:
        dispatched.append(resolve_service(grpc_server.health))
    options = config.get("options")
    return DirectInvoker(
        dispatched,
        interceptors=interceptors,
        options=server_options,
        max_response_message=None if options is None else options.max_response_message,
    )


def serve_local(
    *servicers: ServiceLike,
    http_address: str = DEFAULT_HTTP_ADDRESS,
    grpc_address: str = DEFAULT_GRPC_ADDRESS,
    interceptors: Sequence[object] = (),
    reflection: bool = True,
    grace: float = 5.0,
    log_format: LogFormat = "text",
    log_level: int | str = "INFO",
    limits: HttpLimits | None = None,
    dispatch: Dispatch = "socket",
    **config: Unpack[GatewayConfig],
) -> None:
    """Serve ``servicers`` over gRPC and over HTTP/JSON until SIGINT or SIGTERM.

    Runs a gRPC server on ``grpc_address`` (with server reflection) and the
    HTTP/JSON gateway for the services' ``google.api.http`` rules on
    ``http_address``, within ``limits`` (:class:`~grpcgw.limits.HttpLimits`:
    timeouts for slow and idle clients, a connection limit). Servicers may be
    plain or ``async def``: when all are plain (and no ``grpc.aio``
    interceptor is given) the server is a threaded ``grpc.server``, as on
    Lambda, otherwise ``grpc.aio``; interceptors must be of the matching kind
    (see :mod:`grpcgw.grpcserver`). On a signal, the HTTP side stops first and
    running calls get ``grace`` seconds.

    ``config`` is the :class:`~grpcgw.GatewayConfig` every front end takes
    (``options``, the matchers, the hooks). Each request is logged on
    ``grpcgw.access`` unless ``GatewayOptions(access_log=False)``. Unless the
    program has set up logging already, lines go to standard error as
    ``log_format`` (``"text"`` or ``"json"``) from ``log_level`` up.

    ``dispatch="direct"`` has the gateway call the servicers in process, through
    the same interceptors, instead of over the gRPC server's socket (which keeps
    serving gRPC clients): the same answers, a fraction of the CPU per request
    (docs/dispatch.md lists what still differs). ``"socket"`` is the default.
    """
    check_config(config, "serve_local")
    dispatch = check_dispatch(dispatch, "serve_local")
    configure(log_format, log_level)
    asyncio.run(
        _serve_until_signal(
            servicers,
            http_address=http_address,
            grpc_address=grpc_address,
            interceptors=interceptors,
            reflection=reflection,
            grace=grace,
            limits=limits,
            dispatch=dispatch,
            **config,
        )
    )


async def _serve_until_signal(
    servicers: Sequence[ServiceLike], *, grace: float, **kwargs: Any
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    local = await start_local(*servicers, **kwargs)
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        await local.stop(grace)
