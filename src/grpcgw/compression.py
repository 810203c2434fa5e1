"""Compressing a response body with gzip for clients that accept it
(``GatewayOptions.compress_min_size``).

A whole (not streamed) response is gzipped when compression is on, its body
is at least ``min_size`` bytes, its ``Content-Type`` is text-like (JSON, text,
XML, JavaScript, SVG: what compresses; images and archives do not) and it has
no ``Content-Encoding`` already (a ``google.api.HttpBody`` reply may set one),
and the request's ``Accept-Encoding`` takes gzip (RFC 9110 12.5.3: ``gzip``,
``x-gzip`` or ``*`` with a non-zero ``q``, gzip not refused by name). Every
such response, compressed or not, says ``Vary: Accept-Encoding``, so that a
cache keeps the two forms apart; a strong ``ETag`` on a compressed body becomes
weak, since the bytes differ (nginx does the same).

Streams are never compressed: a compressor holds bytes back until it has enough
to emit, which would delay each message of a server stream.

Pure: stdlib ``zlib``; the gateway core calls it, so every front end (aiohttp,
the fast lane, Lambda) sends the same bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import replace

from grpcgw.exchange import HttpResponse

__all__ = ["accepts_gzip", "compress_response", "compressible", "gzip"]

#: zlib's default level: nginx's 1 saves less, 9 costs more for a few bytes.
LEVEL = 6

#: ``Content-Type``s that compress, besides ``text/*``: their media type, or a suffix.
_TYPES = frozenset(
    {
        "application/json",
        "application/x-ndjson",
        "application/javascript",
        "application/xml",
        "application/yaml",
        "application/x-yaml",
        "image/svg+xml",
    }
)
_SUFFIXES = ("+json", "+xml")


def compressible(content_type: str | None) -> bool:
    """Whether a body of ``content_type`` is worth compressing."""
    if not content_type:
        return False
    media = content_type.partition(";")[0].strip().lower()
    return media.startswith("text/") or media in _TYPES or media.endswith(_SUFFIXES)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` value takes gzip (absent: no; the client asks)."""
    if not accept_encoding:
        return False
    gzip_q: float | None = None
    star_q: float | None = None
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        q = _quality(params)
        if coding == "*":
            star_q = q
        else:
            gzip_q = q if gzip_q is None else max(gzip_q, q)
    if gzip_q is not None:
        return gzip_q > 0
    return star_q is not None and star_q > 0


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0  # an unreadable weight: not taken as consent
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


def gzip(body: bytes) -> bytes:
    """``body`` in the gzip format (RFC 1952), at :data:`LEVEL`."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    return compressor.compress(body) + compressor.flush()


def compress_response(
    request_headers: Sequence[tuple[str, str]], response: HttpResponse, min_size: int
) -> HttpResponse:
    """``response``, gzipped if the module's rules allow (see the module docstring),
    with ``Vary: Accept-Encoding`` where they could."""
    if response.stream is not None or len(response.body) < min_size:
        return response
    headers = response.headers
    content_type = None
    for name, value in headers:
        lower = name.lower()
        if lower == "content-encoding":
            return response
        if lower == "content-type" and content_type is None:
            content_type = value
    if not compressible(content_type):
        return response
    headers = _vary(headers)
    accept = ", ".join(v for k, v in request_headers if k.lower() == "accept-encoding")
    if not accepts_gzip(accept):
        return replace(response, headers=headers)
    headers = [(k, _weak(v) if k.lower() == "etag" else v) for k, v in headers]
    headers.append(("Content-Encoding", "gzip"))
    return replace(response, headers=headers, body=gzip(response.body))


def _vary(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    for name, value in headers:
        if name.lower() == "vary":
            fields = {f.strip().lower() for f in value.split(",")}
            if "accept-encoding" in fields or "*" in fields:
                return list(headers)
    return [*headers, ("Vary", "Accept-Encoding")]


def _weak(etag: str) -> str:
    return etag if etag.startswith("W/") else "W/" + etag
