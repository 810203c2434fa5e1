"""Which fields of a request message an ``HttpRule`` binding takes from where.

A :class:`BindingPlan` is worked out once per binding from the request type,
the path template's variables and the rule's ``body``: the path field chains,
the body field (or ``*``), the fields the query may not set, whether the body
is a raw ``google.api.HttpBody``, the PATCH field mask the gateway fills in,
and the query parameters the gateway reads. :class:`~grpcgw.transcode.RequestTranscoder`
runs a plan; :mod:`grpcgw.openapi` reads the same plan, so the document lists
exactly what the transcoder takes.

Pure: protobuf and the standard library only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any, Final

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from grpcgw import protoopts
from grpcgw.records import Record, setfield

__all__ = [
    "HTTP_BODY",
    "BindingConfigError",
    "BindingPlan",
    "PathField",
    "QueryField",
    "RequiredFields",
]


class BindingConfigError(ValueError):
    """An ``HttpRule`` does not fit its method's messages (found at build time)."""


# -- descriptor helpers ----------------------------------------------------------

WRAPPERS: Final = frozenset(
    f"google.protobuf.{name}"
    for name in (
        "DoubleValue",
        "FloatValue",
        "Int64Value",
        "UInt64Value",
        "Int32Value",
        "UInt32Value",
        "BoolValue",
        "StringValue",
        "BytesValue",
    )
)
#: Well-known types whose proto3 JSON form is a string or scalar: usable in the
#: path and the query.
SCALAR_WKTS: Final = WRAPPERS | {
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "google.protobuf.FieldMask",
}
#: Well-known types taken from the query as JSON text (grpc-gateway's extension).
JSON_TEXT_WKTS: Final = frozenset(
    {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"}
)
#: Message types json_format parses with its own rules (not as a JSON object of fields).
SPECIAL_JSON_WKTS: Final = SCALAR_WKTS | JSON_TEXT_WKTS | {"google.protobuf.Any"}
#: google.api.HttpBody: a raw body (any content type) instead of JSON, both ways.
HTTP_BODY: Final = "google.api.HttpBody"
FIELD_MASK: Final = "google.protobuf.FieldMask"


@functools.cache
def field_table(desc: Descriptor) -> dict[str, FieldDescriptor]:
    """Fields of ``desc`` by proto name and by JSON (lowerCamel) name."""
    table = {f.json_name: f for f in desc.fields}
    table.update((f.name, f) for f in desc.fields)  # a proto name wins over a JSON name
    return table


def message_type(field: FieldDescriptor) -> Descriptor:
    """The message type of a message field (typed: the stubs allow ``None``)."""
    desc = field.message_type
    assert desc is not None, field.full_name
    return desc


def is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def is_plain_message(field: FieldDescriptor) -> bool:
    """A singular message field that a dotted path may walk into."""
    return (
        field.message_type is not None
        and not field.is_repeated
        and field.message_type.full_name not in SPECIAL_JSON_WKTS
    )


def has_text_form(field: FieldDescriptor) -> bool:
    """Whether one value of ``field`` (a map's value) can be written as query text:
    a scalar, an enum, or a well-known type with a string or JSON-text form."""
    if is_map(field):
        field = message_type(field).fields_by_name["value"]
    desc = field.message_type
    return desc is None or desc.full_name in SCALAR_WKTS or desc.full_name in JSON_TEXT_WKTS


def no_field_message(what: str, name: str, desc: Descriptor) -> str:
    if "." in name:  # http.proto: "must be present at the top-level" of the message
        return f"{what} {name!r} must name a top-level field of {desc.full_name}"
    return f"{what} {name!r}: {desc.full_name} has no such field"


def resolve(desc: Descriptor, path: str, what: str) -> tuple[FieldDescriptor, ...]:
    """The fields along a dotted path (each part a proto or JSON name) or BindingConfigError."""
    parts = path.split(".")
    fields: list[FieldDescriptor] = []
    for i, part in enumerate(parts):
        field = field_table(desc).get(part)
        if field is None:
            raise BindingConfigError(f"{what} {path!r}: {desc.full_name} has no field {part!r}")
        fields.append(field)
        if i < len(parts) - 1:
            if not is_plain_message(field):
                raise BindingConfigError(
                    f"{what} {path!r}: {field.name!r} is not a singular message field"
                )
            desc = message_type(field)
    return tuple(fields)


def _canonical(fields: Sequence[FieldDescriptor]) -> str:
    return ".".join(f.name for f in fields)


# -- the plan ------------------------------------------------------------------------


class PathField(Record):
    """A field bound by a path variable."""

    __slots__ = ("fields", "key")
    #: The variable's field path as the template writes it (the key of the router's bindings).
    key: str
    #: The fields from the request message down to the bound one.
    fields: tuple[FieldDescriptor, ...]

    def __init__(self, key: str, fields: tuple[FieldDescriptor, ...]) -> None:
        setfield(self, "key", key)
        setfield(self, "fields", fields)

    @property
    def canonical(self) -> str:
        """The dotted path of proto names."""
        return _canonical(self.fields)


class QueryField(Record):
    """A query parameter the gateway reads: a leaf field reached through singular messages."""

    __slots__ = ("fields",)
    fields: tuple[FieldDescriptor, ...]

    def __init__(self, fields: tuple[FieldDescriptor, ...]) -> None:
        setfield(self, "fields", fields)

    @property
    def field(self) -> FieldDescriptor:
        return self.fields[-1]

    @property
    def canonical(self) -> str:
        """The dotted path of proto names (the parser also takes JSON names)."""
        return _canonical(self.fields)

    def name(self, *, proto_names: bool = False) -> str:
        """The key to send: dotted JSON names, or proto names with ``proto_names``.

        A JSON name the parser would read as another field's proto name is
        written as this field's proto name.
        """
        parts = []
        for field in self.fields:
            key = field.name if proto_names else field.json_name
            if field_table(field.containing_type).get(key) is not field:
                key = field.name
            parts.append(key)
        return ".".join(parts)

    @property
    def is_map(self) -> bool:
        """A map field: sent as ``name[key]=value``."""
        return is_map(self.field)

    @property
    def required(self) -> bool:
        """Whether every field on the path is ``google.api.field_behavior = REQUIRED``."""
        return all("REQUIRED" in protoopts.field_behaviors(f) for f in self.fields)


class BindingPlan(Record):
    """Where each field of one binding's request message comes from.

    Build it with :meth:`build`. Fields are given to exactly one of path, body
    and query (http.proto); ``masked`` holds the canonical paths the query
    must not set (path-bound fields and the body field).
    """

    __slots__ = (
        "_required",
        "body",
        "body_field",
        "fill_mask",
        "masked",
        "message",
        "path_fields",
        "raw_body",
    )
    _uncompared = _unshown = _derived = frozenset({"_required"})
    #: The request message type.
    message: Descriptor
    #: The path-bound fields, in template order.
    path_fields: tuple[PathField, ...]
    #: ``HttpRule.body``: ``""`` (no body), ``"*"`` or a top-level field name.
    body: str
    #: The field the body fills (``None`` for ``""`` and ``"*"``).
    body_field: FieldDescriptor | None
    #: Canonical paths the query must not set: path-bound fields and the body field.
    masked: frozenset[str]
    #: The body is raw bytes into a ``google.api.HttpBody`` (the message or the body field).
    raw_body: bool
    #: The top-level FieldMask filled from the body's keys when the client leaves
    #: it empty (grpc-gateway's PATCH feature), or ``None``.
    fill_mask: FieldDescriptor | None
    #: Worked out on first use (only strict gateways and OpenAPI documents ask).
    _required: dict[str, Any]

    def __init__(
        self,
        message: Descriptor,
        path_fields: tuple[PathField, ...],
        body: str,
        body_field: FieldDescriptor | None,
        masked: frozenset[str],
        raw_body: bool,
        fill_mask: FieldDescriptor | None,
    ) -> None:
        setfield(self, "message", message)
        setfield(self, "path_fields", path_fields)
        setfield(self, "body", body)
        setfield(self, "body_field", body_field)
        setfield(self, "masked", masked)
        setfield(self, "raw_body", raw_body)
        setfield(self, "fill_mask", fill_mask)
        setfield(self, "_required", {})

    @classmethod
    def build(
        cls,
        message: Descriptor,
        *,
        path_fields: Sequence[str],
        body: str,
        fill_field_mask: bool = False,
    ) -> BindingPlan:
        """The plan for a binding, or :class:`BindingConfigError` if it does not fit."""
        masked: set[str] = set()
        paths: list[PathField] = []
        for path in path_fields:
            fields = resolve(message, path, "path field")
            leaf = fields[-1]
            if leaf.is_repeated or not has_text_form(leaf) or _type_name(leaf) in JSON_TEXT_WKTS:
                raise BindingConfigError(
                    f"path field {path!r} must be a singular scalar, enum or a well-known "
                    f"type with a string form, not {'repeated ' * leaf.is_repeated}"
                    f"{type_label(leaf)}"
                )
            bound = PathField(path, fields)
            if bound.canonical in masked:
                raise BindingConfigError(f"path field {path!r} is bound twice")
            masked.add(bound.canonical)
            paths.append(bound)

        body_field: FieldDescriptor | None = None
        if body not in ("", "*"):
            found = field_table(message).get(body)
            if found is None:
                raise BindingConfigError(no_field_message("body", body, message))
            if found.name in masked:
                raise BindingConfigError(f"body field {body!r} is also bound by the path")
            body_field = found
            masked.add(found.name)
        target = message if body_field is None else body_field.message_type
        raw_body = body != "" and target is not None and target.full_name == HTTP_BODY
        fill_mask: FieldDescriptor | None = None
        if fill_field_mask and body_field is not None and not raw_body:
            masks = [
                f
                for f in message.fields
                if f.message_type is not None
                and f.message_type.full_name == FIELD_MASK
                and not f.is_repeated
            ]
            if len(masks) == 1 and body_field.message_type is not None:
                fill_mask = masks[0]
        return cls(message, tuple(paths), body, body_field, frozenset(masked), raw_body, fill_mask)

    @property
    def has_body(self) -> bool:
        """Whether the rule takes a request body at all."""
        return self.body != ""

    @property
    def reads_query(self) -> bool:
        """Whether the query string is read (not with ``body: "*"``)."""
        return self.body != "*"

    def required_query(self) -> tuple[QueryField, ...]:
        """The query parameters that must be given: those whose every field on the
        path is ``google.api.field_behavior = REQUIRED``."""
        found = self._required.get("query")
        if found is None:
            found = self._required["query"] = tuple(q for q in self.query_fields() if q.required)
        result: tuple[QueryField, ...] = found
        return result

    def required_body(self) -> RequiredFields | None:
        """The REQUIRED fields a JSON body must carry, or ``None`` when there are none
        (no body, a raw body, or no REQUIRED field outside the path)."""
        if "body" not in self._required:
            self._required["body"] = self._build_required_body()
        result: RequiredFields | None = self._required["body"]
        return result

    def _build_required_body(self) -> RequiredFields | None:
        if not self.has_body or self.raw_body:
            return None
        bound = [f.canonical for f in self.path_fields]
        field = self.body_field
        if field is None:
            checker = RequiredFields(self.message, bound, whole=True)
        else:
            below = [p.partition(".")[2] for p in bound if p.startswith(field.name + ".")]
            checker = RequiredFields(
                field, below, whole="REQUIRED" in protoopts.field_behaviors(field)
            )
        return checker if checker.any() else None

    def query_fields(self) -> tuple[QueryField, ...]:
        """The query parameters this binding reads, as :class:`QueryField` values.

        Exactly the keys the query parser sets without error, written once: not
        the path- or body-bound fields, nor their oneof siblings (setting one
        answers 400), nor the PATCH field mask the gateway fills in, nor
        repeated messages, maps of messages, ``Any`` (no text form). Nested
        messages are walked into except where a type recurs on the path (the
        parser takes those deeper keys too; a document cannot list them all).
        """
        if not self.reads_query:
            return ()
        excluded = {self.fill_mask.name} if self.fill_mask is not None else set()
        return tuple(self._walk(self.message, (), frozenset({self.message.full_name}), excluded))

    def _walk(
        self,
        desc: Descriptor,
        parents: tuple[FieldDescriptor, ...],
        seen: frozenset[str],
        excluded: set[str],
    ) -> Iterator[QueryField]:
        bound_oneofs = {
            f.containing_oneof.full_name
            for f in desc.fields
            if f.containing_oneof is not None and _canonical((*parents, f)) in self.masked
        }
        for field in desc.fields:
            chain = (*parents, field)
            canonical = _canonical(chain)
            if canonical in self.masked or (not parents and canonical in excluded):
                continue
            oneof = field.containing_oneof
            if oneof is not None and oneof.full_name in bound_oneofs:
                continue
            if is_plain_message(field):
                nested = message_type(field)
                if nested.full_name not in seen:
                    yield from self._walk(nested, chain, seen | {nested.full_name}, excluded)
            elif has_text_form(field):
                yield QueryField(chain)


class RequiredFields:
    """The ``google.api.field_behavior = REQUIRED`` fields of a JSON request body.

    Checked on the parsed JSON (a key is present, not null), as JSON Schema's
    ``required`` reads it; nested objects are checked where they are present.
    ``root`` is the request message (``body: "*"``) or the body field.
    """

    __slots__ = ("_exclude", "_fields", "_root", "_whole")

    def __init__(
        self, root: Descriptor | FieldDescriptor, exclude: Sequence[str], *, whole: bool
    ) -> None:
        self._root = root
        self._exclude = frozenset(exclude)
        #: The body itself must be given (``body: "*"``, or a REQUIRED body field).
        self._whole = whole
        #: Message full name -> (required fields, message-typed fields).
        self._fields: dict[
            str, tuple[tuple[FieldDescriptor, ...], tuple[FieldDescriptor, ...]]
        ] = {}

    def _of(
        self, desc: Descriptor
    ) -> tuple[tuple[FieldDescriptor, ...], tuple[FieldDescriptor, ...]]:
        found = self._fields.get(desc.full_name)
        if found is None:
            required = tuple(f for f in desc.fields if "REQUIRED" in protoopts.field_behaviors(f))
            nested = tuple(f for f in desc.fields if _nested_type(f) is not None)
            found = self._fields[desc.full_name] = (required, nested)
        return found

    def any(self) -> bool:
        """Whether anything is required at all."""
        seen: set[str] = set()
        root = self._root
        if isinstance(root, FieldDescriptor):
            if self._whole:
                return True
            desc = _nested_type(root)
            return desc is not None and self._any(desc, self._exclude, seen)
        return self._any(root, self._exclude, seen)

    def _any(self, desc: Descriptor, exclude: frozenset[str], seen: set[str]) -> bool:
        if desc.full_name in seen:
            return False
        seen.add(desc.full_name)
        required, nested = self._of(desc)
        if any(f.name not in exclude for f in required):
            return True
        return any(
            self._any(_nested_type(f), _below(exclude, f.name), seen)  # type: ignore[arg-type]
            for f in nested
        )

    def missing(self, document: Any, *, present: bool = True) -> str | None:
        """The JSON path of the first missing REQUIRED field (``""``: the whole body), or ``None``.

        ``present``: whether the request had a body at all (``document`` is its
        parsed JSON).
        """
        root = self._root
        if isinstance(root, FieldDescriptor):
            if not present:
                return "" if self._whole else None
            desc = _nested_type(root)
            if desc is None:
                return None
            if root.is_repeated and isinstance(document, list):
                for i, item in enumerate(document):
                    found = self._check(item, desc, frozenset(), f"[{i}].")
                    if found:
                        return found
                return None
            return self._check(document, desc, self._exclude, "")
        return self._check(document if present else {}, root, self._exclude, "")

    def missing_in_mask(self, document: Any, mask: Sequence[str]) -> str | None:
        """Like :meth:`missing`, for the partial body of an update with a field mask.

        AIP-203: a REQUIRED field of the resource may be left out of an update when
        the field mask leaves it out too. So only the REQUIRED fields the mask names
        (``mask`` holds proto-name paths relative to the body field) must have a value.
        """
        desc = _nested_type(self._root) if isinstance(self._root, FieldDescriptor) else None
        if desc is None or not mask:
            return None
        return self._check_masked(document, desc, self._exclude, "", "", frozenset(mask))

    def _check_masked(
        self,
        value: Any,
        desc: Descriptor,
        exclude: frozenset[str],
        prefix: str,
        at: str,
        mask: frozenset[str],
    ) -> str | None:
        if value is None:
            value = {}  # the mask names fields below an object the body left out
        if not isinstance(value, dict):
            return None
        required, nested = self._of(desc)
        for f in required:
            if f.name not in exclude and at + f.name in mask and _absent(value, f):
                return prefix + f.json_name
        for f in nested:
            path = at + f.name + "."
            if not f.is_repeated and any(m.startswith(path) for m in mask):
                sub = _nested_type(f)
                assert sub is not None
                item = value.get(f.json_name, value.get(f.name))
                below = _below(exclude, f.name)
                found = self._check_masked(item, sub, below, prefix + f.json_name + ".", path, mask)
                if found:
                    return found
        return None

    def _check(
        self, value: Any, desc: Descriptor, exclude: frozenset[str], prefix: str
    ) -> str | None:
        if not isinstance(value, dict):
            return None
        required, nested = self._of(desc)
        for f in required:
            if f.name not in exclude and _absent(value, f):
                return prefix + f.json_name
        for f in nested:
            item = value.get(f.json_name, value.get(f.name))
            if item is None:
                continue
            sub = _nested_type(f)
            assert sub is not None
            name = prefix + f.json_name
            if is_map(f) and isinstance(item, dict):
                for key, entry in item.items():
                    found = self._check(entry, sub, frozenset(), f"{name}[{key}].")
                    if found:
                        return found
            elif f.is_repeated and isinstance(item, list):
                for i, entry in enumerate(item):
                    found = self._check(entry, sub, frozenset(), f"{name}[{i}].")
                    if found:
                        return found
            else:
                found = self._check(item, sub, _below(exclude, f.name), name + ".")
                if found:
                    return found
        return None


def _absent(value: dict[str, Any], field: FieldDescriptor) -> bool:
    """Whether a JSON object lacks ``field`` (``null`` counts as missing, except for
    a ``google.protobuf.Value``, whose JSON null is a value)."""
    item = value.get(field.json_name, value.get(field.name))
    return item is None and (
        field.message_type is None or field.message_type.full_name != "google.protobuf.Value"
    )


def _nested_type(field: FieldDescriptor) -> Descriptor | None:
    """The message type a JSON value of ``field`` (one element, a map's value) is an
    object of fields of; ``None`` for scalars and well-known types."""
    if is_map(field):
        field = message_type(field).fields_by_name["value"]
    desc = field.message_type
    if desc is None or desc.full_name in SPECIAL_JSON_WKTS or desc.full_name == HTTP_BODY:
        return None
    return desc


def _below(exclude: frozenset[str], name: str) -> frozenset[str]:
    prefix = name + "."
    return frozenset(p[len(prefix) :] for p in exclude if p.startswith(prefix))


def _type_name(field: FieldDescriptor) -> str:
    return "" if field.message_type is None else str(field.message_type.full_name)


def type_label(field: FieldDescriptor) -> str:
    """The proto type of a field for messages: ``int32``, ``map<string, Child>``, a full name."""
    if is_map(field):
        entry = message_type(field)
        key, value = entry.fields_by_name["key"], entry.fields_by_name["value"]
        return f"map<{type_label(key)}, {type_label(value)}>"
    if field.message_type is not None:
        return str(field.message_type.full_name)
    if field.enum_type is not None:
        return str(field.enum_type.full_name)
    return str(_TYPE_NAMES.get(field.type, "?"))


_FD = FieldDescriptor
_TYPE_NAMES: Final = {
    _FD.TYPE_DOUBLE: "double",
    _FD.TYPE_FLOAT: "float",
    _FD.TYPE_INT64: "int64",
    _FD.TYPE_UINT64: "uint64",
    _FD.TYPE_INT32: "int32",
    _FD.TYPE_FIXED64: "fixed64",
    _FD.TYPE_FIXED32: "fixed32",
    _FD.TYPE_BOOL: "bool",
    _FD.TYPE_STRING: "string",
    _FD.TYPE_BYTES: "bytes",
    _FD.TYPE_UINT32: "uint32",
    _FD.TYPE_SFIXED32: "sfixed32",
    _FD.TYPE_SFIXED64: "sfixed64",
    _FD.TYPE_SINT32: "sint32",
    _FD.TYPE_SINT64: "sint64",
}
