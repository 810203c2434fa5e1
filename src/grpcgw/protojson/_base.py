"""What every part of the codecs shares: errors, limits, descriptor helpers, code generation."""

from __future__ import annotations

import json
import keyword
import linecache
import zlib
from typing import Any, Final

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from grpcgw.lazyre import lazy_compile


class ProtoJSONError(ValueError):
    """A JSON value does not fit the message; the text names the field at fault.

    ``paths`` are those fields' paths in the document checked, as the text names
    them (keys as written, ``[0]`` into an array, ``[key]`` into a map; ``""`` the
    document itself): one, or two for two members of a oneof. Empty when the
    error is not about one place (nesting too deep, a reason json_format gave).
    """

    def __init__(self, message: str, *paths: str) -> None:
        super().__init__(message)
        self.paths = paths


class Slow(Exception):
    """Internal: the fast path does not handle this input; use the reference path."""


#: A key a document does not have (``None`` is a value: JSON's null).
MISSING: Final = object()

FD = FieldDescriptor
WRAPPERS_FILE: Final = "google/protobuf/wrappers.proto"
TIMESTAMP: Final = "google.protobuf.Timestamp"
DURATION: Final = "google.protobuf.Duration"
FIELD_MASK: Final = "google.protobuf.FieldMask"
STRUCT: Final = "google.protobuf.Struct"
VALUE: Final = "google.protobuf.Value"
LIST_VALUE: Final = "google.protobuf.ListValue"
ANY: Final = "google.protobuf.Any"
NULL_VALUE: Final = "google.protobuf.NullValue"
#: Well-known types with a JSON form of their own (json_format's _WKTJSONMETHODS).
SPECIAL_WKTS: Final = frozenset({ANY, DURATION, FIELD_MASK, LIST_VALUE, STRUCT, TIMESTAMP, VALUE})
#: json_format's own limit on message nesting.
MAX_DEPTH: Final = 100

#: The value range of each protobuf integer type (shared with the query/path converters).
INT_RANGES: Final = {
    FD.TYPE_INT32: (-(1 << 31), (1 << 31) - 1),
    FD.TYPE_SINT32: (-(1 << 31), (1 << 31) - 1),
    FD.TYPE_SFIXED32: (-(1 << 31), (1 << 31) - 1),
    FD.TYPE_INT64: (-(1 << 63), (1 << 63) - 1),
    FD.TYPE_SINT64: (-(1 << 63), (1 << 63) - 1),
    FD.TYPE_SFIXED64: (-(1 << 63), (1 << 63) - 1),
    FD.TYPE_UINT32: (0, (1 << 32) - 1),
    FD.TYPE_FIXED32: (0, (1 << 32) - 1),
    FD.TYPE_UINT64: (0, (1 << 64) - 1),
    FD.TYPE_FIXED64: (0, (1 << 64) - 1),
}
INT64_TYPES: Final = frozenset(
    {FD.TYPE_INT64, FD.TYPE_SINT64, FD.TYPE_SFIXED64, FD.TYPE_UINT64, FD.TYPE_FIXED64}
)
TYPE_NAMES: Final = {
    FD.TYPE_DOUBLE: "double",
    FD.TYPE_FLOAT: "float",
    FD.TYPE_INT64: "int64",
    FD.TYPE_UINT64: "uint64",
    FD.TYPE_INT32: "int32",
    FD.TYPE_FIXED64: "fixed64",
    FD.TYPE_FIXED32: "fixed32",
    FD.TYPE_BOOL: "bool",
    FD.TYPE_STRING: "string",
    FD.TYPE_BYTES: "bytes",
    FD.TYPE_UINT32: "uint32",
    FD.TYPE_SFIXED32: "sfixed32",
    FD.TYPE_SFIXED64: "sfixed64",
    FD.TYPE_SINT32: "sint32",
    FD.TYPE_SINT64: "sint64",
}
SURROGATE: Final = lazy_compile("[\ud800-\udfff]")
EXTENSION_NAME: Final = lazy_compile(r"\[[a-zA-Z0-9\._]*\]$")  # json_format's


def is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def has_json_form(desc: Descriptor) -> bool:
    """Whether json_format reads and writes ``desc`` with rules of its own."""
    return desc.full_name in SPECIAL_WKTS or desc.file.name == WRAPPERS_FILE


def message_type(field: FieldDescriptor) -> Descriptor:
    desc = field.message_type
    assert desc is not None, field.full_name
    return desc


def oneof_of(field: FieldDescriptor) -> str | None:
    """The oneof whose other members ``field`` excludes (``None``: none, or alone in it)."""
    oneof = field.containing_oneof
    return None if oneof is None or len(oneof.fields) < 2 else oneof.name


def json_keys(desc: Descriptor) -> dict[str, FieldDescriptor]:
    """The field each JSON key names: json_format looks a key up as a JSON name
    first, then as a proto name."""
    keys: dict[str, FieldDescriptor] = {}
    for field in desc.fields:
        keys.setdefault(field.name, field)
    for field in desc.fields:
        keys[field.json_name] = field
    return keys


def quote(text: str, limit: int = 64) -> str:
    if len(text) > limit:
        text = text[:limit] + "…"
    return json.dumps(text, ensure_ascii=False)


def plain_name(name: str) -> bool:
    """Whether ``name`` can be written as an attribute in source: an ASCII identifier
    (Python folds other identifiers to NFKC: ``ﬁeld`` would read ``field``), no keyword."""
    return name.isascii() and name.isidentifier() and not keyword.iskeyword(name)


def read_source(target: str, name: str) -> str:
    """Source reading field ``name`` of ``target`` (``getattr`` for any other name)."""
    if plain_name(name):
        return f"{target}.{name}"
    return f"getattr({target}, {name!r})"


def write_source(target: str, name: str, value: str) -> str:
    """Source setting field ``name`` of ``target`` (``setattr`` for any other name)."""
    if plain_name(name):
        return f"{target}.{name} = {value}"
    return f"setattr({target}, {name!r}, {value})"


def compile_function(
    name: str, lines: list[str], namespace: dict[str, Any], desc: Descriptor
) -> Any:
    """Define function ``name`` from ``lines`` in ``namespace``. The source holds only
    literals written with ``repr`` and checked identifiers, never descriptor text raw."""
    source = "\n".join(lines) + "\n"
    # Named by its text: a type built again (another pool, a reload) reuses the
    # entry, so linecache stays bounded by the distinct sources.
    filename = f"<grpcgw.protojson {name} {desc.full_name} #{zlib.crc32(source.encode()):08x}>"
    exec(compile(source, filename, "exec"), namespace)
    # Tracebacks through generated code show its lines (linecache keeps text only).
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return namespace[name]
