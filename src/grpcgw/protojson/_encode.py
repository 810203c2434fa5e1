"""Message -> JSON-able value: the fast path (generated per type) and the :class:`Encoder`.

Each field is converted the way ``json_format``'s printer does; on anything
unexpected (extensions, an enum number a closed enum does not declare, an
out-of-range Timestamp, ...) the encoder returns ``json_format.MessageToDict``
of the whole message instead (or raises its error). Well-known types other than
Timestamp, Duration and FieldMask go to json_format value by value.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.internal import type_checkers
from google.protobuf.message import Message

from grpcgw.protojson._base import (
    FD,
    INT64_TYPES,
    NULL_VALUE,
    Slow,
    compile_function,
    is_map,
    message_type,
    read_source,
)

if TYPE_CHECKING:
    from grpcgw.protojson._codecs import Codecs

Value = Callable[[Any], Any]
Encode = Callable[[Any], dict[str, Any]]
#: Message -> its JSON text (compact, ``ensure_ascii=False``).
Write = Callable[[Any], str]
OptionsKey = tuple[bool, bool, bool]


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


def identity(value: Any) -> Any:
    return value


class Options:
    """MessageToDict's options, and json_format with them and the pool's types."""

    __slots__ = ("_codecs", "emit", "enums_as_ints", "proto_names")

    def __init__(self, codecs: Codecs, emit: bool, proto_names: bool, enums_as_ints: bool) -> None:
        self._codecs = codecs
        self.emit = emit
        self.proto_names = proto_names
        self.enums_as_ints = enums_as_ints

    def key(self) -> OptionsKey:
        return self.emit, self.proto_names, self.enums_as_ints

    def json_key(self, field: FieldDescriptor) -> str:
        """The key ``field`` is written under."""
        return field.name if self.proto_names else field.json_name

    def message_to_dict(self, message: Message) -> Any:
        return self._codecs.message_to_dict(message, self.key())


def value_json(
    codecs: Codecs, field: FieldDescriptor, options: Options, *, eager: bool = False
) -> Value:
    """Converter of one value of ``field`` (an element, if repeated)."""
    if field.message_type is not None:
        return codecs.message_json(field.message_type, options, eager=eager)
    if field.enum_type is not None:
        if options.enums_as_ints:
            return identity
        enum = field.enum_type
        if enum.full_name == NULL_VALUE:
            return lambda value: None
        # json_format writes the name values_by_number gives: the first declared
        # of an allow_alias enum's names for a number.
        names = {number: enum.values_by_number[number].name for number in enum.values_by_number}
        if any(value.GetOptions().ListFields() for value in enum.values):
            raise Slow  # pb.enumvalue.json names and the like: not handled here
        closed = bool(enum.is_closed)

        def enum_json(value: int) -> Any:
            name = names.get(value)
            if name is not None:
                return name
            if closed:
                raise Slow
            return value

        return enum_json
    kind = field.type
    if kind in INT64_TYPES:
        return str
    if kind == FD.TYPE_DOUBLE:
        return _float_json
    if kind == FD.TYPE_FLOAT:
        return _float32_json
    if kind == FD.TYPE_BYTES:
        return _bytes_json
    if kind == FD.TYPE_GROUP:
        raise Slow
    return identity  # string, bool, 32-bit ints


def _map_key_json(key: Any) -> str:
    if key is True:
        return "true"
    if key is False:
        return "false"
    return str(key)


def _field_json(codecs: Codecs, field: FieldDescriptor, options: Options) -> Value | None:
    """Converter of a field's value (``None``: the value as it is)."""
    if is_map(field):
        entry = message_type(field)
        convert = value_json(codecs, entry.fields_by_name["value"], options)
        if entry.fields_by_name["key"].type != FD.TYPE_BOOL:
            return lambda value: {str(k): convert(value[k]) for k in value}
        return lambda value: {_map_key_json(k): convert(value[k]) for k in value}
    convert = value_json(codecs, field, options)
    if field.is_repeated:
        if convert is identity:
            return list
        return lambda value: [convert(item) for item in value]
    return None if convert is identity else convert


