"""The binding plan: what it says the query reads is exactly what the query parser takes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

_GEN = str(Path(__file__).resolve().parent / "gen")
if _GEN not in sys.path:
    sys.path.insert(0, _GEN)

from google.protobuf.descriptor import Descriptor, FieldDescriptor  # noqa: E402
from google.protobuf.message import Message  # noqa: E402
from grpcgwtest.transcode.v1.types_pb2 import Kitchen  # noqa: E402

from grpcgw.binding import BindingConfigError, BindingPlan, QueryField, is_map  # noqa: E402
from grpcgw.options import GatewayOptions  # noqa: E402
from grpcgw.transcode import RequestTranscoder, TranscodeError  # noqa: E402

STRICT = GatewayOptions(strict=True)
KITCHEN: Descriptor = Kitchen.DESCRIPTOR

_FD = FieldDescriptor
_TEXT = {
    _FD.TYPE_DOUBLE: "1.5",
    _FD.TYPE_FLOAT: "2.5",
    _FD.TYPE_BOOL: "true",
    _FD.TYPE_STRING: "text",
    _FD.TYPE_BYTES: "eA",
}
_WKT_TEXT = {
    "google.protobuf.Timestamp": "2024-01-01T00:00:00Z",
    "google.protobuf.Duration": "1.5s",
    "google.protobuf.FieldMask": "a,bC",
    "google.protobuf.Struct": '{"a":1}',
    "google.protobuf.Value": "[1]",
    "google.protobuf.ListValue": "[1]",
}


def _text(field: FieldDescriptor) -> str:
    """A valid query text for one value of ``field``."""
    if field.enum_type is not None:
        return field.enum_type.values[-1].name
    if field.message_type is not None:
        name = field.message_type.full_name
        if name in _WKT_TEXT:
            return _WKT_TEXT[name]
        return _text(field.message_type.fields_by_name["value"])  # a wrapper
    return _TEXT.get(field.type, "7")


def _key_value(query: QueryField) -> str:
    name = query.name()
    if query.is_map:
        entry = query.field.message_type
        assert entry is not None
        key = _text(entry.fields_by_name["key"])
        return f"{name}[{key}]={_text(entry.fields_by_name['value'])}"
    return f"{name}={_text(query.field)}"


def _is_set(message: Message, fields: tuple[FieldDescriptor, ...]) -> bool:
    target: Any = message
    for field in fields[:-1]:
        if not target.HasField(field.name):
            return False
        target = getattr(target, field.name)
    leaf = fields[-1]
    if leaf.is_repeated:
        return len(getattr(target, leaf.name)) > 0
    return bool(target.HasField(leaf.name)) if leaf.has_presence else True


BINDINGS = [
    pytest.param((), "", False, id="no body"),
    pytest.param(("child.name", "string_value"), "", False, id="path"),
    pytest.param(("choice_text",), "", False, id="oneof member in the path"),
    pytest.param((), "child", False, id="body field"),
    pytest.param((), "kitchen", True, id="PATCH body field"),
    pytest.param((), "choice_child", False, id="oneof member as body"),
]


@pytest.mark.parametrize(("path_fields", "body", "patch"), BINDINGS)
def test_every_query_field_is_taken(path_fields: tuple[str, ...], body: str, patch: bool) -> None:
    transcoder = RequestTranscoder(
        Kitchen, path_fields=path_fields, body=body, options=STRICT, fill_field_mask=patch
    )
    bindings = {p: "x" if "name" in p or "text" in p else "1" for p in path_fields}
    queries = transcoder.plan.query_fields()
    assert queries
    for query in queries:
        message = transcoder.transcode(bindings, _key_value(query), b"")
        assert _is_set(message, query.fields), query.canonical


def _all_paths(desc: Descriptor, prefix: tuple[FieldDescriptor, ...], depth: int) -> list[Any]:
    out: list[Any] = []
    for field in desc.fields:
        chain = (*prefix, field)
        out.append(chain)
        if field.message_type is not None and not field.is_repeated and depth > 0:
            out.extend(_all_paths(field.message_type, chain, depth - 1))
    return out


@pytest.mark.parametrize(("path_fields", "body", "patch"), BINDINGS)
def test_no_other_query_key_sets_a_field(
    path_fields: tuple[str, ...], body: str, patch: bool
) -> None:
    """A key the plan does not list is ignored or refused, except deeper levels of a
    recursive type (the document lists each type once per path) and the PATCH mask."""
    transcoder = RequestTranscoder(
        Kitchen, path_fields=path_fields, body=body, options=STRICT, fill_field_mask=patch
    )
    plan = transcoder.plan
    listed = {q.canonical for q in plan.query_fields()}
    bindings = {p: "x" if "name" in p or "text" in p else "1" for p in path_fields}
    # With a body, a oneof sibling of the body field is refused.
    payload = b"{}" if body else b""
    baseline = transcoder.transcode(bindings, "", payload)
    for chain in _all_paths(KITCHEN, (), 2):
        canonical = ".".join(f.name for f in chain)
        field = chain[-1]
        if canonical in listed or (
            field.message_type is not None
            and not is_map(field)
            and field.message_type.full_name.startswith("grpcgwtest")
        ):
            continue
        types = [f.message_type.full_name for f in chain[:-1] if f.message_type is not None]
        if len(set(types)) < len(types) or KITCHEN.full_name in types:
            continue  # a recursion: accepted, not listed
        if plan.fill_mask is not None and canonical == plan.fill_mask.name:
            continue
        key = ".".join(f.json_name for f in chain)
        text = f"{key}[1]=1" if is_map(field) else f"{key}=1"
        try:
            message = transcoder.transcode(bindings, text, payload)
        except TranscodeError:
            continue
        assert message == baseline, canonical


def test_plan_records_where_fields_come_from() -> None:
    plan = BindingPlan.build(
        KITCHEN, path_fields=["child.name"], body="kitchen", fill_field_mask=True
    )
    assert [f.canonical for f in plan.path_fields] == ["child.name"]
    assert plan.path_fields[0].key == "child.name"
    assert plan.body_field is not None
    assert plan.body_field.name == "kitchen"
    assert plan.masked == {"child.name", "kitchen"}
    assert plan.fill_mask is not None
    assert plan.fill_mask.name == "field_mask"
    assert not plan.raw_body
    assert plan.has_body
    assert plan.reads_query
    names = {q.name() for q in plan.query_fields()}
    assert "child.count" in names
    assert "fieldMask" not in names
    assert "kitchen.int32Value" not in names
    assert "customName" in names
    assert "int32Value" in names
    assert "children" not in names
    assert "childrenByName" not in names
    assert "any" not in names
    assert "choiceText" in names
    assert "choiceChild.name" in names
    assert BindingPlan.build(KITCHEN, path_fields=[], body="*").query_fields() == ()


def test_plan_is_frozen_and_refuses_bad_bindings() -> None:
    plan = BindingPlan.build(KITCHEN, path_fields=[], body="")
    with pytest.raises(AttributeError):
        plan.body = "*"  # type: ignore[misc]
    with pytest.raises(BindingConfigError, match="bound twice"):
        BindingPlan.build(KITCHEN, path_fields=["int32_value", "int32Value"], body="")


# -- strict mode: REQUIRED fields ------------------------------------------------------------------


def _echo(name: str) -> type[Message]:
    from grpcgwtest.openapi.v1 import echo_pb2

    cls: type[Message] = getattr(echo_pb2, name)
    return cls


def test_required_fields_are_checked_on_the_json() -> None:
    create = RequestTranscoder(
        _echo("CreateThingRequest"), path_fields=["parent"], body="*", options=STRICT
    )

    def error(body: bytes) -> str:
        with pytest.raises(TranscodeError) as info:
            create.transcode({"parent": "groups/g"}, "", body)
        return str(info.value)

    assert error(b"") == 'missing required field "thing" in the JSON body'
    assert error(b'{"thing": {}}') == 'missing required field "thing.title" in the JSON body'
    assert error(b'{"thing": {"title": null}}').endswith('"thing.title" in the JSON body')
    nested = b'{"thing": {"title": "t", "parentThing": {}}}'
    assert error(nested) == 'missing required field "thing.parentThing.title" in the JSON body'
    # proto names count; the path-bound parent is not required in the body
    ok = create.transcode({"parent": "groups/g"}, "", b'{"thing": {"title": "t"}}')
    assert ok.thing.title == "t"  # type: ignore[attr-defined]
    assert create.transcode({"parent": "g"}, "", b'{"thing": {"title": ""}}')
    lenient = RequestTranscoder(
        _echo("CreateThingRequest"), path_fields=["parent"], body="*", options=GatewayOptions()
    )
    assert lenient.transcode({"parent": "g"}, "", b"") is not None


def test_required_query_parameters_and_bodies() -> None:
    get = RequestTranscoder(_echo("GetThingRequest"), path_fields=["name"], body="", options=STRICT)
    with pytest.raises(TranscodeError, match='missing required query parameter "view"'):
        get.transcode({"name": "n"}, "readMask=a", b"")
    assert get.transcode({"name": "n"}, "view=", b"")
    assert [q.canonical for q in get.plan.required_query()] == ["view"]
    update = RequestTranscoder(
        _echo("UpdateThingRequest"), path_fields=["thing.name"], body="thing", options=STRICT
    )
    with pytest.raises(TranscodeError, match="the request body is required"):
        update.transcode({"thing.name": "n"}, "", b"")
    assert update.transcode({"thing.name": "n"}, "", b'{"title": "t"}')
    required = update.plan.required_body()
    assert required is not None
    assert required.missing({"title": "t"}) is None
    assert required.missing({"parts": [{"n": 1}], "title": "t"}) is None
    assert required.missing({"parentThing": {}, "title": "t"}) == "parentThing.title"
    nothing = BindingPlan.build(KITCHEN, path_fields=[], body="*")
    assert nothing.required_body() is None
    assert nothing.required_query() == ()


def test_query_field_masks_must_be_field_paths() -> None:
    transcoder = RequestTranscoder(Kitchen, path_fields=(), body="", options=STRICT)
    message: Any = transcoder.transcode({}, "fieldMask=a.bC,,d_e", b"")
    assert list(message.field_mask.paths) == ["a.b_c", "d_e"]
    for bad in ("a%20b", "a.", "1a", "a-b"):
        with pytest.raises(TranscodeError, match="is not a field path"):
            transcoder.transcode({}, f"fieldMask={bad}", b"")


def test_float_query_bound_is_the_parser_s() -> None:
    transcoder = RequestTranscoder(Kitchen, path_fields=(), body="", options=STRICT)
    bound = float.fromhex("0x1.fffffefffffffp+127")
    message: Any = transcoder.transcode({}, "floatValue=" + repr(bound).replace("+", "%2B"), b"")
    assert message.float_value == pytest.approx(3.4028234663852886e38)
    beyond = float.fromhex("0x1.ffffffp+127")
    with pytest.raises(TranscodeError, match="out of range"):
        transcoder.transcode({}, "floatValue=" + repr(beyond).replace("+", "%2B"), b"")
