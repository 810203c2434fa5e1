"""Conformance vectors for query and body transcoding (tests/data/conformance/*.json).

Every case of ``query.json`` and ``body.json`` runs against
:class:`grpcgw.transcode.RequestTranscoder` with messages that reproduce the
case's ``schema`` (``tests/protos/grpcgwtest``). Where grpcgw deliberately
differs from a case's ``expect``, :data:`OVERRIDES` asserts grpcgw's behaviour
instead and says why; ``docs/conformance-transcoding.md`` documents each one.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

_GEN = str(Path(__file__).resolve().parent / "gen")
if _GEN not in sys.path:
    sys.path.insert(0, _GEN)

from google.protobuf import json_format  # noqa: E402
from google.protobuf.message import Message  # noqa: E402
from grpcgwtest.apicore.v1 import messages_pb2 as apicore  # noqa: E402
from grpcgwtest.envoy.v1 import bookstore_pb2 as envoy  # noqa: E402
from grpcgwtest.gateway.v1 import proto3_pb2 as gateway  # noqa: E402
from grpcgwtest.transcoding.v1 import bookstore_pb2 as transcoding  # noqa: E402
from grpcgwtest.transcoding.v1 import fixtures_pb2 as fixtures  # noqa: E402

from grpcgw.options import GatewayOptions  # noqa: E402
from grpcgw.routing import RouteTable  # noqa: E402
from grpcgw.transcode import BindingConfigError, RequestTranscoder, TranscodeError  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "conformance"
CASES: list[dict[str, Any]] = [
    *json.loads((DATA / "query.json").read_text(encoding="utf-8")),
    *json.loads((DATA / "body.json").read_text(encoding="utf-8")),
]
DOC = Path(__file__).resolve().parent.parent / "docs" / "conformance-transcoding.md"

#: ``schema.message`` (up to the first " (") -> the test message reproducing it.
MESSAGES: dict[str, type[Message]] = {
    "grpc.gateway.runtime.internal.examplepb.Proto3Message": gateway.Proto3Message,
    "(untyped test fixture: every field is a string)": fixtures.StringFixture,
    "(test fixture)": fixtures.WeaverFixture,
    "(test fixture, all strings)": fixtures.WeaverFixture,
    "google.grpc.transcoding.GetShelfRequest": transcoding.GetShelfRequest,
    "Shelf": transcoding.Shelf,
    "Book": transcoding.Book,
    "CreateBookRequest": transcoding.CreateBookRequest,
    "bookstore.CreateShelfRequest": envoy.CreateShelfRequest,
    "bookstore.CreateBookRequest": envoy.CreateBookRequest,
    "bookstore.GetShelfRequest": envoy.GetShelfRequest,
    "(python-api-core test uses plain dicts; every leaf is untyped)": apicore.BodyRequest,
}
#: Cases whose schema string is shared by differently shaped fixtures.
MESSAGES_BY_CASE: dict[str, type[Message]] = {
    "B005": apicore.NestedRequest,  # {field.sub}: "field" is a message here
    "B019": fixtures.WeaverRepeatedFixture,  # "A.x" is repeated here
}

#: ``path_bound_fields`` of the query-filter cases, as an HttpRule can bind them:
#: (path fields, body). Path fields must be singular scalars and the body field
#: top-level, so a bound repeated or message field is expressed as the body.
PATH_BOUND: dict[str, tuple[list[str], str]] = {
    "Q038": (["bool_value"], "repeated_value"),
    "Q039": ([], "nested"),
    # "nested.nested" is a message below the top level: neither a path variable
    # nor a body field can bind it. Bind the two leaves the query names instead.
    "Q040": (["nested.nested.bool_value", "nested.nested.string_value"], ""),
    "Q041": (["nested.nested.string_value"], ""),
}

#: Peer options -> the GatewayOptions fields that give the same behaviour.
OPTION_EQUIVALENTS: dict[str, dict[str, Any]] = {
    "query_param_unescape_plus": {"query_plus_as_space": True},
    "ignore_unknown_query_parameters": {"strict": False},
}
#: Peer options grpcgw does not offer, and why (the option has no effect, so the
#: case's default result is asserted for it).
UNSUPPORTED_OPTIONS: dict[str, str] = {
    "case_insensitive_enum_parsing": "enum names are case-sensitive, as in proto3 JSON",
    "reject_binding_body_field_collisions": "a path value always wins over the body value",
}


@dataclass(frozen=True)
class Override:
    """grpcgw's result for a case whose ``expect`` it deliberately does not follow."""

    reason: str
    #: ``{"message": ...}``, ``{"error": True}`` (TranscodeError) or
    #: ``{"config_error": True}`` (BindingConfigError when building the transcoder).
    expect: dict[str, Any]
    #: (GatewayOptions overrides, expect): how to get the peer's result, if we can.
    variants: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)


