"""3. Local HTTP: throughput, latency and gateway CPU per request under a real load generator.

One gRPC server process (the shared servicer, on a unix socket) serves every
contender. In front of it, each in its own process:

- ``grpcgw``: ``grpcgw.web.create_app(Gateway(...))``, what ``serve_local`` serves;
- ``aiohttp``: a hand-written aiohttp handler per call, same stub call and JSON;

and ``bare-grpc``: a Python ``grpc.aio`` client calling the stub back to back with
the same concurrency (no HTTP at all: the rate a gateway cannot beat).

wrk (Debian's package; installed here when missing and we are root) drives
the HTTP contenders on loopback with one thread and 1, 16 and 64 connections.
On a machine with two or more CPUs the process under test (gateway or bare
client) is pinned to CPU 0, and wrk and the gRPC server to CPU 1. CPU per
request is the gateway process's utime + stime from /proc over the run,
divided by the requests wrk completed: HTTP parsing, routing, transcoding and
the gRPC client call, without the servicer. "server CPU/req" is the same for
the gRPC server process: on two cores, where the server shares CPU 1 with wrk,
it is often what bounds the throughput, and metadata the gateway forwards
(grpc-gateway's header mapping) costs there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any

from bench.config import Config
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
from bench.service import ECHO_BODY, ECHO_PATH, remove_socket

NAME = "local-http"
TITLE = "3 local http"
HTTP_CONTENDERS = ["aiohttp", "grpcgw"]
CONTENDERS = ["bare-grpc", *HTTP_CONTENDERS]
APPS = {"grpcgw": "bench.apps.local_grpcgw", "aiohttp": "bench.apps.local_aiohttp"}
CALLS = {
    "ping": ("GET", "/v1/ping", None),
    "echo": ("POST", ECHO_PATH, json.dumps(ECHO_BODY, separators=(",", ":"))),
}
#: Goals: gateway CPU per request, in µs.
CPU_GOALS = {"ping": 90.0, "echo": 220.0}
WRK_CPU, SUBJECT_CPU = 1, 0


def find_wrk(install: bool) -> tuple[str | None, str]:
    """The path of wrk, installing Debian's package if allowed; or None and why not."""
    path = shutil.which("wrk")
    if path:
        return path, ""
    if not install:
        return None, "wrk is not on PATH (and --no-install was given)"
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return None, "wrk is not on PATH; install it (Debian/Ubuntu: apt-get install wrk)"
    print("  local-http: wrk not found, running apt-get install wrk", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt_get(*args: str) -> int:
        quiet = subprocess.DEVNULL
        return subprocess.run(
            [apt, *args], env=env, stdout=quiet, stderr=quiet, timeout=600
        ).returncode

    try:
        if apt_get("install", "-y", "-qq", "wrk"):
            apt_get("update", "-qq")
            apt_get("install", "-y", "-qq", "wrk")
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"wrk is not on PATH and apt-get install wrk failed ({exc})"
    path = shutil.which("wrk")
    return (path, "") if path else (None, "wrk is not on PATH and apt-get install wrk failed")


_UNITS = {"us": 1.0, "ms": 1000.0, "s": 1_000_000.0}


def _us(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if m is None:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(output: str) -> dict[str, float]:
    """requests, rps, p50_us, p99_us and errors from ``wrk --latency`` output."""
    requests = re.search(r"^\s*(\d+) requests in", output, re.M)
    rps = re.search(r"^Requests/sec:\s*([\d.]+)", output, re.M)
    p50 = re.search(r"^\s*50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", output, re.M)
    if not (requests and rps and p50 and p99):
        raise ValueError(f"unreadable wrk output:\n{output}")
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: (.*)"):
        m = re.search(pattern, output)
        if m:
            errors += sum(int(x) for x in re.findall(r"\d+", m.group(1)))
    return {
        "requests": float(requests.group(1)),
        "rps": float(rps.group(1)),
        "p50_us": _us(p50.group(1)),
        "p99_us": _us(p99.group(1)),
        "errors": float(errors),
    }


def _lua(call: str, directory: str) -> str:
    method, _, body = CALLS[call]
    path = os.path.join(directory, f"{call}.lua")
    with open(path, "w") as f:
        f.write(f'wrk.method = "{method}"\n')
        f.write('wrk.headers["Accept"] = "application/json"\n')
        f.write('wrk.headers["User-Agent"] = "wrk"\n')
        if body is not None:
            f.write('wrk.headers["Content-Type"] = "application/json"\n')
            f.write(f"wrk.body = {json.dumps(body)}\n")
    return path


def _wrk(
    wrk: str, port: int, call: str, connections: int, seconds: int, script: str
) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}{CALLS[call][1]}"
    args = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url]
    out = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        preexec_fn=pinner(WRK_CPU),
        check=True,
    )
    return parse_wrk(out.stdout)


