"""Unit tests of the field paths the pure transcoder gives its errors
(``TranscodeError.fields``) and of ``grpcgw.errors.bad_request``, the detail built
from them. End to end, through every front end: test_field_violations_live.py."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

_GEN = str(Path(__file__).resolve().parent / "gen")
if _GEN not in sys.path:
    sys.path.insert(0, _GEN)

from google.protobuf import any_pb2, json_format  # noqa: E402
from google.rpc import error_details_pb2  # noqa: E402
from grpcgwtest.transcode.v1.types_pb2 import Kitchen  # noqa: E402

from grpcgw import protojson  # noqa: E402
from grpcgw.errors import BAD_REQUEST_TYPE, Code, bad_request, status_body  # noqa: E402
from grpcgw.options import GatewayOptions  # noqa: E402
from grpcgw.transcode import RequestTranscoder, TranscodeError  # noqa: E402


def fields(
    query: str = "",
    body: bytes = b"",
    *,
    rule_body: str = "",
    path_fields: tuple[str, ...] = (),
    bindings: Mapping[str, str] | None = None,
    **options: Any,
) -> tuple[tuple[str, ...], str]:
    """The fields and the message of the error transcoding this request into a Kitchen."""
    transcoder = RequestTranscoder(
        Kitchen, path_fields=path_fields, body=rule_body, options=GatewayOptions(**options)
    )
    with pytest.raises(TranscodeError) as info:
        transcoder.transcode(bindings or {}, query, body)
    return info.value.fields, str(info.value)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # The key as the client wrote it: proto or JSON names, dotted, a map key.
        ("int32_value=x", "int32_value"),
        ("int32Value=x", "int32Value"),
        ("child.count=x", "child.count"),
        ("child.grand.color=PURPLE", "child.grand.color"),
        ("color_by_id[x]=RED", "color_by_id[x]"),
        ("color_by_id[1]=PURPLE", "color_by_id[1]"),
        ("string_map=x", "string_map"),
        ("field_mask=a..b", "field_mask"),
        ("timestamp=yesterday", "timestamp"),
        ("duration=long", "duration"),
        ("int64_wrapper=x", "int64_wrapper"),
        ("struct={", "struct"),
        ("int32_value=1&int32_value=2", "int32_value"),
        ("choice_text=a&choiceNumber=1", "choiceNumber"),
        ("child=x", "child"),
        ("double_value.x=1", "double_value.x"),
        ("double_value[k]=1", "double_value[k]"),
        # A value that does not decode: its key; a key that does not: no field.
        ("int32_value=%zz", "int32_value"),
        ("string_value=%ff", "string_value"),
        ("%zz=1", ""),
        ("%ff=1", ""),
    ],
)
def test_query_errors_name_the_key(query: str, expected: str) -> None:
    found, message = fields(query)
    assert found == (expected,), message


def test_strict_query_names_the_unknown_key() -> None:
    assert fields("nope.deeper=1", strict=True) == (
        ("nope.deeper",),
        'unknown query parameter "nope.deeper"',
    )


def test_path_errors_name_the_variable_as_the_template_does() -> None:
    assert fields(path_fields=("int32_value",), bindings={"int32_value": "x"})[0] == (
        "int32_value",
    )
    assert fields(path_fields=("child.count",), bindings={"child.count": "x"})[0] == (
        "child.count",
    )
    assert fields(path_fields=("child.color",), bindings={"child.color": "BLUE"})[0] == (
        "child.color",
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"int32Value": "x"}', ("int32Value",)),
        (b'{"int32_value": "x"}', ("int32_value",)),
        (b'{"child": {"grand": {"count": true}}}', ("child.grand.count",)),
        (b'{"children": [{}, {"count": "x"}]}', ("children[1].count",)),
        (b'{"stringMap": {"a": 1}}', ("stringMap[a]",)),
        (b'{"colorById": {"x": "RED"}}', ("colorById[x]",)),
        (b'{"repeatedInt32": 1}', ("repeatedInt32",)),
        (b'{"color": "PURPLE"}', ("color",)),
        (b'{"fieldMask": 1}', ("fieldMask",)),
        (b'{"any": {"@type": "type.googleapis.com/no.Such"}}', ("any.@type",)),
        (b'{"choiceText": "a", "choiceNumber": 1}', ("choiceText", "choiceNumber")),
        (b'{"optionalString": "a", "optional_string": "b"}', ("optionalString",)),
        (b'{"stringMap": {"1": "a"}, "colorById": {"1": 1, "01": 2}}', ("colorById",)),
        # Not about one field: the JSON text, or the request body as a whole.
        (b"{", ("",)),
        (b'{"a": 1, "a": 2}', ("",)),
        (b'{"a": NaN}', ("",)),
        (b"\xff", ("",)),
        (b'"x"', ("",)),
        (b"[" * 2000 + b"]" * 2000, ("",)),
    ],
)
def test_body_errors_name_the_field_as_the_client_sent_it(
    body: bytes, expected: tuple[str, ...]
) -> None:
    found, message = fields(body=body, rule_body="*")
    assert found == expected, message


@pytest.mark.parametrize(
    ("rule_body", "body", "expected"),
    [
        # Below the body field's JSON name: "." into a message, "[i]" into a
        # repeated field, "[key]" into a map; the field itself for its whole value.
        ("child", b'{"count": "x"}', "child.count"),
        ("child", b'"x"', "child"),
        ("children", b'[{"count": "x"}]', "children[0].count"),
        ("children", b"{}", "children"),
        ("children_by_name", b'{"k": {"count": "x"}}', "childrenByName[k].count"),
        ("string_map", b'{"k": 1}', "stringMap[k]"),
        ("timestamp", b'"never"', "timestamp"),
        ("repeated_int32", b'[1, "x"]', "repeatedInt32[1]"),
    ],
)
def test_a_body_field_is_named_above_the_paths_within_it(
    rule_body: str, body: bytes, expected: str
) -> None:
    found, message = fields(body=body, rule_body=rule_body)
    assert found == (expected,), message


def test_use_proto_names_names_the_body_field_by_its_proto_name() -> None:
    body = b'{"k": {"count": "x"}}'
    found, _ = fields(body=body, rule_body="children_by_name", use_proto_names=True)
    assert found == ("children_by_name[k].count",)


def test_strict_body_names_the_unknown_key_and_the_path_binding() -> None:
    assert fields(body=b'{"grand": {"bogus": 1}}', rule_body="child", strict=True)[0] == (
        "child.grand.bogus",
    )
    found, message = fields(
        body=b'{"name": "a"}',
        rule_body="child",
        path_fields=("child.name",),
        bindings={"child.name": "b"},
        strict=True,
    )
    assert found == ("child.name",), message


def test_paths_of_protojson_errors_are_within_the_document() -> None:
    decoder = protojson.decoder(Kitchen.DESCRIPTOR, ignore_unknown_fields=False)
    with pytest.raises(protojson.ProtoJSONError) as info:
        decoder.decode({"child": {"tags": ["a", 1]}}, Kitchen())
    assert info.value.paths == ("child.tags[1]",)
    with pytest.raises(protojson.ProtoJSONError) as info:
        decoder.decode({"kitchen": {"nope": 1}}, Kitchen())
    assert info.value.paths == ("kitchen.nope",)


# -- the detail ------------------------------------------------------------------------------


def test_bad_request_renders_as_a_server_sent_detail_does() -> None:
    """The same JSON as a ``google.rpc.BadRequest`` a servicer sends in
    ``grpc-status-details-bin``, and it parses back into one."""
    error = bad_request('unknown field "x"', ("book.x", ""))
    assert (error.code, error.http_status, error.message) == (
        Code.INVALID_ARGUMENT,
        400,
        'unknown field "x"',
    )
    (detail,) = error.details
    sent = any_pb2.Any()
    sent.Pack(
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field="book.x", description='unknown field "x"'
                ),
                error_details_pb2.BadRequest.FieldViolation(description='unknown field "x"'),
            ]
        )
    )
    assert detail == json_format.MessageToDict(sent)
    assert detail["@type"] == BAD_REQUEST_TYPE
    back = any_pb2.Any()
    json_format.ParseDict(detail, back)
    parsed = error_details_pb2.BadRequest()
    assert back.Unpack(parsed)
    assert [(v.field, v.description) for v in parsed.field_violations] == [
        ("book.x", 'unknown field "x"'),
        ("", 'unknown field "x"'),
    ]
    assert json.loads(error.body()) == {
        "code": 3,
        "message": 'unknown field "x"',
        "details": [detail],
    }


def test_bad_request_keeps_a_lone_surrogate_as_the_message_does() -> None:
    """Text echoed from the request may hold one (protobuf strings cannot): the
    detail has the same shape, and the same text as the message."""
    message = 'unknown field "\ud800"'
    error = bad_request(message, ("\ud800", ""))
    plain = bad_request("m", ("f", ""))
    body = json.loads(status_body(error.code, error.message, error.details))
    assert body["message"] == message
    assert body["details"] == [
        {
            "@type": BAD_REQUEST_TYPE,
            "fieldViolations": [
                {"field": "\ud800", "description": message},
                {"description": message},
            ],
        }
    ]
    shape = plain.details[0]
    assert set(shape) == set(body["details"][0])
    assert [set(v) for v in shape["fieldViolations"]] == [
        set(v) for v in body["details"][0]["fieldViolations"]
    ]
