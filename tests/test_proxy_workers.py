"""``grpcgw proxy --workers N``: a supervisor and N whole proxies, in front of a real backend.

Real processes on loopback: a backend (tests/proxy_backend.py, a plain
``grpc.aio`` server) on a unix socket, and ``python -m grpcgw proxy --workers
2`` on port 0, whose port and worker pids are read from its listening line.
Which worker served what is read from each worker's own log lines ("worker 1
(pid 101) stopped: served 23 requests") and from ``/proc``; every wait is on a
line of output or an answer, with a bound, and no timing is asserted.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from grpcgw.proxy import ProxyConfig, load_config, start_proxy
from grpcgw.settings import Layer
from grpcgw.workers import _GRPC_THREADS, max_workers

from .proxyutil import PROXY_ENV, PingLoad, Process, Processes, Protos, run_proxy

#: Every test here runs 2 workers: the machine's cores are shared.
WORKERS = ("--workers", "2")


def _listening(proxy: Process) -> tuple[int, set[int]]:
    """The supervisor's pid and the workers' pids, from its listening line."""
    line = proxy.out.until("grpcgw proxy: http")
    found = re.search(r"\(2 workers, pids (\d+), (\d+)\)$", line.strip())
    assert found, line
    return proxy.proc.pid, {int(pid) for pid in found.groups()}


def _children(pid: int) -> set[int]:
    """The processes ``pid`` forked that run now (``/proc/PID/task/*/children``)."""
    return {
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    }


def _threads(pid: int) -> set[str]:
    names = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            names.add((task / "comm").read_text().strip())
        except OSError:  # ended meanwhile
            continue
    return names


def _grpc_threads(pid: int) -> set[str]:
    return {name for name in _threads(pid) if name.startswith(_GRPC_THREADS)}


async def _readiness(url: str, times: int = 6) -> list[tuple[int, object]]:
    """``times`` readiness answers, each on a new connection (so from any worker)."""
    answers: list[tuple[int, object]] = []
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True),
        timeout=aiohttp.ClientTimeout(total=30),
    ) as session:
        for _ in range(times):
            async with session.get(f"{url}/readyz") as resp:
                answers.append((resp.status, await resp.json()))
    return answers


def _served(text: str) -> dict[int, tuple[int, int, int]]:
    """Each worker's pid -> the requests it served, those of them after the shutdown
    began, and those cut short, from its last line."""
    return {
        int(pid): (int(served), int(after), int(cut))
        for pid, served, after, cut in re.findall(
            r"worker \d \(pid (\d+)\) stopped: served (\d+) requests, (\d+) of them after the "
            r"shutdown began; (\d+) cut short",
            text,
        )
    }


async def _pings(url: str, count: int, concurrency: int = 8) -> list[tuple[int, bytes]]:
    """``count`` GET /v1/ping, each on a connection of its own (the kernel spreads new
    connections over the workers)."""
    answers: list[tuple[int, bytes]] = []
    connector = aiohttp.TCPConnector(force_close=True, limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    ) as session:

        async def one() -> None:
            async with session.get(f"{url}/v1/ping") as resp:
                answers.append((resp.status, await resp.read()))

        await asyncio.gather(*(one() for _ in range(count)))
    return answers


async def test_workers_serve_the_backend_each_a_whole_proxy(
    protos: tuple[Protos, Protos], sock_dir: Path, processes: Processes
) -> None:
    target = f"unix://{sock_dir}/backend.sock"
    backend = await processes.backend(protos[0], target, "--health")
    proxy, url = await processes.proxy(sock_dir, "--target", target, "--reflect", *WORKERS)
    supervisor, pids = _listening(proxy)
    assert len(pids) == 2
    assert supervisor not in pids
    assert _children(supervisor) == pids  # forked by the supervisor, running now
    # Each worker asked the target's reflection itself; the supervisor made nothing of
    # gRPC (no gRPC thread runs in it), while each worker has its channel's threads.
    text = proxy.out.text
    for pid in pids:
        assert re.search(rf"\(pid {pid}\) serving .* \(reflection v1\): 16 routes", text), text
    assert _grpc_threads(supervisor) == set(), _threads(supervisor)

    answers = await _pings(url, 60)
    assert answers == [(200, b'{"message":"Pong"}')] * 60
    for pid in pids:
        assert _grpc_threads(pid), _threads(pid)
    assert _grpc_threads(supervisor) == set()
    # Readiness is each worker's own, and each is ready.
    assert await _readiness(url) == [(200, {"ready": True, "routes": 16})] * 6

    processes.remove(proxy)
    code = await asyncio.to_thread(proxy.stop)
    text = proxy.out.drain()
    assert code == 0, text
    served = _served(text)
    assert set(served) == pids, text  # each worker drained and said so
    assert sum(n for n, _, _ in served.values()) == 60  # every request served in a worker...
    assert all(n > 0 for n, _, _ in served.values()), served  # ...and both served some
    assert "Traceback" not in text
    # Each line says which process wrote it (the supervisor's start line once).
    starting = f"[pid {supervisor} supervisor] grpcgw supervisor (pid {supervisor}) starting"
    assert text.count(starting) == 1, text
    for pid in pids:
        assert re.search(rf"\[pid {pid} worker [12]\] grpcgw.access GET /v1/ping 200", text)
    processes.remove(backend)
    backend.stop()
    # The target's reflection was asked by each worker, once; by nothing else.
    assert backend.out.drain().count("reflection asked") == 2


async def test_a_killed_worker_is_replaced(
    protos: tuple[Protos, Protos], sock_dir: Path, processes: Processes
) -> None:
    target = f"unix://{sock_dir}/backend.sock"
    backend = await processes.backend(protos[0], target)
    proxy, url = await processes.proxy(sock_dir, "--target", target, "--reflect", *WORKERS)
    supervisor, pids = _listening(proxy)
    victim = min(pids)
    os.kill(victim, signal.SIGKILL)
    line = await asyncio.to_thread(proxy.out.until, "exited unexpectedly")
    assert f"(pid {victim}) exited unexpectedly (killed by signal 9); restarting it" in line
    number = re.search(r"worker (\d) \(pid", line).group(1)  # type: ignore[union-attr]
    line = await asyncio.to_thread(proxy.out.until, f"worker {number} started", 2)
    new = int(re.search(r"pid (\d+)", line).group(1))  # type: ignore[union-attr]
    assert new not in pids
    now = (pids - {victim}) | {new}
    assert _children(supervisor) == now
    # The new worker loaded the descriptors itself and serves with the other.
    assert re.search(rf"\(pid {new}\) serving .*: 16 routes", proxy.out.text)
    assert await _pings(url, 40) == [(200, b'{"message":"Pong"}')] * 40

    processes.remove(proxy)
    code = await asyncio.to_thread(proxy.stop)
    text = proxy.out.drain()
    assert code == 0, text
    served = _served(text)
    assert set(served) == now, text
    assert sum(n for n, _, _ in served.values()) == 40
    processes.remove(backend)
    backend.stop()
    assert backend.out.drain().count("reflection asked") == 3  # the new worker asked too


async def test_sigterm_drains_every_worker(
    protos: tuple[Protos, Protos], sock_dir: Path, processes: Processes
) -> None:
    """16 clients on keep-alive connections to a slow backend; SIGTERM to the supervisor:
    each worker fails its readiness and keeps serving for drain_delay, then closes its
    listener and finishes what it took; every request taken is answered; exit 0."""
    target = f"unix://{sock_dir}/backend.sock"
    await processes.backend(protos[0], target, "--ping-delay", "0.2")
    proxy, url = await processes.proxy(
        sock_dir, "--target", target, "--reflect", "--drain-delay", "5",
        "--shutdown-grace", "20", *WORKERS,
    )  # fmt: skip
    _, pids = _listening(proxy)
    load = PingLoad(url)
    before = await load.start()
    proxy.signal(signal.SIGTERM)
    for pid in pids:  # each worker begins its own drain
        await asyncio.to_thread(proxy.out.until, f"(pid {pid}) shutting down:")
    # During drain_delay every worker answers its readiness probe 503, and still serves.
    assert await _readiness(url) == [(503, {"ready": False, "reason": "shutting down"})] * 6
    code = await asyncio.to_thread(proxy.proc.wait, 60)
    processes.remove(proxy)
    await load.finish()
    ok, bad = load.ok, load.bad
    text = proxy.out.drain()
    assert code == 0, text
    assert bad == []
    assert ok > before  # requests in flight at SIGTERM, and during the delay, were answered
    served = _served(text)
    assert set(served) == pids, text
    assert sum(n for n, _, _ in served.values()) == ok  # every answer reached its client
    assert [cut for _, _, cut in served.values()] == [0, 0]
    # Each worker that had clients went on serving them during drain_delay.
    assert all(after > 0 for n, after, _ in served.values() if n), served
    assert "shutting down 2 workers" in text
    assert "did not stop cleanly" not in text
    assert "Traceback" not in text


@pytest.mark.parametrize("workers", ["1", "2"])
async def test_a_second_signal_stops_the_proxy_at_once(
    workers: str, protos: tuple[Protos, Protos], sock_dir: Path, processes: Processes
) -> None:
    """A call in flight to a backend that takes 120 s, shutdown-grace 120: SIGTERM starts
    the drain, SIGINT while draining ends the proxy at once, killed by it (a shell's
    130), as grpcgw serve does; with workers, they are killed and reaped first."""
    target = f"unix://{sock_dir}/backend.sock"
    backend = await processes.backend(protos[0], target, "--ping-delay", "120")
    proxy, url = await processes.proxy(
        sock_dir, "--target", target, "--reflect", "--drain-delay", "0",
        "--shutdown-grace", "120", "--workers", workers,
    )  # fmt: skip
    pids = _listening(proxy)[1] if workers == "2" else set()

    async def call() -> int:
        async with aiohttp.ClientSession() as session, session.get(f"{url}/v1/ping") as resp:
            return resp.status

    in_flight = asyncio.create_task(call())
    await asyncio.to_thread(backend.out.until, "slow ping started")
    proxy.signal(signal.SIGTERM)
    await asyncio.to_thread(proxy.out.until, "shutting down")
    proxy.signal(signal.SIGINT)
    code = await asyncio.to_thread(proxy.proc.wait, 30)
    processes.remove(proxy)
    text = proxy.out.drain()
    assert code == -signal.SIGINT, text
    what = "stopping at once" if workers == "1" else "killing the workers"
    assert f"second signal (SIGINT): {what}" in text
    with pytest.raises(aiohttp.ClientError):
        await asyncio.wait_for(in_flight, 30)  # cut, not answered
    for pid in pids:  # reaped by the supervisor before it ended
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert "Traceback" not in text


async def test_sighup_to_the_supervisor_reloads_every_worker(
    protos: tuple[Protos, Protos], sock_dir: Path, processes: Processes
) -> None:
    """The backend serves v2 (with Echo); the proxy starts from v1's descriptor set,
    which is then replaced by v2's: SIGHUP to the supervisor reaches each worker,
    each reloads, and /v1/echo is served (the supervisor itself stays up)."""
    target = f"unix://{sock_dir}/backend.sock"
    await processes.backend(protos[1], target)
    api = sock_dir / "api.binpb"
    shutil.copy(protos[0].descriptor_set, api)
    proxy, url = await processes.proxy(
        sock_dir, "--target", target, "--descriptor-set", str(api), *WORKERS
    )
    supervisor, pids = _listening(proxy)
    echo = {"text": "hi"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.post(f"{url}/v1/echo", json=echo) as resp:
            assert resp.status == 404
        shutil.copy(protos[1].descriptor_set, api)
        proxy.signal(signal.SIGHUP)
        await asyncio.to_thread(proxy.out.until, "reloaded from descriptor set", 2)
        assert "SIGHUP: passed on to 2 workers" in proxy.out.text
        assert _children(supervisor) == pids  # nobody died of the SIGHUP
    connector = aiohttp.TCPConnector(force_close=True)  # fresh connections: both workers
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    ) as session:
        for _ in range(10):
            async with session.post(f"{url}/v1/echo", json=echo) as resp:
                assert resp.status == 200
                assert (await resp.json())["message"] == "echo: hi"
    processes.remove(proxy)
    assert await asyncio.to_thread(proxy.stop) == 0


@pytest.mark.parametrize("problem", ["missing descriptor set", "no reflection", "unreachable"])
async def test_a_start_up_error_in_the_workers_ends_the_supervisor(
    problem: str, protos: tuple[Protos, Protos], sock_dir: Path, processes: Processes
) -> None:
    """Each worker fails as one proxy would; the supervisor reports the first reason,
    stops the other and exits 1, without restarting them."""
    target = f"unix://{sock_dir}/backend.sock"
    if problem == "missing descriptor set":
        args = ["--descriptor-set", str(sock_dir / "missing.binpb")]
        message = f"cannot read descriptor set {sock_dir / 'missing.binpb'}: No such file"
    elif problem == "no reflection":
        await processes.backend(protos[0], target, reflection="none")
        args = ["--reflect"]
        message = f"the gRPC server at {target} does not serve reflection"
    else:
        args = ["--reflect", "--reflect-timeout", "1"]
        message = f"cannot reach the gRPC server at {target} within 1 s"
    result = await asyncio.to_thread(
        run_proxy, sock_dir, "--target", target, *args, *WORKERS, timeout=30
    )
    assert result.returncode == 1, result.stderr
    assert "supervisor (pid" in result.stderr  # it did fork the workers...
    last = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        rf"grpcgw: worker \d failed to start: DescriptorError: {re.escape(message)}.*",
        last,
    ), result.stderr
    assert "grpcgw proxy: http" not in result.stderr  # ...which never served
    assert "restarting" not in result.stderr
    assert "Traceback" not in result.stderr


def _proxy_command(sock_dir: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """``grpcgw proxy ARGS``, expected to be refused: its standard error. Its port is
    one this test holds, so that even a count the proxy failed to refuse could not fork
    (the address is taken before any fork)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "grpcgw", "proxy", "--target", "127.0.0.1:1", "--reflect",
             *args, "--http-address", f"127.0.0.1:{port}"],
            cwd=sock_dir, env={**PROXY_ENV, **(env or {})},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode != 0
    assert "starting" not in result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_worker_counts_are_refused_before_anything_forks(sock_dir: Path) -> None:
    cap = max_workers()
    for args, env, text in [
        (["--workers", "0"], None, "grpcgw: workers must be 1 or more, not 0\n"),
        (["--workers=-2"], None, "grpcgw: workers must be 1 or more, not -2\n"),
        ([], {"GRPCGW_WORKERS": "0"}, "grpcgw: workers must be 1 or more, not 0\n"),
        (
            ["--workers", str(cap + 1)],
            None,
            f"grpcgw: workers={cap + 1} is more than {cap} (4 per CPU, at least 64): "
            "one per CPU is what helps\n",
        ),
        (["--workers", "two"], None, "argument --workers: 'two' is not an integer"),
    ]:
        stderr = _proxy_command(sock_dir, *args, env=env)
        assert text in stderr, (args, env, stderr)
    config = sock_dir / "proxy.toml"
    config.write_text("workers = 0\n")
    assert "workers must be 1 or more, not 0" in _proxy_command(sock_dir, "--config", str(config))


def test_workers_is_a_setting_like_the_others(sock_dir: Path) -> None:
    config = sock_dir / "proxy.toml"
    config.write_text('target = "x:1"\nreflect = true\nworkers = 3\n')
    result = run_proxy(sock_dir, "--config", str(config), "--print-config")
    assert f"workers = 3  # {config}: workers" in result.stdout, result.stderr
    result = run_proxy(
        sock_dir, "--config", str(config), "--print-config", env={"GRPCGW_WORKERS": "2"}
    )
    assert "workers = 2  # GRPCGW_WORKERS" in result.stdout
    result = run_proxy(sock_dir, "--config", str(config), "--print-config", "--workers", "1")
    assert "workers = 1  # --workers" in result.stdout
    default, _ = load_config(Layer({}, {}), {"GRPCGW_TARGET": "x:1", "GRPCGW_REFLECT": "1"})
    assert default.workers == 1


async def test_the_library_serves_one_process() -> None:
    """start_proxy and run_proxy run in the caller's loop: they refuse workers (the
    command forks them)."""
    config = ProxyConfig(target="x:1", reflect=True, workers=2)
    with pytest.raises(ValueError, match=r"start_proxy\(\) serves in this process .* workers=2"):
        await start_proxy(config)
    with pytest.raises(ValueError, match="workers must be 1 or more, not 0"):
        ProxyConfig(target="x:1", reflect=True, workers=0)
    with pytest.raises(TypeError, match="whole number of processes"):
        ProxyConfig(target="x:1", reflect=True, workers=2.0)  # type: ignore[arg-type]


async def test_one_worker_is_the_one_process_proxy(
    protos: tuple[Protos, Protos], sock_dir: Path, processes: Processes
) -> None:
    """--workers 1 (the default) runs today's proxy: no supervisor, no fork."""
    proxy, _ = await processes.proxy(
        sock_dir, "--target", "127.0.0.1:1", "--descriptor-set",
        str(protos[0].descriptor_set), "--workers", "1",
    )  # fmt: skip
    line = proxy.out.until("grpcgw proxy: http")
    assert line.strip().endswith(f"(16 routes from descriptor set {protos[0].descriptor_set})")
    assert _children(proxy.proc.pid) == set()
    processes.remove(proxy)
    assert await asyncio.to_thread(proxy.stop) == 0
    text = proxy.out.drain()
    assert "supervisor" not in text
    assert "grpcgw.proxy stopped: served 0 requests" in text, text
