"""serve_local / start_local: the gRPC server and the gateway side by side, for real,
in both dispatch modes (the ``mode`` fixture): the gateway calls over the socket or
in process, and the gRPC server serves gRPC clients either way."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any

import aiohttp
import grpc
import grpc.aio
import pytest
from example.v1 import ping_pb2, ping_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from examples.ping.interceptor import LoggingInterceptor, SyncLoggingInterceptor
from examples.ping.service import PingServicer, ShelfServicer, SyncPingServicer
from grpcgw import start_local
from grpcgw.grpcserver import ServerConfigError, bind_targets
from grpcgw.httpserver import _bind_tcp
from grpcgw.workers import reserve_tcp_port

from . import modes
from .conftest import ROOT

mode = modes.mode


async def _get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.json()


async def test_start_local_serves_http_grpc_and_reflection(
    caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    caplog.set_level("INFO", logger="grpcgw")
    local = await start_local(
        PingServicer(),
        ShelfServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        interceptors=[LoggingInterceptor()],
        dispatch=mode,
    )
    async with local:
        assert local.dispatch == mode
        assert local.http_port
        assert local.grpc_port
        status, body = await _get_json(f"http://127.0.0.1:{local.http_port}/v1/ping")
        assert (status, body) == (200, {"message": "Pong"})

        async with grpc.aio.insecure_channel(f"127.0.0.1:{local.grpc_port}") as channel:
            reply = await ping_pb2_grpc.PingServiceStub(channel).Ping(ping_pb2.PingRequest())
            assert reply.message == "Pong"
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            names: set[str] = set()
            async for answer in stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            ):
                names |= {s.name for s in answer.list_services_response.service}
        assert {"example.v1.PingService", "example.v1.ShelfService"} <= names
    logged = caplog.text
    assert "gRPC server listening on 127.0.0.1:0" in logged
    assert "HTTP/JSON gateway listening on http://127.0.0.1:0" in logged
    assert ("calls the servicers in process" in logged) is (mode == "direct")


async def test_sync_servicer_with_sync_interceptor(
    capfd: pytest.CaptureFixture[str], mode: str
) -> None:
    local = await start_local(
        SyncPingServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        interceptors=[SyncLoggingInterceptor()],
        dispatch=mode,
    )
    async with local:
        assert not local.grpc_server.is_async
        status, body = await _get_json(f"http://127.0.0.1:{local.http_port}/v1/ping")
        assert (status, body) == (200, {"message": "Pong"})
    lines = [
        json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")
    ]
    assert {
        "level": "debug",
        "msg": "rpc call: method = /example.v1.PingService/Ping",
    }.items() <= lines[-1].items()


async def test_sync_servicer_on_the_threaded_server(mode: str) -> None:
    # As on Lambda: plain servicers run where they are written to (test_grpcserver.py).
    local = await start_local(
        SyncPingServicer(), http_address="127.0.0.1:0", grpc_address="127.0.0.1:0", dispatch=mode
    )
    async with local:
        assert not local.grpc_server.is_async
        if mode == "direct":  # under the same server's rules
            from grpcgw.dispatch import DirectInvoker

            assert isinstance(local.invoker, DirectInvoker)
            assert not local.invoker.aio
        assert (await _get_json(f"http://127.0.0.1:{local.http_port}/v1/ping"))[1] == {
            "message": "Pong"
        }


@pytest.mark.parametrize("servicer", [PingServicer, SyncPingServicer], ids=["aio", "threaded"])
async def test_a_grpc_port_in_use_fails_the_start(servicer: type) -> None:
    """A second serve_local on the first one's gRPC port does not start (gRPC's default,
    SO_REUSEPORT, would have let it bind too and take part of the first one's calls)."""
    first = await start_local(servicer(), http_address="127.0.0.1:0", grpc_address="127.0.0.1:0")
    async with first:
        taken = f"127.0.0.1:{first.grpc_port}"
        # The OS's reason, not gRPC's "Failed to bind ... set GRPC_VERBOSITY=debug".
        message = f"cannot bind gRPC server to {taken}: address already in use"
        with pytest.raises(OSError, match=f"^{re.escape(message)}$"):
            await start_local(servicer(), http_address="127.0.0.1:0", grpc_address=taken)


