"""wrk, the load generator of scenario 3: finding (or installing) it, scripting, running
and reading it, and one plain request to check what a contender answers."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from typing import Any

from bench.harness import pinner
from bench.service import ECHO_BODY, ECHO_PATH

#: call -> (HTTP method, path, body)
CALLS = {
    "ping": ("GET", "/v1/ping", None),
    "echo": ("POST", ECHO_PATH, json.dumps(ECHO_BODY, separators=(",", ":"))),
}


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


def lua_script(call: str, directory: str) -> str:
    """A wrk script sending ``call``'s request (written into ``directory``)."""
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


def run_wrk(
    wrk: str,
    port: int,
    call: str,
    connections: int,
    seconds: int,
    script: str,
    *,
    cpu: int | None = None,
) -> dict[str, float]:
    """One wrk run (one thread) against ``call`` on ``127.0.0.1:port``; pinned to ``cpu``
    when given (and the machine has more than one)."""
    url = f"http://127.0.0.1:{port}{CALLS[call][1]}"
    args = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url]
    out = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        preexec_fn=None if cpu is None else pinner(cpu),
        check=True,
    )
    return parse_wrk(out.stdout)


def fetch(port: int, call: str) -> Any:
    """(status, decoded JSON body) of one ``call`` request to ``127.0.0.1:port``."""
    method, path, body = CALLS[call]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else body.encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())
