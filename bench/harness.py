"""The machinery the scenarios share: results, statistics, child processes, /proc readings."""

from __future__ import annotations

import contextlib
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")

T = TypeVar("T")


def number(value: float, unit: str) -> str:
    """A figure with as many digits as it deserves."""
    if unit == "/s" or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


# -- results ---------------------------------------------------------------------


@dataclass
class Row:
    """One measured figure of one contender in one case, with its value in every round.

    ``ratios`` are the per-round ratios to the baseline contender of the same case
    (None for the baseline itself, or where a ratio makes no sense).
    """

    scenario: str
    case: str
    contender: str
    metric: str
    unit: str
    values: list[float] = field(default_factory=list)
    ratios: list[float] | None = None
    #: True when a larger value is better (throughput); False for times and sizes.
    higher_is_better: bool = False
    #: The baseline of its case (what the ratios of the others are to).
    is_base: bool = False

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def spread(self) -> float:
        """Half the min-max range across rounds, as a fraction of the median."""
        if len(self.values) < 2 or not self.median:
            return 0.0
        return (max(self.values) - min(self.values)) / 2 / abs(self.median)

    def spread_text(self) -> str:
        """The spread as a percentage, or in the row's unit when the median is near zero."""
        if len(self.values) < 2:
            return "-"
        if abs(self.median) * 0.5 < max(self.values) - min(self.values) or not self.median:
            half = (max(self.values) - min(self.values)) / 2
            return f"±{number(half, self.unit)} {self.unit}"
        return f"±{self.spread * 100:.1f}%"

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "case": self.case,
            "contender": self.contender,
            "metric": self.metric,
            "unit": self.unit,
            "values": self.values,
            "median": self.median,
            "spread": self.spread,
            "ratio": self.ratio,
            "ratios": self.ratios,
            "is_base": self.is_base,
            "higher_is_better": self.higher_is_better,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Row:
        ratios = d.get("ratios")
        if ratios is None and d.get("ratio") is not None:
            ratios = [d["ratio"]]
        return cls(
            d["scenario"],
            d["case"],
            d["contender"],
            d["metric"],
            d["unit"],
            list(d["values"]),
            ratios,
            d.get("higher_is_better", False),
            d.get("is_base", d.get("ratio") is None),
        )


@dataclass
class Goal:
    """One goal of the issue, judged on the figures of a run."""

    text: str
    measured: str
    ok: bool | None  # None: not measured in this run (skipped)


@dataclass
class ScenarioResult:
    rows: list[Row] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Table:
    """Rows keyed by (case, contender, metric), filled round by round."""

    def __init__(self, scenario: str) -> None:
        self.scenario = scenario
        self._rows: dict[tuple[str, str, str], Row] = {}

    def add(
        self,
        case: str,
        contender: str,
        metric: str,
        unit: str,
        value: float,
        *,
        higher_is_better: bool = False,
    ) -> None:
        key = (case, contender, metric)
        row = self._rows.get(key)
        if row is None:
            row = Row(self.scenario, case, contender, metric, unit, [], None, higher_is_better)
            self._rows[key] = row
        row.values.append(value)

    def get(self, case: str, contender: str, metric: str) -> Row | None:
        return self._rows.get((case, contender, metric))

    def compute_ratios(self, baseline: str) -> None:
        """Per-round ratios to ``baseline`` of the same case and metric."""
        for (case, contender, metric), row in self._rows.items():
            if contender == baseline:
                row.is_base = True
                continue
            base = self._rows.get((case, baseline, metric))
            if base is None:
                continue
            n = min(len(base.values), len(row.values))
            row.ratios = [row.values[i] / base.values[i] for i in range(n) if base.values[i]]

    def ratio(self, case: str, contender: str, baseline: str, metric: str) -> float:
        """Median over rounds of ``contender / baseline`` for one case and metric."""
        a, b = self.get(case, contender, metric), self.get(case, baseline, metric)
        if a is None or b is None:
            return float("nan")
        ratios = [x / y for x, y in zip(a.values, b.values, strict=False) if y]
        return statistics.median(ratios) if ratios else float("nan")

    def rows(self) -> list[Row]:
        return list(self._rows.values())


def rotated(items: Sequence[T], round_no: int) -> list[T]:
    """``items`` started at a different one each round (A B C, B C A, ...), so that no
    contender always runs first, or right after the same neighbour."""
    k = round_no % len(items)
    return [*items[k:], *items[:k]]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of already sorted values (nearest rank)."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def time_calls(fn: Callable[[], object], n: int, max_seconds: float) -> list[float]:
    """Durations in µs of up to ``n`` calls of ``fn``, stopping after ``max_seconds``."""
    clock = time.perf_counter_ns
    out: list[float] = []
    deadline = clock() + int(max_seconds * 1e9)
    for _ in range(n):
        t0 = clock()
        fn()
        t1 = clock()
        out.append((t1 - t0) / 1000)
        if t1 > deadline:
            break
    return out


