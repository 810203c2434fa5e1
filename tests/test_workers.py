"""``serve_local(workers=N)``: real supervisor and worker processes on loopback.

Each test runs tests/workers_app.py (a PingService answering with the pid of
the process that served it) in a subprocess and talks to it over real HTTP and
gRPC; every wait is on a line of its output or on an answer, with a bound.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import grpc
import pytest

from grpcgw.server import serve_local
from grpcgw.workers import (
    Supervisor,
    WorkersError,
    check_fork_safe,
    check_workers,
    max_workers,
    reserve_tcp_port,
)

from .conftest import ROOT
from .proxyutil import PROXY_ENV, Lines, Process

ENV = {**PROXY_ENV, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}


class Served:
    """A running ``workers_app``: its supervisor process, workers' pids, URL and gRPC port."""

    def __init__(self, mode: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = Process(
            [sys.executable, "-m", "tests.workers_app", mode, *args], env=env or ENV, cwd=ROOT
        )
        line = self.process.started("HTTP/JSON gateway listening")
        http = re.search(r"\(port (\d+)\)", line)
        workers = re.search(r"workers, pids ([\d, ]+)\)", line)
        grpc_line = self.process.out.until("gRPC server listening")
        grpc_port = re.search(r"\(port (\d+)\)", grpc_line)
        assert http, line
        assert workers, line
        assert grpc_port, grpc_line
        self.url = f"http://127.0.0.1:{http.group(1)}"
        self.grpc_target = f"127.0.0.1:{grpc_port.group(1)}"
        self.pids = {int(p) for p in workers.group(1).split(", ")}

    def stop(self) -> int:
        return self.process.stop()


async def _pids_of(url: str, requests: int, connections: int) -> Counter[int]:
    """Who served ``requests`` pings sent over ``connections`` fresh connections."""
    seen: Counter[int] = Counter()

    async def one_connection(n: int) -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
            for _ in range(n):
                async with session.get(f"{url}/v1/ping") as resp:
                    assert resp.status == 200
                    seen[int((await resp.json())["message"])] += 1

    per = requests // connections
    await asyncio.gather(*(one_connection(per) for _ in range(connections)))
    return seen


@pytest.mark.parametrize("mode", ["direct", "socket"])
async def test_two_workers_serve_http_and_grpc(mode: str) -> None:
    served = Served(mode)
    try:
        out = served.process.out
        for n in (1, 2):  # one line per worker, with its number and pid
            line = out.until(f"worker {n} started")
            assert int(re.search(r"pid (\d+)", line).group(1)) in served.pids  # type: ignore[union-attr]
        assert len(served.pids) == 2
        assert os.getpid() not in served.pids
        # 40 connections: the kernel spreads them over both workers (SO_REUSEPORT).
        seen = await _pids_of(served.url, 200, 40)
        assert sum(seen.values()) == 200
        assert set(seen) == served.pids, seen  # each request served in a worker, both serve
        # gRPC clients reach the workers on the shared port too.
        from example.v1 import ping_pb2, ping_pb2_grpc

        async with grpc.aio.insecure_channel(served.grpc_target) as channel:
            reply = await ping_pb2_grpc.PingServiceStub(channel).Ping(
                ping_pb2.PingRequest(), timeout=10
            )
        assert int(reply.message) in served.pids
    finally:
        code = served.stop()
    text = served.process.out.drain()
    assert code == 0, text
    assert "shutting down 2 workers" in text
    assert text.count("shutting down") == 3  # the supervisor and each worker
    assert "Traceback" not in text


async def test_sigterm_under_load_loses_nothing() -> None:
    """16 clients on keep-alive connections, each request taking 0.1 s; SIGTERM: every
    request a worker took is answered (the access log counts them), then exit 0."""
    served = Served("direct", "--delay", "0.1")
    ok: list[int] = []
    bad: list[str] = []
    started = asyncio.Event()

    async def client() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    async with session.get(f"{served.url}/v1/ping") as resp:
                        body = await resp.json()
                except (aiohttp.ClientConnectorError, aiohttp.ClientOSError):
                    return  # the listeners are closed: never taken by a worker
                except aiohttp.ServerDisconnectedError:
                    return  # an idle keep-alive connection closed by the drain
                if resp.status == 200:
                    ok.append(int(body["message"]))
                else:
                    bad.append(f"{resp.status} {body}")
                if len(ok) >= 48:
                    started.set()

    clients = [asyncio.create_task(client()) for _ in range(16)]
    await asyncio.wait_for(started.wait(), 30)
    before = len(ok)
    served.process.signal(signal.SIGTERM)
    code = await asyncio.to_thread(served.process.proc.wait, 30)
    await asyncio.wait_for(asyncio.gather(*clients), 30)
    text = served.process.out.drain()
    assert code == 0, text
    assert bad == []
    assert len(ok) > before  # requests in flight at SIGTERM were answered
    # Every request a worker answered reached its client, and none was cut short.
    assert text.count("GET /v1/ping 200") == len(ok), text[-3000:]
    assert re.search(r"GET /v1/ping (?!200)", text) is None
    assert set(ok) <= served.pids


async def test_a_killed_worker_is_replaced_and_a_crash_loop_stops() -> None:
    served = Served("direct")
    out = served.process.out
    try:
        victim = min(served.pids)
        os.kill(victim, signal.SIGKILL)
        line = out.until("exited unexpectedly")
        assert f"(pid {victim}) exited unexpectedly (killed by signal 9); restarting" in line
        number = re.search(r"worker (\d)", line).group(1)  # type: ignore[union-attr]
        line = out.until(f"worker {number} started", n=2)
        new = int(re.search(r"pid (\d+)", line).group(1))  # type: ignore[union-attr]
        assert new not in served.pids
        seen = await _pids_of(served.url, 40, 20)
        assert set(seen) <= (served.pids - {victim}) | {new}
        # Kill it again and again: after 5 restarts within a minute the supervisor gives up.
        for n in range(2, 7):
            os.kill(new, signal.SIGKILL)
            if n == 6:
                break
            line = out.until(f"worker {number} started", n=n + 1)
            new = int(re.search(r"pid (\d+)", line).group(1))  # type: ignore[union-attr]
        code = await asyncio.to_thread(served.process.proc.wait, 30)
    finally:
        served.stop()
    text = out.drain()
    assert code == 1, text
    assert "workers keep dying: 6 exits within 60 s" in text
    assert "Traceback" in text  # the program's own: serve_local raised WorkersError


def _http_url(process: Process) -> tuple[str, str]:
    """The gateway's base URL from its listening line, and the line."""
    line = process.started("HTTP/JSON gateway listening")
    port = re.search(r"\(port (\d+)\)", line)
    assert port, line
    return f"http://127.0.0.1:{port.group(1)}", line


def _run_to_end(*args: str) -> tuple[int, str]:
    """``tests.workers_app`` with ``args``, run until it exits (30 s at most): its
    exit status and its output."""
    process = Process([sys.executable, "-m", "tests.workers_app", *args], env=ENV, cwd=ROOT)
    try:
        code = process.proc.wait(30)
    finally:
        process.stop()
    return code, process.out.drain()


def test_a_worker_that_cannot_start_stops_them_all() -> None:
    code, text = _run_to_end("direct", "--twice")
    assert code == 1
    assert re.search(
        r"WorkersError: worker \d failed to start: RouteConfigError: .*duplicate route", text
    )
    assert "gateway listening" not in text


def test_a_taken_port_fails_before_forking() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, text = _run_to_end("socket", "--http-address", f"127.0.0.1:{port}")
    assert code == 1
    assert f"OSError: [Errno 98] cannot bind 127.0.0.1 port {port}: address already in use" in text
    assert "starting 2 workers" not in text


def test_a_grpc_channel_made_before_the_fork_is_refused() -> None:
    code, text = _run_to_end("direct", "--grpc-in-constructor")
    assert code == 1
    assert "WorkersError: serve_local(workers=2): gRPC already runs in this process" in text
    assert "grpc_global_tim" in text
    assert "starting 2 workers" not in text


def test_the_workers_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    # Socket mode: the workers' private gRPC sockets are in a directory of TMPDIR.
    served = Served("socket", env={**ENV, "TMPDIR": str(tmp_path)})
    assert [p.name[:15] for p in tmp_path.iterdir()] == ["grpcgw-workers-"]
    served.process.signal(signal.SIGKILL)
    served.process.proc.wait(10)
    # The workers hold the output pipe: it ends once both have stopped.
    text = served.process.out.drain(30)
    assert text.count("the supervisor is gone; stopping") == 2, text
    for pid in served.pids:  # each exits (a pidfd turns readable), within a bound
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue  # gone and reaped already
        try:
            readable, _, _ = select.select([pidfd], [], [], 10)
        finally:
            os.close(pidfd)
        assert readable, f"worker {pid} still runs"
    assert list(tmp_path.iterdir()) == []  # removed by the last worker out


@pytest.mark.parametrize(
    ("workers", "error", "message"),
    [
        (0, ValueError, "workers must be 1 or more, not 0"),
        (-2, ValueError, "workers must be 1 or more, not -2"),
        ("2", TypeError, "workers must be a whole number of processes, not '2'"),
        (2.0, TypeError, "not 2.0"),
        (True, TypeError, "not True"),
        (100_000, ValueError, "workers=100000 is more than"),
        (max_workers() + 1, ValueError, f"is more than {max_workers()} (4 per CPU"),
    ],
)
def test_invalid_worker_counts(workers: object, error: type[Exception], message: str) -> None:
    """Refused before anything forks (a count of 100000 would fork until memory ran out)."""
    with pytest.raises(error, match=re.escape(message)):
        check_workers(workers, "serve_local")
    with pytest.raises(error, match=re.escape(message)):
        serve_local(object(), workers=workers)  # type: ignore[arg-type]


async def test_an_http_unix_socket_is_shared_by_the_workers(sock_dir: Path) -> None:
    path = sock_dir / "http.sock"
    process = Process(
        [sys.executable, "-m", "tests.workers_app", "socket", "--http-address", f"unix:{path}"],
        env=ENV,
        cwd=ROOT,
    )
    try:
        line = process.started("HTTP/JSON gateway listening")
        assert f"http://unix:{path} (2 workers, pids " in line
        pids = {int(p) for p in re.findall(r"\d+", line.rpartition("pids ")[2])}
        seen: Counter[int] = Counter()
        for _ in range(4):  # answered by the workers, whichever accepts
            connector = aiohttp.UnixConnector(path=str(path))
            async with (
                aiohttp.ClientSession(connector=connector) as session,
                session.get("http://localhost/v1/ping") as resp,
            ):
                assert resp.status == 200
                seen[int((await resp.json())["message"])] += 1
        assert set(seen) <= pids
    finally:
        assert process.stop() == 0


def test_a_grpc_unix_socket_cannot_be_shared() -> None:
    from examples.ping.service import PingServicer

    with pytest.raises(ValueError, match="is a unix socket, which one gRPC server alone"):
        serve_local(PingServicer(), grpc_address="unix:///tmp/x.sock", workers=2)


def test_port_zero_is_resolved_once_and_shared() -> None:
    port, held = reserve_tcp_port("127.0.0.1", 0)
    try:
        assert port > 0
        # Another socket with SO_REUSEPORT (a worker) listens on the same port.
        with socket.socket() as worker:
            worker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            worker.bind(("127.0.0.1", port))
            worker.listen()
            # One without it (another program) cannot.
            with socket.socket() as other, pytest.raises(OSError, match="in use"):
                other.bind(("127.0.0.1", port))
    finally:
        for sock in held:
            sock.close()


def test_fork_check_passes_with_grpc_imported() -> None:
    """``import grpc`` starts no thread: forking then is safe."""
    import subprocess

    code = "import grpc, grpc.aio, grpcgw.server; from grpcgw.workers import check_fork_safe; "
    code += "check_fork_safe('x'); print('ok')"
    result = subprocess.run(
        [sys.executable, "-c", code], env=ENV, cwd=ROOT, capture_output=True, text=True
    )
    assert result.stdout == "ok\n", result.stderr
    assert result.stderr == ""
    assert check_fork_safe is not None
    assert WorkersError.__mro__[1] is RuntimeError


def test_a_signal_reaching_a_worker_as_it_is_forked_is_the_workers() -> None:
    """Between the fork and its own handlers, a worker still has the supervisor's:
    a SIGTERM then must end that worker (it cannot start), not reach the supervisor's
    wakeup pipe as if the supervisor had been told to stop (it was not)."""
    code, text = _run_to_end("direct", "--signal-at-fork")
    assert code == 1, text
    assert re.search(r"WorkersError: worker \d failed to start: killed by signal 15", text), text
    assert "shutting down" not in text
    assert "second signal" not in text


def test_a_worker_stuck_at_start_up_is_killed_and_fails_the_start() -> None:
    """Worker 2 hangs before it serves (as one would on a lock another thread held at
    the fork): the supervisor does not wait for it for ever but kills it once the start
    timeout has passed, stops worker 1 and fails with a one-line reason."""
    code, text = _run_to_end("direct", "--hang-at-fork", "2", "--start-timeout", "3")
    assert code == 1, text
    assert "worker 1 started" in text  # the other served, and was stopped
    assert re.search(
        r"WorkersError: worker 2 failed to start: not serving 3 s after it was started \(killed\)",
        text,
    ), text
    assert "gateway listening" not in text


async def test_a_restarted_worker_stuck_at_start_up_is_killed_and_restarted() -> None:
    """The third fork (worker 1's replacement) hangs: it is killed after the start
    timeout and counts as one more death; the next replacement serves."""
    served = Served("direct", "--hang-at-fork", "3", "--start-timeout", "3")
    out = served.process.out
    try:
        victim = min(served.pids)
        os.kill(victim, signal.SIGKILL)
        line = out.until("exited unexpectedly")
        number = re.search(r"worker (\d)", line).group(1)  # type: ignore[union-attr]
        line = out.until("exited unexpectedly", n=2)
        assert re.search(
            r"exited unexpectedly \(killed by signal 9: not serving 3 s after it was started "
            r"\(killed\)\); restarting it",
            line,
        ), line
        line = out.until(f"worker {number} started", n=2)
        new = int(re.search(r"pid (\d+)", line).group(1))  # type: ignore[union-attr]
        seen = await _pids_of(served.url, 40, 20)
        assert set(seen) <= (served.pids - {victim}) | {new}
    finally:
        code = served.stop()
    assert code == 0, out.drain()


@pytest.mark.parametrize(("mode", "workers"), [("direct", "1"), ("socket", "2")])
async def test_grace_bounds_a_running_http_request(mode: str, workers: str) -> None:
    """A request whose servicer takes 120 s, grace=1: SIGTERM ends the process well
    before the call would (the HTTP side's drain is bounded by grace, not 60 s)."""
    process = Process(
        [sys.executable, "-m", "tests.workers_app", mode, "--workers", workers,
         "--delay", "120", "--grace", "1"],
        env=ENV, cwd=ROOT,
    )  # fmt: skip
    try:
        url, _ = _http_url(process)

        async def call() -> None:
            async with aiohttp.ClientSession() as session:
                with pytest.raises(aiohttp.ClientError):  # cut at the end of grace
                    await session.get(f"{url}/v1/ping")

        request = asyncio.create_task(call())
        await asyncio.to_thread(process.out.until, "ping in pid")
        process.signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.proc.wait, 30)
        await asyncio.wait_for(request, 30)
    finally:
        process.stop()
    text = process.out.drain()
    assert code == 0, text
    assert "Traceback" not in text


