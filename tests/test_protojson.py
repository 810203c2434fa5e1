"""Differential tests: grpcgw.protojson against google.protobuf.json_format.

Random messages of the test protos (every field kind, unicode, extreme ints
and floats, NaN and infinities, negative and unknown enum numbers, maps,
oneofs, nesting, well-known types) are rendered by both encoders with all 8
option combinations; random JSON documents (renderings of random messages,
then mutated: names switched between proto and JSON forms, numbers as strings,
ints as floats, unknown keys, wrong types, nulls, out-of-range values, bad
base64 and timestamps) are parsed by both decoders, which must agree, apart
from the documented deliberate differences (asserted explicitly).

``HYPOTHESIS_PROFILE=fuzz`` runs many more examples than the default ``ci``.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from google.api import field_behavior_pb2
from google.protobuf import (
    any_pb2,
    descriptor_pb2,
    descriptor_pool,
    json_format,
    struct_pb2,
    timestamp_pb2,
)
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grpcgw import protojson
from grpcgw.options import GatewayOptions
from grpcgw.protojson import _codecs as _codecs_module
from grpcgw.protojson import _decode as _decode_module
from grpcgw.protojson import _strict
from grpcgw.transcode import ResponseTranscoder, json_encoder

_GEN = str(Path(__file__).resolve().parents[1] / "bench" / "gen")
if _GEN not in sys.path:
    sys.path.insert(0, _GEN)

from example.v1 import shelf_pb2  # noqa: E402
from grpcgwtest.client.v1 import client_pb2  # noqa: E402
from grpcgwtest.gateway.v1 import proto3_pb2  # noqa: E402
from grpcgwtest.transcode.v1 import types_pb2  # noqa: E402
from gwbench.v1 import bench_pb2  # noqa: E402

# -- profiles --------------------------------------------------------------------------

_COMMON: dict[str, Any] = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("protojson-ci", max_examples=12, **_COMMON)
settings.register_profile("protojson-fuzz", max_examples=3000, **_COMMON)
#: Selected by HYPOTHESIS_PROFILE (``ci`` unless set); applied to this module only.
PROFILE = settings.get_profile(f"protojson-{os.environ.get('HYPOTHESIS_PROFILE', 'ci')}")

_FD = FieldDescriptor


def _messages(*modules: Any) -> list[Descriptor]:
    found: list[Descriptor] = []
    for module in modules:
        found.extend(module.DESCRIPTOR.message_types_by_name.values())
    return found


ROOTS: list[Descriptor] = [
    *_messages(types_pb2, client_pb2, proto3_pb2, bench_pb2, shelf_pb2),
    # proto2: explicit presence, closed enums, defaults, extension ranges
    descriptor_pb2.FieldDescriptorProto.DESCRIPTOR,
    descriptor_pb2.MethodOptions.DESCRIPTOR,
    descriptor_pb2.SourceCodeInfo.DESCRIPTOR,
]
ROOT_IDS = [d.full_name for d in ROOTS]
OPTIONS = list(itertools.product([False, True], repeat=3))

# -- random messages ------------------------------------------------------------------------

_INT_RANGES = {
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
_TEXT = st.text(max_size=12) | st.sampled_from(["", "é", "日本", "🎉", "a\u0000b", '"\\'])
_JSON_SCALAR = (
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(1 << 53), 1 << 53)
    | _TEXT
)
_JSON = st.recursive(
    _JSON_SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


def _int(data: st.DataObject, kind: int) -> int:
    low, high = _INT_RANGES[kind]
    extremes = st.sampled_from([low, high, 0, -1 if low else 1, 1 << 53, (1 << 53) + 1])
    value: int = data.draw(st.integers(low, high) | extremes.filter(lambda n: low <= n <= high))
    return value


def _scalar(data: st.DataObject, field: FieldDescriptor) -> Any:
    if field.enum_type is not None:
        numbers = list(field.enum_type.values_by_number)
        if field.enum_type.is_closed:
            return data.draw(st.sampled_from(numbers), label="enum")
        return data.draw(
            st.sampled_from(numbers) | st.integers(-(1 << 31), (1 << 31) - 1), label="enum"
        )
    kind = field.type
    if kind in _INT_RANGES:
        return _int(data, kind)
    if kind == _FD.TYPE_DOUBLE:
        return data.draw(st.floats() | st.sampled_from([math.inf, -math.inf, 1e308, -0.0, 5e-324]))
    if kind == _FD.TYPE_FLOAT:
        return data.draw(st.floats(width=32) | st.sampled_from([3.4028234663852886e38, 1e-45]))
    if kind == _FD.TYPE_BOOL:
        return data.draw(st.booleans())
    if kind == _FD.TYPE_STRING:
        return data.draw(_TEXT)
    return data.draw(st.binary(max_size=10))


def _fill_wkt(data: st.DataObject, message: Any) -> bool:
    name = message.DESCRIPTOR.full_name
    if name == "google.protobuf.Timestamp":
        message.seconds = data.draw(
            st.integers(-62135596800, 253402300799) | st.sampled_from([0, -1, 1700000000])
        )
        message.nanos = data.draw(st.integers(0, 999_999_999) | st.sampled_from([0, 1000, 10**6]))
    elif name == "google.protobuf.Duration":
        seconds = data.draw(st.integers(-315576000000, 315576000000))
        nanos = data.draw(st.integers(0, 999_999_999))
        message.seconds, message.nanos = seconds, (-nanos if seconds < 0 else nanos)
    elif name == "google.protobuf.FieldMask":
        message.paths.extend(
            data.draw(
                st.lists(st.from_regex(r"[a-z]{1,4}(_[a-z]{1,4})?", fullmatch=True), max_size=3)
            )
        )
    elif name == "google.protobuf.Struct":
        message.update(data.draw(st.dictionaries(_TEXT, _JSON, max_size=3)))
    elif name == "google.protobuf.Value":
        json_format.ParseDict(data.draw(_JSON), message)
    elif name == "google.protobuf.ListValue":
        message.extend(data.draw(st.lists(_JSON, max_size=3)))
    elif name == "google.protobuf.Any":
        if data.draw(st.booleans()):
            message.Pack(timestamp_pb2.Timestamp(seconds=data.draw(st.integers(0, 10**9))))
        else:
            message.Pack(
                client_pb2.Child(name=data.draw(_TEXT), level=data.draw(st.integers(-5, 5)))
            )
    elif message.DESCRIPTOR.file.name == "google/protobuf/wrappers.proto":
        message.value = _scalar(data, message.DESCRIPTOR.fields_by_name["value"])
    elif name == "google.protobuf.Empty":
        pass
    else:
        return False
    return True


def _fill(data: st.DataObject, message: Any, depth: int) -> None:
    if _fill_wkt(data, message):
        return
    desc = message.DESCRIPTOR
    chosen_oneofs: dict[str, str] = {}
    for oneof in desc.oneofs:
        members = [f.name for f in oneof.fields]
        chosen_oneofs[oneof.name] = data.draw(st.sampled_from([*members, ""]))
    for field in desc.fields:
        oneof = field.containing_oneof
        if oneof is not None and chosen_oneofs[oneof.name] != field.name:
            continue
        if oneof is None and not data.draw(st.booleans(), label=f"set {field.name}"):
            continue
        if field.message_type is not None and depth >= 3 and not field.is_repeated:
            continue
        _set_field(data, message, field, depth)


def _set_field(data: st.DataObject, message: Any, field: FieldDescriptor, depth: int) -> None:
    container = getattr(message, field.name)
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:
        key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
        for _ in range(data.draw(st.integers(0, 3))):
            key = _scalar(data, key_field)
            if value_field.message_type is not None:
                if depth < 3:
                    _fill(data, container[key], depth + 1)
            else:
                container[key] = _scalar(data, value_field)
        return
    if field.is_repeated:
        for _ in range(data.draw(st.integers(0, 3))):
            if field.message_type is not None:
                if depth < 3:
                    _fill(data, container.add(), depth + 1)
            else:
                container.append(_scalar(data, field))
        return
    if field.message_type is not None:
        container.SetInParent()
        _fill(data, container, depth + 1)
        return
    setattr(message, field.name, _scalar(data, field))


def _random_message(data: st.DataObject, desc: Descriptor) -> Message:
    message = GetMessageClass(desc)()
    _fill(data, message, 0)
    return message


# -- outcomes ------------------------------------------------------------------------


def _to_dict(message: Message, options: tuple[bool, bool, bool]) -> tuple[str, Any]:
    emit, proto_names, ints = options
    try:
        return "ok", json_format.MessageToDict(
            message,
            always_print_fields_with_no_presence=emit,
            preserving_proto_field_name=proto_names,
            use_integers_for_enums=ints,
        )
    except Exception as e:
        return "error", type(e)


def _encoder(message: Message, options: tuple[bool, bool, bool]) -> Any:
    emit, proto_names, ints = options
    return protojson.encoder(
        message.DESCRIPTOR,
        always_print_fields_with_no_presence=emit,
        preserving_proto_field_name=proto_names,
        use_integers_for_enums=ints,
    )


def _encode(message: Message, options: tuple[bool, bool, bool]) -> tuple[str, Any]:
    encoder = _encoder(message, options)
    try:
        return "ok", encoder.encode(message)
    except Exception as e:
        return "error", type(e)


def _wire(message: Message) -> bytes:
    return message.SerializePartialToString(deterministic=True)  # proto2: required unset


def _parse(document: Any, desc: Descriptor, ignore: bool) -> tuple[str, bytes]:
    message = GetMessageClass(desc)()
    try:
        json_format.ParseDict(copy.deepcopy(document), message, ignore_unknown_fields=ignore)
    except Exception:
        return "error", b""
    return "ok", _wire(message)


def _decode(document: Any, desc: Descriptor, ignore: bool) -> tuple[str, bytes]:
    message = GetMessageClass(desc)()
    try:
        protojson.decoder(desc, ignore_unknown_fields=ignore).decode(
            copy.deepcopy(document), message
        )
    except protojson.ProtoJSONError:
        return "error", b""
    return "ok", _wire(message)


#: The messages of the checks' rejections (the reference path's, before json_format).
_CHECK_ERROR = re.compile(
    r"must be an object|invalid value|nested too deeply|duplicate map key|unknown field"
    r"|both set oneof|is given twice|names an extension of"
)
#: What json_format's messages have and grpcgw's never do.
_JSON_FORMAT_WORDS = re.compile(r"Message type|Failed to parse|Available Fields|\.\.$| at ")


def _normalised(document: Any, desc: Descriptor, ignore: bool) -> tuple[str, Any]:
    """The checks' verdict on ``document``: ("ok", the document normalised) or
    ("error", the message)."""
    checked = copy.deepcopy(document)
    checker = protojson.codecs_for(desc.file.pool).checker_for(ignore)
    try:
        return "ok", checker.message(checked, desc, "", 0)
    except protojson.ProtoJSONError as e:
        return "error", str(e)


def _check_decoder(document: Any, desc: Descriptor) -> None:
    """What grpcgw accepts, json_format accepts too and reads the same: the
    document as it is, or as the checks normalise it (a number in a string read
    exactly, a float32 rounded to FLT_MAX, a FieldMask trimmed). What grpcgw
    rejects, the checks reject, in grpcgw's words: what Go's protojson rejects,
    and everything json_format rejects, so none of json_format's messages
    reaches a client."""
    for ignore in (False, True):
        verdict, normalised = _normalised(document, desc, ignore)
        ours = _decode(document, desc, ignore)
        plain = _parse(document, desc, ignore)
        if ours[0] == "ok":
            assert verdict == "ok" or plain == ours, (ignore, normalised)
            if verdict == "ok":
                assert _parse(normalised, desc, ignore) == ours, ignore
            if plain != ours:
                # json_format alone rejects or misreads a form that Go reads.
                assert normalised != document, (ignore, document)
        else:
            assert verdict == "error", (ignore, document, _decode_error(document, desc, ignore))
            assert _CHECK_ERROR.search(normalised), normalised
            assert not _JSON_FORMAT_WORDS.search(normalised), normalised


def _decode_error(document: Any, desc: Descriptor, ignore: bool) -> str:
    try:
        protojson.decoder(desc, ignore_unknown_fields=ignore).decode(
            copy.deepcopy(document), GetMessageClass(desc)()
        )
    except protojson.ProtoJSONError as e:
        return str(e)
    return ""


# -- encoder ------------------------------------------------------------------------


@pytest.mark.parametrize("desc", ROOTS, ids=ROOT_IDS)
@PROFILE
@given(data=st.data())
def test_encoder_equals_message_to_dict(desc: Descriptor, data: st.DataObject) -> None:
    message = _random_message(data, desc)
    for options in OPTIONS:
        # Compared as JSON text: key order and -0.0 count too.
        assert _text(_encode(message, options)) == _text(_to_dict(message, options)), options


def _compact(outcome: tuple[str, Any]) -> tuple[str, Any]:
    kind, value = outcome
    if kind != "ok":
        return outcome
    return kind, json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_text(message: Message, options: tuple[bool, bool, bool]) -> tuple[str, Any]:
    encoder = _encoder(message, options)
    try:
        return "ok", encoder.json_text(message)
    except Exception as e:
        return "error", type(e)


def _check_json_text(message: Message) -> None:
    """Differential: the text written straight from the message is the compact JSON
    of the encoder's dict (or the same error), for every option, and what the
    ResponseTranscoder renders without an indent (with one: the dict's text)."""
    for options in OPTIONS:
        assert _json_text(message, options) == _compact(_encode(message, options)), options
        emit, proto_names, ints = options
        for indent in (None, 2):
            gateway = GatewayOptions(
                emit_unpopulated=emit,
                use_proto_names=proto_names,
                enums_as_ints=ints,
                indent=indent,
            )
            transcoder = ResponseTranscoder(type(message), response_body="", options=gateway)
            kind, document = _encode(message, options)
            if kind == "ok":
                expected = json_encoder(indent)(document).encode()
                assert transcoder.transcode(message) == expected, (options, indent)
            else:
                with pytest.raises(document):
                    transcoder.transcode(message)


@pytest.mark.parametrize("desc", ROOTS, ids=ROOT_IDS)
@PROFILE
@given(data=st.data())
def test_json_text_equals_the_encoders_dict_as_json(desc: Descriptor, data: st.DataObject) -> None:
    _check_json_text(_random_message(data, desc))


def test_json_text_of_specials_and_fallbacks() -> None:
    """Values the writer hands to the encoder's converters (NaN, infinities, -0.0,
    float32, unknown enum numbers), extensions (json_format's, whole), empty messages."""
    all_types = client_pb2.AllTypes(kind=12345, f64=math.nan, f32=-math.inf, i64=-(1 << 63))
    all_types.kinds.extend([-1, 7, 2147483647])
    zeros = client_pb2.AllTypes(f64=-0.0, f32=-0.0)
    field = descriptor_pb2.FieldDescriptorProto(name="f", number=3, label=1, type=9)
    field.options.deprecated = True
    extended = descriptor_pb2.FieldOptions(deprecated=True)  # json_format writes extensions
    extended.Extensions[field_behavior_pb2.field_behavior].append(field_behavior_pb2.REQUIRED)
    holder = descriptor_pb2.FieldDescriptorProto(name="h", number=5)
    holder.options.CopyFrom(extended)  # a nested message the writer cannot write
    messages: list[Message] = [all_types, zeros, field, extended, holder, *_plain_messages()]
    messages += [GetMessageClass(desc)() for desc in ROOTS]
    for message in messages:
        _check_json_text(message)


def _text(outcome: tuple[str, Any]) -> tuple[str, Any]:
    kind, value = outcome
    return kind, json.dumps(value, ensure_ascii=False) if kind == "ok" else value


def test_encoder_hands_set_extensions_to_json_format() -> None:
    options = descriptor_pb2.FieldOptions(deprecated=True)
    assert "[google.api.field_behavior]" not in _encode(options, OPTIONS[0])[1]
    options.Extensions[field_behavior_pb2.field_behavior].append(field_behavior_pb2.REQUIRED)
    for combination in OPTIONS:
        ours = _encode(options, combination)
        assert _text(ours) == _text(_to_dict(options, combination))
        assert "[google.api.field_behavior]" in ours[1]


def test_encoder_of_a_message_with_more_fields_than_it_writes_out() -> None:
    # Kitchen is past GENERATED_MAX_FIELDS: the ListFields encoder serves it.
    assert len(types_pb2.Kitchen.DESCRIPTOR.fields) > protojson.GENERATED_MAX_FIELDS
    message = types_pb2.Kitchen(string_value="s", double_value=-0.0, int64_value=-5)
    for options in OPTIONS:
        assert _text(_encode(message, options)) == _text(_to_dict(message, options))


def _keyword_message() -> Any:
    """A message whose field names are Python keywords (``class``, ``from``, ...)."""
    file = descriptor_pb2.FileDescriptorProto(
        name="grpcgwtest/keywords.proto", package="grpcgwtest.keywords", syntax="proto3"
    )
    message = file.message_type.add(name="Keywords")
    kinds = {
        "class": _FD.TYPE_STRING,
        "from": _FD.TYPE_INT64,
        "None": _FD.TYPE_BOOL,
        "lambda": _FD.TYPE_DOUBLE,
        "import": _FD.TYPE_MESSAGE,
        "def": _FD.TYPE_STRING,
    }
    for number, (name, kind) in enumerate(kinds.items(), 1):
        field = message.field.add(name=name, number=number, type=kind)
        field.label = _FD.LABEL_REPEATED if name == "def" else _FD.LABEL_OPTIONAL
        if kind == _FD.TYPE_MESSAGE:
            field.type_name = ".grpcgwtest.keywords.Keywords"
    pool = descriptor_pool.DescriptorPool()
    return GetMessageClass(pool.Add(file).message_types_by_name["Keywords"])


def test_fields_named_like_python_keywords() -> None:
    cls = _keyword_message()
    message = cls()
    for name, value in {"class": "c", "from": 7, "None": True, "lambda": -0.0}.items():
        setattr(message, name, value)
    getattr(message, "import").SetInParent()
    getattr(message, "def").extend(["x", "y"])
    for options in OPTIONS:
        assert _text(_encode(message, options)) == _text(_to_dict(message, options))
    document = json_format.MessageToDict(message)
    assert document["class"] == "c"
    assert document["from"] == "7"
    decoded = cls()
    protojson.decoder(cls.DESCRIPTOR).decode(copy.deepcopy(document), decoded)
    assert decoded == message


def test_encoder_keeps_json_format_key_order() -> None:
    message = types_pb2.Kitchen(string_value="s", int32_value=3, double_value=1.5)
    for options in OPTIONS:
        ours = _encode(message, options)[1]
        assert list(ours) == list(_to_dict(message, options)[1]), options


def test_encoder_unknown_enum_numbers_and_specials() -> None:
    message = client_pb2.AllTypes(kind=12345, f64=math.nan, f32=-math.inf, i64=-(1 << 63))
    message.kinds.extend([-1, 7, 2147483647])
    for options in OPTIONS:
        assert _encode(message, options) == _to_dict(message, options), options


# -- decoder ------------------------------------------------------------------------

_CAMEL = re.compile(r"_([a-z0-9])")
_SNAKE = re.compile(r"([A-Z])")
_ODD_VALUES: list[Any] = [
    None,
    [],
    {},
    [None],
    "",
    "x",
    "AAA=",
    "AA==",
    "AAA",
    "-_8",
    "+/8=",
    "not base64!",
    "====",
    0,
    -1,
    1,
    1.5,
    3.0,
    -0.0,
    1e2,
    "1e2",
    "3.0",
    " 1",
    "1 ",
    "+5",
    "-0",
    "007",
    "1_000",
    "\u0661\u0662",
    "0x10",
    True,
    False,
    "true",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    math.inf,
    -math.inf,
    math.nan,
    1e39,
    3.4028235e38,
    -3.4028235e38,
    3.4028236e38,
    3.5e38,
    2**31,
    -(2**31) - 1,
    2**32,
    2**63,
    2**64,
    -(2**63) - 1,
    "18446744073709551616",
    "9223372036854775807",
    1e19,
    1.0e20,
    "2020-01-01T00:00:00Z",
    "1970-01-01T00:00:00.123456789Z",
    "1970-01-01T00:00:00.1234567891Z",
    "1970-01-01T00:00:00.Z",
    "2020-01-01t00:00:00Z",
    "2020-01-01T00:00:00z",
    "2020-01-01T00:00:00+01:00",
    "2020-01-01T00:00:00-01:30",
    "2020-01-01T00:00:00",
    "2020-13-01T00:00:00Z",
    "2020-02-30T00:00:00Z",
    "2020-01-01T24:00:00Z",
    "2020-01-01T23:59:60Z",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999999Z",
    "2020-1-1T0:0:0Z",
    "1.5s",
    "-0.5s",
    "KIND_A",
    "KIND_NEGATIVE",
    "RED",
    "GREEN",
    "NOT_A_NAME",
    "\ud800",
    {"seconds": 1},
    {"@type": "type.googleapis.com/google.protobuf.Timestamp", "value": "1970-01-01T00:00:01Z"},
    [1, "2", None],
    # Forms Go's protojson and json_format read differently (or only one reads).
    "!!!!",
    "zz",
    "AA=",
    "A",
    "ab+_",
    "AA\n==",
    "AB\r\nCD",
    "1e2",
    "1E2",
    "-1.5e1",
    "15e-1",
    "1.0",
    ".0",
    "1.",
    "-",
    "1_0",
    "\t1",
    "+1",
    "01",
    "-01",
    "9007199254740993e0",
    "12345678901234567891e0",
    "1e400",
    "INF",
    "NAN",
    "infinity",
    "3.4028235e38",
    "0.0000000001s",
    "01s",
    "+1s",
    "1.s",
    ".5s",
    "-.5s",
    "1e2s",
    "315576000001s",
    "2020-01-01T00:00:00+25:00",
    "2020-01-01T00:00:00+23:59",
    "2020-01-01T00:00:00+01:60",
    "2020-01-01T00:00:00+1:00",
    "2020-1-01T00:00:00Z",
    "2020-01-01T00:00:00.Z",
    " a,b ",
    "a,,b",
    "a_b",
    "fooBar.baz",
    "1a",
    1099511627776,
    -(2**31),
    2**31 - 1,
    1.0,
    2.5,
    _strict.NotInteger(1.0),
    float("1e300"),
    10**400,
    [1.5, True],
    {"a": math.inf},
    {"@type": "type.googleapis.com/grpcgwtest.client.v1.Child", "level": 1.5},
    {"@type": "type.googleapis.com/google.protobuf.Duration", "value": "0.0000000001s"},
    {"@type": "type.googleapis.com/google.protobuf.Int32Value", "value": True},
]


def _renamed(key: str) -> str:
    if "_" in key:
        return _CAMEL.sub(lambda m: m.group(1).upper(), key)
    return _SNAKE.sub(lambda m: "_" + m.group(1).lower(), key)


def _slots(node: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key-or-index) in a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((node, key))
            _slots(value, out)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((node, index))
            _slots(value, out)
    return out


def _mutate(data: st.DataObject, document: Any) -> None:
    for _ in range(data.draw(st.integers(0, 4), label="mutations")):
        slots = _slots(document, [])
        what = data.draw(st.sampled_from(["rename", "value", "number", "unknown", "dup"]))
        if what == "unknown" or not slots:
            dicts = [document, *(c[k] for c, k in slots if isinstance(c[k], dict))]
            target = data.draw(st.sampled_from(dicts))
            key = data.draw(
                st.sampled_from(
                    ["zzUnknown", "[ext.name]", "[bad name]", "[google.api.http]", "choice"]
                )
            )
            target[key] = copy.deepcopy(data.draw(st.sampled_from(_ODD_VALUES)))
            continue
        container, key = data.draw(st.sampled_from(slots))
        value = container[key]
        if what == "rename" and isinstance(container, dict):
            container[_renamed(key)] = container.pop(key)
        elif what == "dup" and isinstance(container, dict):
            container[_renamed(key)] = copy.deepcopy(value)
        elif (
            what == "number"
            and isinstance(value, int | float | str)
            and not isinstance(value, bool)
        ):
            forms: list[Any] = [str(value)]
            if isinstance(value, int):
                forms += [f"{value}e0", f"{value}.0", value + 1, -value]
                forms += [float(value)] if abs(value) < 1e300 else []
            elif isinstance(value, float):
                forms += [value * 2, -value, value / 3]
            else:
                try:
                    number = float(value)
                    forms += [number] + ([int(number)] if math.isfinite(number) else [])
                except ValueError:
                    forms += [value.upper(), value.lower(), value + "=", value[:-1]]
            container[key] = data.draw(st.sampled_from(forms))
        else:
            container[key] = copy.deepcopy(data.draw(st.sampled_from(_ODD_VALUES)))


@pytest.mark.parametrize("desc", ROOTS, ids=ROOT_IDS)
@PROFILE
@given(data=st.data())
def test_decoder_round_trips_message_to_dict(desc: Descriptor, data: st.DataObject) -> None:
    message = _random_message(data, desc)
    options = data.draw(st.sampled_from(OPTIONS))
    outcome, document = _to_dict(message, options)
    if outcome != "ok":
        return
    _check_decoder(document, desc)
    if options[0] is False:  # without emitted defaults the document is exactly the message
        decoded = GetMessageClass(desc)()
        protojson.decoder(desc).decode(copy.deepcopy(document), decoded)
        assert _to_dict(decoded, options) == ("ok", document)


def _mutated_document(data: st.DataObject, desc: Descriptor) -> tuple[bool, Any]:
    """A random message's JSON form (with random options), mutated; (False, None)
    when json_format cannot render the message."""
    message = _random_message(data, desc)
    outcome, document = _to_dict(message, data.draw(st.sampled_from(OPTIONS)))
    if outcome != "ok":
        return False, None
    _mutate(data, document)
    return True, document


@pytest.mark.parametrize("desc", ROOTS, ids=ROOT_IDS)
@PROFILE
@given(data=st.data())
def test_decoder_agrees_on_mutated_documents(desc: Descriptor, data: st.DataObject) -> None:
    rendered, document = _mutated_document(data, desc)
    if not rendered:
        return
    _check_decoder(document, desc)


#: Strings near the edge of Go's and json_format's forms: numbers (signs, white
#: space, "_", exponents, other scripts' digits), Durations, base64, Timestamps.
_TRICKY_TEXT = (
    st.from_regex(
        r"[ \t+-]?[0-9]{0,3}[_.]?[0-9]{0,2}([eE][+-]?[0-9]{1,3})?[s\u0663 ]?", fullmatch=True
    )
    | st.text("AZaz09+/-_=\r\n !", max_size=9)
    | st.from_regex(
        r"[0-9]{4}-[0-9]{1,2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{0,10})?"
        r"([Zz]|[+-][0-9]{1,2}:[0-9]{2})",
        fullmatch=True,
    )
    | st.from_regex(r" ?[a-zA-Z_]{0,4}([.,][a-zA-Z_1]{0,4}){0,2} ?", fullmatch=True)
)
_ANY_VALUE = st.sampled_from(_ODD_VALUES) | _JSON | _TRICKY_TEXT


@PROFILE
@given(value=_ANY_VALUE, key=st.sampled_from(list(types_pb2.Kitchen.DESCRIPTOR.fields_by_name)))
def test_decoder_agrees_on_any_value_for_any_kitchen_field(value: Any, key: str) -> None:
    desc = types_pb2.Kitchen.DESCRIPTOR
    field = desc.fields_by_name[key]
    _check_decoder({key: value}, desc)
    _check_decoder({field.json_name: value}, desc)
    _check_decoder({key: [value]}, desc)
    _check_decoder({key: {"1": value, "true": value, "k": value}}, desc)


@PROFILE
@given(value=_ANY_VALUE, key=st.sampled_from(list(client_pb2.AllTypes.DESCRIPTOR.fields_by_name)))
def test_decoder_agrees_on_any_value_for_any_all_types_field(value: Any, key: str) -> None:
    desc = client_pb2.AllTypes.DESCRIPTOR
    _check_decoder({key: value}, desc)
    _check_decoder({key: [value, value]}, desc)


# -- the deliberate differences, explicitly --------------------------------------------


def _kitchen(document: Any, ignore: bool = True) -> types_pb2.Kitchen:
    message = types_pb2.Kitchen()
    protojson.decoder(message.DESCRIPTOR, ignore_unknown_fields=ignore).decode(document, message)
    return message


@pytest.mark.parametrize("value", ["text", [], ["x", "y"]])
def test_non_object_for_a_message_is_an_error(value: Any) -> None:
    message = types_pb2.Kitchen()
    json_format.ParseDict({"child": value}, message, ignore_unknown_fields=True)  # json_format: {}
    with pytest.raises(protojson.ProtoJSONError, match=r'field "child" .* must be an object'):
        _kitchen({"child": value})
    with pytest.raises(protojson.ProtoJSONError, match="the request body"):
        _kitchen(["not", "an", "object"])


def test_unknown_enum_name_is_an_error_even_when_ignoring_unknown_fields() -> None:
    message = types_pb2.Kitchen()
    json_format.ParseDict({"color": "NOPE"}, message, ignore_unknown_fields=True)
    assert not message.color  # json_format: silently unset
    with pytest.raises(protojson.ProtoJSONError, match=r'"NOPE" for field "color"'):
        _kitchen({"color": "NOPE"})
    with pytest.raises(protojson.ProtoJSONError, match=r'field "repeatedColor\[1\]"'):
        _kitchen({"repeatedColor": ["RED", "NOPE"]})


@pytest.mark.parametrize("number", [3.4028235e38, -3.4028235e38])
def test_float32_just_above_flt_max_rounds_to_flt_max(number: float) -> None:
    with pytest.raises(json_format.ParseError):
        json_format.ParseDict({"floatValue": number}, types_pb2.Kitchen())
    flt_max = math.copysign(float.fromhex("0x1.fffffep+127"), number)
    assert _kitchen({"floatValue": number}).float_value == flt_max
    assert _kitchen({"floatWrapper": number}).float_wrapper.value == flt_max
    assert _kitchen({"floatValue": str(number)}).float_value == flt_max


def test_null_leaves_a_field_unset_except_value() -> None:
    message = _kitchen({"stringValue": None, "child": None, "value": None, "repeatedInt32": None})
    assert message == types_pb2.Kitchen(value=struct_pb2.Value(null_value=0))
    assert message.HasField("value")


def test_two_members_of_a_oneof_is_an_error() -> None:
    with pytest.raises(protojson.ProtoJSONError, match="oneof"):
        _kitchen({"choiceText": "a", "choiceNumber": 1})
    # null does not count as setting a member
    assert _kitchen({"choiceText": None, "choiceNumber": 1}).choice_number == 1


_ONEOFS = [(desc, oneof) for desc in ROOTS for oneof in desc.oneofs if len(oneof.fields) > 1]
_ONEOF_SAMPLES: dict[int, Any] = {_FD.TYPE_STRING: "x", _FD.TYPE_BOOL: True, _FD.TYPE_MESSAGE: {}}


@pytest.mark.parametrize(("desc", "oneof"), _ONEOFS, ids=[f"{d.name}.{o.name}" for d, o in _ONEOFS])
def test_two_members_of_a_oneof_in_a_dense_document(desc: Descriptor, oneof: Any) -> None:
    # A document setting most fields takes the generated fill, which tracks oneofs itself.
    dense = json_format.MessageToDict(
        GetMessageClass(desc)(), always_print_fields_with_no_presence=True
    )
    assert len(dense) * 4 >= len(desc.fields)
    members = {f.json_name: _ONEOF_SAMPLES.get(f.type, 1) for f in oneof.fields}
    for first, second in itertools.combinations(members, 2):
        one = {**dense, first: members[first]}
        both = {**one, second: members[second]}
        assert _decode(one, desc, False)[0] == "ok"
        assert _decode(both, desc, False)[0] == "error"
        _check_decoder(both, desc)


def test_fast_path_forms() -> None:
    message = _kitchen(
        {
            "int64Value": "-9223372036854775808",
            "uint64Value": 1e2,
            "int32_value": 7,
            "bytesValue": "-_8",
            "customName": "r",
            "timestamp": "1970-01-01T00:00:01.5Z",
            "colorById": {"-3": "RED"},
            "any": {
                "@type": "type.googleapis.com/google.protobuf.Timestamp",
                "value": "1970-01-01T00:00:01Z",
            },
        }
    )
    assert message.int64_value == -(1 << 63)
    assert message.uint64_value == 100
    assert message.int32_value == 7
    assert message.bytes_value == b"\xfb\xff"
    assert message.renamed == "r"
    assert (message.timestamp.seconds, message.timestamp.nanos) == (1, 500_000_000)
    assert dict(message.color_by_id) == {-3: types_pb2.RED}
    assert message.any.Is(timestamp_pb2.Timestamp.DESCRIPTOR)
    assert isinstance(message.any, any_pb2.Any)


_TIMESTAMP_TEXT = st.from_regex(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{0,10})?(Z|z|[+-][0-9]{2}:[0-9]{2})?",
    fullmatch=True,
)


