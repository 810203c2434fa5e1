"""The long budgets of the reliability suite (``tox -e soak``; not collected by the
default test run, whose files are ``test_*.py``).

- **slowloris**: 1000 connections that send a request head a line at a time, or
  nothing, and reconnect as soon as the server lets them go, for
  ``GRPCGW_SOAK_SLOWLORIS_SECONDS`` (30) against ``serve_local`` with its default
  limits, while an ordinary client keeps requesting: every ordinary request must
  succeed, the server must stay up, log no traceback and no line per connection.
- **soak**: ``GRPCGW_SOAK_SECONDS`` (60) of ``GET /v1/ping`` at 64 connections
  (``wrk``, or a Python load generator where wrk cannot be installed) against
  ``serve_local`` and against ``grpcgw proxy``, sampling the gateway's RSS and open
  descriptors every second: zero errors, RSS after the warm-up growing by at most
  :data:`RSS_GROWTH_BOUND`, descriptors back to where they were.

The figures (requests, errors, RSS and descriptor samples) are printed, and
written as JSON to ``GRPCGW_SOAK_REPORT`` when it is set; docs/reliability.md
quotes a run. The attackers and the load generator pace themselves (that is the
workload); every wait of the test itself is on a condition, with a bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .checks import quiet
from .harness import Backend, Local, Proc, Proxy, still_serves

SOAK_SECONDS = float(os.environ.get("GRPCGW_SOAK_SECONDS", "60"))
SLOWLORIS_SECONDS = float(os.environ.get("GRPCGW_SOAK_SLOWLORIS_SECONDS", "30"))
SLOWLORIS_CONNECTIONS = 1000
CONNECTIONS = 64
#: How much the gateway's RSS may grow between the first and the last 10 s of the
#: soak (after a warm-up): allocator noise, not a leak (a leak of even 100 bytes
#: per request would be tens of MiB over a run).
RSS_GROWTH_BOUND = 8 * 1024  # KiB
#: Descriptors the gateway may hold beyond its idle count at the peak: the 64
#: client connections, and a few of its own.
FD_PEAK_MARGIN = CONNECTIONS + 16
#: Descriptors a process needs for 1000 connections and everything else.
NOFILE = 4096

_REPORT: dict[str, Any] = {}


def setup_module() -> None:
    _raise_nofile()


def teardown_module() -> None:
    path = os.environ.get("GRPCGW_SOAK_REPORT")
    if path:
        Path(path).write_text(json.dumps(_REPORT, indent=2) + "\n")


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NOFILE if hard == resource.RLIM_INFINITY else min(NOFILE, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 2 * SLOWLORIS_CONNECTIONS + 100, (
        f"the hard file limit ({hard}) leaves no room for {SLOWLORIS_CONNECTIONS} connections"
    )


# -- sampling a process ------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class Samples:
    """``(seconds since start, RSS in KiB, open descriptors)``, once a second."""

    rows: list[tuple[float, int, int]] = field(default_factory=list)

    def between(self, start: float, end: float) -> list[tuple[float, int, int]]:
        return [r for r in self.rows if start <= r[0] < end]


@contextlib.contextmanager
def sampling(pid: int, every: float = 1.0) -> Iterator[Samples]:
    samples = Samples()
    stop = threading.Event()
    t0 = time.monotonic()

    def run() -> None:
        while True:
            with contextlib.suppress(OSError, AssertionError):
                samples.rows.append((time.monotonic() - t0, rss_kib(pid), open_fds(pid)))
            if stop.wait(every):  # the sampling cadence
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join(10)


def _settled_fds(pid: int, at_most: int, bound: float = 30) -> int:
    """Wait (bounded) until the process holds at most ``at_most`` descriptors."""
    deadline = time.monotonic() + bound
    while (fds := open_fds(pid)) > at_most and time.monotonic() < deadline:
        pass  # the server closes its side as soon as it reads the clients' FINs
    return fds


# -- slowloris -------------------------------------------------------------------------------


@dataclass
class Attack:
    opened: int = 0
    refused: int = 0
    closed_by_server: int = 0
    answered_408: int = 0
    ordinary_ok: int = 0
    ordinary_failed: list[str] = field(default_factory=list)
    ordinary_worst_s: float = 0.0


async def _attacker(port: int, stats: Attack, until: float, silent: bool) -> None:
    """One slowloris connection after another: a head a line every 2 s, or nothing."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
        except (OSError, TimeoutError):
            stats.refused += 1
            continue
        stats.opened += 1
        try:
            if not silent:
                writer.write(b"GET /v1/ping HTTP/1.1\r\nHost: slow\r\n")
            while time.monotonic() < until:
                try:
                    data = await asyncio.wait_for(reader.read(4096), 2.0)  # the attacker's pace
                except TimeoutError:
                    if not silent:
                        writer.write(b"X-Slow: 1\r\n")
                    continue
                if data.startswith(b"HTTP/1.1 408"):
                    stats.answered_408 += 1
                stats.closed_by_server += 1
                break
        except OSError:
            stats.closed_by_server += 1
        finally:
            writer.close()


