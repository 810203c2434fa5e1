"""``HttpLimits.max_head_size``: the request head bounded as a whole, over real sockets.

aiohttp bounds the request line, each field and the number of fields, not their
sum: 128 fields of 8 KiB each (about 1 MiB, some 1.8 MB as Python objects) per
connection until the header timeout. grpcgw counts the head as it arrives and
answers 431 beyond the limit. Most tests run real servers on loopback; the
packet-level ones feed aiohttp's own C parser through grpcgw's wrapper, packet
by packet, where the kernel would coalesce what a socket test sends.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_parser import HttpRequestParser

from examples.ping.service import PingServicer
from grpcgw import start_local
from grpcgw.edgeparser import ANSWER, EdgeParser
from grpcgw.httpserver import start_server
from grpcgw.limits import HttpLimits

from .conftest import ROOT
from .test_cli_serve import ENV, LOOPBACK, SERVICERS, _serve

BOUND = 20.0
#: A lowered limit for most tests (the default, 64 KiB, would be over the 60 KiB of
#: metadata the gateway forwards).
LIMIT = 16384


def _head(size: int, line: bytes = b"GET /v1/ping HTTP/1.1", extra: bytes = b"") -> bytes:
    """A request head of exactly ``size`` bytes (line, fields, blank line), padded
    with ``X-Pad-N`` fields of at most 8000 bytes."""
    start = line + b"\r\nHost: x\r\n" + extra
    room = size - len(start) - 2
    count = -(-room // 8000)
    fields = []
    for i in range(count):
        length = room // count + (1 if i < room % count else 0)
        name = b"X-Pad-%02d: " % i
        fields.append(name + b"a" * (length - len(name) - 2) + b"\r\n")
    head = start + b"".join(fields) + b"\r\n"
    assert len(head) == size
    assert head.count(b"\r\n\r\n") == 1
    return head


def _status(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    return int(lines[0].split()[1]), headers, body


async def _exchange(port: int, *packets: bytes) -> bytes:
    """Send ``packets`` (each drained), then read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for packet in packets:
            writer.write(packet)
            await writer.drain()
        data = b""
        async with asyncio.timeout(BOUND):
            while chunk := await reader.read(65536):
                data += chunk
        return data
    finally:
        writer.close()


def _refused(raw: bytes, limit: int) -> None:
    """``raw`` is one 431 with a Status body naming ``limit``, and the connection closed."""
    status, headers, body = _status(raw)
    assert status == 431, raw[:200]
    assert headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "code": 8,
        "message": f"request head larger than {limit} bytes",
        "details": [],
    }


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(text=f"{len(request.headers)} {len(body)}")


@pytest.fixture
async def plain() -> AsyncIterator[int]:
    """A plain aiohttp application on grpcgw's server, default limits (no fast lane)."""
    app = web.Application()
    app.router.add_route("*", "/echo", _echo)
    async with await start_server(app, "127.0.0.1:0") as server:
        yield server.port


# -- over sockets ----------------------------------------------------------------------


async def test_the_default_limit_serves_64_kib_and_refuses_a_byte_more(plain: int) -> None:
    head = _head(65536, b"GET /echo HTTP/1.1", b"Connection: close\r\n")
    status, _, body = _status(await _exchange(plain, head))
    assert status == 200
    assert body.split()[1] == b"0"
    _refused(await _exchange(plain, _head(65537, b"GET /echo HTTP/1.1")), 65536)
    # 120 fields of 8 KiB: within every other limit, refused as a whole. What the
    # client still sends is read and dropped (it used to be reset, answer unread).
    fields = b"".join(b"X-F%03d: %s\r\n" % (i, b"b" * 8100) for i in range(120))
    _refused(await _exchange(plain, b"GET /echo HTTP/1.1\r\nHost: x\r\n" + fields), 65536)


async def test_a_lowered_limit_on_the_gateway_and_its_fast_lane() -> None:
    async with await start_local(
        PingServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        limits=HttpLimits(max_head_size=LIMIT),
    ) as local:
        port = local.http_port
        # One whole simple request in one packet: the lane's, within the limit.
        whole = _head(LIMIT, extra=b"Connection: close\r\n")
        status, _, body = _status(await _exchange(port, whole))
        assert (status, body) == (200, b'{"message":"Pong"}')
        # A byte more: the lane leaves it to aiohttp's path, which refuses it.
        _refused(await _exchange(port, _head(LIMIT + 1)), LIMIT)


