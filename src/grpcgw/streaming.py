"""How streams travel over HTTP: newline-delimited JSON, server-sent events, raw bytes.

Server streaming (grpc-gateway's format): one ``{"result": <message>}`` line
per reply, and a failure after the first reply as a last
``{"error": <google.rpc.Status>}`` line. With ``Accept: text/event-stream``
each reply is an SSE event ``data: <message>`` and a failure an
``event: error`` event. A stream of ``google.api.HttpBody`` replies is the
concatenation of their ``data``, with the first reply's content type.

Client streaming: the request body is newline-delimited JSON, one request
message per line (a ``google.api.HttpBody`` request is sent as raw chunks).

Over WebSocket (:mod:`grpcgw.wsframes`) each frame carries what one NDJSON line
does, without the newline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

NDJSON: Final = "application/x-ndjson"
EVENT_STREAM: Final = "text/event-stream"
#: Raw request bodies are sent to HttpBody client streams in chunks of this size.
RAW_CHUNK: Final = 1 << 20


class Framing:
    """Newline-delimited JSON: ``{"result": ...}`` lines, ``{"error": ...}`` to end badly."""

    content_type: str = NDJSON
    #: A failure can be told in the stream itself.
    can_report_errors = True

    def message(self, body: bytes) -> bytes:
        return b'{"result":' + body + b"}\n"

    def error(self, status_body: bytes) -> bytes:
        return b'{"error":' + status_body + b"}\n"


class ServerSentEvents(Framing):
    """``text/event-stream``: what a browser's ``EventSource`` reads."""

    content_type = EVENT_STREAM

    def message(self, body: bytes) -> bytes:
        return b"data: " + body + b"\n\n"

    def error(self, status_body: bytes) -> bytes:
        return b"event: error\ndata: " + status_body + b"\n\n"


class WebSocketFrames(Framing):
    """One WebSocket text frame per reply: the NDJSON line without its newline."""

    content_type = "application/json"

    def message(self, body: bytes) -> bytes:
        return b'{"result":' + body + b"}"

    def error(self, status_body: bytes) -> bytes:
        return b'{"error":' + status_body + b"}"


class RawBytes(Framing):
    """``google.api.HttpBody`` replies: their bytes, back to back, no delimiter."""

    content_type = "application/octet-stream"
    can_report_errors = False

    def message(self, body: bytes) -> bytes:
        return body

    def error(self, status_body: bytes) -> bytes:
        raise NotImplementedError("a raw byte stream cannot carry an error")


def choose_framing(accept: str | None, *, http_body: bool) -> Framing:
    """The framing for a server stream, from the reply type and the client's ``Accept``."""
    if http_body:
        return RawBytes()
    if accept and EVENT_STREAM in accept.lower():
        return ServerSentEvents()
    return Framing()


def split_lines(body: bytes) -> Iterator[bytes]:
    """The non-blank lines of a newline-delimited JSON body."""
    for line in body.split(b"\n"):
        if line.strip():
            yield line


def raw_chunks(body: bytes) -> Iterator[bytes]:
    """A raw body in chunks small enough for gRPC's default 4 MiB message limit."""
    for start in range(0, len(body), RAW_CHUNK):
        yield body[start : start + RAW_CHUNK]