@pytest.mark.parametrize("servicer", [PingServicer, SyncPingServicer], ids=["aio", "threaded"])
async def test_a_host_name_whose_address_is_taken_fails_the_start(servicer: type) -> None:
    """``localhost:P`` with 127.0.0.1:P held by another program does not start (gRPC,
    resolving the name itself, would serve [::1]:P alone and only log a warning)."""
    held = socket.socket()
    with held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        pattern = (
            f"cannot bind gRPC server to localhost:{port} (127.0.0.1:{port}): "
            "address already in use"
        )
        with pytest.raises(OSError, match=f"^{re.escape(pattern)}$"):
            await start_local(
                servicer(), http_address="127.0.0.1:0", grpc_address=f"localhost:{port}"
            )


async def test_a_host_name_binds_each_of_its_addresses_on_one_port() -> None:
    server = await start_local(
        PingServicer(), http_address="127.0.0.1:0", grpc_address="localhost:0"
    )
    async with server:
        port = server.grpc_port
        assert port > 0
        for family, _, _, _, sockaddr in socket.getaddrinfo(
            "localhost", port, type=socket.SOCK_STREAM
        ):
            host = f"[{sockaddr[0]}]" if family == socket.AF_INET6 else sockaddr[0]
            async with grpc.aio.insecure_channel(f"{host}:{port}") as channel:
                stub = ping_pb2_grpc.PingServiceStub(channel)
                reply = await stub.Ping(ping_pb2.PingRequest(), timeout=10)
                assert reply.message == "Pong"


def test_a_host_of_several_addresses_listens_on_one_port_in_all() -> None:
    """Port 0 for a host that resolves to several addresses (here the wildcard: 0.0.0.0
    and ::, one socket per family; ``localhost`` where it resolves to 127.0.0.1 and ::1)
    is one port on all of them, the one ``http_port`` reports, not a port of its own each."""
    sockets = _bind_tcp("", 0, 8)
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(sockets) == 2
        assert len(ports) == 1
        assert ports != {0}
    finally:
        for sock in sockets:
            sock.close()


#: A host name resolving to this host's 127.0.0.1 and to an address it does not have
#: (TEST-NET-1, as ::1 is for a host with IPv6 off and ::1 in /etc/hosts).
_PARTLY_HERE = "partly-here.test"


@pytest.fixture
def partly_here(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != _PARTLY_HERE:
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", int(port))),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port))),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


async def test_an_address_this_host_lacks_is_skipped_not_fatal(partly_here: None) -> None:
    """A name resolving to an address this host does not have (IPv6 off, ::1 in
    /etc/hosts) serves on the addresses it has, HTTP and gRPC alike, as asyncio does."""
    assert bind_targets(f"{_PARTLY_HERE}:8081") == ["127.0.0.1:8081"]
    # dispatch="direct": the gateway's own channel would ask gRPC's resolver, which knows
    # nothing of this test's name; gRPC clients below dial the address it bound.
    server = await start_local(
        PingServicer(),
        http_address=f"{_PARTLY_HERE}:0",
        grpc_address=f"{_PARTLY_HERE}:0",
        dispatch="direct",
    )
    async with server:
        assert [a[0] for a in server.http_server.addresses] == ["127.0.0.1"]
        status, body = await _get_json(f"http://127.0.0.1:{server.http_port}/v1/ping")
        assert (status, body) == (200, {"message": "Pong"})
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            reply = await ping_pb2_grpc.PingServiceStub(channel).Ping(ping_pb2.PingRequest())
            assert reply.message == "Pong"


def test_workers_reserve_only_the_addresses_this_host_has(partly_here: None) -> None:
    """What a workers supervisor reserves for its workers follows the same rule."""
    port, sockets = reserve_tcp_port(_PARTLY_HERE, 0)
    try:
        assert [sock.getsockname() for sock in sockets] == [("127.0.0.1", port)]
    finally:
        for sock in sockets:
            sock.close()


def test_a_name_of_no_address_here_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: (
            [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", port))]
            if host == "elsewhere.test"
            else real(host, port, *a, **k)
        ),
    )
    with pytest.raises(
        OSError, match=r"cannot bind on 'elsewhere.test': none of its addresses is on this host"
    ):
        _bind_tcp("elsewhere.test", 0, 8)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("[::1]:8081", ["[::1]:8081"]),
        ("127.0.0.1:8081", ["127.0.0.1:8081"]),
        ("[::]:0", ["[::]:0"]),
        (":8081", [":8081"]),
        ("unix:/tmp/x.sock", ["unix:/tmp/x.sock"]),
        ("unix-abstract:grpcgw", ["unix-abstract:grpcgw"]),
        ("no-port", ["no-port"]),
    ],
)
def test_bind_targets_leave_literals_and_sockets_to_grpc(address: str, expected: list[str]) -> None:
    assert bind_targets(address) == expected


