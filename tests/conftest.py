"""Shared fixtures: real gRPC servers on unix sockets, and gateways in front of them."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Generated test protos import themselves by their proto package path.
sys.path.insert(0, str(ROOT / "tests" / "gen"))
sys.path.insert(0, str(ROOT))

import examples.ping  # noqa: E402,F401  (puts the example's generated code on sys.path)
from examples.ping.service import PingServicer, ShelfServicer  # noqa: E402
from grpcgw.descriptors import resolve_service  # noqa: E402
from grpcgw.grpcserver import GrpcServer  # noqa: E402

if TYPE_CHECKING:
    import aiohttp

    from .proxyutil import Processes, Protos

DATA = ROOT / "tests" / "data"


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    """A short directory for unix sockets (grpcio binds paths of at most ~107 bytes)."""
    d = Path(tempfile.mkdtemp(prefix="gw-", dir="/tmp"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


class Servers:
    """Start gRPC servers for a test and stop them afterwards."""

    def __init__(self, sock_dir: Path) -> None:
        self.sock_dir = sock_dir
        self._servers: list[GrpcServer] = []

    async def start(self, *servicers: object, interceptors: Sequence[Any] = ()) -> str:
        target = f"unix://{self.sock_dir}/grpc-{len(self._servers)}.sock"
        server = await GrpcServer.start(
            [resolve_service(s) for s in servicers], target, interceptors=interceptors
        )
        self._servers.append(server)
        return target

    async def stop(self) -> None:
        for server in self._servers:
            await server.stop(0)


@pytest.fixture
async def servers(sock_dir: Path) -> AsyncIterator[Servers]:
    s = Servers(sock_dir)
    yield s
    await s.stop()


@pytest.fixture(params=["llhttp", "python"])
def request_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which of aiohttp's request parsers the servers a test starts read with: its C
    one (llhttp, where its wheel has it) or its pure-Python one (what it falls back
    to without the extension, e.g. under ``AIOHTTP_NO_EXTENSIONS``)."""
    from aiohttp import http_parser, web_protocol

    if request.param == "llhttp":
        if web_protocol.HttpRequestParser is not getattr(http_parser, "HttpRequestParserC", None):
            pytest.skip("aiohttp's C parser is not in use here (no extension, or disabled)")
    else:
        # Where RequestHandler finds it; aiohttp's own module keeps the C one (the
        # edge's fast lane checks that one, once per process).
        monkeypatch.setattr(web_protocol, "HttpRequestParser", http_parser.HttpRequestParserPy)
    return str(request.param)


@pytest.fixture
def shelf_servicer() -> ShelfServicer:
    return ShelfServicer()


@pytest.fixture
async def example_target(servers: Servers, shelf_servicer: ShelfServicer) -> str:
    """The example's servicers running in a real grpc.aio server; returns its target."""
    return await servers.start(PingServicer(), shelf_servicer)


# -- the proxy tests' processes (tests/proxyutil.py imports this module: lazy imports)


@pytest.fixture(scope="module")
def protos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Protos, Protos]:
    """The example's protos (v1) and a second version whose PingService adds Echo (v2),
    compiled for a backend process."""
    from .proxyutil import Protos

    root = tmp_path_factory.mktemp("protos")
    return Protos(root / "v1", echo=False), Protos(root / "v2", echo=True)


@pytest.fixture
def processes() -> Iterator[Processes]:
    """Backends and proxies a test starts (``await processes.backend(...)``), stopped after."""
    from .proxyutil import Processes

    started = Processes()
    yield started
    for process in reversed(started):
        process.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session with a 30 s bound on each request."""
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session