async def test_a_head_dribbled_in_packets_is_refused_as_it_passes_the_limit() -> None:
    # A header timeout far beyond the test's bound: the answer is the count's, not a 408.
    app = web.Application()
    app.router.add_get("/echo", _echo)
    limits = HttpLimits(max_head_size=LIMIT, header_timeout=3600.0)
    async with await start_server(app, "127.0.0.1:0", limits=limits) as server:
        head = b"GET /echo HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-%04d: %s\r\n" % (i, b"c" * 990) for i in range(17)
        )
        assert len(head) > LIMIT
        packets = [head[i : i + 1000] for i in range(0, len(head), 1000)]
        _refused(await _exchange(server.port, *packets), LIMIT)


async def test_a_large_body_before_a_pipelined_head_does_not_count() -> None:
    app = web.Application()
    app.router.add_route("*", "/echo", _echo)
    limits = HttpLimits(max_head_size=LIMIT)
    async with await start_server(app, "127.0.0.1:0", limits=limits) as server:
        body = b"d" * 300_000
        post = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
        last = _head(LIMIT, b"GET /echo HTTP/1.1", b"Connection: close\r\n")
        # Body and the next head in one write (and so in the same packets).
        raw = await _exchange(server.port, post + body + last)
        answers = re.split(rb"HTTP/1\.[01] ", raw)[1:]
        assert [a[:3] for a in answers] == [b"200", b"200"], raw[:300]
        assert answers[0].endswith(b"\r\n\r\n2 300000")  # Host, Content-Length
        # A byte more after the same body: the body answered, then the head refused.
        over = _head(LIMIT + 1, b"GET /echo HTTP/1.1")
        raw = await _exchange(server.port, post + body + over)
        answers = re.split(rb"HTTP/1\.[01] ", raw)[1:]
        assert [a[:3] for a in answers] == [b"200", b"431"], raw[:300]
        _refused(b"HTTP/1.1 " + answers[1], LIMIT)


# -- packet by packet, through aiohttp's own parser ----------------------------------------


def _parser(limit: int = LIMIT) -> EdgeParser:
    loop = asyncio.get_running_loop()
    protocol = BaseProtocol(loop)
    parser = HttpRequestParser(
        protocol, loop, 2**16, max_line_size=8190, max_field_size=8190, max_headers=128
    )
    return EdgeParser(parser, HttpLimits(max_head_size=limit))


def _feed(parser: EdgeParser, *packets: bytes) -> list[Any]:
    """The messages (``(method, path, body bytes so far)``) ``packets`` gave."""
    out = []
    for packet in packets:
        messages, _, _ = parser.feed_data(packet)
        for message, payload in messages:
            out.append((message.method, message.path, payload))
    return out


def _assert_refused(exc: pytest.ExceptionInfo[HttpProcessingError], limit: int = LIMIT) -> None:
    assert getattr(exc.value, ANSWER) == (431, 8, f"request head larger than {limit} bytes")


async def test_the_count_spans_packets_and_stops_at_the_limit() -> None:
    head = _head(LIMIT + 1)
    parser = _parser()
    packets = [head[i : min(i + 1000, LIMIT)] for i in range(0, LIMIT, 1000)]
    assert _feed(parser, *packets) == []  # LIMIT bytes: not yet beyond
    with pytest.raises(HttpProcessingError) as exc:
        parser.feed_data(head[LIMIT:])
    _assert_refused(exc)
    assert parser.feed_data(b"more") == ([], False, b"")  # and nothing after


@pytest.mark.parametrize("split", [1, 2, 3, 4, 5])
async def test_a_head_end_split_across_packets(split: int) -> None:
    head = _head(LIMIT)
    got = _feed(_parser(), head[:-split], head[-split:])
    assert [(m, p) for m, p, _ in got] == [("GET", "/v1/ping")]
    over = _head(LIMIT + 1)
    parser = _parser()
    assert _feed(parser, over[:-split]) == []
    with pytest.raises(HttpProcessingError) as exc:
        parser.feed_data(over[-split:])
    _assert_refused(exc)


