"""HTTP headers <-> gRPC metadata, compatible with grpc-gateway's defaults.

Incoming: ``Authorization`` -> ``authorization``; ``Grpc-Metadata-<k>`` -> ``<k>``;
the permanent HTTP request headers -> ``grpcgateway-<k>``; everything else is
dropped unless a user-supplied :data:`HeaderMatcher` keeps it. ``-bin`` values
are base64-decoded; ``x-forwarded-host`` / ``x-forwarded-for`` are added. No
header sets a key gRPC reserves or one the Lambda adapter sets (``CONTEXT_KEYS``).
``Host`` becomes ``x-forwarded-host`` only, as in grpc-gateway (Go's HTTP server
takes it out of the header map before any matcher sees it).

Outgoing: header metadata -> ``Grpc-Metadata-<k>``, trailer metadata ->
``Grpc-Trailer-<k>`` (as ordinary headers: the response is complete before it
is sent), ``set-cookie`` of either -> ``Set-Cookie``; binary values
base64-encoded; ``x-http-code`` sets the status. Outgoing matchers
(:class:`OutgoingHeaders`) replace the names.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Final

from grpcgw.lazyre import lazy_compile

#: Maps an HTTP header name to a metadata key, or ``None`` to drop the header.
HeaderMatcher = Callable[[str], "str | None"]

Metadata = Sequence[tuple[str, "str | bytes"]]

METADATA_HEADER_PREFIX = "grpc-metadata-"
METADATA_PREFIX = "grpcgateway-"
TRAILER_HEADER_PREFIX = "Grpc-Trailer-"
RESPONSE_HEADER_PREFIX = "Grpc-Metadata-"
HTTP_CODE_KEY = "x-http-code"

# grpc-gateway's isPermanentHTTPHeader: standard request headers a service may
# care about, forwarded under the grpcgateway- prefix.
_PERMANENT = frozenset(
    h.lower()
    for h in (
        "Accept", "Accept-Charset", "Accept-Language", "Accept-Ranges", "Authorization",
        "Cache-Control", "Content-Type", "Cookie", "Date", "Expect", "From", "Host",
        "If-Match", "If-Modified-Since", "If-None-Match", "If-Schedule-Tag-Match",
        "If-Unmodified-Since", "Max-Forwards", "Origin", "Pragma", "Referer", "User-Agent",
        "Via", "Warning",
    )
)  # fmt: skip

# Keys gRPC reserves for itself or that name HTTP/2 connection state: sending
# them as metadata would fail the call or be silently overridden.
_RESERVED = frozenset(
    (
        "connection", "content-length", "content-type", "host", "keep-alive",
        "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent",
    )
)  # fmt: skip

#: Metadata keys the Lambda adapter adds to every call from the event and the
#: invocation (docs/lambda.md). Interceptors trust them (the authorizer's claims),
#: so no header ever maps to one, whatever the matcher says.
REQUEST_ID_KEY = "x-lambda-request-id"
APIGW_REQUEST_ID_KEY = "x-apigateway-request-id"
AUTHORIZER_KEY = "x-apigateway-authorizer"
EVENT_SOURCE_KEY = "x-lambda-event-source"
CONTEXT_KEYS = frozenset((REQUEST_ID_KEY, APIGW_REQUEST_ID_KEY, AUTHORIZER_KEY, EVENT_SOURCE_KEY))
_NOT_FROM_HEADERS = _RESERVED | CONTEXT_KEYS

_VALID_KEY = re.compile(r"[0-9a-z_.\-]+")
# ASCII digits only: \d would take the digits of any script (Arabic-Indic ones too).
_TIMEOUT = lazy_compile(r"([0-9]{1,8})([HMSmun])")
_TIMEOUT_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
# Longer timeouts overflow grpcio's clock and expire at once (99999999H is legal):
# anything longer is taken as this, about 31 years.
MAX_TIMEOUT = 1e9

#: The metadata size limit of every gRPC channel and server grpcgw creates, in
#: gRPC's measure (key + value + 32 bytes per entry). gRPC's own defaults (8 KiB,
#: refused at random up to a hard 16 KiB) are less than HTTP servers accept in
#: headers, and an ``Authorization`` header is forwarded twice.
MAX_METADATA_SIZE = 64 * 1024
#: The gRPC channel and server arguments that set both of gRPC's limits to it.
METADATA_SIZE_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.max_metadata_size", MAX_METADATA_SIZE),
    ("grpc.absolute_max_metadata_size", MAX_METADATA_SIZE),
)
#: The most request metadata the gateway sends: the rest of MAX_METADATA_SIZE is
#: left for what gRPC adds (``:path``, ``:authority``, ``te``, ``user-agent``, ...).
MAX_REQUEST_METADATA = MAX_METADATA_SIZE - 4 * 1024
# gRPC counts this much per entry on top of the key and value (HPACK's overhead).
_ENTRY_OVERHEAD = 32


class MetadataError(ValueError):
    """A header that cannot become metadata (bad ``-bin`` value, bad ``Grpc-Timeout``,
    a value that is not printable ASCII)."""


class MetadataTooLarge(MetadataError):
    """The headers to forward make more metadata than :data:`MAX_REQUEST_METADATA`."""


def default_header_matcher(name: str) -> str | None:
    """grpc-gateway's ``DefaultHeaderMatcher``: which headers become which metadata keys."""
    key = name.lower()
    if key in _PERMANENT:
        return METADATA_PREFIX + key
    if key.startswith(METADATA_HEADER_PREFIX):
        return key[len(METADATA_HEADER_PREFIX) :]
    return None