@PROFILE
@given(
    text=_TIMESTAMP_TEXT
    | st.sampled_from([v for v in _ODD_VALUES if isinstance(v, str)])
    | st.builds(
        lambda s, n: timestamp_pb2.Timestamp(seconds=s, nanos=n).ToJsonString(),
        st.integers(-62135596800, 253402300799),
        st.integers(0, 999_999_999),
    )
)
def test_timestamp_fast_path_agrees_with_json_format(text: str) -> None:
    ours = timestamp_pb2.Timestamp()
    if protojson.timestamp_fast(text, ours):
        theirs = timestamp_pb2.Timestamp()
        json_format.ParseDict(text, theirs)  # type: ignore[arg-type]
        assert (ours.seconds, ours.nanos) == (theirs.seconds, theirs.nanos)
    else:
        assert ours == timestamp_pb2.Timestamp()
    _check_decoder({"timestamp": text, "repeatedTimestamp": [text]}, types_pb2.Kitchen.DESCRIPTOR)


@PROFILE
@given(
    seconds=st.integers(-62135596800, 253402300799)
    | st.sampled_from([-62135596801, 253402300800, 0, -1, 86399, 951782400, 4107542400]),
    nanos=st.integers(0, 999_999_999)
    | st.sampled_from([0, 1, 999, 1000, 10**6, 250 * 10**6, 10**9, -1, 999_999_999]),
)
def test_timestamp_json_agrees_with_json_format(seconds: int, nanos: int) -> None:
    message = timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)
    try:
        expected: Any = message.ToJsonString()
    except ValueError as e:
        expected = str(e)
    try:
        ours: Any = protojson.timestamp_json(message)
    except ValueError as e:
        ours = str(e)
    assert ours == expected


