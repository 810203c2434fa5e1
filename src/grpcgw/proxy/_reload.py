"""Reloading a gateway's descriptors while it serves, without dropping a request.

A reload reads the source again (into a new pool), compiles the new routes
off to the side, and swaps them in with :meth:`grpcgw.Gateway.replace_services`
in one step: a request is routed by the old table or by the new one, never by
a mix, and a request already routed finishes with what it matched. A reload
that fails (the server is down, its reflection broke, the new descriptors
serve nothing or carry a bad annotation) changes nothing and says why in the
log. A source that still holds what it held is not compiled again.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from grpcgw.proxy._files import DescriptorError, Descriptors

if TYPE_CHECKING:
    from grpcgw.gateway import Gateway
    from grpcgw.proxy._source import DescriptorSource

log = logging.getLogger("grpcgw.proxy")


class ReloadOutcome(enum.Enum):
    """What a reload did."""

    #: New descriptors: the gateway serves their routes now.
    SWAPPED = "swapped"
    #: The source holds what it held: nothing changed.
    UNCHANGED = "unchanged"
    #: The source could not be read or its routes not compiled: nothing changed.
    FAILED = "failed"


class Reloader:
    """Reloads ``gateway``'s services from ``source``; ``descriptors`` are the ones it serves.

    Call :meth:`reload` (awaits the outcome), :meth:`request` (from a signal
    handler: in the background, requests made meanwhile coalesce into one more
    reload) or run :meth:`every` as a task. Reloads never overlap.
    ``on_swap`` is called with the new descriptors after each swap.
    """

    def __init__(
        self,
        gateway: Gateway,
        source: DescriptorSource,
        descriptors: Descriptors,
        *,
        on_swap: Callable[[Descriptors], object] | None = None,
    ) -> None:
        self._gateway = gateway
        self._source = source
        self._current = descriptors
        self._on_swap = on_swap
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._again = False
        #: How many reloads swapped the routes, and how many failed.
        self.swaps = 0
        self.failures = 0

    @property
    def descriptors(self) -> Descriptors:
        """The descriptors the gateway serves now."""
        return self._current

    async def reload(self) -> ReloadOutcome:
        """Read the source again and, if it changed, swap the gateway's routes."""
        async with self._lock:
            outcome = await self._reload()
        if outcome is ReloadOutcome.FAILED:
            self.failures += 1
        elif outcome is ReloadOutcome.SWAPPED:
            self.swaps += 1
        return outcome

    async def _reload(self) -> ReloadOutcome:
        started = time.perf_counter()
        keep = "still serving the routes loaded before"
        current = self._current
        gateway = self._gateway
        try:
            new = await self._source.load(
                expose_unannotated=gateway.options.expose_unannotated, previous=current
            )
        except DescriptorError as exc:
            log.error("reload failed, %s: %s", keep, exc)
            return ReloadOutcome.FAILED
        except Exception:
            log.exception("reload failed, %s", keep)
            return ReloadOutcome.FAILED
        if new is current:
            log.debug("reload: %s unchanged", self._source.describe())
            return ReloadOutcome.UNCHANGED
        before = len(gateway.routes)
        try:
            # Their comments too (a descriptor set's): the API description describes them.
            gateway.replace_services(new.services, descriptor_set=new.files)
        except (ValueError, TypeError) as exc:  # RouteConfigError, ServiceResolutionError
            log.error("reload failed, %s: %s", keep, exc)
            return ReloadOutcome.FAILED
        self._current = new
        log.info(
            "reloaded from %s: %s; %d routes (were %d), in %.0f ms",
            new.origin,
            ", ".join(new.service_names),
            len(gateway.routes),
            before,
            (time.perf_counter() - started) * 1000,
        )
        if self._on_swap is not None:
            self._on_swap(new)
        return ReloadOutcome.SWAPPED

    def request(self) -> None:
        """Reload in the background (call from the event loop, e.g. a signal handler).

        A request made while a reload runs makes one more run after it, so the
        last request is always followed by a read of the source.
        """
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._requested())

    async def _requested(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            if await self.reload() is ReloadOutcome.UNCHANGED:
                # Asked for (SIGHUP), so say so; a periodic reload keeps this at debug.
                log.info(
                    "reload: %s unchanged, still serving its %d routes",
                    self._source.describe(),
                    len(self._gateway.routes),
                )

    async def every(self, seconds: float) -> None:
        """Reload every ``seconds`` until cancelled."""
        if not (seconds > 0 and math.isfinite(seconds)):
            raise ValueError(
                f"a reload interval must be a number of seconds above 0, not {seconds}"
            )
        while True:
            await asyncio.sleep(seconds)
            await self.reload()

    async def aclose(self) -> None:
        """Stop a reload :meth:`request` started (one under way is cancelled)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