def forwarded_as(header: str, matcher: HeaderMatcher) -> str | None:
    """The metadata key a request header of this name is sent as, or ``None`` when
    it is not forwarded: ``authorization`` for ``Authorization`` whatever the matcher
    says, else what ``matcher`` makes of it, unless the key is one no header sets."""
    lower, key, _, _ = _rule(header, matcher)
    return "authorization" if lower == "authorization" else key


def _allowed_key(key: str) -> bool:
    return (
        bool(_VALID_KEY.fullmatch(key))
        and key not in _NOT_FROM_HEADERS
        and not key.startswith("grpc-")
    )


def parse_grpc_timeout(value: str) -> float:
    """Parse a ``Grpc-Timeout`` header (``100m``, ``5S``, ``1H``) to seconds."""
    m = _TIMEOUT.fullmatch(value.strip(" \t"))
    if not m:
        raise MetadataError(
            f"invalid Grpc-Timeout {value!r}: expected up to 8 digits and a unit (H M S m u n)"
        )
    return min(int(m.group(1)) * _TIMEOUT_UNITS[m.group(2)], MAX_TIMEOUT)


def call_metadata(
    headers: Iterable[tuple[str, str]],
    *,
    remote_addr: str | None = None,
    host: str | None = None,
    matcher: HeaderMatcher = default_header_matcher,
    extra: Metadata = (),
    limit: int = MAX_REQUEST_METADATA,
) -> tuple[list[tuple[str, str | bytes]], float | None]:
    """The metadata to send with a call made for a request with these headers
    (then ``extra``), and the shortest ``Grpc-Timeout`` among the headers (in
    seconds; ``None`` without one), in one pass over the headers.

    Raises :class:`MetadataError` for a header that cannot be forwarded, and
    :class:`MetadataTooLarge` when the metadata would exceed ``limit`` bytes.
    """
    out: list[tuple[str, str | bytes]] = []
    timeout: float | None = None
    forwarded_host = None
    forwarded_for: list[str] = []
    cache = _DEFAULT_RULES if matcher is default_header_matcher else None
    for name, value in headers:
        rule = None if cache is None else cache.get(name)
        if rule is None:
            rule = _rule(name, matcher)
            if cache is not None and len(cache) < _MAX_CACHED_RULES:
                cache[name] = rule
        lower, key, special, binary = rule
        if special:  # one of the few headers read below (most are not)
            # As grpc-gateway: every X-Forwarded-For joined (the client's address is
            # appended below), the first X-Forwarded-Host (Go's Header.Get).
            if lower == "x-forwarded-for":
                forwarded_for.append(value)  # joined once below: += per value is quadratic
                continue
            if lower == "x-forwarded-host":
                if forwarded_host is None:
                    forwarded_host = value
                continue
            if lower == "host":
                # Go's net/http moves Host out of the header map, so grpc-gateway forwards
                # it only as x-forwarded-host: never as grpcgateway-host, nor to a matcher.
                if host is None:
                    host = value
                continue
            if lower == "grpc-timeout":
                seconds = parse_grpc_timeout(value)
                timeout = seconds if timeout is None else min(timeout, seconds)
            else:  # authorization
                # grpc-gateway passes it through unprefixed, whatever the matcher says.
                out.append(("authorization", _text(name, value)))
        if key is None:
            continue
        if binary:
            out.append((key, _decode_bin(name, value)))
        elif value.isascii() and value.isprintable():  # _text(), inline: most headers
            out.append((key, value))
        else:
            out.append((key, _text(name, value)))  # raises
    if forwarded_host:
        out.append(("x-forwarded-host", _text("X-Forwarded-Host", forwarded_host)))
    elif host:
        out.append(("x-forwarded-host", _text("Host", host)))
    chain = _text("X-Forwarded-For", ", ".join(forwarded_for)) if forwarded_for else ""
    if remote_addr:
        out.append(("x-forwarded-for", f"{chain}, {remote_addr}" if chain else remote_addr))
    elif chain:
        out.append(("x-forwarded-for", chain))
    if extra:
        out.extend(extra)
    # Measured as gRPC measures it, before the call (about 0.2 µs for a few entries),
    # so that gRPC never refuses it midway, at random, with its own message.
    size = _ENTRY_OVERHEAD * len(out)
    for entry_key, entry_value in out:
        size += len(entry_key) + len(entry_value)
    if size > limit:
        raise MetadataTooLarge(
            f"request headers too large: forwarded as gRPC metadata they take {size} bytes, "
            f"more than the limit of {limit}"
        )
    return out, timeout


