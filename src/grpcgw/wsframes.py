"""The rules of grpcgw's WebSocket transport for streaming methods (pure: no aiohttp).

A client opens a call with a ``GET`` carrying ``Upgrade: websocket`` on the path
of a streaming method's binding, whatever the binding's verb
(:func:`wants_upgrade`, :func:`websocket_methods`). Each client text frame is
one request message in JSON, as one NDJSON line of an HTTP client stream; the
text frame ``EOF`` (not JSON, so never a message) is the client's half-close.
Each reply is one text frame ``{"result": ...}``, a failure a last
``{"error": <google.rpc.Status>}`` frame (:class:`grpcgw.streaming.WebSocketFrames`),
and the server closes with :data:`NORMAL` when the call has ended.

A handshake from a page of another origin is refused (:func:`same_origin`):
browsers send cookies with cross-origin WebSocket handshakes and CORS does not
apply to them (Cross-Site WebSocket Hijacking).

A browser cannot set headers on a handshake, only subprotocols
(``new WebSocket(url, protocols)``): a bearer token offered as the subprotocol
:data:`TOKEN_PREFIX` ``+ base64url(token)`` becomes the call's
``authorization: Bearer <token>``, and the answer selects :data:`SUBPROTOCOL`,
never the token (:func:`negotiate`). docs/streaming.md has the whole contract
and why.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from typing import Final, NamedTuple
from urllib.parse import urlsplit

#: The client's half-close: no more request messages.
END: Final = b"EOF"

# Close codes (RFC 6455 7.4.1).
#: The call ended (its outcome is in the frames before).
NORMAL: Final = 1000
#: The server is stopping (the call is cancelled; an ``UNAVAILABLE`` frame says so).
GOING_AWAY: Final = 1001
#: A binary frame: the transport carries JSON text.
UNSUPPORTED_DATA: Final = 1003
#: A frame that is not a request message (bad JSON, a field of the wrong type).
INVALID_DATA: Final = 1007
#: A frame the method does not take (a second request to a method that takes one,
#: a message after ``EOF``).
POLICY_VIOLATION: Final = 1008
#: A frame larger than ``max_request_body``.
TOO_BIG: Final = 1009
#: The gateway failed.
INTERNAL_ERROR: Final = 1011

#: The subprotocol the gateway's answer selects: these frames. A client offering a
#: token offers it too (browsers fail a handshake whose answer selects no protocol
#: they offered; the token itself is never echoed back).
SUBPROTOCOL: Final = "grpcgw.v1"
#: A subprotocol starting so carries a bearer token, base64url-encoded (RFC 4648 5,
#: padding optional): the scheme of Kubernetes' ``base64url.bearer.authorization.k8s.io.``.
TOKEN_PREFIX: Final = "base64url.bearer.authorization.grpcgw."

#: The verbs whose binding a handshake may open, in the order they are tried when
#: a path has streaming bindings under several (``GET`` first: its own route).
VERB_ORDER: Final = ("GET", "POST", "PUT", "PATCH", "DELETE")


def wants_upgrade(method: str, headers: Iterable[tuple[str, str]]) -> bool:
    """Whether a request asks to open a WebSocket: a ``GET`` whose ``Upgrade``
    lists ``websocket`` (RFC 6455 4.2.1; the handshake itself is checked by the
    server that answers it)."""
    if method != "GET":
        return False
    for name, value in headers:
        if len(name) == 7 and name.lower() == "upgrade":
            return any(token.strip().lower() == "websocket" for token in value.split(","))
    return False


def websocket_methods(allowed: Sequence[str]) -> list[str]:
    """The verbs of a path's routes in the order a handshake tries them: those of
    :data:`VERB_ORDER` first, then custom verbs by name."""
    known = [verb for verb in VERB_ORDER if verb in allowed]
    return known + sorted(verb for verb in allowed if verb not in VERB_ORDER)


def _netloc(host: str, scheme: str) -> str:
    """``host[:port]`` lowercased, without the scheme's default port."""
    host = host.strip().lower()
    default = {"http": ":80", "https": ":443", "ws": ":80", "wss": ":443"}.get(scheme)
    if default is not None and host.endswith(default):
        host = host[: -len(default)]
    return host


