"""Port 0 on a host name of several addresses, on the gRPC side: one port free on
every address (grpcgw.listen's rule, as the HTTP side), given to a real gRPC server
address by address; another program (a real process) holding the chosen port on
one address makes grpcgw choose again, never serve a part of the addresses."""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

import grpcgw.grpcserver
from examples.ping.service import PingServicer, SyncPingServicer
from grpcgw.descriptors import resolve_service
from grpcgw.grpcserver import GrpcServer
from grpcgw.listen import bind_every_address

#: A host name resolving to two loopback addresses of this host (see ``loopbacks``).
NAME = "loopbacks.test"

_HOLDER = r"""
import socket, sys
held = []
for line in sys.stdin:
    ip, port = line.split()
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        sock.bind((ip, int(port)))
        sock.listen()
    except OSError as exc:
        print("failed", exc, flush=True)
        continue
    held.append(sock)
    print("held", flush=True)
"""


class OtherProgram:
    """Another process that binds and listens on what it is told, until it ends."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        #: ``(ip, port)`` of each address it holds.
        self.held: list[tuple[str, int]] = []

    def hold(self, ip: str, port: int) -> None:
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.write(f"{ip} {port}\n")
        self._proc.stdin.flush()
        answer = self._proc.stdout.readline()  # EOF ('') if it died: fails below
        assert answer == "held\n", f"the other program could not hold {ip} {port}: {answer!r}"
        self.held.append((ip, port))

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        assert self._proc.stdout is not None
        self._proc.stdout.close()


@pytest.fixture
def other_program() -> Iterator[OtherProgram]:
    program = OtherProgram()
    yield program
    program.close()


def _binds(ip: str) -> bool:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((ip, 0))
        except OSError:
            return False
    return True


@pytest.fixture
def loopbacks(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """``NAME`` resolves to 127.0.0.1 and a second address this host has: ``::1`` as
    ``localhost`` does where /etc/hosts lists both; on a host without IPv6, 127.0.0.2
    (Linux has all of 127.0.0.0/8), so the test asserts the same on either."""
    second = "::1" if _binds("::1") else "127.0.0.2"
    assert _binds(second), "this host has neither ::1 nor 127.0.0.2 to bind"
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != NAME:
            return real(host, port, *args, **kwargs)
        v6 = ":" in second
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port))),
            (
                socket.AF_INET6 if v6 else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (second, int(port), 0, 0) if v6 else (second, int(port)),
            ),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return "127.0.0.1", second


def _dial(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


async def _serves(ip: str, port: int) -> bool:
    """Whether a gRPC server of ours answers a health check on ``ip:port``."""
    async with grpc.aio.insecure_channel(_dial(ip, port)) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=5
            )
        except grpc.aio.AioRpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _free_here(ip: str, port: int) -> bool:
    """Whether nothing (no discarded server of ours either) holds ``ip:port``."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
            probe.listen()
        except OSError:
            return False
    return True


#: A plain servicer on the threaded server, and on grpc.aio's (each discards a
#: server its own way).
KINDS = [
    pytest.param(SyncPingServicer, True, id="threaded"),
    pytest.param(PingServicer, False, id="aio"),
]


async def _start(servicer: type, threaded: bool, address: str) -> GrpcServer:
    return await GrpcServer.start([resolve_service(servicer())], address, prefer_threaded=threaded)


@pytest.mark.parametrize(("servicer", "threaded"), KINDS)
async def test_port_0_serves_every_address_on_one_port(
    loopbacks: tuple[str, str], servicer: type, threaded: bool
) -> None:
    server = await _start(servicer, threaded, f"{NAME}:0")
    try:
        assert server.port > 0
        for ip in loopbacks:
            assert await _serves(ip, server.port), ip
    finally:
        await server.stop(0)


