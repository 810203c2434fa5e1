"""Unit tests of grpcgw.transcode: query/path value conversion, body mapping, JSON out."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

_GEN = str(Path(__file__).resolve().parent / "gen")
if _GEN not in sys.path:
    sys.path.insert(0, _GEN)

from google.protobuf import json_format  # noqa: E402
from grpcgwtest.transcode.v1 import types_pb2  # noqa: E402
from grpcgwtest.transcode.v1.types_pb2 import Child, Kitchen  # noqa: E402

from grpcgw.options import GatewayOptions  # noqa: E402
from grpcgw.transcode import (  # noqa: E402
    BindingConfigError,
    RequestTranscoder,
    ResponseTranscoder,
    TranscodeError,
)

DEFAULT = GatewayOptions()
STRICT = GatewayOptions(strict=True)


def transcoder(
    path_fields: tuple[str, ...] = (), body: str = "", options: GatewayOptions = DEFAULT
) -> RequestTranscoder:
    return RequestTranscoder(Kitchen, path_fields=path_fields, body=body, options=options)


def as_dict(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)  # type: ignore[no-any-return]


def query(text: str, options: GatewayOptions = DEFAULT) -> Kitchen:
    message = transcoder(options=options).transcode({}, text, b"")
    assert isinstance(message, Kitchen)
    return message


def query_error(text: str, options: GatewayOptions = DEFAULT) -> str:
    with pytest.raises(TranscodeError) as info:
        query(text, options)
    return str(info.value)


def body(text: str | bytes, field: str = "*", options: GatewayOptions = DEFAULT) -> dict[str, Any]:
    data = text.encode() if isinstance(text, str) else text
    return as_dict(transcoder(body=field, options=options).transcode({}, "", data))


def body_error(text: str | bytes, field: str = "*", options: GatewayOptions = DEFAULT) -> str:
    with pytest.raises(TranscodeError) as info:
        body(text, field, options)
    return str(info.value)


# -- scalar values -----------------------------------------------------------------

I32 = (-(2**31), 2**31 - 1)
I64 = (-(2**63), 2**63 - 1)
U32 = (0, 2**32 - 1)
U64 = (0, 2**64 - 1)
INT_FIELDS = [
    ("int32_value", I32),
    ("sint32_value", I32),
    ("sfixed32_value", I32),
    ("int64_value", I64),
    ("sint64_value", I64),
    ("sfixed64_value", I64),
    ("uint32_value", U32),
    ("fixed32_value", U32),
    ("uint64_value", U64),
    ("fixed64_value", U64),
]


@pytest.mark.parametrize(("name", "bounds"), INT_FIELDS)
def test_integer_bounds(name: str, bounds: tuple[int, int]) -> None:
    low, high = bounds
    for value in (low, high, 0, 7):
        assert getattr(query(f"{name}={value}"), name) == value
    for value in (low - 1, high + 1):
        assert "out of range" in query_error(f"{name}={value}")


@pytest.mark.parametrize(
    "text", ["", "abc", "1.5", "1e3", " 1", "1 ", "1_000", "0x10", "--1", "\u0661", "1%2C0"]
)
def test_integer_rejects(text: str) -> None:
    message = query_error(f"int32_value={text}")
    assert 'for query parameter "int32_value" (int32)' in message


def test_integer_sign_and_huge_digit_strings() -> None:
    assert query("int32_value=%2B5").int32_value == 5
    assert query("int64_value=-0").int64_value == 0
    assert "out of range" in query_error("int64_value=" + "9" * 5000)


def test_error_message_names_parameter_value_and_type() -> None:
    assert query_error("uint32Value=abc") == (
        'invalid value "abc" for query parameter "uint32Value" (uint32): not an integer'
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5", 1.5),
        ("-2e3", -2000.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1E-2", 0.01),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        ("inf", math.inf),
        ("1e308", 1e308),
    ],
)
def test_double(text: str, expected: float) -> None:
    assert query(f"double_value={text}").double_value == expected


def test_nan() -> None:
    assert math.isnan(query("double_value=NaN").double_value)
    assert math.isnan(query("float_value=nan").float_value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("abc", "not a number"), ("", "not a number"), ("1,5", "not a number"),
     ("0x1p3", "not a number"), ("1e400", "out of range"), ("1_0", "not a number")],
)  # fmt: skip
def test_double_rejects(text: str, reason: str) -> None:
    assert reason in query_error(f"double_value={text}")


def test_float_range() -> None:
    assert query("float_value=3.4e38").float_value == pytest.approx(3.4e38, rel=1e-6)
    assert query("float_value=-Infinity").float_value == -math.inf
    assert "out of range" in query_error("float_value=3.5e38")
    assert "(float)" in query_error("float_value=x")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("false", False), ("1", True), ("0", False), ("t", True), ("F", False),
     ("TRUE", True), ("False", False)],
)  # fmt: skip
def test_bool(text: str, expected: bool) -> None:
    message = query(f"bool_value={text}&bool_wrapper={text}")
    assert message.bool_value is expected
    assert message.bool_wrapper.value is expected
    assert message.HasField("bool_wrapper")


@pytest.mark.parametrize("text", ["yes", "", "tRuE", "2", "on"])
def test_bool_rejects(text: str) -> None:
    assert '(bool): expected "true" or "false"' in query_error(f"bool_value={text}")


def test_string_values_are_decoded_utf8() -> None:
    message = query("string_value=caf%C3%A9%20%26%3D%2B&repeated_string=&repeated_string=x")
    assert message.string_value == "café &=+"
    assert list(message.repeated_string) == ["", "x"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ynl0ZXM%3D", b"bytes"),  # standard, padded
        ("Ynl0ZXM", b"bytes"),  # standard, unpadded
        ("-_8%3D", b"\xfb\xff"),  # URL-safe, padded
        ("-_8", b"\xfb\xff"),  # URL-safe, unpadded
        ("%2B%2F8%3D", b"\xfb\xff"),  # standard alphabet
        ("", b""),
    ],
)
def test_bytes(text: str, expected: bytes) -> None:
    message = query(f"bytes_value={text}&bytes_wrapper={text}&repeated_bytes={text}")
    assert message.bytes_value == expected
    assert message.bytes_wrapper.value == expected
    assert list(message.repeated_bytes) == [expected]


@pytest.mark.parametrize("text", ["Y", "!!!!", "Ynl0ZXM===", "Yn l0"])
def test_bytes_rejects(text: str) -> None:
    assert "(bytes): not base64" in query_error(f"bytes_value={text}")


def test_raw_plus_in_base64_is_a_space_by_default() -> None:
    # '+' must be sent as %2B (or use URL-safe base64): a raw '+' is a space.
    assert "not base64" in query_error("bytes_value=%2B%2F8%3D".replace("%2B", "+"))
    plus_literal = GatewayOptions(query_plus_as_space=False)
    assert query("bytes_value=+/8=", plus_literal).bytes_value == b"\xfb\xff"


# -- enums ---------------------------------------------------------------------------


def test_enum_by_name_and_number() -> None:
    message = query("color=GREEN&repeated_color=RED&repeated_color=2&repeated_color=0")
    assert message.color == types_pb2.GREEN
    assert list(message.repeated_color) == [types_pb2.RED, types_pb2.GREEN, 0]


@pytest.mark.parametrize("text", ["green", "PURPLE", "9", "-1", "", "RED%20", "1.0"])
def test_enum_rejects(text: str) -> None:
    message = query_error(f"color={text}")
    assert "(grpcgwtest.transcode.v1.Color): not a value of enum Color" in message


# -- well-known types --------------------------------------------------------------------


def test_timestamp() -> None:
    message = query("timestamp=2017-01-15T01:30:15.01Z")
    assert as_dict(message) == {"timestamp": "2017-01-15T01:30:15.010Z"}
    offset = query("timestamp=2017-01-15T02:30:15%2B01:00")
    assert offset.timestamp == message.timestamp.__class__(seconds=1484443815)


@pytest.mark.parametrize("text", ["null", "2017-01-15", "0000-01-01T00:00:00Z", "yesterday", ""])
def test_timestamp_rejects(text: str) -> None:
    assert "expected an RFC 3339 timestamp" in query_error(f"timestamp={text}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5s", "1.500s"),
        ("-0.5s", "-0.500s"),
        ("46800s", "46800s"),
        ("13h0m0s", "46800s"),  # Go syntax (grpc-gateway)
        ("1.5ms", "0.001500s"),
        ("1h30m", "5400s"),
        ("-2m", "-120s"),
        ("0", "0s"),
        ("300us", "0.000300s"),
    ],
)
def test_duration(text: str, expected: str) -> None:
    assert as_dict(query(f"duration={text}")) == {"duration": expected}


@pytest.mark.parametrize(
    "text", ["null", "1d", "s", "1.5", "", "1h 2m", f"{10**13}h", "9" * 5000 + "s", "1..5s"]
)
def test_duration_rejects(text: str) -> None:
    assert 'expected a duration like "1.5s"' in query_error(f"duration={text}")


def test_field_mask_takes_proto_or_json_paths() -> None:
    message = query("field_mask=a,fooBar.bazQux,x_y")
    assert list(message.field_mask.paths) == ["a", "foo_bar.baz_qux", "x_y"]
    empty = query("field_mask=")
    assert empty.HasField("field_mask")
    assert list(empty.field_mask.paths) == []


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("double_wrapper", "1.5", 1.5),
        ("float_wrapper", "-2.5", -2.5),
        ("int64_wrapper", "-9223372036854775808", -(2**63)),
        ("uint64_wrapper", "18446744073709551615", 2**64 - 1),
        ("int32_wrapper", "0", 0),
        ("uint32_wrapper", "4294967295", 2**32 - 1),
        ("string_wrapper", "", ""),
        ("bool_wrapper", "false", False),
    ],
)
def test_wrappers(key: str, text: str, expected: Any) -> None:
    message = query(f"{key}={text}")
    assert message.HasField(key)
    assert getattr(message, key).value == expected


def test_wrapper_errors_name_the_wrapper_type() -> None:
    message = query_error("uint32_wrapper=-1")
    assert '"uint32_wrapper" (google.protobuf.UInt32Value): out of range' in message


def test_struct_value_list_value_from_json_text() -> None:
    text = "struct=%7B%22a%22%3A1%7D&value=%22s%22&list_value=%5B1%2Ctrue%5D"
    assert as_dict(query(text)) == {"struct": {"a": 1.0}, "value": "s", "list_value": [1.0, True]}
    assert query("value=null").value.WhichOneof("kind") == "null_value"
    assert as_dict(query("struct=%7B%7D")) == {"struct": {}}


@pytest.mark.parametrize(
    "text",
    ["value=hello", "struct=%5B%5D", "list_value=1", "struct=%7B%22a%22%3A1%2C%22a%22%3A2%7D"],
)
def test_struct_value_rejects(text: str) -> None:
    assert "expected JSON text" in query_error(text)


@pytest.mark.parametrize("key", ["any", "empty", "child", "kitchen", "choice_child"])
def test_message_field_without_text_form_is_an_error(key: str) -> None:
    message = query_error(f"{key}=x")
    assert "is a message" in message
    assert key in message


# -- keys ----------------------------------------------------------------------------------


def test_json_names_and_proto_names() -> None:
    message = query("int32Value=1&string_value=a&customName=c&repeatedString=r")
    assert (message.int32_value, message.string_value, message.renamed) == (1, "a", "c")
    assert query("renamed=d").renamed == "d"
    assert list(message.repeated_string) == ["r"]


def test_dotted_paths() -> None:
    message = query(
        "child.name=a&child.grand.count=2&child.grand.tags=x&child.grand.tags=y"
        "&kitchen.child.grand.color=RED&kitchen.kitchen.int64Value=5"
    )
    assert as_dict(message) == {
        "child": {"name": "a", "grand": {"count": 2, "tags": ["x", "y"]}},
        "kitchen": {"child": {"grand": {"color": "RED"}}, "kitchen": {"int64_value": "5"}},
    }


@pytest.mark.parametrize(
    ("text", "culprit"),
    [
        ("int32_value.x=1", "int32_value"),
        ("color.x=1", "color"),
        ("children.name=a", "children"),  # repeated message
        ("repeated_int32.x=1", "repeated_int32"),
        ("timestamp.seconds=1", "timestamp"),  # a WKT is set by its string form
        ("string_map.x=1", "string_map"),
        ("child.name.x=1", "child.name"),
    ],
)
def test_dotted_path_through_non_message(text: str, culprit: str) -> None:
    assert f'"{culprit}" is not a message field' in query_error(text)


def test_repeated_fields_append_in_order() -> None:
    message = query(
        "repeated_int32=3&repeated_int32=1&repeatedInt32=2"
        "&repeated_timestamp=1970-01-01T00:00:01Z&repeated_timestamp=1970-01-01T00:00:02Z"
        "&repeated_int64_wrapper=7&repeated_int64_wrapper=-7"
    )
    assert list(message.repeated_int32) == [3, 1, 2]
    assert [t.seconds for t in message.repeated_timestamp] == [1, 2]
    assert [w.value for w in message.repeated_int64_wrapper] == [7, -7]


@pytest.mark.parametrize(
    "text",
    [
        "int32_value=1&int32_value=1",
        "int32_value=1&int32Value=2",
        "optional_string=a&optional_string=b",
        "child.name=a&child.name=b",
        "timestamp=1970-01-01T00:00:01Z&timestamp=1970-01-01T00:00:01Z",
        "string_map[k]=a&string_map[k]=b",
    ],
)
def test_singular_field_twice_is_an_error(text: str) -> None:
    assert "given more than once" in query_error(text)


def test_optional_presence() -> None:
    message = query("optional_int32=0&optional_string=")
    assert message.HasField("optional_int32")
    assert message.HasField("optional_string")


def test_oneof() -> None:
    assert query("choice_child.name=a&choice_child.count=1").choice_child.count == 1
    assert query("choice_number=0").WhichOneof("choice") == "choice_number"
    for text in (
        "choice_text=a&choice_number=1",
        "choice_child.name=a&choice_text=b",
        "choice_text=b&choice_child.name=a",
    ):
        assert 'of oneof "choice" is already set' in query_error(text)


def test_unknown_keys() -> None:
    assert as_dict(query("nope=1&child.nope=2&int32_value=3&nope.deeper=4")) == {"int32_value": 3}
    assert query_error("nope=1", STRICT) == 'unknown query parameter "nope"'
    assert query_error("child.nope=1", STRICT) == 'unknown query parameter "child.nope"'
    assert query("int32_value=3", STRICT).int32_value == 3


# -- query syntax -------------------------------------------------------------------------


def test_empty_pairs_and_missing_equals() -> None:
    message = query("&&string_value&repeated_int32=1&&")
    assert message.string_value == ""
    assert list(message.repeated_int32) == [1]
    assert query("").ByteSize() == 0


def test_plus_is_space_by_default_and_literal_by_option() -> None:
    assert query("string_value=a+b%2Bc").string_value == "a b+c"
    literal = GatewayOptions(query_plus_as_space=False)
    assert query("string_value=a+b%2Bc", literal).string_value == "a+b+c"
    assert query("string+value=x", literal).string_value == ""  # key "string+value" unknown


def test_keys_are_percent_decoded() -> None:
    message = query("string%5Fvalue=x&string_map%5Bk%5D=v&child%2Ename=n")
    assert (message.string_value, dict(message.string_map), message.child.name) == (
        "x",
        {"k": "v"},
        "n",
    )


@pytest.mark.parametrize("text", ["a=%", "a=%4", "a=%zz", "%g1=1", "string_value=100%"])
def test_malformed_escapes(text: str) -> None:
    assert "malformed percent-escape" in query_error(text)


def test_invalid_utf8_after_decoding() -> None:
    assert "not UTF-8" in query_error("string_value=%FF")


@pytest.mark.parametrize(
    "text", ["string_value=\ud800", "string_value=%41\ud800", "repeated_string=\udfff"]
)
def test_a_lone_surrogate_is_a_transcode_error(text: str) -> None:
    # Lambda events can carry one (JSON "\ud800"); protobuf cannot store it.
    assert "not valid Unicode" in query_error(text)


@pytest.mark.parametrize(
    "text",
    [
        "timestamp=\u06622024-01-01T00:00:00Z",
        "timestamp=2024-01-01T00:00:00.\u0661Z",
        "timestamp=2024-01-01T00:00:00%2B0\u0661:00",
        "duration=1.\u0661s",
        "duration=\u0661s",
        "value=1e400",
        "value=%5B1e400%5D",
        "struct=%7B%22a%22%3A1e400%7D",
        "list_value=%5BNaN%5D",
        "value=\u0661",
    ],
)
def test_query_wkt_text_is_read_as_strictly_as_a_body(text: str) -> None:
    # As Go's protojson reads the same text in a JSON body: ASCII digits, finite numbers.
    query_error(text)


# -- maps -------------------------------------------------------------------------------------


def test_map_fields() -> None:
    message = query(
        "string_map[a]=1&string_map[b%5Bc%5D]=2&stringMap[]=3"
        "&color_by_id[5]=RED&color_by_id[-1]=2"
        "&timestamp_by_flag[true]=1970-01-01T00:00:01Z"
    )
    assert dict(message.string_map) == {"a": "1", "b[c]": "2", "": "3"}
    assert dict(message.color_by_id) == {5: types_pb2.RED, -1: types_pb2.GREEN}
    assert message.timestamp_by_flag[True].seconds == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("color_by_id[x]=RED", 'for the key of query parameter "color_by_id[x]"'),
        ("color_by_id[1]=PURPLE", "not a value of enum Color"),
        ("string_map=v", 'a map field takes "string_map[<key>]=<value>"'),
        ("children_by_name[a]=x", "is a message"),
        ("child[x]=1", '"child" is not a map field'),
        ("int32_value[0]=1", '"int32_value" is not a map field'),
    ],
)
def test_map_errors(text: str, expected: str) -> None:
    assert expected in query_error(text)


# -- path bindings ----------------------------------------------------------------------------


def test_path_bindings_are_converted() -> None:
    t = transcoder(("int64_value", "child.grand.name", "color", "timestamp", "uint32_wrapper"))
    message = t.transcode(
        {
            "int64_value": "-5",
            "child.grand.name": "a/b",
            "color": "GREEN",
            "timestamp": "1970-01-01T00:00:01Z",
            "uint32_wrapper": "7",
        },
        "",
        b"",
    )
    assert as_dict(message) == {
        "int64_value": "-5",
        "child": {"grand": {"name": "a/b"}},
        "color": "GREEN",
        "timestamp": "1970-01-01T00:00:01Z",
        "uint32_wrapper": 7,
    }


def test_path_binding_error_names_the_path_parameter() -> None:
    with pytest.raises(TranscodeError) as info:
        transcoder(("int64Value",)).transcode({"int64Value": "x"}, "", b"")
    assert str(info.value) == (
        'invalid value "x" for path parameter "int64Value" (int64): not an integer'
    )


def test_path_binding_for_unknown_field_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a path field") as info:
        transcoder(("int32_value",)).transcode({"string_value": "x"}, "", b"")
    assert not isinstance(info.value, TranscodeError)


def test_query_keys_under_path_fields_are_ignored() -> None:
    t = transcoder(("child.name", "int32_value"), options=STRICT)
    message = t.transcode(
        {"child.name": "path", "int32_value": "1"},
        "child.name=q&child.count=2&int32Value=9&child.name.x=1",
        b"",
    )
    assert as_dict(message) == {"child": {"name": "path", "count": 2}, "int32_value": 1}


def test_path_wins_over_body() -> None:
    t = transcoder(("child.name", "string_value"), body="*")
    message = t.transcode(
        {"child.name": "path", "string_value": "path"},
        "",
        b'{"child": {"name": "body", "count": 3}, "stringValue": "body"}',
    )
    assert as_dict(message) == {"child": {"name": "path", "count": 3}, "string_value": "path"}


def test_path_field_below_named_body_field() -> None:
    # The AIP update pattern: PATCH /v1/{child.name=...} body: "child".
    t = transcoder(("child.name",), body="child")
    message = t.transcode({"child.name": "n"}, "child.count=5", b'{"name": "x", "count": 1}')
    assert as_dict(message) == {"child": {"name": "n", "count": 1}}


def test_path_binding_into_oneof_member() -> None:
    t = transcoder(("choice_child.name",))
    message = t.transcode({"choice_child.name": "n"}, "choice_child.count=2", b"")
    assert as_dict(message) == {"choice_child": {"name": "n", "count": 2}}
    # The query cannot pick another member of a oneof the path has set.
    with pytest.raises(TranscodeError, match='"choice_child" of oneof "choice" is already set'):
        t.transcode({"choice_child.name": "n"}, "choice_text=x", b"")
    with pytest.raises(TranscodeError, match='"choice_number" of oneof "choice" is already set'):
        transcoder(("choice_number",)).transcode({"choice_number": "1"}, "choice_text=x", b"")


# -- body -----------------------------------------------------------------------------------------


def test_body_star_maps_the_whole_message_and_ignores_the_query() -> None:
    t = transcoder(body="*", options=STRICT)
    message = t.transcode({}, "int32_value=9&nope=1&bad=%zz", b'{"int32Value": 1, "child": {}}')
    assert as_dict(message) == {"int32_value": 1, "child": {}}


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("child", '{"name": "a", "grand": {"count": 1}}', {"name": "a", "grand": {"count": 1}}),
        ("repeated_int32", "[1, 2, 3]", [1, 2, 3]),
        ("repeated_color", '["RED", 2]', ["RED", "GREEN"]),
        ("string_value", '"text"', "text"),
        ("int64_value", '"12"', "12"),
        ("int64_value", "12", "12"),
        ("color", '"GREEN"', "GREEN"),
        ("string_map", '{"a": "b"}', {"a": "b"}),
        ("children_by_name", '{"a": {"count": 1}}', {"a": {"count": 1}}),
        ("timestamp", '"1970-01-01T00:00:01Z"', "1970-01-01T00:00:01Z"),
        ("struct", '{"a": [1, null]}', {"a": [1.0, None]}),
        ("value", "3", 3.0),
        ("int32_wrapper", "5", 5),
        ("field_mask", '"a,bC"', "a,bC"),
        ("children", '[{"name": "a"}, {}]', [{"name": "a"}, {}]),
    ],
)
def test_body_field_kinds(field: str, text: str, expected: Any) -> None:
    assert body(text, field) == {field: expected}


def test_body_field_by_json_name() -> None:
    assert body('"x"', "customName") == {"renamed": "x"}


def test_body_null_for_a_named_field_leaves_it_unset() -> None:
    assert body("null", "child") == {}


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("*", "[]", "the request body (grpcgwtest.transcode.v1.Kitchen) must be an object"),
        ("*", '"x"', "must be an object, not a string"),
        ("*", "null", "must be an object, not null"),
        ("*", "1", "must be an object, not a scalar"),
        ("*", '{"child": "x"}', 'field "child" (grpcgwtest.transcode.v1.Child) must be an object'),
        ("*", '{"children": ["x"]}', 'field "children[0]"'),
        ("*", '{"childrenByName": {"a": 1}}', 'field "childrenByName[a]"'),
        ("*", '{"kitchen": {"child": []}}', 'field "kitchen.child"'),
        # body: "<field>": paths within the value sent, the body itself as "the request body"
        ("child", '"x"', "the request body (grpcgwtest.transcode.v1.Child) must be an object"),
        ("child", "[]", "not an array"),
        ("child", '{"grand": {"count": "x"}}', 'for field "grand.count" (int32)'),
        ("children", '[{"count": "x"}]', 'for field "[0].count" (int32)'),
        ("repeated_int32", "1", "1 for the request body (repeated): must be an array"),
        ("repeated_int32", '["a"]', '"a" for field "[0]" (int32): not an integer'),
        ("string_map", "[]", "for the request body (map): must be an object"),
        ("string_map", '{"k": 1}', 'for field "[k]" (string): expected a string'),
        ("string_value", "1", "1 for the request body (string): expected a string"),
        ("int32_value", "1.5", "for the request body (int32): not an integer"),
        ("bool_value", '"true"', "for the request body (bool): expected true or false"),
        ("timestamp", "1", "timestamp"),
        ("*", '{"doubleValue": NaN}', "NaN"),
    ],
)
def test_body_wrong_types(field: str, text: str, expected: str) -> None:
    message = body_error(text, field)
    assert message.startswith("invalid JSON body: ")
    assert expected in message


@pytest.mark.parametrize("options", [DEFAULT, STRICT])
def test_body_unknown_enum_names_are_errors_in_both_modes(options: GatewayOptions) -> None:
    for text in (
        '{"color": "red"}',
        '{"repeatedColor": ["RED", "BLUE"]}',
        '{"child": {"color": "X"}}',
    ):
        assert "(grpcgwtest.transcode.v1.Color)" in body_error(text, "*", options)
    assert body('{"color": 1}', "*", options) == {"color": "RED"}
    assert body('{"color": 2.0}', "*", options) == {"color": "GREEN"}
    # A number in a string is not a name (Go's protojson rejects it too).
    assert "(grpcgwtest.transcode.v1.Color)" in body_error('{"color": "2"}', "*", options)


def test_body_unknown_fields() -> None:
    text = '{"int32Value": 1, "nope": {"a": [1]}, "child": {"nope": 1}}'
    assert body(text) == {"int32_value": 1, "child": {}}
    assert body_error(text, options=STRICT) == 'invalid JSON body: unknown field "nope"'


_ANY = "type.googleapis.com/"


@pytest.mark.parametrize(
    ("text", "field", "modes", "expected"),
    [
        # Unknown fields when refused: the path in the JSON sent, Go's words.
        ('{"child": {"nope": 1}}', "*", [STRICT], 'unknown field "child.nope"'),
        ('{"childrenByName": {"a": {"nope": 1}}}', "*", [STRICT],
         'unknown field "childrenByName[a].nope"'),
        ('{"empty": {"x": 1}}', "*", [STRICT], 'unknown field "empty.x"'),
        ('{"name": "n", "nope": 1}', "child", [STRICT], 'unknown field "nope"'),
        ('[{"nope": 1}]', "children", [STRICT], 'unknown field "[0].nope"'),
        ('{"any": {"@type": "' + _ANY + 'grpcgwtest.transcode.v1.Child", "nope": 1}}', "*",
         [STRICT], 'unknown field "any.nope"'),
        # A key naming no extension is an unknown field (ignored when lenient, as Go's
        # DiscardUnknown ignores it, whether or not the message has extension ranges);
        # one naming an extension of another message is refused in both modes, as Go.
        ('{"child": {"[a.b]": 1}}', "*", [STRICT], 'unknown field "child.[a.b]"'),
        ('{"child": {"[google.api.http]": {}}}', "*", [DEFAULT, STRICT],
         'field "child.[google.api.http]" names an extension of google.protobuf.MethodOptions, '
         "not of grpcgwtest.transcode.v1.Child"),
        # A oneof set twice; a field given under both its names where json_format
        # refuses it (a oneof member, a proto3 optional field).
        ('{"choiceText": "a", "choiceNumber": 1}', "*", [DEFAULT, STRICT],
         'fields "choiceText" and "choiceNumber" both set oneof "choice"'),
        ('{"choiceChild": {}, "choiceText": "a"}', "kitchen", [DEFAULT, STRICT],
         'fields "choiceChild" and "choiceText" both set oneof "choice"'),
        ('{"choiceText": "a", "choice_text": "b"}', "*", [DEFAULT, STRICT],
         'field "choiceText" is given twice (as "choiceText" and "choice_text")'),
        ('{"kitchen": {"optional_string": "a", "optionalString": "b"}}', "*", [DEFAULT, STRICT],
         'field "kitchen.optional_string" is given twice '
         '(as "optional_string" and "optionalString")'),
        # An Any needs a type the gateway knows, and a value for a well-known type.
        ('{"any": {"name": "x"}}', "*", [DEFAULT, STRICT],
         'invalid value {"name": "x"} for field "any" (google.protobuf.Any): no "@type"'),
        ('{"@type": 7}', "any", [DEFAULT, STRICT],
         'invalid value 7 for field "@type" (google.protobuf.Any): not a type URL'),
        ('{"any": {"@type": "' + _ANY + 'no.Such"}}', "*", [DEFAULT, STRICT],
         'invalid value "type.googleapis.com/no.Such" for field "any.@type" '
         "(google.protobuf.Any): no such message type"),
        ('{"any": {"@type": "' + _ANY + 'google.protobuf.Duration"}}', "*", [DEFAULT, STRICT],
         'invalid value {"@type": "type.googleapis.com/google.protobuf.Duration"} for field '
         '"any" (google.protobuf.Any): no "value" for google.protobuf.Duration'),
        # Ranges json_format checks (Go's are the same).
        ('"315576000001s"', "duration", [DEFAULT, STRICT],
         'invalid value "315576000001s" for the request body (google.protobuf.Duration): '
         "out of range (±315576000000s)"),
        ('{"timestamp": "9999-12-31T23:59:59-00:01"}', "*", [DEFAULT, STRICT],
         'invalid value "9999-12-31T23:59:59-00:01" for field "timestamp" '
         "(google.protobuf.Timestamp): out of range (years 0001 to 9999 in UTC)"),
        # A lone surrogate (a "\ud800" escape) is not text, wherever it is.
        ('{"stringMap": {"\\ud800": "v"}}', "*", [DEFAULT, STRICT],
         'invalid value "\ud800" for field "stringMap[\ud800]" (string map key): '
         "not valid Unicode (a lone surrogate)"),
        ('{"\\udfff": 1}', "struct", [DEFAULT, STRICT],
         'invalid value "\udfff" for field "\udfff" (google.protobuf.Struct key): '
         "not valid Unicode (a lone surrogate)"),
    ],
)  # fmt: skip
def test_body_errors_json_format_would_word_read_as_grpcgws(
    text: str, field: str, modes: list[GatewayOptions], expected: str
) -> None:
    """What json_format refuses is refused first, in grpcgw's words: one sentence
    naming the path in the JSON sent (inside the body field's value for
    ``body: "<field>"``), not json_format's (``Failed to parse child field:
    Message type "grpcgwtest.transcode.v1.Child" has no field named "nope" at
    "Kitchen.child".\\n Available Fields(except extensions): "['name', ...]".``)."""
    for options in modes:
        assert body_error(text, field, options) == f"invalid JSON body: {expected}"


@pytest.mark.parametrize(
    ("text", "field", "same_as"),
    [
        ('{"int32Value": 7, "[foo.bar.baz]": 1}', "*", '{"int32Value": 7}'),
        ('{"child": {"name": "c", "[foo.bar.baz]": {"x": [1]}}}', "*", '{"child": {"name": "c"}}'),
        (
            '{"children": [{"[a]": 1, "name": "a"}], "[]": null}',
            "*",
            '{"children": [{"name": "a"}]}',
        ),
        ('{"name": "c", "[foo.bar.baz]": 1}', "child", '{"name": "c"}'),
    ],
)
def test_lenient_mode_ignores_a_key_naming_no_extension(
    text: str, field: str, same_as: str
) -> None:
    """``"[foo.bar.baz]"`` names no extension in the pool: an unknown field, which
    lenient mode ignores (Go's protojson with DiscardUnknown skips it; json_format
    would refuse it on a message without extension ranges). Strict mode names it."""
    assert body(text, field) == body(same_as, field)
    assert body(text, field) != {}
    assert body_error(text, field, STRICT).startswith("invalid JSON body: unknown field ")


def test_json_format_messages_the_checks_did_not_foresee_are_tidied() -> None:
    from grpcgw.protojson._decode import _tidy

    assert (
        _tidy(
            'Failed to parse book field: Message type "library.v1.Book" should not have multiple '
            '"location" oneof fields at "CreateBookRequest.book"..'
        )
        == 'Message type "library.v1.Book" should not have multiple "location" oneof fields'
    )
    assert (
        _tidy(
            "Failed to parse a field: Failed to parse b field: Unpaired surrogate at Kitchen.a.b."
        )
        == "Unpaired surrogate"
    )
    assert _tidy('Message type "x.Y" has no field named "z" at "Y".\n Available ...') == (
        'Message type "x.Y" has no field named "z"'
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", None),
        (b"{", "invalid JSON body: Expecting"),
        (b'{"a": 1, "a": 2}', 'invalid JSON body: duplicate key "a"'),
        (b'{"child": {"name": "a", "name": "b"}}', 'duplicate key "name"'),
        ('{"stringValue": "é"}'.encode("latin-1"), "invalid JSON body: not UTF-8"),
        (b'{"int32Value": 1} x', "Extra data"),
        (b"[" * 100_000, "invalid JSON body: nested too deeply"),
        (b'{"int32Value": ' + b"1" * 5000 + b"}", "a number has too many digits"),
        (b'{"kitchen":' * 150 + b"{}" + b"}" * 150, "nested too deeply"),
    ],
)
def test_body_malformed(data: bytes, expected: str | None) -> None:
    if expected is None:
        assert body(data) == {}
    else:
        assert expected in body_error(data)


def test_a_form_that_is_not_json_says_the_body_must_be() -> None:
    """A form post (an HTML <form>, ``curl -d a=b``) reaching a JSON body: the JSON
    error alone ("Expecting value") does not say what to change; the content type
    does. JSON sent with a form content type (what ``curl -d '{...}'`` does) is read."""
    t = transcoder(body="*")
    with pytest.raises(TranscodeError) as info:
        t.transcode({}, "", b"string_value=a", "application/x-www-form-urlencoded")
    assert str(info.value) == (
        "invalid JSON body: Expecting value: line 1 column 1 (char 0) (the body was sent as "
        "application/x-www-form-urlencoded; this method reads a JSON body)"
    )
    with pytest.raises(TranscodeError, match=r"sent as multipart/form-data;"):
        t.transcode({}, "", b"--x\r\n", "multipart/form-data; boundary=x")
    with pytest.raises(TranscodeError) as plain:
        t.transcode({}, "", b"string_value=a", "application/json")
    assert "sent as" not in str(plain.value)
    form_json = t.transcode({}, "", b'{"stringValue": "a"}', "application/x-www-form-urlencoded")
    assert as_dict(form_json) == {"string_value": "a"}


def test_body_is_ignored_without_a_body_rule() -> None:
    assert as_dict(transcoder().transcode({}, "", b"not json")) == {}


def test_query_keys_under_the_body_field_are_ignored() -> None:
    t = transcoder(body="child", options=STRICT)
    message = t.transcode({}, "child.name=q&child=1&int32_value=2", b'{"count": 1}')
    assert as_dict(message) == {"child": {"count": 1}, "int32_value": 2}


def test_body_and_query_fill_different_fields() -> None:
    t = transcoder(body="repeated_int32")
    message = t.transcode({}, "repeated_int32=9&repeated_string=a", b"[1]")
    assert as_dict(message) == {"repeated_int32": [1], "repeated_string": ["a"]}


def test_body_utf8_text() -> None:
    assert body('{"stringValue": "caf\u00e9 \u2603"}') == {"string_value": "café ☃"}


# -- build-time validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path_fields", "expected"),
    [
        (("nope",), "path field 'nope': grpcgwtest.transcode.v1.Kitchen has no field 'nope'"),
        (("child.nope",), "grpcgwtest.transcode.v1.Child has no field 'nope'"),
        (("int32_value.x",), "'int32_value' is not a singular message field"),
        (("children.name",), "'children' is not a singular message field"),
        (("timestamp.seconds",), "'timestamp' is not a singular message field"),
        (("repeated_int32",), "not repeated int32"),
        (("string_map",), "not repeated map<string, string>"),
        (("child",), "not grpcgwtest.transcode.v1.Child"),
        (("struct",), "not google.protobuf.Struct"),
        (("value",), "not google.protobuf.Value"),
        (("any",), "not google.protobuf.Any"),
        (("empty",), "not google.protobuf.Empty"),
        (("int32_value", "int32Value"), "path field 'int32Value' is bound twice"),
        ((("",)), "has no field ''"),
    ],
)
def test_bad_path_fields(path_fields: tuple[str, ...], expected: str) -> None:
    with pytest.raises(BindingConfigError) as info:
        transcoder(path_fields)
    assert expected in str(info.value)


def test_path_fields_may_use_json_names_and_wkt_leaves() -> None:
    fields = (
        "child.grand.name",
        "customName",
        "int64Wrapper",
        "duration",
        "fieldMask",
        "bytesValue",
    )
    t = transcoder(fields)
    message = t.transcode(
        dict(zip(fields, ["a", "b", "3", "1s", "a,b", "eA"], strict=True)), "", b""
    )
    assert as_dict(message) == {
        "child": {"grand": {"name": "a"}},
        "renamed": "b",
        "int64_wrapper": "3",
        "duration": "1s",
        "field_mask": "a,b",
        "bytes_value": "eA==",
    }


@pytest.mark.parametrize(
    ("path_fields", "body_field", "expected"),
    [
        ((), "nope", "body 'nope': grpcgwtest.transcode.v1.Kitchen has no such field"),
        (
            (),
            "child.name",
            "body 'child.name' must name a top-level field of grpcgwtest.transcode.v1.Kitchen",
        ),
        (("string_value",), "string_value", "body field 'string_value' is also bound by the path"),
    ],
)
def test_bad_body(path_fields: tuple[str, ...], body_field: str, expected: str) -> None:
    with pytest.raises(BindingConfigError) as info:
        transcoder(path_fields, body_field)
    assert str(info.value) == expected


@pytest.mark.parametrize(
    ("response_body", "expected"),
    [
        ("nope", "response_body 'nope': grpcgwtest.transcode.v1.Kitchen has no such field"),
        (
            "child.name",
            "response_body 'child.name' must name a top-level field of "
            "grpcgwtest.transcode.v1.Kitchen",
        ),
    ],
)
def test_bad_response_body(response_body: str, expected: str) -> None:
    with pytest.raises(BindingConfigError) as info:
        ResponseTranscoder(Kitchen, response_body=response_body, options=DEFAULT)
    assert str(info.value) == expected


# -- response ------------------------------------------------------------------------------------


def render(message: Any, response_body: str = "", options: GatewayOptions = DEFAULT) -> bytes:
    return ResponseTranscoder(
        type(message), response_body=response_body, options=options
    ).transcode(message)


def test_response_defaults() -> None:
    out = render(Kitchen(int64_value=5, color=types_pb2.RED, string_value="é", renamed="r"))
    assert b" " not in out.replace("é".encode(), b"")  # compact
    assert "é".encode() in out  # not escaped
    data = json.loads(out)
    assert data["int64Value"] == "5"
    assert data["color"] == "RED"
    assert data["customName"] == "r"
    assert data["int32Value"] == 0  # unpopulated fields are emitted
    assert data["repeatedInt32"] == []
    assert data["stringMap"] == {}
    assert "child" not in data  # unset message fields are not
    assert "optionalString" not in data


def test_response_options() -> None:
    message = Kitchen(color=types_pb2.GREEN, renamed="r")
    options = GatewayOptions(use_proto_names=True, enums_as_ints=True, emit_unpopulated=False)
    assert json.loads(render(message, options=options)) == {"color": 2, "renamed": "r"}
    assert render(Kitchen(), options=options) == b"{}"
    indented = render(Child(name="a"), options=GatewayOptions(emit_unpopulated=False, indent=2))
    assert indented == b'{\n  "name": "a"\n}'


def test_response_special_floats() -> None:
    out = json.loads(render(Kitchen(double_value=math.inf, float_value=math.nan)))
    assert (out["doubleValue"], out["floatValue"]) == ("Infinity", "NaN")


CHILD_A = b'{"name":"a","count":0,"tags":[],"color":"COLOR_UNSPECIFIED"}'


@pytest.mark.parametrize(
    ("message", "response_body", "expected"),
    [
        (Kitchen(child=Child(name="a")), "child", CHILD_A),
        (Kitchen(), "child", b"{}"),
        (Kitchen(string_value="x"), "string_value", b'"x"'),
        (Kitchen(), "string_value", b'""'),
        (Kitchen(int64_value=7), "int64Value", b'"7"'),
        (Kitchen(), "optional_string", b"null"),
        (Kitchen(optional_string="o"), "optional_string", b'"o"'),
        (Kitchen(repeated_color=[1, 2]), "repeated_color", b'["RED","GREEN"]'),
        (Kitchen(), "repeated_int32", b"[]"),
        (Kitchen(color_by_id={3: 1}), "color_by_id", b'{"3":"RED"}'),
        (Kitchen(children=[Child(name="a")]), "children", b"[" + CHILD_A + b"]"),
        (Kitchen(timestamp={"seconds": 1}), "timestamp", b'"1970-01-01T00:00:01Z"'),
        (Kitchen(), "timestamp", b"null"),
        (Kitchen(int32_wrapper={"value": 0}), "int32_wrapper", b"0"),
        (Kitchen(renamed="r"), "renamed", b'"r"'),
        (Kitchen(choice_text="t"), "choice_text", b'"t"'),
        (Kitchen(choice_number=1), "choice_text", b"null"),
    ],
)  # fmt: skip
def test_response_body(message: Kitchen, response_body: str, expected: bytes) -> None:
    assert render(message, response_body) == expected


def test_response_body_with_output_options() -> None:
    options = GatewayOptions(use_proto_names=True, enums_as_ints=True, emit_unpopulated=False)
    message = Kitchen(renamed="r", repeated_color=[2], child=Child(name="a"))
    assert render(message, "renamed", options) == b'"r"'
    assert render(message, "repeated_color", options) == b"[2]"
    assert render(message, "child", options) == b'{"name":"a"}'
    # A field of the message is always rendered, even when it holds its default.
    assert render(Kitchen(), "int32_value", options) == b"0"


# -- found by the google-api-core property tests (tests/test_property_client.py) -------------

FLT_MAX = 3.4028234663852886e38


@pytest.mark.parametrize(
    "document",
    [
        '{"float_value": 3.4028235e+38}',  # the shortest text for FLT_MAX: a double just above it
        '{"float_value": -3.4028235e+38}',
        '{"float_value": "3.4028235e+38"}',  # proto3 JSON also allows numbers as strings
        '{"float_wrapper": 3.4028235e+38}',
    ],
)
def test_float32_max_in_a_body_is_accepted(document: str) -> None:
    got = transcoder(body="*").transcode({}, "", document.encode())
    assert isinstance(got, Kitchen)
    value = got.float_value if "float_value" in document else got.float_wrapper.value
    assert abs(value) == FLT_MAX


def test_float32_max_inside_a_body_field() -> None:
    got = transcoder(body="float_wrapper").transcode({}, "", b"3.4028235e+38")
    assert isinstance(got, Kitchen)
    assert got.float_wrapper.value == FLT_MAX


@pytest.mark.parametrize("number", ["3.4028236e+38", "1e39", "-1e39"])
def test_float32_beyond_range_is_still_rejected(number: str) -> None:
    with pytest.raises(TranscodeError, match=r'"float_value" \(float\): not a number in range'):
        transcoder(body="*").transcode({}, "", f'{{"float_value": {number}}}'.encode())


def test_strict_mode_ignores_google_system_parameters() -> None:
    assert as_dict(query("$alt=json%3Benum-encoding%3Dint&string_value=x", STRICT)) == {
        "string_value": "x"
    }
    assert "unknown query parameter" in query_error("alt=json", STRICT)


def test_response_transcoder_renders_each_message_by_its_own_type() -> None:
    # The whole-message encoder is cached for the transcoder's own type; a message of
    # another type (fields numbered alike, so a wrong codec would not fail) still
    # gets its own field names.
    from google.protobuf import api_pb2, type_pb2

    transcoder = ResponseTranscoder(api_pb2.Mixin, response_body="", options=GatewayOptions())
    mixin = api_pb2.Mixin(name="m", root="r")
    other = type_pb2.EnumValue(name="x", number=3)
    for _ in range(2):
        assert json.loads(transcoder.transcode(mixin)) == {"name": "m", "root": "r"}
        assert json.loads(transcoder.transcode(other)) == {"name": "x", "number": 3, "options": []}


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"bytesValue": "!!!!"}', "bytesValue"),
        ('{"color": 1.5}', "color"),
        ('{"color": true}', "color"),
        ('{"color": 1099511627776}', "color"),
        ('{"doubleValue": true}', "doubleValue"),
        ('{"doubleValue": 1e400}', "doubleValue"),
        ('{"duration": "0.0000000001s"}', "duration"),
        ('{"timestamp": "2020-01-01T00:00:00+25:00"}', "timestamp"),
        ('{"int64Value": "+5"}', "int64Value"),
        ('{"repeatedInt32": [1, null]}', "repeatedInt32[1]"),
        ('{"value": 1e400}', "value"),
        ('{"colorById": {"1": "RED", "01": "GREEN"}}', "colorById"),
    ],
)
@pytest.mark.parametrize("options", [DEFAULT, STRICT], ids=["default", "strict"])
def test_body_values_go_protojson_rejects_answer_400(
    text: str, field: str, options: GatewayOptions
) -> None:
    # Each was read (often as a wrong value) before; grpc-gateway answers 400.
    message = body_error(text, "*", options)
    assert message.startswith("invalid JSON body: ")
    assert f'"{field}"' in message


def test_body_numbers_are_read_as_go_reads_their_text() -> None:
    # json_format reads both through a double: 9007199254740992.
    assert body('{"int64Value": 9007199254740993.0}') == {"int64_value": "9007199254740993"}
    assert body('{"int64Value": "9007199254740993e0"}') == {"int64_value": "9007199254740993"}
    assert "not an integer" in body_error('{"int64Value": 1.00000000000000001}')
    assert body('{"uint64Value": 1e2, "doubleValue": -0.0}') == {
        "uint64_value": "100",
        "double_value": -0.0,
    }


@pytest.mark.parametrize(
    "text",
    [
        '{"a":1}', ' {"a": 1} ', '\n\t{"a":[1,2.5,"x"]}\r\n', "[]", "1", '"s"', "null", "",
        " ", "   \n", "{", '{"a":1}x', '{"a":1} x', "x", '{"a":1,"a":2}', "1e400", "NaN",
        '{"a":-Infinity}', "[1,]", '{"a":1}{"b":2}', "\u00a0{}", "{}\u2028", "01", '"\\ud800"',
    ],
)  # fmt: skip
def test_the_body_parser_is_the_json_decoder_it_replaces(text: str) -> None:
    """Differential: transcode's _load_json answers (or fails) as the JSONDecoder
    configured alike does through its own decode()."""
    from grpcgw import transcode

    def outcome(decode: Any) -> object:
        try:
            return ("value", decode(text))
        except json.JSONDecodeError as exc:
            return ("error", exc.msg, exc.pos)
        except ValueError as exc:
            return (type(exc).__name__, str(exc))

    got, want = outcome(transcode._load_json), outcome(transcode._JSON_DECODER.decode)
    if got[0] == "value" and want[0] == "value":
        assert json.dumps(got, allow_nan=True) == json.dumps(want, allow_nan=True)
    else:
        assert got == want