def _fetch(port: int, call: str) -> Any:
    method, path, body = CALLS[call]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else body.encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


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


def run(config: Config) -> ScenarioResult:
    result = ScenarioResult()
    wrk, why = find_wrk(config.install)
    if wrk is None:
        print(f"  {NAME}: SKIPPED: {why}", file=sys.stderr)
        result.notes.append(f"{TITLE}: SKIPPED: {why}")
        result.goals.append(Goal("Local HTTP goals", f"skipped: {why}", None))
        return result
    rounds = config.r(3, 1)
    seconds = config.n(4, 1)
    levels = [1, 16, 64] if not config.quick else [16]
    table = Table(TITLE)
    socket = f"/tmp/gwbench-local-{os.getpid()}.sock"
    children: list[Child] = []
    with tempfile.TemporaryDirectory() as tmp:
        scripts = {call: _lua(call, tmp) for call in CALLS}
        try:
            server = Child(["-m", "bench.apps.grpc_server", socket], cpu=WRK_CPU)
            children.append(server)
            target = server.hello["target"]
            ports: dict[str, int] = {}
            pids: dict[str, int] = {}
            for name in HTTP_CONTENDERS:
                app = Child(["-m", APPS[name], target], cpu=SUBJECT_CPU)
                children.append(app)
                ports[name], pids[name] = app.hello["port"], app.hello["pid"]
            for call in CALLS:
                answers = {name: _fetch(ports[name], call) for name in HTTP_CONTENDERS}
                if answers["aiohttp"] != answers["grpcgw"]:
                    result.notes.append(f"{TITLE}: {call}: contenders answer differently")
                for name in HTTP_CONTENDERS if not config.quick else ():  # warm-up
                    _wrk(wrk, ports[name], call, 16, 1, scripts[call])
            for r in range(rounds):
                print(f"  {NAME}: round {r + 1}/{rounds}", file=sys.stderr)
                for call in CALLS:
                    for c in levels:
                        case = f"{call} c={c}"
                        for name in rotated(CONTENDERS, r):
                            server0 = cpu_seconds(server.pid)
                            if name == "bare-grpc":
                                m = _bare(target, call, c, seconds)
                            else:
                                cpu0 = cpu_seconds(pids[name])
                                m = _wrk(wrk, ports[name], call, c, seconds, scripts[call])
                                cpu1 = cpu_seconds(pids[name])
                                m["cpu_us"] = (cpu1 - cpu0) / max(m["requests"], 1) * 1e6
                                if m["errors"]:
                                    result.notes.append(
                                        f"{TITLE}: {case} {name}: {m['errors']:.0f} errors"
                                    )
                            served = (cpu_seconds(server.pid) - server0) / max(m["requests"], 1)
                            table.add(case, name, "req/s", "/s", m["rps"], higher_is_better=True)
                            table.add(case, name, "p50", "µs", m["p50_us"])
                            table.add(case, name, "p99", "µs", m["p99_us"])
                            table.add(case, name, "CPU/req", "µs", m["cpu_us"])
                            table.add(case, name, "server CPU/req", "µs", served * 1e6)
                            time.sleep(0.2)  # let connections close before the next run
        finally:
            close_all(reversed(children))
            remove_socket(socket)
    table.compute_ratios("aiohttp")
    result.rows = table.rows()
    for call, limit in CPU_GOALS.items():
        cpus = []
        for c in levels:
            row = table.get(f"{call} c={c}", "grpcgw", "CPU/req")
            assert row is not None
            cpus.append((c, row.median))
        result.goals.append(
            Goal(
                f"Local: grpcgw CPU per request ≤ {limit:.0f} µs ({call})",
                ", ".join(f"c={c} {x:.0f} µs" for c, x in cpus),
                all(x <= limit for _, x in cpus),
            )
        )
    ratios = [
        (f"{call} c={c}", table.ratio(f"{call} c={c}", "grpcgw", "aiohttp", "req/s"))
        for call in CALLS
        for c in levels
    ]
    result.goals.append(
        Goal(
            "Local: grpcgw throughput ≥ hand-written aiohttp",
            ", ".join(f"{case} {x:.2f}x" for case, x in ratios),
            all(x >= 1.0 for _, x in ratios),
        )
    )
    return result