def _text(name: str, value: str) -> str:
    # Printable ASCII (0x20-0x7E) is exactly the ASCII that isprintable() accepts.
    if not (value.isascii() and value.isprintable()):
        raise MetadataError(
            f"header {name} cannot be sent as gRPC metadata: its value must be printable "
            "ASCII (send binary values base64-encoded in a -bin header)"
        )
    return value


# What the default matcher makes of each header name, as (lowercased name, metadata
# key or None, whether call_metadata reads it itself, whether the key is a -bin one):
# header names repeat from request to request. Bounded, since clients choose the names.
_Rule = tuple[str, str | None, bool, bool]
_DEFAULT_RULES: dict[str, _Rule] = {}
_MAX_CACHED_RULES = 1024
#: The headers call_metadata reads itself, besides mapping them.
_SPECIAL: Final = frozenset(
    ("x-forwarded-for", "x-forwarded-host", "host", "grpc-timeout", "authorization")
)


def _rule(name: str, matcher: HeaderMatcher) -> _Rule:
    lower = name.lower()
    if lower == "host":  # only ever x-forwarded-host (see call_metadata)
        return lower, None, True, False
    key = matcher(name)
    if key is not None:
        key = key.lower()
        if not _allowed_key(key):
            key = None
    return lower, key, lower in _SPECIAL, key is not None and key.endswith("-bin")


def _decode_bin(name: str, value: str) -> bytes:
    text = value.strip()
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise MetadataError(f"invalid binary header {name}: not base64") from None


