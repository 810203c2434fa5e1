"""The edge's fast lane (``grpcgw.httpserver``, ``grpcgw.http11``) answers exactly as
aiohttp's path does.

Two real servers on loopback, one with the lane and one without (the tests-only
switch ``fastlane._lane_off``), each in front of its own real ``grpc.aio``
server with the example's servicers in the same state, get the same raw
request bytes; their answers (status line, headers but ``Date``, names
case-insensitively, body) and whether the connection stays open must be
equal, and the lane must have served the requests it is meant to. Then what a
connection does around lane requests: keep-alive sequences, pipelining, split
packets, drain, a client that leaves, the idle and header timeouts, the
access log.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import re
import socket
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import hdrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NonInteractiveExampleWarning
from multidict import istr

import grpcgw.fastlane as fastlane
import grpcgw.httpserver as httpserver
from examples.ping.gen.example.v1 import ping_pb2
from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import Gateway, GatewayOptions
from grpcgw.cors import CorsOptions
from grpcgw.http11 import RequestRules, render_response, whole_messages
from grpcgw.limits import HttpLimits
from grpcgw.web import create_app, start_server

from .conftest import Servers

# -- raw HTTP on one connection -------------------------------------------------------------

#: (status line, headers without Date as (lower-case name, value), body)
Answer = tuple[str, list[tuple[str, str]], bytes]


async def _read_answer(reader: asyncio.StreamReader, head: bool) -> Answer | None:
    """One response off the connection; None if it closed first."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = raw[:-4].decode("utf-8", "replace").split("\r\n")
    headers = [tuple(line.split(": ", 1)) for line in lines[1:]]
    pairs = [(name.lower(), value) for name, value in headers]
    status = int(lines[0].split(" ")[1])
    length = next((int(v) for n, v in pairs if n == "content-length"), None)
    chunked = any(n == "transfer-encoding" and v == "chunked" for n, v in pairs)
    body = b""
    if head or status in (204, 304) or 100 <= status < 200:
        pass
    elif chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        body = await reader.read()
    return lines[0], [(n, v) for n, v in pairs if n != "date"], body


#: The last request of every exchange: answered if the connection stayed open.
_PROBE = b"GET /v1/ping HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"