#: Codecs built with each sparse share, kept across examples (building compiles).
_MODE_CODECS: dict[float, protojson.Codecs] = {0.0: protojson.Codecs(), 2.0: protojson.Codecs()}


def _fill_all(share: float, document: Any, desc: Descriptor, ignore: bool) -> bytes:
    """Decode with every fill built for sparse share ``share`` (0: every object by
    generated code; 2: every object key by key)."""
    saved = _decode_module.SPARSE_SHARE
    _decode_module.SPARSE_SHARE = share
    try:
        target = GetMessageClass(desc)()
        fill = _MODE_CODECS[share].fill(desc, ignore, eager=True)
        fill(copy.deepcopy(document), target, 1)
    except Exception:  # any failure sends the document to the reference path
        return b"gave up"
    finally:
        _decode_module.SPARSE_SHARE = saved
    return _wire(target)


@pytest.mark.parametrize("desc", ROOTS, ids=ROOT_IDS)
@PROFILE
@given(data=st.data())
def test_generated_fill_agrees_with_key_by_key_fill(desc: Descriptor, data: st.DataObject) -> None:
    # The decoder fills a dense object by generated code, a sparse one key by key:
    # at every depth, both must give the same message, or both give up.
    rendered, document = _mutated_document(data, desc)
    if not rendered or not isinstance(document, dict):
        return
    for ignore in (False, True):
        dense = _fill_all(0.0, document, desc, ignore)
        assert dense == _fill_all(2.0, document, desc, ignore), ignore


