"""What hostile HTTP input does: one table, run against ``serve_local`` and ``grpcgw proxy``.

Each :class:`Case` is the bytes a client sends on a fresh connection and what
must come back: the HTTP status and, for an error, the ``google.rpc.Status``
code (the body is then ``{"code", "message", "details"}`` with a message that
names no internals). A status of 0 means the server closes without a word.
The runner (test_hostile_http.py) also checks that the server logged no
traceback and nothing at WARNING or above, and that it still serves.

The routes are the suite's servicers (tests/reliability/apps.py): the ping and
shelf examples, the echo service (``/my/path``, ``/{name}``, ``/hang``,
``/fail``) and the stream service (``/count/{n}``, ``/download/{n}``).

Sections follow the request: the request line, headers, headers that become
metadata, ``Grpc-Timeout``, framing (``Content-Length``, chunks), encodings,
bodies, paths, methods, queries.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass

from aiohttp.compression_utils import HAS_BROTLI

from grpcgw.httpserver import accepted_encodings

try:
    from aiohttp.compression_utils import HAS_ZSTD
except ImportError:  # older aiohttp
    HAS_ZSTD = False

# google.rpc.Code values, by name, for the table.
OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND = 0, 1, 2, 3, 4, 5
PERMISSION_DENIED, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, UNIMPLEMENTED = 7, 8, 9, 12
INTERNAL, UNAVAILABLE = 13, 14

PONG = b'{"message":"Pong"}'


@dataclass(frozen=True)
class Case:
    """One hostile request and the answer it must get."""

    name: str
    raw: bytes
    #: The HTTP status; 0: the server closes the connection without answering.
    status: int
    #: The ``google.rpc.Status`` code of an error body; ``None``: no error body.
    code: int | None = None
    #: The exact body of a success, where it matters.
    body: bytes | None = None
    #: A HEAD request: the response has no body.
    head: bool = False
    #: Text the error's message must hold.
    message: str = ""
    #: Headers the response must have (lowercase names).
    headers: tuple[tuple[str, str], ...] = ()
    #: The part of the request the case is about (for counts in docs/reliability.md).
    section: str = ""


def request(
    method: str = "GET",
    target: str = "/v1/ping",
    headers: list[tuple[str, str]] | tuple[tuple[str, str], ...] = (),
    body: bytes | None = None,
    *,
    version: str = "HTTP/1.1",
    host: bool = True,
    length: bool = True,
    close: bool = True,
) -> bytes:
    """A request as bytes: UTF-8 text (lone surrogates as the bytes they escape)."""
    lines = [f"{method} {target} {version}"]
    if host:
        lines.append("Host: gateway.test")
    if close:
        lines.append("Connection: close")
    lines += [f"{k}: {v}" for k, v in headers]
    if body is not None and length:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
    return head + (body or b"")


def post_json(target: str, body: bytes | str, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return request("POST", target, [("Content-Type", "application/json"), *headers], data)


CASES: list[Case] = []
_section = ""


def section(name: str) -> None:
    global _section
    _section = name


def case(name: str, raw: bytes, status: int, code: int | None = None, **kw: object) -> None:
    if status >= 400 and code is None and not kw.get("head"):
        raise ValueError(f"{name}: an error case needs its Status code")
    CASES.append(Case(name, raw, status, code, section=_section, **kw))  # type: ignore[arg-type]


# -- the request line ------------------------------------------------------------------

section("request line")

case("garbage", b"GARBAGE\r\n\r\n", 400, INVALID_ARGUMENT)
case("binary noise", bytes(range(1, 32)) + b"\r\n\r\n", 400, INVALID_ARGUMENT)
case(
    "control char in method", b"G\x01T /v1/ping HTTP/1.1\r\nHost: x\r\n\r\n", 400, INVALID_ARGUMENT
)
case("NUL in method", b"GET\x00 /v1/ping HTTP/1.1\r\nHost: x\r\n\r\n", 400, INVALID_ARGUMENT)
case("method only", b"GET\r\n\r\n", 400, INVALID_ARGUMENT)
# aiohttp's parser (llhttp) reads a request line without a version as HTTP/1.1 and
# one with two spaces as one; harmless: the request is answered as it would be.
case("no version", b"GET /v1/ping\r\nHost: x\r\n\r\n", 200, body=PONG)
case("version HTTP/9.9", request(version="HTTP/9.9"), 400, INVALID_ARGUMENT)
case("version HTTP/1.x", request(version="HTTP/1.x"), 400, INVALID_ARGUMENT)
case("version lowercase", request(version="http/1.1"), 400, INVALID_ARGUMENT)
case("version HTTP/2.0", request(version="HTTP/2.0"), 200, body=PONG)  # answered as 1.1
case("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, INVALID_ARGUMENT)
case(
    "extra word after version", b"GET /v1/ping HTTP/1.1 x\r\nHost: x\r\n\r\n", 400, INVALID_ARGUMENT
)
case(
    "two spaces", b"GET  /v1/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, body=PONG
)
case("tab separator", b"GET\t/v1/ping HTTP/1.1\r\nHost: x\r\n\r\n", 400, INVALID_ARGUMENT)
case("space in target", b"GET /v1/p ing HTTP/1.1\r\nHost: x\r\n\r\n", 400, INVALID_ARGUMENT)
case("control char in target", b"GET /v1/\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400, INVALID_ARGUMENT)
case("DEL in target", b"GET /v1/\x7f HTTP/1.1\r\nHost: x\r\n\r\n", 400, INVALID_ARGUMENT)
case("raw UTF-8 in target", request(target="/v1/shelves/caf\u00e9"), 400, INVALID_ARGUMENT)
case("raw byte 0xff in target", b"GET /v1/\xff HTTP/1.1\r\nHost: x\r\n\r\n", 400, INVALID_ARGUMENT)
case("target without slash", request(target="v1/ping"), 400, INVALID_ARGUMENT)
case("absolute-form target", request(target="http://gateway.test/v1/ping"), 200, body=PONG)
case("asterisk target", request("OPTIONS", "*"), 404, NOT_FOUND)
# No path at all: the path is "/" (RFC 9112 3.2.2), EchoService.Echo's binding.
case(
    "absolute-form without a path",
    request(target="http://gateway.test?parameter2=x"),
    200,
    body=b'{"request":{"parameter2":"x","name":"","parameter1":[],"multiValueName":[],'
    b'"test":[],"key":"","myKey":[]},"metadata":{}}',
)
case("authority-form CONNECT", request("CONNECT", "gateway.test:443"), 404, NOT_FOUND)
case("bare LF line ends", b"GET /v1/ping HTTP/1.1\nHost: x\n\n", 400, INVALID_ARGUMENT)
case("bare CR line ends", b"GET /v1/ping HTTP/1.1\rHost: x\r\r", 400, INVALID_ARGUMENT)
case(
    "TLS ClientHello",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 32,
    400,
    INVALID_ARGUMENT,
)
case("SSH banner", b"SSH-2.0-OpenSSH_9.6\r\n\r\n", 400, INVALID_ARGUMENT)
case("request line of 9000 bytes", request(target="/" + "a" * 9000), 414, RESOURCE_EXHAUSTED)
# Sent whole while the server answers: the answer comes, not a reset (the edge lingers).
case("request line of 1 MB", request(target="/" + "a" * 1_000_000), 414, RESOURCE_EXHAUSTED)
case("HTTP/1.0 without Host", request(version="HTTP/1.0", host=False), 200, body=PONG)
case("HTTP/1.1 without Host", request(host=False), 400, INVALID_ARGUMENT)
case("HTTP/0.9 style", b"GET /v1/ping\r\nConnection: close\r\n\r\n", 200, body=PONG)

# -- headers ---------------------------------------------------------------------------

section("headers")

case(
    "header without colon",
    request(headers=[]).replace(b"\r\n\r\n", b"\r\nBad\r\n\r\n"),
    400,
    INVALID_ARGUMENT,
)
case("space in header name", request(headers=[("Bad Header", "x")]), 400, INVALID_ARGUMENT)
case("space before colon", request(headers=[("X-A ", "1")]), 400, INVALID_ARGUMENT)
case("parenthesis in header name", request(headers=[("X(y)", "1")]), 400, INVALID_ARGUMENT)
case("empty header name", request(headers=[("", "x")]), 400, INVALID_ARGUMENT)
case("non-ASCII header name", request(headers=[("X-\u00e9", "1")]), 400, INVALID_ARGUMENT)
case("obs-fold continuation", request(headers=[("X-A", "1\r\n folded")]), 400, INVALID_ARGUMENT)
case("NUL in header value", request(headers=[("X-A", "a\x00b")]), 400, INVALID_ARGUMENT)
case("CR in header value", request(headers=[("X-A", "a\rb")]), 400, INVALID_ARGUMENT)
case("two Host headers", request(headers=[("Host", "other.test")]), 400, INVALID_ARGUMENT)
case("empty Host", request(host=False, headers=[("Host", "")]), 200, body=PONG)
case("header of 9000 bytes", request(headers=[("X-Big", "a" * 9000)]), 431, RESOURCE_EXHAUSTED)
case("header of 1 MB", request(headers=[("X-Big", "a" * 1_000_000)]), 431, RESOURCE_EXHAUSTED)
case("header name of 9000 bytes", request(headers=[("X" * 9000, "a")]), 431, RESOURCE_EXHAUSTED)
case("200 headers", request(headers=[(f"X-{i}", "1") for i in range(200)]), 431, RESOURCE_EXHAUSTED)
case("120 headers", request(headers=[(f"X-{i}", "1") for i in range(120)]), 200, body=PONG)
case("Expect: 100-continue", request(headers=[("Expect", "100-continue")]), 200, body=PONG)
case("Expect: something else", request(headers=[("Expect", "tea")]), 417, FAILED_PRECONDITION)
# A request bound to fail gets its failure (no 100 Continue first), whatever it expects.
for _expect in ("100-continue", "tea"):
    case(
        f"Expect: {_expect}, no route",
        request("POST", "/v1/nope", [("Expect", _expect)], b"{}"),
        404,
        NOT_FOUND,
    )
    case(
        f"Expect: {_expect}, wrong method",
        request("POST", "/v1/ping", [("Expect", _expect)], b"{}"),
        405,
        UNIMPLEMENTED,
    )
case(
    "Upgrade: websocket",
    request(headers=[("Upgrade", "websocket"), ("Connection", "Upgrade")]),
    200,
    body=PONG,
)
case(
    "Upgrade: h2c",
    request(headers=[("Upgrade", "h2c"), ("HTTP2-Settings", "AAMAAABkAAQAAP__")]),
    200,
    body=PONG,
)
case(
    "Connection: keep-alive, close",
    request(close=False, headers=[("Connection", "x, close")]),
    200,
    body=PONG,
)
case("huge Cookie (8000 B)", request(headers=[("Cookie", "a=" + "b" * 8000)]), 200, body=PONG)
case(
    "non-ASCII Accept-Language",
    request(headers=[("Accept-Language", "fran\u00e7ais")]),
    400,
    INVALID_ARGUMENT,
)
# Forwarded as grpcgateway-user-agent, which gRPC metadata cannot carry.
case("raw 0xff in User-Agent", request(headers=[("User-Agent", "\udcff")]), 400, INVALID_ARGUMENT)
case("tab in a forwarded value", request(headers=[("Accept", "a\tb")]), 400, INVALID_ARGUMENT)
case(
    "X-Forwarded-For garbage",
    request(headers=[("X-Forwarded-For", "not an ip, \x01")]),
    400,
    INVALID_ARGUMENT,
)
case("X-Request-Id of 8000 B", request(headers=[("X-Request-Id", "r" * 8000)]), 200, body=PONG)
case("Content-Type garbage on GET", request(headers=[("Content-Type", ";;;")]), 200, body=PONG)
case(
    "X-HTTP-Method-Override ignored",
    request(headers=[("X-HTTP-Method-Override", "DELETE")]),
    200,
    body=PONG,
)

# -- headers that become metadata ------------------------------------------------------------

section("metadata headers")

case(
    "Authorization of 4000 B",
    request(headers=[("Authorization", "Bearer " + "t" * 3993)]),
    200,
    body=PONG,
)
case(
    "Authorization of 8000 B",
    request(headers=[("Authorization", "Bearer " + "t" * 7993)]),
    200,
    body=PONG,
)
case(
    "12 metadata headers of 1000 B",
    request(headers=[(f"Grpc-Metadata-K{i}", "v" * 1000) for i in range(12)]),
    200,
    body=PONG,
)
case(
    "12 metadata headers of 8000 B",
    request(headers=[(f"Grpc-Metadata-K{i}", "v" * 8000) for i in range(12)]),
    431,
    RESOURCE_EXHAUSTED,
)
case(
    "100 metadata headers of 700 B",
    request(headers=[(f"Grpc-Metadata-K{i}", "v" * 700) for i in range(100)]),
    431,
    RESOURCE_EXHAUSTED,
)
case(
    "metadata -bin not base64",
    request(headers=[("Grpc-Metadata-X-Bin", "***")]),
    400,
    INVALID_ARGUMENT,
)
case("metadata -bin base64", request(headers=[("Grpc-Metadata-X-Bin", "AAEC")]), 200, body=PONG)
case("metadata -bin url-safe", request(headers=[("Grpc-Metadata-X-Bin", "-_-_")]), 200, body=PONG)
case(
    "metadata value non-ASCII",
    request(headers=[("Grpc-Metadata-Note", "\u00e9")]),
    400,
    INVALID_ARGUMENT,
)
case(
    "metadata value raw 0xff",
    request(headers=[("Grpc-Metadata-Note", "\udcff")]),
    400,
    INVALID_ARGUMENT,
)
case(
    "metadata value DEL", request(headers=[("Grpc-Metadata-Note", "a\x7fb")]), 400, INVALID_ARGUMENT
)
case("metadata empty key", request(headers=[("Grpc-Metadata-", "x")]), 200, body=PONG)
case(
    "metadata key grpc-status",
    request(headers=[("Grpc-Metadata-Grpc-Status", "0")]),
    200,
    body=PONG,
)
case("metadata key :path-like", request(headers=[("Grpc-Metadata-.path", "/x")]), 200, body=PONG)
case("metadata key te", request(headers=[("Grpc-Metadata-Te", "trailers")]), 200, body=PONG)
case(
    "metadata key content-type",
    request(headers=[("Grpc-Metadata-Content-Type", "x")]),
    200,
    body=PONG,
)
for _key in (
    "X-Lambda-Request-Id",
    "X-Apigateway-Authorizer",
    "X-Lambda-Event-Source",
    "X-Apigateway-Request-Id",
):
    case(
        f"forged context key {_key}",
        request(headers=[(f"Grpc-Metadata-{_key}", "forged")]),
        200,
        body=PONG,
    )
case("metadata empty value", request(headers=[("Grpc-Metadata-Note", "")]), 200, body=PONG)

# -- Grpc-Timeout -----------------------------------------------------------------------------

section("Grpc-Timeout")

for _value, _ok in [
    ("1S", True),
    ("100m", True),
    ("99999999H", True),
    ("  5S", True),
    ("\u0661S", False),
    ("1\u0660S", False),
    ("\uff11S", False),
    ("1 S", False),
    ("S", False),
    ("-1S", False),
    ("+1S", False),
    ("1.5S", False),
    ("0x1S", False),
    ("1s", False),
    ("1", False),
    ("", False),
    ("999999999S", False),
    ("1SS", False),
    ("1Y", False),
    ("1e3S", False),
]:
    case(
        f"Grpc-Timeout {_value!r}",
        request(headers=[("Grpc-Timeout", _value)]),
        200 if _ok else 400,
        None if _ok else INVALID_ARGUMENT,
        body=PONG if _ok else None,
    )
case("Grpc-Timeout 0S", request(headers=[("Grpc-Timeout", "0S")]), 504, DEADLINE_EXCEEDED)
case(
    "Grpc-Timeout 1n on a hanging call",
    request(target="/hang", headers=[("Grpc-Timeout", "1n")]),
    504,
    DEADLINE_EXCEEDED,
)
case(
    "Grpc-Timeout twice",
    request(headers=[("Grpc-Timeout", "1S"), ("Grpc-Timeout", "2S")]),
    200,
    body=PONG,
)

# -- framing: Content-Length and chunks --------------------------------------------------------

section("Content-Length and chunks")

_SHELF = "/v1/shelves?shelfId=framing"
_JSON = ("Content-Type", "application/json")
for _name, _value in [
    ("letters", "abc"),
    ("negative", "-1"),
    ("plus sign", "+2"),
    ("hex", "0x2"),
    ("list", "2, 2"),
    ("float", "2.0"),
    ("empty", ""),
    ("beyond 2**64", "99999999999999999999999"),
    ("non-ASCII digit", "\u0662"),
]:
    case(
        f"Content-Length {_name}",
        request("POST", _SHELF, [_JSON, ("Content-Length", _value)], b"{}", length=False),
        400,
        INVALID_ARGUMENT,
    )
case(
    "two Content-Lengths differing",
    request(
        "POST",
        _SHELF,
        [_JSON, ("Content-Length", "1"), ("Content-Length", "2")],
        b"{}",
        length=False,
    ),
    400,
    INVALID_ARGUMENT,
)
case(
    "two Content-Lengths equal",
    request(
        "POST",
        _SHELF,
        [_JSON, ("Content-Length", "2"), ("Content-Length", "2")],
        b"{}",
        length=False,
    ),
    400,
    INVALID_ARGUMENT,
)
case(
    "Content-Length beyond max body",
    request("POST", _SHELF, [_JSON, ("Content-Length", str(5 << 20))], b"{}", length=False),
    413,
    RESOURCE_EXHAUSTED,
)
case("Content-Length 0 on POST", request("POST", _SHELF + "0", [_JSON], b""), 201)
case(
    "Content-Length with spaces",
    request("POST", _SHELF + "sp", [_JSON, ("Content-Length", " 2 ")], b"{}", length=False),
    201,
)
case(
    "chunked and Content-Length",
    request(
        "POST",
        _SHELF,
        [_JSON, ("Content-Length", "2"), ("Transfer-Encoding", "chunked")],
        b"2\r\n{}\r\n0\r\n\r\n",
        length=False,
    ),
    400,
    INVALID_ARGUMENT,
)
for _name, _chunks in [
    ("bad size", b"zz\r\n{}\r\n0\r\n\r\n"),
    ("negative size", b"-2\r\n{}\r\n0\r\n\r\n"),
    ("size overflow", b"fffffffffffffffffffff\r\n{}\r\n0\r\n\r\n"),
    ("no CRLF after data", b"2\r\n{}XX0\r\n\r\n"),
    ("data longer than size", b"1\r\n{}\r\n0\r\n\r\n"),
    ("size with space", b"2 x\r\n{}\r\n0\r\n\r\n"),
    ("0x prefix", b"0x2\r\n{}\r\n0\r\n\r\n"),
]:
    case(
        f"chunked: {_name}",
        request("POST", _SHELF, [_JSON, ("Transfer-Encoding", "chunked")], _chunks, length=False),
        400,
        INVALID_ARGUMENT,
    )
case(
    "chunked: valid",
    request(
        "POST",
        _SHELF + "ch",
        [_JSON, ("Transfer-Encoding", "chunked")],
        b"1\r\n{\r\n1\r\n}\r\n0\r\n\r\n",
        length=False,
    ),
    201,
)
case(
    "chunked: extension",
    request(
        "POST",
        _SHELF + "ext",
        [_JSON, ("Transfer-Encoding", "chunked")],
        b"2;name=value\r\n{}\r\n0\r\n\r\n",
        length=False,
    ),
    201,
)
case(
    "chunked: extension beyond the line limit",
    request(
        "POST",
        _SHELF,
        [_JSON, ("Transfer-Encoding", "chunked")],
        b"2;" + b"e" * 9000 + b"\r\n{}\r\n0\r\n\r\n",
        length=False,
    ),
    400,
    INVALID_ARGUMENT,
    message="malformed request body: chunk-size line longer than 8190 bytes",
)
case(
    "chunked: 1 MB of extensions",
    request(
        "POST",
        _SHELF,
        [_JSON, ("Transfer-Encoding", "chunked")],
        b"2;" + b"e" * 1_000_000 + b"\r\n{}\r\n0\r\n\r\n",
        length=False,
    ),
    400,
    INVALID_ARGUMENT,
    message="malformed request body: chunk-size line longer than 8190 bytes",
)
for _name, _trailer in [
    ("bad trailer name", b"X(A): 1"),
    ("NUL in trailer", b"X-A: a\x00b"),
    ("trailer of 9000 bytes", b"X-A: " + b"a" * 9000),
]:
    case(
        f"chunked: {_name}",
        request(
            "POST",
            _SHELF,
            [_JSON, ("Transfer-Encoding", "chunked")],
            b"2\r\n{}\r\n0\r\n" + _trailer + b"\r\n\r\n",
            length=False,
        ),
        400,
        INVALID_ARGUMENT,
        message="malformed request body: ",
    )
case(
    "chunked: trailer fields",
    request(
        "POST",
        _SHELF + "tr",
        [_JSON, ("Transfer-Encoding", "chunked")],
        b"2\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n",
        length=False,
    ),
    201,
)
case(
    "chunked: beyond max body",
    request(
        "POST",
        _SHELF,
        [_JSON, ("Transfer-Encoding", "chunked")],
        b"%x\r\n" % (5 << 20) + b" " * (5 << 20) + b"\r\n0\r\n\r\n",
        length=False,
    ),
    413,
    RESOURCE_EXHAUSTED,
)
for _te in ("gzip", "chunked, gzip", "xchunked", "chunked, chunked", "identity"):
    case(
        f"Transfer-Encoding {_te!r}",
        request(
            "POST",
            _SHELF,
            [_JSON, ("Transfer-Encoding", _te)],
            b"2\r\n{}\r\n0\r\n\r\n",
            length=False,
        ),
        400,
        INVALID_ARGUMENT,
    )
case("body of 5 MiB", request("POST", _SHELF, [_JSON], b" " * (5 << 20)), 413, RESOURCE_EXHAUSTED)

# -- request body encodings ---------------------------------------------------------------------

section("encodings")


def _encoded(name: str, encoding: str, body: bytes, status: int, code: int | None) -> None:
    target = f"/v1/shelves?shelfId=enc-{len(CASES)}"
    extra: dict[str, object] = {}
    if status == 415:  # what to send instead
        extra["headers"] = (("accept-encoding", accepted_encodings()),)
    if status == 400:
        extra["message"] = f"malformed request body: not valid {encoding.lower()} data"
    case(
        f"Content-Encoding {name}",
        request("POST", target, [_JSON, ("Content-Encoding", encoding)], body),
        status,
        code,
        **extra,
    )


_encoded("identity", "identity", b'{"theme":"plain"}', 201, None)
_encoded("gzip", "gzip", gzip.compress(b'{"theme":"zipped"}'), 201, None)
_encoded("GZIP uppercase", "GZIP", gzip.compress(b'{"theme":"zipped"}'), 201, None)
_encoded("deflate", "deflate", zlib.compress(b'{"theme":"deflated"}'), 201, None)
_encoded("gzip, not gzip", "gzip", b"notgzip", 400, INVALID_ARGUMENT)
# aiohttp checks that a deflate stream ends, not a gzip one: a gzip body cut short
# is decoded as far as it goes, here "{", which is not JSON (docs/reliability.md).
case(
    "Content-Encoding gzip, truncated",
    request(
        "POST",
        "/v1/shelves?shelfId=trunc",
        [_JSON, ("Content-Encoding", "gzip")],
        gzip.compress(b'{"theme":"zipped"}')[:12],
    ),
    400,
    INVALID_ARGUMENT,
    message="invalid JSON body",
)
_encoded("deflate, not deflate", "deflate", b"notdeflate", 400, INVALID_ARGUMENT)
_encoded("unknown xyz", "xyz", b'{"theme":"x"}', 415, INVALID_ARGUMENT)
_encoded("gzip twice", "gzip, gzip", gzip.compress(gzip.compress(b"{}")), 415, INVALID_ARGUMENT)
_encoded("empty", "", b'{"theme":"x"}', 201, None)
_encoded("compress (LZW)", "compress", b'{"theme":"x"}', 415, INVALID_ARGUMENT)
_encoded(
    "gzip bomb (8 MiB from KiB)", "gzip", gzip.compress(b" " * (8 << 20)), 413, RESOURCE_EXHAUSTED
)
if not HAS_BROTLI:
    _encoded("br without Brotli", "br", b"\x0b\x02\x80{}\x03", 415, INVALID_ARGUMENT)
if not HAS_ZSTD:
    _encoded("zstd without zstd", "zstd", b"(\xb5/\xfd\x00X\x11\x00\x00{}", 415, INVALID_ARGUMENT)

# -- bodies -------------------------------------------------------------------------------------

section("bodies")

_BOOKS = "/v1/shelves/none/books"  # CreateBook, body "*": {"book": {...}}
for _name, _body in [
    ("not JSON", "{"),
    ("not UTF-8", b'{"book":{"title":"\xff"}}'),
    ("NaN literal", '{"book":{"rating":NaN}}'),
    ("Infinity literal", '{"book":{"rating":Infinity}}'),
    ("1e400", '{"book":{"rating":1e400}}'),
    ("a number of 5000 digits", '{"book":{"pageCount":' + "9" * 5000 + "}}"),
    ("nested 100000 deep", "[" * 100000),
    ("duplicate keys", '{"book":{"title":"a","title":"b"}}'),
    ("lone surrogate escape", '{"book":{"title":"\\ud800"}}'),
    ("array for a message", '{"book":[]}'),
    ("string for a message", '{"book":"x"}'),
    ("bytes not base64", '{"book":{"cover":"!!!!"}}'),
    ("enum 1.5", '{"book":{"genre":1.5}}'),
    ("enum true", '{"book":{"genre":true}}'),
    ("enum out of range", '{"book":{"genre":1099511627776}}'),
    ("enum unknown name", '{"book":{"genre":"GENRE_NOPE"}}'),
    ("int64 as 1.5", '{"book":{"pageCount":1.5}}'),
    ("int64 beyond 2**63", '{"book":{"pageCount":"9223372036854775808"}}'),
    ("int64 non-ASCII digits", '{"book":{"pageCount":"\u0661"}}'),
    ("double as true", '{"book":{"rating":true}}'),
    ("duration too precise", '{"book":{"readTime":"0.0000000001s"}}'),
    ("duration non-ASCII digit", '{"book":{"readTime":"\u0661s"}}'),
    ("timestamp offset +25:00", '{"book":{"publishTime":"2024-01-01T00:00:00+25:00"}}'),
    ("timestamp year 0", '{"book":{"publishTime":"0000-01-01T00:00:00Z"}}'),
    ("timestamp non-ASCII digit", '{"book":{"publishTime":"\u0662024-01-01T00:00:00Z"}}'),
    ("null in repeated", '{"book":{"quotes":[null]}}'),
    ("object for repeated", '{"book":{"quotes":{"a":1}}}'),
    ("top-level array", "[1,2]"),
    ("top-level string", '"book"'),
    ("BOM before JSON", b'\xef\xbb\xbf{"book":{}}'),
    ("JSON then garbage", '{"book":{}} x'),
    ("two documents", "{}{}"),
]:
    case(f"body: {_name}", post_json(_BOOKS, _body), 400, INVALID_ARGUMENT)
case("body: unknown field ignored", post_json("/v1/shelves?shelfId=unk", '{"nope":1}'), 201)
case("body: null for the body field", post_json("/v1/shelves?shelfId=null", "null"), 201)
case("body: whitespace only", post_json("/v1/shelves?shelfId=ws", " \n "), 400, INVALID_ARGUMENT)
# Read as Go's protojson reads them, these reach the servicer (which has no shelf "none").
for _name, _body in [
    ("bytes of 2 chars (Go reads unpadded base64)", '{"book":{"cover":"zz"}}'),
    ("empty object key", '{"":1}'),
    ("unknown book field", '{"book":{"nope":[{}]}}'),
]:
    case(f"body: {_name}", post_json(_BOOKS, _body), 400, FAILED_PRECONDITION)
case(
    "body: 3 MiB string",
    post_json("/v1/shelves?shelfId=big", '{"theme":"' + "x" * (3 << 20) + '"}'),
    201,
)
case("body: Value NaN string", post_json("/my/path", '{"n":"NaN"}'), 200)
case("body: Value 1e400", post_json("/my/path", '{"n":1e400}'), 400, INVALID_ARGUMENT)
case(
    "body: Value nested 200 deep",
    post_json("/my/path", "[" * 200 + "]" * 200),
    400,
    INVALID_ARGUMENT,
)
case(
    "stream body: a bad line",
    post_json("/v1/books:import", '{"book":{}}\n{\n'),
    400,
    INVALID_ARGUMENT,
)
case(
    "stream body: a line not an object", post_json("/v1/books:import", "5\n"), 400, INVALID_ARGUMENT
)
case("stream body: blank lines", post_json("/v1/books:import", "\n\n\n"), 200)
case(
    "raw body: any bytes",
    request(
        "PUT",
        "/v1/shelves/s/books/b/cover",
        [("Content-Type", "application/octet-stream")],
        bytes(range(256)),
    ),
    404,
    NOT_FOUND,
)
case(
    "raw body: Content-Type with CR",
    request("PUT", "/v1/shelves/s/books/b/cover", [("Content-Type", "a\rb")], b"x"),
    400,
    INVALID_ARGUMENT,
)

# -- paths ------------------------------------------------------------------------------------

section("paths")

for _name, _path, _status, _code in [
    ("bad escape %zz", "/v1/shelves/%zz", 400, INVALID_ARGUMENT),
    ("bare %", "/v1/shelves/%", 400, INVALID_ARGUMENT),
    ("short escape %2", "/v1/shelves/%2", 400, INVALID_ARGUMENT),
    ("escape %G0", "/v1/shelves/%G0", 400, INVALID_ARGUMENT),
    ("escape of 0xff", "/v1/shelves/%ff", 400, INVALID_ARGUMENT),
    ("escaped surrogate", "/v1/shelves/%ed%a0%80", 400, INVALID_ARGUMENT),
    ("overlong escape", "/v1/shelves/%c0%af", 400, INVALID_ARGUMENT),
    ("escaped NUL", "/v1/shelves/a%00b", 404, NOT_FOUND),
    ("escaped slash in a segment", "/v1/shelves/a%2Fb", 404, NOT_FOUND),
    ("escaped dot-dot", "/v1/shelves/..%2F..%2Fetc", 404, NOT_FOUND),
    ("dot-dot segments", "/v1/shelves/../../ping", 404, NOT_FOUND),
    ("dot segment", "/v1/./ping", 404, NOT_FOUND),
    ("double slash", "//v1//ping", 404, NOT_FOUND),
    ("trailing slash", "/v1/ping/", 200, None),
    ("segment of 8000 bytes", "/v1/shelves/" + "s" * 8000, 404, NOT_FOUND),
    ("2000 segments", "/v1" + "/a" * 2000, 404, NOT_FOUND),
    ("3000 segments under **", "/v1/books" + "/b" * 3000, 404, NOT_FOUND),
    ("escaped UTF-8", "/v1/shelves/caf%C3%A9", 404, NOT_FOUND),
    ("semicolon parameters", "/v1/ping;a=b", 404, NOT_FOUND),
    ("empty verb", "/v1/shelves:", 404, NOT_FOUND),
    ("unknown verb", "/v1/ping:launch", 404, NOT_FOUND),
    ("verb twice", "/v1/shelves:watch:watch", 404, NOT_FOUND),
    ("colon in a variable", "/v1/shelves/a:b", 404, NOT_FOUND),
    ("fragment", "/v1/ping#frag", 404, NOT_FOUND),
    ("query mark only", "/v1/ping?", 200, None),
    ("no route", "/v2/nothing", 404, NOT_FOUND),
    ("root (the echo service's GET /)", "/", 200, None),
    ("backslashes (GET /{name})", "/v1\\ping", 200, None),
    ("percent-encoded literals", "/%76%31/%70%69%6e%67", 200, None),
]:
    case(f"path: {_name}", request(target=_path), _status, _code)

# -- methods ------------------------------------------------------------------------------------

section("methods")

for _method, _status, _code in [
    ("DELETE", 405, UNIMPLEMENTED),
    ("PUT", 405, UNIMPLEMENTED),
    ("PATCH", 405, UNIMPLEMENTED),
    ("POST", 405, UNIMPLEMENTED),
    ("TRACE", 405, UNIMPLEMENTED),
    ("OPTIONS", 405, UNIMPLEMENTED),
    # aiohttp's parser takes only the methods it knows (not "FOO", nor "get").
    ("FOO", 400, INVALID_ARGUMENT),
    ("get", 400, INVALID_ARGUMENT),
    ("G" * 100, 400, INVALID_ARGUMENT),
    ("M-SEARCH", 405, UNIMPLEMENTED),
    ("PROPFIND", 405, UNIMPLEMENTED),
]:
    case(
        f"method {_method[:12]} on a GET route",
        request(_method, "/v1/ping", body=b"" if _method in ("PUT", "PATCH", "POST") else None),
        _status,
        _code,
    )
case("HEAD of a GET route", request("HEAD"), 200, head=True)
case("HEAD of no route", request("HEAD", "/v2/nothing"), 404, head=True)
case("HEAD of a stream", request("HEAD", "/v1/shelves:watch"), 200, head=True)
case("HEAD with a body", request("HEAD", body=b"{}"), 200, head=True)
case("GET with a body", request(body=b'{"x":1}'), 200, body=PONG)
case("DELETE with a body", request("DELETE", "/v1/shelves/none?force=true", body=b"{}"), 200)
case(
    "POST without a body",
    request("POST", "/v1/shelves/none/books", body=None),
    400,
    FAILED_PRECONDITION,
)
case("POST a stream without a body", request("POST", "/v1/books:import", body=b""), 200)

# -- query strings ------------------------------------------------------------------------------

section("queries")

for _name, _query, _status, _code in [
    ("int not a number", "pageSize=ten", 400, INVALID_ARGUMENT),
    ("int Arabic-Indic digit", "pageSize=%D9%A1", 400, INVALID_ARGUMENT),
    ("int fullwidth digit", "pageSize=%EF%BC%91", 400, INVALID_ARGUMENT),
    ("int 1e400", "pageSize=1e400", 400, INVALID_ARGUMENT),
    ("int32 overflow", "pageSize=2147483648", 400, INVALID_ARGUMENT),
    ("int of 5000 digits", "pageSize=" + "9" * 5000, 400, INVALID_ARGUMENT),
    ("int given twice", "pageSize=1&pageSize=2", 400, INVALID_ARGUMENT),
    ("bad escape", "pageToken=%zz", 400, INVALID_ARGUMENT),
    ("escape of 0xff", "pageToken=%ff", 400, INVALID_ARGUMENT),
    ("escaped surrogate", "pageToken=%ed%a0%80", 400, INVALID_ARGUMENT),
    ("bad escape in a key", "page%zzToken=1", 400, INVALID_ARGUMENT),
    ("enum unknown", "genre=GENRE_NOPE", 400, INVALID_ARGUMENT),
    ("enum 1.5", "genre=1.5", 400, INVALID_ARGUMENT),
    ("enum undeclared number", "genre=99", 400, INVALID_ARGUMENT),
    ("timestamp month 13", "createdAfter=2024-13-01T00:00:00Z", 400, INVALID_ARGUMENT),
    ("timestamp offset +25:00", "createdAfter=2024-01-01T00:00:00%2B25:00", 400, INVALID_ARGUMENT),
    (
        "timestamp Arabic-Indic digit",
        "createdAfter=%D9%A2024-01-01T00:00:00Z",
        400,
        INVALID_ARGUMENT,
    ),
    (
        "timestamp Arabic-Indic fraction",
        "createdAfter=2024-01-01T00:00:00.%D9%A1Z",
        400,
        INVALID_ARGUMENT,
    ),
    ("wrapper Arabic-Indic digit", "minBooks=%D9%A1", 400, INVALID_ARGUMENT),
    ("wrapper 1e400", "minBooks=1e400", 400, INVALID_ARGUMENT),
    ("message field as a value", "location=x", 400, INVALID_ARGUMENT),
    ("below a scalar", "pageSize.x=1", 400, INVALID_ARGUMENT),
    ("map syntax on a scalar", "pageSize[x]=1", 400, INVALID_ARGUMENT),
    ("nested int not a number", "location.floor=x", 400, INVALID_ARGUMENT),
    ("unknown key ignored", "nope=1", 200, None),
    ("empty pairs", "&&&&", 200, None),
    ("lone equals", "=", 200, None),
    ("value with equals", "pageToken=a=b", 200, None),
    ("1000 repeated tags", "&".join(["tags=t"] * 1000), 200, None),
    ("plus as space", "pageToken=a+b", 200, None),
    ("a query of 8000 bytes", "pageToken=" + "q" * 8000, 200, None),
]:
    case(f"query: {_name}", request(target=f"/v1/shelves?{_query}"), _status, _code)
for _name, _query, _status, _code in [
    ("Value 1e400", "payload=1e400", 400, INVALID_ARGUMENT),
    ("Value [1e400]", "payload=%5B1e400%5D", 400, INVALID_ARGUMENT),
    ("Value NaN", "payload=NaN", 400, INVALID_ARGUMENT),
    ("Value Arabic-Indic digit", "payload=%D9%A1", 400, INVALID_ARGUMENT),
    ("Value nested 200 deep", "payload=" + "%5B" * 200 + "%5D" * 200, 400, INVALID_ARGUMENT),
    ("Value not JSON", "payload=%7B", 400, INVALID_ARGUMENT),
    ("Value a JSON object", "payload=%7B%22a%22%3A1%7D", 200, None),
]:
    case(f"query: {_name}", request(target=f"/my/path?{_query}"), _status, _code)
