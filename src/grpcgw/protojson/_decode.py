"""JSON -> message: the fast path (generated per type) and the :class:`Decoder`.

The fast path only takes the plain, well-formed forms (the right JSON type for
each field, in range, each field once, no ``null``, no unknown keys unless
ignored, Timestamps of the form ``YYYY-MM-DDTHH:MM:SS[.fffffffff]Z``), each of
which Go's protojson and json_format read alike. Anything else, and any
error, makes :class:`Decoder` start over on the *reference path*: the checks of
:mod:`._check`, then ``json_format.ParseDict`` on the whole document, so errors
always come from the reference path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from grpcgw.lazyre import lazy_compile
from grpcgw.protojson import _strict
from grpcgw.protojson._base import (
    EXTENSION_NAME,
    FD,
    INT_RANGES,
    MAX_DEPTH,
    MISSING,
    SURROGATE,
    TIMESTAMP,
    ProtoJSONError,
    Slow,
    compile_function,
    is_map,
    json_keys,
    message_type,
    oneof_of,
    read_source,
    write_source,
)
from grpcgw.protojson._times import timestamp_fill

if TYPE_CHECKING:
    from grpcgw.protojson._codecs import Codecs

#: Fills one message from a JSON value: (value, message, depth).
Fill = Callable[[Any, Any, int], None]
#: Sets one field of a message: (message, value, depth of the message).
_Set = Callable[[Any, Any, int], None]
_Scalar = Callable[[Any], Any]

#: An integer in a string, the common form of a 64-bit value: JSON number text
#: without fraction or exponent (no leading zeros, no "+").
_DIGITS: Final = lazy_compile(r"-?(?:0|[1-9][0-9]{0,19})")
#: A map key of an integer type, in the form every reader takes alike.
_KEY_DIGITS: Final = lazy_compile(r"-?[0-9]{1,20}")


# -- scalar converters (JSON value -> Python value), fast forms only -------------------


def _int_scalar(low: int, high: int) -> _Scalar:
    def convert(value: Any) -> int:
        kind = type(value)
        if kind is int:
            number: int = value
        elif kind is str and value.isascii() and value.isdigit() and len(value) <= 20:
            if value[0] == "0" and len(value) > 1:
                raise Slow  # "007": not a JSON number
            number = int(value)  # the common form of a 64-bit value, regex-free
        elif (kind is str and _DIGITS.fullmatch(value)) or (kind is float and value.is_integer()):
            # A float is integral exactly when its JSON text is an integer to Go
            # (strict.parse_json_float makes sure of it).
            number = int(value)
        else:
            raise Slow
        if low <= number <= high:
            return number
        raise Slow

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
            word = _strict.FLOAT_WORDS.get(value)
            if word is not None:
                return word
        raise Slow

    return convert


def _bool_scalar(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise Slow


def _string_scalar(value: Any) -> str:
    if type(value) is str and (value.isascii() or SURROGATE.search(value) is None):
        return value
    raise Slow


def _bytes_scalar(value: Any) -> bytes:
    if type(value) is not str:
        raise Slow
    decoded = _strict.base64_bytes(value)
    if decoded is None:
        raise Slow
    return decoded


def _enum_scalar(field: FieldDescriptor) -> _Scalar:
    enum = field.enum_type
    assert enum is not None
    by_name = {value.name: value.number for value in enum.values}
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
        raise Slow

    return convert


def _scalar(field: FieldDescriptor) -> _Scalar:
    kind = field.type
    if field.enum_type is not None:
        return _enum_scalar(field)
    if kind in INT_RANGES:
        return _int_scalar(*INT_RANGES[kind])
    if kind == FD.TYPE_DOUBLE:
        return _float_scalar(float("inf"))
    if kind == FD.TYPE_FLOAT:
        return _float_scalar(_strict.FLT_MAX)
    if kind == FD.TYPE_BOOL:
        return _bool_scalar
    if kind == FD.TYPE_STRING:
        return _string_scalar
    if kind == FD.TYPE_BYTES:
        return _bytes_scalar
    raise Slow  # groups


def _map_key(field: FieldDescriptor) -> _Scalar:
    """Map keys are JSON object keys: always strings."""
    kind = field.type
    if kind == FD.TYPE_STRING:
        return _string_scalar
    if kind == FD.TYPE_BOOL:
        return lambda key: {"true": True, "false": False}[key]
    low, high = INT_RANGES[kind]

    def convert(key: Any) -> int:
        if _KEY_DIGITS.fullmatch(key) is None:
            raise Slow
        number = int(key)
        if low <= number <= high:
            return number
        raise Slow

    return convert


# -- fills --------------------------------------------------------------------------


def special_fill(codecs: Codecs, desc: Descriptor, ignore: bool) -> Fill:
    """The fill of a well-known type with a JSON form of its own: Timestamp's
    common form here, the others checked, then read by json_format."""
    if desc.full_name == TIMESTAMP:
        return timestamp_fill
    check = codecs.checker_for(ignore).message
    parse = codecs.parse_dict

    def delegate(value: Any, message: Any, depth: int) -> None:
        if value is None or depth > MAX_DEPTH:
            raise Slow
        value = check(value, desc, "", depth)
        message.SetInParent()
        parse(value, message, ignore, MAX_DEPTH + 1 - depth)

    return delegate


class _MessageDecoder:
    """Fills a message key by key: for documents that set few of the type's fields."""

    __slots__ = ("_fields", "_ignore")

    def __init__(self, codecs: Codecs, desc: Descriptor, ignore: bool) -> None:
        self._ignore = ignore
        self._fields = {
            key: (field.number, oneof_of(field), setter(codecs, field, ignore))
            for key, field in json_keys(desc).items()
        }

    def fill(self, value: Any, message: Any, depth: int) -> None:
        if type(value) is not dict or depth > MAX_DEPTH:
            raise Slow
        fields = self._fields
        seen: set[object] = set()
        for key, item in value.items():
            entry = fields.get(key)
            if entry is None:
                if self._ignore and not EXTENSION_NAME.match(key):
                    continue
                raise Slow
            number, oneof, set_field = entry
            if item is None or number in seen:
                raise Slow
            seen.add(number)
            if oneof is not None:
                if oneof in seen:
                    raise Slow
                seen.add(oneof)
            set_field(message, item, depth)


