"""The servers the reliability suite shares: ``serve_local``, and ``grpcgw proxy`` in
front of a gRPC server, each in a process of its own for the whole session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from .harness import Backend, Local, Proc, Proxy


@dataclass
class Served:
    """A gateway under test: its process, its HTTP port, and what its answers must
    never mention (the addresses behind it)."""

    name: str
    proc: Proc
    port: int
    internals: tuple[str, ...]
    backend: Proc | None = None


@pytest.fixture(scope="session")
def local() -> Iterator[Served]:
    proc = Local()
    try:
        found = proc.wait_for(re.compile(r"gRPC server listening on \S+ \(port (\d+)\)"))
        assert isinstance(found, re.Match)
        yield Served("serve_local", proc, proc.port, (f":{found.group(1)}",))
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def proxied() -> Iterator[Served]:
    backend = Backend()
    try:
        proxy = Proxy(f"127.0.0.1:{backend.port}")
        try:
            yield Served("proxy", proxy, proxy.port, (f":{backend.port}",), backend)
        finally:
            proxy.stop()
    finally:
        backend.stop()


@pytest.fixture(params=["serve_local", "proxy"])
def gateway(request: pytest.FixtureRequest) -> Served:
    """Each of the two HTTP front ends in turn."""
    return request.getfixturevalue("local" if request.param == "serve_local" else "proxied")