def test_bind_targets_resolve_a_name_as_the_system_does() -> None:
    resolved = {
        (f"[{a[0]}]:7" if family == socket.AF_INET6 else f"{a[0]}:7")
        for family, _, _, _, a in socket.getaddrinfo("localhost", 7, type=socket.SOCK_STREAM)
    }
    targets = bind_targets("localhost:7")
    assert set(targets) == resolved
    assert len(targets) == len(resolved)


def test_bind_targets_name_a_host_that_does_not_resolve() -> None:
    with pytest.raises(
        OSError,
        match=re.escape(
            "cannot bind gRPC server to nowhere.invalid:1: cannot resolve 'nowhere.invalid'"
        ),
    ):
        bind_targets("nowhere.invalid:1")


async def test_interceptor_kind_must_match(mode: str) -> None:
    with pytest.raises(ServerConfigError, match="async servicers"):
        await start_local(
            PingServicer(),
            grpc_address="127.0.0.1:0",
            interceptors=[SyncLoggingInterceptor()],
            dispatch=mode,
        )
    with pytest.raises(ServerConfigError, match="mix"):
        await start_local(
            SyncPingServicer(),
            grpc_address="127.0.0.1:0",
            interceptors=[SyncLoggingInterceptor(), LoggingInterceptor()],
            dispatch=mode,
        )
    with pytest.raises(TypeError, match="not a gRPC servicer"):
        await start_local(object(), grpc_address="127.0.0.1:0", dispatch=mode)


#: The lines a server started on port 0 writes once it listens, naming the port it got
#: (a test lets the server bind port 0 and reads the port there: a port picked free
#: beforehand and closed again may be taken by anyone before the server binds it).
GATEWAY_PORT = re.compile(r"HTTP/JSON gateway listening on http://\S+ \(port (\d+)\)")
GRPC_PORT = re.compile(r"gRPC server listening on \S+ \(port (\d+)\)")
PROXY_PORT = re.compile(r"grpcgw proxy: http://127\.0\.0\.1:(\d+) ")


class _Lines:
    """Collects a process's stderr on a thread, so a test can wait for a line.

    (select() on the pipe would miss lines already pulled into the file
    object's buffer.)
    """

    def __init__(self, stream: Any) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self.text = ""
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put("")  # end of stream

    def until(self, marker: str | re.Pattern[str], timeout: float = 60) -> str:
        """Wait until ``marker`` (text, or a pattern) is written; returns the match."""
        deadline = time.monotonic() + timeout
        while (found := self._find(marker)) is None:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {marker!r} within {timeout}s: {self.text}") from None
            if not line:
                raise AssertionError(f"process ended before {marker!r}: {self.text}")
            self.text += line
        return found

    def _find(self, marker: str | re.Pattern[str]) -> str | None:
        if isinstance(marker, str):
            return marker if marker in self.text else None
        match = marker.search(self.text)
        if match is None:
            return None
        return match.group(1 if marker.groups else 0)

    def port(self, pattern: re.Pattern[str], timeout: float = 60) -> int:
        """The port a line matching ``pattern`` (its group 1) names, once written."""
        return int(self.until(pattern, timeout))

    def rest(self) -> str:
        """Everything up to the end of the stream (call once the process has exited)."""
        self.text += "".join(iter(self._queue.get, ""))
        return self.text


def test_example_runs_as_a_user_would() -> None:
    """``python -m examples.ping``: curl gets Pong, the interceptor logs, SIGINT stops it."""
    help_text = subprocess.run(
        [sys.executable, "-m", "examples.ping", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--http-address" in help_text
    assert "--grpc-address" in help_text
    assert "--dispatch" in help_text

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "examples.ping",
         "--http-address", "127.0.0.1:0", "--grpc-address", "127.0.0.1:0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    stderr = _Lines(proc.stderr)
    try:
        grpc_port = stderr.port(GRPC_PORT)
        http_port = stderr.port(GATEWAY_PORT)
        url = f"http://127.0.0.1:{http_port}/v1/ping"
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.read() == b'{"message":"Pong"}'
        # The port the gRPC line names is the gRPC server's.
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            reply = ping_pb2_grpc.PingServiceStub(channel).Ping(ping_pb2.PingRequest(), timeout=10)
            assert reply.message == "Pong"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    err = stderr.rest()
    assert proc.returncode == 0, err
    assert f"gRPC server listening on 127.0.0.1:0 (port {grpc_port})" in err
    assert f"HTTP/JSON gateway listening on http://127.0.0.1:0 (port {http_port})" in err
    calls = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert sum(c["msg"] == "rpc call: method = /example.v1.PingService/Ping" for c in calls) == 2
    assert "Traceback" not in err