def build_fill(codecs: Codecs, desc: Descriptor, ignore: bool) -> Fill:
    try:
        return _generated_fill(codecs, desc, ignore)
    except Exception:  # a type the generator cannot write out: never fast
        return _give_up


def _give_up(value: Any, message: Any, depth: int) -> None:
    raise Slow


#: A document setting fewer than this share of its type's fields is filled key
#: by key: a lookup per field of the type would cost more.
SPARSE_SHARE = 0.25


def _generated_fill(codecs: Codecs, desc: Descriptor, ignore: bool) -> Fill:
    """A ``fill(value, message, depth)`` written out for ``desc``: one lookup per
    field, the common conversions inline. A document that sets under a quarter of
    the type's fields is filled key by key instead (:class:`_MessageDecoder`)."""
    known = json_keys(desc)
    keys: dict[FieldDescriptor, list[str]] = {}
    for key, field in known.items():
        keys.setdefault(field, []).append(key)
    for field, names in keys.items():  # clients send JSON names: look those up first
        names.sort(key=lambda name: name != field.json_name)

    def unknown(value: dict[str, Any]) -> None:
        if not ignore:
            raise Slow
        for key in value:
            if key not in known and EXTENSION_NAME.match(key):
                raise Slow  # an extension: json_format's job

    namespace: dict[str, Any] = {
        "_Slow": Slow,
        "_M": MISSING,
        "_unknown": unknown,
        "_surrogate": SURROGATE.search,
        "_sparse": _MessageDecoder(codecs, desc, ignore).fill,
    }
    lines = [
        "def fill(value, message, depth):",
        f"    if type(value) is not dict or depth > {MAX_DEPTH}:",
        "        raise _Slow",
        f"    if len(value) < {len(desc.fields) * SPARSE_SHARE!r}:",
        "        return _sparse(value, message, depth)",
        "    found = 0",
    ]
    oneofs = sorted({name for field in desc.fields if (name := oneof_of(field)) is not None})
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
        oneof = oneof_of(field)
        if oneof is not None:
            flag = f"_o{oneofs.index(oneof)}"
            lines += [f"        if {flag}:", "            raise _Slow", f"        {flag} = True"]
        lines += [f"        {line}" for line in _fill_source(codecs, field, ignore, n, namespace)]
    lines += ["    if found != len(value):", "        _unknown(value)"]
    return cast(Fill, compile_function("fill", lines, namespace, desc))


