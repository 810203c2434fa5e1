"""Compiled proto3 JSON codecs, equal to ``google.protobuf.json_format`` but faster.

``json_format`` is pure Python and walks descriptors for every value; here the
per-field work (name lookup, type dispatch, range checks) is worked out once per
message type and each message only runs precomputed converters, written out as
Python source for that type and compiled once (as ``dataclasses`` does): one
straight-line function per type that reads or sets each field by name, with the
common checks inline. The source holds only ``repr`` literals, numbers and
ASCII identifiers, never descriptor text as code. Two shapes keep per-field
paths instead: documents setting under a quarter of a type's fields are filled
key by key, and types of more than ``GENERATED_MAX_FIELDS`` fields (sparsely
set, as a rule) are encoded from upb's ``ListFields()``.

Equality with ``json_format`` is kept by construction rather than by re-implementing
its corner cases:

- :class:`Decoder` has a *fast path* that only accepts the plain, well-formed
  forms (the right JSON type for each field, in range, each field once, no
  ``null``, no unknown keys unless ignored, Timestamps of the form
  ``YYYY-MM-DDTHH:MM:SS[.fffffffff]Z``). Anything else, and any error, makes
  it start over on the *reference path*: the shape checks below, then
  ``json_format.ParseDict`` on the whole document. Errors therefore always come
  from the reference path.
- :class:`Encoder` converts each field the way ``json_format``'s printer does;
  on anything unexpected (extensions, an enum number a closed enum does not
  declare, an out-of-range Timestamp, ...) it returns
  ``json_format.MessageToDict`` of the whole message instead (or raises its error).
- Well-known types other than Timestamp (Any, Struct, Value, ListValue,
  Duration, FieldMask, the wrappers) are handed to ``json_format`` value by value.

Deliberate differences from ``json_format.ParseDict`` (the shape checks of the
reference path, which grpcgw made before this module existed):

- a JSON value that is not an object where a message is expected is an error
  (``json_format`` with ``ignore_unknown_fields`` turns a string or an array
  into an empty message);
- an unknown enum name is an error even when unknown fields are ignored
  (``json_format`` then silently leaves the field unset);
- a float32 value just above FLT_MAX that rounds to FLT_MAX (``3.4028235e38``,
  the shortest text of FLT_MAX) is taken as FLT_MAX (``json_format`` rejects it).

Pure: protobuf and the standard library only.
"""

from __future__ import annotations

import base64
import datetime
import itertools
import json
import keyword
import linecache
import math
import re
import struct
import threading
from collections.abc import Callable
from typing import Any, Final, TypeVar, cast

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.internal import type_checkers
from google.protobuf.message import Message

__all__ = [
    "Decoder",
    "Encoder",
    "ProtoJSONError",
    "decoder",
    "encoder",
    "timestamp_fast",
    "timestamp_json",
]


class ProtoJSONError(ValueError):
    """A JSON value does not fit the message; the text names the field at fault."""


class _Slow(Exception):
    """Internal: the fast path does not handle this input; use the reference path."""


#: A key a document does not have (``None`` is a value: JSON's null).
_MISSING: Final = object()


_FD = FieldDescriptor
_WRAPPERS_FILE: Final = "google/protobuf/wrappers.proto"
#: Well-known types with a JSON form of their own (json_format's _WKTJSONMETHODS).
_SPECIAL_WKTS: Final = frozenset(
    {
        "google.protobuf.Any",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
        "google.protobuf.ListValue",
        "google.protobuf.Struct",
        "google.protobuf.Timestamp",
        "google.protobuf.Value",
    }
)
_TIMESTAMP: Final = "google.protobuf.Timestamp"
#: json_format's own limit on message nesting.
MAX_DEPTH: Final = 100

#: The value range of each protobuf integer type (shared with the query/path converters).
INT_RANGES: Final = {
    _FD.TYPE_INT32: (-(1 << 31), (1 << 31) - 1),
    _FD.TYPE_SINT32: (-(1 << 31), (1 << 31) - 1),
    _FD.TYPE_SFIXED32: (-(1 << 31), (1 << 31) - 1),
    _FD.TYPE_INT64: (-(1 << 63), (1 << 63) - 1),
    _FD.TYPE_SINT64: (-(1 << 63), (1 << 63) - 1),
    _FD.TYPE_SFIXED64: (-(1 << 63), (1 << 63) - 1),
    _FD.TYPE_UINT32: (0, (1 << 32) - 1),
    _FD.TYPE_FIXED32: (0, (1 << 32) - 1),
    _FD.TYPE_UINT64: (0, (1 << 64) - 1),
    _FD.TYPE_FIXED64: (0, (1 << 64) - 1),
}
_INT64_TYPES: Final = frozenset(
    {_FD.TYPE_INT64, _FD.TYPE_SINT64, _FD.TYPE_SFIXED64, _FD.TYPE_UINT64, _FD.TYPE_FIXED64}
)
_DIGITS: Final = re.compile(r"-?[0-9]{1,20}")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_EXTENSION_NAME: Final = re.compile(r"\[[a-zA-Z0-9\._]*\]$")  # json_format's
_FLT_MAX: Final = float.fromhex("0x1.fffffep+127")
_FLOAT_WORDS: Final = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_TIMESTAMP_RE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.([0-9]{1,9}))?Z"
)
_EPOCH: Final = datetime.datetime(1970, 1, 1)
_from_iso: Final = datetime.datetime.fromisoformat


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _has_json_form(desc: Descriptor) -> bool:
    """Whether json_format reads and writes ``desc`` with rules of its own."""
    return desc.full_name in _SPECIAL_WKTS or desc.file.name == _WRAPPERS_FILE