class _Job(Process):
    """A ``workers_app`` in a process group of its own, as a terminal's foreground job
    (the supervisor and its workers), so that a test can signal the whole group."""

    def __init__(self, args: list[str], *, env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.out = Lines(self.proc.stdout)

    def signal(self, sig: int) -> None:
        os.killpg(self.proc.pid, sig)


async def _signalled_in_flight(
    mode: str, workers: str, signals: list[int], *, group: bool, delay: str, tmp: Path
) -> tuple[int, int, str]:
    """``workers_app`` with grace=120 and one request in flight (its servicer takes
    ``delay`` s), sent ``signals`` (the next once it logs that it shuts down), to its
    supervisor or to its whole process group: its exit status, the request's HTTP
    status (0: cut) and its output. Checks that the supervisor reaped its workers
    and removed its directory (TMPDIR is ``tmp``)."""
    kind = _Job if group else Process
    process = kind(
        [sys.executable, "-m", "tests.workers_app", mode, "--workers", workers,
         "--delay", delay, "--grace", "120"],
        env={**ENV, "TMPDIR": str(tmp)}, cwd=ROOT,
    )  # fmt: skip
    try:
        url, line = _http_url(process)
        pids = re.search(r"workers, pids ([\d, ]+)\)", line)

        async def call() -> int:
            async with aiohttp.ClientSession() as session:
                try:
                    async with session.get(f"{url}/v1/ping") as resp:
                        await resp.read()
                        return resp.status
                except aiohttp.ClientError:
                    return 0  # cut

        request = asyncio.create_task(call())
        await asyncio.to_thread(process.out.until, "ping in pid")
        # The next signal once the first was taken (two pending at once would be one).
        taken = "shutting down" if workers == "1" else f"shutting down {workers} workers"
        for n, sig in enumerate(signals):
            if n:
                await asyncio.to_thread(process.out.until, taken)
            process.signal(sig)
        code = await asyncio.wait_for(asyncio.to_thread(process.proc.wait, 30), 40)
        status = await asyncio.wait_for(request, 30)
    finally:
        process.stop()
    text = process.out.drain()
    if pids is not None:  # the supervisor reaped its workers before it ended
        for pid in map(int, pids.group(1).split(", ")):
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    assert [p for p in os.listdir(tmp) if p.startswith("grpcgw-")] == [], text
    assert "Traceback" not in text
    return code, status, text


#: One process; two workers signalled through their supervisor; two workers
#: signalled as a terminal does (Ctrl-C, a hang-up: the whole process group).
LAYOUTS = [("direct", "1", False), ("socket", "2", False), ("direct", "2", True)]


@pytest.mark.parametrize(("mode", "workers", "group"), LAYOUTS)
@pytest.mark.parametrize("signals", [1, 2])
async def test_a_second_signal_stops_at_once_and_the_status_says_so(
    mode: str, workers: str, group: bool, signals: int, tmp_path: Path
) -> None:
    """grace=120, a request in flight: one signal drains it (answered, status 0); a
    second while draining ends the process at once, killed by it (a shell's 130),
    the request cut, the workers killed and the supervisor's directory removed."""
    first = signal.SIGINT if group else signal.SIGTERM
    code, status, text = await _signalled_in_flight(
        mode, workers, [first, signal.SIGINT][:signals], group=group,
        delay="1" if signals == 1 else "120", tmp=tmp_path,  # 120: long past the wait
    )  # fmt: skip
    if signals == 1:
        assert (code, status) == (0, 200), text
        assert "second signal" not in text
        assert text.count("shutting down") == (1 if workers == "1" else 3), text
    else:
        assert (code, status) == (-signal.SIGINT, 0), text
        what = "stopping at once" if workers == "1" else "killing the workers"
        assert f"second signal (SIGINT): {what}" in text
    assert "did not stop cleanly" not in text
    assert "exited unexpectedly" not in text


@pytest.mark.parametrize(("mode", "workers", "group"), LAYOUTS)
async def test_sighup_stops_gracefully_as_sigterm_does(
    mode: str, workers: str, group: bool, tmp_path: Path
) -> None:
    """SIGHUP (``kill -HUP``, or the terminal closing) drains as SIGTERM does, and
    says that nothing was reloaded; the workers are not restarted."""
    code, status, text = await _signalled_in_flight(
        mode, workers, [signal.SIGHUP], group=group, delay="1", tmp=tmp_path
    )
    assert (code, status) == (0, 200), text
    assert "shutting down" in text
    assert "on SIGHUP (nothing is reloaded: start serve_local again for new code)" in text
    assert text.count("shutting down") == (1 if workers == "1" else 3), text
    assert "exited unexpectedly" not in text
    assert "started (pid" not in text.partition("shutting down")[2]  # nothing restarted


_TEXT_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT[\d:.]+Z (?P<level>[A-Z]+) (?:\[pid (?P<pid>\d+) "
    r"(?:worker (?P<worker>\d+)|(?P<supervisor>supervisor))\] )?(?P<logger>\S+) (?P<message>.*)$"
)


def _log_lines(text: str, log_format: str) -> list[dict[str, object]]:
    """Every log line of ``text`` as pid, worker (None: the supervisor, or untagged),
    whether it is tagged, logger and message; anything else in the output fails."""
    lines: list[dict[str, object]] = []
    for line in text.splitlines():
        if log_format == "json":
            entry = json.loads(line)
            tagged = "pid" in entry
            lines.append({**entry, "tagged": tagged, "worker": entry.get("worker")})
            continue
        match = _TEXT_LINE.match(line)
        assert match, line
        worker = match["worker"]
        lines.append({
            "pid": int(match["pid"]) if match["pid"] else None,
            "worker": int(worker) if worker else None,
            "tagged": match["pid"] is not None,
            "logger": match["logger"],
            "message": match["message"],
        })  # fmt: skip
    return lines


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("workers", [1, 2])
async def test_each_line_says_which_process_wrote_it(workers: int, log_format: str) -> None:
    """With workers, every line (text or JSON) names its process: the supervisor's pid,
    or a worker's pid and number, those the start lines announce, and the access
    lines the workers that answered; one process's lines stay as they were."""
    process = Process(
        [sys.executable, "-m", "tests.workers_app", "direct", "--workers", str(workers),
         "--log-format", log_format],
        env=ENV, cwd=ROOT,
    )  # fmt: skip
    try:
        url, _ = _http_url(process)
        seen = await _pids_of(url, 40, 20)
        await asyncio.to_thread(process.out.until, "GET /v1/ping 200", 40)
    finally:
        code = process.stop()
    text = process.out.drain()
    assert code == 0, text
    lines = _log_lines(text, log_format)
    access = [e for e in lines if e["logger"] == "grpcgw.access"]
    assert len(access) == 40
    if workers == 1:
        assert not any(e["tagged"] for e in lines), text
        assert {int(p) for p in seen} == {process.proc.pid}
        return
    assert all(e["tagged"] for e in lines), text
    supervisor = process.proc.pid
    started: dict[object, object] = {}
    for e in lines:
        found = re.fullmatch(r"worker (\d) started \(pid (\d+)\)", str(e["message"]))
        if found:
            started[int(found[1])] = int(found[2])
            assert (e["worker"], e["pid"]) == (int(found[1]), int(found[2]))
    assert sorted(started) == [1, 2]
    for e in lines:  # each line: the supervisor, or a worker that said it started
        if e["worker"] is None:
            assert e["pid"] == supervisor, e
        else:
            assert started[e["worker"]] == e["pid"], e
    assert {e["pid"] for e in access} == set(seen)  # who answered, by their own word
    mine = {str(e["message"]) for e in lines if e["worker"] is None}
    assert "shutting down 2 workers" in mine
    assert f"supervisor (pid {supervisor}) starting 2 workers" in mine


@pytest.mark.parametrize("which", ["http_address", "grpc_address"])
def test_a_host_that_does_not_resolve_is_named(which: str) -> None:
    """In a process of its own: where gRPC already runs (this one, after other
    tests), serve_local refuses to fork before it resolves anything."""
    import subprocess

    other = "grpc_address" if which == "http_address" else "http_address"
    code = (
        "from examples.ping.service import PingServicer; import grpcgw; "
        f"grpcgw.serve_local(PingServicer(), workers=2, {which}='nosuchhost.invalid:0', "
        f"{other}='127.0.0.1:0')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "cannot resolve 'nosuchhost.invalid'" in result.stderr, result.stderr
    assert "starting 2 workers" not in result.stderr


def test_the_cap_allows_four_workers_per_cpu() -> None:
    cap = max_workers()
    assert cap >= 4 * (os.cpu_count() or 1)
    assert cap >= 64
    assert check_workers(cap, "serve_local") == cap


def test_an_error_read_with_ready_keeps_its_reason() -> None:
    """A worker that says "ready" and, a moment later, why it stops, can be read in one
    go: the reason is kept for the log line."""
    supervisor = Supervisor(1, lambda worker: None, grace=1.0)
    slot = supervisor._slots[0]
    read, write = os.pipe()
    try:
        slot.status_fd = read
        os.write(write, b"ready\nerror the port went away\n")
        supervisor._status(read)
        assert slot.ready
        assert slot.message == b"error the port went away\n"
    finally:
        os.close(read)
        os.close(write)