def _plain_messages() -> list[Message]:
    """Messages the fast paths convert whole (no well-known type but Timestamp)."""
    record = bench_pb2.Record(name="records/1", title="t", id=-(1 << 63), score=-0.0, kind=2)
    record.tags.extend(["a", "é"])
    record.reviewers.add(display_name="Ada", year_of_birth=1815)
    record.create_time.FromSeconds(1_700_000_000)
    field = descriptor_pb2.FieldDescriptorProto(name="f", number=3, label=1, type=9)
    field.options.deprecated = True  # FieldOptions: extension ranges, none set
    keywords = _keyword_message()(**{"class": "c", "from": 5})
    return [record, field, keywords]


def test_fast_paths_convert_plain_messages_without_json_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    messages = _plain_messages()
    expected = [
        (_to_dict(m, options), json_format.MessageToDict(m))
        for m in messages
        for options in OPTIONS
    ]

    class Unreachable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"json_format.{name} called")

    monkeypatch.setattr(_codecs_module, "json_format", Unreachable())
    got = []
    for message in messages:
        for options in OPTIONS:
            encoded = _encode(message, options)
            document = copy.deepcopy(expected[len(got)][1])
            decoded = type(message)()
            protojson.decoder(message.DESCRIPTOR).decode(document, decoded)
            assert decoded == message
            got.append((encoded, None))
    assert [_text(e) for e, _ in got] == [_text(e) for e, _ in expected]
    encode = protojson.DEFAULT._message_encoders[
        (bench_pb2.Record.DESCRIPTOR, (False, False, False))
    ]
    assert encode.__code__.co_filename.startswith("<grpcgw.protojson encode gwbench.v1.Record")
    for message in messages:  # the text too, written out where the encoder is
        for options in OPTIONS:
            assert _json_text(message, options) == _compact(_encode(message, options))
    for emit in (False, True):
        write = protojson.DEFAULT._writers[(bench_pb2.Record.DESCRIPTOR, (emit, False, False))]
        assert write.__code__.co_filename.startswith("<grpcgw.protojson write gwbench.v1.Record")


