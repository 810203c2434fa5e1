"""One Lambda contender in its own process, driven by the parent over JSON lines.

    python -m bench.lambda_worker CONTENDER

Warm invocations (scenario 1) and memory (scenario 6) both run here: the
handler is called in process, on its one process-lifetime event loop, exactly
as the Lambda runtime calls it between two ``next`` requests.
"""

from __future__ import annotations

import gc
import importlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.events import Context, event
from bench.harness import percentile, rss_mib, serve_requests, time_calls

MODULES = {
    "floor": "bench.apps.lambda_floor",
    "floor-fwd": "bench.apps.lambda_floor_fwd",
    "grpcgw": "bench.apps.lambda_grpcgw",
    "grpcgw-plain": "bench.apps.lambda_grpcgw_plain",
    "grpcgw-direct": "bench.apps.lambda_grpcgw_direct",
    "mangum+starlette": "bench.apps.lambda_starlette",
    "mangum+fastapi": "bench.apps.lambda_fastapi",
}
CASES = [(call, kind) for call in ("ping", "echo") for kind in ("v2", "v1")]


class Worker:
    def __init__(self, contender: str) -> None:
        self.contender = contender
        self.module: Any = importlib.import_module(MODULES[contender])
        self.context = Context()

    def invoker(self, call: str, kind: str) -> Callable[[], Any]:
        if self.contender == "floor":
            fn: Callable[[], Any] = self.module.CALLS[call]
            return fn
        if self.contender == "floor-fwd":
            by_kind: Callable[[], Any] = self.module.CALLS_BY_KIND[call, kind]
            return by_kind
        handler = self.module.handler
        ev, ctx = event(call, kind), self.context
        return lambda: handler(ev, ctx)

    def answer(self, call: str, kind: str) -> Any:
        """What one invocation returns, as JSON the parent can compare across contenders."""
        reply = self.invoker(call, kind)()
        if self.contender in ("floor", "floor-fwd"):
            from bench.service import to_json

            return {"status": 200, "body": json.loads(to_json(reply))}
        return {"status": reply["statusCode"], "body": json.loads(reply["body"])}

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request["op"]
        if op == "hello":
            return {"pid": _pid(), "rss_import": rss_mib()}
        if op == "check":
            return {f"{c}-{k}": self.answer(c, k) for c, k in CASES}
        if op == "run":
            fn = self.invoker(request["call"], request["kind"])
            for _ in range(request["warmup"]):
                fn()
            times = sorted(time_calls(fn, request["n"], request["max_s"]))
            return {
                "n": len(times),
                "median_us": statistics.median(times),
                "p99_us": percentile(times, 0.99),
                "mean_us": statistics.fmean(times),
            }
        if op == "mixed":  # the four cases in turn, up to n requests or max_s seconds
            fns = [self.invoker(c, k) for c, k in CASES]
            deadline = time.monotonic() + request["max_s"]
            done = 0
            while done < request["n"] and time.monotonic() < deadline:
                for i in range(min(1000, request["n"] - done)):
                    fns[i & 3]()
                done += min(1000, request["n"] - done)
            return {"n": done}
        if op == "rss":
            gc.collect()
            return {"rss": rss_mib()}
        raise ValueError(f"unknown op {op!r}")


def _pid() -> int:
    import os

    return os.getpid()


def main() -> None:
    worker = Worker(sys.argv[1])
    serve_requests(worker.handle)


if __name__ == "__main__":
    main()
