"""Running the proxy: descriptors loaded, the gateway on an HTTP site, reloads on SIGHUP.

The aiohttp shell of :mod:`grpcgw.proxy`; everything it serves comes from a
:class:`~grpcgw.Gateway` whose routes a :class:`~grpcgw.proxy.Reloader` may
swap while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from grpcgw.gateway import Gateway
from grpcgw.options import GatewayOptions
from grpcgw.proxy._files import Descriptors
from grpcgw.proxy._reload import Reloader
from grpcgw.proxy._source import DescriptorSource
from grpcgw.server import split_address
from grpcgw.web import create_app

if TYPE_CHECKING:
    from grpcgw.channel import TLSConfig

log = logging.getLogger("grpcgw.proxy")


class RunningProxy:
    """A proxy serving HTTP: :func:`start_proxy` makes it, :meth:`stop` ends it."""

    def __init__(
        self,
        gateway: Gateway,
        reloader: Reloader,
        runner: web.AppRunner,
        *,
        load_ms: float,
    ) -> None:
        self.gateway = gateway
        self.reloader = reloader
        self._runner = runner
        self._tasks: list[asyncio.Task[None]] = []
        #: Milliseconds the first load of the descriptors took (reflection included).
        self.load_ms = load_ms

    @property
    def descriptors(self) -> Descriptors:
        """The descriptors served now."""
        return self.reloader.descriptors

    @property
    def http_port(self) -> int:
        """The TCP port the HTTP site listens on (useful with port 0)."""
        for site in self._runner.sites:
            server = getattr(site, "_server", None)
            for sock in getattr(server, "sockets", None) or ():
                return int(sock.getsockname()[1])
        return 0

    def reload_every(self, seconds: float) -> None:
        """Reload the descriptors every ``seconds`` while the proxy runs."""
        self._tasks.append(asyncio.get_running_loop().create_task(self.reloader.every(seconds)))

    async def stop(self) -> None:
        """Stop reloading and serving, and close the channel."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.reloader.aclose()
        await self._runner.cleanup()
        await self.gateway.aclose()


async def start_proxy(
    source: DescriptorSource,
    *,
    target: str,
    http_address: str = "[::]:8080",
    tls: TLSConfig | None = None,
    options: GatewayOptions | None = None,
    channel_options: Sequence[tuple[str, Any]] = (),
    reload_interval: float | None = None,
) -> RunningProxy:
    """Load the descriptors from ``source``, and serve their routes on ``http_address``
    in front of the gRPC server at ``target``. Raises
    :class:`~grpcgw.proxy.DescriptorError` when the descriptors cannot be loaded."""
    options = options or GatewayOptions()
    started = time.perf_counter()
    descriptors = await source.load(expose_unannotated=options.expose_unannotated)
    gateway = Gateway(
        descriptors.services,
        target=target,
        tls=tls,
        options=options,
        channel_options=channel_options,
    )
    load_ms = (time.perf_counter() - started) * 1000
    reloader = Reloader(gateway, source, descriptors)
    runner = web.AppRunner(create_app(gateway), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        if http_address.startswith("unix:"):
            site: web.BaseSite = web.UnixSite(runner, http_address[5:].removeprefix("//"))
        else:
            host, port = split_address(http_address)
            site = web.TCPSite(runner, host or None, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        await gateway.aclose()
        raise
    proxy = RunningProxy(gateway, reloader, runner, load_ms=load_ms)
    if reload_interval is not None:
        proxy.reload_every(reload_interval)
    log.info(
        "serving %s from %s: %d routes, loaded in %.0f ms",
        ", ".join(descriptors.service_names),
        descriptors.origin,
        len(gateway.routes),
        load_ms,
    )
    return proxy


async def run_proxy(
    source: DescriptorSource,
    *,
    started: Callable[[RunningProxy], object] | None = None,
    **kwargs: Any,
) -> None:
    """:func:`start_proxy`, then serve until SIGINT or SIGTERM; SIGHUP reloads."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    proxy = await start_proxy(source, **kwargs)
    signals: list[int] = []
    try:
        handlers: list[tuple[int, Callable[[], object]]] = [
            (signal.SIGINT, stop.set),
            (signal.SIGTERM, stop.set),
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
        log.info("shutting down")
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        await proxy.stop()
