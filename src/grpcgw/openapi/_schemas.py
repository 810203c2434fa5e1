"""JSON Schemas of protobuf messages in proto3 JSON, as grpcgw writes and reads them.

One component per message and enum, named by its full proto name; well-known
types inline in their JSON form. Written in OpenAPI 3.1's dialect (JSON
Schema 2020-12); :func:`to_v2` turns a schema into Swagger 2.0's subset.

The forms (see docs/openapi.md for why):

* names: lowerCamel JSON names, or proto names with ``use_proto_names``;
* 64-bit integers: ``type: string`` with ``format: int64/uint64`` and a pattern
  for their exact range (what grpcgw writes; its reader also takes numbers);
* 32-bit integers and floats: numbers with their range;
* enums: their names (numbers with ``enums_as_ints``);
* bytes: base64 (standard or URL-safe, padding optional);
* ``google.api.field_behavior``: REQUIRED -> ``required``, OUTPUT_ONLY ->
  ``readOnly``, INPUT_ONLY -> ``writeOnly``;
* a ``oneof``: at most one of its members (a ``oneOf`` constraint);
* ``strict=True``: ``additionalProperties: false`` (unknown fields answer 400).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from grpcgw import protoopts
from grpcgw.binding import is_map, message_type
from grpcgw.openapi import _annotations
from grpcgw.openapi._comments import Comments
from grpcgw.openapi._numbers import integer_pattern
from grpcgw.options import GatewayOptions
from grpcgw.protojson._base import (
    ANY,
    DURATION,
    FIELD_MASK,
    LIST_VALUE,
    STRUCT,
    TIMESTAMP,
    VALUE,
)

_FD = FieldDescriptor
REF_V3: Final = "#/components/schemas/"
REF_V2: Final = "#/definitions/"

_INT32 = (-(1 << 31), (1 << 31) - 1)
_UINT32 = (0, (1 << 32) - 1)
_INT64 = (-(1 << 63), (1 << 63) - 1)
_UINT64 = (0, (1 << 64) - 1)
#: The largest float as written (shortest round-trip form of FLT_MAX): what replies
#: carry and the query parser takes. (The JSON body reader, like json_format, stops
#: at FLT_MAX itself, half a unit in the last place lower.)
_FLOAT_MAX: Final = 3.4028235e38
#: The largest text the query parser takes for a float (it rounds to float32 FLT_MAX).
_FLOAT_TEXT_MAX: Final = float.fromhex("0x1.fffffefffffffp+127")
#: Standard or URL-safe base64, padding optional (what the readers take).
BASE64_PATTERN: Final = (
    r"^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$"
)
#: proto3 JSON Duration: seconds with up to nine fractional digits, within +-10000 years.
DURATION_PATTERN: Final = (
    "^-?"
    + integer_pattern(0, 315_576_000_000).removeprefix("^").removesuffix("$")
    + r"(?:\.[0-9]{1,9})?s$"
)

# Field names a mask can carry: lowerCamel in JSON, any field name in the query.
_CAMEL_PATH: Final = r"[a-z][a-zA-Z0-9]*(?:\.[a-z][a-zA-Z0-9]*)*"
_PROTO_PATH: Final = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
#: A FieldMask in proto3 JSON: lowerCamel field paths joined by commas.
FIELD_MASK_PATTERN: Final = f"^(?:{_CAMEL_PATH}(?:,{_CAMEL_PATH})*)?$"
#: A FieldMask in the query: paths of proto or lowerCamel names, joined by commas
#: (empty paths are skipped).
QUERY_FIELD_MASK_PATTERN: Final = f"^(?:{_PROTO_PATH})?(?:,(?:{_PROTO_PATH})?)*$"

_INTEGERS: Final = {
    _FD.TYPE_INT32: ("int32", _INT32),
    _FD.TYPE_SINT32: ("int32", _INT32),
    _FD.TYPE_SFIXED32: ("int32", _INT32),
    _FD.TYPE_UINT32: ("int64", _UINT32),
    _FD.TYPE_FIXED32: ("int64", _UINT32),
    _FD.TYPE_INT64: ("int64", _INT64),
    _FD.TYPE_SINT64: ("int64", _INT64),
    _FD.TYPE_SFIXED64: ("int64", _INT64),
    _FD.TYPE_UINT64: ("uint64", _UINT64),
    _FD.TYPE_FIXED64: ("uint64", _UINT64),
}
_LONG: Final = frozenset(
    {_FD.TYPE_INT64, _FD.TYPE_SINT64, _FD.TYPE_SFIXED64, _FD.TYPE_UINT64, _FD.TYPE_FIXED64}
)

EMPTY: Final = "google.protobuf.Empty"
_JSON_TEXT: Final = frozenset({STRUCT, VALUE, LIST_VALUE})


def scalar(kind: int, *, text: bool = False) -> dict[str, Any]:
    """The schema of a non-enum scalar. ``text``: as a path or query value, where
    64-bit integers are plain integers (no JSON number precision to lose)."""
    if kind in _INTEGERS:
        fmt, (low, high) = _INTEGERS[kind]
        if kind in _LONG and not text:
            return {"type": "string", "format": fmt, "pattern": integer_pattern(low, high)}
        return {"type": "integer", "format": fmt, "minimum": low, "maximum": high}
    if kind == _FD.TYPE_DOUBLE:
        return {"type": "number", "format": "double"}
    if kind == _FD.TYPE_FLOAT:
        bound = _FLOAT_TEXT_MAX if text else _FLOAT_MAX
        return {"type": "number", "format": "float", "minimum": -bound, "maximum": bound}
    if kind == _FD.TYPE_BOOL:
        return {"type": "boolean"}
    if kind == _FD.TYPE_BYTES:
        return {"type": "string", "format": "byte", "pattern": BASE64_PATTERN}
    return {"type": "string"}


def _wrapper_kind(desc: Descriptor) -> int | None:
    if desc.file.name == "google/protobuf/wrappers.proto":
        return int(desc.fields_by_name["value"].type)
    return None


def _map_key_schema(key: FieldDescriptor) -> dict[str, Any] | None:
    """``propertyNames`` of a map with this key type (proto3 JSON writes keys as strings)."""
    if key.type == _FD.TYPE_BOOL:
        return {"enum": ["true", "false"]}
    if key.type in _INTEGERS:
        return {"pattern": integer_pattern(*_INTEGERS[key.type][1])}
    return None


def one_of_at_most(names: list[str]) -> dict[str, Any]:
    """JSON Schema for "at most one of these properties" (what a ``oneof`` accepts)."""
    present = [{"required": [name]} for name in names]
    return {"oneOf": [{"not": {"anyOf": present}}, *present]}


class Schemas:
    """Builds the schema of each message and enum once, as a component."""

    def __init__(self, options: GatewayOptions, comments: Comments) -> None:
        self.options = options
        self.comments = comments
        #: Component name -> schema (filled as types are referenced).
        self.components: dict[str, dict[str, Any]] = {}

    # -- names -------------------------------------------------------------------------

    def property_name(self, field: FieldDescriptor) -> str:
        return str(field.name if self.options.use_proto_names else field.json_name)

    @staticmethod
    def ref(name: str) -> dict[str, Any]:
        return {"$ref": REF_V3 + name}

    # -- values ------------------------------------------------------------------------

    def message(self, desc: Descriptor, *, closed: bool = False) -> dict[str, Any]:
        """The schema of a message value: a WKT's JSON form inline, else a ``$ref``.

        ``closed``: a PATCH body whose keys make the field mask: no unknown keys
        and no ``required`` (a partial update leaves out what it does not change),
        here and in nested messages; a component of its own (``-closed``) unless
        strict mode already closes every object and the message requires nothing.
        """
        name = str(desc.full_name)
        wrapped = _wrapper_kind(desc)
        if wrapped is not None:
            return scalar(wrapped)
        if name == TIMESTAMP:
            return {"type": "string", "format": "date-time"}
        if name == DURATION:
            return {"type": "string", "pattern": DURATION_PATTERN}
        if name == FIELD_MASK:
            # lowerCamel paths joined by commas (json_format refuses "_" in them).
            return {"type": "string", "pattern": FIELD_MASK_PATTERN}
        if name == STRUCT:
            return {"type": "object"}
        if name == VALUE:
            return {}
        if name == LIST_VALUE:
            return {"type": "array", "items": {}}
        if name == EMPTY:
            return self._closed({"type": "object", "properties": {}})
        closed = closed and name != ANY and (not self.options.strict or self._requires(desc))
        if closed:
            name += "-closed"
        if name not in self.components:
            schema: dict[str, Any] = {}
            self.components[name] = schema  # before building: recursive types refer to it
            schema.update(self._any() if name == ANY else self.object(desc, closed=closed))
        return self.ref(name)

    def enum(self, desc: EnumDescriptor) -> dict[str, Any]:
        name = str(desc.full_name)
        if name == "google.protobuf.NullValue":
            return {"type": "null"}
        if name not in self.components:
            self.components[name] = self._enum(desc)
        return self.ref(name)

    def value(self, field: FieldDescriptor) -> dict[str, Any]:
        """The schema of one value of a field (an element, for repeated fields)."""
        if field.message_type is not None:
            return self.message(field.message_type)
        if field.enum_type is not None:
            return self.enum(field.enum_type)
        return scalar(field.type)

    def field(
        self, field: FieldDescriptor, *, exclude: Iterable[str] = (), closed: bool = False
    ) -> dict[str, Any]:
        """The schema of a field, with its description and behaviours.

        ``exclude``: dotted paths below this field left out of its (inline) schema;
        ``closed``: see :meth:`message` (applies to singular message fields).
        """
        exclude = tuple(exclude)
        if is_map(field):
            entry = message_type(field)
            schema: dict[str, Any] = {
                "type": "object",
                "additionalProperties": self.value(entry.fields_by_name["value"]),
            }
            names = _map_key_schema(entry.fields_by_name["key"])
            if names is not None:
                schema["propertyNames"] = names
        elif field.is_repeated:
            schema = {"type": "array", "items": self.value(field)}
        elif exclude and field.message_type is not None:
            schema = self.object(field.message_type, exclude=exclude, closed=closed)
        elif closed and field.message_type is not None:
            schema = self.message(field.message_type, closed=True)
        else:
            schema = self.value(field)
        return self.describe_field(field, schema)

    def describe_field(self, field: FieldDescriptor, schema: dict[str, Any]) -> dict[str, Any]:
        """Add a field's comment, behaviours, deprecation and openapiv2_field options."""
        extra: dict[str, Any] = {}
        comment = self.comments.of(field)
        if comment:
            extra["description"] = comment
        behaviors = protoopts.field_behaviors(field)
        if "OUTPUT_ONLY" in behaviors:
            extra["readOnly"] = True
        if "INPUT_ONLY" in behaviors and (field.has_presence or not self.options.emit_unpopulated):
            # Not when the gateway writes the field's default into every reply.
            extra["writeOnly"] = True
        if field.has_options and field.GetOptions().deprecated:
            extra["deprecated"] = True
        annotated = _annotations.read(field, "field")
        if annotated:
            extra.update(_annotations.schema_keywords(annotated, v2=False))
        if not extra:
            return schema
        return {**schema, **extra}

    # -- objects and enums ---------------------------------------------------------------

    def object(
        self, desc: Descriptor, *, exclude: Iterable[str] = (), closed: bool = False
    ) -> dict[str, Any]:
        """The object schema of a message; ``exclude`` leaves out these dotted
        field paths (proto names), e.g. the fields a path binds; ``closed``: see
        :meth:`message`."""
        excluded = set(exclude)
        properties: dict[str, Any] = {}
        required: list[str] = []
        oneofs: dict[str, list[str]] = {}
        for field in desc.fields:
            if field.name in excluded:
                continue
            below = [p.partition(".")[2] for p in excluded if p.startswith(field.name + ".")]
            name = self.property_name(field)
            properties[name] = self.field(field, exclude=below, closed=closed)
            if "REQUIRED" in protoopts.field_behaviors(field) and not closed:
                required.append(name)
            oneof = field.containing_oneof
            if oneof is not None:  # a proto3 optional's own oneof has one member: no constraint
                oneofs.setdefault(oneof.name, []).append(name)
        schema: dict[str, Any] = {"type": "object"}
        comment = self.comments.of(desc)
        if comment:
            schema["description"] = comment
        annotated = _annotations.read(desc, "schema")
        json_schema = annotated.get("json_schema") or {}
        if json_schema:
            schema.update(_annotations.schema_keywords(json_schema, v2=False))
            by_name = {f.name: self.property_name(f) for f in desc.fields}
            by_name.update({f.json_name: self.property_name(f) for f in desc.fields})
            for name in () if closed else json_schema.get("required", []):
                name = by_name.get(name, name)
                if name in properties and name not in required:
                    required.append(name)
        if annotated.get("example"):
            schema["examples"] = [_annotations.json_value(annotated["example"])]
        docs = _annotations.external_docs(annotated.get("external_docs"))
        if docs:
            schema["externalDocs"] = docs
        schema["properties"] = properties
        if required:
            schema["required"] = required
        constraints = [one_of_at_most(names) for names in oneofs.values() if len(names) > 1]
        if len(constraints) == 1:
            schema.update(constraints[0])
        elif constraints:
            schema["allOf"] = constraints
        if desc.has_options and desc.GetOptions().deprecated:
            schema["deprecated"] = True
        if closed:
            schema["additionalProperties"] = False
        return self._closed(schema)

    def _requires(self, desc: Descriptor, seen: frozenset[str] = frozenset()) -> bool:
        """Whether ``desc``'s schema, or that of a singular message field below it
        (what a PATCH body's ``-closed`` variant walks into), lists ``required``."""
        if desc.full_name in seen:
            return False
        if (_annotations.read(desc, "schema").get("json_schema") or {}).get("required"):
            return True
        seen = seen | {desc.full_name}
        for field in desc.fields:
            if "REQUIRED" in protoopts.field_behaviors(field):
                return True
            nested = field.message_type
            if nested is not None and not field.is_repeated and self._requires(nested, seen):
                return True
        return False

    def _closed(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.options.strict:
            schema["additionalProperties"] = False
        return schema

    @staticmethod
    def _any() -> dict[str, Any]:
        return {
            "type": "object",
            "description": "A message of any type: its type URL in `@type`, its fields beside.",
            "properties": {"@type": {"type": "string"}},
            "required": ["@type"],
            "additionalProperties": True,
        }

    def _enum(self, desc: EnumDescriptor) -> dict[str, Any]:
        values = list(desc.values)
        schema: dict[str, Any]
        if self.options.enums_as_ints:
            schema = {"type": "integer", "format": "int32", "enum": [v.number for v in values]}
        else:
            schema = {"type": "string", "enum": [v.name for v in values]}
        lines = []
        comment = self.comments.of(desc)
        if comment:
            lines.append(comment)
        value_lines = []
        deprecated = []
        for value in values:
            text = self.comments.of(value)
            is_deprecated = value.has_options and value.GetOptions().deprecated
            if is_deprecated:
                deprecated.append(value.name)
            if text or is_deprecated:
                note = "(deprecated) " if is_deprecated else ""
                value_lines.append(f"- `{value.name}` ({value.number}): {note}{text}".rstrip())
        if value_lines:
            lines.append("\n".join(value_lines))
        if lines:
            schema["description"] = "\n\n".join(lines)
        if deprecated:
            schema["x-deprecated-values"] = deprecated
        annotated = _annotations.read(desc, "enum")
        if annotated:
            schema.update(_annotations.schema_keywords(annotated, v2=False))
        if desc.has_options and desc.GetOptions().deprecated:
            schema["deprecated"] = True
        return schema

    # -- query and path values -----------------------------------------------------------

    def text_value(self, field: FieldDescriptor) -> dict[str, Any] | None:
        """The schema of one value of a field as path or query text; ``None`` for the
        JSON-text WKTs (``Struct``, ``Value``, ``ListValue``: sent as JSON)."""
        if field.message_type is not None:
            desc = field.message_type
            wrapped = _wrapper_kind(desc)
            if wrapped is not None:
                return scalar(wrapped, text=True)
            if desc.full_name in _JSON_TEXT:
                return None
            if desc.full_name == FIELD_MASK:
                return {"type": "string", "pattern": QUERY_FIELD_MASK_PATTERN}
            return self.message(desc)
        if field.enum_type is not None:
            return self.enum(field.enum_type)
        return scalar(field.type, text=True)


# -- Swagger 2.0 ---------------------------------------------------------------------------

_V2_DROP: Final = frozenset(
    {"writeOnly", "propertyNames", "contentEncoding", "contentMediaType", "const", "examples"}
)


def to_v2(schema: Any) -> Any:
    """A 3.1 schema in Swagger 2.0's subset: ``#/definitions/`` refs, no ``null`` type,
    no ``oneOf``/``anyOf``/``not`` (the constraint is dropped), ``x-`` for the rest."""
    if isinstance(schema, list):
        return [to_v2(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref":
            out[key] = value.replace(REF_V3, REF_V2)
        elif key in ("properties", "definitions"):
            out[key] = {k: to_v2(v) for k, v in value.items()}
        elif key in ("oneOf", "anyOf", "not"):
            continue
        elif key == "allOf":
            kept = [to_v2(v) for v in value if "$ref" in v or "properties" in v]
            if kept:
                out[key] = kept
        elif key == "type" and isinstance(value, list):
            kinds = [t for t in value if t != "null"]
            out[key] = kinds[0] if kinds else "string"
            if "null" in value:
                out["x-nullable"] = True
        elif key == "type" and value == "null":
            out["x-nullable"] = True
        elif key == "deprecated":
            out["x-deprecated"] = value
        elif key == "examples":
            if value:
                out["example"] = value[0]
        elif key in ("exclusiveMaximum", "exclusiveMinimum") and not isinstance(value, bool):
            out[key.replace("exclusive", "").lower()] = value
            out[key] = True
        elif key in _V2_DROP:
            continue
        elif key in ("items", "additionalProperties"):
            out[key] = to_v2(value) if value != {} or key == "items" else True
        else:
            out[key] = to_v2(value) if isinstance(value, dict | list) else value
    if "$ref" in out and len(out) > 1:
        # Swagger 2.0 ignores siblings of $ref: wrap it so they count.
        ref = out.pop("$ref")
        out = {"allOf": [{"$ref": ref}], **out}
    if "examples" in schema and "example" not in out and schema["examples"]:
        out["example"] = schema["examples"][0]
    return out