def _fill_source(
    codecs: Codecs, field: FieldDescriptor, ignore: bool, n: int, namespace: dict[str, Any]
) -> list[str]:
    """Source setting ``field`` of ``message`` from the JSON value ``v``."""
    name = field.name
    helper = f"_s{n}"
    if field.is_repeated and field.type == FD.TYPE_STRING:
        return [
            "if type(v) is not list:",
            "    raise _Slow",
            "for x in v:",
            f"    if {_not_text('x')}:",
            "        raise _Slow",
            f"{read_source('message', name)}.extend(v)",
        ]
    if field.is_repeated or field.type == FD.TYPE_GROUP:
        namespace[helper] = setter(codecs, field, ignore, eager=True)
        return [f"{helper}(message, v, depth)"]  # checks the list (or object) itself
    if field.message_type is not None:
        namespace[helper] = codecs.fill(field.message_type, ignore, eager=True)
        return [
            f"sub = {read_source('message', name)}",
            "sub.SetInParent()",
            f"{helper}(v, sub, depth + 1)",  # checks v itself (None included)
        ]
    kind = field.type
    if kind == FD.TYPE_STRING:
        check = [f"if {_not_text('v')}:", "    raise _Slow"]
    elif kind == FD.TYPE_BOOL:
        check = ["if type(v) is not bool:", "    raise _Slow"]
    elif kind in INT_RANGES and field.enum_type is None:
        namespace[helper] = _int_scalar(*INT_RANGES[kind])
        low, high = INT_RANGES[kind]
        check = [f"if type(v) is not int or not {low} <= v <= {high}:", f"    v = {helper}(v)"]
    else:
        namespace[helper] = _scalar(field)
        check = [f"v = {helper}(v)"]  # raises _Slow for None and anything else it cannot take
    return [*check, write_source("message", name, "v")]


def _not_text(name: str) -> str:
    """Source testing that ``name`` is not what :func:`_string_scalar` takes."""
    return f"type({name}) is not str or not ({name}.isascii() or _surrogate({name}) is None)"


def setter(codecs: Codecs, field: FieldDescriptor, ignore: bool, *, eager: bool = False) -> _Set:
    name = field.name
    if field.type == FD.TYPE_GROUP:

        def unsupported(message: Any, value: Any, depth: int) -> None:
            raise Slow

        return unsupported
    if is_map(field):
        entry = message_type(field)
        key_of = _map_key(entry.fields_by_name["key"])
        value_field = entry.fields_by_name["value"]
        if value_field.message_type is not None:
            fill_value = codecs.fill(value_field.message_type, ignore, eager=eager)

            def set_message_map(message: Any, value: Any, depth: int) -> None:
                if type(value) is not dict:
                    raise Slow
                container = getattr(message, name)
                size = len(container)
                for key, item in value.items():
                    if item is None:
                        raise Slow
                    fill_value(item, container[key_of(key)], depth + 1)
                if len(container) != size + len(value):
                    raise Slow  # "1" and "01": one key twice (the checks reject it)

            return set_message_map
        convert_value = _scalar(value_field)

        def set_scalar_map(message: Any, value: Any, depth: int) -> None:
            if type(value) is not dict:
                raise Slow
            container = getattr(message, name)
            size = len(container)
            for key, item in value.items():
                container[key_of(key)] = convert_value(item)
            if len(container) != size + len(value):
                raise Slow  # one key twice ("1" and "01"): the checks reject it

        return set_scalar_map
    if field.message_type is not None:
        fill = codecs.fill(field.message_type, ignore, eager=eager)
        if field.is_repeated:

            def set_messages(message: Any, value: Any, depth: int) -> None:
                if type(value) is not list:
                    raise Slow
                container = getattr(message, name)
                for item in value:
                    if item is None:
                        raise Slow
                    fill(item, container.add(), depth + 1)

            return set_messages

        def set_message(message: Any, value: Any, depth: int) -> None:
            sub = getattr(message, name)
            sub.SetInParent()
            fill(value, sub, depth + 1)

        return set_message
    convert = _scalar(field)
    if field.is_repeated and field.enum_type is None and field.type in INT_RANGES:
        return _int_list_setter(name, convert, *INT_RANGES[field.type])
    if field.is_repeated:

        def set_scalars(message: Any, value: Any, depth: int) -> None:
            if type(value) is not list:
                raise Slow
            getattr(message, name).extend([convert(item) for item in value])

        return set_scalars

    def set_scalar(message: Any, value: Any, depth: int) -> None:
        setattr(message, name, convert(value))

    return set_scalar


