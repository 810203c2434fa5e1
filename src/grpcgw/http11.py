"""Whole simple HTTP/1.1 requests from bytes, and responses to bytes (pure).

The edge's fast lane (:mod:`grpcgw.httpserver`) serves a request without
aiohttp's per-request machinery only where the answer is certain to be the one
aiohttp's path gives. This module holds the two pure halves of that:

- :meth:`RequestRules.parse`: one packet holding exactly one whole request of
  the simplest shape (``METHOD SP /origin-form SP HTTP/1.1``, strictly valid
  header fields within the limits, at most one ``Content-Length`` and the
  whole body, nothing after it) -> its fields, as aiohttp's parser (llhttp)
  would give them; ``None`` for anything else, which aiohttp then parses.
  Whatever llhttp might read differently (an empty field value, a repeated
  name, obs-fold, obs-text, a bare CR or LF, ``Transfer-Encoding``,
  ``Upgrade``, ``Expect``, ``Content-Encoding``) is left to aiohttp.
- :func:`whole_messages`: whether bytes handed to aiohttp end where a message
  ends, by the same framing llhttp uses (so that the next packet may start a
  request the lane can read); ``False`` where that is not certain.
- :func:`render_response`: an answer's bytes exactly as aiohttp writes a
  ``web.Response(status=, body=, headers=)`` for an HTTP/1.1 request that is
  not ``HEAD`` (the headers it adds, in its order; grpcgw's ``Server`` name).

And for the edge's parser wrapper, whichever parser aiohttp has (llhttp puts no
bound on chunk extensions): :class:`ChunkedBody`, where a chunked request body
ends and whether each of its chunk-size lines is within a limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus

__all__ = [
    "LEFT_TO_AIOHTTP",
    "ChunkError",
    "ChunkedBody",
    "RequestRules",
    "SimpleRequest",
    "render_response",
    "whole_messages",
]

_HEAD_END = b"\r\n\r\n"
#: ``tchar`` (RFC 9110 5.6.2): what a method and a field name are made of.
_TCHAR = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
#: The request line the lane reads: an upper-case method, an origin-form target of
#: unreserved characters, sub-delims, ``:@/?`` and ``%`` (no fragment), HTTP/1.1.
_REQUEST_LINE = re.compile(rb"([A-Z]{1,16}) (/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*) HTTP/1\.1")
#: One header field the lane reads: a token name right before the colon, optional
#: whitespace, a non-empty value of visible ASCII with inner spaces or tabs.
_FIELD = re.compile(
    rb"(" + _TCHAR + rb"+):[ \t]*([\x21-\x7e](?:[\x21-\x7e \t]*[\x21-\x7e])?)[ \t]*"
)
#: Header fields the lane leaves to aiohttp whatever their value: a body or a
#: protocol it does not handle, or an expectation to answer first.
LEFT_TO_AIOHTTP = frozenset(
    {
        "transfer-encoding",
        "content-encoding",
        "expect",
        "upgrade",
        "proxy-connection",
        "http2-settings",
        "sec-websocket-key1",
        "te",
    }
)
#: Framing of any request (for :func:`whole_messages`): a request line and fields.
_ANY_LINE = re.compile(rb"(" + _TCHAR + rb"+) [\x21-\x7e]+ HTTP/1\.[01]")
_ANY_FIELD = re.compile(rb"(" + _TCHAR + rb"+):[\x20-\x7e\t]*")
_DIGITS = re.compile(rb"[ \t]*(0|[1-9][0-9]{0,15})[ \t]*")


class SimpleRequest:
    """One whole request as :meth:`RequestRules.parse` read it."""

    __slots__ = ("body", "headers", "keep_alive", "method", "target")

    def __init__(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        keep_alive: bool,
    ) -> None:
        #: ``GET``, ``POST``, ... as sent.
        self.method = method
        #: The raw request target (path and query, escapes intact).
        self.target = target
        #: The fields in order, names as aiohttp's parser gives them (its canonical
        #: spelling for the names it knows, as sent for the others), values trimmed.
        self.headers = headers
        self.body = body
        #: Whether the client lets the connection stay open (no ``Connection: close``).
        self.keep_alive = keep_alive


class RequestRules:
    """What :meth:`parse` accepts: the methods, the limits aiohttp's parser applies
    (``max_line``: the request line; ``max_field``: one header field, name and
    value; ``max_headers``: how many; ``max_head``: the whole head, request line,
    fields and the blank line), the largest body, and ``names``: aiohttp's
    spelling of the header names it knows, by lower-case name."""

    __slots__ = (
        "_max_body",
        "_max_field",
        "_max_head",
        "_max_headers",
        "_max_line",
        "_methods",
        "_names",
    )

    def __init__(
        self,
        *,
        methods: Iterable[str],
        max_line: int,
        max_field: int,
        max_headers: int,
        max_head: int,
        max_body: int,
        names: Mapping[str, str],
    ) -> None:
        self._methods = frozenset(m.encode("ascii") for m in methods)
        self._max_line = max_line
        self._max_field = max_field
        self._max_headers = max_headers
        self._max_head = max_head
        self._max_body = max_body
        self._names = dict(names)

    def parse(self, data: bytes) -> SimpleRequest | None:
        """``data`` as one whole request of the simplest shape, or ``None``."""
        end = data.find(_HEAD_END)
        if end < 0 or end + 4 > self._max_head:
            return None
        lines = data[:end].split(b"\r\n")
        line = lines[0]
        if len(line) > self._max_line or len(lines) - 1 > self._max_headers:
            return None
        match = _REQUEST_LINE.fullmatch(line)
        if match is None or match[1] not in self._methods:
            return None
        headers: list[tuple[str, str]] = []
        seen: set[str] = set()
        names = self._names
        max_field = self._max_field
        length = None
        keep_alive = True
        for field in lines[1:]:
            found = _FIELD.fullmatch(field)
            if found is None or len(field) > max_field:
                return None
            name = found[1].decode("ascii")
            lower = name.lower()
            if lower in seen or lower in LEFT_TO_AIOHTTP:
                return None
            seen.add(lower)
            value = found[2].decode("ascii")
            if lower == "content-length":
                if not value.isdigit() or (value[0] == "0" and len(value) > 1) or len(value) > 15:
                    return None
                length = int(value)
            elif lower == "connection":
                token = value.lower()
                if token == "close":
                    keep_alive = False
                elif token != "keep-alive":
                    return None
            headers.append((names.get(lower, name), value))
        if "host" not in seen:
            return None
        start = end + 4
        if length is None:
            if len(data) != start:
                return None
            body = b""
        else:
            if length > self._max_body or len(data) - start != length:
                return None
            body = data[start:]
        return SimpleRequest(
            match[1].decode("ascii"), match[2].decode("ascii"), headers, body, keep_alive
        )


def _message_end(data: bytes, start: int) -> int:
    """Where the request starting at ``start`` ends, by llhttp's framing; -1 when
    it is incomplete or its framing is not certain."""
    end = data.find(_HEAD_END, start)
    if end < 0:
        return -1
    head = data[start:end]
    if b"\n" in head.replace(b"\r\n", b"") or b"\r" in head.replace(b"\r\n", b""):
        return -1  # a bare CR or LF: llhttp's reading of it is not ours to guess
    lines = head.split(b"\r\n")
    first = _ANY_LINE.fullmatch(lines[0])
    if first is None or first[1] == b"CONNECT":
        return -1
    length = 0
    counted = False
    for field in lines[1:]:
        found = _ANY_FIELD.fullmatch(field)
        if found is None:
            return -1
        lower = found[1].lower()
        if lower == b"content-length":
            digits = _DIGITS.fullmatch(field, len(found[1]) + 1)
            if counted or digits is None:
                return -1
            counted = True
            length = int(digits[1])
        elif lower in (b"transfer-encoding", b"upgrade"):
            return -1
    stop = end + 4 + length
    return stop if stop <= len(data) else -1


def whole_messages(data: bytes) -> bool:
    """Whether ``data`` is one or more whole requests and nothing more, framed as
    llhttp frames them (``Content-Length`` bodies, no ``Transfer-Encoding``)."""
    at = 0
    size = len(data)
    while at < size:
        at = _message_end(data, at)
        if at < 0:
            return False
    return size > 0


class ChunkError(ValueError):
    """A chunked body that both of aiohttp's parsers refuse, or one beyond the limit."""


