"""Chunked request bodies at the edge: each chunk-size line bounded, errors in plain words.

llhttp (aiohttp's C parser) puts no bound on chunk extensions: a client could
send them without end, and none of it counted toward ``max_request_body``.
The edge follows a chunked body with :class:`grpcgw.http11.ChunkedBody` before
either of aiohttp's parsers sees it, and refuses a chunk-size line (the size and
its extensions) beyond ``max_request_line`` with a 400. What the parsers say
about a bad body or trailer reaches the client without Python's quoting of the
bytes (``b'X(A)'``). The framing it reads is checked against both parsers;
the answers over real sockets, with each parser.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http_exceptions import (
    BadHttpMethod,
    BadStatusLine,
    HttpProcessingError,
    InvalidHeader,
    LineTooLong,
    TransferEncodingError,
)
from aiohttp.http_parser import HttpRequestParserPy
from aiohttp.web_protocol import RequestPayloadError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grpcgw.edgeparser import error_reason
from grpcgw.http11 import ChunkedBody, ChunkError
from grpcgw.limits import HttpLimits

from .test_linger import _local, _write_then_read

try:
    from aiohttp.http_parser import HttpRequestParserC
except ImportError:  # aiohttp without its extension
    HttpRequestParserC = None

BOUND = 20.0
HEAD = (
    b"POST /v1/shelves?shelf_id=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)
NEXT = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"


def _track(body: bytes, max_line: int = 8190, step: int = 0) -> tuple[int, bool]:
    """``body`` (then :data:`NEXT`) fed to a :class:`ChunkedBody` whole, or ``step``
    bytes at a time: (the bytes it took as the body's, whether it ended there)."""
    chunks = ChunkedBody(max_line)
    data = body + NEXT
    pieces = [data[i : i + step] for i in range(0, len(data), step)] if step else [data]
    taken = 0
    for piece in pieces:
        used = chunks.feed(piece)
        if used < 0:
            return -1, False
        taken += used
        if chunks.done:
            break
    return taken, chunks.done


# -- the framing, alone -------------------------------------------------------------------


@pytest.mark.parametrize("step", [0, 1, 2, 3, 7])
@pytest.mark.parametrize(
    "body",
    [
        b"2\r\n{}\r\n0\r\n\r\n",
        b"1\r\n{\r\n1\r\n}\r\n0\r\n\r\n",
        b"2;name=value;x\r\n{}\r\n0;last=1\r\n\r\n",
        b'2;a="x;y\\" z"\r\n{}\r\n0\r\n\r\n',
        b"0002\r\n{}\r\n00\r\n\r\n",
        b"A\r\n0123456789\r\na\r\n\r\n\r\n\r\n\r\n\r\n\r\n0\r\n\r\n",
        b"2\r\n{}\r\n0\r\nX-Trailer: 1\r\nX-Other: \r\n\r\n",
        b"0\r\n\r\n",
    ],
    ids=["one", "two", "extensions", "quoted", "zeros", "CRLF data", "trailers", "empty"],
)
def test_a_chunked_body_ends_where_it_ends(body: bytes, step: int) -> None:
    assert _track(body, step=step) == (len(body), True)


@pytest.mark.parametrize("step", [0, 1, 1000])
def test_a_chunk_size_line_is_bounded(step: int) -> None:
    at_limit = b"2;" + b"a" * 98 + b"\r\n{}\r\n0\r\n\r\n"  # 100 bytes before its CRLF
    assert _track(at_limit, max_line=100, step=step) == (len(at_limit), True)
    with pytest.raises(ChunkError, match="chunk-size line longer than 99 bytes"):
        _track(at_limit, max_line=99, step=step)
    # One that never ends is refused once past the limit, not at its end.
    chunks = ChunkedBody(100)
    assert chunks.feed(b"2;" + b"a" * 98 + b"\r") == 101  # its CR may end it yet
    with pytest.raises(ChunkError):
        chunks.feed(b"a")
    # The limit is on the chunk-size lines, not on chunk data.
    big = b"%x\r\n%s\r\n0\r\n\r\n" % (10_000, b"d" * 10_000)
    assert _track(big, max_line=100, step=step) == (len(big), True)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"zz", "invalid chunk size"),
        (b"", "invalid chunk size"),
        (b" 2", "invalid chunk size"),
        (b"2 ;x", "invalid chunk size"),
        (b"0x2", "invalid chunk size"),
        (b"+2", "invalid chunk size"),
        (b"10000000000000000", "chunk size too large"),
    ],
)
def test_what_both_parsers_refuse_is_refused_in_plain_words(line: bytes, message: str) -> None:
    body = line + b"\r\n{}\r\n0\r\n\r\n"
    with pytest.raises(ChunkError, match=message):
        _track(body)
    with pytest.raises(ChunkError, match="chunk-size line not ended by CRLF"):
        _track(b"2;a\nb\r\n{}\r\n0\r\n\r\n")
    assert _parsed(HttpRequestParserPy, body) is None
    if HttpRequestParserC is not None:
        assert _parsed(HttpRequestParserC, body) is None