async def test_port_0_chooses_again_when_the_first_choice_is_taken_elsewhere(
    loopbacks: tuple[str, str], other_program: OtherProgram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The port 127.0.0.1 gets first is held on the second address by another
    program, twice: grpcgw.listen's rule asks again, and gRPC serves both on one."""
    first, second = loopbacks
    real_bind = socket.socket.bind

    def bind(sock: socket.socket, address: Any) -> None:
        real_bind(sock, address)
        from_listen = sys._getframe(1).f_globals.get("__name__") == "grpcgw.listen"
        if from_listen and address == (first, 0) and len(other_program.held) < 2:
            # The moment between the two binds, with the port another program takes.
            other_program.hold(second, sock.getsockname()[1])

    monkeypatch.setattr(socket.socket, "bind", bind)
    server = await _start(SyncPingServicer, True, f"{NAME}:0")
    try:
        monkeypatch.undo()
        assert len(other_program.held) == 2
        assert server.port not in [port for _, port in other_program.held]
        for ip in loopbacks:
            assert await _serves(ip, server.port), ip
    finally:
        await server.stop(0)


def _taken_after_the_choice(
    monkeypatch: pytest.MonkeyPatch, other_program: OtherProgram, second: str, times: int
) -> list[int]:
    """Another program takes the chosen port on ``second`` right after grpcgw found it
    free on every address (the race no choice can rule out), ``times`` times."""
    chosen: list[int] = []
    real = grpcgw.grpcserver._free_targets

    def free_targets(address: str, host: str) -> list[str]:
        targets = real(address, host)  # chosen, and released for gRPC to bind
        if len(chosen) < times:
            chosen.append(int(targets[0].rpartition(":")[2]))
            other_program.hold(second, chosen[-1])  # quicker than gRPC
        return targets

    monkeypatch.setattr(grpcgw.grpcserver, "_free_targets", free_targets)
    return chosen


@pytest.mark.parametrize(("servicer", "threaded"), KINDS)
async def test_a_port_taken_before_grpc_binds_it_means_a_fresh_server(
    loopbacks: tuple[str, str],
    other_program: OtherProgram,
    monkeypatch: pytest.MonkeyPatch,
    servicer: type,
    threaded: bool,
) -> None:
    """gRPC bound 127.0.0.1:P and cannot unbind it; P is taken on the second address.
    That server lets go of 127.0.0.1:P and a fresh one serves both on another port."""
    first, second = loopbacks
    chosen = _taken_after_the_choice(monkeypatch, other_program, second, times=2)
    server = await _start(servicer, threaded, f"{NAME}:0")
    try:
        assert len(chosen) == 2
        assert server.port not in chosen
        for ip in loopbacks:
            assert await _serves(ip, server.port), ip
        for port in chosen:  # the servers let go were left holding nothing
            assert _free_here(first, port), port
    finally:
        await server.stop(0)


async def test_a_port_taken_every_time_fails_naming_the_address(
    loopbacks: tuple[str, str], other_program: OtherProgram, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = loopbacks
    chosen = _taken_after_the_choice(monkeypatch, other_program, second, times=100)
    with pytest.raises(OSError, match="was taken there") as failed:
        await _start(SyncPingServicer, True, f"{NAME}:0")
    races = grpcgw.grpcserver._RACES
    assert len(chosen) == races
    assert failed.value.errno == errno.EADDRINUSE
    assert failed.value.strerror == (
        f"cannot bind gRPC server to {NAME}:0 ({_dial(second, chosen[-1])}): port "
        f"{chosen[-1]} was taken there after grpcgw found it free on every address, "
        f"{races} times"
    )
    for port in chosen:
        assert _free_here(first, port), port


async def test_a_given_port_taken_on_one_address_fails_and_holds_none(
    loopbacks: tuple[str, str], other_program: OtherProgram
) -> None:
    """A port that was asked for is not chosen again: taken on one address, the start
    fails naming it, and the address gRPC had bound already is let go."""
    first, second = loopbacks
    picked = bind_every_address(NAME, 0)  # a port free on both, for the test
    port = picked[0].getsockname()[1]
    for sock in picked:
        sock.close()
    other_program.hold(second, port)
    with pytest.raises(OSError, match=rf"cannot bind gRPC server to {NAME}:{port} \("):
        await _start(SyncPingServicer, True, f"{NAME}:{port}")
    assert _free_here(first, port)