_SIZE, _DATA, _DATA_END, _TRAILERS, _DONE, _LOST = range(6)
#: A chunk-size (RFC 9112 7.1): hexadecimal digits, nothing else before ``;`` or CR.
_HEX = re.compile(rb"[0-9A-Fa-f]+")


class ChunkedBody:
    """A chunked request body (RFC 9112 7.1) fed as it arrives: where it ends, and
    that each chunk-size line (the size and its extensions) holds at most
    ``max_line`` bytes before its CRLF.

    It reads the framing only as far as it must: the chunk-size lines, the chunk
    data it skips, the trailer section up to its blank line. What else is wrong
    with the body (no CRLF after the data, a bad trailer field) is the parser's
    to find; where a trailer line ends with a bare LF (which both of aiohttp's
    parsers refuse), it stops reading (:meth:`feed` gives -1).
    """

    __slots__ = ("_left", "_line", "_state", "max_line")

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self._state = _SIZE
        #: The line under way (a chunk-size line: its bytes; a trailer: how many).
        self._line: bytes | int = b""
        #: Bytes left of the chunk's data, or of the CRLF after it.
        self._left = 0

    @property
    def done(self) -> bool:
        """Whether the body's last byte (the blank line after the trailers) came."""
        return self._state == _DONE

    def feed(self, data: bytes) -> int:
        """Read the body's next bytes: how many of them are the body's (all of them
        while it goes on, fewer where it ended), or -1 where its framing is no
        longer certain (nothing more is read).

        Raises :class:`ChunkError` for a chunk-size line longer than ``max_line``;
        for one not ended by CRLF or whose size is not hexadecimal (both of
        aiohttp's parsers refuse those); for a size beyond 64 bits (llhttp refuses it).
        """
        at, size = 0, len(data)
        while at < size:
            state = self._state
            if state in (_DATA, _DATA_END):
                step = min(self._left, size - at)
                at += step
                self._left -= step
                if not self._left:
                    if state == _DATA:
                        self._state, self._left = _DATA_END, 2  # its CRLF
                    else:
                        self._state, self._line = _SIZE, b""
            elif state == _SIZE:
                line = self._line
                assert isinstance(line, bytes)
                end = data.find(b"\n", at)
                piece = data[at:] if end < 0 else data[at:end]
                self._line = line = line + piece
                if end < 0:
                    if len(line) - line.endswith(b"\r") > self.max_line:
                        raise self._too_long()
                    return size
                at = end + 1
                if not line.endswith(b"\r"):
                    raise ChunkError("chunk-size line not ended by CRLF")
                line = line[:-1]
                if len(line) > self.max_line:
                    raise self._too_long()
                chunk = line.split(b";", 1)[0]
                if _HEX.fullmatch(chunk) is None:
                    raise ChunkError("invalid chunk size")
                length = int(chunk, 16)
                if length >> 64:
                    raise ChunkError("chunk size too large")
                if length:
                    self._state, self._left = _DATA, length
                else:
                    self._state, self._line = _TRAILERS, 0
            elif state == _TRAILERS:
                count = self._line
                assert isinstance(count, int)
                end = data.find(b"\n", at)
                if end < 0:
                    self._line = count + size - at
                    return size
                count += end - at
                at = end + 1
                if count == 0:
                    return self._lose()  # a bare LF
                if count == 1:  # CRLF (anything else before the LF: the parser refuses it)
                    self._state = _DONE
                    return at
                self._line = 0
            else:  # _DONE or _LOST
                return -1 if state == _LOST else at
        return size

    def _too_long(self) -> ChunkError:
        return ChunkError(f"chunk-size line longer than {self.max_line} bytes")

    def _lose(self) -> int:
        self._state = _LOST
        return -1