def _parsed(parser_class: Any, body: bytes) -> int | None:
    """How many bytes of ``body`` + :data:`NEXT` aiohttp's parser took as the chunked
    body (where it accepts it, and the request after it); None where it refuses it."""

    async def run() -> int | None:
        loop = asyncio.get_running_loop()
        parser = parser_class(
            BaseProtocol(loop), loop, 2**20, max_line_size=8190, max_field_size=8190
        )
        data = (HEAD % b"p").replace(b"Connection: close\r\n", b"") + body + NEXT
        try:
            messages, _, _ = parser.feed_data(data)
        except HttpProcessingError:
            return None
        if len(messages) != 2:
            return None
        payload = messages[0][1]
        if payload.exception() is not None or not payload.is_eof():
            return None
        return len(body)  # the next request began right after the body

    return asyncio.run(run())


_HEXES = st.integers(0, 40).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.sampled_from(["%x", "%X", "0%x", "%02x"]).map(lambda f, n=n: (f % n).encode()),
    )
)
_EXTENSION = st.sampled_from([b"", b";a", b";a=b", b';a="x y"', b";a=", b" ", b";", b"\t;a"])
_JUNK = st.sampled_from([b""] * 16 + [b"g", b" ", b"\n", b"\r", b"\x00"])


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    """Chunked bodies, most well framed, some with a wrong byte somewhere."""
    parts = []
    for size, digits in draw(st.lists(_HEXES.filter(lambda h: h[0] > 0), max_size=3)):
        parts.append(digits + draw(_EXTENSION) + draw(_JUNK) + b"\r\n")
        parts.append(b"d" * size + draw(_JUNK) + b"\r\n")
    parts.append(b"0" + draw(_EXTENSION) + b"\r\n")
    trailers = draw(st.lists(st.sampled_from([b"X-T: 1", b"X(T): 1", b"X-T: a\nb"])))
    parts.extend(trailer + b"\r\n" for trailer in trailers)
    parts.append(draw(_JUNK) + b"\r\n")
    return b"".join(parts)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=_bodies(), step=st.sampled_from([0, 1, 5]))
def test_the_framing_is_the_parsers_framing(body: bytes, step: int) -> None:
    """Where a parser takes the body, the tracker ends it at the same byte; where the
    tracker refuses it, both parsers refuse it too."""
    try:
        taken, done = _track(body, step=step)
    except ChunkError:
        assert _parsed(HttpRequestParserPy, body) is None
        if HttpRequestParserC is not None:
            assert _parsed(HttpRequestParserC, body) is None
        return
    for parser_class in (HttpRequestParserC, HttpRequestParserPy):
        if parser_class is not None and _parsed(parser_class, body) is not None:
            assert (taken, done) == (len(body), True), parser_class


# -- error messages ---------------------------------------------------------------------


def test_aiohttp_errors_in_plain_words() -> None:
    assert error_reason(LineTooLong(b"aaaa...", 8190)) == "line longer than 8190 bytes"
    assert error_reason(InvalidHeader(b"X(A)")) == "invalid header field"
    assert error_reason(InvalidHeader(b"X(A)"), fields="trailer") == "invalid trailer field"
    assert error_reason(BadStatusLine("GARBAGE")) == "invalid request line"
    assert error_reason(BadHttpMethod("G\x01T")) == "invalid method"
    lf = TransferEncodingError("Unexpected LF in chunk-extension: b';a\\nb'")
    assert error_reason(lf) == "Unexpected LF in chunk-extension"
    # A body's reader raises RequestPayloadError from what the parser said.
    wrapped = RequestPayloadError(str(InvalidHeader(b"X\x00")))
    wrapped.__cause__ = InvalidHeader(b"X\x00")
    assert error_reason(wrapped, fields="trailer") == "invalid trailer field"
    # llhttp's reason, its quoted bytes on the lines after.
    llhttp = HttpProcessingError(message="Invalid header token:\n\n  b'X(A): 1'\n   ^")
    assert error_reason(llhttp) == "Invalid header token"


