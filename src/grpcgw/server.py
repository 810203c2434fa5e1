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
import os
import shutil
import socket
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Unpack

from grpcgw.descriptors import ServiceInfo, ServiceLike, resolve_service
from grpcgw.gateway import (
    Gateway,
    GatewayConfig,
    check_config,
    check_instance,
    check_interceptors,
    front_end_defaults,
)
from grpcgw.grpcserver import GrpcServer, require_servicers, server_kind
from grpcgw.httpserver import HttpServer, share_address, split_address, start_server
from grpcgw.invoker import Dispatch, Invoker, check_dispatch
from grpcgw.limits import HttpLimits
from grpcgw.logs import LogFormat, configure
from grpcgw.options import GatewayOptions
from grpcgw.web import create_app
from grpcgw.workers import (
    Supervisor,
    Worker,
    check_fork_safe,
    check_workers,
    end_by_signal,
    reserve_tcp_port,
    signal_note,
    stop_signal_handler,
    stop_signals_handled,
)

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
        """The TCP port the gRPC server listens on (useful with port 0)."""
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


@dataclass(frozen=True)
class _Shared:
    """How a worker of ``serve_local(workers=N)`` listens, as the supervisor planned it."""

    #: The HTTP listening sockets every worker accepts on (a unix socket), or none:
    #: each worker binds the TCP address itself, with ``SO_REUSEPORT``.
    http_sockets: tuple[socket.socket, ...] = ()
    #: Socket mode: the worker's own gRPC socket, which its gateway dials (the shared
    #: TCP port would hand its calls to whichever worker the kernel picks).
    private_grpc: str | None = None


