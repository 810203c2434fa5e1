"""Running the proxy: descriptors loaded, the gateway on an HTTP site, probes, reloads, drains.

The aiohttp shell of :mod:`grpcgw.proxy`. What it serves comes from a
:class:`~grpcgw.Gateway` whose routes a :class:`~grpcgw.proxy.Reloader` may
swap while it runs; in front of it, a middleware answers the probes
(``/readyz``, ``/livez``) and counts the requests in flight, so that a
shutdown can say what it drained.

The lifecycle Kubernetes' rolling updates expect: SIGTERM makes readiness
fail at once; after ``drain_delay`` the listener closes (new connections are
refused); requests in flight get ``shutdown_grace`` seconds to finish; then
the channel closes and the process exits 0. SIGHUP reloads the descriptors.

With ``workers`` above 1, :mod:`grpcgw.proxy._workers` runs all of this in
each forked worker (:func:`serve`, with the worker and the shared address).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import ssl
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from aiohttp import web

from grpcgw.channel import gateway_channel_options, open_channel
from grpcgw.gateway import Gateway, front_end_defaults
from grpcgw.httpserver import HttpServer, SharedAddress, start_server
from grpcgw.logs import configure
from grpcgw.proxy._config import ProxyConfig
from grpcgw.proxy._files import Descriptors
from grpcgw.proxy._reload import Reloader
from grpcgw.proxy._source import DescriptorSource
from grpcgw.web import LANE_AWARE, create_app
from grpcgw.workers import Worker, stop_signal_handler

log = logging.getLogger("grpcgw.proxy")
_T = TypeVar("_T")

_HEALTH_CHECK = "/grpc.health.v1.Health/Check"
_JSON = "application/json"


class Readiness:
    """Whether the target answers: its health service asked through a channel of
    its own, the answer reused for ``ready_cache`` seconds and shared by the
    probes that come meanwhile.

    Ready: ``SERVING``, or any answer from a server without the health service
    (``UNIMPLEMENTED``) or that refuses to say (it is reachable). Not ready:
    ``NOT_SERVING`` and the like, ``UNAVAILABLE``, no answer within ``timeout``.
    """

    def __init__(self, config: ProxyConfig, *, timeout: float = 2.0) -> None:
        from grpc_health.v1 import health_pb2

        self._config = config
        self._timeout = timeout
        self._channel: Any = None
        self._request = health_pb2.HealthCheckRequest(service="")
        self._reply = health_pb2.HealthCheckResponse
        self._answer: tuple[bool, str] = (False, "not asked yet")
        self._at = -float("inf")
        self._asking: asyncio.Task[tuple[bool, str]] | None = None

    async def check(self) -> tuple[bool, str]:
        """``(ready, why)``, asked anew at most every ``ready_cache`` seconds."""
        if time.monotonic() - self._at < self._config.ready_cache:
            return self._answer
        if self._asking is None:
            self._asking = asyncio.get_running_loop().create_task(self._ask())
        asking = self._asking
        try:
            return await asyncio.shield(asking)
        finally:
            if self._asking is asking and asking.done():
                self._asking = None

    async def _ask(self) -> tuple[bool, str]:
        import grpc

        if self._channel is None:
            # A subchannel of its own: a probe after a failure connects afresh instead
            # of waiting out the backoff of the connection that failed.
            options = [
                *gateway_channel_options(self._config.gateway),
                ("grpc.use_local_subchannel_pool", 1),
            ]
            tls = self._config.target_tls.config()
            self._channel = open_channel(self._config.target, tls=tls, options=options)
        call = self._channel.unary_unary(
            _HEALTH_CHECK,
            request_serializer=type(self._request).SerializeToString,
            response_deserializer=self._reply.FromString,
        )
        try:
            reply = await call(self._request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                answer = (False, f"target unreachable ({code.name})")
                channel, self._channel = self._channel, None
                await channel.close(None)
            else:
                answer = (True, f"target reachable (health: {code.name})")
        else:
            status = self._reply.ServingStatus.Name(reply.status)
            answer = (reply.status == self._reply.SERVING, f"target {status}")
        if answer[0] != self._answer[0]:
            log.info("readiness: %s (%s)", "ready" if answer[0] else "not ready", answer[1])
        self._answer, self._at = answer, time.monotonic()
        return answer

    async def aclose(self) -> None:
        if self._asking is not None:
            self._asking.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._asking
        if self._channel is not None:
            await self._channel.close(None)


class RunningProxy:
    """A proxy serving HTTP: :func:`start_proxy` makes it; :meth:`drain` ends it gracefully."""

    def __init__(
        self,
        config: ProxyConfig,
        gateway: Gateway,
        source: DescriptorSource,
        descriptors: Descriptors,
        *,
        load_ms: float,
        name: str = "",
    ) -> None:
        self.config = config
        #: What this proxy's own log lines begin with: ``"worker 2 (pid 101) "`` in a worker.
        self.name = name
        self.gateway = gateway
        self.reloader = Reloader(
            gateway, source, descriptors, on_swap=lambda _: self.check_probe_paths()
        )
        self.readiness = Readiness(config)
        #: Milliseconds the first load of the descriptors took (reflection included).
        self.load_ms = load_ms
        self.server: HttpServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        #: Set once a shutdown began: readiness fails from then on.
        self.draining = False
        #: Requests being served now; answered in all, and after SIGTERM; cancelled
        #: because the grace period ran out.
        self.in_flight = 0
        self.served = 0
        self.served_draining = 0
        self.cut_short = 0
        self._stopped = False
        #: The application's middleware (``_middleware``).
        self.middleware = self._middleware()

    @property
    def descriptors(self) -> Descriptors:
        """The descriptors served now."""
        return self.reloader.descriptors

    @property
    def http_port(self) -> int:
        """The TCP port the HTTP site listens on (useful with port 0)."""
        return 0 if self.server is None else self.server.port

    # -- the middleware: probes first, then the gateway, counted ------------------

    def _middleware(self) -> Any:
        """The probes, then the gateway, counted; with what the edge's fast lane
        needs to serve a gateway request in its stead (``grpcgw.web``): the paths
        this middleware answers itself, and the counting around the call."""
        config = self.config

        @web.middleware
        async def middleware(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            path = request.path
            if request.method in ("GET", "HEAD"):
                if path == config.live_path:
                    return _probe(200, {"live": True})
                if path == config.ready_path:
                    return await self._ready()
            return await self.counted(handler(request))

        setattr(  # a function attribute grpcgw.web reads
            middleware, LANE_AWARE, ({config.live_path, config.ready_path}, self.counted)
        )
        return middleware

    async def counted(self, call: Awaitable[_T]) -> _T:
        """``call``'s outcome, counted as a request in flight, served, or cut short."""
        self.in_flight += 1
        try:
            response = await call
        except asyncio.CancelledError:
            if self.draining:
                self.cut_short += 1  # the grace period ran out
            raise
        finally:
            self.in_flight -= 1
        self.served += 1
        if self.draining:
            self.served_draining += 1
        return response

    async def _ready(self) -> web.Response:
        if self.draining:
            return _probe(503, {"ready": False, "reason": "shutting down"})
        if not self.gateway.routes:
            return _probe(503, {"ready": False, "reason": "no routes"})
        ready, why = await self.readiness.check()
        # The detail is for operators (logged on change); probes read the status.
        body: dict[str, Any] = {"ready": ready, "routes": len(self.gateway.routes)}
        if not ready:
            body["reason"] = why.split(" (", 1)[0]
        return _probe(200 if ready else 503, body)

    def check_probe_paths(self) -> None:
        """Log a warning for an API route the probes hide (they answer first)."""
        for path in (self.config.ready_path, self.config.live_path):
            with contextlib.suppress(Exception):
                route = self.gateway.match("GET", path).target
                log.warning("the probe at %s hides the route %s; move the probe", path, route)

    # -- lifecycle ---------------------------------------------------------------------

    def reload_every(self, seconds: float) -> None:
        """Reload the descriptors every ``seconds`` while the proxy runs."""
        self._tasks.append(asyncio.get_running_loop().create_task(self.reloader.every(seconds)))

    async def drain(self) -> None:
        """Shut down as a rolling update wants: readiness fails now; after
        ``drain_delay`` the listener closes; requests in flight get
        ``shutdown_grace`` seconds; then everything closes."""
        if self.draining:
            return
        self.draining = True
        in_flight = self.in_flight
        log.info(
            "%sshutting down: %d requests in flight, %g s to finish them",
            self.name,
            in_flight,
            self.config.shutdown_grace,
        )
        if self.config.drain_delay:
            await asyncio.sleep(self.config.drain_delay)  # readiness fails; still serving
        started = time.monotonic()
        await self.stop()
        log.info(
            "%sstopped: served %d requests, %d of them after the shutdown began; "
            "%d cut short; drained in %.0f ms",
            self.name,
            self.served,
            self.served_draining,
            self.cut_short,
            (time.monotonic() - started) * 1000,
        )

    async def stop(self) -> None:
        """Stop reloading, close the listener, let running requests finish within
        ``shutdown_grace``, and close the channels."""
        self.draining = True
        if self._stopped:
            return
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.reloader.aclose()
        if self.server is not None:
            # Stops accepting, closes idle keep-alive connections, waits for running
            # handlers up to shutdown_grace, then closes the gateway's channel.
            await self.server.stop()
        await self.readiness.aclose()
        await self.gateway.aclose()


