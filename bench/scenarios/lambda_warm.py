"""1. Lambda warm invocation, in process: grpcgw's handler vs the floor vs Mangum + Starlette.

Each contender runs in its own long-lived process (same servicer, same socket
transport, same one event loop), and the rounds interleave them: round r runs
every case for every contender, in an order rotated each round.
"""

from __future__ import annotations

import sys

from bench.config import Config
from bench.harness import Child, Goal, ScenarioResult, Table, close_all, rotated

NAME = "lambda-warm"
TITLE = "1 lambda warm"
CONTENDERS = ["floor", "grpcgw", "mangum+starlette"]
CASES = [(call, kind) for call in ("ping", "echo") for kind in ("v2", "v1")]


def run(config: Config) -> ScenarioResult:
    rounds = config.r(5, 2)
    n = config.n(2000, 200)
    warmup = config.n(200, 50)
    max_s = config.n(5, 1)
    result = ScenarioResult()
    table = Table(TITLE)
    workers = {c: Child(["-m", "bench.lambda_worker", c]) for c in CONTENDERS}
    try:
        answers = {c: w.ask({"op": "check"}) for c, w in workers.items()}
        for c in CONTENDERS:
            for case, answer in answers[c].items():
                if answer != answers["grpcgw"][case]:
                    result.notes.append(
                        f"{TITLE}: {c} answers {case} differently from grpcgw: {answer!r:.200}"
                    )
        for r in range(rounds):
            print(f"  {NAME}: round {r + 1}/{rounds}", file=sys.stderr)
            for call, kind in CASES:
                for c in rotated(CONTENDERS, r):
                    reply = workers[c].ask(
                        {
                            "op": "run",
                            "call": call,
                            "kind": kind,
                            "n": n,
                            "warmup": warmup,
                            "max_s": max_s,
                        }
                    )
                    table.add(f"{call} {kind}", c, "µs/invocation", "µs", reply["median_us"])
    finally:
        close_all(workers.values())
    table.compute_ratios("floor")
    result.rows = table.rows()
    floor_ok, mangum_ok = [], []
    for call, kind in CASES:
        case = f"{call} {kind}"
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