OVERRIDES: dict[str, Override] = {
    "Q047": Override(
        "'+' in a query is a space by default (form-encoding clients; grpc-gateway); "
        "query_plus_as_space=False keeps it literal like grpc-httpjson-transcoding",
        {"message": {"x": "Hello world", "y": "+  "}},
        [({"query_plus_as_space": False}, {"message": {"x": "Hello+world", "y": "++ "}})],
    ),
    "Q064": Override(
        "unknown query parameters are ignored by default (grpc-gateway); strict=True "
        "rejects them (Envoy's reject_unknown_query_parameters)",
        {"message": {"shelf": "100"}},
        [({"strict": True}, {"error": True})],
    ),
    "B017": Override(
        "http.proto: the body field must be a top-level field; a nested body path is "
        "a build-time error",
        {"config_error": True},
    ),
    "B018": Override(
        "path values are set after the body and win (DESIGN.md; grpc-gateway)",
        {"message": {"A": {"x": "a"}}},
    ),
    "B019": Override(
        "a path variable cannot bind a repeated field (build-time error), and with "
        'body "*" every query parameter is ignored, so a repeated field is filled '
        "from the body alone",
        {"config_error": True},
    ),
}


def _message_class(case: dict[str, Any]) -> type[Message]:
    if case["id"] in MESSAGES_BY_CASE:
        return MESSAGES_BY_CASE[case["id"]]
    return MESSAGES[case["schema"]["message"].split(" (")[0]]


@dataclass(frozen=True)
class Request:
    """A case reduced to what a RequestTranscoder takes."""

    message_class: type[Message]
    path_fields: list[str]
    body_field: str
    bindings: dict[str, str]
    query: str
    body: bytes
    options: GatewayOptions


def _route_bindings(method: str, template: str, path: str) -> dict[str, str]:
    table: RouteTable[None] = RouteTable()
    table.add(method, template, None)
    return dict(table.match(method, path).bindings)


def _request(case: dict[str, Any]) -> Request:
    options = GatewayOptions()
    for name, value in case.get("options", {}).items():
        assert value is True, name
        options = replace(options, **OPTION_EQUIVALENTS[name])
    route = case.get("route", {})
    body_field = route.get("body", "")
    bindings: dict[str, str] = {}
    if "request" in case:  # body.json
        request = case["request"]
        query = request["query"]
        if "body_text" in request:
            body = request["body_text"].encode()
        elif request["body"] is None:
            body = b""
        else:
            body = json.dumps(request["body"]).encode()
        if "bindings" in request:
            bindings = request["bindings"]
        elif request["path"]:
            bindings = _route_bindings(route["method"], route["template"], request["path"])
    else:  # query.json
        query = case["query"]
        body = b"" if case.get("body") is None else json.dumps(case["body"]).encode()
        if "path" in case:
            bindings = _route_bindings(route["method"], route["template"], case["path"])
    path_fields = list(bindings)
    if "path_bound_fields" in case:
        path_fields, body_field = PATH_BOUND[case["id"]]
    return Request(_message_class(case), path_fields, body_field, bindings, query, body, options)


def _check(request: Request, expect: dict[str, Any]) -> None:
    """Transcode ``request`` and compare with a case's ``expect``."""
    if expect.get("config_error"):
        with pytest.raises(BindingConfigError):
            _build(request)
        return
    transcoder = _build(request)
    if expect.get("error"):
        with pytest.raises(TranscodeError) as info:
            transcoder.transcode(request.bindings, request.query, request.body)
        assert str(info.value)
        return
    message = transcoder.transcode(request.bindings, request.query, request.body)
    got = json_format.MessageToDict(message, preserving_proto_field_name=True)
    assert got == expect["message"]