class _MessageEncoder:
    __slots__ = ("_defaults", "_fields", "_slow")

    def __init__(self, codecs: Codecs, desc: Descriptor, options: Options) -> None:
        self._fields: dict[int, tuple[str, Value | None]] = {}
        #: (key, kind, value): kind 0 a scalar default, 1 an empty list, 2 an empty object.
        self._defaults: list[tuple[str, int, Any]] = []
        self._slow = False
        try:
            for field in desc.fields:
                key = options.json_key(field)
                self._fields[field.number] = (key, _field_json(codecs, field, options))
            if options.emit:
                for field in desc.fields:
                    if field.has_presence:
                        continue
                    key = options.json_key(field)
                    if is_map(field):
                        self._defaults.append((key, 2, None))
                    elif field.is_repeated:
                        self._defaults.append((key, 1, None))
                    else:
                        default = value_json(codecs, field, options)(field.default_value)
                        self._defaults.append((key, 0, default))
        except Slow:
            self._slow = True  # every message of this type goes to json_format

    def encode(self, message: Any) -> dict[str, Any]:
        if self._slow:
            raise Slow
        fields = self._fields
        js: dict[str, Any] = {}
        for field, value in message.ListFields():
            # Extensions (numbers outside the fields') are left to json_format.
            entry = fields.get(field.number)
            if entry is None:
                raise Slow
            key, convert = entry
            js[key] = value if convert is None else convert(value)
        for key, kind, default in self._defaults:
            if key not in js:
                js[key] = default if kind == 0 else [] if kind == 1 else {}
        return js


#: What generated code calls on a message; upb looks field names up first.
_MESSAGE_METHODS: Final = frozenset({"Extensions", "HasField", "SetInParent"})

#: Generated code reads a repeated field's values as ``v[:]``, a list made in one C
#: call: upb's containers have no iterator of their own, so iterating one ends in an
#: ``IndexError`` whose message upb formats (about 0.15 µs a field, most of the copy).
#: Types with at most this many fields get a generated encoder, which reads every
#: field; bigger ones (sparsely set, as a rule) ask upb for the set fields.
GENERATED_MAX_FIELDS: Final = 32


def build_encoder(codecs: Codecs, desc: Descriptor, options: Options) -> Encode:
    if len(desc.fields) <= GENERATED_MAX_FIELDS:
        try:
            return _generated_encoder(codecs, desc, options)
        except Exception:  # Slow, or a type the generator cannot write out
            pass
    return _MessageEncoder(codecs, desc, options).encode  # raises Slow for a type never fast


def _generated_encoder(codecs: Codecs, desc: Descriptor, options: Options) -> Encode:
    """An ``encode(message)`` written out for ``desc``: the fields ``ListFields``
    would list, in its order (by number), each read and converted by straight-line
    code, then the defaults ``always_print_fields_with_no_presence`` adds."""
    if any(field.name in _MESSAGE_METHODS for field in desc.fields):
        raise Slow  # the field would hide the method from the generated code
    namespace: dict[str, Any] = {"_Slow": Slow, "_copysign": math.copysign}
    lines = ["def encode(message):", "    js = {}"]
    if desc.extension_ranges:
        lines += ["    if len(message.Extensions):", "        raise _Slow"]  # json_format's job
    for n, field in enumerate(sorted(desc.fields, key=lambda f: f.number)):
        key = repr(options.json_key(field))
        value = _value_source(codecs, field, options, f"_c{n}", namespace)
        lines += _listed(field)
        lines.append(f"        js[{key}] = {value}")
    if options.emit:
        for n, field in enumerate(desc.fields):
            if field.has_presence:
                continue
            key = repr(options.json_key(field))
            if is_map(field):
                default = "{}"
            elif field.is_repeated:
                default = "[]"
            else:
                default = f"_d{n}"
                namespace[default] = value_json(codecs, field, options)(field.default_value)
            lines += [f"    if {key} not in js:", f"        js[{key}] = {default}"]
    lines.append("    return js")
    return cast(Encode, compile_function("encode", lines, namespace, desc))