# -- /proc -------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def loadavg() -> str:
    """The 1-minute load average (other work on the machine shows here)."""
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    import platform

    info = {"python": platform.python_version(), "nproc": str(os.cpu_count())}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["loadavg"] = loadavg()
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("grpcio", "protobuf", "aiohttp", "mangum", "starlette", "fastapi"):
        try:
            info[dist] = version(dist)
        except PackageNotFoundError:
            info[dist] = "-"
    return info


# -- what this grpcgw offers ---------------------------------------------------------


def missing_option(fn: Callable[..., object], option: str) -> str:
    """'' when ``fn`` takes the keyword ``option`` (a parameter of its own, or a key of the
    ``TypedDict`` of its ``**config: Unpack[...]``); otherwise a sentence saying it does not
    (contenders of options still to come are skipped with it, and run once they exist)."""
    import inspect

    parameters = inspect.signature(fn).parameters
    if option in parameters:
        return ""
    for parameter in parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD and option in _unpacked_keys(fn, parameter):
            return ""
    return f"grpcgw.{fn.__name__}() has no {option}= option in this grpcgw yet"


def _unpacked_keys(fn: Callable[..., object], parameter: Any) -> frozenset[str]:
    """The keys of the ``TypedDict`` in ``**name: Unpack[TD]``, or none."""
    import re
    import typing

    try:
        hint = typing.get_type_hints(fn, include_extras=True).get(parameter.name)
        # typing's Unpack or typing_extensions' (not the same object before Python 3.12)
        unpack = "Unpack" in repr(typing.get_origin(hint))
        typed = typing.get_args(hint)[0] if unpack else None
    except Exception:  # a name only imported under TYPE_CHECKING: read the annotation
        m = re.fullmatch(r"(?:typing\.)?Unpack\[(\w+)\]", str(parameter.annotation))
        typed = getattr(fn, "__globals__", {}).get(m.group(1)) if m else None
    keys = getattr(typed, "__required_keys__", frozenset()) | getattr(
        typed, "__optional_keys__", frozenset()
    )
    return frozenset(keys)


# -- child processes --------------------------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """The environment of every child: the repository importable, bytecode caching on
    (cold starts are timed with compiled modules, as a deployed function has them)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    paths = [str(ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update(extra)
    return env


class ChildError(RuntimeError):
    def reason(self) -> str:
        """The last line of the message: the child's exception, without its traceback."""
        lines = [line for line in str(self).splitlines() if line.strip()]
        return lines[-1].strip() if lines else "?"


class Child:
    """A child process spoken to in JSON lines over stdin/stdout; its stderr goes to a file.

    ``args`` are Python's (``["-m", "bench.apps.x", ...]``), or, with ``exe``, the
    arguments of that program (the Go binaries of scenario 3).
    """

    def __init__(
        self,
        args: Sequence[str],
        *,
        cpu: int | None = None,
        timeout: float = 60,
        exe: str | None = None,
    ) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self.args = [exe, *args] if exe else list(args)
        self.proc = subprocess.Popen(
            [exe or PYTHON, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=ROOT,
            env=child_env(),
            preexec_fn=None if cpu is None else pinner(cpu),
        )
        self._buffer = b""
        self.hello = self.read(timeout)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def read(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise ChildError(f"{' '.join(self.args)}: no answer in {timeout:.0f}s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise ChildError(f"{' '.join(self.args)} died:\n{self.stderr_tail()}")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise ChildError(f"{' '.join(self.args)}: {reply['error']}\n{self.stderr_tail()}")
        return reply

    def ask(self, request: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        return self.read(timeout)

    def stderr_tail(self, limit: int = 3000) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-limit:]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def close_all(children: Iterable[Child]) -> None:
    for child in children:
        child.close()


def pinner(cpu: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` pinning the child (and every thread it will start) to one CPU,
    when the machine has more than one: the load generator and the server under test
    then do not take turns on the same core."""
    ncpu = os.cpu_count() or 1
    if not hasattr(os, "sched_setaffinity") or ncpu < 2:
        return None

    def pin() -> None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu % ncpu})

    return pin


def serve_requests(handle: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """The child side of :class:`Child`: say hello, then answer JSON lines until stdin closes."""
    out = sys.stdout.buffer

    def send(reply: dict[str, Any]) -> None:
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()

    try:
        send(handle({"op": "hello"}))
    except Exception as exc:
        send({"error": f"{type(exc).__name__}: {exc}"})
        raise
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            reply = handle(request)
        except Exception as exc:
            import traceback

            traceback.print_exc()
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        send(reply)
