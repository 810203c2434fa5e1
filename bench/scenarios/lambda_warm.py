"""1. Lambda warm invocation, in process: grpcgw's handler vs the floor vs Mangum + Starlette.

Each contender runs in its own long-lived process (same servicer, same socket
transport, same one event loop), and the rounds interleave them: round r runs
every case for every contender, in an order rotated each round. Within a round
each case is cut into slices of a few hundred invocations, the contenders
taking turns slice by slice, and a contender's figure is the median of its
slice medians: on a shared machine a burst of noise lasting a second or two
then lands on every contender alike instead of on whichever ran through it.

Every case runs twice: with the process pinned to one CPU (what a function of
up to 1,769 MB gets: one vCPU or a share of one) and free to use every CPU of
the machine (a larger function).
"""

from __future__ import annotations

import os
import statistics
import sys

from bench.config import Config
from bench.harness import Child, Goal, ScenarioResult, Table, close_all, rotated

NAME = "lambda-warm"
TITLE = "1 lambda warm"
#: grpcgw-plain: the same servicer with plain methods (a threaded server), for users
#: who write those; the goals read grpcgw, whose servicer is the floor's.
CONTENDERS = ["floor", "grpcgw", "grpcgw-plain", "mangum+starlette"]
CASES = [(call, kind) for call in ("ping", "echo") for kind in ("v2", "v1")]
#: Pinned to CPU 0 (None: unpinned); a one-CPU machine has only the first.
CPUS: list[int | None] = [0, None] if (os.cpu_count() or 1) > 1 else [None]


def _label(call: str, kind: str, cpu: int | None) -> str:
    return f"{call} {kind}, " + ("1 CPU" if cpu is not None else f"{os.cpu_count() or 1} CPUs")


def run(config: Config) -> ScenarioResult:
    rounds = config.r(5, 2)
    slices = config.n(8, 2)
    n = config.n(250, 100)  # invocations per slice
    warmup = config.n(200, 50)
    max_s = 1  # seconds per slice, at most
    result = ScenarioResult()
    table = Table(TITLE)
    workers: dict[tuple[str, int | None], Child] = {}
    try:
        for cpu in CPUS:
            for c in CONTENDERS:
                workers[c, cpu] = Child(["-m", "bench.lambda_worker", c], cpu=cpu)
        answers = {c: workers[c, CPUS[0]].ask({"op": "check"}) for c in CONTENDERS}
        for c in CONTENDERS:
            for case, answer in answers[c].items():
                if answer != answers["grpcgw"][case]:
                    result.notes.append(
                        f"{TITLE}: {c} answers {case} differently from grpcgw: {answer!r:.200}"
                    )
        for r in range(rounds):
            print(f"  {NAME}: round {r + 1}/{rounds}", file=sys.stderr)
            for (call, kind), cpu in ((case, cpu) for case in CASES for cpu in CPUS):
                medians: dict[str, list[float]] = {c: [] for c in CONTENDERS}
                for i in range(slices):
                    for c in rotated(CONTENDERS, r + i):
                        reply = workers[c, cpu].ask(
                            {
                                "op": "run",
                                "call": call,
                                "kind": kind,
                                "n": n,
                                "warmup": warmup if i == 0 else 20,
                                "max_s": max_s,
                            }
                        )
                        medians[c].append(reply["median_us"])
                for c in CONTENDERS:
                    table.add(
                        _label(call, kind, cpu),
                        c,
                        "µs/invocation",
                        "µs",
                        statistics.median(medians[c]),
                    )
    finally:
        close_all(workers.values())
    table.compute_ratios("floor")
    result.rows = table.rows()
    floor_ok, mangum_ok = [], []
    for (call, kind), cpu in ((case, cpu) for case in CASES for cpu in CPUS):
        case = _label(call, kind, cpu)
        floor_ok.append((case, table.ratio(case, "grpcgw", "floor", "µs/invocation")))
        mangum_ok.append((case, table.ratio(case, "grpcgw", "mangum+starlette", "µs/invocation")))
    result.goals.append(
        Goal(
            "Lambda warm: grpcgw ≤ 1.10x floor",
            ", ".join(f"{case} {x:.2f}x" for case, x in floor_ok),
            all(x <= 1.10 for _, x in floor_ok),
        )
    )
    result.goals.append(
        Goal(
            "Lambda warm: grpcgw ≤ 0.80x Mangum+Starlette",
            ", ".join(f"{case} {x:.2f}x" for case, x in mangum_ok),
            all(x <= 0.80 for _, x in mangum_ok),
        )
    )
    return result