async def _ordinary(port: int, stats: Attack, until: float) -> None:
    """Plain requests one after another; each must be answered (within 60 s)."""
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            async with asyncio.timeout(60):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET /v1/ping HTTP/1.1\r\nHost: ok\r\nConnection: close\r\n\r\n")
                data = await reader.read()
                writer.close()
            if data.startswith(b"HTTP/1.1 200") and data.endswith(b'{"message":"Pong"}'):
                stats.ordinary_ok += 1
            else:
                stats.ordinary_failed.append(data[:80].decode("latin-1"))
        except (OSError, TimeoutError) as exc:
            stats.ordinary_failed.append(repr(exc))
        stats.ordinary_worst_s = max(stats.ordinary_worst_s, time.monotonic() - started)


def test_slowloris_with_1000_connections() -> None:
    server = Local("--nofile", str(NOFILE))
    try:
        stats = Attack()
        until = time.monotonic() + SLOWLORIS_SECONDS

        async def attack() -> None:
            tasks = [
                asyncio.create_task(_attacker(server.port, stats, until, silent=i % 2 == 0))
                for i in range(SLOWLORIS_CONNECTIONS)
            ]
            await _ordinary(server.port, stats, until)
            await asyncio.gather(*tasks)

        with sampling(server.pid) as samples:
            asyncio.run(attack())
        still_serves(server, server.port)
        log = server.text()
        # What the attack made the server write (its start-up lines come before).
        lines = [line for line in server.since(server.ready) if "grpcgw.access" not in line]
        report = {
            **asdict(stats),
            "seconds": SLOWLORIS_SECONDS,
            "connections": SLOWLORIS_CONNECTIONS,
            "server_fds_peak": max(r[2] for r in samples.rows),
            "server_rss_kib_peak": max(r[1] for r in samples.rows),
            "log_lines_besides_access": len(lines),
        }
        _REPORT["slowloris"] = report
        print("\nslowloris:", json.dumps(report))
        assert stats.ordinary_failed == [], stats.ordinary_failed
        assert stats.ordinary_ok >= 3, stats
        assert stats.closed_by_server >= SLOWLORIS_CONNECTIONS, stats  # each let go
        assert "Traceback" not in log
        quiet(lines)
        assert len(lines) < 50, lines[-20:]  # nothing per connection
    finally:
        server.stop()


# -- the soak ----------------------------------------------------------------------------------


def _wrk() -> str | None:
    return shutil.which("wrk")