def _int_list_setter(name: str, convert: _Scalar, low: int, high: int) -> _Set:
    """The setter of a repeated integer field: what ``set_scalars`` does with
    :func:`_int_scalar`'s ``convert``, with its two common forms (an in-range
    number, a digit string such as a 64-bit value's) taken without a call."""

    def set_ints(message: Any, value: Any, depth: int) -> None:
        if type(value) is not list:
            raise Slow
        numbers: list[int] = []
        append = numbers.append
        for item in value:
            kind = type(item)
            if kind is int:
                if low <= item <= high:
                    append(item)
                    continue
            elif (
                kind is str
                and item.isdigit()
                and item.isascii()
                and len(item) <= 20
                and (item[0] != "0" or len(item) == 1)
            ):
                number = int(item)
                if low <= number <= high:
                    append(number)
                    continue
            append(convert(item))  # any other form: converted, or Slow, as convert decides
        getattr(message, name).extend(numbers)

    return set_ints


class Decoder:
    """JSON value -> message for one message type: ``json_format.ParseDict`` with
    Go protojson's strictness (see :mod:`grpcgw.protojson`).

    Get one from :func:`grpcgw.protojson.decoder` or :meth:`Codecs.decoder`.
    """

    __slots__ = ("_codecs", "_desc", "_fill", "_ignore", "_setters")

    def __init__(self, codecs: Codecs, desc: Descriptor, *, ignore_unknown_fields: bool) -> None:
        self._codecs = codecs
        self._desc = desc
        self._ignore = ignore_unknown_fields
        # Built on first use (a cold start compiles no unused fill), then called directly.
        self._fill: Fill = self._first_fill
        self._setters: dict[str, _Set] = {}

    def _first_fill(self, value: Any, message: Any, depth: int) -> None:
        self._fill = fill = self._codecs.fill(self._desc, self._ignore, eager=True)
        fill(value, message, depth)

    def decode(self, value: object, message: Message) -> object:
        """Merge the JSON ``value`` into the empty ``message``; return ``value``
        (normalised in place when the reference path ran).

        Raises :class:`ProtoJSONError` (``message`` is then partly set).
        """
        try:
            self._fill(value, message, 1)
            return value
        except Exception:  # Slow, or anything the fast path did not foresee
            message.Clear()
        value = self._codecs.checker_for(self._ignore).message(value, self._desc, "", 0)
        self._reference(value, message)
        return value

    def decode_field(self, value: object, message: Message, field: FieldDescriptor) -> object:
        """Set the top-level ``field`` of the empty ``message`` from its JSON
        ``value`` (an HttpRule ``body: "field"``); return ``value``, normalised.
        Errors name paths within ``value`` (what the client sent), not ``field``."""
        set_field = self._setters.get(field.name)
        if set_field is None:
            set_field = self._setters[field.name] = setter(self._codecs, field, self._ignore)
        try:
            if value is None:
                raise Slow
            set_field(message, value, 1)
            return value
        except Exception:
            message.Clear()
        value = self._codecs.checker_for(self._ignore).field(value, field, "", 0)
        self._reference({field.json_name: value}, message)
        return value

    def _reference(self, document: object, message: Message) -> None:
        try:
            self._codecs.parse_dict(document, message, self._ignore, MAX_DEPTH)
        # json_format.Parse wraps every exception of ParseDict the same way: on
        # malformed input its WKT parsers can raise TypeError, AttributeError, ...
        except Exception as e:
            raise ProtoJSONError(_tidy(str(e))) from None


#: json_format's wrapping of an error at each level of nesting, and its path at the end.
_WRAPPED: Final = lazy_compile(r"Failed to parse \S+ field: ")
_AT: Final = lazy_compile(r' at "?[\w.\[\]]*"?\.*$')


def _tidy(text: str) -> str:
    """json_format's message, for what the checks (:mod:`._check`) did not foresee
    (they reject everything json_format does, in grpcgw's words): the innermost
    error, its first line, without json_format's path (named after the message
    types, not the JSON sent) or its trailing periods."""
    text = _WRAPPED.sub("", text).split("\n", 1)[0].strip()
    return _AT.sub("", text).rstrip(".") or "the body does not fit the request message"