async def test_several_heads_in_one_packet_are_each_within_the_limit() -> None:
    heads = [_head(LIMIT - 100 + i) for i in range(3)]  # together far beyond it
    got = _feed(_parser(), b"".join(heads))
    assert len(got) == 3
    # The last one beyond: the two before are answered, then the 431.
    parser = _parser()
    got = _feed(parser, heads[0] + heads[1] + _head(LIMIT + 1))
    assert len(got) == 2
    with pytest.raises(HttpProcessingError) as exc:
        parser.feed_data(b"")
    _assert_refused(exc)


@pytest.mark.parametrize("at", [0, 1, 5000, 99_999])
async def test_a_content_length_body_then_a_head_in_pieces(at: int) -> None:
    body = b"\r\n\r\n" * 25_000  # 100 000 bytes that look like head ends
    post = b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + body
    head = _head(LIMIT, b"GET /next HTTP/1.1")
    stream = post + head
    cut = len(post) - len(body) + at  # the packet boundary, somewhere in the body
    got = _feed(_parser(), stream[:cut], stream[cut:])
    assert [(m, p) for m, p, _ in got] == [("POST", "/p"), ("GET", "/next")]
    # The next head's first bytes in the body's last packet: counted from there.
    parser = _parser()
    over = _head(LIMIT + 1, b"GET /next HTTP/1.1")
    assert len(_feed(parser, post + over[:9000])) == 1
    with pytest.raises(HttpProcessingError) as exc:
        parser.feed_data(over[9000:])
    _assert_refused(exc)


async def test_a_chunked_body_then_a_head() -> None:
    chunk = b"e" * 40_000
    post = (
        b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n" % len(chunk)
        + chunk
        + b"\r\n0\r\n\r\n"
    )
    head = _head(LIMIT, b"GET /next HTTP/1.1")
    for cut in (len(post) - 3, len(post) - 1, len(post) + 10):
        stream = post + head
        got = _feed(_parser(), stream[:cut], stream[cut:])
        assert [(m, p) for m, p, _ in got] == [("POST", "/c"), ("GET", "/next")], cut
    # A head that starts in the packet the chunked body ends in and goes beyond.
    over = _head(LIMIT + 1, b"GET /next HTTP/1.1")
    for cut in (len(post) - 2, len(post) + 9000):
        stream = post + over
        parser = _parser()
        assert len(_feed(parser, stream[: cut - 20_000], stream[cut - 20_000 : cut])) == 1
        with pytest.raises(HttpProcessingError) as exc:
            parser.feed_data(stream[cut:])
        _assert_refused(exc)


class _Counting(BaseProtocol):
    """A protocol that counts the pauses a body's reader asks of it."""

    pauses = 0

    def pause_reading(self) -> None:
        self.pauses += 1
        super().pause_reading()


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_head_after_a_body_that_paused_the_parser(chunked: bool) -> None:
    # A body beyond its reader's high water pauses aiohttp's parser, which may keep
    # the rest of what it was fed and parse it when resumed (feed_data(b"")): a
    # head it finds there is measured too. (A chunked body is followed to its end
    # and fed apart from the head after it, which is counted from its first byte:
    # the pause then holds only the body's last bytes.)
    loop = asyncio.get_running_loop()
    protocol = _Counting(loop)
    raw = HttpRequestParser(
        protocol, loop, 2**16, max_line_size=8190, max_field_size=8190, max_headers=128
    )
    parser = EdgeParser(raw, HttpLimits(max_head_size=LIMIT))
    protocol._parser = parser  # type: ignore[assignment]  # as RequestHandler wires it
    body = b"f" * 300_000
    if chunked:
        framing = b"Transfer-Encoding: chunked"
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        framing = b"Content-Length: %d" % len(body)
    post = b"POST /p HTTP/1.1\r\nHost: x\r\n" + framing + b"\r\n\r\n" + body
    for size in (LIMIT, LIMIT + 1):
        paths: list[str] = []
        protocol.pauses = 0
        error: HttpProcessingError | None = None
        data = post + _head(size, b"GET /next HTTP/1.1")
        for _ in range(100):
            try:
                messages, _, _ = parser.feed_data(data)
            except HttpProcessingError as exc:
                error = exc
                break
            data = b""
            paths += [m.path for m, _ in messages]
            for _, payload in messages:
                payload.read_nowait(-1)  # the handler reads the body
            if "/next" in paths:
                break
            protocol._reading_paused = False
        assert paths[:1] == ["/p"]
        assert protocol.pauses  # the body paused the parser mid-read
        if size == LIMIT:
            assert paths == ["/p", "/next"]
        else:
            assert paths == ["/p"]
            assert error is not None
            assert getattr(error, ANSWER)[0] == 431
        parser = EdgeParser(
            HttpRequestParser(
                protocol, loop, 2**16, max_line_size=8190, max_field_size=8190, max_headers=128
            ),
            HttpLimits(max_head_size=LIMIT),
        )
        protocol._parser = parser  # type: ignore[assignment]