def configure_logging(config: ProxyConfig) -> None:
    """Log to standard error as ``log_format`` from ``log_level`` on, unless the
    process set up logging already (:func:`grpcgw.logs.configure`)."""
    configure("json" if config.log_format == "json" else "text", config.log_level)


def _probe(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body, separators=(",", ":")).encode(),
        content_type=_JSON,
        headers={"Cache-Control": "no-store"},
    )


def _ssl_context(config: ProxyConfig) -> ssl.SSLContext | None:
    tls = config.listen_tls
    if tls.cert is None or tls.key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(tls.cert, tls.key)
    context.set_alpn_protocols(["http/1.1"])
    return context


def _one_process(config: ProxyConfig, where: str) -> None:
    if config.workers != 1:
        raise ValueError(
            f"{where}() serves in this process and its event loop, so not "
            f"workers={config.workers}: grpcgw proxy forks workers (docs/workers.md)"
        )


async def start_proxy(config: ProxyConfig) -> RunningProxy:
    """Load the descriptors and serve their routes over HTTP, in the running loop.

    Raises :class:`~grpcgw.proxy.DescriptorError` when the descriptors cannot be
    loaded (nothing listens then), ``OSError`` when the address cannot be bound,
    ``ValueError`` for ``config.workers`` above 1 (``grpcgw proxy`` forks workers).
    """
    _one_process(config, "start_proxy")
    return await _start(config)