# -- over sockets ---------------------------------------------------------------------------


def _exchange(port: int, raw: bytes, then: bytes = b"", total: int = 0) -> bytes:
    """Send ``raw`` (then ``then`` until ``total`` bytes went), read until the close."""
    return _write_then_read(port, raw, then, total)[1]


def _answers(raw: bytes) -> list[tuple[int, dict[str, Any] | bytes]]:
    """Each answer's status and body (a Status body parsed)."""
    out: list[tuple[int, dict[str, Any] | bytes]] = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
        length = int(headers["content-length"])
        body, raw = rest[:length], rest[length:]
        status = int(lines[0].split()[1])
        out.append((status, json.loads(body) if status >= 400 else body))
    return out


async def _post(port: int, chunks: bytes, then: bytes = b"", total: int = 0) -> list[Any]:
    raw = HEAD % b"c" + chunks
    return _answers(await asyncio.to_thread(_exchange, port, raw, then, total))


async def test_a_chunk_extension_beyond_the_line_limit_is_400(request_parser: str) -> None:
    async with await _local() as local:
        port = local.http_port
        at_limit = b"2;" + b"a" * 8188 + b"\r\n{}\r\n0\r\n\r\n"
        [(status, _)] = await _post(port, at_limit)
        assert status == 201
        over = b"2;" + b"a" * 8189 + b"\r\n{}\r\n0\r\n\r\n"
        expected = {
            "code": 3,
            "message": "malformed request body: chunk-size line longer than 8190 bytes",
            "details": [],
        }
        assert await _post(port, over) == [(400, expected)]
        # A client still sending extensions (1 MB of them) reads the same answer.
        assert await _post(port, b"2;", b"a" * 65536, 1_000_000) == [(400, expected)]


async def test_the_line_limit_is_max_request_line(request_parser: str) -> None:
    async with await _local(HttpLimits(max_request_line=100)) as local:
        [(status, body)] = await _post(local.http_port, b"2;" + b"a" * 99 + b"\r\n{}\r\n0\r\n\r\n")
        assert status == 400
        assert isinstance(body, dict)
        assert body["message"].endswith("chunk-size line longer than 100 bytes")


async def test_a_bad_chunk_size_is_one_plain_message(request_parser: str) -> None:
    async with await _local() as local:
        for line in (b"zz", b"0x2", b"2 ;x"):
            [(status, body)] = await _post(local.http_port, line + b"\r\n{}\r\n0\r\n\r\n")
            assert (status, body) == (
                400,
                {"code": 3, "message": "malformed request body: invalid chunk size", "details": []},
            ), line


async def test_a_request_after_a_chunked_body_in_the_same_packet(request_parser: str) -> None:
    async with await _local() as local:
        raw = (
            (HEAD % b"pipelined").replace(b"Connection: close\r\n", b"")
            + b"2;x=y\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n"
            + b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        answers = _answers(await asyncio.to_thread(_exchange, local.http_port, raw))
        assert [status for status, _ in answers] == [201, 200]
        assert answers[1][1] == b'{"message":"Pong"}'


@pytest.mark.parametrize(
    "trailer",
    [b"X(A): 1", b"X-A: a\x00b", b"X-A : 1", b"XA", b"X-A: " + b"a" * 9000],
    ids=["bad name", "NUL", "space before colon", "no colon", "too long"],
)
async def test_trailer_errors_name_no_bytes(request_parser: str, trailer: bytes) -> None:
    async with await _local() as local:
        [(status, body)] = await _post(local.http_port, b"2\r\n{}\r\n0\r\n" + trailer + b"\r\n\r\n")
    assert status == 400
    assert isinstance(body, dict)
    message = body["message"]
    assert message.startswith("malformed request body: "), message
    for quoted in ("b'", "\\x", "aaaa"):  # Python's bytes, or the client's echoed
        assert quoted not in message, message
    if trailer.endswith(b"aaaa"):
        assert message == "malformed request body: line longer than 8190 bytes"


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n",
        b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
        b"G\x01T /v1/ping HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["garbage", "bad name", "NUL", "bad method"],
)
async def test_head_errors_name_no_bytes(request_parser: str, raw: bytes) -> None:
    async with await _local() as local:
        [(status, body)] = _answers(await asyncio.to_thread(_exchange, local.http_port, raw))
    assert status == 400
    assert isinstance(body, dict)
    assert body["message"].startswith("malformed HTTP request: "), body
    for quoted in ("b'", "\\x"):
        assert quoted not in body["message"], body
