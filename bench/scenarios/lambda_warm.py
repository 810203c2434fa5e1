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

``grpcgw-direct`` is ``serve_lambda(..., dispatch="direct")``: the handler calls
the servicer in process, with no gRPC round trip (skipped with a message on a
grpcgw whose ``serve_lambda`` takes no ``dispatch=``).
"""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Sequence

import grpcgw

from bench.config import Config
from bench.harness import (
    Child,
    ChildError,
    Goal,
    ScenarioResult,
    Table,
    close_all,
    missing_option,
    rotated,
)

NAME = "lambda-warm"
TITLE = "1 lambda warm"
#: grpcgw-plain: the same servicer with plain methods (a threaded server), for users
#: who write those; the goals read grpcgw (socket mode) and grpcgw-direct, whose
#: servicer is the floor's.
#: floor-fwd: the floor's call with the metadata and deadline grpcgw's call carries
#: (equal gRPC work; a note of the run, not a goal's baseline).
CONTENDERS = [
    "floor",
    "floor-fwd",
    "grpcgw",
    "grpcgw-direct",
    "grpcgw-plain",
    "mangum+starlette",
]
#: The issue's goals, as ratios of the median invocation time:
#: (contender, baseline, calls, at most).
GOALS = [
    ("grpcgw-direct", "floor", ("ping",), 0.20),
    ("grpcgw-direct", "floor", ("echo",), 0.30),
    ("grpcgw-direct", "mangum+starlette", ("ping", "echo"), 0.25),
    ("grpcgw", "floor", ("ping",), 1.10),
    ("grpcgw", "floor", ("echo",), 1.25),
    ("grpcgw", "mangum+starlette", ("echo",), 0.80),
]
LABELS = {"grpcgw": "socket mode", "grpcgw-direct": "direct dispatch"}
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
    contenders, skipped = available()
    for why in skipped.values():
        print(f"  {NAME}: grpcgw-direct skipped: {why}", file=sys.stderr)
        result.notes.append(f"{TITLE}: grpcgw-direct skipped: {why}")
    workers: dict[tuple[str, int | None], Child] = {}
    try:
        for cpu in CPUS:
            for c in list(contenders):
                try:
                    workers[c, cpu] = Child(["-m", "bench.lambda_worker", c], cpu=cpu)
                except ChildError as exc:
                    if c != "grpcgw-direct":
                        raise
                    # the option is new: its failing to start does not stop the rest
                    skipped[c] = f"failed to start: {exc.reason()}"
                    contenders.remove(c)
                    print(f"  {NAME}: {c} {skipped[c]}", file=sys.stderr)
                    result.notes.append(f"{TITLE}: {c} {skipped[c]}")
        answers = {c: workers[c, CPUS[0]].ask({"op": "check"}) for c in contenders}
        for c in contenders:
            for case, answer in answers[c].items():
                if answer != answers["grpcgw"][case]:
                    result.notes.append(
                        f"{TITLE}: {c} answers {case} differently from grpcgw: {answer!r:.200}"
                    )
        for r in range(rounds):
            print(f"  {NAME}: round {r + 1}/{rounds}", file=sys.stderr)
            for (call, kind), cpu in ((case, cpu) for case in CASES for cpu in CPUS):
                medians: dict[str, list[float]] = {c: [] for c in contenders}
                for i in range(slices):
                    for c in rotated(contenders, r + i):
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
                for c in contenders:
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
    result.notes.extend(_above_floor(table, contenders))
    if "floor-fwd" in contenders:
        labels = [_label(call, kind, cpu) for call, kind in CASES for cpu in CPUS]
        result.notes.append(
            "socket mode against the floor with equal gRPC work (floor-fwd): "
            + ", ".join(
                f"{label} {table.ratio(label, 'grpcgw', 'floor-fwd', 'µs/invocation'):.2f}x"
                for label in labels
            )
        )
    for contender, baseline, calls, limit in GOALS:
        text = (
            f"Lambda warm, {LABELS[contender]}: {contender} ≤ {limit:.2f}x {baseline} "
            f"({' and '.join(calls)}, 1 CPU and all)"
        )
        if contender in skipped:
            result.goals.append(Goal(text, f"not measured: {skipped[contender]}", None))
            continue
        labels = [_label(call, kind, cpu) for call, kind in CASES for cpu in CPUS if call in calls]
        ratios = [
            (label, table.ratio(label, contender, baseline, "µs/invocation")) for label in labels
        ]
        result.goals.append(
            Goal(
                text,
                ", ".join(f"{label} {x:.2f}x" for label, x in ratios),
                all(x <= limit for _, x in ratios),
            )
        )
    return result


def _above_floor(table: Table, contenders: Sequence[str]) -> list[str]:
    """A note per case: what each contender adds to the floor, in µs (the median over
    rounds of the per-round difference). A ratio to the floor moves with how fast the
    host runs gRPC's core; the µs grpcgw spends above it are its own work."""
    notes = []
    for call, kind in CASES:
        for cpu in CPUS:
            label = _label(call, kind, cpu)
            base = table.get(label, "floor", "µs/invocation")
            if base is None:
                continue
            parts = []
            for c in contenders:
                row = table.get(label, c, "µs/invocation")
                if c == "floor" or row is None:
                    continue
                extra = [x - y for x, y in zip(row.values, base.values, strict=False)]
                parts.append(f"{c} {statistics.median(extra):+.0f} µs")
            floor = statistics.median(base.values)
            notes.append(f"{label}: above the floor ({floor:.0f} µs): {', '.join(parts)}")
    return notes


def available() -> tuple[list[str], dict[str, str]]:
    """The contenders this grpcgw can run, and why the others cannot."""
    why = missing_option(grpcgw.serve_lambda, "dispatch")
    if not why:
        return list(CONTENDERS), {}
    return [c for c in CONTENDERS if c != "grpcgw-direct"], {"grpcgw-direct": why}
