"""A request body's ``Content-Encoding``, decoded where no HTTP server did: on Lambda.

Over HTTP, aiohttp's parser decompresses ``gzip`` and ``deflate`` bodies
before the gateway sees them (:mod:`grpcgw.web`). API Gateway, function URLs
and ALBs pass a compressed body on as it came, so the Lambda handler decodes
it here, by the same rules: ``identity`` (or an empty list of codings) is the
body as it is; ``gzip`` and ``deflate`` (zlib's format, or raw deflate as
aiohttp also reads) are decompressed, no further than ``max_request_body``
(a bomb stops there); any other coding, or a list of them, is ``415`` rather
than passed on as if it were the body. A body that does not decode, or stops
short of its end, is ``400``: what decoded so far is never passed on. Pure:
stdlib ``zlib``.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from grpcgw.errors import Code, GatewayError

__all__ = ["DECODED", "content_encoding", "decode_body"]

#: The codings decoded (what aiohttp decodes without optional codecs).
DECODED = frozenset({"identity", "gzip", "deflate"})


def content_encoding(headers: Sequence[tuple[str, str]]) -> str | None:
    """The request's ``Content-Encoding`` (repeated headers joined with ``, ``, as a
    list of codings is), or ``None`` when it has none or an empty one."""
    values = [v for k, v in headers if len(k) == 16 and k.lower() == "content-encoding"]
    if not values:
        return None
    joined = ", ".join(v.strip() for v in values if v.strip())
    return joined or None  # an empty list of codings (RFC 9110 5.6.1): none


def decode_body(body: bytes, encoding: str, max_size: int) -> bytes:
    """``body`` decoded from ``encoding`` (a :func:`content_encoding` value), at most
    ``max_size`` bytes of it. Raises :class:`~grpcgw.errors.GatewayError`: 415 for a
    coding not decoded, 400 for one that does not decode, 413 past ``max_size``."""
    coding = encoding.strip().lower()
    if coding not in DECODED:
        raise GatewayError(
            Code.INVALID_ARGUMENT,
            f"Content-Encoding {encoding.strip()[:50]!r} is not supported",
            http_status=415,
            headers=[("Accept-Encoding", ", ".join(sorted(DECODED - {"identity"})))],
        )
    if coding == "identity" or not body:
        return body
    if coding == "gzip":
        wbits = 16 + zlib.MAX_WBITS
    elif body[0] & 0x0F == 8:  # a zlib header (RFC 1950): deflate as RFC 9110 means it
        wbits = zlib.MAX_WBITS
    else:  # raw deflate, which some clients send for "deflate" (aiohttp reads it too)
        wbits = -zlib.MAX_WBITS
    out: list[bytes] = []
    size = 0
    data = body
    try:
        while data:  # gzip may hold several members, one after the other
            decoder = zlib.decompressobj(wbits)
            while data:
                chunk = decoder.decompress(data, max_size + 1 - size)
                size += len(chunk)
                if size > max_size:
                    raise GatewayError(
                        Code.RESOURCE_EXHAUSTED,
                        f"request body exceeds the limit of {max_size} bytes",
                        http_status=413,
                    )
                out.append(chunk)
                if decoder.eof:
                    break
                data = decoder.unconsumed_tail
            if not decoder.eof:
                raise zlib.error("truncated")
            data = decoder.unused_data if coding == "gzip" else b""
    except zlib.error:
        raise GatewayError(
            Code.INVALID_ARGUMENT, f"malformed request body: not valid {coding} data"
        ) from None
    return b"".join(out)
