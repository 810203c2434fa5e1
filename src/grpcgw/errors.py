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
from typing import Any


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
    """

    def __init__(
        self,
        code: Code,
        message: str,
        *,
        http_status: int | None = None,
        details: Sequence[dict[str, Any]] = (),
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status if http_status is not None else _HTTP_STATUS[code]
        self.details = list(details)
        self.headers = list(headers)
        # Metadata the server sent with a failed call: mapped to response headers.
        self.header_metadata: Sequence[tuple[str, str | bytes]] = ()
        self.trailing_metadata: Sequence[tuple[str, str | bytes]] = ()

    def body(self) -> bytes:
        """The JSON ``google.rpc.Status`` body for this error."""
        return status_body(self.code, self.message, self.details)

    def __repr__(self) -> str:
        return f"GatewayError({self.code.name}, {self.message!r}, http_status={self.http_status})"


def status_body(code: int, message: str, details: Sequence[dict[str, Any]] = ()) -> bytes:
    """Serialise ``{"code": N, "message": "...", "details": [...]}`` as UTF-8 JSON.

    ``details`` is always present (possibly empty), as in grpc-gateway.
    """
    return json.dumps(
        {"code": int(code), "message": message, "details": list(details)},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def details_from_status_bin(value: bytes | str) -> list[dict[str, Any]]:
    """Decode the ``details`` of a ``grpc-status-details-bin`` trailer to JSON objects.

    Each detail is an ``Any``; one whose type is not in the descriptor pool is
    reported with its ``@type`` and raw ``value`` (base64), as protojson does for
    unresolvable ``Any`` payloads in grpc-gateway. A malformed trailer yields no
    details rather than failing the response.
    """
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError
    from google.rpc import status_pb2

    raw = base64.b64decode(value + "=" * (-len(value) % 4)) if isinstance(value, str) else value
    status = status_pb2.Status()
    try:
        status.ParseFromString(raw)
    except DecodeError:
        return []
    out: list[dict[str, Any]] = []
    for detail in status.details:
        try:
            out.append(json_format.MessageToDict(detail))
        except (json_format.Error, TypeError, KeyError):
            out.append({"@type": detail.type_url, "value": base64.b64encode(detail.value).decode()})
    return out
