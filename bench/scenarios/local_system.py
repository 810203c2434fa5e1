"""3, whole system: what a deployment of gateway and servicer costs, all processes counted.

Each contender is a layout of its own processes, started once and kept for the
scenario:

- ``go-gateway+py``: Go grpc-gateway (Debian's 1.6.4, built by
  ``bench/go_gateway/build.py``) in front of the bench's Python servicer (a
  ``grpc.aio`` server, its own process): two processes; the baseline;
- ``go-gateway+go``: the same gateway in front of BenchService written in Go;
- ``grpcgw+py`` / ``grpcgw+go``: grpcgw's gateway (``grpcgw.web.create_app``,
  the proxy) in front of the same two backends;
- ``aiohttp+py``: the hand-written aiohttp handler in front of the Python servicer;
- ``serve-local``: ``grpcgw.start_local`` (what ``serve_local`` runs): gateway
  and servicer in one process, the gateway calling the gRPC server over a unix
  socket;
- ``serve-local-direct``: the same with ``dispatch="direct"`` (skipped with a
  message while ``start_local`` has no such option);
- ``serve-local-direct-2w``: ``serve_local(dispatch="direct", workers=2)``: a
  supervisor and two worker processes, each gateway and servicer, sharing the
  HTTP port (``SO_REUSEPORT``); all three processes counted (skipped while
  ``serve_local`` has no ``workers``).

Nothing is pinned: every layout, and wrk, share all of the machine's CPUs, as a
deployment on that machine would. CPU per request is utime + stime of every
process of the layout (from /proc, over the run) divided by the requests wrk
completed; wrk's own CPU is not counted. Every backend listens on a unix
socket.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

import grpcgw

from bench.config import Config
from bench.go_gateway.build import GoBuild
from bench.harness import (
    Child,
    ChildError,
    Goal,
    ScenarioResult,
    Table,
    close_all,
    cpu_seconds,
    missing_option,
    rotated,
)
from bench.loadgen import CALLS, fetch, run_wrk
from bench.service import remove_socket

PART = "local-system"
#: In the order the table lists them; the first one present is the baseline.
CONTENDERS = [
    "go-gateway+py",
    "grpcgw+py",
    "aiohttp+py",
    "serve-local",
    "serve-local-direct",
    "serve-local-direct-2w",
    "go-gateway+go",
    "grpcgw+go",
]
BASELINE = "go-gateway+py"
#: The layouts of ``serve_local`` with direct dispatch that the goals judge (the best).
DIRECT_LAYOUTS = ("serve-local-direct", "serve-local-direct-2w")
#: The issue's goals for direct dispatch against Go grpc-gateway + the Python servicer:
#: call -> (throughput at least, total CPU per request at most), as ratios.
DIRECT_GOALS = {"ping": (3.5, 0.3), "echo": (2.0, 0.5)}
PY_FRONTS = {"grpcgw": "bench.apps.local_grpcgw", "aiohttp": "bench.apps.local_aiohttp"}


def case_name(call: str, connections: int) -> str:
    return f"system: {call} c={connections}"


@dataclass
class Layout:
    """A running contender: its HTTP port and its processes by role."""

    name: str
    port: int
    #: role ("gateway", "servicer", or "gateway+servicer") -> pid
    pids: dict[str, int]
    children: list[Child] = field(default_factory=list)

    def cpu(self) -> dict[str, float]:
        return {role: cpu_seconds(pid) for role, pid in self.pids.items()}

    def close(self) -> None:
        close_all(reversed(self.children))


def unavailable(name: str, go: GoBuild | None, go_why: str) -> str:
    """'' when ``name`` can run here; otherwise why it cannot."""
    if go is None and (name.startswith("go-gateway") or name.endswith("+go")):
        return go_why
    if name == "serve-local-direct":
        return missing_option(grpcgw.start_local, "dispatch")
    if name == "serve-local-direct-2w":
        return missing_option(grpcgw.serve_local, "workers")
    return ""


def start(
    name: str,
    go: GoBuild | None,
    socket: str,
    *,
    cpu: int | None = None,
    backend_cpu: int | None = None,
) -> Layout:
    """Start contender ``name`` with its backend on ``socket``; the gateway pinned to ``cpu``
    and the backend to ``backend_cpu`` when given."""
    if name == "serve-local-direct-2w":
        child = Child(["-m", "bench.apps.local_serve_workers", "direct", "2"], cpu=cpu)
        pids = {"supervisor": child.pid}
        pids.update({f"worker {n}": pid for n, pid in enumerate(child.hello["workers"], 1)})
        return Layout(name, child.hello["port"], pids, [child])
    if name.startswith("serve-local"):
        mode = "direct" if name.endswith("-direct") else "socket"
        child = Child(["-m", "bench.apps.local_serve", mode, socket], cpu=cpu)
        return Layout(name, child.hello["port"], {"gateway+servicer": child.pid}, [child])
    front, _, back = name.partition("+")
    children: list[Child] = []
    try:
        if back == "go":
            assert go is not None
            server = Child(["-listen", f"unix://{socket}"], exe=go.backend, cpu=backend_cpu)
        else:
            server = Child(["-m", "bench.apps.grpc_server", socket], cpu=backend_cpu)
        children.append(server)
        target = server.hello["target"]
        if front == "go-gateway":
            assert go is not None
            gateway = Child(["-backend", target], exe=go.gateway, cpu=cpu)
        else:
            gateway = Child(["-m", PY_FRONTS[front], target], cpu=cpu)
        children.append(gateway)
    except BaseException:
        close_all(reversed(children))
        raise
    pids = {"gateway": gateway.pid, "servicer": server.pid}
    return Layout(name, gateway.hello["port"], pids, children)


def run_system(
    config: Config,
    wrk: str,
    scripts: dict[str, str],
    go: GoBuild | None,
    go_why: str,
    title: str,
) -> ScenarioResult:
    result = ScenarioResult()
    rounds = config.r(5, 1)
    seconds = config.s(6, 1)
    levels = [16, 64]
    contenders: list[str] = []
    skipped: dict[str, str] = {}
    for name in CONTENDERS:
        why = unavailable(name, go, go_why)
        if why:
            skipped[name] = why
            print(f"  {PART}: {name} skipped: {why}", file=sys.stderr)
            result.notes.append(f"{title}: {name} skipped: {why}")
        else:
            contenders.append(name)
    table = Table(title)
    layouts: dict[str, Layout] = {}
    sockets: list[str] = []
    try:
        for name in list(contenders):
            socket = f"/tmp/gwbench-system-{os.getpid()}-{len(sockets)}.sock"
            sockets.append(socket)
            try:
                layouts[name] = start(name, go, socket)
            except ChildError as exc:  # one contender that cannot start does not stop the rest
                why = f"failed to start: {exc.reason()}"
                skipped[name] = why
                contenders.remove(name)
                print(f"  {PART}: {name} {why}", file=sys.stderr)
                result.notes.append(f"{title}: {name} {why}")
        reference = "grpcgw+py"
        for call in CALLS:
            answers = {name: fetch(layout.port, call) for name, layout in layouts.items()}
            for name, answer in answers.items():
                if answer != answers[reference]:
                    result.notes.append(
                        f"{title}: {call}: {name} answers differently from {reference}: "
                        f"{answer!r:.200}"
                    )
            for layout in layouts.values() if not config.quick else ():  # warm-up
                run_wrk(wrk, layout.port, call, 16, 1, scripts[call])
        for r in range(rounds):
            print(f"  {PART}: round {r + 1}/{rounds}", file=sys.stderr)
            for call in CALLS:
                for c in levels:
                    case = case_name(call, c)
                    for name in rotated(contenders, r):
                        layout = layouts[name]
                        cpu0 = layout.cpu()
                        m = run_wrk(wrk, layout.port, call, c, seconds, scripts[call])
                        cpu1 = layout.cpu()
                        n = max(m["requests"], 1)
                        if m["errors"]:
                            result.notes.append(f"{title}: {case} {name}: {m['errors']:.0f} errors")
                        total = sum(cpu1[role] - cpu0[role] for role in cpu0)
                        table.add(case, name, "req/s", "/s", m["rps"], higher_is_better=True)
                        table.add(case, name, "p50", "µs", m["p50_us"])
                        table.add(case, name, "p99", "µs", m["p99_us"])
                        table.add(case, name, "CPU/req, all", "µs", total / n * 1e6)
                        if "gateway" in cpu0:
                            gateway = cpu1["gateway"] - cpu0["gateway"]
                            table.add(case, name, "CPU/req, gateway", "µs", gateway / n * 1e6)
                        time.sleep(0.2)  # let connections close before the next run
    finally:
        for layout in layouts.values():
            layout.close()
        for socket in sockets:
            remove_socket(socket)
    baseline = BASELINE if BASELINE in contenders else "aiohttp+py"
    table.compute_ratios(baseline)
    result.rows = table.rows()
    result.notes.insert(0, summary(table, title, contenders, baseline, levels))
    result.goals += _goals(table, levels, skipped)
    return result


def summary(
    table: Table, title: str, contenders: list[str], baseline: str, levels: list[int]
) -> str:
    """The whole-system figures in one small table: per contender and case, req/s and
    total CPU per request, each with its median per-round ratio to the baseline."""
    cases = [case_name(call, c) for call in CALLS for c in levels]
    header = ["contender", *(case.removeprefix("system: ") for case in cases)]
    lines = [header]
    for name in contenders:
        cells = [name]
        for case in cases:
            parts = []
            for metric, unit in (("req/s", "/s"), ("CPU/req, all", " µs")):
                row = table.get(case, name, metric)
                if row is None:
                    parts.append("-")
                    continue
                ratio = "" if name == baseline else f" {row.ratio or float('nan'):.2f}x"
                parts.append(f"{row.median:,.0f}{unit}{ratio}")
            cells.append(", ".join(parts))
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        f"{title}, whole system: median req/s and CPU per request of all the layout's "
        f"processes; x = median of the per-round ratios to {baseline}"
    ]
    text += [
        "    " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    return "\n".join(text)


def _goals(table: Table, levels: list[int], skipped: dict[str, str]) -> list[Goal]:
    """The issue's goals for ``serve_local`` with direct dispatch, judged on its best
    layout (one process, or two workers): each layout's ratios are printed, named."""
    goals = []
    for call, (rps_goal, cpu_goal) in DIRECT_GOALS.items():
        texts = (
            f"Local: serve_local direct (best layout) ≥ {rps_goal:.1f}x Go grpc-gateway + "
            f"Python servicer's req/s ({call}, c=16 and c=64)",
            f"Local: serve_local direct (best layout) ≤ {cpu_goal:.1f}x Go grpc-gateway + "
            f"Python servicer's total CPU/req ({call}, c=16 and c=64)",
        )
        layouts = [name for name in DIRECT_LAYOUTS if name not in skipped]
        why = skipped.get(BASELINE) or ("" if layouts else skipped.get(DIRECT_LAYOUTS[0]))
        if why:
            goals += [Goal(text, f"not measured: {why}", None) for text in texts]
            continue
        for text, metric, limit, higher in (
            (texts[0], "req/s", rps_goal, True),
            (texts[1], "CPU/req, all", cpu_goal, False),
        ):
            parts = []
            met = []
            for name in layouts:
                ratios = [
                    (c, table.ratio(case_name(call, c), name, BASELINE, metric)) for c in levels
                ]
                if all((x >= limit) if higher else (x <= limit) for _, x in ratios):
                    met.append(name)
                figures = ", ".join(f"c={c} {x:.2f}x" for c, x in ratios)
                parts.append(f"{name}: {figures}")
            verdict = f"met by {', '.join(met)}" if met else "met by none"
            goals.append(Goal(text, "; ".join(parts) + f" ({verdict})", bool(met)))
    return goals