def test_a_field_named_like_a_message_method_keeps_extensions() -> None:
    # upb looks field names up before methods: a field called "Extensions" must
    # not stand in for the extension map the generated encoder asks about.
    file = descriptor_pb2.FileDescriptorProto(
        name="grpcgwtest/shadow.proto", package="grpcgwtest.shadow", syntax="proto2"
    )
    message = file.message_type.add(name="Shadow")
    message.field.add(name="Extensions", number=1, type=_FD.TYPE_STRING, label=1)
    message.field.add(name="x", number=2, type=_FD.TYPE_INT32, label=1)
    message.extension_range.add(start=100, end=200)
    file.extension.add(
        name="ext", number=100, type=_FD.TYPE_INT32, label=1, extendee=".grpcgwtest.shadow.Shadow"
    )
    pool = descriptor_pool.DescriptorPool()
    built = pool.Add(file)
    # x = 1 and the extension (field 100) = 5, on the wire: the attribute cannot set it
    shadow = GetMessageClass(built.message_types_by_name["Shadow"]).FromString(
        bytes([0x10, 1, 0xA0, 0x06, 5])
    )
    for options in OPTIONS:
        assert _text(_encode(shadow, options)) == _text(_to_dict(shadow, options))
    assert "[grpcgwtest.shadow.ext]" in _encode(shadow, OPTIONS[0])[1]


def _extension_keys_pool() -> dict[str, Descriptor]:
    """proto2 ``Ext`` (extension range 100-199, extended by ``ext``), ``Other``
    (extended by ``other_ext``) and ``Plain`` (no extension range)."""
    file = descriptor_pb2.FileDescriptorProto(
        name="grpcgwtest/keys.proto", package="grpcgwtest.keys", syntax="proto2"
    )
    for name in ("Ext", "Other", "Plain"):
        message = file.message_type.add(name=name)
        message.field.add(name="x", number=1, type=_FD.TYPE_INT32, label=1)
        if name != "Plain":
            message.extension_range.add(start=100, end=200)
    for name, extendee in (("ext", "Ext"), ("other_ext", "Other")):
        file.extension.add(
            name=name, number=100, type=_FD.TYPE_INT32, label=1,
            extendee=f".grpcgwtest.keys.{extendee}",
        )  # fmt: skip
    built = descriptor_pool.DescriptorPool().Add(file)
    return dict(built.message_types_by_name)


#: (message, key, lenient outcome, strict outcome): "ignored", "set" (the extension
#: read), or the error. Go's protojson (decode.go): a ``[name]`` key names an
#: extension; an extension of another message is an error even with DiscardUnknown,
#: a name the resolver does not know is an unknown field, skipped with DiscardUnknown
#: whether or not the message has extension ranges.
_NOT_OURS = 'field "[grpcgwtest.keys.other_ext]" names an extension of grpcgwtest.keys.Other'
_EXTENSION_KEYS = [
    ("Plain", "[foo.bar.baz]", "ignored", 'unknown field "[foo.bar.baz]"'),
    ("Ext", "[foo.bar.baz]", "ignored", 'unknown field "[foo.bar.baz]"'),
    ("Plain", "[bad name]", "ignored", 'unknown field "[bad name]"'),
    ("Plain", "[]", "ignored", 'unknown field "[]"'),
    ("Ext", "[grpcgwtest.keys.ext]", "set", "set"),
    # json_format's second lookup (without the last name) is a MessageSet's only.
    ("Ext", "[grpcgwtest.keys.ext.x]", "ignored", 'unknown field "[grpcgwtest.keys.ext.x]"'),
    ("Ext", "[grpcgwtest.keys.other_ext]", f"{_NOT_OURS}, not of grpcgwtest.keys.Ext", None),
    ("Plain", "[grpcgwtest.keys.other_ext]", f"{_NOT_OURS}, not of grpcgwtest.keys.Plain", None),
]


@pytest.mark.parametrize(("name", "key", "lenient", "strict"), _EXTENSION_KEYS)
@pytest.mark.parametrize("others", [0, 3], ids=["sparse", "dense"])
def test_extension_keys_read_as_go_reads_them(
    name: str, key: str, lenient: str, strict: str | None, others: int
) -> None:
    desc = _extension_keys_pool()[name]
    document = {"x": 7, key: 5} if others else {key: 5}
    x = b"\x08\x07" if others else b""  # x = 7 on the wire
    for ignore, expected in ((True, lenient), (False, strict or lenient)):
        outcome = _read_keys(desc, document, ignore)
        if expected == "set":
            assert outcome == x + b"\xa0\x06\x05", ignore  # and field 100 = 5
        elif expected == "ignored":
            assert outcome == x, ignore  # nothing else: not an unknown field either
        else:
            assert outcome == expected, ignore


