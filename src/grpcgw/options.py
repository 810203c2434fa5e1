"""Gateway options: one frozen record shared by routing, transcoding and the I/O shells.

Pure (stdlib only) so that the transcoder and the router can take it without
pulling in aiohttp or grpc.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass

from grpcgw.cors import CorsOptions

__all__ = ["CorsOptions", "GatewayOptions", "UnescapeMode"]


class UnescapeMode(enum.Enum):
    """How percent-escapes in path variables spanning several segments are decoded.

    Single-segment variables (``{x}``, ``{x=*}``) are always fully decoded, as
    http.proto requires; the mode only affects multi-segment variables
    (``{x=**}``, ``{x=a/*}``). The names follow Envoy's
    ``UrlUnescapeSpec`` and grpc-gateway's ``UnescapingMode``.
    """

    #: Keep escapes of the RFC 6570 reserved characters, decode the rest (default;
    #: ``Http.fully_decode_reserved_expansion = false``).
    ALL_EXCEPT_RESERVED = "all_except_reserved"
    #: Decode everything but ``%2F`` / ``%2f``.
    ALL_EXCEPT_SLASH = "all_except_slash"
    #: Decode everything.
    ALL_CHARACTERS = "all_characters"


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayOptions:
    """Everything about how requests are routed and transcoded.

    The defaults follow ``DESIGN.md``: grpc-gateway-compatible JSON output and
    lenient input (unknown query keys and JSON fields are ignored).
    """

    # -- routing --------------------------------------------------------------
    #: Decoding of multi-segment path variables.
    unescape_mode: UnescapeMode = UnescapeMode.ALL_EXCEPT_RESERVED
    #: Treat any trailing ``:xxx`` of the last path segment as a custom verb, even
    #: if no route declares that verb (grpc-httpjson-transcoding's option).
    match_unregistered_custom_verb: bool = False
    #: Also expose methods without a ``google.api.http`` annotation as
    #: ``POST /package.Service/Method`` with ``body: "*"``.
    expose_unannotated: bool = False
    #: Honour ``X-HTTP-Method-Override`` on POST requests (for clients that can
    #: only send GET and POST).
    method_override: bool = False
    #: Serve ``GET <health_path>[?service=name]`` from the server's
    #: ``grpc.health.v1.Health/Check``: 200 when SERVING, 503 otherwise.
    health_path: str | None = None

    # -- request ----------------------------------------------------------------
    #: Reject unknown query parameters and unknown JSON body fields with 400.
    strict: bool = False
    #: Decode ``+`` in query strings as a space (what form-encoding clients send).
    query_plus_as_space: bool = True
    #: Largest accepted request body in bytes (413 beyond it).
    max_request_body: int = 4 * 1024 * 1024
    #: Largest reply message accepted from the server in bytes (gRPC's
    #: ``max_receive_message_length``; beyond it the call fails with
    #: RESOURCE_EXHAUSTED). ``None``: grpcio's default of 4 MiB.
    max_response_message: int | None = None
    #: With a PATCH binding whose body is a field and exactly one top-level
    #: ``google.protobuf.FieldMask`` left empty, fill the mask from the keys of
    #: the JSON body (grpc-gateway's behaviour).
    fill_patch_field_mask: bool = True

    # -- response JSON ----------------------------------------------------------
    #: Emit fields that hold their default value (grpc-gateway's default).
    emit_unpopulated: bool = True
    #: Use the proto field names (``snake_case``) instead of lowerCamel JSON names.
    use_proto_names: bool = False
    #: Write enums as numbers instead of names.
    enums_as_ints: bool = False
    #: Indent the JSON output by this many spaces (``None``: compact).
    indent: int | None = None

    # -- call ---------------------------------------------------------------------
    #: Deadline applied to every gRPC call, in seconds (``None``: none, unless the
    #: client sends ``Grpc-Timeout``). Longer than about 31 years is taken as that.
    timeout: float | None = None
    #: Seconds to set up a connection to the gRPC server (TCP and the HTTP/2
    #: handshake) before a call fails with 503 UNAVAILABLE, for the channels the
    #: gateway opens itself (``target=``). ``None``: grpcio's 20 s.
    connect_timeout: float | None = 5.0

    # -- errors -------------------------------------------------------------------
    #: Pass the text of unhandled servicer exceptions and gRPC's own transport
    #: errors (addresses, socket paths) to clients instead of a generic message
    #: for their code. For development: it shows clients how the service is built.
    expose_internal_errors: bool = False

    # -- browsers and logs ----------------------------------------------------------
    #: Cross-origin requests from browsers (:class:`~grpcgw.cors.CorsOptions`):
    #: preflights answered by the gateway, CORS headers on every response.
    #: ``None``: no CORS (a preflight is routed like any ``OPTIONS`` request).
    cors: CorsOptions | None = None
    #: One log line per request on the ``grpcgw.access`` logger (at INFO).
    #: ``None``: the front end's default, on for ``serve_local`` and the proxy,
    #: off for ``serve_lambda`` and a :class:`~grpcgw.Gateway` of your own.
    access_log: bool | None = None

    def __post_init__(self) -> None:
        # Nonsense fails here, with its name, not as a deadline that expires at
        # once or a channel argument grpc rejects at the first call.
        for name, check in _CHECKS.items():
            check(name, getattr(self, name))


# The largest value of a gRPC int32 channel argument (message sizes).
_INT32_MAX = 2**31 - 1


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"GatewayOptions.{name} must be a number, not {value!r}")
    return value


def _seconds(name: str, value: object) -> None:
    """``None`` or a number of seconds above zero (inf: no limit worth speaking of)."""
    if value is not None and not _number(name, value) > 0:  # NaN fails this too
        raise ValueError(
            f"GatewayOptions.{name} must be a number of seconds above 0, not {value!r}"
        )


def _finite_seconds(name: str, value: object) -> None:
    _seconds(name, value)
    if value is not None and not math.isfinite(_number(name, value)):
        raise ValueError(f"GatewayOptions.{name} must be finite, not {value!r}")


def _size(low: int, high: int | None, *, optional: bool) -> Callable[[str, object], None]:
    def check(name: str, value: object) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"GatewayOptions.{name} must be an integer, not {value!r}")
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise ValueError(f"GatewayOptions.{name} must be {bound}, not {value}")

    return check


def _instance(kind: type, *, optional: bool) -> Callable[[str, object], None]:
    def check(name: str, value: object) -> None:
        if (value is None and optional) or isinstance(value, kind):
            return
        what = kind.__name__ + (" or None" if optional else "")
        raise ValueError(f"GatewayOptions.{name} must be a {what}, not {value!r}")

    return check


_CHECKS: dict[str, Callable[[str, object], None]] = {
    "cors": _instance(CorsOptions, optional=True),
    "access_log": _instance(bool, optional=True),
    "timeout": _seconds,
    "connect_timeout": _finite_seconds,
    "max_request_body": _size(0, None, optional=False),
    "max_response_message": _size(1, _INT32_MAX, optional=True),
    "indent": _size(0, 64, optional=True),
}
