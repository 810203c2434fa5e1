"""The example's logging interceptor: one JSON line per call with its code and duration,
in both dispatch modes (it wraps the handler it is given: direct dispatch runs it so)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from examples.ping.interceptor import LoggingInterceptor, SyncLoggingInterceptor
from examples.ping.service import PingServicer, ShelfServicer, SyncPingServicer
from grpcgw import start_local

from . import modes
from .servicers import SyncDeniedPingServicer

mode = modes.mode


def call_lines(err: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("msg", "").startswith("rpc call: ")]


class CallsLogged(logging.Handler):
    """Counts the interceptor's lines as the logger hands them out (after its own
    stderr handler, added at import, has written them)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("rpc call: "):
            with self.changed:
                self.count += 1
                self.changed.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count >= count, timeout)


@pytest.fixture
def logged() -> Iterator[CallsLogged]:
    handler = CallsLogged()
    logger = logging.getLogger("example.ping")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def logged_calls(
    capfd: pytest.CaptureFixture[str], logged: CallsLogged, count: int
) -> list[dict[str, Any]]:
    """The interceptor's lines once ``count`` have been written: it logs when the
    handler returns, which on a real server can be just after the client has its reply."""
    assert await asyncio.to_thread(logged.wait_for, count, 10.0), f"{logged.count} of {count}"
    return call_lines(capfd.readouterr().err)


async def get(port: int, path: str) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as resp,
    ):
        return resp.status, await resp.read()


async def test_aio_interceptor_logs_code_and_duration(
    capfd: pytest.CaptureFixture[str], logged: CallsLogged, mode: str
) -> None:
    capfd.readouterr()
    async with await start_local(
        PingServicer(),
        ShelfServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        dispatch=mode,
        interceptors=[LoggingInterceptor()],
    ) as local:
        assert (await get(local.http_port, "/v1/ping"))[0] == 200
        assert (await get(local.http_port, "/v1/shelves/none"))[0] == 404
        assert (await get(local.http_port, "/v1/shelves:watch"))[0] == 200
        assert (await get(local.http_port, "/v1/no/route"))[0] == 404  # never reaches gRPC
    lines = await logged_calls(capfd, logged, 3)
    assert [(line["method"], line["code"]) for line in lines] == [
        ("/example.v1.PingService/Ping", "OK"),
        ("/example.v1.ShelfService/GetShelf", "NOT_FOUND"),
        ("/example.v1.ShelfService/WatchShelves", "OK"),
    ]
    for line in lines:
        assert line["level"] == "debug"
        assert line["msg"] == f"rpc call: method = {line['method']}"
        assert isinstance(line["duration_ms"], float)
        assert line["duration_ms"] >= 0


@pytest.mark.parametrize(
    ("interceptor", "is_async"), [(SyncLoggingInterceptor, False), (LoggingInterceptor, True)]
)
async def test_a_plain_servicer_is_logged_with_code_and_duration(
    capfd: pytest.CaptureFixture[str],
    logged: CallsLogged,
    mode: str,
    interceptor: Any,
    is_async: bool,
) -> None:
    # With the aio interceptor the plain method still runs in grpc.aio's thread
    # pool, not on the loop; with the sync one the server is grpc's threaded one.
    capfd.readouterr()
    async with await start_local(
        SyncPingServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        dispatch=mode,
        interceptors=[interceptor()],
    ) as local:
        assert local.grpc_server.is_async is is_async
        assert (await get(local.http_port, "/v1/ping"))[0] == 200
    [line] = await logged_calls(capfd, logged, 1)
    assert (line["method"], line["code"]) == ("/example.v1.PingService/Ping", "OK")
    assert line["duration_ms"] >= 0


@pytest.mark.parametrize("interceptor", [LoggingInterceptor, SyncLoggingInterceptor])
async def test_a_plain_servicers_abort_is_logged_with_its_code(
    capfd: pytest.CaptureFixture[str], logged: CallsLogged, mode: str, interceptor: Any
) -> None:
    capfd.readouterr()
    async with await start_local(
        SyncDeniedPingServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        dispatch=mode,
        interceptors=[interceptor()],
    ) as local:
        assert (await get(local.http_port, "/v1/ping"))[0] == 403
    [line] = await logged_calls(capfd, logged, 1)
    assert (line["method"], line["code"]) == ("/example.v1.PingService/Ping", "PERMISSION_DENIED")
