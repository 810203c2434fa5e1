"""An OpenAPI 3.1 document from :mod:`._document` in Swagger 2.0 (API Gateway import,
older tools).

What 2.0 cannot say is left out, never approximated into something the gateway
would refuse: ``oneof`` constraints, ``trace`` operations, map query
parameters (2.0 has no ``deepObject``), ``null`` types (``x-nullable``),
``writeOnly``. Non-body parameters carry their type inline (2.0 allows no
``$ref`` there).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from grpcgw.openapi import _annotations, _security
from grpcgw.openapi._schemas import REF_V3, to_v2

_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch")
_JSON: Final = "application/json"
_PARAM_KEYWORDS: Final = (
    "format",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "default",
    "description",
)


def convert(
    document: dict[str, Any], file_options: dict[str, Any], security: Sequence[str] = ()
) -> dict[str, Any]:
    """The Swagger 2.0 form of a 3.1 document built by :class:`._document.Builder`;
    ``security``: the builder's ``GatewayOptions.openapi_security``."""
    components = document.get("components", {}).get("schemas", {})
    out: dict[str, Any] = {"swagger": "2.0", "info": document["info"]}
    if "tags" in document:
        out["tags"] = document["tags"]
    out["consumes"] = [_JSON]
    out["produces"] = [_JSON]
    paths: dict[str, Any] = {}
    unlisted = list(document.get("x-grpcgw-unlisted-routes", []))
    for path, item in document["paths"].items():
        converted: dict[str, Any] = {}
        for verb, operation in item.items():
            if verb not in _METHODS:
                unlisted.append(f"{verb.upper()} {path}")
                continue
            converted[verb] = _operation(operation, components)
        if converted:
            paths[path] = converted
    out["paths"] = paths
    out["definitions"] = {name: to_v2(schema) for name, schema in components.items()}
    schemes = _annotations.security_schemes(file_options.get("security_definitions") or {}, v2=True)
    schemes.update(_security.schemes(security, v2=True))
    if schemes:
        out["securityDefinitions"] = schemes
    for key in ("security", "externalDocs"):
        if key in document:
            out[key] = document[key]
    out.update({k: v for k, v in document.items() if k.startswith("x-")})
    if unlisted:
        out["x-grpcgw-unlisted-routes"] = unlisted
    return out


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    if ref.startswith(REF_V3):
        resolved = dict(components.get(ref[len(REF_V3) :], {}))
        return {**resolved, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _simple(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any] | None:
    """A non-body parameter's type keywords, or ``None`` if 2.0 cannot state them."""
    schema = _resolve(schema, components)
    kind = schema.get("type")
    out: dict[str, Any] = {}
    if kind == "array":
        items = _simple(schema.get("items", {}), components)
        if items is None:
            return None
        items.pop("description", None)
        out.update({"type": "array", "items": items, "collectionFormat": "multi"})
    elif kind in ("string", "integer", "number", "boolean"):
        out["type"] = kind
    else:
        return None
    for key in _PARAM_KEYWORDS:
        if key in schema:
            out[key] = schema[key]
    return out


def _operation(operation: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in operation.items():
        if key in ("parameters", "requestBody", "responses"):
            continue
        out[key] = value
    parameters: list[dict[str, Any]] = []
    for param in operation.get("parameters", []):
        converted = _parameter(param, components)
        if converted is not None:
            parameters.append(converted)
    body = operation.get("requestBody")
    if body is not None:
        media, content = next(iter(body["content"].items()))
        schema = to_v2(content.get("schema", {}))
        if media == "*/*":
            media = "application/octet-stream"
        if media != _JSON:
            out["consumes"] = [media]
        param = {
            "name": "body",
            "in": "body",
            "required": bool(body.get("required")),
            "schema": schema,
        }
        if body.get("description"):
            param["description"] = body["description"]
        parameters.append(param)
    if parameters:
        out["parameters"] = parameters
    produces: list[str] = []
    responses: dict[str, Any] = {}
    for code, response in operation["responses"].items():
        result: dict[str, Any] = {"description": response.get("description", "")}
        content = response.get("content") or {}
        if content:
            first = next(iter(content.values()))
            schema = first.get("schema", {"type": "string", "format": "binary"})
            result["schema"] = to_v2(schema)
            for name in content:
                name = "application/octet-stream" if name == "*/*" else name
                if name not in produces:
                    produces.append(name)
        headers = {
            name: {
                "type": header.get("schema", {}).get("type", "string"),
                **({"description": header["description"]} if header.get("description") else {}),
            }
            for name, header in (response.get("headers") or {}).items()
        }
        if headers:
            result["headers"] = headers
        result.update({k: v for k, v in response.items() if k.startswith("x-")})
        responses[code] = result
    if produces and produces != [_JSON]:
        out["produces"] = produces
    out["responses"] = responses
    return out


def _parameter(param: dict[str, Any], components: dict[str, Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {"name": param["name"], "in": param["in"]}
    if param.get("description"):
        out["description"] = param["description"]
    if param.get("required"):
        out["required"] = True
    if param.get("deprecated"):
        out["x-deprecated"] = True
    if "content" in param:  # JSON text
        out["type"] = "string"
        out["description"] = (out.get("description", "") + " (JSON text)").strip()
        return out
    if param.get("style") == "deepObject":
        return None
    simple = _simple(param.get("schema", {}), components)
    if simple is None:
        return None
    description = simple.pop("description", "")
    if description and "description" not in out:
        out["description"] = description
    out.update(simple)
    return out
