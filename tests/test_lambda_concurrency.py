"""Lambda Managed Instances: awslambdaric's multi-concurrency mode, end to end.

With ``AWS_LAMBDA_MAX_CONCURRENCY=4`` awslambdaric forks 4 workers before any
handler is imported; each worker imports the handler module (so each runs its
own ``serve_lambda`` init: its own gRPC server on its own socket) and polls the
Runtime API's ``/next`` on its own connection. The fake Runtime API below hands
each event to exactly one of the waiting workers. In both dispatch modes: with
direct dispatch no worker has a socket or a server, and each still answers alone.
"""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .lambda_runtime import FakeRuntime, LambdaProcess, run_awslambdaric
from .modes import MODES
from .test_lambda import load

WORKERS = 4
TIMEOUT = 60
HANDLER = "tests.lambda_apps.concurrent.handler"


def event(path: str, query: str = "") -> dict[str, Any]:
    """An HTTP API (payload 2.0) event for ``GET path?query``."""
    ev = load("apigw-http-v2-minimal-get")
    ev["rawPath"], ev["rawQueryString"] = path, query
    ev["requestContext"]["http"].update(method="GET", path=path)
    return ev


def answer(inv: Any) -> dict[str, Any]:
    assert inv.kind == "response", inv.payload
    response = inv.payload
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])  # type: ignore[no-any-return]


@pytest.fixture(scope="module", params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def runtime(mode: str) -> Iterator[tuple[FakeRuntime, LambdaProcess, Path]]:
    import shutil
    import tempfile

    sockets = Path(tempfile.mkdtemp(prefix="gw-", dir="/tmp"))  # short: grpcio's path limit
    env = {
        "GRPCGW_TEST_SOCKET_DIR": str(sockets),
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "GRPCGW_TEST_DISPATCH": mode,
    }
    with (
        FakeRuntime() as rt,
        run_awslambdaric(HANDLER, rt, env_extra=env, max_concurrency=WORKERS) as proc,
    ):
        rt.wait_for_pending(WORKERS, TIMEOUT)  # every worker's init is done
        yield rt, proc, sockets
    shutil.rmtree(sockets, ignore_errors=True)


def test_each_worker_runs_its_own_server_on_its_own_socket(
    runtime: tuple[FakeRuntime, LambdaProcess, Path], mode: str
) -> None:
    rt, proc, sockets = runtime
    workers = proc.children()
    assert len(workers) == WORKERS
    found = sorted(sockets.glob("grpcgw-*.sock"))
    if mode == "direct":  # each worker calls its servicer in process: no socket, no server
        assert found == []
        assert not rt.init_errors
        # The log comes through a reader thread: wait for the lines, then count them.
        serving = "serving in process (direct dispatch: inline)"
        proc.wait_for_line(serving, timeout=TIMEOUT, count=WORKERS)
        assert proc.count(serving) == WORKERS
        assert proc.count("gRPC server listening") == 0
        return
    assert len(found) == WORKERS
    owners = sorted(int(p.name.split("-")[1]) for p in found)
    assert owners == workers  # one socket per worker, none for the parent, which never imports
    for path in found:
        mode = path.lstat().st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) == 0o600
        with socket.socket(socket.AF_UNIX) as probe:
            probe.connect(str(path))  # a live server on each
    assert not rt.init_errors
    proc.wait_for_line("gRPC server listening", timeout=TIMEOUT, count=WORKERS)
    assert proc.count("gRPC server listening") == WORKERS


def test_four_invocations_run_at_once_in_four_servers(
    runtime: tuple[FakeRuntime, LambdaProcess, Path], mode: str
) -> None:
    rt, proc, _ = runtime
    with socket.create_server(("127.0.0.1", 0)) as gate:
        gate.settimeout(TIMEOUT)
        port = gate.getsockname()[1]
        held = [rt.submit(event("/hang", f"key={port}"), timeout=TIMEOUT) for _ in range(WORKERS)]
        inside: dict[int, socket.socket] = {}
        try:
            # Each invocation is inside its servicer, holding its worker: all 4 at once.
            for _ in range(WORKERS):
                conn, _ = gate.accept()
                conn.settimeout(TIMEOUT)
                pid = int(conn.makefile().readline())
                inside[pid] = conn
            assert sorted(inside) == proc.children()
            assert not any(inv.done for inv in held)
        finally:
            for conn in inside.values():
                conn.sendall(b"!")
                conn.close()
    answers = [answer(inv.wait(TIMEOUT)) for inv in held]
    assert sorted(int(a["metadata"]["pid"]) for a in answers) == sorted(inside)
    for inv, got in zip(held, answers, strict=True):
        assert got["metadata"]["request-id"] == inv.request_id
        assert str(got["request"]["key"]) == str(port)
        pid = got["metadata"]["pid"]
        if mode == "socket":
            assert Path(got["metadata"]["socket"]).name.startswith(f"grpcgw-{pid}-")
        else:
            assert got["metadata"]["socket"] == "None"


def test_many_concurrent_invocations_all_answered_right(
    runtime: tuple[FakeRuntime, LambdaProcess, Path],
) -> None:
    rt, proc, _ = runtime
    invocations = {f"item{n}": rt.submit(event(f"/item{n}"), timeout=TIMEOUT) for n in range(48)}
    pids = set()
    for name, inv in invocations.items():
        got = answer(inv.wait(TIMEOUT))
        assert got["request"]["name"] == name
        assert got["metadata"]["request-id"] == inv.request_id
        pids.add(int(got["metadata"]["pid"]))
    assert pids <= set(proc.children())
    assert not rt.protocol_errors
    assert os.getpid() not in pids
