"""The reference path's checks: reject, before ``json_format`` runs, what Go's
protojson rejects and json_format would take (or misread), and what json_format
rejects, in grpcgw's words.

json_format takes ``int()`` and ``float()`` of whatever it is given, decodes
base64 without validating it, reads a string or an array as an empty message
when unknown fields are ignored, and drops an unknown enum name or an enum
number out of range. :class:`Checker` walks a JSON document along the message
type and raises :class:`ProtoJSONError` (naming the field) for each of those;
what it lets through, json_format reads as Go does. It also normalises values
in place where json_format would read a form Go accepts differently: numbers
in strings become exact integers, a float32 just above FLT_MAX becomes FLT_MAX,
a FieldMask loses surrounding white space.

What json_format itself rejects (an unknown field when they are not ignored,
two members of a oneof, an ``Any`` without a type it can find, a Duration or
Timestamp out of range) is rejected here first, so that every message a client
reads names the field by its path in the JSON sent, as the others do:
json_format's name the message types (``at "CreateBookRequest.book"``), list
the known fields as a Python list and end in "..".

Paths are relative to the document checked: the request body, or, for an
HttpRule ``body: "field"``, the field's value (``pages``, not ``book.pages``),
as the client wrote it.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.descriptor_pool import DescriptorPool

from grpcgw.protojson import _strict
from grpcgw.protojson._base import (
    ANY,
    DURATION,
    EXTENSION_NAME,
    FD,
    FIELD_MASK,
    INT_RANGES,
    LIST_VALUE,
    MAX_DEPTH,
    STRUCT,
    SURROGATE,
    TIMESTAMP,
    TYPE_NAMES,
    VALUE,
    ProtoJSONError,
    has_json_form,
    is_map,
    json_keys,
    message_type,
    quote,
)


def _show(value: object) -> str:
    if isinstance(value, str):
        return quote(value)
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 64 else text[:64] + "…"


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return "a string" if isinstance(value, str) else "a scalar"


def _where(path: str) -> str:
    return f'field "{path}"' if path else "the request body"


def _invalid(value: object, path: str, kind: str, reason: str = "") -> ProtoJSONError:
    text = f"invalid value {_show(value)} for {_where(path)} ({kind})"
    return ProtoJSONError(f"{text}: {reason}" if reason else text, path)


#: Why a string with a lone surrogate (a JSON escape such as "\ud800") is refused.
_SURROGATE = "not valid Unicode (a lone surrogate)"


def _text_ok(text: str) -> bool:
    """Whether a string is Unicode text (json_format refuses lone surrogates)."""
    return text.isascii() or SURROGATE.search(text) is None


def _is_value(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.full_name == VALUE


def _unknown(path: str) -> ProtoJSONError:
    return ProtoJSONError(f"unknown field {quote(path)}", path)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Checker:
    """Checks (and normalises) JSON documents for the message types of one pool.

    ``ignore_unknown_fields``: as the decoder's; otherwise an unknown key is an error.
    """

    __slots__ = ("_enum_names", "_ignore", "_keys", "_pool")

    def __init__(self, pool: DescriptorPool, *, ignore_unknown_fields: bool = True) -> None:
        self._pool = pool
        self._ignore = ignore_unknown_fields
        self._keys: dict[Descriptor, dict[str, FieldDescriptor]] = {}
        self._enum_names: dict[EnumDescriptor, frozenset[str]] = {}

    def message(self, value: object, desc: Descriptor, path: str, depth: int) -> object:
        """Check the JSON ``value`` of a ``desc`` message; return it, normalised."""
        if depth > MAX_DEPTH:
            raise ProtoJSONError("nested too deeply")
        if has_json_form(desc):
            return self._special(value, desc, path, depth)
        if not isinstance(value, dict):
            raise ProtoJSONError(
                f"{_where(path)} ({desc.full_name}) must be an object, not {_kind(value)}", path
            )
        self._fields(value, desc, path, depth)
        return value

    def _fields(
        self, value: dict[str, Any], desc: Descriptor, path: str, depth: int, *, any_: bool = False
    ) -> None:
        """Check each key of an object of ``desc`` (an ``Any`` of that type: ``any_``)."""
        keys = self._keys.get(desc)
        if keys is None:
            keys = self._keys[desc] = json_keys(desc)
        #: oneof -> the key that set it (json_format and Go take one member, not null).
        oneofs: dict[str, str] = {}
        #: ``[name]`` keys ignored: json_format would look them up, and refuse one
        #: on a message without extension ranges even when it ignores unknown fields.
        ignored: list[str] = []
        for key, item in value.items():
            where = _join(path, key)
            field = keys.get(key)
            if field is None:
                if any_ and key == "@type":
                    continue
                field = self._extension(key, desc, where)
                if field is None:
                    if EXTENSION_NAME.match(key) is not None:
                        ignored.append(key)
                    continue
            oneof = field.containing_oneof
            if oneof is not None and item is not None:
                other = oneofs.setdefault(oneof.name, key)
                if other != key:
                    raise _oneof_twice(path, other, key, keys[other], field)
            value[key] = self.field(item, field, where, depth)
        for key in ignored:
            del value[key]

    def _extension(self, key: str, desc: Descriptor, path: str) -> FieldDescriptor | None:
        """The extension an unknown ``key`` names (``None``: ignored), as Go's protojson
        reads a key: ``[name]`` names an extension; one of ``desc`` is its field, one
        of another message an error in both modes, and a name of no extension an
        unknown field (ignored unless strict) whether or not ``desc`` has extension
        ranges (json_format refuses it on a message without any, even when ignoring)."""
        if EXTENSION_NAME.match(key) is None:
            if self._ignore:
                return None
            raise _unknown(path)
        name = key[1:-1]
        try:
            found = self._pool.FindExtensionByName(name)
        except KeyError:
            found = None
        if found is not None and found.containing_type is not desc:
            extended = found.containing_type
            raise ProtoJSONError(
                f"{_where(path)} names an extension of "
                f"{extended.full_name if extended else 'another message'}, not of {desc.full_name}",
                path,
            )
        if found is None and desc.GetOptions().message_set_wire_format:
            # json_format's second lookup, for a MessageSet: by its message's name.
            try:
                found = self._pool.FindExtensionByName(name.rpartition(".")[0])
            except KeyError:
                found = None
            if found is not None and found.containing_type is not desc:
                found = None
        if found is not None:
            return found
        if self._ignore:
            return None
        raise _unknown(path)

    def field(self, value: object, field: FieldDescriptor, path: str, depth: int) -> object:
        """Check one field's JSON ``value``; return it, normalised."""
        if value is None:
            return value  # unset (a Value or NullValue: null), as in Go
        if is_map(field):
            if not isinstance(value, dict):
                raise _invalid(value, path, "map", "must be an object")
            entry = message_type(field)
            key_field = entry.fields_by_name["key"]
            value_field = entry.fields_by_name["value"]
            seen: set[object] = set()
            for key, item in value.items():
                where = f"{path}[{key}]"
                number = self._map_key(key, key_field, where)
                if number in seen:
                    raise ProtoJSONError(f"duplicate map key {quote(key)} in {_where(path)}", path)
                seen.add(number)
                if item is None and not _is_value(value_field):
                    raise _invalid(item, where, "map value", "null is not a value")
                value[key] = self._element(item, value_field, where, depth)
            return value
        if field.is_repeated:
            if not isinstance(value, list):
                raise _invalid(value, path, "repeated", "must be an array")
            for index, item in enumerate(value):
                where = f"{path}[{index}]"
                if item is None and not _is_value(field):
                    raise _invalid(item, where, "array element", "null is not a value")
                value[index] = self._element(item, field, where, depth)
            return value
        return self._element(value, field, path, depth)

    def _element(self, value: object, field: FieldDescriptor, path: str, depth: int) -> object:
        if field.message_type is not None:
            return self.message(value, field.message_type, path, depth + 1)
        return self.scalar(value, field, path)

    @staticmethod
    def _map_key(key: str, field: FieldDescriptor, path: str) -> object:
        kind = field.type
        if kind == FD.TYPE_STRING:
            if not _text_ok(key):
                raise _invalid(key, path, "string map key", _SURROGATE)
            return key
        if kind == FD.TYPE_BOOL:
            if key in ("true", "false"):
                return key
            raise _invalid(key, path, "bool map key", 'expected "true" or "false"')
        low, high = INT_RANGES[kind]
        digits = key.lstrip("+-").lstrip("0")  # Go takes leading zeros, any number of them
        if _strict.MAP_INT_KEY.fullmatch(key) is None or len(digits) > 20:
            number = None
        else:
            number = -int(digits or "0") if key[0] == "-" else int(digits or "0")
        if number is None or not low <= number <= high:
            raise _invalid(key, path, f"{TYPE_NAMES[kind]} map key", "not an integer in range")
        return number

    def scalar(self, value: Any, field: FieldDescriptor, path: str) -> object:
        """Check the JSON ``value`` of a scalar or enum (one element of ``field``)."""
        enum = field.enum_type
        if enum is not None:
            return self._enum(value, enum, path)
        kind = field.type
        name = TYPE_NAMES.get(kind, "group")
        of = type(value)
        if kind in INT_RANGES:
            number: int | None = None
            if of is int:
                number = value
            elif of is float:  # a NotInteger is not a float here
                number = int(value) if value.is_integer() else None
            elif of is str:
                number = _strict.integer(value)
            if number is None:
                raise _invalid(value, path, name, "not an integer")
            low, high = INT_RANGES[kind]
            if not low <= number <= high:
                raise _invalid(value, path, name, "out of range")
            return number
        if kind in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
            float32 = kind == FD.TYPE_FLOAT
            if of is str:
                if value in _strict.FLOAT_WORDS:
                    return value
                number_ = _strict.float_text(value, float32)
            elif of is float or of is _strict.NotInteger:
                number_ = _strict.finite(float(value), float32)
            elif of is int:
                try:
                    number_ = _strict.finite(float(value), float32)
                except OverflowError:
                    number_ = None
                if number_ is not None and (not float32 or abs(value) <= _strict.FLT_MAX):
                    return value  # json_format's float() of it is the same double
            else:
                number_ = None
            if number_ is None:
                raise _invalid(value, path, name, "not a number in range")
            return number_
        if kind == FD.TYPE_BOOL:
            if of is not bool:
                raise _invalid(value, path, name, "expected true or false")
            return value
        if kind == FD.TYPE_STRING:
            if of is not str:
                raise _invalid(value, path, name, "expected a string")
            if not _text_ok(value):
                raise _invalid(value, path, name, _SURROGATE)
            return value
        if kind == FD.TYPE_BYTES:
            if of is not str or _strict.base64_bytes(value) is None:
                raise _invalid(value, path, name, "not base64")
            # Go skips CR and LF; json_format then miscounts the padding.
            return value.replace("\r", "").replace("\n", "")
        return value  # groups: json_format's job

    def _enum(self, value: Any, enum: EnumDescriptor, path: str) -> object:
        of = type(value)
        if of is str:
            names = self._enum_names.get(enum)
            if names is None:
                # A Python set: upb's values_by_name raises on strings with lone surrogates.
                names = self._enum_names[enum] = frozenset(v.name for v in enum.values)
            if value in names:
                return value
            # Go drops an unknown name when unknown fields are ignored; grpcgw
            # answers 400 in both modes (numbers as strings are not names either).
            raise _invalid(value, path, enum.full_name)
        if of is float and value.is_integer():
            value, of = int(value), int
        if (
            of is int
            and -(1 << 31) <= value < 1 << 31
            and (not enum.is_closed or value in enum.values_by_number)
        ):
            return value
        raise _invalid(value, path, enum.full_name, "not a value of the enum")

    def _special(self, value: object, desc: Descriptor, path: str, depth: int) -> object:
        """Well-known types with a JSON form of their own."""
        name = desc.full_name
        if name == TIMESTAMP:
            if type(value) is not str or not _strict.timestamp_ok(value):
                raise _invalid(value, path, name, "not an RFC 3339 timestamp")
            if not _strict.timestamp_in_range(value):
                raise _invalid(value, path, name, "out of range (years 0001 to 9999 in UTC)")
            return value
        if name == DURATION:
            duration = _strict.duration_text(value) if type(value) is str else None
            if duration is None:
                raise _invalid(value, path, name, 'not a duration like "1.5s"')
            if not _strict.duration_in_range(duration):
                raise _invalid(value, path, name, "out of range (±315576000000s)")
            return duration
        if name == FIELD_MASK:
            text = _strict.field_mask_text(value) if type(value) is str else None
            if text is None:
                raise _invalid(value, path, name, 'not field paths like "a.bC,d"')
            return text
        if name == STRUCT:
            if not isinstance(value, dict):
                raise _invalid(value, path, name, "must be an object")
            self._struct_fields(value, path, depth)
            return value
        if name == LIST_VALUE:
            if not isinstance(value, list):
                raise _invalid(value, path, name, "must be an array")
            for index, item in enumerate(value):
                value[index] = self._value(item, f"{path}[{index}]", depth + 1)
            return value
        if name == VALUE:
            return self._value(value, path, depth)
        if name == ANY:
            return self._any(value, path, depth)
        return self.scalar(value, desc.fields_by_name["value"], path)  # a wrapper

    def _value(self, value: Any, path: str, depth: int) -> object:
        """A ``google.protobuf.Value``: any JSON, numbers finite doubles."""
        if depth > MAX_DEPTH:
            raise ProtoJSONError("nested too deeply")
        of = type(value)
        if of is str:
            if not _text_ok(value):
                raise _invalid(value, path, VALUE, _SURROGATE)
            return value
        if value is None or of is bool:
            return value
        if of is int or of is float or of is _strict.NotInteger:
            try:
                number = float(value)
            except OverflowError:
                number = float("inf")
            if number - number != 0.0:
                raise _invalid(value, path, VALUE, "numbers must be finite")
            return value if of is int else number
        if isinstance(value, dict):
            self._struct_fields(value, path, depth)
            return value
        if isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = self._value(item, f"{path}[{index}]", depth + 1)
            return value
        raise _invalid(value, path, VALUE, "not JSON")

    def _struct_fields(self, value: dict[str, Any], path: str, depth: int) -> None:
        """The keys and values of a ``google.protobuf.Struct``."""
        for key, item in value.items():
            where = _join(path, key)
            if not _text_ok(key):
                raise _invalid(key, where, f"{STRUCT} key", _SURROGATE)
            value[key] = self._value(item, where, depth + 1)

    def _any(self, value: object, path: str, depth: int) -> object:
        if not isinstance(value, dict):
            raise _invalid(value, path, ANY, "must be an object")
        if not value:
            return value  # an empty Any
        if "@type" not in value:
            raise _invalid(value, path, ANY, 'no "@type"')
        type_url = value["@type"]
        where = _join(path, "@type")
        if type(type_url) is not str:
            raise _invalid(type_url, where, ANY, "not a type URL")
        # json_format's lookup: the name after the last "/", in the message's pool.
        try:
            desc = self._pool.FindMessageTypeByName(type_url.rpartition("/")[2])
        except (KeyError, TypeError, ValueError):
            raise _invalid(type_url, where, ANY, "no such message type") from None
        if has_json_form(desc):
            if "value" not in value:
                raise _invalid(value, path, ANY, f'no "value" for {desc.full_name}')
            value["value"] = self._special(value["value"], desc, _join(path, "value"), depth + 1)
        else:
            self._fields(value, desc, path, depth + 1, any_=True)
        return value


def _oneof_twice(
    path: str, first: str, second: str, first_field: FieldDescriptor, field: FieldDescriptor
) -> ProtoJSONError:
    """Two keys set one oneof (a field under both its names sets its own, proto3
    ``optional`` fields' included)."""
    if first_field is field:
        return ProtoJSONError(
            f"field {quote(_join(path, first))} is given twice "
            f"(as {quote(first)} and {quote(second)})",
            _join(path, first),
        )
    oneof = field.containing_oneof
    assert oneof is not None
    return ProtoJSONError(
        f"fields {quote(_join(path, first))} and {quote(_join(path, second))} "
        f"both set oneof {quote(oneof.name)}",
        _join(path, first),
        _join(path, second),
    )