def _read_keys(desc: Descriptor, document: dict[str, Any], ignore: bool) -> bytes | str:
    """The message read (its wire form), or the error's message."""
    message = GetMessageClass(desc)()
    decoder = protojson.codecs_for(desc.file.pool).decoder(desc, ignore_unknown_fields=ignore)
    try:
        decoder.decode(copy.deepcopy(document), message)
    except protojson.ProtoJSONError as e:
        return str(e)
    return message.SerializeToString(deterministic=True)


def _int_keyed_map_message() -> Any:
    """``Outer { map<int32, Inner> inners = 1; }``,
    ``Inner { repeated string xs = 1; int32 n = 2; }``."""
    file = descriptor_pb2.FileDescriptorProto(
        name="grpcgwtest/intmap.proto", package="grpcgwtest.intmap", syntax="proto3"
    )
    inner = file.message_type.add(name="Inner")
    inner.field.add(name="xs", number=1, type=_FD.TYPE_STRING, label=_FD.LABEL_REPEATED)
    inner.field.add(name="n", number=2, type=_FD.TYPE_INT32, label=1)
    outer = file.message_type.add(name="Outer")
    entry = outer.nested_type.add(name="InnersEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=_FD.TYPE_INT32, label=1)
    entry.field.add(
        name="value", number=2, type=_FD.TYPE_MESSAGE, label=1, type_name=".grpcgwtest.intmap.Inner"
    )
    outer.field.add(
        name="inners",
        number=1,
        type=_FD.TYPE_MESSAGE,
        label=_FD.LABEL_REPEATED,
        type_name=".grpcgwtest.intmap.Outer.InnersEntry",
    )
    pool = descriptor_pool.DescriptorPool()
    return GetMessageClass(pool.Add(file).message_types_by_name["Outer"])


@pytest.mark.parametrize("twin", ["01", "+1", " 1"])
def test_one_map_key_written_twice_is_json_formats_to_decide(twin: str) -> None:
    outer = _int_keyed_map_message()
    document = {"inners": {"1": {"xs": ["a"], "n": 1}, twin: {"xs": ["b"]}}}
    _check_decoder(document, outer.DESCRIPTOR)
    kitchen = types_pb2.Kitchen.DESCRIPTOR
    _check_decoder({"colorById": {"1": "RED", twin: "BLUE"}}, kitchen)


_JSON_DOCUMENTS = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@settings(PROFILE, max_examples=max(PROFILE.max_examples, 200))  # cheap: many examples
@given(document=_JSON_DOCUMENTS)
def test_reply_json_encoder_agrees_with_json_dumps(document: Any) -> None:
    # Replies skip json.dumps' per-call set-up: the bytes must not change.
    compact = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    assert json_encoder(None)(document) == compact
    indented = json.dumps(document, ensure_ascii=False, indent=2, separators=(",", ": "))
    assert json_encoder(2)(document) == indented


# -- Go protojson's strictness -------------------------------------------------------

_ANY = "type.googleapis.com/"

#: (document, the field the error names): each rejected by Go's protojson. The
#: comment says what json_format makes of it when it accepts.
_GO_REJECTS: list[tuple[dict[str, Any], str]] = [
    ({"data": "!!!!"}, "data"),  # json_format: b""
    ({"data": "AA=A"}, "data"),  # padding inside
    ({"data": "AA="}, "data"),  # padded, length not a multiple of 4
    ({"data": "A"}, "data"),
    ({"data": "ab+_"}, "data"),  # the two alphabets mixed
    ({"data": "AA AA"}, "data"),  # json_format skips the space
    ({"blobs": ["AA==", "%%"]}, "blobs[1]"),
    ({"kind": 1.5}, "kind"),  # json_format: enum 1
    ({"kind": True}, "kind"),  # json_format: enum 1
    ({"kind": 1099511627776}, "kind"),  # json_format: dropped
    ({"kind": "1"}, "kind"),  # a number in a string is not a name
    ({"kinds": [1, 2.5]}, "kinds[1]"),
    ({"f64": True}, "f64"),  # json_format: 1.0
    ({"f64": "inf"}, "f64"),  # json_format: Infinity
    ({"f64": "NAN"}, "f64"),
    ({"f64": " 1.5"}, "f64"),
    ({"f64": "1_000.5"}, "f64"),
    ({"f64": "0x10"}, "f64"),
    ({"f64": ".5"}, "f64"),
    ({"f64": "1e400"}, "f64"),  # json_format: Infinity
    ({"f32": "3.5e38"}, "f32"),  # json_format: Infinity
    ({"ratios": [1.0, False]}, "ratios[1]"),
    ({"i32": "\t1"}, "i32"),  # json_format: int() strips it
    ({"i32": "1_000"}, "i32"),
    ({"i32": "\u0661\u0662"}, "i32"),  # Arabic-Indic digits
    ({"i32": "+5"}, "i32"),
    ({"i32": "007"}, "i32"),
    ({"i32": ".0"}, "i32"),
    ({"i32": "1."}, "i32"),
    ({"i64": "1.5e0"}, "i64"),
    ({"i64": _strict.NotInteger(1.0)}, "i64"),  # "1.00000000000000001" in the body
    ({"u64": "-0.5e1"}, "u64"),
    ({"ids": ["1", None]}, "ids[1]"),
    ({"tags": ["a", None]}, "tags[1]"),
    ({"took": "0.0000000001s"}, "took"),  # json_format: 0s
    ({"took": "01s"}, "took"),
    ({"took": " 1s"}, "took"),
    ({"took": "1_0s"}, "took"),
    ({"when": "2020-01-01T00:00:00+25:00"}, "when"),  # json_format: accepted
    ({"when": "2020-01-01T00:00:00+01:60"}, "when"),
    ({"when": "2020-01-01T00:00:00+1:00"}, "when"),
    ({"when": "2020-1-1T0:0:0Z"}, "when"),  # json_format: accepted (strptime)
    ({"when": "2020-01-01T00:00:00.Z"}, "when"),  # json_format: accepted
    ({"mask": "a_b"}, "mask"),
    ({"mask": "a,,b"}, "mask"),
    ({"mask": "a..b"}, "mask"),  # json_format: accepted
    ({"mask": "fooBar.1x"}, "mask"),
    ({"ratio": True}, "ratio"),  # DoubleValue: json_format 1.0
    ({"small": 1.5}, "small"),
    ({"raw": "!!"}, "raw"),
    ({"counts": {"a": None}}, "counts[a]"),
    ({"nested": {"count": 1.5}}, "nested.count"),
]
_KITCHEN_GO_REJECTS: list[tuple[dict[str, Any], str]] = [
    ({"colorById": {"1": None}}, "colorById[1]"),
    ({"colorById": {" 1": "RED"}}, "colorById[ 1]"),
    ({"colorById": {"1_0": "RED"}}, "colorById[1_0]"),
    ({"colorById": {"1e2": "RED"}}, "colorById[1e2]"),
    ({"colorById": {"9" * 5000: "RED"}}, "colorById[" + "9" * 5000 + "]"),  # no int() error
    ({"colorById": {"9223372036854775808": "RED"}}, "colorById[9223372036854775808]"),
    ({"colorById": {"1": "RED", "01": "GREEN"}}, "colorById"),  # one key twice
    ({"timestampByFlag": {"yes": "2020-01-01T00:00:00Z"}}, "timestampByFlag[yes]"),
    ({"childrenByName": {"a": None}}, "childrenByName[a]"),
    ({"children": [{}, None]}, "children[1]"),
    ({"value": math.inf}, "value"),  # 1e400 in the body; json_format: accepted
    ({"value": 10**400}, "value"),
    ({"struct": {"a": [1, {"b": -math.inf}]}}, "struct.a[1].b"),
    ({"listValue": [math.nan]}, "listValue[0]"),
    ({"any": {"@type": _ANY + "google.protobuf.Duration", "value": "1.0000000001s"}}, "any.value"),
    ({"any": {"@type": _ANY + "grpcgwtest.transcode.v1.Child", "name": 5}}, "any.name"),
    ({"any": {"@type": _ANY + "google.protobuf.Int32Value", "value": True}}, "any.value"),
    ({"any": "x"}, "any"),
]


@pytest.mark.parametrize(
    ("cls", "document", "field"),
    [(client_pb2.AllTypes, d, f) for d, f in _GO_REJECTS]
    + [(types_pb2.Kitchen, d, f) for d, f in _KITCHEN_GO_REJECTS],
    ids=[json.dumps(d, default=str)[:60] for d, _ in _GO_REJECTS + _KITCHEN_GO_REJECTS],
)
@pytest.mark.parametrize("ignore", [False, True])
def test_what_go_protojson_rejects_is_rejected(
    cls: Any, document: dict[str, Any], field: str, ignore: bool
) -> None:
    decoder = protojson.decoder(cls.DESCRIPTOR, ignore_unknown_fields=ignore)
    with pytest.raises(protojson.ProtoJSONError) as raised:
        decoder.decode(copy.deepcopy(document), cls())
    assert f'"{field}"' in str(raised.value)
    # As the body field of an HttpRule (body: "<field>") too.
    (key, value), *_ = document.items()
    top = cls.DESCRIPTOR.fields_by_camelcase_name.get(key) or cls.DESCRIPTOR.fields_by_name[key]
    with pytest.raises(protojson.ProtoJSONError):
        decoder.decode_field(copy.deepcopy(value), cls(), top)


def test_json_format_alone_takes_some_of_them() -> None:
    # The rejections above are not json_format's: it reads these silently.
    lax = {
        "data": ("!!!!", b""),
        "kind": (1.5, 1),
        "f64": (True, 1.0),
        "took": ("0.0000000001s", None),
        "when": ("2020-01-01T00:00:00+25:00", None),
    }
    for key, (value, expected) in lax.items():
        message = client_pb2.AllTypes()
        json_format.ParseDict({key: value}, message)
        if expected is not None:
            assert getattr(message, key) == expected
    message = client_pb2.AllTypes()
    json_format.ParseDict({"kind": 1099511627776}, message)
    assert (
        not message.HasField("kind")
        if message.DESCRIPTOR.fields_by_name["kind"].has_presence
        else message.kind == 0
    )


#: (document, what it reads as): forms Go's protojson accepts, read as Go reads them.
_GO_ACCEPTS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"data": "zz"}, {"data": b"\xcf"}),  # unpadded; the spare bits are not checked
    ({"data": "zz=="}, {"data": b"\xcf"}),
    ({"data": "-_8"}, {"data": b"\xfb\xff"}),  # URL-safe, unpadded
    ({"data": "+/8="}, {"data": b"\xfb\xff"}),
    ({"data": "AB\r\nCD"}, {"data": b"\x00\x10\x83"}),  # CR and LF are skipped
    ({"data": ""}, {"data": b""}),
    ({"kind": 2.0}, {"kind": 2}),  # an integral number
    ({"kind": -7}, {"kind": -7}),  # an open enum takes any int32
    ({"i32": "1e2"}, {"i32": 100}),
    ({"i32": "-1.5e1"}, {"i32": -15}),
    ({"i32": "1E2"}, {"i32": 100}),
    ({"i32": "-0"}, {"i32": 0}),
    ({"i32": 1e2}, {"i32": 100}),
    ({"i64": "9007199254740993e0"}, {"i64": 9007199254740993}),  # json_format: ...992
    ({"u64": "18446744073709551615"}, {"u64": (1 << 64) - 1}),
    ({"u64": "1844674407370955161.5e1"}, {"u64": (1 << 64) - 1}),
    ({"f64": "1e2"}, {"f64": 100.0}),
    ({"f64": "-0"}, {"f64": -0.0}),
    ({"f64": "NaN"}, {"f64": math.nan}),
    ({"f32": 3.4028235e38}, {"f32": float.fromhex("0x1.fffffep+127")}),
    ({"f32": "3.4028235e38"}, {"f32": float.fromhex("0x1.fffffep+127")}),
    ({"took": "1.s"}, {"took": (1, 0)}),
    ({"took": "+1.5s"}, {"took": (1, 500_000_000)}),
    ({"took": "-0.000000001s"}, {"took": (0, -1)}),
    ({"took": ".5s"}, {"took": (0, 500_000_000)}),  # json_format: an error
    ({"took": "-.5s"}, {"took": (0, -500_000_000)}),
    ({"when": "2020-01-01T00:00:00+23:59"}, {"when": (1577750460, 0)}),
    ({"when": "2020-01-01T00:00:00.5-01:30"}, {"when": (1577842200, 500_000_000)}),
    ({"mask": " fooBar,x.yZ "}, {"mask": ["foo_bar", "x.y_z"]}),
    ({"mask": ""}, {"mask": []}),
    ({"ratio": "Infinity"}, {"ratio": math.inf}),
    ({"small": "7"}, {"small": 7}),
]