async def _start(
    config: ProxyConfig, *, shared: SharedAddress | None = None, name: str = ""
) -> RunningProxy:
    """:func:`start_proxy`; in a worker, on the ``shared`` address (named ``name``)."""
    source = config.source()
    started = time.perf_counter()
    descriptors = await source.load(expose_unannotated=config.gateway.expose_unannotated)
    gateway = Gateway(
        descriptors.services,
        target=config.target,
        descriptor_set=descriptors.files,  # comments for the API description, if kept
        tls=config.target_tls.config(),
        # The access log is on unless the configuration turns it off.
        **front_end_defaults({"options": config.gateway}, on=True),
    )
    load_ms = (time.perf_counter() - started) * 1000
    proxy = RunningProxy(config, gateway, source, descriptors, load_ms=load_ms, name=name)
    proxy.check_probe_paths()
    try:
        proxy.server = await start_server(
            create_app(gateway, limits=config.limits, middlewares=[proxy.middleware]),
            config.http_address if shared is None else shared.address,
            limits=config.limits,
            ssl_context=_ssl_context(config),
            shutdown_timeout=config.shutdown_grace,
            reuse_port=shared is not None,
            sockets=() if shared is None else shared.sockets,
        )
    except BaseException:
        await proxy.readiness.aclose()
        await gateway.aclose()
        raise
    if config.reload_interval is not None:
        proxy.reload_every(config.reload_interval)
    log.info(
        "%sserving %s from %s: %d routes, loaded in %.0f ms",
        name,
        ", ".join(descriptors.service_names),
        descriptors.origin,
        len(gateway.routes),
        load_ms,
    )
    return proxy


async def run_proxy(
    config: ProxyConfig, *, started: Callable[[RunningProxy], object] | None = None
) -> None:
    """:func:`start_proxy`, then serve until SIGTERM or SIGINT (a graceful
    :meth:`~RunningProxy.drain`); SIGHUP reloads the descriptors."""
    _one_process(config, "run_proxy")
    await serve(config, started=started)


async def serve(
    config: ProxyConfig,
    *,
    started: Callable[[RunningProxy], object] | None = None,
    worker: Worker | None = None,
    shared: SharedAddress | None = None,
) -> None:
    """:func:`run_proxy`, also in a worker: on the ``shared`` address, stopping too
    when the supervisor is gone. (Signal handlers are set once the proxy serves: a
    signal before that ends the process at once, not after the wait for reflection.)"""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    if worker is not None:
        worker.watch_lifeline(loop, stop.set)
    name = "" if worker is None else f"worker {worker.number} (pid {os.getpid()}) "
    proxy = await _start(config, shared=shared, name=name)
    signals: list[int] = []

    stop_signal = stop_signal_handler(stop, worker)

    try:
        handlers: list[tuple[int, Callable[[], object]]] = [
            (signal.SIGINT, partial(stop_signal, signal.SIGINT)),
            (signal.SIGTERM, partial(stop_signal, signal.SIGTERM)),
        ]
        if hasattr(signal, "SIGHUP"):  # not on Windows
            handlers.append((signal.SIGHUP, proxy.reloader.request))
        for sig, handler in handlers:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, handler)
                signals.append(sig)
        if started is not None:
            started(proxy)
        await stop.wait()
        await proxy.drain()
    finally:
        # Off the loop's wakeup pipe before asyncio closes it (see
        # grpcgw.workers.stop_signals_handled); a worker swallows the rest, since its
        # supervisor's SIGTERM after a Ctrl-C must not kill it while it stops.
        if worker is None:
            for sig in signals:
                loop.remove_signal_handler(sig)
        elif signals:
            signal.set_wakeup_fd(-1)
        await proxy.stop()