# -- settings --------------------------------------------------------------------------


def test_limits_are_checked_against_each_other() -> None:
    assert HttpLimits().max_head_size == 65536
    with pytest.raises(ValueError, match=r"HttpLimits.max_head_size must be a positive integer"):
        HttpLimits(max_head_size=0)
    with pytest.raises(ValueError, match=r"max_head_size \(4096\) .* max_request_line"):
        HttpLimits(max_head_size=4096)
    with pytest.raises(ValueError, match=r"max_head_size \(8000\) .* max_header_size"):
        HttpLimits(max_head_size=8000, max_request_line=4000)
    small = HttpLimits(max_head_size=4096, max_request_line=4096, max_header_size=2048)
    assert small.max_head_size == 4096
    assert HttpLimits.from_strings({"max_head_size": "20000"}).max_head_size == 20000


def test_grpcgw_serve_takes_the_limit_from_a_flag_or_the_environment() -> None:
    for args, env in (
        (["--max-head-size", str(LIMIT)], {}),
        ([], {"GRPCGW_MAX_HEAD_SIZE": str(LIMIT)}),
    ):
        process, url = _serve(*SERVICERS, *LOOPBACK, *args, env=env)
        try:
            port = int(url.rpartition(":")[2])
            _refused(asyncio.run(_exchange(port, _head(LIMIT + 1))), LIMIT)
            raw = asyncio.run(_exchange(port, _head(LIMIT, extra=b"Connection: close\r\n")))
            assert _status(raw)[0] == 200
        finally:
            process.stop()
    for command in ("serve", "proxy"):
        shown = subprocess.run(
            [sys.executable, "-m", "grpcgw", command, "--help"],
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "--max-head-size" in shown.stdout, command
    refused = subprocess.run(
        [sys.executable, "-m", "grpcgw", "serve", *SERVICERS, *LOOPBACK, "--max-head-size", "100"],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "max_head_size" in refused.stderr


# -- memory ----------------------------------------------------------------------------

_SERVER = """
import asyncio, resource, sys

from aiohttp import web

from grpcgw.httpserver import start_server


async def main():
    app = web.Application()
    async with await start_server(app, "127.0.0.1:0") as server:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(server.port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(grew // 1024, flush=True)


asyncio.run(main())
"""


async def test_heads_of_a_megabyte_no_longer_cost_the_server_megabytes_each() -> None:
    # 100 connections each sending 120 fields of 8 KiB (every field within
    # max_header_size, their count within max_headers) without ending the head. Each
    # was held until the header timeout: the server grew by 194 MB (about 1.9 MB a
    # connection). Now each is refused at 64 KiB. In a process of its own, to see its
    # peak RSS.
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _SERVER,
        cwd=ROOT,
        env={**ENV, "PYTHONPATH": str(ROOT / "src")},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdout is not None
    assert server.stdin is not None
    try:
        async with asyncio.timeout(60):
            port = int(await server.stdout.readline())
        head = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-F%03d: %s\r\n" % (i, b"b" * 8000) for i in range(120)
        )

        async def client() -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                for i in range(0, len(head), 65536):
                    writer.write(head[i : i + 65536])
                    await writer.drain()
                async with asyncio.timeout(BOUND):
                    while await reader.read(65536):
                        pass
            except ConnectionError:
                pass  # a reset, where the server is too loaded to drop it all within the linger
            finally:
                writer.close()

        await asyncio.gather(*(client() for _ in range(100)))  # each ended by the server
        server.stdin.write(b"\n")
        async with asyncio.timeout(60):
            grew = int(await server.stdout.readline())
        assert grew < 40, f"the server grew by {grew} MB for 100 connections"
    finally:
        if server.returncode is None:
            server.kill()
        await server.wait()