def _read_back(message: Any, key: str) -> Any:
    value = getattr(message, key)
    name = value.DESCRIPTOR.full_name if isinstance(value, Message) else ""
    if name in ("google.protobuf.Duration", "google.protobuf.Timestamp"):
        return (value.seconds, value.nanos)
    if name == "google.protobuf.FieldMask":
        return list(value.paths)
    if name.endswith("Value"):
        return value.value
    return value


@pytest.mark.parametrize(("document", "expected"), _GO_ACCEPTS, ids=lambda v: str(v)[:50])
def test_what_go_protojson_accepts_is_read_as_go_reads_it(
    document: dict[str, Any], expected: dict[str, Any]
) -> None:
    message = client_pb2.AllTypes()
    protojson.decoder(message.DESCRIPTOR).decode(copy.deepcopy(document), message)
    for key, value in expected.items():
        got = _read_back(message, key)
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(got)
        else:
            assert (
                got == value and math.copysign(1, got) == math.copysign(1, value)
                if isinstance(value, float)
                else got == value
            ), (key, got)
    _check_decoder(document, message.DESCRIPTOR)


def test_int_map_keys_in_go_forms() -> None:
    # strconv.ParseInt: a sign and leading zeros are fine.
    message = _kitchen({"colorById": {"+1": "RED", "-02": "GREEN", "0" * 30 + "3": 1}})
    assert dict(message.color_by_id) == {1: 1, -2: 2, 3: 1}


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("2.5", 2.5),
        ("1e2", 100.0),
        ("-0.0", -0.0),
        ("12345678901234567891e0", 12345678901234567891),  # exact: an int
        ("9007199254740993.0", 9007199254740993),
        ("1.00000000000000001", _strict.NotInteger(1.0)),  # not an integer to Go
        ("1e-400", _strict.NotInteger(0.0)),
        ("1e25", _strict.NotInteger(1e25)),  # beyond Go's 20 digits
    ],
)
def test_parse_json_float_keeps_what_go_reads(text: str, read: Any) -> None:
    value = json.loads(text, parse_float=protojson.parse_json_float)
    assert type(value) is type(read)
    assert value == read
    assert float(value) == float(text)  # the same double in every case
    if isinstance(read, float):
        assert math.copysign(1, value) == math.copysign(1, read)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_not_json(text: str) -> None:
    with pytest.raises(protojson.ProtoJSONError, match="not JSON"):
        json.loads(f'{{"f": {text}}}', parse_constant=protojson.reject_json_constant)


_NUMBER_TEXT = st.from_regex(
    r"-?(0|[1-9][0-9]{0,22})(\.[0-9]{1,12})?([eE][+-]?[0-9]{1,2})?", fullmatch=True
)


@PROFILE
@given(text=_NUMBER_TEXT)
def test_go_integer_reading_is_exact(text: str) -> None:
    from fractions import Fraction

    exact = Fraction(text)
    number = _strict.integer(text)
    if number is not None:
        assert number == exact
    elif exact.denominator == 1:
        # Go refuses integers past 20 digits (before the sign and range checks).
        assert len(str(abs(exact.numerator))) > 19 or "e" in text.lower()
    value = protojson.parse_json_float(text)
    assert float(value) == float(text)
    if type(value) is float and value.is_integer():
        assert exact == int(value)  # a plain integral float is exactly its text


@PROFILE
@given(data=st.binary(max_size=12), text=st.text("AZaz09+/-_=\r\n !", max_size=10))
def test_base64_as_go_reads_it(data: bytes, text: str) -> None:
    import base64

    std = base64.b64encode(data).decode()
    url = base64.urlsafe_b64encode(data).decode()
    for form in (std, std.rstrip("="), url, url.rstrip("=")):
        assert _strict.base64_bytes(form) == data
    decoded = _strict.base64_bytes(text)
    if decoded is not None:  # what Go reads, json_format reads alike (less CR and LF)
        bare = text.replace("\r", "").replace("\n", "")
        padded = bare.encode() + b"=" * (4 - len(bare) % 4)
        assert base64.urlsafe_b64decode(padded) == decoded