_REASONS = {status.value: status.phrase for status in HTTPStatus}
#: Statuses whose answers carry no body (aiohttp's ``EMPTY_BODY_STATUS_CODES``).
_EMPTY = frozenset((204, 304, *range(100, 200)))
#: What aiohttp's header serialiser refuses (RFC 9110 5.5): C0 controls but HTAB, DEL.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
#: Headers aiohttp adds to an answer, or reads to decide what it adds.
_ADDED = frozenset({"content-length", "transfer-encoding", "date", "server", "connection"})


def _find(headers: list[tuple[str, str]], lower: str) -> int:
    for i, (name, _) in enumerate(headers):
        if name.lower() == lower:
            return i
    return -1


def _drop(headers: list[tuple[str, str]], lower: str) -> None:
    headers[:] = [(n, v) for n, v in headers if n.lower() != lower]


def _encode(text: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"Cannot serialize non-str key {text!r}")
    if _FORBIDDEN.search(text) is not None:
        raise ValueError(
            "Forbidden control character detected in headers. Potential header injection attack."
        )
    if text.isascii():
        return text.encode("ascii")
    return _SURROGATES.sub("", text).encode("utf-8")  # aiohttp's writer skips surrogates


def render_response(
    status: int,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    keep_alive: bool,
    date: str,
    software: str,
    server_name: str,
) -> bytes:
    """The bytes aiohttp writes for ``web.Response(status=status, body=body or None,
    headers=headers)`` answering an HTTP/1.1 request that is not ``HEAD``, the
    connection kept open or not (``keep_alive``), with ``date`` as the ``Date``, and
    ``server_name`` in place of aiohttp's own ``Server`` (``software``).

    Raises ``ValueError`` (or ``TypeError``) where aiohttp's writer would: a
    ``Content-Length`` given that is not a number, a control character in a header.
    """
    names = [name.lower() for name, _ in headers]
    if status not in _EMPTY and _ADDED.isdisjoint(names):
        # The usual answer: no header aiohttp adds or looks at, but Content-Type.
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, '')}"]
        lines += [f"{name}: {value}" for name, value in headers]
        checked = "".join([text for pair in headers for text in pair])
        lines.append(f"Content-Length: {len(body)}")
        if body and "content-type" not in names:
            lines.append("Content-Type: application/octet-stream")
        lines.append(f"Date: {date}")
        lines.append(f"Server: {server_name}")
        if not keep_alive:
            lines.append("Connection: close")
        lines.append("\r\n")
        if _FORBIDDEN.search(checked) is not None or _FORBIDDEN.search(date) is not None:
            _encode(checked + date)  # raises as aiohttp's writer does
        text = "\r\n".join(lines)
        head = text.encode("ascii") if text.isascii() else _SURROGATES.sub("", text).encode()
        return head + body
    out = list(headers)
    empty = status in _EMPTY
    # web.Response._start: the body's length, unless the headers say one.
    if _find(out, "content-length") >= 0:
        if empty:
            _drop(out, "content-length")
    elif body or status != 304:
        out.append(("Content-Length", str(len(body))))
    # StreamResponse._prepare_headers
    at = _find(out, "content-length")
    length = int(out[at][1]) if at >= 0 else len(body)
    if empty:
        _drop(out, "content-length")
        _drop(out, "transfer-encoding")
    elif length != 0 and _find(out, "content-type") < 0:
        out.append(("Content-Type", "application/octet-stream"))
    if _find(out, "date") < 0:
        out.append(("Date", date))
    at = _find(out, "server")
    if at < 0:
        out.append(("Server", software))
        at = len(out) - 1
    if _find(out, "connection") < 0 and not keep_alive:
        out.append(("Connection", "close"))
    # grpcgw's on_response_prepare: aiohttp's versioned Server becomes grpcgw's name.
    if out[at][1] == software:
        out[at] = ("Server", server_name)
        out[at + 1 :] = [(n, v) for n, v in out[at + 1 :] if n.lower() != "server"]
    parts = [f"HTTP/1.1 {status} {_REASONS.get(status, '')}".encode()]
    for name, value in out:
        parts.append(_encode(name) + b": " + _encode(value))
    parts.append(b"\r\n")
    head = b"\r\n".join(parts)
    return head if empty else head + body