def _value_source(
    codecs: Codecs, field: FieldDescriptor, options: Options, name: str, namespace: dict[str, Any]
) -> str:
    """Source converting ``v``, the value of ``field``; helpers go in ``namespace``."""
    if is_map(field):
        namespace[name] = _field_json(codecs, field, options)
        return f"{name}(v)"
    convert = value_json(codecs, field, options, eager=True)
    if convert is identity:
        return "v[:]" if field.is_repeated else "v"
    if convert is str:
        return "list(map(str, v[:]))" if field.is_repeated else "str(v)"
    namespace[name] = convert
    if field.is_repeated:
        return f"list(map({name}, v[:]))"
    if convert is _float_json:
        return f"v if v - v == 0.0 else {name}(v)"  # finite: as it is
    return f"{name}(v)"


def compact_json() -> Callable[[Any], str]:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``, with the C
    encoder it makes on every call made once (values are trees: no circular check)."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    iterencode = make(
        None, encoder.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
    join = "".join
    return lambda value: join(iterencode(value, 0))


#: Well-known types whose JSON is a string of their own (``ToJsonString``).
TEXT_FORMS: Final = frozenset(
    ("google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask")
)
#: The compact JSON text of a JSON-able value (what :meth:`Encoder.json_text` writes).
dumps: Final = compact_json()
#: A string as JSON text: what the encoder above writes for a ``str``.
_quote: Final = json.encoder.encode_basestring


def build_writer(codecs: Codecs, desc: Descriptor, options: Options) -> Write:
    """``dumps(encode(message))`` for the encoder of ``desc``: written out field by
    field where the generated encoder would be (JSON being compositional, the text
    of an object is its members' texts joined), else that literally."""
    if len(desc.fields) <= GENERATED_MAX_FIELDS:
        try:
            return _generated_writer(codecs, desc, options)
        except Exception:  # Slow, or a type the generator cannot write out
            pass
    encode = codecs.message_json(desc, options, eager=True)
    return lambda message: dumps(encode(message))


def _generated_writer(codecs: Codecs, desc: Descriptor, options: Options) -> Write:
    """A ``write(message)`` for ``desc``: each member the generated encoder
    (:func:`_generated_encoder`, whose tests of presence it repeats) would put in the
    object, as text, in its order. Anything it does not write itself goes through the
    encoder's own converter and :data:`dumps`; any error (``Slow`` included) is the
    caller's cue to take the encoder's path instead."""
    if any(field.name in _MESSAGE_METHODS for field in desc.fields) or desc.extension_ranges:
        raise Slow
    by_number = sorted(desc.fields, key=lambda f: f.number)
    if options.emit and [f for f in by_number if not f.has_presence] != [
        f for f in desc.fields if not f.has_presence
    ]:
        # The encoder adds the defaults in declaration order, after the fields set:
        # written here in number order, as they go.
        raise Slow
    namespace: dict[str, Any] = {
        "_copysign": math.copysign,
        "_dumps": dumps,
        "_quote": _quote,
    }
    lines = ["def write(message):", "    out = []"]
    if options.emit:
        lines.append("    rest = []")
    for n, field in enumerate(by_number):
        key = dumps(options.json_key(field)) + ":"
        before, value, after = _text_source(codecs, field, options, n, namespace)
        text = f"{key + before!r} + {value}"
        if after:
            text += f" + {after!r}"
        lines += _listed(field)
        lines.append(f"        out.append({text})")
        if (field.is_repeated or not field.has_presence) and options.emit:
            if is_map(field):
                default = "{}"
            elif field.is_repeated:
                default = "[]"
            else:
                default = dumps(value_json(codecs, field, options)(field.default_value))
            lines += ["    else:", f"        rest.append({key + default!r})"]
    if options.emit:
        lines.append("    out += rest")
    lines.append("    return '{' + ','.join(out) + '}'")
    return cast(Write, compile_function("write", lines, namespace, desc))