async def exchange(
    port: int,
    packets: list[bytes],
    answers: int = 1,
    head: tuple[bool, ...] = (),
    answered: Callable[[], None] | None = None,
) -> tuple[list[Answer | None], Answer | None]:
    """Send ``packets`` on a new connection (one write each, the next once an answer
    came where ``answers`` says so), read ``answers`` responses, then send the probe:
    its answer says whether the connection stayed open (None: it closed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for packet in packets:
            writer.write(packet)
            await writer.drain()
        got = [
            await _read_answer(reader, head[i] if i < len(head) else False) for i in range(answers)
        ]
        if answered is not None:
            answered()
        probe = None
        if got and got[-1] is not None:
            try:
                writer.write(_PROBE)
                await writer.drain()
                probe = await _read_answer(reader, False)
            except ConnectionError:
                probe = None
        return got, probe
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


# -- two servers ---------------------------------------------------------------------------------


@dataclass
class Pair:
    """The same application served with the lane and without."""

    lane: httpserver.HttpServer
    plain: httpserver.HttpServer
    took: int = 0

    @property
    def served(self) -> int:
        lane = self.lane._site._lane
        assert lane is not None, "the lane is not on"
        return lane.served

    async def both(
        self, packets: list[bytes], answers: int = 1, head: tuple[bool, ...] = ()
    ) -> tuple[Any, Any]:
        """The same exchange with each server; ``self.took``: how many of the
        requests before the probe the lane served."""
        before = self.served
        seen: list[int] = []
        with_lane = await exchange(
            self.lane.port, packets, answers, head, lambda: seen.append(self.served)
        )
        self.took = seen[0] - before
        without = await exchange(self.plain.port, packets, answers, head)
        return with_lane, without


async def _serve(
    servers: Servers, lane: bool, options: GatewayOptions | None, limits: HttpLimits | None
) -> httpserver.HttpServer:
    target = await servers.start(PingServicer(), ShelfServicer())
    gateway = Gateway([PingServicer(), ShelfServicer()], target=target, options=options)
    fastlane._lane_off = not lane
    try:
        return await start_server(create_app(gateway), "127.0.0.1:0", limits=limits)
    finally:
        fastlane._lane_off = False


@contextlib.asynccontextmanager
async def pair(
    servers: Servers, options: GatewayOptions | None = None, limits: HttpLimits | None = None
) -> AsyncIterator[Pair]:
    lane = await _serve(servers, True, options, limits)
    plain = await _serve(servers, False, options, limits)
    try:
        assert lane._site._lane is not None
        assert plain._site._lane is None
        yield Pair(lane, plain)
    finally:
        await lane.stop()
        await plain.stop()


def _req(
    method: str,
    target: str,
    headers: list[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    version: str = "1.1",
) -> bytes:
    head = [f"{method} {target} HTTP/{version}", "Host: x"]
    head += [f"{n}: {v}" for n, v in headers]
    if body:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


_JSON = [("Content-Type", "application/json")]
_BIN = base64.b64encode(b"\x00\x01binary").decode()

#: (name, raw request, whether the lane serves it)
CORPUS: list[tuple[str, bytes, bool]] = [
    ("ping", _req("GET", "/v1/ping"), True),
    ("ping query", _req("GET", "/v1/ping?x=1&x=2"), True),
    ("create", _req("POST", "/v1/shelves?shelf_id=a", _JSON, b'{"theme":"t","tags":["x"]}'), True),
    ("create again: servicer error", _req("POST", "/v1/shelves?shelf_id=a", _JSON, b"{}"), True),
    ("create escapes", _req("POST", "/v1/shelves?shelf_id=%41b%20c", _JSON, b"{}"), True),
    ("create plus", _req("POST", "/v1/shelves?shelf_id=p+q", _JSON, b"{}"), True),
    ("create bad escape", _req("POST", "/v1/shelves?shelf_id=%zz", _JSON, b"{}"), True),
    ("create repeated key", _req("POST", "/v1/shelves?shelf_id=r&shelf_id=s", _JSON, b"{}"), True),
    ("create invalid json", _req("POST", "/v1/shelves?shelf_id=j", _JSON, b'{"theme":'), True),
    ("create unknown field", _req("POST", "/v1/shelves?shelf_id=k", _JSON, b'{"nope":1}'), True),
    ("create no body", _req("POST", "/v1/shelves?shelf_id=n", [("Content-Length", "0")]), True),
    ("get", _req("GET", "/v1/shelves/a"), True),
    ("get other binding", _req("GET", "/v1/shelf/a"), True),
    ("get missing", _req("GET", "/v1/shelves/zz"), True),
    ("list", _req("GET", "/v1/shelves?tags=x&tags=y&pageSize=2"), True),
    ("list bad int", _req("GET", "/v1/shelves?pageSize=x"), True),
    ("patch", _req("PATCH", "/v1/shelves/a?updateMask=theme", _JSON, b'{"theme":"u"}'), True),
    ("book", _req("POST", "/v1/shelves/a/books", _JSON, b'{"book":{"title":"T"}}'), True),
    ("book get", _req("GET", "/v1/books/shelves/a/books/1"), True),
    (
        "move",
        _req("POST", "/v1/shelves/a/books/1:move", _JSON, b'{"destination":"shelves/b"}'),
        True,
    ),
    (
        "cover put (HttpBody)",
        _req("PUT", "/v1/shelves/a/books/1/cover", [("Content-Type", "image/png")], b"\x89PNG"),
        True,
    ),
    ("cover get (HttpBody)", _req("GET", "/v1/shelves/a/books/1/cover"), True),
    ("library get", _req("GET", "/v1/library"), True),
    (
        "metadata",
        _req("GET", "/v1/ping", [("Grpc-Metadata-Foo", "bar"), ("grpc-metadata-x-bin", _BIN)]),
        True,
    ),
    ("metadata bad bin", _req("GET", "/v1/ping", [("Grpc-Metadata-X-Bin", "!!!")]), True),
    ("timeout", _req("GET", "/v1/ping", [("Grpc-Timeout", "5S")]), True),
    ("timeout zero", _req("GET", "/v1/ping", [("Grpc-Timeout", "0S")]), True),
    ("timeout garbage", _req("GET", "/v1/ping", [("Grpc-Timeout", "soon")]), True),
    ("request id", _req("GET", "/v1/ping", [("X-Request-Id", "abc-1")]), True),
    (
        "lower-case names",
        b"GET /v1/ping HTTP/1.1\r\nhost: x\r\nuser-agent: t\r\naccept: */*\r\n\r\n",
        True,
    ),
    (
        "odd-case names",
        b"GET /v1/ping HTTP/1.1\r\nHOST: x\r\nX-FoO: 1\r\nCoNtEnT-TyPe: text/plain\r\n\r\n",
        True,
    ),
    ("tab and spaces", b"GET /v1/ping HTTP/1.1\r\nHost:x\r\nX-A: \t a b \t\r\n\r\n", True),
    ("connection close", _req("GET", "/v1/ping", [("Connection", "close")]), True),
    ("connection keep-alive", _req("GET", "/v1/ping", [("Connection", "Keep-Alive")]), True),
    ("delete", _req("DELETE", "/v1/shelves/b"), True),
    ("delete missing", _req("DELETE", "/v1/shelves/b"), True),
    # what goes to aiohttp
    ("head", _req("HEAD", "/v1/ping"), False),
    ("head custom", _req("HEAD", "/v1/library"), False),
    ("options", _req("OPTIONS", "/v1/ping"), False),
    ("http/1.0", _req("GET", "/v1/ping", version="1.0"), False),
    (
        "http/1.0 keep-alive",
        _req("GET", "/v1/ping", [("Connection", "keep-alive")], version="1.0"),
        False,
    ),
    ("404", _req("GET", "/nope"), False),
    ("405", _req("PUT", "/v1/ping"), False),
    ("stream", _req("GET", "/v1/shelves:watch"), False),
    ("client stream", _req("POST", "/v1/books:import", _JSON, b'{"parent":"shelves/a"}'), False),
    ("escaped slash", _req("GET", "/v1/shelf/shelves%2Fa"), False),
    ("dot segment", _req("GET", "/v1/./ping"), False),
    ("double slash", _req("GET", "//v1/ping"), False),
    ("absolute form", b"GET http://x/v1/ping HTTP/1.1\r\nHost: x\r\n\r\n", False),
    (
        "absolute form other host",
        b"GET http://a.example/v1/ping HTTP/1.1\r\nHost: x\r\n\r\n",
        False,
    ),
    ("api docs", _req("GET", "/openapi.json"), False),
    (
        "oversize body",
        _req("POST", "/v1/shelves?shelf_id=big", _JSON, b"[" + b" " * 5000 + b"]"),
        False,
    ),
    (
        "chunked",
        b"POST /v1/shelves?shelf_id=c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\n{}\r\n0\r\n\r\n",
        False,
    ),
    ("expect", _req("POST", "/v1/shelves?shelf_id=e", [("Expect", "100-continue")], b"{}"), False),
    ("expect other", _req("POST", "/v1/shelves?shelf_id=e", [("Expect", "x")], b"{}"), False),
    ("expect no route", _req("POST", "/nope", [("Expect", "100-continue")], b"{}"), False),
    ("expect wrong method", _req("POST", "/v1/ping", [("Expect", "100-continue")], b"{}"), False),
    ("expect other no route", _req("GET", "/nope", [("Expect", "x")]), False),
    (
        "chunk extension over the line limit",
        b"POST /v1/shelves?shelf_id=c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2;" + b"e" * 9000 + b"\r\n{}\r\n0\r\n\r\n",
        False,
    ),
    (
        "chunk size not hexadecimal",
        b"POST /v1/shelves?shelf_id=c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\n{}\r\n0\r\n\r\n",
        False,
    ),
    (
        "bad trailer",
        b"POST /v1/shelves?shelf_id=c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\n{}\r\n0\r\nX(A): 1\r\n\r\n",
        False,
    ),
    ("gzip", _req("POST", "/v1/shelves?shelf_id=g", [("Content-Encoding", "gzip")], b"{}"), False),
    ("empty value", b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Empty:\r\nX-B: 1\r\n\r\n", False),
    ("repeated name", b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\n\r\n", False),
    (
        "repeated metadata",
        b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nGrpc-Metadata-A: 1\r\nGrpc-Metadata-A: 2\r\n\r\n",
        False,
    ),
    ("repeated host", b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", False),
    ("no host", b"GET /v1/ping HTTP/1.1\r\nX-A: 1\r\n\r\n", False),
    ("obs-fold", b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n", False),
    ("bare LF", b"GET /v1/ping HTTP/1.1\nHost: x\n\n", False),
    ("bare LF in field", b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-A: 1\nX-B: 2\r\n\r\n", False),
    ("NUL", b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", False),
    ("CTL", b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", False),
    ("obs-text", b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-A: caf\xc3\xa9\r\n\r\n", False),
    ("space before colon", b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n", False),
    ("bad name", b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n", False),
    (
        "two content-lengths",
        b"POST /v1/shelves?shelf_id=t HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
        False,
    ),
    (
        "signed content-length",
        b"POST /v1/shelves?shelf_id=t HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}",
        False,
    ),
    (
        "connection upgrade",
        _req("GET", "/v1/ping", [("Connection", "Upgrade"), ("Upgrade", "websocket")]),
        False,
    ),
    ("connection list", _req("GET", "/v1/ping", [("Connection", "close, te")]), False),
    ("long field", _req("GET", "/v1/ping", [("X-Long", "v" * 9000)]), False),
    ("long target", _req("GET", "/v1/ping?" + "q" * 9000), False),
    ("many fields", _req("GET", "/v1/ping", [(f"X-{i}", "1") for i in range(140)]), False),
    (
        "head over the limit",
        _req("GET", "/v1/ping", [(f"X-{i}", "v" * 8000) for i in range(9)]),
        False,
    ),
    ("lower-case method", _req("get", "/v1/ping"), False),
    ("garbage", b"\x16\x03\x01\x00\x05hello\r\n\r\n", False),
    ("fragment", _req("GET", "/v1/ping#frag"), False),
]


@pytest.mark.parametrize("cors", [False, True], ids=["plain", "cors"])
async def test_the_corpus_answers_alike(servers: Servers, cors: bool) -> None:
    """Every request of the corpus, alone on a new connection then followed by a
    probe on the same connection: the same answers with the lane and without."""
    options = GatewayOptions(
        api_docs=True,
        max_request_body=4096,
        cors=CorsOptions(allow_origins=["https://a.example"]) if cors else None,
    )
    async with pair(servers, options) as both:
        for name, raw, lane in CORPUS:
            if cors:
                raw = raw.replace(b"Host: x\r\n", b"Host: x\r\nOrigin: https://a.example\r\n", 1)
            head = (raw.startswith(b"HEAD "),)
            with_lane, without = await both.both([raw], head=head)
            assert with_lane == without, name
            assert both.took == (1 if lane else 0), name
        # A preflight, for the CORS application (aiohttp's path both times).
        preflight = _req(
            "OPTIONS",
            "/v1/ping",
            [("Origin", "https://a.example"), ("Access-Control-Request-Method", "GET")],
        )
        with_lane, without = await both.both([preflight])
        assert with_lane == without


# -- generated requests --------------------------------------------------------------------------

_SETTINGS = settings(
    max_examples=int(os.environ.get("GRPCGW_LANE_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_SEGMENT = st.text(alphabet="abcxyz019-._~", min_size=1, max_size=6).filter(
    lambda s: s not in (".", "..")
)
_ROUTES = st.one_of(
    st.just(("GET", "/v1/ping")),
    st.builds(lambda s: ("GET", f"/v1/shelves/{s}"), _SEGMENT),
    st.builds(lambda s: ("GET", f"/v1/shelf/{s}"), _SEGMENT),
    st.just(("GET", "/v1/shelves")),
    st.just(("POST", "/v1/shelves")),
    st.builds(lambda s: ("PATCH", f"/v1/shelves/{s}"), _SEGMENT),
    st.builds(lambda s: ("DELETE", f"/v1/shelves/{s}"), _SEGMENT),
    st.builds(lambda s: ("POST", f"/v1/shelves/{s}/books"), _SEGMENT),
    st.builds(lambda s, b: ("GET", f"/v1/books/shelves/{s}/books/{b}"), _SEGMENT, _SEGMENT),
    st.builds(lambda s, b: ("POST", f"/v1/shelves/{s}/books/{b}:move"), _SEGMENT, _SEGMENT),
    st.builds(lambda s, b: ("GET", f"/v1/shelves/{s}/books/{b}/cover"), _SEGMENT, _SEGMENT),
    st.just(("GET", "/v1/library")),
    st.sampled_from(
        [
            ("HEAD", "/v1/ping"),
            ("PUT", "/v1/ping"),
            ("GET", "/v1/nope"),
            ("GET", "/v1/shelves:watch"),
        ]
    ),
)
_QUERY_KEY = st.sampled_from(
    ["shelf_id", "shelfId", "pageSize", "tags", "genre", "force", "x", "a.b"]
)
_QUERY_VALUE = st.text(alphabet="abz09-._~!$'()*+,;=:@/?%41", max_size=8)
#: Every name aiohttp's parser spells its own way, and some it does not know.
_KNOWN = [
    *sorted(
        {str(v) for v in vars(hdrs).values() if isinstance(v, istr)}
        - {"Transfer-Encoding", "Content-Encoding", "Expect", "Upgrade", "Connection", "Host"}
        - {"Content-Length", "TE", "Sec-WebSocket-Key1"}
    ),
    "Grpc-Timeout",
    "X-Request-Id",
    "X-Forwarded-For",
]
_NAME = st.one_of(
    st.sampled_from(_KNOWN).flatmap(
        lambda n: st.sampled_from([n, n.lower(), n.upper(), n.swapcase()])
    ),
    st.builds(lambda s: f"Grpc-Metadata-{s}", st.text(alphabet="abcXYZ-_", min_size=1, max_size=6)),
    st.text(alphabet="abcXYZ09-_!#$&'*+.^`|~", min_size=1, max_size=10),
).map(lambda n: n.swapcase() if len(n) % 3 == 0 else n)
_VALUE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)
_BODY = st.one_of(
    st.just(b""),
    st.builds(lambda t: (f'{{"theme":"{t}"}}').encode(), st.text(alphabet="abc ", max_size=5)),
    st.builds(
        lambda t: (f'{{"title":"{t}","tags":["x"]}}').encode(), st.text(alphabet="abc", max_size=5)
    ),
    st.binary(max_size=20),
)


@st.composite
def _requests(draw: st.DrawFn) -> bytes:
    method, path = draw(_ROUTES)
    pairs = draw(st.lists(st.tuples(_QUERY_KEY, _QUERY_VALUE), max_size=3))
    target = path + ("?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else "")
    names: set[str] = {"host", "content-length"}
    headers = []
    for name, value in draw(st.lists(st.tuples(_NAME, _VALUE), max_size=5)):
        if name.lower() in names or name.lower() in ("transfer-encoding", "expect", "upgrade"):
            continue
        names.add(name.lower())
        headers.append((name, value))
    body = draw(_BODY) if method in ("POST", "PATCH", "PUT") else b""
    if draw(st.booleans()):
        headers.append(("Connection", draw(st.sampled_from(["close", "keep-alive", "Close"]))))
    return _req(method, target, headers, body)


@pytest.fixture
async def generated_pair(servers: Servers) -> AsyncIterator[Pair]:
    async with pair(servers, GatewayOptions(max_request_body=4096)) as both:
        yield both


@_SETTINGS
@given(raw=_requests())
async def test_generated_requests_answer_alike(generated_pair: Pair, raw: bytes) -> None:
    head = (raw.startswith(b"HEAD "),)
    with_lane, without = await generated_pair.both([raw], head=head)
    assert with_lane == without, raw


async def test_the_generated_requests_reach_the_lane(servers: Servers) -> None:
    """The property above is not vacuous: most generated requests take the lane."""
    async with pair(servers) as both:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NonInteractiveExampleWarning)
            raws = [_requests().example() for _ in range(30)]
        for raw in raws:
            await exchange(both.lane.port, [raw], head=(raw.startswith(b"HEAD "),))
        assert both.served >= 10


# -- one connection --------------------------------------------------------------------------------

_PING = _req("GET", "/v1/ping")


async def test_keep_alive_mixes_lane_and_aiohttp(servers: Servers) -> None:
    sequence = [
        _PING,
        _req("HEAD", "/v1/ping"),
        _PING,
        _req("GET", "/nope"),
        _req("POST", "/v1/shelves?shelf_id=k", _JSON, b"{}"),
        _req("GET", "/v1/shelves:watch"),
        _req("GET", "/v1/shelves/k"),
        _req("OPTIONS", "/v1/ping"),
        _PING,
    ]
    heads = tuple(r.startswith(b"HEAD ") for r in sequence)
    async with pair(servers) as both:
        answers = []
        for port in (both.lane.port, both.plain.port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            got = []
            for raw, head in zip(sequence, heads, strict=True):
                writer.write(raw)
                await writer.drain()
                got.append(await _read_answer(reader, head))
            writer.close()
            answers.append(got)
        assert answers[0] == answers[1]
        assert all(a is not None for a in answers[0])
        assert both.served == 5
        assert both.lane.runner.server.requests_count == both.plain.runner.server.requests_count


async def test_pipelined_requests_answer_in_order(servers: Servers) -> None:
    """Several requests in one packet go to aiohttp; the lane takes up after them."""
    packet = (
        _PING
        + _req("GET", "/v1/shelves/none")
        + _req("POST", "/v1/shelves?shelf_id=p", _JSON, b"{}")
    )
    async with pair(servers) as both:
        with_lane, without = await both.both([packet, _PING], answers=4)
        assert with_lane == without
        assert [a[0] for a in with_lane[0]] == [
            "HTTP/1.1 200 OK",
            "HTTP/1.1 404 Not Found",
            "HTTP/1.1 201 Created",
            "HTTP/1.1 200 OK",
        ]
        # The probe at least (the last ping too if it came once the others were
        # answered): the lane takes up again after aiohttp served a pipeline.
        assert both.served - both.took == 1


async def test_a_request_split_across_packets_goes_to_aiohttp(servers: Servers) -> None:
    async with pair(servers) as both:
        for server in (both.lane, both.plain):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            first, second = _PING[:20], _PING[20:]
            writer.write(first)
            await writer.drain()
            handler = server.runner.server
            assert handler is not None
            # The first half was read on its own (a head begun, not complete).
            await _until(lambda h=handler: any(c._head_bytes for c in h.connections))
            writer.write(second)
            await writer.drain()
            answer = await _read_answer(reader, False)
            assert answer is not None
            assert answer[0] == "HTTP/1.1 200 OK"
            writer.close()
        assert both.served == 0


class SlowPing(PingServicer):
    """A ping that waits to be let go, and records whether it was cancelled."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def Ping(self, request: Any, context: Any) -> Any:
        self.entered.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return ping_pb2.PingResponse(message="late")


