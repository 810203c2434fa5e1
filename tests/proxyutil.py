"""Helpers of the proxy tests: protos compiled at test time, backend and proxy processes
(the fixtures ``protos`` and ``processes`` are in conftest.py)."""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

import aiohttp

from .conftest import ROOT

EXAMPLE_PROTOS = ROOT / "examples" / "ping" / "proto"
#: The environment of a gateway process: grpcgw's sources and nothing of the example's.
PROXY_ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    "PYTHONPATH": str(ROOT / "src"),
    "PYTHONUNBUFFERED": "1",
}
#: A backend imports only what its --gen directory holds (and installed packages).
BACKEND_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

ECHO_RPC = """
  rpc Echo(EchoRequest) returns (PingResponse) {
    option (google.api.http) = {post: "/v1/echo" body: "*"};
  }
"""
ECHO_MESSAGE = """
message EchoRequest {
  // What to echo.
  string text = 1;
  google.protobuf.Any extra = 2;
}
"""
#: v2's PingResponse has fields v1's lacks; an Any may hold a type only v2 defines.
PING_RESPONSE_V2 = "  string served_by = 2;\n  google.protobuf.Any detail = 3;\n"


def include_dirs() -> list[str]:
    import google.api

    wkt = resources.files("grpc_tools") / "_proto"
    googleapis = Path(next(iter(google.api.__path__))).parent.parent
    return [str(wkt), str(googleapis)]


def protoc(src: Path, *args: str) -> None:
    """Run grpcio-tools' protoc over every .proto under ``src``."""
    from grpc_tools import protoc as tool

    protos = sorted(str(p.relative_to(src)) for p in src.rglob("*.proto"))
    command = ["protoc", f"-I{src}", *(f"-I{d}" for d in include_dirs()), *args, *protos]
    assert tool.main(command) == 0, f"protoc failed: {command}"


class Protos:
    """One version of the example's protos: sources, generated Python, a descriptor set."""

    def __init__(self, root: Path, *, echo: bool) -> None:
        self.src = root / "proto"
        shutil.copytree(EXAMPLE_PROTOS, self.src)
        if echo:
            ping = self.src / "example" / "v1" / "ping.proto"
            text = ping.read_text()
            text = text.replace("service PingService {\n", "service PingService {" + ECHO_RPC, 1)
            text = text.replace(
                'import "google/api/annotations.proto";\n',
                'import "google/api/annotations.proto";\nimport "google/protobuf/any.proto";\n',
                1,
            )
            text = text.replace(
                "  string message = 1;\n", "  string message = 1;\n" + PING_RESPONSE_V2
            )
            ping.write_text(text + ECHO_MESSAGE)
        self.gen = root / "gen"
        self.gen.mkdir()
        protoc(self.src, f"--python_out={self.gen}", f"--grpc_python_out={self.gen}")
        self.descriptor_set = root / "api.binpb"
        protoc(
            self.src,
            f"--descriptor_set_out={self.descriptor_set}",
            "--include_imports",
            "--include_source_info",
        )


