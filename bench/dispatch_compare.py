"""Socket vs direct dispatch, one process: what ``Gateway.handle`` costs per request.

    python -m bench.dispatch_compare [-n 3000] [--rounds 3]

Times the gateway for ``GET /v1/ping`` and the echo-like ``POST /v1/shelves``
(the example's ShelfService.CreateShelf: JSON in, the same shelf out), with the
servicers in a real gRPC server on a unix socket (``dispatch="socket"``, the
default of ``serve_local`` and ``serve_lambda``) and dispatched in process
(``dispatch="direct"``, ``grpcgw.dispatch``):

- local: ``await gateway.handle(request)`` on an event loop, as the aiohttp
  adapter calls it; socket mode is ``start_local``'s layout (a ``grpc.aio``
  server on the same loop, a ``grpc.aio`` channel);
- Lambda: the ``serve_lambda`` handler's gateway run as the handler runs it
  (a deadline on every request): socket mode with ``run_blocking`` against the
  server ``serve_lambda`` starts on its own thread, direct mode
  (``serve_lambda(..., dispatch="direct")``) with its ``BlockingDispatch``
  (plain servicers inline, async ones on a private loop).

Requests are sequential; CPU is the process's (every thread: gRPC's too) and
wall is elapsed time, per request, the median over interleaved rounds. No HTTP
server and no Lambda event conversion: the part of a request dispatch changes.
A quick comparison, not the benchmark suite (``python -m bench``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import examples.ping  # noqa: E402,F401  (the example's generated code on sys.path)
from examples.ping.service import PingServicer, ShelfServicer, SyncPingServicer  # noqa: E402
from grpcgw import Gateway, HttpRequest, LambdaOptions, serve_lambda  # noqa: E402
from grpcgw.channel import run_blocking  # noqa: E402
from grpcgw.descriptors import resolve_service  # noqa: E402
from grpcgw.dispatch import DirectInvoker  # noqa: E402
from grpcgw.grpcserver import GrpcServer  # noqa: E402

SHELF_BODY = (
    b'{"theme":"Sci-fi","genre":"GENRE_FICTION","bookCount":"12","tags":["a","b"],'
    b'"createTime":"2024-05-01T10:00:00Z","location":{"floor":2,"room":"r1"}}'
)
#: What a Lambda invocation passes: the time it has left.
LAMBDA_DEADLINE = 3.0


class Shelves(ShelfServicer):
    """The example's shelf service, not keeping what it creates (flat memory over a run)."""

    async def CreateShelf(self, request: Any, context: Any) -> Any:
        shelf = await super().CreateShelf(request, context)
        self.shelves.clear()
        return shelf


def requests(deadline: float | None) -> dict[str, Callable[[], HttpRequest]]:
    # No shelf_id: the servicer numbers each shelf (no ALREADY_EXISTS on repeats).
    return {
        "ping": lambda: HttpRequest("GET", "/v1/ping", deadline=deadline),
        "shelf create": lambda: HttpRequest(
            "POST", "/v1/shelves", body=SHELF_BODY, deadline=deadline
        ),
    }


Result = dict[tuple[str, str], list[tuple[float, float]]]


def record(results: Result, key: tuple[str, str], cpu: float, wall: float, n: int) -> None:
    results.setdefault(key, []).append(
        ((time.process_time() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6)
    )


async def local(n: int, results: Result, sock_dir: Path) -> None:
    """One round of the local layouts (on this loop)."""
    services = [resolve_service(PingServicer()), resolve_service(Shelves())]
    descriptors = [s.descriptor for s in services]
    target = f"unix://{sock_dir}/local.sock"
    server = await GrpcServer.start(services, target, reflection=False)
    invoker = DirectInvoker(services)
    layouts: dict[str, Gateway] = {
        "local, socket (start_local)": Gateway(descriptors, target=target),
        "local, direct": Gateway(descriptors, invoker=invoker),
    }
    plain = [resolve_service(SyncPingServicer())]
    plain_invoker = DirectInvoker(plain)
    layouts["local, direct, plain servicer (pool)"] = Gateway(
        [s.descriptor for s in plain], invoker=plain_invoker
    )
    try:
        for label, gateway in layouts.items():
            for name, make in requests(None).items():
                if "plain" in label and name != "ping":
                    continue
                await timed_async(n, gateway.handle, make)  # warm
                cpu, wall = time.process_time(), time.perf_counter()
                await timed_async(n, gateway.handle, make)
                record(results, (label, name), cpu, wall, n)
    finally:
        for gateway in layouts.values():
            await gateway.aclose()
        await invoker.aclose()
        await plain_invoker.aclose()
        await server.stop(0)


async def timed_async(
    n: int, handle: Callable[[HttpRequest], Awaitable[Any]], make: Callable[[], HttpRequest]
) -> None:
    for _ in range(n):
        response = await handle(make())
        assert response.status in (200, 201), response.body


def lambda_like(n: int, results: Result, sock_dir: Path) -> None:
    """One round of the Lambda layouts (no event loop on this thread)."""
    options = LambdaOptions(socket_dir=str(sock_dir))
    layouts: list[tuple[str, Any, Callable[[Any], Any], Any]] = []
    for kind, servicers in (
        ("async", (PingServicer(), Shelves())),
        ("plain", (SyncPingServicer(),)),
    ):
        handler = serve_lambda(*servicers, lambda_options=options)
        layouts.append(
            (f"Lambda, socket, {kind} (serve_lambda)", handler.gateway, run_blocking, handler)
        )
        direct = serve_lambda(*servicers, lambda_options=options, dispatch="direct")
        assert direct._direct is not None
        layouts.append(
            (f"Lambda, direct, {kind} (serve_lambda)", direct.gateway, direct._run, direct)
        )
    try:
        for label, gateway, run, _ in layouts:
            for name, make in requests(LAMBDA_DEADLINE).items():
                if "plain" in label and name != "ping":
                    continue

                def loop(gw: Gateway = gateway, run: Any = run, make: Any = make) -> None:
                    for _ in range(n):
                        response = run(gw.handle_buffered(make()))
                        assert response.status in (200, 201), response.body

                loop()  # warm
                cpu, wall = time.process_time(), time.perf_counter()
                loop()
                record(results, (label, name), cpu, wall, n)
    finally:
        for _, _, _, handler in layouts:
            handler.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=3000, help="requests per round and layout")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: Result = {}
    with tempfile.TemporaryDirectory(prefix="gw-", dir="/tmp") as d:
        for _ in range(args.rounds):  # interleaved: load changes hit every layout alike
            asyncio.run(local(args.n, results, Path(d)))
            lambda_like(args.n, results, Path(d))
    print(f"{'layout':44} {'call':13} {'CPU µs':>8} {'wall µs':>8}")
    for (label, name), runs in sorted(results.items()):
        cpu = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        print(f"{label:44} {name:13} {cpu:8.1f} {wall:8.1f}")


if __name__ == "__main__":
    main()
