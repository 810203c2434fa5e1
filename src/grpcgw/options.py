"""Gateway options: one frozen record shared by routing, transcoding and the I/O shells.

Pure (stdlib only) so that the transcoder and the router can take it without
pulling in aiohttp or grpc.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
    #: client sends ``Grpc-Timeout``).
    timeout: float | None = None
