"""The bare gRPC call rate: CONCURRENCY tasks calling the stub back to back for SECONDS.

    python -m bench.apps.bare_client TARGET CALL CONCURRENCY SECONDS

Prints one JSON line: calls, calls/s, p50/p99 latency (µs) and this process's
CPU per call (µs) -- the client-side cost of a gRPC call with no HTTP at all.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from typing import Any

from bench.service import PingRequest, echo_message, stub


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(target: str, call: str, concurrency: int, seconds: float) -> dict[str, Any]:
    client = stub(target)
    method = client.Ping if call == "ping" else client.Echo
    request = PingRequest() if call == "ping" else echo_message()
    for _ in range(50):
        await method(request)
    latencies: list[int] = []
    clock = time.perf_counter_ns
    stop = clock() + int(seconds * 1e9)

    async def loop() -> None:
        while clock() < stop:
            t0 = clock()
            await method(request)
            latencies.append(clock() - t0)

    cpu0, t0 = _cpu(), clock()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    cpu1, t1 = _cpu(), clock()
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "rps": n / ((t1 - t0) / 1e9),
        "p50_us": latencies[n // 2] / 1000,
        "p99_us": latencies[min(n - 1, int(n * 0.99))] / 1000,
        "cpu_us": (cpu1 - cpu0) / n * 1e6,
    }


if __name__ == "__main__":
    target, call, conc, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    print(json.dumps(asyncio.run(run(target, call, conc, secs))))
