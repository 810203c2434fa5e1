"""The edge's request parser: aiohttp's, fed message by message, within limits.

:class:`EdgeParser` wraps aiohttp's request parser for grpcgw's per-connection
protocol (:mod:`grpcgw.httpserver`): a packet holding several requests is fed one
message at a time (so a request followed by garbage is answered before the 400),
the request head is bounded as a whole (``max_head_size``) and each chunk-size
line of a chunked body by ``max_request_line``, and an absolute-form target with
no path (``GET http://host``) is a request for ``/``. :func:`classify` and
:func:`error_reason` turn what the parser refuses into the answer (414, 431, 415
or 400) and a plain message, never the client's bytes as Python shows them.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import hdrs
from aiohttp.http_exceptions import (
    BadHttpMessage,
    BadHttpMethod,
    BadStatusLine,
    ContentEncodingError,
    HttpProcessingError,
    InvalidHeader,
    LineTooLong,
)
from aiohttp.streams import EMPTY_PAYLOAD

from grpcgw.errors import Code
from grpcgw.http11 import ChunkedBody, ChunkError
from grpcgw.limits import HttpLimits

__all__ = ["ANSWER", "EdgeParser", "classify", "error_reason"]

_HEAD_END = b"\r\n\r\n"


def _first_line(text: str) -> str:
    line = text.strip().split("\n", 1)[0].strip().rstrip(":")
    return "".join(c if c.isprintable() else "?" for c in line)[:200]


#: Where aiohttp's text quotes the client's bytes as Python shows them (``: b'...'``).
_BYTES_REPR = re.compile(r"""(?:^|[\s:(])b['"]""")


def error_reason(exc: BaseException, *, fields: str = "header") -> str:
    """The first line of what aiohttp says about a bad request, without its status
    prefix, in plain words: never the client's bytes as Python shows them (aiohttp's
    ``Invalid HTTP header: b'X(A)'``). ``fields`` names the fields an invalid field
    is one of (``"trailer"`` in a chunked body)."""
    cause = exc.__cause__
    if not isinstance(exc, HttpProcessingError) and isinstance(cause, HttpProcessingError):
        exc = cause  # a body's reader raises RequestPayloadError from what the parser said
    if isinstance(exc, LineTooLong):
        limit = exc.args[1] if len(exc.args) > 1 else None
        return f"line longer than {limit} bytes" if isinstance(limit, int) else "line too long"
    if isinstance(exc, InvalidHeader):
        return f"invalid {fields} field"
    if isinstance(exc, BadHttpMethod):
        return "invalid method"
    if isinstance(exc, BadStatusLine):
        return "invalid request line"
    text = exc.message if isinstance(exc, HttpProcessingError) else str(exc)
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if lines and lines[0].endswith("message:") and lines[0][:3].isdigit():
        del lines[0]  # "400, message:" (how HttpProcessingError prints itself)
    if not lines:
        return "unreadable"
    line = lines[0]
    quoted = _BYTES_REPR.search(line)
    if quoted is not None:
        line = line[: quoted.start()]
    return _first_line(line) or "unreadable"


def _is_request_line(
    exc: LineTooLong, data: bytes, limits: HttpLimits, line: int | None = None
) -> bool:
    """Whether an over-long line is the request line (414) rather than a header (431);
    ``line``: how long the request line is, where the parser wrapper knows."""
    limit = exc.args[1] if len(exc.args) > 1 else None
    if limits.max_request_line != limits.max_header_size:
        return bool(limit == limits.max_request_line)
    if line is not None:
        return line > limits.max_request_line
    # Same limit for both: find the line in the packet and look at what precedes it
    # on its line ("GET " before a target; "Name: " or nothing before a header).
    text = exc.args[0] if exc.args else b""
    if isinstance(text, str):
        text = text.encode("latin-1", "replace")
    prefix = text.removesuffix(b"...")[:40]
    at = data.find(prefix) if prefix else -1
    if at <= 0:
        return False
    before = data[data.rfind(b"\n", 0, at) + 1 : at]
    return before.endswith(b" ") and b":" not in before


def classify(
    exc: BaseException | None, data: bytes, limits: HttpLimits, line: int | None = None
) -> tuple[int, Code, str]:
    """The answer to what aiohttp's parser rejected: HTTP status, code, message
    (``line``: the length of the request line under way, where known)."""
    if isinstance(exc, ContentEncodingError):
        return 415, Code.INVALID_ARGUMENT, "request Content-Encoding is not supported"
    if isinstance(exc, LineTooLong):
        if _is_request_line(exc, data, limits, line):
            return (
                414,
                Code.RESOURCE_EXHAUSTED,
                (f"request line longer than {limits.max_request_line} bytes"),
            )
        return (
            431,
            Code.RESOURCE_EXHAUSTED,
            (f"request header field longer than {limits.max_header_size} bytes"),
        )
    if isinstance(exc, BadHttpMethod) and data.startswith(b"\x16\x03"):
        return 400, Code.INVALID_ARGUMENT, "not an HTTP request (TLS sent to a plain HTTP port?)"
    if isinstance(exc, BadHttpMessage) and "Too many headers" in exc.message:
        return 431, Code.RESOURCE_EXHAUSTED, f"more than {limits.max_headers} header fields"
    if isinstance(exc, HttpProcessingError):
        return 400, Code.INVALID_ARGUMENT, f"malformed HTTP request: {error_reason(exc)}"
    return 400, Code.INVALID_ARGUMENT, "malformed HTTP request"


#: Attribute the parser wrapper sets on a parse error: its (status, code, message).
ANSWER = "grpcgw_answer"


#: What a piece of a packet fed to aiohttp's parser is (see :meth:`EdgeParser._cut`).
_HEAD_PART, _HEAD_WHOLE, _BODY_KNOWN, _BODY_OPEN = range(4)
#: ``EdgeParser._body_left`` of a body whose end is not known (it may hold ``\r\n\r\n``).
_UNKNOWN = -1


def _too_large(limit: int) -> BadHttpMessage:
    exc = BadHttpMessage(f"request head larger than {limit} bytes")
    setattr(exc, ANSWER, (431, Code.RESOURCE_EXHAUSTED, f"request head larger than {limit} bytes"))
    return exc


def _head_size(message: Any) -> int:
    """The bytes of a parsed request head: its line, fields and blank line, as sent
    but for whitespace around the values."""
    size = len(message.method) + len(message.path) + 14  # " ", " HTTP/1.1\r\n", "\r\n"
    for name, value in message.raw_headers:
        size += len(name) + len(value) + 4
    return size


def _rooted(message: Any) -> Any:
    """An absolute-form request with an empty path (``GET http://host?x=1``) as one
    for ``/`` (RFC 9112 3.2.2, RFC 9110 4.2.3): yarl makes the relative URL aiohttp
    routes on empty there, which no route matches. The target as sent stays the
    message's ``path`` (its authority, ``x-forwarded-host``, is read from there)."""
    url = message.url
    if url.relative().raw_path:
        return message
    return message._replace(url=url.with_path("/", keep_query=True, keep_fragment=True))


class EdgeParser:
    """aiohttp's request parser, fed message by message, with errors classified.

    aiohttp's C parser drops the messages it completed in a ``feed_data`` call
    that then fails, so a valid request followed by garbage in one packet would
    never be answered. A packet holding more than one request head is fed one
    head at a time; a failure after the first is held back and raised at the
    next call, which :meth:`grpcgw.httpserver._EdgeHandler.data_received` makes at once.

    It also bounds the request head as a whole (``max_head_size``), which
    aiohttp does not: the bytes of the head under way are counted across packets
    (its ``CRLF CRLF`` may be split between two) and a head growing beyond the
    limit is refused before aiohttp's parser holds it. A ``Content-Length`` body
    is fed apart from what follows it, so the next head is counted from its
    first byte. A chunked body's end is llhttp's to find: a head that begins in
    the same read is what follows the read's last ``CRLF CRLF``, and a whole
    head in that read is measured from what the parser made of it (line, names,
    values), refused beyond the limit after aiohttp parsed it. Only where a read
    carries the end of a chunked body, then a whole request with a body, then the
    start of a head, is that head's start unknown: it is counted from the next
    read. Either way aiohttp holds at most one read (asyncio's 256 KiB) beyond
    the limit. (Where aiohttp's parser pauses, its queue of requests or a body's
    reader being full, it keeps the rest of a read for later: heads it finds there
    are measured as after a chunked body, the next one counted from the next
    read, within the same bound.) A head refused as a whole is first fed to
    aiohttp's parser up to the limit, so that what it refuses there comes first
    (a request line beyond ``max_request_line``: 414), whatever the packets.

    A chunked body whose head came whole in the pieces fed is followed with
    :class:`~grpcgw.http11.ChunkedBody` before aiohttp's parser sees it: each
    chunk-size line (the size and its extensions) is bounded by
    ``max_request_line`` (llhttp puts no bound on extensions; aiohttp's Python
    parser applies that one) and refused with a plain message, and the body is
    fed apart from what follows it, so that the next head is counted from its
    first byte. (A chunked body whose head aiohttp's parser found only when it
    resumed after a pause is not followed: its start is not known.)
    """

    __slots__ = (
        "_body_left",
        "_chunks",
        "_head",
        "_head_tail",
        "_limits",
        "_line",
        "_max_head",
        "_parser",
        "_payload",
        "failed",
        "held",
    )

    def __init__(self, parser: Any, limits: HttpLimits) -> None:
        self._parser = parser
        self._limits = limits
        self._max_head = limits.max_head_size
        self._payload: Any = None  # the body of the last request, while it arrives
        #: Bytes of the request head under way, counted across packets (0 between heads).
        self._head = 0
        #: Its last three bytes, where a ``\r\n\r\n`` split across packets starts.
        self._head_tail = b""
        #: Bytes left of the ``Content-Length`` body under way; None for a chunked
        #: body, ``_UNKNOWN`` where not known.
        self._body_left: int | None = None
        #: Bytes of the request line under way (of the head under way, before its first
        #: LF); None once it ended, or where the head's start is not known.
        self._line: int | None = 0
        #: The chunked body under way, followed where its start is known.
        self._chunks: ChunkedBody | None = None
        #: An error found after the requests this packet completed, for the next call.
        self.held: BaseException | None = None
        #: The parser refused what it was fed: nothing more is parsed (the answer to
        #: the error, once due, ends the connection).
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)

    def pause_reading(self) -> None:
        self._parser.pause_reading()

    def message_consumed(self) -> None:
        self._parser.message_consumed()

    def feed_eof(self) -> Any:
        return self._parser.feed_eof()

    def set_upgraded(self, val: bool) -> None:
        self._parser.set_upgraded(val)

    def feed_data(self, data: bytes) -> Any:
        if self.held is not None:
            held, self.held = self.held, None
            raise held
        if self.failed:  # the connection ends with the answer to that: nothing more
            return [], False, b""
        if not self._in_body():
            if not self._head:
                # The common case, inline: one whole head within the limit, ending the packet.
                end = data.find(_HEAD_END) + 4
                if 3 < end == len(data) <= self._max_head:
                    result = self._feed(data)
                    self._settle(data, result[0], _HEAD_WHOLE)
                    return result
        elif self._body_left is not None and 0 < len(data) <= self._body_left:
            # Body bytes, the body's end not beyond them.
            result = self._feed(data)
            self._body_left -= len(data)
            return result
        if not data:
            return self._resumed()
        return self._pieces(data)

    def _resumed(self) -> Any:
        """``feed_data(b"")``: aiohttp resuming a parser that paused (its queue of
        requests or a body's reader full) on what it kept of an earlier read."""
        messages, upgraded, tail = self._feed(b"")
        for at, (message, _) in enumerate(messages):
            if _head_size(message) > self._max_head:
                if not at:
                    raise self._refuse()
                self.held = self._refuse()
                return messages[:at], False, b""
        if messages:  # where what it kept ends is the parser's to know
            self._head, self._head_tail, self._line = 0, b"", None
            self._chunks = None
            chunked = bool(getattr(messages[-1][0], "chunked", False))
            self._body_left = None if self._in_body() and chunked else _UNKNOWN
        return messages, upgraded, tail

    def _feed(self, data: bytes) -> Any:
        try:
            result = self._parser.feed_data(data)
        except HttpProcessingError as exc:
            self._failed(exc, data)
            raise
        messages = result[0]
        if messages:
            payload = messages[-1][1]
            self._payload = None if payload is EMPTY_PAYLOAD else payload
            for at, (message, body) in enumerate(messages):
                if message.path[:1] != "/" and message.url.scheme:  # absolute form
                    messages[at] = (_rooted(message), body)
        return result

    def _failed(self, exc: HttpProcessingError, data: bytes) -> None:
        self.failed = True
        line = None if self._in_body() else self._line_length(data)
        setattr(exc, ANSWER, classify(exc, data, self._limits, line))
        payload = self._payload
        if payload is not None and not payload.is_eof() and payload.exception() is None:
            payload.set_exception(exc)  # the request reading its body learns of it

    def _pieces(self, data: bytes) -> Any:
        """Feed ``data`` a piece at a time: each head alone, each known body alone."""
        messages: list[Any] = []
        upgraded, tail = False, b""
        while data:
            try:
                piece, data, kind = self._cut(data)
                found, upgraded, tail = self._feed(piece)
                if kind == _BODY_OPEN:  # heads that followed a chunked body's end
                    for at, (message, _) in enumerate(found):
                        if _head_size(message) > self._max_head:
                            messages.extend(found[:at])
                            raise self._refuse()
                messages.extend(found)
                self._settle(piece, found, kind)
            except HttpProcessingError as exc:
                if not messages:
                    raise
                self.held = exc
                return messages, False, b""
            if upgraded:
                return messages, True, tail + data
        return messages, upgraded, tail

    def _in_body(self) -> bool:
        payload = self._payload
        return payload is not None and not payload.is_eof()

    def _line_length(self, data: bytes) -> int | None:
        """The length of the request line under way once ``data`` (the head's next
        bytes) is added, where known (up to its CR, or all of it so far)."""
        if self._line is None:
            return None
        end = data.find(b"\n")
        if end < 0:
            return self._line + len(data)
        return self._line + end - (end == 0 or data[end - 1 : end] == b"\r")

    def _cut(self, data: bytes) -> tuple[bytes, bytes, int]:
        """The next piece of ``data`` to feed, the rest, and what the piece is;
        ``HttpProcessingError`` where it would take a head beyond the limit (431, or
        what aiohttp's parser refuses first), or where a chunk-size line is refused."""
        chunks = self._chunks
        # Past a chunked body's end, a head comes next (aiohttp's parser, paused by a
        # full reader, may hold the body's last bytes yet).
        if self._in_body() and (chunks is None or not chunks.done):
            left = self._body_left
            if left is None and chunks is not None:
                return self._chunked(data, chunks)
            if left is None or left <= 0:
                return data, b"", _BODY_OPEN
            return data[:left], data[left:], _BODY_KNOWN
        tail = self._head_tail
        at = (tail + data).find(_HEAD_END) if tail else data.find(_HEAD_END)
        if at < 0:
            if self._head + len(data) > self._max_head:
                raise self._refuse(data)
            return data, b"", _HEAD_PART
        end = at + 4 - len(tail)
        if self._head + end > self._max_head:
            raise self._refuse(data)
        return data[:end], data[end:], _HEAD_WHOLE

    def _chunked(self, data: bytes, chunks: ChunkedBody) -> tuple[bytes, bytes, int]:
        """The piece of ``data`` that is the chunked body under way, and the rest."""
        try:
            used = chunks.feed(data)
        except ChunkError as error:
            exc = BadHttpMessage(str(error))
            self._failed(exc, data)
            raise exc from None
        if used < 0:  # its framing is no longer certain (the parser will refuse it)
            self._chunks = None
        elif chunks.done:  # the body ends here: what follows is the next head
            return data[:used], data[used:], _BODY_OPEN
        return data, b"", _BODY_OPEN

    def _refuse(self, data: bytes = b"") -> HttpProcessingError:
        """The 431 for a head beyond the limit; but first ``data`` (the head's next
        bytes) is fed to aiohttp's parser up to the limit, and what it refuses there
        is the answer instead (a request line beyond its own limit is a 414 however
        the head came in packets)."""
        room = self._max_head - self._head
        if data and room > 0:
            try:
                self._feed(data[:room])
            except HttpProcessingError as exc:
                return exc
        self.failed = True
        return _too_large(self._max_head)

    def _settle(self, piece: bytes, found: list[Any], kind: int) -> None:
        """Where the parser stands after ``piece`` (what :meth:`_cut` said it was)."""
        if kind == _BODY_KNOWN:
            assert self._body_left is not None
            self._body_left -= len(piece)
            return
        if kind == _BODY_OPEN and not found and self._chunks is not None and self._chunks.done:
            # The chunked body ended with this piece: a head starts with the next byte.
            self._head, self._head_tail, self._line = 0, b"", 0
            self._body_left = None
            return
        if kind == _HEAD_PART and not found:
            self._head += len(piece)
            self._head_tail = (self._head_tail + piece)[-3:]
            if self._line is not None:
                self._line = None if b"\n" in piece else self._line + len(piece)
            return
        # Where a chunked body is under way, _head_tail holds the last bytes it was fed.
        before = self._head_tail if kind == _BODY_OPEN else b""
        ended_chunked = kind == _BODY_OPEN and self._body_left is None
        self._head, self._head_tail, self._line = 0, b"", 0
        if found:
            message, payload = found[-1]
            chunked = bool(getattr(message, "chunked", False))
            self._chunks = None
            if self._in_body():
                if kind == _HEAD_WHOLE and not chunked:  # nothing of its body fed yet
                    length = message.headers.get(hdrs.CONTENT_LENGTH)
                    self._body_left = int(length) if length is not None else _UNKNOWN
                else:
                    self._body_left = None if chunked else _UNKNOWN
                    if chunked:
                        self._head_tail = piece[-3:]
                        if kind == _HEAD_WHOLE:  # its body starts with the next byte
                            self._chunks = ChunkedBody(self._limits.max_request_line)
                if self._body_left == _UNKNOWN:
                    self._line = None
                return
            # The last message is whole: it ended with its head or a chunked body
            # (so at the packet's last \r\n\r\n), or with a body of known length.
            ended_chunked = payload is EMPTY_PAYLOAD or chunked
        if self._in_body():
            if self._body_left is None:
                self._head_tail = (before + piece)[-3:]
            return
        self._body_left = None
        if kind == _HEAD_WHOLE:
            return  # at a head's start
        if not ended_chunked:
            self._line = None  # after a Content-Length body: where the head starts is not known
            return
        # Out of a chunked body (or past a head) in this piece: the head under way is
        # what follows the last \r\n\r\n (which may have begun in the packet before).
        joined = before + piece
        at = joined.rfind(_HEAD_END)
        if at >= 0:
            self._head = len(joined) - at - 4
            if self._head:
                self._head_tail = joined[-3:]
                self._line = None if b"\n" in joined[at + 4 :] else self._head
            if self._head > self._max_head:
                raise self._refuse()
