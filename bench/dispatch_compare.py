"""Socket vs direct dispatch, one process: what ``Gateway.handle`` costs per request.

    python -m bench.dispatch_compare [-n 5000] [--rounds 3]

Times ``Gateway.handle`` for ``GET /v1/ping`` and the echo-like ``POST
/v1/shelves`` (the example's ShelfService.CreateShelf: JSON in, the same shelf
out) with the servicers in a real gRPC server on a unix socket (what
``serve_local`` and ``serve_lambda`` do today) and dispatched in process by
``DirectInvoker``. Requests are sequential (one in flight); CPU is the
process's (every thread: gRPC's too), wall is elapsed time; both per request,
the median of the rounds. A quick comparison, not the benchmark suite.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import examples.ping  # noqa: E402,F401  (the example's generated code on sys.path)
from examples.ping.service import PingServicer, ShelfServicer, SyncPingServicer  # noqa: E402
from grpcgw import Gateway, HttpRequest  # noqa: E402
from grpcgw.channel import BlockingInvoker, open_blocking_channel, run_blocking  # noqa: E402
from grpcgw.descriptors import resolve_service  # noqa: E402
from grpcgw.dispatch import DirectInvoker  # noqa: E402
from grpcgw.grpcserver import GrpcServer  # noqa: E402

PING = HttpRequest("GET", "/v1/ping")
SHELF_BODY = (
    b'{"theme":"Sci-fi","genre":"GENRE_FICTION","bookCount":"12","tags":["a","b"],'
    b'"createTime":"2024-05-01T10:00:00Z","location":{"floor":2,"room":"r1"}}'
)


def shelf_request() -> HttpRequest:
    # No shelf_id: the servicer numbers each new shelf (no ALREADY_EXISTS on repeats).
    return HttpRequest("POST", "/v1/shelves", body=SHELF_BODY)


class Shelves(ShelfServicer):
    """The example's shelf service, not keeping what it creates (flat memory over a run)."""

    async def CreateShelf(self, request: Any, context: Any) -> Any:
        shelf = await super().CreateShelf(request, context)
        self.shelves.clear()
        return shelf


async def timed(n: int, once: Callable[[], Any]) -> tuple[float, float]:
    """(CPU µs, wall µs) per request over ``n`` sequential requests."""
    for _ in range(min(n // 10, 200)):  # warm: codecs built, channel connected
        await once()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        await once()
    return (time.process_time() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6


async def layouts(sock_dir: Path) -> dict[str, tuple[Gateway, Any]]:
    """label -> (gateway, cleanup)."""
    out: dict[str, tuple[Gateway, Any]] = {}
    aio = [resolve_service(PingServicer()), resolve_service(Shelves())]
    server = await GrpcServer.start(aio, f"unix://{sock_dir}/aio.sock", reflection=False)
    out["socket: grpc.aio server, aio channel (serve_local)"] = (
        Gateway([s.descriptor for s in aio], target=f"unix://{sock_dir}/aio.sock"),
        server,
    )
    out["direct: async servicers"] = (
        Gateway([s.descriptor for s in aio], invoker=DirectInvoker(aio)),
        None,
    )
    plain = [resolve_service(SyncPingServicer())]
    threaded = await GrpcServer.start(
        plain, f"unix://{sock_dir}/sync.sock", reflection=False, prefer_threaded=True
    )
    blocking = BlockingInvoker(open_blocking_channel(f"unix://{sock_dir}/sync.sock"))
    out["socket: threaded server, blocking channel (serve_lambda)"] = (
        Gateway([s.descriptor for s in plain], invoker=blocking),
        threaded,
    )
    out["direct: plain servicer on the pool (grpc.aio rules)"] = (
        Gateway([s.descriptor for s in plain], invoker=DirectInvoker(plain)),
        None,
    )
    out["direct: plain servicer inline (run_blocking)"] = (
        Gateway(
            [s.descriptor for s in plain],
            invoker=DirectInvoker(plain, prefer_threaded=True, inline=True),
        ),
        None,
    )
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=5000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gw-", dir="/tmp") as d:
        gateways = await layouts(Path(d))
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(args.rounds):  # interleaved rounds: load changes hit all alike
            for label, (gateway, _) in gateways.items():
                blocking = "blocking" in label or "inline" in label
                calls = [("ping", lambda: PING)]
                if "plain" not in label and "threaded" not in label:
                    calls.append(("shelf create", shelf_request))
                for name, make in calls:

                    async def once(
                        gw: Gateway = gateway, make: Any = make, blocking: bool = blocking
                    ) -> None:
                        request = make()
                        if blocking:
                            response = run_blocking(gw.handle(request))
                        else:
                            response = await gw.handle(request)
                        assert response.status in (200, 201), response.body

                    results.setdefault((label, name), []).append(await timed(args.n, once))
        print(f"{'layout':58} {'call':13} {'CPU µs':>8} {'wall µs':>8}")
        for (label, name), runs in results.items():
            cpu = statistics.median(r[0] for r in runs)
            wall = statistics.median(r[1] for r in runs)
            print(f"{label:58} {name:13} {cpu:8.1f} {wall:8.1f}")
        for gateway, server in gateways.values():
            await gateway.aclose()
            if gateway._invoker is not None:
                await gateway._invoker.aclose()
            if server is not None:
                await server.stop(0)


if __name__ == "__main__":
    asyncio.run(main())