def _build(request: Request) -> RequestTranscoder:
    return RequestTranscoder(
        request.message_class,
        path_fields=request.path_fields,
        body=request.body_field,
        options=request.options,
    )


def _ids(cases: list[Any]) -> list[str]:
    return [c["id"] if isinstance(c, dict) else c[0] for c in cases]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_case(case: dict[str, Any]) -> None:
    override = OVERRIDES.get(case["id"])
    _check(_request(case), override.expect if override else case["expect"])


OPTION_CASES = [
    (f"{case['id']}-{option}", case, option, expect)
    for case in CASES
    for option, expect in case.get("expect_by_option", {}).items()
]


@pytest.mark.parametrize(
    ("case_id", "case", "option", "expect"), OPTION_CASES, ids=_ids(OPTION_CASES)
)
def test_case_with_option(
    case_id: str, case: dict[str, Any], option: str, expect: dict[str, Any]
) -> None:
    request = _request(case)
    if option in UNSUPPORTED_OPTIONS:
        # No such option: grpcgw gives its default result.
        override = OVERRIDES.get(case["id"])
        _check(request, override.expect if override else case["expect"])
        return
    options = replace(request.options, **OPTION_EQUIVALENTS[option])
    _check(replace(request, options=options), expect)


VARIANT_CASES = [
    (f"{case_id}-{'-'.join(f'{k}={v}' for k, v in opts.items())}", case_id, opts, expect)
    for case_id, override in OVERRIDES.items()
    for opts, expect in override.variants
]


@pytest.mark.parametrize(
    ("variant_id", "case_id", "opts", "expect"), VARIANT_CASES, ids=_ids(VARIANT_CASES)
)
def test_override_variant(
    variant_id: str, case_id: str, opts: dict[str, Any], expect: dict[str, Any]
) -> None:
    """Where an option gives the peer's ``expect``, it does."""
    (case,) = (c for c in CASES if c["id"] == case_id)
    request = _request(case)
    _check(replace(request, options=replace(request.options, **opts)), expect)


def test_b019_query_is_ignored_with_body_star() -> None:
    """B019 as grpcgw can express it: the repeated values come from the body only."""
    transcoder = RequestTranscoder(
        fixtures.WeaverRepeatedFixture, path_fields=[], body="*", options=GatewayOptions()
    )
    message = transcoder.transcode({}, "A.x=b&A.x=c&A.x=d", b'{"A": {"x": ["a"]}}')
    assert list(message.A.x) == ["a"]


def test_b017_top_level_body_still_works() -> None:
    """B017 with the body on the top-level field ``book``: bindings still win."""
    case = next(c for c in CASES if c["id"] == "B017")
    bindings = case["request"]["bindings"]
    transcoder = RequestTranscoder(
        transcoding.CreateBookRequest,
        path_fields=list(bindings),
        body="book",
        options=GatewayOptions(),
    )
    body = json.dumps({"authorInfo": {"bio": case["request"]["body"]}}).encode()
    message = transcoder.transcode(bindings, "", body)
    got = json_format.MessageToDict(message, preserving_proto_field_name=True)
    assert got == case["expect"]["message"]


def test_tables_are_consistent() -> None:
    ids = {c["id"] for c in CASES}
    assert len(ids) == len(CASES)
    assert set(OVERRIDES) <= ids
    assert set(PATH_BOUND) == {c["id"] for c in CASES if "path_bound_fields" in c}
    options = {o for c in CASES for o in (*c.get("expect_by_option", {}), *c.get("options", {}))}
    assert options <= set(OPTION_EQUIVALENTS) | set(UNSUPPORTED_OPTIONS)
    for case in CASES:
        _message_class(case)  # every schema has a message


def test_overrides_are_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for case_id in OVERRIDES:
        assert case_id in doc, f"{case_id} is overridden but not documented in {DOC.name}"
    for option in UNSUPPORTED_OPTIONS:
        assert option in doc
