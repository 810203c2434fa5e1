"""gRPC status codes, their HTTP statuses, and the ``google.rpc.Status`` JSON error body.

Every failure the gateway reports, whether routing, transcoding, the server's
own status or an unreachable server, goes through :class:`GatewayError` and
:func:`status_body`, so clients always get the same JSON shape.
"""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Sequence
from typing import Any, Literal

from grpcgw.lazyre import lazy_compile

#: Why an error's message must not reach a client by default (see :func:`status_error`):
#: ``"servicer"``, the text of an exception that escaped a servicer method;
#: ``"transport"``, gRPC's own account of a failed connection, limit or deadline.
Internal = Literal["servicer", "transport"]


class Code(enum.IntEnum):
    """The canonical gRPC status codes (``google.rpc.Code``)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


#: gRPC code -> HTTP status, as grpc-gateway and google.rpc.Code document it.
_HTTP_STATUS: dict[Code, int] = {
    Code.OK: 200,
    Code.CANCELLED: 499,
    Code.UNKNOWN: 500,
    Code.INVALID_ARGUMENT: 400,
    Code.DEADLINE_EXCEEDED: 504,
    Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409,
    Code.PERMISSION_DENIED: 403,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.FAILED_PRECONDITION: 400,
    Code.ABORTED: 409,
    Code.OUT_OF_RANGE: 400,
    Code.UNIMPLEMENTED: 501,
    Code.INTERNAL: 500,
    Code.UNAVAILABLE: 503,
    Code.DATA_LOSS: 500,
    Code.UNAUTHENTICATED: 401,
}


def http_status(code: int) -> int:
    """The HTTP status for a gRPC status code (500 for codes outside the enum)."""
    try:
        return _HTTP_STATUS[Code(code)]
    except ValueError:
        return 500


class GatewayError(Exception):
    """A failure to report to the HTTP client as a ``google.rpc.Status``.

    ``http_status`` overrides the status derived from ``code`` where HTTP has a
    more precise answer than the table (405 for a wrong method, 413 for an
    oversized body).

    ``internal`` marks a message that is not meant for clients (an unhandled
    servicer exception's text, or gRPC's description of a transport failure):
    the gateway logs it and answers with a generic message for the code,
    unless ``GatewayOptions.expose_internal_errors`` is set.
    """

    def __init__(
        self,
        code: Code,
        message: str,
        *,
        http_status: int | None = None,
        details: Sequence[dict[str, Any]] = (),
        headers: Sequence[tuple[str, str]] = (),
        internal: Internal | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status if http_status is not None else _HTTP_STATUS[code]
        self.details = list(details)
        self.headers = list(headers)
        self.internal: Internal | None = internal
        # Metadata the server sent with a failed call: mapped to response headers.
        self.header_metadata: Sequence[tuple[str, str | bytes]] = ()
        self.trailing_metadata: Sequence[tuple[str, str | bytes]] = ()

    def body(self) -> bytes:
        """The JSON ``google.rpc.Status`` body for this error."""
        return status_body(self.code, self.message, self.details)

    def replace(
        self,
        *,
        message: str | None = None,
        headers: Sequence[tuple[str, str]] | None = None,
        internal: Internal | None = None,
    ) -> GatewayError:
        """A copy with another ``message`` or ``headers``; ``internal`` is not carried over."""
        error = GatewayError(
            self.code,
            self.message if message is None else message,
            http_status=self.http_status,
            details=self.details,
            headers=self.headers if headers is None else headers,
            internal=internal,
        )
        error.header_metadata = self.header_metadata
        error.trailing_metadata = self.trailing_metadata
        return error

    def public(self) -> GatewayError:
        """This error as a client may see it: an ``internal`` message replaced
        by :func:`generic_message` (the error itself when nothing is internal)."""
        if self.internal is None:
            return self
        return self.replace(message=generic_message(self.code, self.http_status))

    def __repr__(self) -> str:
        return f"GatewayError({self.code.name}, {self.message!r}, http_status={self.http_status})"


def status_body(code: int, message: str, details: Sequence[dict[str, Any]] = ()) -> bytes:
    """Serialise ``{"code": N, "message": "...", "details": [...]}`` as UTF-8 JSON.

    ``details`` is always present (possibly empty), as in grpc-gateway. A lone
    surrogate (echoed from a request that carried one) is written as its JSON
    escape, since UTF-8 cannot hold it.
    """
    return json.dumps(
        {"code": int(code), "message": message, "details": list(details)},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8", "backslashreplace")


#: The ``@type`` of the detail :func:`bad_request` adds.
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"


def bad_request(message: str, fields: Sequence[str] = ("",)) -> GatewayError:
    """``400 INVALID_ARGUMENT`` for a request that does not fit the method's message.

    The Status carries ``message`` and one ``google.rpc.BadRequest`` detail with
    a field violation for each path in ``fields`` (``""``, which renders without
    a ``field``: the request as a whole), each described by ``message``, as
    Google's APIs do (AIP-193). Called only on the error path: the detail types
    are imported on the first such error.
    """
    try:
        detail = _bad_request_detail(message, fields)
    except UnicodeEncodeError:
        # A lone surrogate echoed from the request (a Lambda event's query, a JSON
        # "\ud800" escape): protobuf strings cannot hold one, the message keeps it
        # (status_body writes its JSON escape), and so does the detail.
        violations = [{"field": f, "description": message} if f else {"description": message}
                      for f in fields]  # fmt: skip
        detail = {"@type": BAD_REQUEST_TYPE, "fieldViolations": violations}
    return GatewayError(Code.INVALID_ARGUMENT, message, details=[detail])


def _bad_request_detail(message: str, fields: Sequence[str]) -> dict[str, Any]:
    """The ``google.rpc.BadRequest`` as an ``Any``, rendered as server-sent details are."""
    from google.protobuf import any_pb2
    from google.rpc import error_details_pb2

    violation = error_details_pb2.BadRequest.FieldViolation
    packed = any_pb2.Any()
    packed.Pack(
        error_details_pb2.BadRequest(
            field_violations=[violation(field=f, description=message) for f in fields]
        )
    )
    return _render_detail(packed, ())


def details_from_status_bin(value: bytes | str, pool: Any = None) -> list[dict[str, Any]]:
    """Decode the ``details`` of a ``grpc-status-details-bin`` trailer to JSON objects.

    Each detail is an ``Any``, whose type is looked up in ``pool`` (the
    descriptor pool of the method called, e.g. a proxy's), then in the default
    pool (``google.rpc.ErrorInfo`` and the other standard details). One found
    in neither is reported with its ``@type`` and raw ``value`` (base64), as
    protojson does for unresolvable ``Any`` payloads in grpc-gateway; so is one
    of a known type whose bytes do not decode (or nest deeper than protobuf
    reads). A malformed trailer yields no details rather than failing the
    response: the server's code and message stand either way.
    """
    from google.protobuf.message import DecodeError
    from google.rpc import status_pb2

    raw = base64.b64decode(value + "=" * (-len(value) % 4)) if isinstance(value, str) else value
    status = status_pb2.Status()
    try:
        status.ParseFromString(raw)
    except DecodeError:
        return []
    pools = () if pool is None else (pool,)
    return [_render_detail(detail, pools) for detail in status.details]


def _render_detail(detail: Any, pools: Sequence[Any]) -> dict[str, Any]:
    """One ``Any`` of a Status's details as JSON: its type looked up in ``pools``,
    then in the default pool; ``@type`` and the raw ``value`` where neither has it."""
    from google.protobuf import descriptor_pool, json_format
    from google.protobuf.message import DecodeError

    default = descriptor_pool.Default()
    for where in (*(p for p in pools if p is not default), default):
        try:
            rendered: dict[str, Any] = json_format.MessageToDict(detail, descriptor_pool=where)
            return rendered
        except (json_format.Error, TypeError, KeyError):
            continue  # not a type this pool knows: the next one may
        except (DecodeError, ValueError, RecursionError):
            break  # a known type, but not its bytes: shown raw
    return {"@type": detail.type_url, "value": base64.b64encode(detail.value).decode()}


# -- telling a servicer's own message from grpc's --------------------------------------

#: How grpc's Python servers report an exception that escaped a servicer method:
#: its text behind a fixed prefix (grpc._server: "Exception calling application: ",
#: "Exception iterating responses: "; grpc.aio: "Unexpected <class 'T'>: ").
_SERVICER_CRASH = lazy_compile(
    r"Exception calling application: |Exception iterating responses: |Unexpected <class '[^']*'>: "
)

#: The fixed texts grpc's Python libraries write when they make a status up themselves
#: (grpcio 1.85: the threaded server, grpc/_server.py; grpc.aio's server, its
#: cygrpc aio/server.pyx.pxi; the clients, grpc/_channel.py and grpc.aio), each
#: with whose failure it reports. Matched as the whole message, under any code
#: (a server reports some under the code a handler set).
_GRPC_TEXTS: dict[str, Internal] = {
    # Servers: a handler (or an interceptor) failed, or what it returned did.
    "Calling application raised unprintable Exception!": "servicer",
    "Failed to serialize response!": "servicer",
    "Error in service handler!": "servicer",
    "RPC Aborted": "servicer",
    "Exception deserializing request!": "servicer",
    # Servers: no such method, or a limit.
    "Method not found!": "transport",
    "Concurrent RPC limit exceeded!": "transport",
    # Clients (the gateway's channels): a reply or request that could not be
    # (de)serialized, or the channel or call going away under it.
    "Exception deserializing response!": "servicer",
    "Exception serializing request!": "transport",
    "Exception iterating requests!": "transport",
    "Locally cancelled by application!": "transport",
    "Cancelled upon garbage collection!": "transport",
    "Channel closed!": "transport",
    "Channel deallocated!": "transport",
}

#: The threaded server's answer to a unary method called with no request message.
_ONE_REQUEST = lazy_compile(r'"[^"]*" requires exactly one request message\.\Z')

#: Codes gRPC itself produces (grpc/doc/statuscodes.md): a message under any
#: other code can only come from a servicer.
_LIBRARY_CODES = frozenset(
    (
        Code.CANCELLED,
        Code.UNKNOWN,
        Code.DEADLINE_EXCEEDED,
        Code.RESOURCE_EXHAUSTED,
        Code.INTERNAL,
        Code.UNAVAILABLE,
        Code.UNAUTHENTICATED,
    )
)

#: What gRPC's core writes when it makes a status up itself (a connection that
#: failed or broke, a handshake, name resolution, a limit, a deadline), and
#: anything naming a transport address (``ipv4:10.0.0.1:50051``,
#: ``unix:/run/app.sock``) or carrying a core debug string. Current grpcio
#: reports these exactly as it reports a status the peer sent, so the text
#: is all there is to tell them apart by.
_TRANSPORT = lazy_compile(
    r"failed to connect to all addresses|connections to all backends failing|"
    r"Socket closed|Connection reset|Connection refused|Broken pipe|Transport closed|"
    r"Stream removed|RST_STREAM|GOAWAY|Too many pings|keepalive|[Hh]andshake|SSL_ERROR|"
    r"DNS|[Nn]ame resolution|Endpoint|Channel (?:Destroyed|shutdown)|Deadline Exceeded|"
    r"Locally cancelled|larger than max|metadata size exceeds|Getting metadata from plugin|"
    r"\b(?:ipv4|ipv6|unix|unix-abstract|vsock|dns):|created_time|grpc_status"
)

#: RESOURCE_EXHAUSTED for metadata over a limit (the peer's or this client's).
_METADATA_TOO_LARGE = "metadata size exceeds"
#: ...of a reply: this client refused the server's headers or trailers (grpc core
#: then reports the stream removed, and lists the reply's own headers). Otherwise
#: the server refused the request's.
_REPLY_METADATA = lazy_compile(r"Stream removed|:status:|grpc-status:")

#: HTTP status for request headers too large to forward as metadata.
HEADERS_TOO_LARGE = 431


def status_error(
    code: Code,
    message: str,
    *,
    details: Sequence[dict[str, Any]] = (),
) -> GatewayError:
    """The :class:`GatewayError` for a non-OK gRPC status, with ``internal`` set
    when the message is not meant for clients.

    Invokers build their errors with it, so that every one tells messages a
    servicer set on purpose (``context.abort(code, "...")``, ``set_details``),
    which pass through as grpc-gateway passes them, from an unhandled
    exception's text and grpc's own account of a failed handler (``"servicer"``)
    and from gRPC's own report of a transport failure, limit, deadline or
    missing method (``"transport"``). A backend that refuses the request's
    metadata as too large answers 431; a reply whose metadata this client
    refused is RESOURCE_EXHAUSTED like any other reply over a limit.
    """
    internal: Internal | None = None
    http_status = None
    if message:
        if _SERVICER_CRASH.match(message):
            internal = "servicer"
        elif message in _GRPC_TEXTS:
            internal = _GRPC_TEXTS[message]
        elif _ONE_REQUEST.match(message):
            internal = "transport"
        elif code in _LIBRARY_CODES and _TRANSPORT.search(message):
            internal = "transport"
            if (
                code == Code.RESOURCE_EXHAUSTED
                and _METADATA_TOO_LARGE in message
                and not _REPLY_METADATA.search(message)
            ):
                http_status = HEADERS_TOO_LARGE
    return GatewayError(
        code, message or code.name, http_status=http_status, details=details, internal=internal
    )


_GENERIC: dict[Code, str] = {
    Code.CANCELLED: "the call was cancelled",
    Code.UNKNOWN: "internal error",
    Code.DEADLINE_EXCEEDED: "deadline exceeded",
    Code.RESOURCE_EXHAUSTED: "resource exhausted",
    Code.INTERNAL: "internal error",
    Code.UNAVAILABLE: "the service is unavailable",
    Code.UNAUTHENTICATED: "unauthenticated",
    Code.DATA_LOSS: "internal error",
}


def generic_message(code: Code, http_status: int | None = None) -> str:
    """What a client is told in place of an internal message."""
    if http_status == HEADERS_TOO_LARGE:
        return "request headers too large for the service"
    return _GENERIC.get(code) or code.name.lower().replace("_", " ")
