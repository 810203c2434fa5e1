"""6. Memory: RSS after init and after 100 000 requests, Lambda handler in process.

Each contender is a fresh process (``bench.lambda_worker``) per round. "After
init" is after the module import and one invocation of each of the four cases
(ping/echo, v2/v1): what a warm sandbox holds. Then the four cases in turn, and
RSS after each half (after ``gc.collect()``). Growth is judged on the second
half, where a leak shows and warm-up allocations (caches, arenas) do not.
"""

from __future__ import annotations

import sys

from bench.config import Config
from bench.harness import Child, Goal, ScenarioResult, Table, rotated

NAME = "memory"
TITLE = "6 memory"
CONTENDERS = ["floor", "grpcgw"]
#: RSS growth over the second half of the requests still counted as noise, MiB.
NOISE_MIB = 1.0
MIB = 1024 * 1024


def _median(table: Table, case: str, contender: str) -> float:
    row = table.get(case, contender, "MiB")
    return row.median if row is not None else float("nan")


def run(config: Config) -> ScenarioResult:
    rounds = config.r(2, 1)
    total = config.n(100_000, 2_000)
    max_s = config.n(900, 30)
    half = total // 2
    result = ScenarioResult()
    table = Table(TITLE)
    for r in range(rounds):
        print(f"  {NAME}: round {r + 1}/{rounds}", file=sys.stderr)
        for contender in rotated(CONTENDERS, r):
            with Child(["-m", "bench.lambda_worker", contender]) as worker:
                worker.ask({"op": "check"})
                init = worker.ask({"op": "rss"})["rss"]
                done = worker.ask({"op": "mixed", "n": half, "max_s": max_s}, max_s + 60)["n"]
                middle = worker.ask({"op": "rss"})["rss"]
                done += worker.ask({"op": "mixed", "n": total - half, "max_s": max_s}, max_s + 60)[
                    "n"
                ]
                end = worker.ask({"op": "rss"})["rss"]
            if done < total:
                result.notes.append(
                    f"{TITLE}: {contender} served {done:,} of {total:,} requests in the time limit"
                )
            table.add("RSS after init", contender, "MiB", "MiB", init)
            table.add(f"RSS after {total:,} requests", contender, "MiB", "MiB", end)
            table.add(f"growth, requests {half:,}-{total:,}", contender, "MiB", "MiB", end - middle)
    for case in ("RSS after init", f"RSS after {total:,} requests"):
        for row in table.rows():
            if row.case == case:
                row.is_base = row.contender == "floor"
                base = table.get(case, "floor", "MiB")
                if base is not None and not row.is_base:
                    row.ratios = [a / b for a, b in zip(row.values, base.values, strict=False)]
    result.rows = table.rows()
    init_ours = _median(table, "RSS after init", "grpcgw")
    end_ours = _median(table, f"RSS after {total:,} requests", "grpcgw")
    growth = _median(table, f"growth, requests {half:,}-{total:,}", "grpcgw")
    extra = init_ours - _median(table, "RSS after init", "floor")
    result.goals.append(
        Goal(
            "Memory: RSS after init ≤ floor + 15 MB",
            f"floor + {extra:.1f} MiB",
            extra * MIB <= 15e6,
        )
    )
    result.goals.append(
        Goal(
            f"Memory: no growth over {total:,} requests beyond noise "
            f"(≤ {NOISE_MIB:g} MiB over the second half)",
            f"{growth:+.2f} MiB (RSS {init_ours:.1f} MiB after init, {end_ours:.1f} at the end)",
            growth <= NOISE_MIB,
        )
    )
    return result