# -- allow_alias enums ------------------------------------------------------------------


def _aliased_message() -> Any:
    """protobuf's conformance AliasedEnum: ALIAS_BAZ = MOO = moo = bAz = 2."""
    file = descriptor_pb2.FileDescriptorProto(
        name="grpcgwtest/aliased.proto", package="grpcgwtest.aliased", syntax="proto3"
    )
    enum = file.enum_type.add(name="AliasedEnum")
    enum.options.allow_alias = True
    for name, number in [("ALIAS_FOO", 0), ("ALIAS_BAR", 1), ("ALIAS_BAZ", 2), ("MOO", 2)]:
        enum.value.add(name=name, number=number)
    enum.value.add(name="moo", number=2)
    enum.value.add(name="bAz", number=2)
    message = file.message_type.add(name="Aliased")
    for number, (name, label) in enumerate([("one", 1), ("many", 3)], 1):
        message.field.add(
            name=name,
            number=number,
            type=_FD.TYPE_ENUM,
            label=label,
            type_name=".grpcgwtest.aliased.AliasedEnum",
        )
    pool = descriptor_pool.DescriptorPool()
    return GetMessageClass(pool.Add(file).message_types_by_name["Aliased"])


def test_allow_alias_enum_is_written_with_its_first_name() -> None:
    cls = _aliased_message()
    message = cls(one=2, many=[2, 1, 2])
    for options in OPTIONS:
        assert _text(_encode(message, options)) == _text(_to_dict(message, options))
    assert _encode(message, OPTIONS[0])[1] == {
        "one": "ALIAS_BAZ",
        "many": ["ALIAS_BAZ", "ALIAS_BAR", "ALIAS_BAZ"],
    }
    for name in ("ALIAS_BAZ", "MOO", "moo", "bAz"):
        decoded = cls()
        protojson.decoder(cls.DESCRIPTOR).decode({"one": name, "many": [name]}, decoded)
        assert decoded == cls(one=2, many=[2])


# -- codecs per descriptor pool -----------------------------------------------------------


def _proxied_pool() -> tuple[Any, Any, Any]:
    """A pool of its own (as proxy mode loads by reflection): any.proto, and
    ``Envelope { Any item = 1; Payload payload = 2; }`` with ``Payload`` only there."""
    pool = descriptor_pool.DescriptorPool()
    pool.Add(descriptor_pb2.FileDescriptorProto.FromString(any_pb2.DESCRIPTOR.serialized_pb))
    file = descriptor_pb2.FileDescriptorProto(
        name="proxied/v1/envelope.proto",
        package="proxied.v1",
        syntax="proto3",
        dependency=["google/protobuf/any.proto"],
    )
    payload = file.message_type.add(name="Payload")
    payload.field.add(name="note", number=1, type=_FD.TYPE_STRING, label=1)
    payload.field.add(name="count", number=2, type=_FD.TYPE_INT64, label=1)
    envelope = file.message_type.add(name="Envelope")
    envelope.field.add(
        name="item", number=1, type=_FD.TYPE_MESSAGE, label=1, type_name=".google.protobuf.Any"
    )
    envelope.field.add(
        name="payload", number=2, type=_FD.TYPE_MESSAGE, label=1, type_name=".proxied.v1.Payload"
    )
    built = pool.Add(file)
    return (
        pool,
        GetMessageClass(built.message_types_by_name["Envelope"]),
        GetMessageClass(built.message_types_by_name["Payload"]),
    )


def test_codecs_of_a_pool_resolve_any_from_that_pool() -> None:
    pool, envelope_cls, payload_cls = _proxied_pool()
    message = envelope_cls(payload=payload_cls(note="p", count=7))
    message.item.Pack(payload_cls(note="inside", count=-5))
    with pytest.raises(TypeError):  # json_format alone looks in the default pool
        json_format.MessageToDict(message)
    codecs = protojson.codecs_for(pool)
    assert codecs.pool is pool
    assert protojson.codecs_for(pool) is codecs
    document = codecs.encoder(envelope_cls.DESCRIPTOR).encode(message)
    assert document == {
        "item": {
            "@type": "type.googleapis.com/proxied.v1.Payload",
            "note": "inside",
            "count": "-5",
        },
        "payload": {"note": "p", "count": "7"},
    }
    assert protojson.encoder(envelope_cls.DESCRIPTOR).encode(message) == document
    decoded = envelope_cls()
    codecs.decoder(envelope_cls.DESCRIPTOR).decode(copy.deepcopy(document), decoded)
    assert decoded == message
    # The checks look inside the Any with the pool's types too.
    bad = {"item": {"@type": "type.googleapis.com/proxied.v1.Payload", "count": 1.5}}
    with pytest.raises(protojson.ProtoJSONError, match=r'field "item.count" \(int64\)'):
        protojson.decoder(envelope_cls.DESCRIPTOR).decode(bad, envelope_cls())


def test_codecs_refuse_a_type_of_another_pool() -> None:
    pool, envelope_cls, _ = _proxied_pool()
    with pytest.raises(ValueError, match=r"proxied\.v1\.Envelope is not a message type"):
        protojson.DEFAULT.encoder(envelope_cls.DESCRIPTOR)
    with pytest.raises(ValueError, match=r"grpcgwtest\.transcode\.v1\.Kitchen"):
        protojson.Codecs(pool).decoder(types_pb2.Kitchen.DESCRIPTOR)
    assert protojson.encoder(types_pb2.Kitchen.DESCRIPTOR) is protojson.DEFAULT.encoder(
        types_pb2.Kitchen.DESCRIPTOR
    )


def test_a_discarded_pools_codecs_are_freed() -> None:
    import gc
    import weakref

    def use_and_drop() -> list[weakref.ref[Any]]:
        pool, envelope_cls, payload_cls = _proxied_pool()
        message = envelope_cls(payload=payload_cls(note="p"))
        message.item.Pack(payload_cls(count=1))
        codecs = protojson.codecs_for(pool)
        for options in OPTIONS:  # generated encoders, and json_format for the Any
            assert _encode(message, options)[0] == "ok"
        document = protojson.encoder(envelope_cls.DESCRIPTOR).encode(message)
        for ignore in (False, True):
            decoded = envelope_cls()
            protojson.decoder(envelope_cls.DESCRIPTOR, ignore_unknown_fields=ignore).decode(
                copy.deepcopy(document), decoded
            )
            assert decoded == message
            assert (
                _decode({"payload": {"count": 1.5}}, envelope_cls.DESCRIPTOR, ignore)[0] == "error"
            )
        # A message class lives exactly as long as its descriptor (and so its pool).
        return [weakref.ref(codecs), weakref.ref(envelope_cls), weakref.ref(payload_cls)]

    refs = use_and_drop()
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None]


# -- the repeated-integer setter against the element converter it inlines -----------------

_INT_SAMPLES: list[object] = [
    0, 1, -1, 7, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**32 - 1, 2**32, 2**63 - 1, 2**63,
    -(2**63), -(2**63) - 1, 2**64 - 1, 2**64, "0", "7", "00", "007", "-7", "+7", "", " 7",
    "7 ", "9223372036854775807", "9223372036854775808", "18446744073709551615",
    "18446744073709551616", "-9223372036854775808", "-9223372036854775809",
    "123456789012345678901", "٣", "²", "1e3", "1.0", 1.0, 1.5, -0.0, 3e9, True, False, None,
    [], {}, "4294967295", "4294967296", "2147483648", "-2147483648",
]  # fmt: skip


@pytest.mark.parametrize(
    "kind",
    [
        FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32, FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64, FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
    ],
)  # fmt: skip
def test_repeated_integer_setter_takes_what_the_element_converter_takes(kind: int) -> None:
    """Differential: element by element and for whole lists, the inlined setter sets
    what converting each element does, and gives up (Slow) exactly when that does."""
    from grpcgw.protojson._base import INT_RANGES, Slow
    from grpcgw.protojson._decode import _int_list_setter, _int_scalar

    convert = _int_scalar(*INT_RANGES[kind])
    set_ints = _int_list_setter("values", convert, *INT_RANGES[kind])

    class Target:
        def __init__(self) -> None:
            self.values: list[int] = []

    def reference(items: list[object]) -> object:
        try:
            return [convert(item) for item in items]
        except Slow:
            return Slow

    def inlined(items: object) -> object:
        target = Target()
        try:
            set_ints(target, items, 1)
        except Slow:
            return Slow
        return target.values

    for item in _INT_SAMPLES:
        assert inlined([item]) == reference([item]), item
    assert inlined(["101", 102, "103"]) == reference(["101", 102, "103"])
    assert inlined(["1", "007"]) is Slow
    assert inlined(("1",)) is Slow
