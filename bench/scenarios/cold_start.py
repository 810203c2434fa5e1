"""2. Cold start: wall time from ``python`` starting to the first Lambda response.

Every contender is a fresh process (``python -m bench.coldrun CONTENDER``):
the floor (import grpc, protobuf and the ``_pb2`` modules, start the server, one
call), grpcgw's ``serve_lambda``, ``serve_lambda(..., dispatch="direct")``
(skipped with a message where that option does not exist), and Mangum +
Starlette / + FastAPI making the same call. Modules are compiled to bytecode by
an untimed first run, as they are in a deployed function; the page cache is
warm for everyone alike. Each child gets an empty directory of its own as its
/tmp (``GWBENCH_TMP``: the unix sockets, and the directory socket mode scans for
stale ones), as a new Lambda execution environment's /tmp is empty at init; the
developer machine's /tmp may hold thousands of entries. One extra run per
contender under ``-X importtime`` shows where import time goes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

import grpcgw

from bench.config import Config
from bench.harness import (
    PYTHON,
    ROOT,
    Goal,
    ScenarioResult,
    Table,
    child_env,
    missing_option,
    rotated,
)

NAME = "cold-start"
TITLE = "2 cold start"
CONTENDERS = ["floor", "grpcgw", "grpcgw-direct", "mangum+starlette", "mangum+fastapi"]
#: The issue's goal, in both dispatch modes: at most the floor + this many ms.
EXTRA_MS = 15


def _once(contender: str, *flags: str) -> tuple[float, dict[str, object], str]:
    """(milliseconds to the first response, the child's report, its stderr)."""
    with tempfile.TemporaryDirectory(prefix="gwbench-cold-", dir="/tmp") as tmp:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [PYTHON, *flags, "-m", "bench.coldrun", contender],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=child_env(GWBENCH_TMP=tmp),
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        elapsed = (time.perf_counter() - t0) * 1000
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        # The child left with os._exit: its sockets go with the directory.
    if not line:
        raise RuntimeError(f"cold start of {contender} failed:\n{err.decode()[-3000:]}")
    report = json.loads(line)
    if not report.get("ok"):
        raise RuntimeError(f"cold start of {contender}: wrong first response")
    return elapsed, report, err.decode(errors="replace")


def _importtime(stderr: str) -> tuple[list[tuple[str, float, float]], dict[str, float]]:
    """(modules as (name, self ms, cumulative ms)), self ms summed per top-level package."""
    modules: list[tuple[str, float, float]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|")
        modules.append((name.strip(), int(self_us) / 1000, int(cumulative_us) / 1000))
    packages: dict[str, float] = defaultdict(float)
    for name, self_ms, _ in modules:
        packages[name.split(".")[0]] += self_ms
    return modules, dict(packages)


def run(config: Config) -> ScenarioResult:
    rounds = config.r(7, 2)
    result = ScenarioResult()
    table = Table(TITLE)
    reports: dict[str, dict[str, object]] = {}
    why = missing_option(grpcgw.serve_lambda, "dispatch")
    skipped = {"grpcgw-direct": why} if why else {}
    contenders = [c for c in CONTENDERS if c not in skipped]
    for contender, why in skipped.items():
        print(f"  {NAME}: {contender} skipped: {why}", file=sys.stderr)
        result.notes.append(f"{TITLE}: {contender} skipped: {why}")
    for contender in list(contenders):
        try:
            _once(contender)  # untimed: writes the bytecode caches
        except RuntimeError as exc:
            if contender != "grpcgw-direct":
                raise
            # the option is new: its failing does not stop the rest
            lines = [line for line in str(exc).splitlines() if line.strip()]
            skipped[contender] = f"failed: {lines[-1].strip() if lines else exc}"
            contenders.remove(contender)
            print(f"  {NAME}: {contender} {skipped[contender]}", file=sys.stderr)
            result.notes.append(f"{TITLE}: {contender} {skipped[contender]}")
    for r in range(rounds):
        print(f"  {NAME}: round {r + 1}/{rounds}", file=sys.stderr)
        for contender in rotated(contenders, r):
            ms, reports[contender], _ = _once(contender)
            table.add("first response", contender, "ms to 1st response", "ms", ms)
    table.compute_ratios("floor")
    result.rows = table.rows()
    for contender in contenders:
        _, report, stderr = _once(contender, "-X", "importtime")
        modules, packages = _importtime(stderr)
        total = sum(self_ms for _, self_ms, _ in modules)
        top = sorted(modules, key=lambda m: -m[1])[:15]
        by_package = sorted(packages.items(), key=lambda kv: -kv[1])[:8]
        lines = [
            f"{TITLE} / imports of {contender}: {report['modules']} modules in sys.modules, "
            f"{len(modules)} imported, {total:.0f} ms of import time (under -X importtime), "
            f"aiohttp imported: {'yes' if report['aiohttp'] else 'no'}",
            "    by package (self ms): " + ", ".join(f"{name} {ms:.1f}" for name, ms in by_package),
            "    top 15 modules by self time (self ms / cumulative ms):",
        ]
        lines += [f"      {self_ms:7.1f} {cum_ms:7.1f}  {name}" for name, self_ms, cum_ms in top]
        result.notes.append("\n".join(lines))
    floor = table.get("first response", "floor", "ms to 1st response")
    assert floor is not None
    for contender, label in (("grpcgw", "socket mode"), ("grpcgw-direct", "direct dispatch")):
        texts = (
            f"Cold start, {label}: {contender} ≤ floor + {EXTRA_MS} ms",
            f"Cold start, {label}: the Lambda path imports no aiohttp",
        )
        if contender in skipped:
            result.goals += [Goal(t, f"not measured: {skipped[contender]}", None) for t in texts]
            continue
        ours = table.get("first response", contender, "ms to 1st response")
        assert ours is not None
        extra = statistics.median(a - b for a, b in zip(ours.values, floor.values, strict=True))
        result.goals.append(Goal(texts[0], f"floor + {extra:.0f} ms", extra <= EXTRA_MS))
        imported = bool(reports[contender]["aiohttp"])
        result.goals.append(
            Goal(texts[1], "aiohttp imported" if imported else "aiohttp not imported", not imported)
        )
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        result.notes.append(f"{TITLE}: running inside Lambda; figures include its sandbox")
    return result