async def start_local(
    *servicers: ServiceLike,
    http_address: str = DEFAULT_HTTP_ADDRESS,
    grpc_address: str = DEFAULT_GRPC_ADDRESS,
    interceptors: Sequence[object] | None = (),
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
    (It runs in the caller's process and loop: :func:`serve_local` alone takes
    ``workers``.)
    """
    check_config(config, "start_local")
    interceptors = check_interceptors(interceptors, "start_local")
    check_instance(limits, HttpLimits, "limits", "start_local")
    dispatch = check_dispatch(dispatch, "start_local")
    return await _start(
        servicers,
        http_address=http_address,
        grpc_address=grpc_address,
        interceptors=interceptors,
        reflection=reflection,
        grpc_server_options=grpc_server_options,
        limits=limits,
        dispatch=dispatch,
        config=config,
    )


async def _start(
    servicers: Sequence[ServiceLike],
    *,
    http_address: str,
    grpc_address: str,
    interceptors: Sequence[object],
    reflection: bool,
    grpc_server_options: Sequence[tuple[str, Any]],
    limits: HttpLimits | None,
    dispatch: Dispatch,
    config: GatewayConfig,
    shared: _Shared | None = None,
    shutdown_timeout: float = 60.0,
) -> LocalServer:
    if not servicers:
        raise TypeError("start_local() needs at least one servicer")
    services = [resolve_service(s) for s in servicers]
    gateway_services = [s.descriptor for s in services]
    config = front_end_defaults(config, on=True)
    if shared is None:
        # One process owns its port. With gRPC's default (SO_REUSEPORT) a second
        # server on the same port, another serve_local, would bind as well and
        # silently take part of the calls; now it fails to start. Workers share
        # their port on purpose and keep it. The caller's own setting wins.
        grpc_server_options = [("grpc.so_reuseport", 0), *grpc_server_options]
    grpc_server = await GrpcServer.start(
        services,
        grpc_address,
        interceptors=interceptors,
        reflection=reflection,
        options=grpc_server_options,
        also_listen=() if shared is None or shared.private_grpc is None else [shared.private_grpc],
    )
    invoker = None
    try:
        if dispatch == "direct":
            invoker = _direct_invoker(
                services, grpc_server, interceptors, grpc_server_options, config
            )
            gateway = Gateway(gateway_services, invoker=invoker, **config)
        else:
            target = _dial_address(grpc_address, grpc_server.port)
            if shared is not None and shared.private_grpc is not None:
                target = shared.private_grpc
            gateway = Gateway(gateway_services, target=target, **config)
        http_server = await start_server(
            create_app(gateway),
            http_address,
            limits=limits,
            shutdown_timeout=shutdown_timeout,
            reuse_port=shared is not None,
            sockets=() if shared is None else shared.http_sockets,
        )
    except BaseException:
        await grpc_server.stop(0)
        if invoker is not None:
            await invoker.aclose()
        raise
    local = LocalServer(grpc_server, http_server, gateway, invoker)
    if shared is None:  # a worker's supervisor says where they all listen
        _log_listening(
            http_address, local.http_port, grpc_address, local.grpc_port, dispatch, gateway.options
        )
    for route in gateway.routes:
        log.debug("route %s", route)
    gc.freeze()  # what start-up built lives as long as the server: spare it GC scans
    return local


def _log_listening(
    http_address: str,
    http_port: int,
    grpc_address: str,
    grpc_port: int,
    dispatch: Dispatch,
    options: GatewayOptions,
    workers: str = "",
) -> None:
    """The lines saying where ``serve_local`` listens (``workers``: how many serve there)."""
    log.info(
        "gRPC server listening on %s%s%s",
        grpc_address,
        f" (port {grpc_port})" if grpc_address.endswith(":0") else "",
        workers,
    )
    log.info(
        "HTTP/JSON gateway listening on http://%s%s%s%s",
        http_address,
        f" (port {http_port})" if http_address.endswith(":0") else "",
        " (calls the servicers in process)" if dispatch == "direct" else "",
        workers,
    )
    docs = options.api_docs_paths()
    if docs and not http_address.startswith("unix:"):
        base = "http://" + _dial_address(http_address, http_port)
        where = [base + docs[n] for n in ("openapi_path", "swagger_path") if n in docs]
        line = "API description at " + ", ".join(where) if where else ""
        if "docs_path" in docs:
            line += f"; explorer at {base}{docs['docs_path']}"
        log.info("%s", line.lstrip("; "))


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
    interceptors: Sequence[object] | None = (),
    reflection: bool = True,
    grace: float = 5.0,
    log_format: LogFormat = "text",
    log_level: int | str = "INFO",
    limits: HttpLimits | None = None,
    dispatch: Dispatch = "socket",
    workers: int = 1,
    **config: Unpack[GatewayConfig],
) -> None:
    """Serve ``servicers`` over gRPC and over HTTP/JSON until SIGINT, SIGTERM or SIGHUP.

    Runs a gRPC server on ``grpc_address`` (with server reflection) and the
    HTTP/JSON gateway for the services' ``google.api.http`` rules on
    ``http_address``, within ``limits`` (:class:`~grpcgw.limits.HttpLimits`:
    timeouts for slow and idle clients, a connection limit). Servicers may be
    plain or ``async def``: when all are plain (and no ``grpc.aio``
    interceptor is given) the server is a threaded ``grpc.server``, as on
    Lambda, otherwise ``grpc.aio``; interceptors must be of the matching kind
    (see :mod:`grpcgw.grpcserver`). On one of those signals (SIGHUP too: nothing
    is reloaded, and a terminal that closes sends it), the HTTP side stops first and
    running calls get ``grace`` seconds, then ``serve_local`` returns. A second
    signal while it drains ends the process at once, killed by that signal (a
    shell reports status 130 for SIGINT, 143 for SIGTERM).

    ``config`` is the :class:`~grpcgw.GatewayConfig` every front end takes
    (``options``, the matchers, the hooks). Each request is logged on
    ``grpcgw.access`` unless ``GatewayOptions(access_log=False)``. Unless the
    program has set up logging already, lines go to standard error as
    ``log_format`` (``"text"`` or ``"json"``) from ``log_level`` up.

    ``dispatch="direct"`` has the gateway call the servicers in process, through
    the same interceptors, instead of over the gRPC server's socket (which keeps
    serving gRPC clients): the same answers, a fraction of the CPU per request
    (docs/dispatch.md lists what still differs). ``"socket"`` is the default.

    ``workers=N`` (N > 1) serves from N processes, forked from this one (which
    then only supervises them): each runs the gRPC server and the gateway on its
    own copy of the servicers, on the same addresses (TCP ports shared with
    ``SO_REUSEPORT``; an HTTP unix socket shared; a gRPC unix socket cannot be).
    A worker that dies is restarted; one that cannot start stops them all with
    :class:`~grpcgw.workers.WorkersError`. Channels a servicer dials must be made
    after the fork, when first used. docs/workers.md has the whole story.
    """
    check_config(config, "serve_local")
    interceptors = check_interceptors(interceptors, "serve_local")
    check_instance(limits, HttpLimits, "limits", "serve_local")
    dispatch = check_dispatch(dispatch, "serve_local")
    workers = check_workers(workers, "serve_local")
    configure(log_format, log_level)
    kwargs: dict[str, Any] = {
        "http_address": http_address,
        "grpc_address": grpc_address,
        "interceptors": interceptors,
        "reflection": reflection,
        "grpc_server_options": (),
        "limits": limits,
        "dispatch": dispatch,
        "config": config,
    }
    if workers == 1:
        asyncio.run(_serve_until_signal(servicers, grace=grace, **kwargs))
    else:
        _serve_workers(servicers, workers, grace, kwargs)


async def _serve_until_signal(
    servicers: Sequence[ServiceLike],
    *,
    grace: float,
    worker: Worker | None = None,
    shared: _Shared | None = None,
    **kwargs: Any,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    received: list[int] = []

    stop_signal = stop_signal_handler(stop, worker, received)

    with stop_signals_handled(loop, stop_signal, worker):
        if worker is not None:
            worker.watch_lifeline(loop, stop.set)
        # The HTTP side's drain is bounded by grace too (its handlers would otherwise get
        # aiohttp's 60 s); the gRPC server then gives its own callers grace.
        local = await _start(servicers, shared=shared, shutdown_timeout=grace, **kwargs)
        try:
            if worker is not None:  # the line first: the supervisor's follows the last ready()
                log.info("worker %d started (pid %d)", worker.number, os.getpid())
                worker.ready()
            await stop.wait()
            if worker is None:
                log.info("shutting down%s", signal_note(received[0]) if received else "")
            else:  # (the supervisor's line says why)
                log.info("worker %d shutting down", worker.number)
        finally:
            await local.stop(grace)


def _serve_workers(
    servicers: Sequence[ServiceLike], workers: int, grace: float, kwargs: dict[str, Any]
) -> None:
    """``serve_local(workers=N)``: plan the shared addresses, fork, supervise."""
    http_address: str = kwargs["http_address"]
    grpc_address: str = kwargs["grpc_address"]
    # What start_local would refuse, refused once here, before any fork.
    services = [resolve_service(s) for s in servicers]
    if not services:
        raise TypeError("serve_local() needs at least one servicer")
    require_servicers(services)
    server_kind(services, kwargs["interceptors"], prefer_threaded=True)
    if grpc_address.startswith("unix"):
        raise ValueError(
            f"serve_local(workers={workers}): grpc_address {grpc_address!r} is a unix socket, "
            "which one gRPC server alone can listen on; give a TCP address (127.0.0.1:8081), "
            "whose port the workers share"
        )
    check_fork_safe(f"serve_local(workers={workers})")
    held: list[socket.socket] = []  # the supervisor's: kept until the workers are gone
    private_dir = None
    try:
        limits: HttpLimits = kwargs["limits"] or HttpLimits()
        shared_http = share_address(http_address, limits.backlog)
        held += shared_http.held
        http_sockets, http_port = shared_http.sockets, shared_http.port
        host, port = split_address(grpc_address)
        grpc_port, reserved = reserve_tcp_port(host, port)
        held += reserved
        if kwargs["dispatch"] == "socket":
            private_dir = tempfile.mkdtemp(prefix="grpcgw-workers-")
        worker_kwargs = {
            **kwargs,
            "http_address": shared_http.address,
            "grpc_address": _with_port(grpc_address, grpc_port),
        }

        def body(worker: Worker) -> None:
            private = None if private_dir is None else f"{private_dir}/worker-{worker.number}.sock"
            shared = _Shared(
                http_sockets=http_sockets,
                private_grpc=None if private is None else f"unix://{private}",
            )
            try:
                asyncio.run(
                    _serve_until_signal(
                        servicers, grace=grace, worker=worker, shared=shared, **worker_kwargs
                    )
                )
            finally:
                if private_dir is not None and worker.orphaned():
                    # A supervisor that was killed removes nothing: the last worker
                    # out removes the directory (the others' sockets keep it until then).
                    with contextlib.suppress(OSError):
                        os.unlink(str(private))
                    with contextlib.suppress(OSError):
                        os.rmdir(private_dir)

        config: GatewayConfig = kwargs["config"]
        options = front_end_defaults(config, on=True).get("options") or GatewayOptions()

        def started(pids: list[int]) -> None:
            _log_listening(
                kwargs["http_address"],
                http_port,
                kwargs["grpc_address"],
                grpc_port,
                kwargs["dispatch"],
                options,
                f" ({workers} workers, pids {', '.join(map(str, pids))})",
            )

        gc.freeze()  # the servicers and modules, shared with the workers: spare them GC writes
        supervisor = Supervisor(
            workers,
            body,
            grace=grace,
            close_in_workers=[s.fileno() for s in held if s not in http_sockets],
        )
        supervisor.run(on_ready=started)
    finally:
        gc.unfreeze()  # this process may go on after serve_local returns
        for sock in held:
            sock.close()
        if private_dir is not None:
            shutil.rmtree(private_dir, ignore_errors=True)
    if supervisor.forced:  # a second signal killed the workers: the process ends by it
        end_by_signal(supervisor.forced)


def _with_port(address: str, port: int) -> str:
    """``address`` with its port replaced (port 0 resolved by the supervisor)."""
    return f"{address.rpartition(':')[0]}:{port}"