def _text_source(
    codecs: Codecs, field: FieldDescriptor, options: Options, n: int, namespace: dict[str, Any]
) -> tuple[str, str, str]:
    """The JSON text of ``v``, the (non-empty) value of ``field``: text before, source
    of the text between, text after; helpers go in ``namespace``. Always ``dumps`` of
    what the generated encoder puts in its object."""
    name = f"_c{n}"
    repeated = field.is_repeated
    if is_map(field):
        namespace[name] = _field_json(codecs, field, options)
        return "", f"_dumps({name}(v))", ""
    if field.message_type is not None:
        if field.message_type.full_name in TEXT_FORMS:  # converted to a string
            namespace[name] = codecs.message_json(field.message_type, options)
            if repeated:
                return "[", f"','.join([_quote({name}(x)) for x in v[:]])", "]"
            return "", f"_quote({name}(v))", ""
        namespace[name] = codecs.message_text(field.message_type, options, eager=True)
        return ("[", f"','.join(map({name}, v[:]))", "]") if repeated else ("", f"{name}(v)", "")
    convert = value_json(codecs, field, options, eager=True)
    namespace[name] = convert
    kind = field.type
    if convert is identity and kind == FD.TYPE_STRING:
        return ("[", "','.join(map(_quote, v[:]))", "]") if repeated else ("", "_quote(v)", "")
    if convert is identity and kind == FD.TYPE_BOOL:
        return ("", "_dumps(v[:])", "") if repeated else ("", "('true' if v else 'false')", "")
    if convert is identity:  # 32-bit ints, enum numbers: int.__repr__
        return ("[", "','.join(map(str, v[:]))", "]") if repeated else ("", "str(v)", "")
    if convert is str:  # 64-bit ints: quoted decimal digits
        return ('["', "'\",\"'.join(map(str, v[:]))", '"]') if repeated else ('"', "str(v)", '"')
    if repeated:
        return "", f"_dumps(list(map({name}, v[:])))", ""
    if convert is _float_json:  # finite: float.__repr__, as the encoder writes it
        return "", f"(repr(v) if v - v == 0.0 else _dumps({name}(v)))", ""
    if field.enum_type is not None:
        # Each declared number's text once; any other as converted (an open enum's).
        texts = f"_t{n}"
        numbers = field.enum_type.values_by_number
        namespace[texts] = {number: dumps(convert(number)) for number in numbers}
        return "", f"({texts}.get(v) or _dumps({name}(v)))", ""
    return "", f"_dumps({name}(v))", ""


class Encoder:
    """Message -> JSON-able value for one message type: what
    ``json_format.MessageToDict`` returns with the same options.

    Get one from :func:`grpcgw.protojson.encoder` or :meth:`Codecs.encoder`.
    """

    __slots__ = ("_convert", "_desc", "_options", "_write")

    def __init__(self, codecs: Codecs, desc: Descriptor, options: OptionsKey) -> None:
        self._options = Options(codecs, *options)
        self._desc = desc
        #: The JSON text writer, built on first use (a cold start builds none unused).
        self._write: Write | None = None
        # Encoders are built where first needed, so building this one's is no waste.
        try:
            self._convert = codecs.message_json(desc, self._options, eager=True)
        except Exception:  # a type the fast path cannot build: json_format for all
            self._convert = self._options.message_to_dict

    def encode(self, message: Message) -> Any:
        """``json_format.MessageToDict(message, ...)`` (its errors included)."""
        try:
            return self._convert(message)
        except Exception:  # Slow, or anything the fast path did not foresee
            return self._options.message_to_dict(message)

    def json_text(self, message: Message) -> str:
        """``json.dumps(self.encode(message), ensure_ascii=False, separators=(",", ":"))``
        (its errors included), written from the message straight where its type allows
        (the bench's echo record: about 12 µs against 15 for the dict and its encoding)."""
        write = self._write
        if write is None:
            codecs, options = self._options._codecs, self._options
            write = self._write = codecs.message_text(self._desc, options, eager=True)
        try:
            return write(message)
        except Exception:  # Slow, or anything the writer did not foresee: the dict's path
            return dumps(self.encode(message))


def _listed(field: FieldDescriptor) -> list[str]:
    """Source lines that bind ``v`` to the field and open a block run when upb's
    ListFields lists it: repeated and map fields when not empty, fields with presence
    when set, others when not zero (-0.0 counts as set)."""
    read = read_source("message", field.name)
    if field.has_presence and not field.is_repeated:
        return [f"    if message.HasField({field.name!r}):", f"        v = {read}"]
    if field.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT) and not field.is_repeated:
        return [f"    v = {read}", "    if v or _copysign(1.0, v) < 0.0:"]
    return [f"    v = {read}", "    if v:"]