class Lines:
    """A process's output, collected on a thread; wait for the n-th line holding a marker."""

    def __init__(self, stream: object) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self.lines: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self._queue.put(line)
        self._queue.put("")  # end of stream

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def count(self, marker: str) -> int:
        return sum(marker in line for line in self.lines)

    def until(self, marker: str, n: int = 1, timeout: float = 30) -> str:
        """Wait until ``n`` lines hold ``marker``; return the last of them."""
        deadline = time.monotonic() + timeout
        while self.count(marker) < n:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no {marker!r} (x{n}) within {timeout}s:\n{self.text}"
                ) from None
            if not line:
                raise AssertionError(f"process ended before {marker!r} (x{n}):\n{self.text}")
            self.lines.append(line)
        return [line for line in self.lines if marker in line][n - 1]

    def drain(self, timeout: float = 10) -> str:
        """Everything up to the end of the stream (the process is ending)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return self.text
            if not line:
                return self.text
            self.lines.append(line)


class Process:
    """A child process with its output collected; stopped by its own pid."""

    def __init__(self, args: list[str], *, env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.out = Lines(self.proc.stdout)

    def started(self, text: str) -> str:
        """The first line holding ``text`` (it is up); stopped if it never comes."""
        try:
            return self.out.until(text)
        except BaseException:
            self.stop()
            raise

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"did not stop on SIGTERM:\n{self.out.drain(1)}") from None


def start_backend(
    protos: Protos, address: str, *, reflection: str = "both", extra: Sequence[str] = ()
) -> Process:
    backend = Process(
        [
            sys.executable,
            str(ROOT / "tests" / "proxy_backend.py"),
            "--gen",
            str(protos.gen),
            "--address",
            address,
            "--reflection",
            reflection,
            *extra,
        ],
        env=BACKEND_ENV,
        cwd=protos.gen,
    )
    backend.started("listening")
    return backend


def start_proxy(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> tuple[Process, str]:
    """``grpcgw proxy ARGS --http-address 127.0.0.1:0``; returns it and its base URL."""
    proxy = Process(
        [sys.executable, "-m", "grpcgw", "proxy", *args, "--http-address", "127.0.0.1:0"],
        env={**PROXY_ENV, **(env or {})},
        cwd=cwd,
    )
    line = proxy.started("grpcgw proxy: http")
    url = line.split("grpcgw proxy: ", 1)[1].split()[0]
    return proxy, url


def run_proxy(
    cwd: Path, *args: str, timeout: float = 60, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``grpcgw proxy ARGS`` expected to end before serving (an error, --print-config)."""
    return subprocess.run(
        [sys.executable, "-m", "grpcgw", "proxy", *args, "--http-address", "127.0.0.1:0"],
        cwd=cwd,
        env={**PROXY_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Processes(list[Process]):
    """The processes a test started, stopped when it ends (last started first)."""

    async def backend(
        self,
        protos: Protos,
        address: str,
        *extra: str,
        reflection: str = "both",
    ) -> Process:
        """:func:`start_backend` off the event loop; ``extra`` are its flags."""
        process = await asyncio.to_thread(
            start_backend, protos, address, reflection=reflection, extra=extra
        )
        self.append(process)
        return process

    async def proxy(
        self, cwd: Path, *args: str, env: Mapping[str, str] | None = None
    ) -> tuple[Process, str]:
        """:func:`start_proxy` off the event loop: the process and its base URL."""
        process, url = await asyncio.to_thread(start_proxy, cwd, *args, env=env)
        self.append(process)
        return process, url


class PingLoad:
    """``clients`` clients pinging ``url`` on keep-alive connections (one each) until
    the server refuses them (its listener closed) or 60 s pass: the answers counted
    (``ok``), anything else kept (``bad``), the clients turned away (``refused``)."""

    def __init__(self, url: str, clients: int = 16) -> None:
        self.url = url
        self.ok = 0
        self.bad: list[str] = []
        self.refused = 0
        self._clients = clients
        self._tasks: list[asyncio.Task[None]] = []
        self._enough = 0
        self._started = asyncio.Event()

    async def start(self, answered: int = 32) -> int:
        """Start the clients; return once ``answered`` answers came (at most 30 s):
        the answers so far."""
        self._enough = answered
        self._tasks = [asyncio.create_task(self._client()) for _ in range(self._clients)]
        await asyncio.wait_for(self._started.wait(), 30)
        return self.ok

    async def finish(self) -> None:
        """Wait (at most 30 s) for every client to be turned away."""
        await asyncio.wait_for(asyncio.gather(*self._tasks), 30)

    async def _client(self) -> None:
        connector = aiohttp.TCPConnector(limit=1)  # one keep-alive connection
        async with aiohttp.ClientSession(connector=connector) as session:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    async with session.get(f"{self.url}/v1/ping") as resp:
                        body = await resp.read()
                except (
                    aiohttp.ClientConnectorError,
                    aiohttp.ClientOSError,
                    aiohttp.ServerDisconnectedError,
                ):
                    self.refused += 1  # never taken by the server: its listener is closed
                    return
                if resp.status == 200 and body == b'{"message":"Pong"}':
                    self.ok += 1
                    if self.ok >= self._enough:
                        self._started.set()
                else:
                    self.bad.append(f"{resp.status} {body!r}")
