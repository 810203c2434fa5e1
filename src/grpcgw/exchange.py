"""An HTTP exchange as values: :class:`HttpRequest` in, :class:`HttpResponse` out (pure).

What the web and Lambda adapters turn their requests into and write back;
the gateway knows nothing else of HTTP servers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from grpcgw.errors import GatewayError
from grpcgw.lazyre import lazy_compile

if TYPE_CHECKING:
    from google.protobuf.message import Message

log = logging.getLogger("grpcgw")

JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """An HTTP request as the gateway sees it, independent of the server that received it.

    ``path`` is the raw request path with its percent-escapes intact (routing
    decodes path variables itself, so ``%2F`` never splits a segment), and
    ``query`` the raw query string, without the ``?``. (:meth:`Gateway.handle
    <grpcgw.Gateway.handle>` also takes a ``path`` that still carries its
    ``?query`` when ``query`` is empty.) A field of the wrong type (a ``dict`` of
    headers, a ``str`` body) raises :class:`TypeError` naming it; a ``bytearray``
    or ``memoryview`` body is taken as ``bytes``, a subclass of ``str`` (such as
    ``http.HTTPMethod.GET``) as the ``str`` it is.
    """

    method: str
    path: str
    query: str = ""
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    #: The client's address, forwarded as ``x-forwarded-for``.
    remote_addr: str | None = None
    #: Metadata to send besides what the headers map to (e.g. the Lambda request context).
    metadata: Sequence[tuple[str, str]] = ()
    #: Seconds the call may take at most (e.g. what is left of a Lambda invocation).
    #: Any float is safe: one beyond about 31 years (``inf`` too) is taken as that,
    #: and one that is not above zero (``NaN`` too) is ignored.
    deadline: float | None = None
    #: The runtime's id for this request (the Lambda request id), for the access
    #: log; without it the log takes the client's ``X-Request-Id`` or makes one.
    request_id: str | None = None

    def __post_init__(self) -> None:
        # What a requests/httpx habit passes (a dict of headers, a str body) would
        # otherwise fail deep inside the gateway, as a 500 with a traceback in the log.
        if (
            type(self.body) is not bytes
            or type(self.headers) not in _PAIRS
            or type(self.metadata) not in _PAIRS
            or type(self.method) is not str
            or type(self.path) is not str
            or type(self.query) is not str
        ):
            _check(self)


_PAIRS = (list, tuple)


def _check(request: HttpRequest) -> None:
    for name in ("method", "path", "query"):
        value = getattr(request, name)
        if not isinstance(value, str):
            raise TypeError(f"HttpRequest.{name} must be a str, not {type(value).__name__}")
        if type(value) is not str:  # http.HTTPMethod.GET, say: kept as the plain str
            object.__setattr__(request, name, str.__str__(value))
    for name in ("headers", "metadata"):
        value = getattr(request, name)
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
            hint = f": pass list({name}.items())" if isinstance(value, Mapping) else ""
            raise TypeError(
                f"HttpRequest.{name} must be a sequence of (name, value) pairs, "
                f"not {type(value).__name__}{hint}"
            )
    body: object = request.body
    if isinstance(body, (bytes, bytearray, memoryview)):
        object.__setattr__(request, "body", bytes(body))
    elif type(body) is not bytes:
        hint = ": encode it (body=text.encode())" if isinstance(body, str) else ""
        raise TypeError(f"HttpRequest.body must be bytes, not {type(body).__name__}{hint}")


@dataclass(slots=True)
class HttpResponse:
    """An HTTP response: status, header list (repeats allowed) and body bytes.

    A streamed reply has ``stream`` instead of ``body``: chunks to send (and
    flush) as they come. Closing the iterator (``aclose()``) early cancels the
    gRPC call.
    """

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None

    async def read(self) -> bytes:
        """The whole body, collecting a stream (for adapters that cannot stream)."""
        if self.stream is None:
            return self.body
        return b"".join([chunk async for chunk in self.stream])

    def header(self, name: str) -> str | None:
        """The first value of a header, case-insensitively."""
        lower = name.lower()
        return next((v for k, v in self.headers if k.lower() == lower), None)

    def json(self) -> Any:
        """The body decoded as JSON.

        A streamed reply (a server-streaming method's JSON lines) has no ``body``
        yet: collect it with ``await response.read()`` first.
        """
        if self.stream is not None:
            raise ValueError(
                "this response is streamed (a server-streaming method, "
                f"{self.header('Content-Type') or 'no Content-Type'}): its body is in "
                "`stream`; `await response.read()` collects it, one JSON document per line"
            )
        return json.loads(self.body)


#: ``response_hook(request, response, reply)``: may change a successful response
#: (headers, status, body) or return a new one; ``reply`` is ``None`` for streams.
ResponseHook = Callable[[HttpRequest, HttpResponse, "Message | None"], "HttpResponse | None"]
#: ``error_hook(request, error)``: renders every error response instead of the
#: default; inside a stream, its response's body becomes the error frame's payload.
ErrorHook = Callable[[HttpRequest, GatewayError], HttpResponse]


def error_response(
    error: GatewayError, extra_headers: Sequence[tuple[str, str]] = ()
) -> HttpResponse:
    """The HTTP response for a :class:`GatewayError`: a ``google.rpc.Status`` JSON body."""
    headers = [("Content-Type", JSON_CONTENT_TYPE), *error.headers, *extra_headers]
    return HttpResponse(error.http_status, headers, error.body())


#: An HTTP header name (RFC 9110 token).
_HEADER_NAME = lazy_compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
#: What may not appear in a response header value (TAB may; obs-text may).
_BAD_VALUE = lazy_compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: Header names already seen to be valid tokens (bounded: a reply hook may make many).
_GOOD_NAMES: set[str] = set()


def safe_headers(headers: Sequence[tuple[str, str]]) -> Sequence[tuple[str, str]]:
    """``headers`` without any that HTTP cannot carry: a name that is not an HTTP
    token, a value with CR, LF or another control character (or that is not
    text). gRPC metadata cannot hold such a value, but a ``google.api.HttpBody``
    reply's ``content_type`` can, and a ``response_hook`` can make any. Each
    dropped one is logged (WARNING); the reply goes out without it, over HTTP as
    on Lambda."""
    for name, value in headers:
        if not (name in _GOOD_NAMES and type(value) is str and value.isprintable()):
            break
    else:
        return headers  # the common case: every header already known good
    kept: list[tuple[str, str]] = []
    for name, value in headers:
        if type(name) is not str or not _HEADER_NAME.fullmatch(name):
            log.warning("dropped a response header with an invalid name: %.64r", name)
            continue
        if not isinstance(value, str) or _BAD_VALUE.search(value) or not _utf8(value):
            log.warning("dropped response header %s: its value is not valid in HTTP", name)
            continue
        if len(_GOOD_NAMES) < 1024:
            _GOOD_NAMES.add(name)
        kept.append((name, value))
    return kept


def _utf8(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True
