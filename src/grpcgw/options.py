"""Gateway options: one frozen record shared by routing, transcoding and the I/O shells.

Pure (stdlib only) so that the transcoder and the router can take it without
pulling in aiohttp or grpc.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

# ``grpcgw`` resolves the ``cors`` annotation (typing.get_type_hints): grpcgw.cors
# is imported only where CORS is configured, which a cold start without it skips.
import grpcgw
from grpcgw.lazyre import lazy_compile

if TYPE_CHECKING:
    import grpcgw.cors
    from grpcgw.cors import CorsOptions

__all__ = ["CorsOptions", "GatewayOptions", "UnescapeMode"]


def __getattr__(name: str) -> Any:
    if name == "CorsOptions":  # where it has always been importable from too
        from grpcgw.cors import CorsOptions

        return CorsOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


#: The values of ``GatewayOptions.openapi_path_names``.
PATH_NAMES = ("field", "resource")


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
    #: Gzip a whole response body of at least this many bytes (JSON, text) for a
    #: client whose Accept-Encoding takes gzip; streams never. ``None``: never
    #: (docs/options.md, "Response compression").
    compress_min_size: int | None = None

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
    cors: grpcgw.cors.CorsOptions | None = None
    #: Serve streaming methods over WebSocket too: a GET with ``Upgrade: websocket``
    #: on a streaming binding's path opens a full-duplex call, one JSON message per
    #: frame (aiohttp front ends; not on Lambda). Handshakes from other origins are
    #: refused unless ``cors`` allows them.
    websocket: bool = False
    #: One log line per request on the ``grpcgw.access`` logger (at INFO).
    #: ``None``: the front end's default, on for ``serve_local`` and the proxy,
    #: off for ``serve_lambda`` and a :class:`~grpcgw.Gateway` of your own.
    access_log: bool | None = None

    # -- the API description --------------------------------------------------------
    #: Serve the API description: the OpenAPI 3.1 document at openapi_path, the
    #: Swagger 2.0 document at swagger_path and an explorer page (Swagger UI) at
    #: docs_path. None: the front end's default, on for serve_local and the proxy,
    #: off for serve_lambda, grpcgw.web and a Gateway of your own.
    api_docs: bool | None = None
    #: Where the OpenAPI 3.1 document is served (None: not served).
    openapi_path: str | None = "/openapi.json"
    #: Where the Swagger 2.0 document is served (None: not served).
    swagger_path: str | None = "/swagger.json"
    #: Where the explorer page is served, with its files below it (None: not served).
    docs_path: str | None = "/docs"
    #: A FileDescriptorSet file built with protoc --include_source_info (or buf build -o):
    #: the API description takes its summaries and descriptions from its proto comments
    #: (generated _pb2 modules and server reflection carry none), also instead of those of
    #: a descriptor set the proxy serves. Read when the gateway is built.
    openapi_comments: str | None = None
    #: How clients authenticate, declared in the API description so that the explorer
    #: shows its Authorize button and sends what is entered there with every call:
    #: "bearer" (Authorization: Bearer <token>), "basic" (Authorization: Basic, from a
    #: user name and password) and "header:<Name>" (an API key in that header). Every
    #: operation requires one of them unless a grpc-gateway annotation says otherwise.
    #: It describes the API: checking credentials stays with the server.
    openapi_security: Sequence[str] = ()
    #: How the API description names the parameters of a multi-segment path variable
    #: (/v1/{name=shelves/*/books/*}), one per wildcard: "field" after the field
    #: (/v1/shelves/{name}/books/{name_1}), "resource" after the collection before each
    #: wildcard, as AIP-122 resource names read (/v1/shelves/{shelf}/books/{book}). The
    #: gateway sets the field to the whole matched path either way.
    openapi_path_names: str = field(default="field", metadata={"choices": PATH_NAMES})

    def __post_init__(self) -> None:
        # Nonsense fails here, with its name, not as a deadline that expires at
        # once or a channel argument grpc rejects at the first call.
        for name, check in _CHECKS.items():
            check(name, getattr(self, name))
        _check_paths(self)
        object.__setattr__(self, "openapi_security", _security(self.openapi_security))

    def api_docs_paths(self) -> dict[str, str]:
        """The paths the API description is served at, by option name (those not
        ``None``); empty unless ``api_docs`` is on."""
        if not self.api_docs:
            return {}
        return {
            name: path
            for name in ("openapi_path", "swagger_path", "docs_path")
            if (path := getattr(self, name)) is not None
        }


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


def _cors(name: str, value: object) -> None:
    # grpcgw.cors is imported by then if value is a CorsOptions (it was made there).
    if value is not None:
        from grpcgw.cors import CorsOptions

        _instance(CorsOptions, optional=True)(name, value)


# A path of one or more segments of URL path characters that need no escaping:
# compared with request paths as they arrive, escapes and all.
_PATH = lazy_compile(r"(?:/[A-Za-z0-9._~!$&'()*+,;=:@-]+)+")


def _path(name: str, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str) or _PATH.fullmatch(value) is None:
        raise ValueError(
            f"GatewayOptions.{name} must be a path such as /docs (segments of letters, "
            f"digits and -._~!$&'()*+,;=:@, no trailing /) or None, not {value!r}"
        )


def _file(name: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"GatewayOptions.{name} must be a file name or None, not {value!r}")


#: The kinds of ``openapi_security`` entries without an argument.
SECURITY_KINDS = ("bearer", "basic")
#: The prefix of an ``openapi_security`` entry naming an API key's header.
SECURITY_HEADER = "header:"
# A header name as HTTP defines it (a token), and usable as the name of an OpenAPI
# component (letters, digits, "-", "_", "."), which the scheme is named after.
_HEADER_NAME = lazy_compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _choice(choices: tuple[str, ...]) -> Callable[[str, object], None]:
    def check(name: str, value: object) -> None:
        if value not in choices:
            raise ValueError(
                f"GatewayOptions.{name} must be one of {', '.join(map(repr, choices))}, "
                f"not {value!r}"
            )

    return check


def _security(value: object) -> tuple[str, ...]:
    """``openapi_security`` checked and normalised: a tuple of ``"bearer"``,
    ``"basic"`` and ``"header:<Name>"`` (one string alone is one entry)."""
    name = "GatewayOptions.openapi_security"
    if isinstance(value, str):
        value = (value,)  # one scheme given bare, not its characters
    if not isinstance(value, Iterable) or isinstance(value, bytes | bytearray):
        raise ValueError(f"{name} must be a list of strings, not {value!r}")
    out: list[str] = []
    for entry in value:
        if not isinstance(entry, str):
            raise ValueError(f"{name} must hold strings, not {entry!r}")
        text = entry.strip()
        kind, colon, header = text.partition(":")
        if not colon and kind.lower() in SECURITY_KINDS:
            scheme = kind.lower()
        elif colon and kind.strip().lower() == SECURITY_HEADER[:-1]:
            header = header.strip()
            if _HEADER_NAME.fullmatch(header) is None:
                raise ValueError(
                    f"{name}: {entry!r} names no header: expected header:<Name>, the name "
                    "made of letters, digits, '-', '_' and '.' (header:X-API-Key)"
                )
            scheme = SECURITY_HEADER + header
        else:
            raise ValueError(
                f"{name}: {entry!r} is not a security scheme: expected bearer, basic "
                "or header:<Name> (an API key in that header, such as header:X-API-Key)"
            )
        # Each scheme is named after its kind or its header in the document.
        if security_name(scheme).lower() in (security_name(s).lower() for s in out):
            raise ValueError(f"{name} names {security_name(scheme)!r} twice")
        out.append(scheme)
    return tuple(out)


def security_name(scheme: str) -> str:
    """The name of an ``openapi_security`` entry's scheme in the API description:
    ``bearer``, ``basic``, or the header's name."""
    return scheme.removeprefix(SECURITY_HEADER)