async def _slow_server(servers: Servers, lane: bool, **limits: Any) -> tuple[SlowPing, Any]:
    slow = SlowPing()
    target = await servers.start(slow, ShelfServicer())
    gateway = Gateway([PingServicer(), ShelfServicer()], target=target)
    fastlane._lane_off = not lane
    try:
        server = await start_server(create_app(gateway), "127.0.0.1:0", limits=HttpLimits(**limits))
    finally:
        fastlane._lane_off = False
    return slow, server


async def _until(condition: Callable[[], bool], within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not condition():
        assert loop.time() < end, "condition not met in time"
        await asyncio.sleep(0)


@pytest.mark.parametrize("lane", [True, False], ids=["lane", "aiohttp"])
async def test_bytes_behind_a_lane_request_wait_their_turn(servers: Servers, lane: bool) -> None:
    slow, server = await _slow_server(servers, lane)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(_PING)
        await writer.drain()
        await asyncio.wait_for(slow.entered.wait(), 10)
        writer.write(_req("GET", "/v1/shelves/none") + _req("GET", "/v1/library"))
        await writer.drain()
        writer.write(_req("GET", "/nope"))
        await writer.drain()
        slow.release.set()
        got = [await _read_answer(reader, False) for _ in range(4)]
        assert [a[0] for a in got if a] == [
            "HTTP/1.1 200 OK",
            "HTTP/1.1 404 Not Found",
            "HTTP/1.1 200 OK",
            "HTTP/1.1 404 Not Found",
        ]
        assert got[0] is not None
        assert got[0][2] == b'{"message":"late"}'
        writer.close()
        assert (server._site._lane is not None and server._site._lane.served >= 1) == lane
    finally:
        await server.stop()


@pytest.mark.parametrize("lane", [True, False], ids=["lane", "aiohttp"])
async def test_drain_lets_a_lane_request_finish_then_closes(servers: Servers, lane: bool) -> None:
    slow, server = await _slow_server(servers, lane)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(_PING)
    await writer.drain()
    await asyncio.wait_for(slow.entered.wait(), 10)
    stopping = asyncio.create_task(server.stop())
    await _until(lambda: server._site.connections == 1 and not server._site._accepting)
    slow.release.set()
    answer = await _read_answer(reader, False)
    assert answer is not None
    assert answer[0] == "HTTP/1.1 200 OK"
    assert answer[2] == b'{"message":"late"}'
    assert ("connection", "close") not in answer[1]  # as aiohttp: no header, then the close
    assert await asyncio.wait_for(reader.read(), 10) == b""
    await asyncio.wait_for(stopping, 30)
    assert not slow.cancelled.is_set()


@pytest.mark.parametrize("lane", [True, False], ids=["lane", "aiohttp"])
async def test_a_client_that_leaves_cancels_the_call(servers: Servers, lane: bool) -> None:
    slow, server = await _slow_server(servers, lane)
    try:
        _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(_PING)
        await writer.drain()
        await asyncio.wait_for(slow.entered.wait(), 10)
        writer.close()
        await asyncio.wait_for(slow.cancelled.wait(), 10)
        await _until(lambda: server.connections == 0)
        assert (server._site._lane is not None and server._site._lane.served == 1) == lane
    finally:
        await server.stop()


@pytest.mark.parametrize("lane", [True, False], ids=["lane", "aiohttp"])
async def test_idle_timeout_closes_after_lane_requests(servers: Servers, lane: bool) -> None:
    _, server = await _slow_server(servers, lane, idle_timeout=0.3)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        for _ in range(3):
            writer.write(_req("GET", "/v1/library"))
            await writer.drain()
            answer = await _read_answer(reader, False)
            assert answer is not None
            assert answer[0] == "HTTP/1.1 200 OK"
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the server
        assert (server._site._lane is not None and server._site._lane.served == 3) == lane
    finally:
        await server.stop()


@pytest.mark.parametrize("lane", [True, False], ids=["lane", "aiohttp"])
async def test_a_lane_request_outlasting_the_idle_timeout_is_answered(
    servers: Servers, lane: bool
) -> None:
    slow, server = await _slow_server(servers, lane, idle_timeout=0.2)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(_PING)
        await writer.drain()
        await asyncio.wait_for(slow.entered.wait(), 10)
        loop = asyncio.get_running_loop()
        # Past the idle timeout while the call is in flight: wait on the server's
        # clock through a future it resolves (no sleep of ours).
        passed = loop.create_future()
        loop.call_later(0.5, passed.set_result, None)
        await passed
        slow.release.set()
        answer = await _read_answer(reader, False)
        assert answer is not None
        assert answer[2] == b'{"message":"late"}'
    finally:
        await server.stop()


@pytest.mark.parametrize("lane", [True, False], ids=["lane", "aiohttp"])
async def test_header_timeout_after_a_lane_request(servers: Servers, lane: bool) -> None:
    _, server = await _slow_server(servers, lane, header_timeout=0.3)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(_req("GET", "/v1/library"))
        await writer.drain()
        assert (await _read_answer(reader, False)) is not None
        writer.write(b"GET /v1/library HTTP/1.1\r\nHo")
        await writer.drain()
        answer = await asyncio.wait_for(_read_answer(reader, False), 10)
        assert answer is not None
        assert answer[0] == "HTTP/1.1 408 Request Timeout"
    finally:
        await server.stop()


async def test_access_log_lines_are_equal(
    servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    options = GatewayOptions(access_log=True)
    sequence = [
        _req("GET", "/v1/ping", [("X-Request-Id", "r1")]),
        _req("POST", "/v1/shelves?shelf_id=l", [*_JSON, ("X-Request-Id", "r2")], b'{"theme":"t"}'),
        _req("POST", "/v1/shelves?shelf_id=l", [*_JSON, ("X-Request-Id", "r3")], b"{}"),
        _req("GET", "/v1/shelves/none", [("X-Request-Id", "r4")]),
    ]
    keys = ("method", "path", "route", "rpc", "status", "grpc_code", "bytes_in", "bytes_out")

    def line(record: logging.LogRecord) -> tuple[Any, ...]:
        # The probe's request id is made per request; the duration is the duration.
        request_id = record.request_id if record.request_id.startswith("r") else "made"
        text = re.sub(r"[0-9.]+ms", "ms", record.getMessage()).replace(
            record.request_id, request_id
        )
        return (text, request_id, record.remote_addr, *(getattr(record, k) for k in keys))

    lines = []
    async with pair(servers, options) as both:
        for port in (both.lane.port, both.plain.port):
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="grpcgw.access"):
                for raw in sequence:
                    await exchange(port, [raw])
            records = [r for r in caplog.records if r.name == "grpcgw.access"]
            lines.append([line(r) for r in records])
        assert both.served == 2 * len(sequence)
    assert lines[0] == lines[1]
    assert len(lines[0]) == 2 * len(sequence)  # each request and its probe


# -- the pure parts --------------------------------------------------------------------------------

_RULES = RequestRules(
    methods=("GET", "POST"),
    max_line=100,
    max_field=50,
    max_headers=4,
    max_head=200,
    max_body=10,
    names={"host": "Host", "content-length": "Content-Length"},
)


def test_parse_reads_one_whole_simple_request() -> None:
    got = _RULES.parse(
        b"POST /a?b=%41 HTTP/1.1\r\nhost: x\r\nX-A:  1 2\t\r\ncontent-length: 2\r\n\r\n{}"
    )
    assert got is not None
    assert (got.method, got.target, got.body, got.keep_alive) == ("POST", "/a?b=%41", b"{}", True)
    assert got.headers == [("Host", "x"), ("X-A", "1 2"), ("Content-Length", "2")]
    closing = _RULES.parse(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: CLOSE\r\n\r\n")
    assert closing is not None
    assert not closing.keep_alive


@pytest.mark.parametrize(
    "raw",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r",  # incomplete
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",  # two
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n{}",  # body short
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n{}",  # bytes after
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n" + b"x" * 11,  # too large
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 02\r\n\r\n{}",
        b"PUT / HTTP/1.1\r\nHost: x\r\n\r\n",  # method not in the rules
        b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",  # 5 fields
        b"GET / HTTP/1.1\r\nHost: x\r\nA: " + b"1" * 60 + b"\r\n\r\n",  # field too long
        b"GET /" + b"a" * 100 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # line too long
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n",
    ],
)
def test_parse_leaves_everything_else(raw: bytes) -> None:
    assert _RULES.parse(raw) is None


def test_whole_messages_follows_llhttp_framing() -> None:
    one = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
    assert whole_messages(one)
    assert whole_messages(one + one)
    assert not whole_messages(one[:-1])
    assert not whole_messages(one + one[:10])
    assert not whole_messages(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    assert not whole_messages(b"GET / HTTP/1.1\nHost: x\r\n\r\n")
    assert not whole_messages(b"")


def test_the_lane_knows_aiohttps_header_names() -> None:
    """The names learnt from aiohttp's parser are what it gives a handler."""
    loop = asyncio.new_event_loop()
    try:
        names = fastlane.learn_names(loop)
    finally:
        loop.close()
    assert names["content-type"] == "Content-Type"
    assert names["x-request-id"] == "X-Request-ID"
    assert "grpc-metadata-foo" not in names


@pytest.mark.parametrize("lane", [True, False], ids=["lane", "aiohttp"])
async def test_send_timeout_aborts_a_client_that_does_not_read(
    servers: Servers, lane: bool
) -> None:
    """A lane answer too large for the socket buffers, to a client that reads
    nothing: the send timeout aborts the connection, as for aiohttp's answers."""
    target = await servers.start(PingServicer(), ShelfServicer())
    options = GatewayOptions(max_response_message=64 << 20)
    gateway = Gateway([PingServicer(), ShelfServicer()], target=target, options=options)
    fastlane._lane_off = not lane
    try:
        server = await start_server(
            create_app(gateway), "127.0.0.1:0", limits=HttpLimits(send_timeout=0.3)
        )
    finally:
        fastlane._lane_off = False
    try:
        theme = b"t" * (3 << 20)  # three of them: a 9 MiB list, past any socket buffer
        for i in range(3):
            raw = _req("POST", f"/v1/shelves?shelf_id=big{i}", _JSON, b'{"theme":"%s"}' % theme)
            created = await exchange(server.port, [raw])
            assert created[0][0] is not None
            assert created[0][0][0] == "HTTP/1.1 201 Created"
        served = server._site._lane.served if server._site._lane is not None else 0
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(_req("GET", "/v1/shelves"))
        await _until(lambda: server.connections == 1)
        await _until(lambda: server.connections == 0, within=30)  # aborted, unread
        sock.close()
        if server._site._lane is not None:
            assert server._site._lane.served == served + 1
    finally:
        await server.stop()


@pytest.mark.parametrize(
    ("raised", "status"), [(RuntimeError("bug"), 500), (TimeoutError(), 504)], ids=["500", "504"]
)
async def test_a_failure_inside_the_gateway_answers_alike(
    servers: Servers, caplog: pytest.LogCaptureFixture, raised: Exception, status: int
) -> None:
    """What escapes ``Gateway.dispatch`` (a bug) is answered by the edge as aiohttp's
    path answers it, with the same log line."""

    async def failing(*_: Any) -> Any:
        raise raised

    async with pair(servers) as both:
        for server in (both.lane, both.plain):
            resource = next(
                r for r in server.runner.app.router.resources() if hasattr(r, "gateway")
            )
            resource.gateway.dispatch = failing  # type: ignore[method-assign]
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="grpcgw"):
            with_lane, without = await both.both([_PING])
        assert with_lane == without
        assert both.took == 1
        assert with_lane[0][0] is not None
        assert with_lane[0][0][0].startswith(f"HTTP/1.1 {status} ")
        assert with_lane[1] is None  # the connection closed after the answer
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == (["unhandled error serving GET /v1/ping"] * 2 if status == 500 else [])


# -- render_response against aiohttp's own writer -------------------------------------------

_HEADER_NAMES = st.sampled_from(
    [
        "Content-Type", "content-type", "Content-Length", "content-length", "Date", "Server",
        "server", "Connection", "Transfer-Encoding", "Grpc-Metadata-A", "X-A", "x-a", "Allow",
        "Access-Control-Allow-Origin", "Vary",
    ]
)  # fmt: skip
_HEADER_VALUES = st.one_of(
    st.sampled_from(["0", "3", "12", "x", "close", "keep-alive", "chunked", "a b", ""]),
    st.sampled_from([httpserver.SERVER_SOFTWARE, "grpcgw", " 5 ", "+4", "1_0", "\u0663"]),
    st.text(alphabet=st.characters(min_codepoint=0x09, max_codepoint=0x7F), max_size=6),
    st.text(alphabet="é\u2603\ud800x", max_size=3),
)
_STATUSES = st.sampled_from([200, 201, 204, 304, 101, 400, 404, 499, 500, 503, 599])


@pytest.fixture
async def echo_server() -> AsyncIterator[tuple[httpserver.HttpServer, list[Any]]]:
    """An aiohttp handler answering ``web.Response(status=, body=, headers=)`` as told,
    served by ``start_server`` (grpcgw's ``Server`` name)."""
    from aiohttp import web

    told: list[Any] = [None]

    async def answer(request: web.Request) -> web.StreamResponse:
        status, headers, body = told[0]
        return web.Response(status=status, body=body or None, headers=headers)

    app = web.Application()
    app.router.add_get("/x", answer)
    server = await start_server(app, "127.0.0.1:0")
    yield server, told
    await server.stop()


@_SETTINGS
@given(
    status=_STATUSES,
    headers=st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=5),
    body=st.one_of(st.just(b""), st.binary(min_size=1, max_size=8)),
    keep_alive=st.booleans(),
)
async def test_render_response_writes_what_aiohttp_writes(
    echo_server: tuple[httpserver.HttpServer, list[Any]],
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    keep_alive: bool,
) -> None:
    server, told = echo_server
    told[0] = (status, headers, body)
    request = b"GET /x HTTP/1.1\r\nHost: x\r\n" + (b"" if keep_alive else b"Connection: close\r\n")
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(request + b"\r\n")
        await writer.drain()
        # Without keep-alive, all the server wrote before it closed; with it, the head.
        got = await asyncio.wait_for(reader.read(), 10) if not keep_alive else b""
        if keep_alive:
            with contextlib.suppress(asyncio.IncompleteReadError):
                got = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        if not got:  # aiohttp wrote nothing: its writer refused
            with pytest.raises((ValueError, TypeError)):
                render_response(
                    status, headers, body, keep_alive=keep_alive, date="d",
                    software=httpserver.SERVER_SOFTWARE, server_name=httpserver.SERVER_NAME,
                )  # fmt: skip
            return
        head = got[: got.index(b"\r\n\r\n")]
        date = next(
            line[6:].decode() for line in head.split(b"\r\n") if line.lower().startswith(b"date: ")
        )
        expected = render_response(
            status, headers, body, keep_alive=keep_alive, date=date,
            software=httpserver.SERVER_SOFTWARE, server_name=httpserver.SERVER_NAME,
        )  # fmt: skip
        if keep_alive and len(expected) > len(got):
            got += await asyncio.wait_for(reader.readexactly(len(expected) - len(got)), 10)
        assert got == expected
        if keep_alive:  # nothing more was written
            writer.write(b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            await writer.drain()
            assert (await asyncio.wait_for(reader.read(), 10)).startswith(b"HTTP/1.1 404 ")
    finally:
        writer.close()


async def test_the_proxy_takes_the_lane_and_counts_its_requests(servers: Servers) -> None:
    """``grpcgw proxy``'s application (its probes and counting middleware) takes the
    lane too: the same answers, the probes its middleware's, every request counted."""
    from grpcgw.proxy._config import load_config
    from grpcgw.proxy._serve import start_proxy
    from grpcgw.settings import Layer

    sequence = [
        _PING,
        _req("GET", "/readyz"),
        _req("GET", "/livez"),
        _req("POST", "/readyz"),
        _req("POST", "/v1/shelves?shelf_id=x", _JSON, b'{"theme":"t"}'),
        _req("GET", "/v1/shelves/x"),
        _req("GET", "/v1/shelves/missing"),
    ]
    answers = []
    counts = []
    lanes = []
    for lane in (True, False):
        target = await servers.start(PingServicer(), ShelfServicer())
        given = {
            "target": target,
            "imports": ("example.v1.ping_pb2", "example.v1.shelf_pb2"),
            "http_address": "127.0.0.1:0",
        }
        config, _ = load_config(Layer(given, {}), {})
        fastlane._lane_off = not lane
        try:
            proxy = await start_proxy(config)
        finally:
            fastlane._lane_off = False
        try:
            assert proxy.server is not None
            got = [await exchange(proxy.http_port, [raw]) for raw in sequence]
            # The request ids the proxy makes and answers with aside.
            answers.append([[_without_request_id(a) for a in g[0]] for g in got])
            counts.append((proxy.served, proxy.in_flight))
            site_lane = proxy.server._site._lane
            lanes.append(None if site_lane is None else site_lane.served)
        finally:
            await proxy.stop()
    assert answers[0] == answers[1]
    assert counts[0] == counts[1]
    assert lanes[1] is None
    assert lanes[0] is not None
    assert lanes[0] >= 4


def _without_request_id(answer: Answer | None) -> Any:
    if answer is None:
        return None
    status, headers, body = answer
    return status, [h for h in headers if h[0] != "x-request-id"], body
