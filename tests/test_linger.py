"""An answer that ends the connection reaches a client that is still sending.

A connection closed with unread bytes in the server's kernel buffer is reset, and
the reset can overtake the answer: a client still writing a 1 MB head read
``ECONNRESET`` instead of the 431 it was sent. After such an answer (what the
parser refused, a 408, a refused body) the edge closes its sending side, then
reads and drops what still comes until the client closes, ``_LINGER`` seconds
pass or ``_LINGER_BYTES`` bytes came. Over real sockets, with each of aiohttp's
request parsers where the parser decides the answer.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import Any

import pytest

import grpcgw.httpserver as httpserver
from examples.ping.service import PingServicer, ShelfServicer
from grpcgw.limits import HttpLimits
from grpcgw.server import LocalServer

from .test_edge import _local as _served

BOUND = 20.0
MB = 1_000_000


async def _local(limits: HttpLimits | None = None) -> LocalServer:
    """The example's servicers on loopback (test_edge's server), within ``limits``."""
    return await _served(PingServicer(), ShelfServicer(), limits=limits)


def _write_then_read(port: int, first: bytes, filler: bytes, total: int) -> tuple[int, bytes]:
    """Send ``first``, then ``filler`` until ``total`` bytes went (the server answers
    meanwhile, unread), then read until the server closes: (bytes sent, bytes read).
    A reset raises (``ConnectionResetError``, ``BrokenPipeError``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as sock:
        sock.sendall(first)
        sent = len(first)
        while sent < total:
            sock.sendall(filler)
            sent += len(filler)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return sent, data


def _answer(raw: bytes) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The status line, headers and Status body of the one answer in ``raw``."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    assert len(body) == int(headers["content-length"]), raw[:300]
    status: dict[str, Any] = json.loads(body)
    assert set(status) == {"code", "message", "details"}, status
    return lines[0], headers, status


async def _until(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds (checked once per loop turn: no event to wait on)."""
    async with asyncio.timeout(BOUND):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0)


async def _keep_sending(writer: asyncio.StreamWriter, total: int) -> None:
    for _ in range(total // 65536):
        writer.write(b"a" * 65536)
        await writer.drain()


_FIELDS = b"".join(b"X-F%03d: %s\r\n" % (i, b"b" * 8000) for i in range(8))

#: (what the client starts with, what it then repeats, the status line, the message)
HUGE_HEADS = {
    "one header field of 1 MB": (
        b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Big: ",
        b"a" * 65536,
        "HTTP/1.1 431 Request Header Fields Too Large",
        "request header field longer than 8190 bytes",
    ),
    "a request line of 1 MB": (
        b"GET /v1/ping?q=",
        b"a" * 65536,
        "HTTP/1.1 414 Request-URI Too Long",
        "request line longer than 8190 bytes",
    ),
    "1 MB of header fields of 8 KB": (
        b"GET /v1/ping HTTP/1.1\r\nHost: x\r\n",
        _FIELDS,
        "HTTP/1.1 431 Request Header Fields Too Large",
        "request head larger than 65536 bytes",
    ),
}


@pytest.mark.parametrize("case", list(HUGE_HEADS), ids=list(HUGE_HEADS))
async def test_a_client_still_sending_a_huge_head_reads_the_answer(
    request_parser: str, case: str
) -> None:
    first, filler, status_line, message = HUGE_HEADS[case]
    async with await _local() as local:
        for _ in range(3):  # it failed every time: the reset came before the answer
            sent, raw = await asyncio.to_thread(
                _write_then_read, local.http_port, first, filler, MB
            )
            assert sent >= MB  # every byte was taken (and dropped)
            line, headers, status = _answer(raw)
            assert line == status_line
            assert headers["connection"] == "close"
            assert headers["content-type"] == "application/json"
            assert status == {"code": 8, "message": message, "details": []}
        await _until(lambda: local.http_server.connections == 0)


async def test_the_linger_ends_when_the_client_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(httpserver, "_LINGER", 600.0)  # only the client's close can end it
    async with await _local() as local:
        first, filler, status_line, _ = HUGE_HEADS["one header field of 1 MB"]
        _, raw = await asyncio.to_thread(_write_then_read, local.http_port, first, filler, MB)
        assert _answer(raw)[0] == status_line
        await _until(lambda: local.http_server.connections == 0)


async def test_the_linger_ends_after_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # A client that reads the answer but neither closes nor sends: the server's side
    # closes on its own once _LINGER has passed.
    monkeypatch.setattr(httpserver, "_LINGER", 0.2)
    async with await _local() as local:
        reader, writer = await asyncio.open_connection("127.0.0.1", local.http_port)
        try:
            writer.write(b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n")
            async with asyncio.timeout(BOUND):
                raw = await reader.read()  # the answer, then the server's FIN
            assert _answer(raw)[0] == "HTTP/1.1 431 Request Header Fields Too Large"
            await _until(lambda: local.http_server.connections == 0)
        finally:
            writer.close()


async def test_a_client_sending_beyond_the_byte_bound_is_cut_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(httpserver, "_LINGER", 600.0)  # only the byte bound can end it
    async with await _local() as local:
        first, filler, _, _ = HUGE_HEADS["one header field of 1 MB"]
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            await asyncio.to_thread(
                _write_then_read, local.http_port, first, filler, 8 * httpserver._LINGER_BYTES
            )
        await _until(lambda: local.http_server.connections == 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", local.http_port)
        writer.write(b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        async with asyncio.timeout(BOUND):
            assert (await reader.read()).endswith(b'{"message":"Pong"}')
        writer.close()


async def test_a_body_refused_as_too_large_is_answered_to_a_client_sending_it() -> None:
    # Declared beyond max_request_body (4 MiB): refused before any of it is read,
    # while the client sends all 5 MiB.
    body = 5 << 20
    head = (
        b"POST /v1/shelves?shelf_id=big HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % body
    )
    async with await _local() as local:
        _, raw = await asyncio.to_thread(
            _write_then_read, local.http_port, head, b" " * 65536, len(head) + body
        )
        line, _, status = _answer(raw)
        assert line == "HTTP/1.1 413 Request Entity Too Large"
        assert status["code"] == 8


async def test_the_408_lingers_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    # A client whose head came too slowly, and that then sends more than the bound.
    monkeypatch.setattr(httpserver, "_LINGER", 600.0)
    limits = HttpLimits(header_timeout=600.0)  # the test fires the timer itself
    async with await _local(limits) as local:
        reader, writer = await asyncio.open_connection("127.0.0.1", local.http_port)
        try:
            writer.write(b"GET /v1/ping HTTP/1.1\r\nHost: x\r\n")
            server = local.http_server.runner.server
            assert server is not None
            await _until(lambda: bool(server.connections) and server.connections[0]._head_bytes)
            server.connections[0]._head_timed_out()  # what the header timer does
            async with asyncio.timeout(BOUND):
                raw = await reader.read()
            assert _answer(raw)[0] == "HTTP/1.1 408 Request Timeout"
            with pytest.raises(ConnectionError):
                await _keep_sending(writer, 4 * httpserver._LINGER_BYTES)
            await _until(lambda: local.http_server.connections == 0)
        finally:
            writer.close()