def same_origin(origin: str, host: str | None) -> bool:
    """Whether a page at ``origin`` (the handshake's ``Origin``) is served by this
    host (the handshake's ``Host``): the same host and port.

    The scheme is not compared: behind a proxy that ends TLS the gateway sees
    ``http`` where the page was ``https``; the host and port still tell another
    site apart, which is what Cross-Site WebSocket Hijacking needs.
    """
    if not host:
        return False
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False  # "null" (sandboxed pages, file:) and anything malformed
    mine = _netloc(host, "http")
    theirs = _netloc(parts.netloc, parts.scheme)
    if mine == theirs:
        return True
    # Host may carry the port an https origin omits (and the reverse).
    return _netloc(host, "https") == theirs


#: Headers of the handshake's answer that are the handshake's own or would frame a
#: body it does not have (besides every ``Sec-WebSocket-*``).
_HANDSHAKE_OWN: Final = frozenset(
    ("upgrade", "connection", "keep-alive", "content-length", "transfer-encoding")
)


def answer_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers a ``response_hook`` gives a handshake's ``101`` answer that it may
    carry: not ``Upgrade``, ``Connection``, ``Sec-WebSocket-*`` (the handshake's own,
    which a client checks: a subprotocol it did not offer fails the handshake) nor
    ``Content-Length``, ``Transfer-Encoding`` (no body follows a 101)."""
    return [
        (name, value)
        for name, value in headers
        if name.lower() not in _HANDSHAKE_OWN and not name.lower().startswith("sec-websocket-")
    ]


class Subprotocols(NamedTuple):
    """What a handshake's ``Sec-WebSocket-Protocol`` offers (:func:`negotiate`)."""

    #: The subprotocol to select in the answer (:data:`SUBPROTOCOL` or ``None``).
    selected: str | None
    #: The bearer token a token subprotocol carried, decoded, or ``None``.
    token: str | None


class SubprotocolError(ValueError):
    """A token subprotocol the gateway cannot take (its message never holds the token)."""


# RFC 6750 2.1 b64token: what may follow "Bearer " in an Authorization header.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def negotiate(headers: Iterable[tuple[str, str]]) -> Subprotocols:
    """The subprotocols a handshake offers (every ``Sec-WebSocket-Protocol`` header,
    comma-separated): :data:`SUBPROTOCOL` when offered, and the bearer token of a
    :data:`TOKEN_PREFIX` subprotocol. Raises :class:`SubprotocolError` for a token
    that is not base64url of an RFC 6750 bearer token, for two tokens, and for a
    token offered without :data:`SUBPROTOCOL` (a browser would fail the handshake
    its answer selects nothing in)."""
    selected: str | None = None
    token: str | None = None
    for name, value in headers:
        if len(name) != 22 or name.lower() != "sec-websocket-protocol":
            continue
        for item in value.split(","):
            offered = item.strip()
            if offered == SUBPROTOCOL:
                selected = SUBPROTOCOL
            elif offered.startswith(TOKEN_PREFIX):
                if token is not None:
                    raise SubprotocolError("more than one bearer token subprotocol")
                token = _bearer(offered[len(TOKEN_PREFIX) :])
    if token is not None and selected is None:
        raise SubprotocolError(
            f"a bearer token subprotocol must be offered with {SUBPROTOCOL!r}, "
            "the subprotocol the answer selects"
        )
    return Subprotocols(selected, token)


def _bearer(encoded: str) -> str:
    """The token a token subprotocol's suffix encodes."""
    if not _BASE64URL.fullmatch(encoded):
        raise SubprotocolError(f"bearer token subprotocol: not base64url after {TOKEN_PREFIX!r}")
    try:
        bare = encoded.rstrip("=")
        raw = base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4))
    except (binascii.Error, ValueError):
        raise SubprotocolError(
            f"bearer token subprotocol: not base64url after {TOKEN_PREFIX!r}"
        ) from None
    try:
        token = raw.decode("ascii")
    except UnicodeDecodeError:
        token = ""
    if not _B64TOKEN.fullmatch(token):
        raise SubprotocolError(
            "bearer token subprotocol: the decoded token is not an RFC 6750 bearer token"
        )
    return token
