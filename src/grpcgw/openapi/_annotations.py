"""grpc-gateway's ``protoc-gen-openapiv2`` annotations, read where the descriptors carry them.

The options are extensions (field 1042) of the descriptor options messages,
defined in ``protoc-gen-openapiv2/options/annotations.proto``. They are read
through the descriptor pool at run time (:func:`grpcgw.protoopts.extension`):
present when a user's ``_pb2`` imports the annotation module or a descriptor
set carries its file (``--include_imports``); otherwise every lookup is empty.

What is honoured: titles, descriptions, summaries, versions, tags, examples,
defaults, constraints (pattern, lengths, ranges, items), ``read_only``,
deprecation, operation ids, extra responses, header parameters, security,
external docs and ``x-`` extensions. What is not: ``type`` and ``format``
(grpcgw knows the wire form), ``host``/``base_path``/``schemes`` (a document
served by the gateway describes that gateway).
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format

from grpcgw import protoopts

_PREFIX = "grpc.gateway.protoc_gen_openapiv2.options.openapiv2_"


def read(descriptor: Any, kind: str) -> dict[str, Any]:
    """The ``openapiv2_<kind>`` option of a descriptor as a dict (proto field names), or ``{}``.

    ``kind``: ``swagger`` (file), ``operation`` (method), ``schema`` (message),
    ``field``, ``tag`` (service) or ``enum``.
    """
    message = protoopts.extension(descriptor, _PREFIX + kind)
    if message is None:
        return {}
    document: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return document


def json_value(text: Any) -> Any:
    """An annotation's JSON text (``example``, ``default``) as a value; plain text stays text."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def external_docs(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value or not value.get("url"):
        return None
    docs = {"url": value["url"]}
    if value.get("description"):
        docs["description"] = value["description"]
    return docs


def extensions(value: dict[str, Any] | None) -> dict[str, Any]:
    """``x-`` extensions (other keys are dropped: the spec allows only ``x-`` ones)."""
    return {k: v for k, v in (value or {}).items() if k.startswith("x-")}


_KEYWORDS = {
    "title": "title",
    "description": "description",
    "multiple_of": "multipleOf",
    "maximum": "maximum",
    "minimum": "minimum",
    "max_length": "maxLength",
    "min_length": "minLength",
    "pattern": "pattern",
    "max_items": "maxItems",
    "min_items": "minItems",
    "unique_items": "uniqueItems",
    "max_properties": "maxProperties",
    "min_properties": "minProperties",
}
_INTEGER_KEYWORDS = frozenset(
    {"maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties"}
)


def schema_keywords(json_schema: dict[str, Any], *, v2: bool) -> dict[str, Any]:
    """OpenAPI schema keywords from a ``JSONSchema`` annotation (``openapiv2_field``,
    ``openapiv2_schema.json_schema``). ``type``/``format``/``ref`` are left out."""
    out: dict[str, Any] = {}
    for key, keyword in _KEYWORDS.items():
        if key in json_schema and json_schema[key] not in ("", 0, False):
            value = json_schema[key]
            if keyword in _INTEGER_KEYWORDS or (isinstance(value, float) and value.is_integer()):
                value = int(value)
            out[keyword] = value
    for bound, exclusive, keyword in (
        ("maximum", "exclusive_maximum", "exclusiveMaximum"),
        ("minimum", "exclusive_minimum", "exclusiveMinimum"),
    ):
        if json_schema.get(exclusive) and bound in out:
            if v2:
                out[keyword] = True
            else:  # JSON Schema 2020-12: the bound itself
                out[keyword] = out.pop(bound)
    if json_schema.get("read_only"):
        out["readOnly"] = True
    if "default" in json_schema and json_schema["default"] != "":
        out["default"] = json_value(json_schema["default"])
    if json_schema.get("example"):
        example = json_value(json_schema["example"])
        out.update({"example": example} if v2 else {"examples": [example]})
    if json_schema.get("enum"):
        out["enum"] = list(json_schema["enum"])
    docs = external_docs(json_schema.get("external_docs"))
    if docs:
        out["externalDocs"] = docs
    out.update(extensions(json_schema.get("extensions")))
    return out


def path_param_name(field_options: dict[str, Any]) -> str:
    """``openapiv2_field.field_configuration.path_param_name``, or ``""``."""
    config = field_options.get("field_configuration") or {}
    return str(config.get("path_param_name", ""))


_SCHEME_TYPES = {"TYPE_BASIC": "basic", "TYPE_API_KEY": "apiKey", "TYPE_OAUTH2": "oauth2"}
_FLOWS = {
    "FLOW_IMPLICIT": ("implicit", "implicit"),
    "FLOW_PASSWORD": ("password", "password"),
    "FLOW_APPLICATION": ("application", "clientCredentials"),
    "FLOW_ACCESS_CODE": ("accessCode", "authorizationCode"),
}


def security_schemes(definitions: dict[str, Any], *, v2: bool) -> dict[str, Any]:
    """``SecurityDefinitions`` as Swagger 2.0 ``securityDefinitions`` or OpenAPI 3
    ``components.securitySchemes``."""
    out: dict[str, Any] = {}
    for name, scheme in (definitions.get("security") or {}).items():
        kind = _SCHEME_TYPES.get(scheme.get("type", ""))
        if kind is None:
            continue
        result: dict[str, Any] = {}
        if scheme.get("description"):
            result["description"] = scheme["description"]
        if kind == "basic":
            result.update({"type": "basic"} if v2 else {"type": "http", "scheme": "basic"})
        elif kind == "apiKey":
            where = {"IN_QUERY": "query", "IN_HEADER": "header"}.get(scheme.get("in", ""), "header")
            result.update({"type": "apiKey", "name": scheme.get("name", ""), "in": where})
        else:
            flow_v2, flow_v3 = _FLOWS.get(scheme.get("flow", ""), ("implicit", "implicit"))
            scopes = (scheme.get("scopes") or {}).get("scope") or {}
            urls: dict[str, Any] = {}
            if scheme.get("authorization_url"):
                urls["authorizationUrl"] = scheme["authorization_url"]
            if scheme.get("token_url"):
                urls["tokenUrl"] = scheme["token_url"]
            if v2:
                result.update({"type": "oauth2", "flow": flow_v2, "scopes": scopes, **urls})
            else:
                result.update({"type": "oauth2", "flows": {flow_v3: {**urls, "scopes": scopes}}})
        result.update(extensions(scheme.get("extensions")))
        out[name] = result
    return out


def security(requirements: list[dict[str, Any]] | None) -> list[dict[str, list[str]]]:
    """``SecurityRequirement`` messages as OpenAPI security requirement objects."""
    out = []
    for requirement in requirements or []:
        entries = requirement.get("security_requirement") or {}
        out.append({name: list((v or {}).get("scope", [])) for name, v in entries.items()})
    return out