def _check_paths(options: GatewayOptions) -> None:
    """The paths the gateway answers itself are distinct, and the page has a document."""
    named = {
        name: path
        for name in ("health_path", "openapi_path", "swagger_path", "docs_path")
        if (path := getattr(options, name)) is not None
    }
    seen: dict[str, str] = {}
    for name, path in named.items():
        if path in seen:
            raise ValueError(f"GatewayOptions.{seen[path]} and {name} are both {path!r}")
        seen[path] = name
    docs = options.docs_path
    if docs is not None:
        for name, path in named.items():
            if name != "docs_path" and path.startswith(docs + "/"):
                raise ValueError(
                    f"GatewayOptions.{name} ({path!r}) is below docs_path ({docs!r}), "
                    "where the explorer's files are served"
                )
        if options.openapi_path is None and options.swagger_path is None:
            raise ValueError(
                "GatewayOptions.docs_path needs openapi_path or swagger_path: "
                "the explorer page shows one of the documents"
            )


def _unescape_mode(name: str, value: object) -> None:
    if not isinstance(value, UnescapeMode):
        choices = ", ".join(f"UnescapeMode.{mode.name}" for mode in UnescapeMode)
        raise ValueError(f"GatewayOptions.{name} must be one of {choices}, not {value!r}")


_CHECKS: dict[str, Callable[[str, object], None]] = {
    "unescape_mode": _unescape_mode,
    **dict.fromkeys(
        (
            "match_unregistered_custom_verb",
            "expose_unannotated",
            "method_override",
            "strict",
            "query_plus_as_space",
            "fill_patch_field_mask",
            "emit_unpopulated",
            "use_proto_names",
            "enums_as_ints",
            "expose_internal_errors",
            "websocket",
        ),
        _instance(bool, optional=False),
    ),
    # Its text is a route's, checked with the routes (RouteConfigError).
    "health_path": _instance(str, optional=True),
    "cors": _cors,
    "access_log": _instance(bool, optional=True),
    "api_docs": _instance(bool, optional=True),
    "openapi_path": _path,
    "swagger_path": _path,
    "docs_path": _path,
    "openapi_comments": _file,
    "openapi_path_names": _choice(PATH_NAMES),
    "timeout": _seconds,
    "connect_timeout": _finite_seconds,
    "max_request_body": _size(0, None, optional=False),
    "max_response_message": _size(1, _INT32_MAX, optional=True),
    "indent": _size(0, 64, optional=True),
    "compress_min_size": _size(0, None, optional=True),
}
