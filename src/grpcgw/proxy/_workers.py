"""``grpcgw proxy --workers N``: N whole proxies in forked processes, under one supervisor.

Each worker is the proxy of one process (:func:`grpcgw.proxy._serve.serve`):
it loads its own descriptors (asks the target's reflection itself), opens its
own channel to the target, answers its own probes, reloads on its own (SIGHUP
to the supervisor is passed on to every worker) and drains on its own. The
supervisor (:class:`grpcgw.workers.Supervisor`) makes nothing of gRPC: it
checks that no gRPC runs in the process, plans the HTTP address (port 0
resolved once, the port kept while workers restart; a unix socket made once),
forks, and watches. A worker that cannot start (a bad descriptor set, a target
that does not answer reflection) stops them all with its reason.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from collections.abc import Callable

from grpcgw import workers
from grpcgw.httpserver import SharedAddress, share_address
from grpcgw.proxy._config import ProxyConfig
from grpcgw.proxy._serve import RunningProxy, serve

log = logging.getLogger("grpcgw.proxy")


def run_workers(
    config: ProxyConfig, *, started: Callable[[SharedAddress, list[int]], object] | None = None
) -> None:
    """Serve ``config`` from ``config.workers`` forked processes until SIGTERM or SIGINT
    (every worker drains); ``started(address, pids)`` once all serve.

    Raises :class:`~grpcgw.workers.WorkersError` when a worker cannot start (its
    reason), the workers keep dying, or gRPC already runs here; ``OSError`` when
    the address cannot be had (before anything forks).
    """
    count = workers.check_workers(config.workers, "run_workers")
    workers.check_fork_safe(f"grpcgw proxy --workers {count}")
    # Reflection may wait reflect_timeout for the target: a worker is not stuck then.
    start_timeout = workers._START_TIMEOUT + (config.reflect_timeout if config.reflect else 0.0)
    shared = share_address(config.http_address, config.limits.backlog)
    try:

        def body(worker: workers.Worker) -> None:
            def serving(proxy: RunningProxy) -> None:
                log.info("worker %d started (pid %d)", worker.number, os.getpid())
                worker.ready()

            asyncio.run(serve(config, started=serving, worker=worker, shared=shared))

        supervisor = workers.Supervisor(
            count,
            body,
            # A worker drains in drain_delay + shutdown_grace; the supervisor kills
            # one still running twice that (and 10 s) after SIGTERM.
            grace=config.drain_delay + config.shutdown_grace,
            close_in_workers=[s.fileno() for s in shared.held if s not in shared.sockets],
            start_timeout=start_timeout,
            forward=[signal.SIGHUP],  # a reload, in each worker
        )
        gc.freeze()  # what the supervisor loaded, shared with the workers: spare it GC writes

        def ready(pids: list[int]) -> None:
            if started is not None:
                started(shared, pids)

        supervisor.run(on_ready=ready)
    finally:
        gc.unfreeze()
        shared.close()
    if supervisor.forced:  # a second signal killed the workers: the process ends by it
        workers.end_by_signal(supervisor.forced)