def _header_value(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


#: Maps a response metadata key to a response header name, or ``None`` to drop the
#: entry: grpc-gateway's ``WithOutgoingHeaderMatcher`` (header metadata) and
#: ``WithOutgoingTrailerMatcher`` (trailer metadata).
OutgoingMatcher = Callable[[str], "str | None"]

SET_COOKIE_KEY = "set-cookie"


def default_outgoing_header_matcher(key: str) -> str | None:
    """Header metadata ``<k>`` -> ``Grpc-Metadata-<k>`` (grpc-gateway's default), except
    ``set-cookie``, which becomes a real ``Set-Cookie`` header (grpc-gateway needs a
    matcher for that)."""
    if key == SET_COOKIE_KEY:
        return "Set-Cookie"
    return RESPONSE_HEADER_PREFIX + key


def default_outgoing_trailer_matcher(key: str) -> str | None:
    """Trailer metadata ``<k>`` -> ``Grpc-Trailer-<k>`` (grpc-gateway's default), except
    ``set-cookie``, which becomes a real ``Set-Cookie`` header."""
    if key == SET_COOKIE_KEY:
        return "Set-Cookie"
    return TRAILER_HEADER_PREFIX + key


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Headers that frame the response or the connection: the gateway sets them, never a matcher.
_NOT_FROM_METADATA = frozenset(
    (
        "connection", "content-length", "content-type", "keep-alive", "proxy-connection",
        "te", "trailer", "transfer-encoding", "upgrade",
    )
)  # fmt: skip


class OutgoingHeaders:
    """Response headers for the metadata of a call, by a pair of outgoing matchers.

    What a matcher makes of each key is remembered (keys repeat from call to
    call); a name that is not an HTTP token, or one that frames the response
    (``Content-Length``, ``Content-Type``, hop-by-hop headers), drops the entry.
    """

    __slots__ = ("_header", "_header_names", "_trailer", "_trailer_names")

    def __init__(
        self,
        header_matcher: OutgoingMatcher | None = None,
        trailer_matcher: OutgoingMatcher | None = None,
    ) -> None:
        self._header = header_matcher or default_outgoing_header_matcher
        self._trailer = trailer_matcher or default_outgoing_trailer_matcher
        self._header_names: dict[str, str | None] = {}
        self._trailer_names: dict[str, str | None] = {}

    def __call__(
        self, header_metadata: Metadata, trailing_metadata: Metadata
    ) -> tuple[list[tuple[str, str]], int | None]:
        """The headers, and the status ``x-http-code`` asks for."""
        headers: list[tuple[str, str]] = []
        status: int | None = None
        names = self._header_names
        for key, value in header_metadata:
            if key == HTTP_CODE_KEY:
                status = _http_code(value)
                continue
            name = names[key] if key in names else self._name(self._header, names, key)
            if name is not None:
                headers.append((name, _header_value(value)))
        names = self._trailer_names
        for key, value in trailing_metadata:
            if key == HTTP_CODE_KEY and status is None:
                status = _http_code(value)
                continue
            name = names[key] if key in names else self._name(self._trailer, names, key)
            if name is not None:
                headers.append((name, _header_value(value)))
        return headers, status

    @staticmethod
    def _name(matcher: OutgoingMatcher, cache: dict[str, str | None], key: str) -> str | None:
        name = matcher(key)
        if name is not None and (
            not isinstance(name, str)
            or not _HEADER_NAME.fullmatch(name)
            or name.lower() in _NOT_FROM_METADATA
        ):
            name = None
        if len(cache) < _MAX_CACHED_RULES:  # servers choose the keys: bounded
            cache[key] = name
        return name


_DEFAULT_OUTGOING = OutgoingHeaders()


def response_headers(
    header_metadata: Metadata, trailing_metadata: Metadata
) -> tuple[list[tuple[str, str]], int | None]:
    """Response headers for the metadata of a call by the default outgoing matchers,
    and the status ``x-http-code`` asks for."""
    return _DEFAULT_OUTGOING(header_metadata, trailing_metadata)


def _http_code(value: str | bytes) -> int | None:
    # Three ASCII digits: int() would also take " 201", "2_01" and other scripts' digits.
    if isinstance(value, bytes) or len(value) != 3 or not (value.isascii() and value.isdigit()):
        return None
    code = int(value)
    return code if 200 <= code <= 599 else None
