"""3. Local HTTP under a real load generator, in two parts.

**Proxy** (the gateway's own cost). One gRPC server process (the shared
servicer, on a unix socket) serves every contender. In front of it, each in
its own process:

- ``grpcgw``: ``grpcgw.web.create_app(Gateway(...))``, the proxy (what
  ``serve_local`` serves, over a channel);
- ``aiohttp``: a hand-written aiohttp handler per call, same stub call and JSON;
- ``go-gateway``: Go grpc-gateway 1.6.4 (Debian's packages, built by
  ``bench/go_gateway/build.py``; skipped with a message where Go cannot be
  installed);

and ``bare-grpc``: a Python ``grpc.aio`` client calling the stub back to back with
the same concurrency (no HTTP at all: the rate a Python gateway cannot beat).

wrk (Debian's package; installed here when missing and we are root) drives
the HTTP contenders on loopback with one thread and 1, 16 and 64 connections.
On a machine with two or more CPUs the process under test (gateway or bare
client) is pinned to CPU 0, and wrk and the gRPC server to CPU 1. CPU per
request is the gateway process's utime + stime from /proc over the run,
divided by the requests wrk completed: HTTP parsing, routing, transcoding and
the gRPC client call, without the servicer. "CPU/req above bare" is that less
the bare client's CPU per call in the same round: what the gateway adds to the
``grpc.aio`` client call it has to make. "server CPU/req" is the same for the
gRPC server process: on two cores, where the server shares CPU 1 with wrk, it
is often what bounds the throughput.

**Whole system** (:mod:`bench.scenarios.local_system`): every layout a user
could deploy on the machine, gateway and servicer processes counted together.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

from bench.config import Config
from bench.go_gateway import build as go_build
from bench.harness import (
    PYTHON,
    ROOT,
    Child,
    Goal,
    ScenarioResult,
    Table,
    child_env,
    close_all,
    cpu_seconds,
    pinner,
    rotated,
)
from bench.loadgen import CALLS, fetch, find_wrk, lua_script, run_wrk
from bench.scenarios import local_system
from bench.service import remove_socket

NAME = "local-http"
TITLE = "3 local http"
APPS = {
    "grpcgw": "bench.apps.local_grpcgw",
    "aiohttp": "bench.apps.local_aiohttp",
    # The handler again, forwarding x-forwarded-host/-for as grpcgw must: the goals
    # read the handler above; this one shows grpcgw against equal work (a note).
    "aiohttp-fwd": "bench.apps.local_aiohttp",
}
APP_ARGS = {"aiohttp-fwd": ["--forward"]}
#: The issue's goals for the proxy against the hand-written handler: CPU per request
#: above the bare client's at most, throughput at least (ratios).
PROXY_CPU_GOAL, PROXY_RPS_GOAL = 0.8, 1.0
WRK_CPU, SUBJECT_CPU = 1, 0
PARTS = ("proxy", "system")


def _bare(target: str, call: str, connections: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        [PYTHON, "-m", "bench.apps.bare_client", target, call, str(connections), str(seconds)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=child_env(),
        timeout=seconds + 60,
        preexec_fn=pinner(SUBJECT_CPU),
    )
    if out.returncode:
        raise RuntimeError(f"bare gRPC client failed:\n{out.stderr[-3000:]}")
    result: dict[str, float] = json.loads(out.stdout)
    return result


def build_go(config: Config, directory: str) -> tuple[go_build.GoBuild | None, str]:
    """Go grpc-gateway's binaries, built into ``directory``; or None and why not."""
    print("  local-http: building Go grpc-gateway (bench/go_gateway/build.py)", file=sys.stderr)
    try:
        go, why = go_build.build(directory, install=config.install)
    except Exception as exc:  # a failed build skips the Go contenders, not the scenario
        go, why = None, f"Go grpc-gateway failed to build: {exc}"
    if go is None:
        print(f"  local-http: Go grpc-gateway skipped: {why}", file=sys.stderr)
    return go, why


def run(config: Config, parts: Sequence[str] = PARTS) -> ScenarioResult:
    result = ScenarioResult()
    wrk, why = find_wrk(config.install)
    if wrk is None:
        print(f"  {NAME}: SKIPPED: {why}", file=sys.stderr)
        result.notes.append(f"{TITLE}: SKIPPED: {why}")
        result.goals.append(Goal("Local HTTP goals", f"skipped: {why}", None))
        return result
    with tempfile.TemporaryDirectory(prefix="gwbench-local-") as tmp:
        go, go_why = build_go(config, tmp)
        if go is not None:
            result.notes.append(f"{TITLE}: Go contenders built from Debian's {go.versions}")
        else:
            result.notes.append(f"{TITLE}: Go contenders skipped: {go_why}")
        scripts = {call: lua_script(call, tmp) for call in CALLS}
        for part in parts:
            if part == "proxy":
                got = run_proxy(config, wrk, scripts, go, go_why)
            else:
                got = local_system.run_system(config, wrk, scripts, go, go_why, TITLE)
            result.rows += got.rows
            result.goals += got.goals
            result.notes += got.notes
    return result


def run_proxy_only(config: Config) -> ScenarioResult:
    """``--only local-proxy``: the proxy part of scenario 3 alone."""
    return run(config, ("proxy",))