def _message_type(field: FieldDescriptor) -> Descriptor:
    desc = field.message_type
    assert desc is not None, field.full_name
    return desc


# -- scalar converters (JSON value -> Python value), fast forms only -------------------

_Scalar = Callable[[Any], Any]


def _int_scalar(low: int, high: int) -> _Scalar:
    def convert(value: Any) -> int:
        kind = type(value)
        if kind is int:
            number: int = value
        elif kind is str and value.isascii() and value.isdigit() and len(value) <= 20:
            number = int(value)  # the common form of a 64-bit value, regex-free
        elif (kind is str and _DIGITS.fullmatch(value)) or (kind is float and value.is_integer()):
            number = int(value)
        else:
            raise _Slow
        if low <= number <= high:
            return number
        raise _Slow

    return convert


def _float_scalar(limit: float) -> _Scalar:
    def convert(value: Any) -> float:
        kind = type(value)
        if kind is float:
            if value - value == 0.0 and -limit <= value <= limit:  # finite, in range
                return cast(float, value)
        elif kind is int:
            if -(1 << 64) <= value <= 1 << 64:
                return float(value)
        elif kind is str:
            word = _FLOAT_WORDS.get(value)
            if word is not None:
                return word
        raise _Slow

    return convert


def _bool_scalar(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise _Slow


def _string_scalar(value: Any) -> str:
    if type(value) is str and (value.isascii() or _SURROGATE.search(value) is None):
        return value
    raise _Slow


def _bytes_scalar(value: Any) -> bytes:
    if type(value) is not str:
        raise _Slow
    encoded = value.encode("utf-8")
    # Exactly json_format's decoding (it pads with 1-4 "="), errors included.
    return base64.urlsafe_b64decode(encoded + b"=" * (4 - len(encoded) % 4))


def _enum_scalar(field: FieldDescriptor) -> _Scalar:
    enum = field.enum_type
    assert enum is not None
    by_name = {name: value.number for name, value in enum.values_by_name.items()}
    numbers = frozenset(enum.values_by_number)
    closed = bool(enum.is_closed)

    def convert(value: Any) -> int:
        kind = type(value)
        if kind is str:
            number = by_name.get(value)
            if number is not None:
                return number
        elif kind is int and (value in numbers or (not closed and -(1 << 31) <= value < 1 << 31)):
            return cast(int, value)
        raise _Slow

    return convert


def _scalar(field: FieldDescriptor) -> _Scalar:
    kind = field.type
    if field.enum_type is not None:
        return _enum_scalar(field)
    if kind in INT_RANGES:
        return _int_scalar(*INT_RANGES[kind])
    if kind == _FD.TYPE_DOUBLE:
        return _float_scalar(math.inf)
    if kind == _FD.TYPE_FLOAT:
        return _float_scalar(_FLT_MAX)
    if kind == _FD.TYPE_BOOL:
        return _bool_scalar
    if kind == _FD.TYPE_STRING:
        return _string_scalar
    if kind == _FD.TYPE_BYTES:
        return _bytes_scalar
    raise _Slow  # groups


def _map_key(field: FieldDescriptor) -> _Scalar:
    """Map keys are JSON object keys: always strings."""
    kind = field.type
    if kind == _FD.TYPE_STRING:
        return _string_scalar
    if kind == _FD.TYPE_BOOL:
        return lambda key: {"true": True, "false": False}[key]
    low, high = INT_RANGES[kind]

    def convert(key: Any) -> int:
        if _DIGITS.fullmatch(key) is None:
            raise _Slow
        number = int(key)
        if low <= number <= high:
            return number
        raise _Slow

    return convert


# -- decoder ------------------------------------------------------------------------

#: Fills one message from a JSON value: (value, message, depth).
_Fill = Callable[[Any, Any, int], None]
#: Sets one field of a message: (message, value, depth of the message).
_Set = Callable[[Any, Any, int], None]


def _timestamp_fill(value: Any, message: Any, depth: int) -> None:
    if type(value) is not str or depth > MAX_DEPTH:
        raise _Slow
    match = _TIMESTAMP_RE.fullmatch(value)
    if match is None or value[11:13] > "23":  # newer Pythons read 24:00 as midnight
        raise _Slow
    # Raises ValueError for impossible dates and times (and year 0), as strptime does.
    delta = _from_iso(value[:19]) - _EPOCH
    fraction = match[1]
    # json_format's arithmetic, float rounding included.
    nanos = round(float("0." + fraction) * 1e9) if fraction else 0
    if nanos >= 1_000_000_000:
        raise _Slow
    message.SetInParent()
    message.seconds = delta.seconds + delta.days * 86_400
    message.nanos = nanos


def timestamp_fast(text: str, message: Message) -> bool:
    """Set the Timestamp ``message`` from ``text`` in the common form
    ``YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`` as json_format would; ``False`` (and
    ``message`` untouched) for any other text: json_format must decide."""
    try:
        _timestamp_fill(text, message, 1)
    except (_Slow, ValueError):
        return False
    return True


def _json_keys(desc: Descriptor) -> dict[str, FieldDescriptor]:
    """The field each JSON key names: json_format looks a key up as a JSON name
    first, then as a proto name."""
    keys: dict[str, FieldDescriptor] = {}
    for field in desc.fields:
        keys.setdefault(field.name, field)
    for field in desc.fields:
        keys[field.json_name] = field
    return keys


class _MessageDecoder:
    """Fills a message key by key: for documents that set few of the type's fields."""

    __slots__ = ("_fields", "_ignore")

    def __init__(self, desc: Descriptor, ignore: bool) -> None:
        self._ignore = ignore
        self._fields = {
            key: (field.number, _oneof(field), _setter(field, ignore))
            for key, field in _json_keys(desc).items()
        }

    def fill(self, value: Any, message: Any, depth: int) -> None:
        if type(value) is not dict or depth > MAX_DEPTH:
            raise _Slow
        fields = self._fields
        seen: set[object] = set()
        for key, item in value.items():
            entry = fields.get(key)
            if entry is None:
                if self._ignore and not _EXTENSION_NAME.match(key):
                    continue
                raise _Slow
            number, oneof, setter = entry
            if item is None or number in seen:
                raise _Slow
            seen.add(number)
            if oneof is not None:
                if oneof in seen:
                    raise _Slow
                seen.add(oneof)
            setter(message, item, depth)


def _oneof(field: FieldDescriptor) -> str | None:
    """The oneof whose other members ``field`` excludes (``None``: none, or alone in it)."""
    oneof = field.containing_oneof
    return None if oneof is None or len(oneof.fields) < 2 else oneof.name


_FILLS: dict[tuple[Descriptor, bool], _Fill] = {}
#: Types whose fill this thread is building (under _BUILD_LOCK): a recursive
#: type's fields get a fill resolved on first use instead.
_FILLS_BUILDING: set[tuple[Descriptor, bool]] = set()
#: Codecs are built one at a time: another thread waits for a build under way
#: rather than taking a half-registered type for a recursive one.
_BUILD_LOCK: Final = threading.RLock()


def _message_fill(desc: Descriptor, ignore: bool, *, eager: bool = False) -> _Fill:
    """How to fill a message of type ``desc``: built now if ``eager`` (unless it is
    being built: a recursive type), else on first use."""
    if desc.full_name == _TIMESTAMP:
        return _timestamp_fill
    if _has_json_form(desc):

        def delegate(value: Any, message: Any, depth: int) -> None:
            if value is None or depth > MAX_DEPTH:
                raise _Slow
            message.SetInParent()
            json_format.ParseDict(
                value,
                message,
                ignore_unknown_fields=ignore,
                max_recursion_depth=MAX_DEPTH + 1 - depth,
            )

        return delegate

    key = (desc, ignore)
    found = _FILLS.get(key)
    if found is None and eager:
        found = _built(_FILLS, _FILLS_BUILDING, key, lambda: _build_fill(desc, ignore))
    if found is not None:
        return found

    def fill(value: Any, message: Any, depth: int) -> None:
        (_FILLS.get(key) or _message_fill(desc, ignore, eager=True))(value, message, depth)

    return fill


_K = TypeVar("_K")
_F = TypeVar("_F")


def _built(cache: dict[_K, _F], building: set[_K], key: _K, build: Callable[[], _F]) -> _F | None:
    """The codec ``cache`` holds for ``key``, built now if it has none yet; ``None``
    while this thread is building it (a recursive type: resolve it on first use)."""
    found = cache.get(key)
    if found is not None:
        return found
    with _BUILD_LOCK:
        found = cache.get(key)
        if found is None and key not in building:
            building.add(key)
            try:
                found = cache[key] = build()
            finally:
                building.discard(key)
        return found


def _build_fill(desc: Descriptor, ignore: bool) -> _Fill:
    try:
        return _generated_fill(desc, ignore)
    except Exception:  # a type the generator cannot write out: never fast
        return _give_up


def _give_up(value: Any, message: Any, depth: int) -> None:
    raise _Slow


#: A document setting fewer than this share of its type's fields is filled key
#: by key: a lookup per field of the type would cost more.
_SPARSE_SHARE = 0.25


def _generated_fill(desc: Descriptor, ignore: bool) -> _Fill:
    """A ``fill(value, message, depth)`` written out for ``desc``: one lookup per
    field, the common conversions inline. A document that sets under a quarter of
    the type's fields is filled key by key instead (:class:`_MessageDecoder`)."""
    known = _json_keys(desc)
    keys: dict[FieldDescriptor, list[str]] = {}
    for key, field in known.items():
        keys.setdefault(field, []).append(key)
    for field, names in keys.items():  # clients send JSON names: look those up first
        names.sort(key=lambda name: name != field.json_name)

    def unknown(value: dict[str, Any]) -> None:
        if not ignore:
            raise _Slow
        for key in value:
            if key not in known and _EXTENSION_NAME.match(key):
                raise _Slow  # an extension: json_format's job

    namespace: dict[str, Any] = {
        "_Slow": _Slow,
        "_M": _MISSING,
        "_unknown": unknown,
        "_surrogate": _SURROGATE.search,
        "_sparse": _MessageDecoder(desc, ignore).fill,
    }
    lines = [
        "def fill(value, message, depth):",
        f"    if type(value) is not dict or depth > {MAX_DEPTH}:",
        "        raise _Slow",
        f"    if len(value) < {len(desc.fields) * _SPARSE_SHARE!r}:",
        "        return _sparse(value, message, depth)",
        "    found = 0",
    ]
    oneofs = sorted({name for field in desc.fields if (name := _oneof(field)) is not None})
    lines += [f"    _o{n} = False" for n in range(len(oneofs))]
    for n, field in enumerate(desc.fields):
        if field not in keys:
            continue  # every name of it names another field (a proto2 JSON name clash)
        first, *others = keys[field]
        lines.append(f"    v = value.get({first!r}, _M)")
        for other in others:  # the field under both names: json_format keeps the last
            lines += [
                f"    if {other!r} in value:",
                "        if v is not _M:",
                "            raise _Slow",
                f"        v = value[{other!r}]",
            ]
        lines += ["    if v is not _M:", "        found += 1"]
        oneof = _oneof(field)
        if oneof is not None:
            flag = f"_o{oneofs.index(oneof)}"
            lines += [f"        if {flag}:", "            raise _Slow", f"        {flag} = True"]
        lines += [f"        {line}" for line in _fill_source(field, ignore, n, namespace)]
    lines += ["    if found != len(value):", "        _unknown(value)"]
    return cast(_Fill, _compile("fill", lines, namespace, desc))


def _fill_source(
    field: FieldDescriptor, ignore: bool, n: int, namespace: dict[str, Any]
) -> list[str]:
    """Source setting ``field`` of ``message`` from the JSON value ``v``."""
    name = field.name
    helper = f"_s{n}"
    if field.is_repeated and field.type == _FD.TYPE_STRING:
        return [
            "if type(v) is not list:",
            "    raise _Slow",
            "for x in v:",
            f"    if {_not_text('x')}:",
            "        raise _Slow",
            f"{_read('message', name)}.extend(v)",
        ]
    if field.is_repeated or field.type == _FD.TYPE_GROUP:
        namespace[helper] = _setter(field, ignore, eager=True)
        return [f"{helper}(message, v, depth)"]  # checks the list (or object) itself
    if field.message_type is not None:
        namespace[helper] = _message_fill(field.message_type, ignore, eager=True)
        return [
            f"sub = {_read('message', name)}",
            "sub.SetInParent()",
            f"{helper}(v, sub, depth + 1)",  # checks v itself (None included)
        ]
    kind = field.type
    if kind == _FD.TYPE_STRING:
        check = [f"if {_not_text('v')}:", "    raise _Slow"]
    elif kind == _FD.TYPE_BOOL:
        check = ["if type(v) is not bool:", "    raise _Slow"]
    elif kind in INT_RANGES and field.enum_type is None:
        namespace[helper] = _int_scalar(*INT_RANGES[kind])
        low, high = INT_RANGES[kind]
        check = [f"if type(v) is not int or not {low} <= v <= {high}:", f"    v = {helper}(v)"]
    else:
        namespace[helper] = _scalar(field)
        check = [f"v = {helper}(v)"]  # raises _Slow for None and anything else it cannot take
    return [*check, _write("message", name, "v")]


def _not_text(name: str) -> str:
    """Source testing that ``name`` is not what :func:`_string_scalar` takes."""
    return f"type({name}) is not str or not ({name}.isascii() or _surrogate({name}) is None)"


def _setter(field: FieldDescriptor, ignore: bool, *, eager: bool = False) -> _Set:
    name = field.name
    if field.type == _FD.TYPE_GROUP:

        def unsupported(message: Any, value: Any, depth: int) -> None:
            raise _Slow

        return unsupported
    if _is_map(field):
        entry = _message_type(field)
        key_of = _map_key(entry.fields_by_name["key"])
        value_field = entry.fields_by_name["value"]
        if value_field.message_type is not None:
            fill_value = _message_fill(value_field.message_type, ignore, eager=eager)

            def set_message_map(message: Any, value: Any, depth: int) -> None:
                if type(value) is not dict:
                    raise _Slow
                container = getattr(message, name)
                size = len(container)
                for key, item in value.items():
                    if item is None:
                        raise _Slow
                    fill_value(item, container[key_of(key)], depth + 1)
                if len(container) != size + len(value):
                    raise _Slow  # "1" and "01": one key twice, which json_format merges its way

            return set_message_map
        convert_value = _scalar(value_field)

        def set_scalar_map(message: Any, value: Any, depth: int) -> None:
            if type(value) is not dict:
                raise _Slow
            container = getattr(message, name)
            size = len(container)
            for key, item in value.items():
                container[key_of(key)] = convert_value(item)
            if len(container) != size + len(value):
                raise _Slow  # one key twice ("1" and "01"): json_format decides

        return set_scalar_map
    if field.message_type is not None:
        fill = _message_fill(field.message_type, ignore, eager=eager)
        if field.is_repeated:

            def set_messages(message: Any, value: Any, depth: int) -> None:
                if type(value) is not list:
                    raise _Slow
                container = getattr(message, name)
                for item in value:
                    if item is None:
                        raise _Slow
                    fill(item, container.add(), depth + 1)

            return set_messages

        def set_message(message: Any, value: Any, depth: int) -> None:
            sub = getattr(message, name)
            sub.SetInParent()
            fill(value, sub, depth + 1)

        return set_message
    convert = _scalar(field)
    if field.is_repeated:

        def set_scalars(message: Any, value: Any, depth: int) -> None:
            if type(value) is not list:
                raise _Slow
            getattr(message, name).extend([convert(item) for item in value])

        return set_scalars

    def set_scalar(message: Any, value: Any, depth: int) -> None:
        setattr(message, name, convert(value))

    return set_scalar


class Decoder:
    """JSON value -> message for one message type: ``json_format.ParseDict`` plus
    the shape checks listed in the module docstring.

    Build with :func:`decoder` (cached per descriptor and option).
    """

    __slots__ = ("_desc", "_fill", "_ignore", "_setters")

    def __init__(self, desc: Descriptor, *, ignore_unknown_fields: bool = False) -> None:
        self._desc = desc
        self._ignore = ignore_unknown_fields
        self._fill = _message_fill(desc, ignore_unknown_fields)
        self._setters: dict[str, _Set] = {}

    def decode(self, value: object, message: Message) -> object:
        """Merge the JSON ``value`` into the empty ``message``; return ``value``
        (normalised in place when the reference path ran).

        Raises :class:`ProtoJSONError` (``message`` is then partly set).
        """
        try:
            self._fill(value, message, 1)
            return value
        except Exception:  # _Slow, or anything the fast path did not foresee
            message.Clear()
        check_message_json(value, self._desc, "", 0)
        self._reference(value, message)
        return value

    def decode_field(self, value: object, message: Message, field: FieldDescriptor) -> object:
        """Set the top-level ``field`` of the empty ``message`` from its JSON
        ``value`` (an HttpRule ``body: "field"``); return ``value``, normalised."""
        setter = self._setters.get(field.name)
        if setter is None:
            setter = self._setters[field.name] = _setter(field, self._ignore)
        try:
            if value is None:
                raise _Slow
            setter(message, value, 1)
            return value
        except Exception:
            message.Clear()
        value = check_field_json(value, field, field.name, 0)
        self._reference({field.json_name: value}, message)
        return value

    def _reference(self, document: object, message: Message) -> None:
        try:
            json_format.ParseDict(cast(Any, document), message, ignore_unknown_fields=self._ignore)
        # json_format.Parse wraps every exception of ParseDict the same way: on
        # malformed input its WKT parsers can raise TypeError, AttributeError, ...
        except Exception as e:
            raise ProtoJSONError(str(e)) from None


_DECODER_CACHE: dict[tuple[Descriptor, bool], Decoder] = {}


def decoder(desc: Descriptor, *, ignore_unknown_fields: bool = False) -> Decoder:
    """The (cached) :class:`Decoder` of ``desc``."""
    key = (desc, ignore_unknown_fields)
    found = _DECODER_CACHE.get(key)
    if found is None:
        found = _DECODER_CACHE[key] = Decoder(desc, ignore_unknown_fields=ignore_unknown_fields)
    return found


# -- shape checks (the reference path's, before json_format) ---------------------------


def _quote(text: str, limit: int = 64) -> str:
    if len(text) > limit:
        text = text[:limit] + "…"
    return json.dumps(text, ensure_ascii=False)


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return "a string" if isinstance(value, str) else "a scalar"


_TABLES: dict[Descriptor, dict[str, FieldDescriptor]] = {}


def _check_table(desc: Descriptor) -> dict[str, FieldDescriptor]:
    table = _TABLES.get(desc)
    if table is None:
        table = {f.json_name: f for f in desc.fields}
        table.update((f.name, f) for f in desc.fields)
        _TABLES[desc] = table
    return table


def check_message_json(value: object, desc: Descriptor, path: str, depth: int) -> None:
    """Reject JSON that json_format would misread instead of rejecting.

    json_format iterates over whatever it gets for a message, so a string or an
    array given for a message silently becomes an empty message when unknown
    fields are ignored; and it drops unknown enum names in that mode too.
    Float values are normalised in place (see :func:`float32`).
    """
    if desc.full_name == "google.protobuf.FloatValue":
        return  # a bare number: the caller normalises it
    if _has_json_form(desc):
        return  # json_format checks these itself
    if depth > MAX_DEPTH:
        raise ProtoJSONError("nested too deeply")
    if not isinstance(value, dict):
        where = f'field "{path}"' if path else "the request body"
        raise ProtoJSONError(
            f"{where} ({desc.full_name}) must be an object, not {_json_kind(value)}"
        )
    table = _check_table(desc)
    for key, item in value.items():
        field = table.get(key)
        if field is not None:
            value[key] = check_field_json(item, field, f"{path}.{key}" if path else key, depth)


def check_field_json(value: object, field: FieldDescriptor, path: str, depth: int) -> object:
    """Check one field's JSON value; return it, normalised."""
    if value is None:
        return value
    if _is_map(field):
        if isinstance(value, dict):
            value_field = _message_type(field).fields_by_name["value"]
            for key, item in value.items():
                value[key] = _check_element_json(item, value_field, f"{path}[{key}]", depth)
    elif field.is_repeated:
        if isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = _check_element_json(item, field, f"{path}[{index}]", depth)
    else:
        return _check_element_json(value, field, path, depth)
    return value


_INT_TEXT: Final = re.compile(r"[+-]?[0-9]+")
_ENUM_NAMES: dict[EnumDescriptor, frozenset[str]] = {}


def _enum_names(enum: EnumDescriptor) -> frozenset[str]:
    # A Python set: upb's values_by_name raises on strings with lone surrogates.
    names = _ENUM_NAMES.get(enum)
    if names is None:
        names = _ENUM_NAMES[enum] = frozenset(value.name for value in enum.values)
    return names


def _check_element_json(value: object, field: FieldDescriptor, path: str, depth: int) -> object:
    if field.message_type is not None:
        check_message_json(value, field.message_type, path, depth + 1)
        if field.message_type.full_name == "google.protobuf.FloatValue":
            return float32(value)
    elif field.type == _FD.TYPE_FLOAT:
        return float32(value)
    elif (
        field.enum_type is not None
        and isinstance(value, str)
        and value not in _enum_names(field.enum_type)
        and _INT_TEXT.fullmatch(value) is None
    ):
        raise ProtoJSONError(
            f'invalid value {_quote(value)} for field "{path}" ({field.enum_type.full_name})'
        )
    return value


def float32(value: object) -> object:
    """A JSON number for a float32 field, rounded to float32 when just above FLT_MAX.

    The shortest text for FLT_MAX (``3.4028235e+38``, what clients write) reads
    as a double slightly above it, which json_format rejects as too large
    although it rounds to FLT_MAX. Values that do not round to a finite
    float32 are left for json_format to reject.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    if math.isfinite(number) and abs(number) > _FLT_MAX:
        try:
            return struct.unpack("<f", struct.pack("<f", number))[0]
        except OverflowError:
            return value
    return value


# -- encoder ------------------------------------------------------------------------

_Value = Callable[[Any], Any]


def _float_json(value: float) -> Any:
    if value - value == 0.0:  # finite
        return value
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _float32_json(value: float) -> Any:
    if value - value == 0.0:
        return type_checkers.ToShortestFloat(value)
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _bytes_json(value: bytes) -> str:
    return base64.b64encode(value).decode("utf-8")


def _identity(value: Any) -> Any:
    return value


class _Options:
    __slots__ = ("emit", "enums_as_ints", "proto_names")

    def __init__(self, emit: bool, proto_names: bool, enums_as_ints: bool) -> None:
        self.emit = emit
        self.proto_names = proto_names
        self.enums_as_ints = enums_as_ints

    def key(self) -> tuple[bool, bool, bool]:
        return self.emit, self.proto_names, self.enums_as_ints

    def json_key(self, field: FieldDescriptor) -> str:
        """The key ``field`` is written under."""
        return field.name if self.proto_names else field.json_name

    def message_to_dict(self, message: Message) -> Any:
        return json_format.MessageToDict(
            message,
            always_print_fields_with_no_presence=self.emit,
            preserving_proto_field_name=self.proto_names,
            use_integers_for_enums=self.enums_as_ints,
        )


def _value_json(field: FieldDescriptor, options: _Options, *, eager: bool = False) -> _Value:
    """Converter of one value of ``field`` (an element, if repeated)."""
    if field.message_type is not None:
        return _message_json(field.message_type, options, eager=eager)
    if field.enum_type is not None:
        if options.enums_as_ints:
            return _identity
        enum = field.enum_type
        if enum.full_name == "google.protobuf.NullValue":
            return lambda value: None
        names = {number: value.name for number, value in enum.values_by_number.items()}
        if any(value.GetOptions().ListFields() for value in enum.values):
            raise _Slow  # pb.enumvalue.json names and the like: not handled here
        closed = bool(enum.is_closed)

        def enum_json(value: int) -> Any:
            name = names.get(value)
            if name is not None:
                return name
            if closed:
                raise _Slow
            return value

        return enum_json
    kind = field.type
    if kind in _INT64_TYPES:
        return str
    if kind == _FD.TYPE_DOUBLE:
        return _float_json
    if kind == _FD.TYPE_FLOAT:
        return _float32_json
    if kind == _FD.TYPE_BYTES:
        return _bytes_json
    if kind == _FD.TYPE_GROUP:
        raise _Slow
    return _identity  # string, bool, 32-bit ints


def _message_json(desc: Descriptor, options: _Options, *, eager: bool = False) -> _Value:
    """Converter of a message of type ``desc``: its encoder, built now if ``eager``
    (unless it is being built: a recursive type), else on first use."""
    if desc.full_name == _TIMESTAMP:
        return timestamp_json
    if desc.full_name in ("google.protobuf.Duration", "google.protobuf.FieldMask"):
        return lambda message: message.ToJsonString()
    if _has_json_form(desc):
        return options.message_to_dict
    key = (desc, options.key())
    found = _MESSAGE_ENCODERS.get(key)
    if found is None and eager:
        found = _built(_MESSAGE_ENCODERS, _BUILDING, key, lambda: _message_encoder(desc, options))
    if found is not None:
        return found

    def convert(message: Any) -> Any:
        return (_MESSAGE_ENCODERS.get(key) or _message_json(desc, options, eager=True))(message)

    return convert


def _map_key_json(key: Any) -> str:
    if key is True:
        return "true"
    if key is False:
        return "false"
    return str(key)


def _field_json(field: FieldDescriptor, options: _Options) -> _Value | None:
    """Converter of a field's value (``None``: the value as it is)."""
    if _is_map(field):
        convert = _value_json(_message_type(field).fields_by_name["value"], options)
        key_is_bool = _message_type(field).fields_by_name["key"].type == _FD.TYPE_BOOL
        if not key_is_bool:
            return lambda value: {str(k): convert(value[k]) for k in value}
        return lambda value: {_map_key_json(k): convert(value[k]) for k in value}
    convert = _value_json(field, options)
    if field.is_repeated:
        if convert is _identity:
            return list
        return lambda value: [convert(item) for item in value]
    return None if convert is _identity else convert


class _MessageEncoder:
    __slots__ = ("_defaults", "_fields", "_slow")

    def __init__(self, desc: Descriptor, options: _Options) -> None:
        self._fields: dict[int, tuple[str, _Value | None]] = {}
        #: (key, kind, value): kind 0 a scalar default, 1 an empty list, 2 an empty object.
        self._defaults: list[tuple[str, int, Any]] = []
        self._slow = False
        try:
            for field in desc.fields:
                key = options.json_key(field)
                self._fields[field.number] = (key, _field_json(field, options))
            if options.emit:
                for field in desc.fields:
                    if field.has_presence:
                        continue
                    key = options.json_key(field)
                    if _is_map(field):
                        self._defaults.append((key, 2, None))
                    elif field.is_repeated:
                        self._defaults.append((key, 1, None))
                    else:
                        default = _value_json(field, options)(field.default_value)
                        self._defaults.append((key, 0, default))
        except _Slow:
            self._slow = True  # every message of this type goes to json_format

    def encode(self, message: Any) -> dict[str, Any]:
        if self._slow:
            raise _Slow
        fields = self._fields
        js: dict[str, Any] = {}
        for field, value in message.ListFields():
            # Extensions (numbers outside the fields') are left to json_format.
            entry = fields.get(field.number)
            if entry is None:
                raise _Slow
            key, convert = entry
            js[key] = value if convert is None else convert(value)
        for key, kind, default in self._defaults:
            if key not in js:
                js[key] = default if kind == 0 else [] if kind == 1 else {}
        return js


_Encode = Callable[[Any], dict[str, Any]]
_MESSAGE_ENCODERS: dict[tuple[Descriptor, tuple[bool, bool, bool]], _Encode] = {}
#: Types whose encoder this thread is building (under _BUILD_LOCK).
_BUILDING: set[tuple[Descriptor, tuple[bool, bool, bool]]] = set()

#: What generated code calls on a message; upb looks field names up first.
_MESSAGE_METHODS: Final = frozenset({"Extensions", "HasField", "SetInParent"})

#: Types with at most this many fields get a generated encoder, which reads every
#: field; bigger ones (sparsely set, as a rule) ask upb for the set fields.
GENERATED_MAX_FIELDS: Final = 32


def _message_encoder(desc: Descriptor, options: _Options) -> _Encode:
    if len(desc.fields) <= GENERATED_MAX_FIELDS:
        try:
            return _generated_encoder(desc, options)
        except Exception:  # _Slow, or a type the generator cannot write out
            pass
    return _MessageEncoder(desc, options).encode  # raises _Slow for a type never fast


def _generated_encoder(desc: Descriptor, options: _Options) -> _Encode:
    """An ``encode(message)`` written out for ``desc``: the fields ``ListFields``
    would list, in its order (by number), each read and converted by straight-line
    code, then the defaults ``always_print_fields_with_no_presence`` adds."""
    if any(field.name in _MESSAGE_METHODS for field in desc.fields):
        raise _Slow  # the field would hide the method from the generated code
    namespace: dict[str, Any] = {"_Slow": _Slow, "_copysign": math.copysign}
    lines = ["def encode(message):", "    js = {}"]
    if desc.extension_ranges:
        lines += ["    if len(message.Extensions):", "        raise _Slow"]  # json_format's job
    for n, field in enumerate(sorted(desc.fields, key=lambda f: f.number)):
        key = repr(options.json_key(field))
        value = _value_source(field, options, f"_c{n}", namespace)
        read = _read("message", field.name)
        # Exactly upb's ListFields: repeated and map fields when not empty, fields
        # with presence when set, others when not zero (-0.0 counts as set).
        if field.is_repeated or not field.has_presence:
            lines.append(f"    v = {read}")
            if field.type in (_FD.TYPE_DOUBLE, _FD.TYPE_FLOAT) and not field.is_repeated:
                lines.append("    if v or _copysign(1.0, v) < 0.0:")
            else:
                lines.append("    if v:")
        else:
            lines += [f"    if message.HasField({field.name!r}):", f"        v = {read}"]
        lines.append(f"        js[{key}] = {value}")
    if options.emit:
        for n, field in enumerate(desc.fields):
            if field.has_presence:
                continue
            key = repr(options.json_key(field))
            if _is_map(field):
                default = "{}"
            elif field.is_repeated:
                default = "[]"
            else:
                default = f"_d{n}"
                namespace[default] = _value_json(field, options)(field.default_value)
            lines += [f"    if {key} not in js:", f"        js[{key}] = {default}"]
    lines.append("    return js")
    return cast(_Encode, _compile("encode", lines, namespace, desc))


def _value_source(
    field: FieldDescriptor, options: _Options, name: str, namespace: dict[str, Any]
) -> str:
    """Source converting ``v``, the value of ``field``; helpers go in ``namespace``."""
    if _is_map(field):
        namespace[name] = _field_json(field, options)
        return f"{name}(v)"
    convert = _value_json(field, options, eager=True)
    if convert is _identity:
        return "list(v)" if field.is_repeated else "v"
    if convert is str:
        return "list(map(str, v))" if field.is_repeated else "str(v)"
    namespace[name] = convert
    if field.is_repeated:
        return f"list(map({name}, v))"
    if convert is _float_json:
        return f"v if v - v == 0.0 else {name}(v)"  # finite: as it is
    return f"{name}(v)"


def _plain_name(name: str) -> bool:
    """Whether ``name`` can be written as an attribute in source: an ASCII identifier
    (Python folds other identifiers to NFKC: ``ﬁeld`` would read ``field``), no keyword."""
    return name.isascii() and name.isidentifier() and not keyword.iskeyword(name)


def _read(target: str, name: str) -> str:
    """Source reading field ``name`` of ``target`` (``getattr`` for any other name)."""
    if _plain_name(name):
        return f"{target}.{name}"
    return f"getattr({target}, {name!r})"


def _write(target: str, name: str, value: str) -> str:
    """Source setting field ``name`` of ``target`` (``setattr`` for any other name)."""
    if _plain_name(name):
        return f"{target}.{name} = {value}"
    return f"setattr({target}, {name!r}, {value})"


def _compile(name: str, lines: list[str], namespace: dict[str, Any], desc: Descriptor) -> Any:
    """Define function ``name`` from ``lines`` in ``namespace``. The source holds only
    literals written with ``repr`` and checked identifiers, never descriptor text raw."""
    source = "\n".join(lines) + "\n"
    filename = f"<grpcgw.protojson {name} {desc.full_name} #{next(_COMPILED)}>"
    exec(compile(source, filename, "exec"), namespace)
    # Tracebacks through generated code show its lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return namespace[name]


_COMPILED: Final = itertools.count(1)


# -- Timestamp ---------------------------------------------------------------------------

_MIN_SECONDS: Final = -62135596800  # 0001-01-01T00:00:00Z
_MAX_SECONDS: Final = 253402300799  # 9999-12-31T23:59:59Z


def timestamp_json(message: Any) -> str:
    """``message.ToJsonString()`` of a Timestamp (its errors included), at half the cost."""
    seconds, nanos = message.seconds, message.nanos
    if not (_MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos < 1_000_000_000):
        return cast(str, message.ToJsonString())  # raises json_format's error
    text = (_EPOCH + datetime.timedelta(0, seconds)).isoformat()
    if nanos == 0:
        return text + "Z"
    if nanos % 1_000_000 == 0:
        return f"{text}.{nanos // 1_000_000:03d}Z"
    if nanos % 1000 == 0:
        return f"{text}.{nanos // 1000:06d}Z"
    return f"{text}.{nanos:09d}Z"


class Encoder:
    """Message -> JSON-able value for one message type: what
    ``json_format.MessageToDict`` returns with the same options.

    Build with :func:`encoder` (cached per descriptor and options).
    """

    __slots__ = ("_convert", "_options")

    def __init__(
        self,
        desc: Descriptor,
        *,
        always_print_fields_with_no_presence: bool = False,
        preserving_proto_field_name: bool = False,
        use_integers_for_enums: bool = False,
    ) -> None:
        self._options = _Options(
            always_print_fields_with_no_presence,
            preserving_proto_field_name,
            use_integers_for_enums,
        )
        # Encoders are built where first needed, so building this one's is no waste.
        try:
            self._convert = _message_json(desc, self._options, eager=True)
        except Exception:  # a type the fast path cannot build: json_format for all
            self._convert = self._options.message_to_dict

    def encode(self, message: Message) -> Any:
        """``json_format.MessageToDict(message, ...)`` (its errors included)."""
        try:
            return self._convert(message)
        except Exception:  # _Slow, or anything the fast path did not foresee
            return self._options.message_to_dict(message)


_ENCODER_CACHE: dict[tuple[Descriptor, bool, bool, bool], Encoder] = {}


def encoder(
    desc: Descriptor,
    *,
    always_print_fields_with_no_presence: bool = False,
    preserving_proto_field_name: bool = False,
    use_integers_for_enums: bool = False,
) -> Encoder:
    """The (cached) :class:`Encoder` of ``desc`` with these MessageToDict options."""
    key = (
        desc,
        always_print_fields_with_no_presence,
        preserving_proto_field_name,
        use_integers_for_enums,
    )
    found = _ENCODER_CACHE.get(key)
    if found is None:
        found = _ENCODER_CACHE[key] = Encoder(
            desc,
            always_print_fields_with_no_presence=always_print_fields_with_no_presence,
            preserving_proto_field_name=preserving_proto_field_name,
            use_integers_for_enums=use_integers_for_enums,
        )
    return found