def _run_wrk(wrk: str, port: int, seconds: float) -> dict[str, int]:
    out = subprocess.run(
        [wrk, "-t2", f"-c{CONNECTIONS}", f"-d{int(seconds)}s", "--timeout", "10s",
         f"http://127.0.0.1:{port}/v1/ping"],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout  # fmt: skip
    requests = re.search(r"^\s*(\d+) requests in", out, re.M)
    assert requests, out
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: (.*)"):
        m = re.search(pattern, out)
        if m:
            errors += sum(int(x) for x in re.findall(r"\d+", m.group(1)))
    return {"requests": int(requests.group(1)), "errors": errors}


async def _python_load(port: int, seconds: float) -> dict[str, int]:
    """64 keep-alive connections, requests back to back (where wrk is missing)."""
    counts = {"requests": 0, "errors": 0}
    until = time.monotonic() + seconds
    request = b"GET /v1/ping HTTP/1.1\r\nHost: load\r\n\r\n"

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.monotonic() < until:
                writer.write(request)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                length = int(re.search(rb"Content-Length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
                await asyncio.wait_for(reader.readexactly(length), 10)
                counts["requests" if head.startswith(b"HTTP/1.1 200") else "errors"] += 1
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            counts["errors"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(CONNECTIONS)))
    return counts


def _load(port: int, seconds: float) -> dict[str, int]:
    wrk = _wrk()
    if wrk is not None:
        return {**_run_wrk(wrk, port, seconds), "generator": "wrk"}  # type: ignore[dict-item]
    return {**asyncio.run(_python_load(port, seconds)), "generator": "python"}  # type: ignore[dict-item]


@pytest.fixture(params=["serve_local", "proxy"])
def soaked(request: pytest.FixtureRequest) -> Iterator[Proc]:
    if request.param == "serve_local":
        server: Proc = Local()
        try:
            yield server
        finally:
            server.stop()
        return
    backend = Backend()
    try:
        proxy = Proxy(f"127.0.0.1:{backend.port}")
        try:
            yield proxy
        finally:
            proxy.stop()
    finally:
        backend.stop()


def test_soak_at_64_connections(soaked: Proc) -> None:
    port: int = soaked.port  # type: ignore[attr-defined]
    pid = soaked.pid
    before = open_fds(pid)
    _load(port, 3)  # warm-up: imports, caches, the allocator's first arenas, the channel
    # Idle again: the warm-up's connections closed; what stays (the gateway's gRPC
    # channel, which the proxy opens at its first call) is part of the idle count.
    idle_fds = _settled_fds(pid, before + 10)
    mark = soaked.mark()
    with sampling(pid) as samples:
        result = _load(port, SOAK_SECONDS)
    still_serves(soaked, port)
    settled = _settled_fds(pid, idle_fds + 2)
    first = [r[1] for r in samples.between(0, 10)]
    last = [r[1] for r in samples.between(SOAK_SECONDS - 10, SOAK_SECONDS + 5)]
    growth = int(statistics.median(last) - statistics.median(first))
    report = {
        **result,
        "seconds": SOAK_SECONDS,
        "connections": CONNECTIONS,
        "rss_kib_first_10s_median": int(statistics.median(first)),
        "rss_kib_last_10s_median": int(statistics.median(last)),
        "rss_kib_growth": growth,
        "rss_kib_max": max(r[1] for r in samples.rows),
        "fds_idle": idle_fds,
        "fds_peak": max(r[2] for r in samples.rows),
        "fds_after": settled,
        "samples": [list(r) for r in samples.rows],
    }
    _REPORT[f"soak-{soaked.name}"] = report
    summary = {k: v for k, v in report.items() if k != "samples"}
    print(f"\nsoak {soaked.name}:", json.dumps(summary))
    assert result["errors"] == 0, report
    assert result["requests"] > 0
    assert growth <= RSS_GROWTH_BOUND, summary
    assert report["fds_peak"] <= idle_fds + FD_PEAK_MARGIN, summary
    assert settled <= idle_fds + 2, summary
    quiet(soaked.since(mark))