def run_system_only(config: Config) -> ScenarioResult:
    """``--only local-system``: the whole-system part of scenario 3 alone."""
    return run(config, ("system",))


def run_proxy(
    config: Config,
    wrk: str,
    scripts: dict[str, str],
    go: go_build.GoBuild | None,
    go_why: str,
) -> ScenarioResult:
    result = ScenarioResult()
    rounds = config.r(3, 1)
    seconds = config.s(4, 1)
    levels = [1, 16, 64] if not config.quick else [16]
    http_contenders = ["aiohttp", "aiohttp-fwd", "grpcgw"] + (
        ["go-gateway"] if go is not None else []
    )
    contenders = ["bare-grpc", *http_contenders]
    table = Table(TITLE)
    socket = f"/tmp/gwbench-local-{os.getpid()}.sock"
    children: list[Child] = []
    try:
        server = Child(["-m", "bench.apps.grpc_server", socket], cpu=WRK_CPU)
        children.append(server)
        target = server.hello["target"]
        ports: dict[str, int] = {}
        pids: dict[str, int] = {}
        for name in http_contenders:
            if name == "go-gateway":
                assert go is not None
                app = Child(["-backend", target], exe=go.gateway, cpu=SUBJECT_CPU)
            else:
                app = Child(["-m", APPS[name], target, *APP_ARGS.get(name, [])], cpu=SUBJECT_CPU)
            children.append(app)
            ports[name], pids[name] = app.hello["port"], app.hello["pid"]
        for call in CALLS:
            answers = {name: fetch(ports[name], call) for name in http_contenders}
            for name, answer in answers.items():
                if answer != answers["grpcgw"]:
                    result.notes.append(
                        f"{TITLE}: {call}: {name} answers differently from grpcgw: {answer!r:.200}"
                    )
            for name in http_contenders if not config.quick else ():  # warm-up
                run_wrk(wrk, ports[name], call, 16, 1, scripts[call], cpu=WRK_CPU)
        for r in range(rounds):
            print(f"  {NAME}: proxy: round {r + 1}/{rounds}", file=sys.stderr)
            for call in CALLS:
                for c in levels:
                    case = f"{call} c={c}"
                    cpus: dict[str, float] = {}
                    for name in rotated(contenders, r):
                        server0 = cpu_seconds(server.pid)
                        if name == "bare-grpc":
                            m = _bare(target, call, c, seconds)
                        else:
                            cpu0 = cpu_seconds(pids[name])
                            m = run_wrk(
                                wrk, ports[name], call, c, seconds, scripts[call], cpu=WRK_CPU
                            )
                            cpu1 = cpu_seconds(pids[name])
                            m["cpu_us"] = (cpu1 - cpu0) / max(m["requests"], 1) * 1e6
                            if m["errors"]:
                                result.notes.append(
                                    f"{TITLE}: {case} {name}: {m['errors']:.0f} errors"
                                )
                        served = (cpu_seconds(server.pid) - server0) / max(m["requests"], 1)
                        cpus[name] = m["cpu_us"]
                        table.add(case, name, "req/s", "/s", m["rps"], higher_is_better=True)
                        table.add(case, name, "p50", "µs", m["p50_us"])
                        table.add(case, name, "p99", "µs", m["p99_us"])
                        table.add(case, name, "CPU/req", "µs", m["cpu_us"])
                        table.add(case, name, "server CPU/req", "µs", served * 1e6)
                        time.sleep(0.2)  # let connections close before the next run
                    for name in APPS:  # the Python gateways, which make the bare client's call
                        above = cpus[name] - cpus["bare-grpc"]
                        table.add(case, name, "CPU/req above bare", "µs", above)
    finally:
        close_all(reversed(children))
        remove_socket(socket)
    table.compute_ratios("aiohttp")
    result.rows = table.rows()
    cases = [f"{call} c={c}" for call in CALLS for c in levels]
    above = [(case, table.ratio(case, "grpcgw", "aiohttp", "CPU/req above bare")) for case in cases]
    result.goals.append(
        Goal(
            f"Local proxy: grpcgw CPU/req above the bare grpc.aio client's ≤ {PROXY_CPU_GOAL:.1f}x "
            "the hand-written aiohttp handler's",
            ", ".join(f"{case} {x:.2f}x" for case, x in above),
            all(x <= PROXY_CPU_GOAL for _, x in above),
        )
    )
    equal = [
        (case, table.ratio(case, "grpcgw", "aiohttp-fwd", "CPU/req above bare")) for case in cases
    ]
    result.notes.append(
        f"{TITLE}: proxy with equal forwarding (the handler sending x-forwarded-host and "
        "x-forwarded-for too): grpcgw CPU/req above bare "
        + ", ".join(f"{case} {x:.2f}x" for case, x in equal)
        + " the forwarding handler's"
    )
    rps = [(case, table.ratio(case, "grpcgw", "aiohttp", "req/s")) for case in cases]
    result.goals.append(
        Goal(
            f"Local proxy: grpcgw throughput ≥ {PROXY_RPS_GOAL:.1f}x the hand-written aiohttp "
            "handler's",
            ", ".join(f"{case} {x:.2f}x" for case, x in rps),
            all(x >= PROXY_RPS_GOAL for _, x in rps),
        )
    )
    return result
