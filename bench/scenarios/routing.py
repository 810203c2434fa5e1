"""4. Routing scale: ``RouteTable.match`` time with 10, 1 000 and 10 000 routes.

The routes have the shapes real APIs have (AIP-style collections): literal
lists, single-segment variables, nested field paths, parents with several
segments, ``**`` variables and custom verbs, over every HTTP method. Each table
holds the smaller ones, so the same requests match the same routes in all
three: what grows is only the number of siblings along the way.
"""

from __future__ import annotations

import contextlib
import gc
import statistics
import sys
import time
from collections.abc import Callable

from grpcgw.routing import NotFound, RouteTable

from bench.config import Config
from bench.harness import Goal, ScenarioResult, Table, rotated

NAME = "routing"
TITLE = "4 routing"
SIZES = [10, 1_000, 10_000]

_SHAPES: list[tuple[str, Callable[[int], str]]] = [
    ("GET", lambda i: f"/v1/c{i}"),
    ("GET", lambda i: f"/v1/{{name=c{i}/*}}"),
    ("POST", lambda i: f"/v1/{{parent=projects/*}}/c{i}"),
    ("PATCH", lambda i: f"/v1/{{item.name=projects/*/c{i}/*}}"),
    ("DELETE", lambda i: f"/v1/projects/{{project}}/c{i}/{{id}}"),
    ("GET", lambda i: f"/v1/{{name=projects/*/c{i}/**}}"),
    ("POST", lambda i: f"/v1/{{name=projects/*/c{i}/*}}:cancel"),
    ("GET", lambda i: f"/v2/files/c{i}/{{path=**}}"),
    ("PUT", lambda i: f"/v1/{{parent=projects/*/locations/*}}/c{i}:batchUpdate"),
    ("GET", lambda i: f"/v1/{{name=projects/*/locations/*/c{i}/*}}/revisions/{{rev}}"),
]

#: Requests matching routes 0..9 (present in every table), as raw paths.
HITS = [
    ("GET", "/v1/c0"),
    ("GET", "/v1/c1/item-17"),
    ("POST", "/v1/projects/p-1/c2"),
    ("PATCH", "/v1/projects/p-1/c3/i-9"),
    ("DELETE", "/v1/projects/p-1/c4/i-9"),
    ("GET", "/v1/projects/p-1/c5/a/b/c.txt"),
    ("POST", "/v1/projects/p-1/c6/job-1:cancel"),
    ("GET", "/v2/files/c7/dir/sub%20dir/file.txt"),
    ("PUT", "/v1/projects/p-1/locations/eu-west1/c8:batchUpdate"),
    ("GET", "/v1/projects/p-1/locations/eu/c9/x-1/revisions/7"),
]
MISSES = [("GET", "/v1/projects/p-1/nothing-here/x"), ("GET", "/v3/unknown")]


def build(size: int) -> RouteTable[int]:
    table: RouteTable[int] = RouteTable()
    for i in range(size):
        method, template = _SHAPES[i % len(_SHAPES)]
        table.add(method, template(i), i)
    return table


def _per_match_ns(table: RouteTable[int], requests: list[tuple[str, str]], loops: int) -> float:
    """Median over 5 batches of the time of one match, in ns."""
    match = table.match
    batches = []
    for _ in range(5):
        t0 = time.perf_counter_ns()
        for _ in range(loops):
            for method, path in requests:
                with contextlib.suppress(NotFound):
                    match(method, path)
        batches.append((time.perf_counter_ns() - t0) / (loops * len(requests)))
    return statistics.median(batches)


def run(config: Config) -> ScenarioResult:
    rounds = config.r(5, 2)
    loops = config.n(2000, 100)
    result = ScenarioResult()
    tables = {size: build(size) for size in SIZES}
    for i, (method, path) in enumerate(HITS):
        for size, table in tables.items():
            if table.match(method, path).target != i:
                raise AssertionError(f"{method} {path} does not match route {i} of {size}")
    data = Table(TITLE)
    gc.collect()
    for r in range(rounds):
        print(f"  {NAME}: round {r + 1}/{rounds}", file=sys.stderr)
        for size in rotated(SIZES, r):
            label = f"{size:,} routes"
            hits = _per_match_ns(tables[size], HITS, loops)
            misses = _per_match_ns(tables[size], MISSES, loops)
            data.add("match (10 hits)", label, "ns/match", "ns", hits)
            data.add("404 (2 misses)", label, "ns/match", "ns", misses)
    data.compute_ratios("10 routes")
    result.rows = data.rows()
    ratio = data.ratio("match (10 hits)", "10,000 routes", "10 routes", "ns/match")
    result.goals.append(
        Goal("Routing: 10 000 routes ≤ 1.5x the time of 10", f"{ratio:.2f}x", ratio <= 1.5)
    )
    return result
