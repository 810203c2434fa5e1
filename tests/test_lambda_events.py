"""Hostile Lambda events and contexts: every wrong type or value answers a clean 400
``google.rpc.Status`` in the event source's own shape, and nothing but
``EventSourceError`` ever leaves the handler.

One handler (a real gRPC server on a unix socket) serves the whole module; each
case mutates one field of a real sample event of one source (tests/data/lambda-events).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from grpcgwtest.echo.v1 import echo_pb2, echo_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grpcgw import LambdaOptions, serve_lambda
from grpcgw.awslambda import EventSourceError, LambdaHandler

from .test_lambda import ERROR_SHAPES, Context, _described, load

_SEEN = (
    "x-lambda-request-id",
    "x-apigateway-request-id",
    "x-forwarded-for",
    "x-apigateway-authorizer",
)


class ReportingServicer(echo_pb2_grpc.EchoServiceServicer):
    """Echoes the request, the context metadata and the deadline the call got."""

    async def Echo(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        md = {k: v for k, v in context.invocation_metadata() if k in _SEEN}
        remaining = context.time_remaining()
        md["deadline"] = "none" if remaining is None else f"{remaining:.3f}"
        return echo_pb2.EchoResponse(request=request, metadata=md)

    async def Hang(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def handler() -> Iterator[LambdaHandler]:
    import shutil
    import tempfile

    d = tempfile.mkdtemp(prefix="gw-", dir="/tmp")
    h = serve_lambda(ReportingServicer(), lambda_options=LambdaOptions(socket_dir=d))
    yield h
    h.stop()
    shutil.rmtree(d, ignore_errors=True)


# -- the sources, each with a GET /my/path event and where its fields are ----------------

ERROR_SHAPES_ALL = dict(ERROR_SHAPES)
ERROR_SHAPES_ALL["vpc-lattice-v1-base64"] = lambda status, body, extra: {
    "statusCode": status,
    "statusDescription": _described(status),
    "headers": {"Content-Type": "application/json", **extra},
    "body": body,
    "isBase64Encoded": False,
}

#: source sample -> {role: key path in the event}
FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "apigw-rest-v1-get-query-multivalue": {
        "method": ("httpMethod",),
        "path": ("path",),
        "headers": ("headers",),
        "multi_headers": ("multiValueHeaders",),
        "query": ("queryStringParameters",),
        "multi_query": ("multiValueQueryStringParameters",),
        "body": ("body",),
        "b64": ("isBase64Encoded",),
        "source_ip": ("requestContext", "identity", "sourceIp"),
        "request_id": ("requestContext", "requestId"),
    },
    "apigw-http-v2-minimal-get": {
        "method": ("requestContext", "http", "method"),
        "path": ("rawPath",),
        "headers": ("headers",),
        "query": ("queryStringParameters",),
        "raw_query": ("rawQueryString",),
        "cookies": ("cookies",),
        "body": ("body",),
        "b64": ("isBase64Encoded",),
        "source_ip": ("requestContext", "http", "sourceIp"),
        "request_id": ("requestContext", "requestId"),
    },
    "function-url-get-root": {
        "method": ("requestContext", "http", "method"),
        "path": ("rawPath",),
        "headers": ("headers",),
        "query": ("queryStringParameters",),
        "raw_query": ("rawQueryString",),
        "cookies": ("cookies",),
        "body": ("body",),
        "b64": ("isBase64Encoded",),
        "source_ip": ("requestContext", "http", "sourceIp"),
        "request_id": ("requestContext", "requestId"),
    },
    "alb-get-single-value-headers": {
        "method": ("httpMethod",),
        "path": ("path",),
        "headers": ("headers",),
        "query": ("queryStringParameters",),
        "body": ("body",),
        "b64": ("isBase64Encoded",),
    },
    "alb-get-multi-value-headers": {
        "method": ("httpMethod",),
        "path": ("path",),
        "multi_headers": ("multiValueHeaders",),
        "multi_query": ("multiValueQueryStringParameters",),
        "body": ("body",),
        "b64": ("isBase64Encoded",),
    },
    "vpc-lattice-v1-base64": {
        "method": ("method",),
        "path": ("raw_path",),
        "headers": ("headers",),
        "query": ("query_string_parameters",),
        "body": ("body",),
        "b64": ("is_base64_encoded",),
    },
    "vpc-lattice-v2": {
        "method": ("method",),
        "path": ("path",),
        "headers": ("headers",),
        "query": ("queryStringParameters",),
        "body": ("body",),
        "b64": ("isBase64Encoded",),
    },
}
SOURCES = sorted(FIELDS)
assert set(SOURCES) == set(ERROR_SHAPES_ALL)


def map_event(source: str, role: str) -> dict[str, Any]:
    """:func:`base_event`, where the ``role`` map is the one read: a v2 event reads
    ``queryStringParameters`` only without a ``rawQueryString``."""
    event = base_event(source)
    if role == "query" and "raw_query" in FIELDS[source]:
        _set(event, FIELDS[source]["raw_query"], None)
    if f"multi_{role}" in FIELDS[source]:
        _set(event, FIELDS[source][f"multi_{role}"], None)  # else the multi-value map is read
    return event


def base_event(source: str, method: str = "GET") -> dict[str, Any]:
    """The source's sample event as a body-less ``method /my/path`` with no query."""
    event = load(source)
    fields = FIELDS[source]
    _set(event, fields["method"], method)
    _set(event, fields["path"], "/my/path")
    for role in ("query", "multi_query"):
        if role in fields:
            _set(event, fields[role], None)
    if "raw_query" in fields:
        _set(event, fields["raw_query"], "")
    _set(event, fields["body"], None)
    _set(event, fields["b64"], False)
    return event


def _set(event: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    target = event
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value


def _get(event: dict[str, Any], keys: tuple[str, ...]) -> Any:
    target: Any = event
    for key in keys:
        target = target[key]
    return target


def assert_bad_event(handler: LambdaHandler, source: str, event: Any, mentions: str) -> None:
    response = handler(event, Context())
    body = json.loads(response["body"])
    assert body["code"] == 3, response
    assert mentions in body["message"], body
    assert body["details"] == []
    assert response == ERROR_SHAPES_ALL[source](400, response["body"], {})


def echo(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])  # type: ignore[no-any-return]


# -- the base events work ------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_the_base_event_is_answered(handler: LambdaHandler, source: str) -> None:
    echo(handler(base_event(source), Context()))


# -- header and query maps: values of every other JSON type ---------------------------------

#: (entry value, accepted in a single-value map, accepted in a multi-value map)
MAP_VALUES: list[tuple[Any, bool, bool]] = [
    ("plain", True, False),  # a multi-value map's value is a list: "abc" is not a, b, c
    (["a", "b"], True, True),  # VPC Lattice v2 sends lists in single-value maps
    ([], True, True),
    (5, False, False),
    (1.5, False, False),
    (True, False, False),
    (None, False, False),
    ({"nested": "object"}, False, False),
    ([5], False, False),
    ([None], False, False),
    ([["nested"]], False, False),
    ([{"a": 1}], False, False),
]
MAP_ROLES = ("headers", "multi_headers", "query", "multi_query")
MAP_CASES = [
    (source, role, value, ok_single if not role.startswith("multi") else ok_multi)
    for source in SOURCES
    for role in MAP_ROLES
    if role in FIELDS[source]
    for value, ok_single, ok_multi in MAP_VALUES
]


@pytest.mark.parametrize(
    ("source", "role", "value", "accepted"),
    MAP_CASES,
    ids=[f"{s}-{r}-{json.dumps(v)}" for s, r, v, _ in MAP_CASES],
)
def test_header_and_query_values_of_every_json_type(
    handler: LambdaHandler, source: str, role: str, value: Any, accepted: bool
) -> None:
    event = map_event(source, role)
    keys = FIELDS[source][role]
    name = "Grpc-Metadata-Note" if "headers" in role else "parameter1"
    current = _get(event, keys)
    _set(event, keys, {**(current or {}), name: value})
    if accepted:
        got = echo(handler(event, Context()))
        if "query" in role:
            assert got["request"]["parameter1"] == (value if isinstance(value, list) else [value])
    else:
        assert_bad_event(handler, source, event, keys[-1])


@pytest.mark.parametrize(
    ("source", "role"), [(s, r) for s in SOURCES for r in MAP_ROLES if r in FIELDS[s]]
)
@pytest.mark.parametrize("value", [5, "abc", ["a"], True])
def test_header_and_query_maps_that_are_not_objects(
    handler: LambdaHandler, source: str, value: Any, role: str
) -> None:
    event = map_event(source, role)
    keys = FIELDS[source][role]
    _set(event, keys, value)
    assert_bad_event(handler, source, event, keys[-1])


def test_a_multi_value_string_is_not_split_into_characters(handler: LambdaHandler) -> None:
    # The reproduction: {"tags": "abc"} became tags=a&tags=b&tags=c.
    source = "apigw-rest-v1-get-query-multivalue"
    event = base_event(source)
    event["multiValueQueryStringParameters"] = {"multiValueName": "abc"}
    assert_bad_event(handler, source, event, "multiValueQueryStringParameters['multiValueName']")


def test_map_keys_that_are_not_strings(handler: LambdaHandler) -> None:
    source = "apigw-http-v2-minimal-get"
    event = base_event(source)
    event["headers"] = {5: "x"}
    assert_bad_event(handler, source, event, "headers")


# -- paths, methods, bodies, base64 flags, cookies, raw query strings ------------------------

SURROGATE = "\ud800"


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("role", "value", "mentions"),
    [
        ("path", f"/my/{SURROGATE}", "not valid Unicode"),
        ("path", 5, "not a string"),
        ("path", ["/my/path"], "not a string"),
        ("method", 5, "not a string"),
        ("method", None, "not a string"),
        ("method", "G ET", "not an HTTP method"),
        ("method", SURROGATE, "not an HTTP method"),
        ("method", "", "not an HTTP method"),
        ("b64", "false", "not a boolean"),
        ("b64", "true", "not a boolean"),
        ("b64", 1, "not a boolean"),
        ("b64", 0, "not a boolean"),
        ("b64", [], "not a boolean"),
    ],
)
def test_bad_path_method_and_base64_flag(
    handler: LambdaHandler, source: str, role: str, value: Any, mentions: str
) -> None:
    event = base_event(source)
    keys = FIELDS[source][role]
    _set(event, keys, value)
    assert_bad_event(handler, source, event, mentions)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("body", "b64", "mentions"),
    [
        (f'{{"a": "{SURROGATE}"}}', False, "not valid Unicode"),
        (5, False, "not a string"),
        ({"a": 1}, False, "not a string"),
        (["a"], False, "not a string"),
        ("***", True, "not valid base64"),
        ("é", True, "not valid base64"),
        ('{"a": 1}', "false", "not a boolean"),  # the string "false" is not false
    ],
)
def test_bad_bodies(
    handler: LambdaHandler, source: str, body: Any, b64: Any, mentions: str
) -> None:
    event = base_event(source, "POST")
    _set(event, FIELDS[source]["body"], body)
    _set(event, FIELDS[source]["b64"], b64)
    assert_bad_event(handler, source, event, mentions)


@pytest.mark.parametrize("source", SOURCES)
def test_a_json_body_and_a_base64_one_still_arrive(handler: LambdaHandler, source: str) -> None:
    import base64

    for body, b64 in (
        ('{"x": "ü"}', False),
        (base64.b64encode('{"x": "ü"}'.encode()).decode(), True),
    ):
        event = base_event(source, "POST")
        _set(event, FIELDS[source]["body"], body)
        _set(event, FIELDS[source]["b64"], b64)
        assert echo(handler(event, Context()))["request"]["payload"] == {"x": "ü"}


V2_SOURCES = ["apigw-http-v2-minimal-get", "function-url-get-root"]


@pytest.mark.parametrize("source", V2_SOURCES)
@pytest.mark.parametrize(
    ("role", "value", "mentions"),
    [
        ("raw_query", f"name={SURROGATE}", "rawQueryString is not valid Unicode"),
        ("raw_query", 5, "rawQueryString is a number"),
        ("raw_query", ["name=x"], "rawQueryString is an array"),
        ("cookies", "a=1", "cookies is a string"),
        ("cookies", [5], "cookies[] is a number"),
        ("cookies", [None], "cookies[] is null"),
        ("cookies", {"a": "1"}, "cookies is an object"),
    ],
)
def test_bad_v2_query_strings_and_cookies(
    handler: LambdaHandler, source: str, role: str, value: Any, mentions: str
) -> None:
    event = base_event(source)
    _set(event, FIELDS[source][role], value)
    assert_bad_event(handler, source, event, mentions)


@pytest.mark.parametrize(
    ("source", "role"),
    [(s, r) for s in SOURCES for r in ("query", "multi_query") if r in FIELDS[s]],
)
def test_a_lone_surrogate_in_a_query_map(handler: LambdaHandler, source: str, role: str) -> None:
    event = map_event(source, role)
    value = [SURROGATE] if role == "multi_query" else SURROGATE
    _set(event, FIELDS[source][role], {"name": value})
    if role == "query" and "multi_query" in FIELDS[source]:
        _set(event, FIELDS[source]["multi_query"], None)
    assert_bad_event(handler, source, event, "not valid Unicode")


def test_a_lone_surrogate_in_a_lattice_raw_path_query(handler: LambdaHandler) -> None:
    source = "vpc-lattice-v1-base64"
    event = base_event(source)
    event["raw_path"] = f"/my/path?name={SURROGATE}"
    assert_bad_event(handler, source, event, "raw_path is not valid Unicode")


@pytest.mark.parametrize("source", V2_SOURCES)
def test_a_raw_query_beyond_ascii_is_percent_encoded(handler: LambdaHandler, source: str) -> None:
    event = base_event(source)
    event["rawQueryString"] = "name=caf\u00e9 au lait"
    assert echo(handler(event, Context()))["request"]["name"] == "caf\u00e9 au lait"


# -- the request context: values metadata cannot carry are left out, never a 500 ---------


CONTEXT_SOURCES = [s for s in SOURCES if "source_ip" in FIELDS[s]]


@pytest.mark.parametrize("source", CONTEXT_SOURCES)
@pytest.mark.parametrize(
    "value", ["1.2.3.4\n", "\u00e9", "1.2.3.4, 6.6.6.6", "", 5, None, {"ip": "1.2.3.4"}]
)
def test_a_source_ip_that_is_not_an_address_is_not_forwarded(
    handler: LambdaHandler, source: str, value: Any
) -> None:
    event = base_event(source)
    _set(event, FIELDS[source]["source_ip"], value)
    for name in [k for k in event.get("headers") or {} if k.lower() == "x-forwarded-for"]:
        del event["headers"][name]
    event.pop("multiValueHeaders", None)
    md = echo(handler(event, Context()))["metadata"]
    assert "x-forwarded-for" not in md


@pytest.mark.parametrize("source", CONTEXT_SOURCES)
def test_a_real_source_ip_is_forwarded(handler: LambdaHandler, source: str) -> None:
    event = base_event(source)
    for ip in ("198.51.100.7", "2001:db8::1"):
        _set(event, FIELDS[source]["source_ip"], ip)
        assert echo(handler(event, Context()))["metadata"]["x-forwarded-for"].endswith(ip)


@pytest.mark.parametrize("source", CONTEXT_SOURCES)
@pytest.mark.parametrize("value", ["a\nb", "a\r\nb", "\u00e9", "", 5, None, ["id"]])
def test_a_request_id_metadata_cannot_carry_is_left_out(
    handler: LambdaHandler, source: str, value: Any
) -> None:
    event = base_event(source)
    _set(event, FIELDS[source]["request_id"], value)
    assert "x-apigateway-request-id" not in echo(handler(event, Context()))["metadata"]


def test_an_authorizer_that_is_not_json_is_left_out(handler: LambdaHandler) -> None:
    event = load("apigw-http-v2-get-cookies-query")
    event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": object()}}}
    assert "x-apigateway-authorizer" not in echo(handler(event, Context()))["metadata"]
    event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "caf\u00e9\n" + SURROGATE}}}
    claims = echo(handler(event, Context()))["metadata"]["x-apigateway-authorizer"]
    assert json.loads(claims)["jwt"]["claims"]["sub"] == "caf\u00e9\n" + SURROGATE


# -- the Lambda context: every bad value is handled -----------------------------------------


class OddContext:
    """A context whose parts are missing, raise, or answer nonsense."""

    def __init__(self, remaining: Any = 3000, request_id: Any = "req-1", *, raises: bool = False):
        if request_id is not _MISSING:
            self.aws_request_id = request_id
        if remaining is not _MISSING:
            self._remaining = remaining
            self._raises = raises
            self.get_remaining_time_in_millis = self._get

    def _get(self) -> Any:
        if self._raises:
            raise RuntimeError("context broken")
        return self._remaining


_MISSING = object()


def _deadline(response: dict[str, Any]) -> float:
    return float(echo(response)["metadata"]["deadline"])


@pytest.mark.parametrize(
    "context",
    [
        OddContext(remaining=_MISSING),
        OddContext(raises=True),
        OddContext(remaining="3000"),
        OddContext(remaining=None),
        OddContext(remaining=math.nan),
        OddContext(remaining=math.inf),
        OddContext(remaining=10**15),
        OddContext(remaining=10**400),
        OddContext(remaining=True),
        OddContext(remaining=[3000]),
        None,
        object(),
    ],
    ids=[
        "missing",
        "raises",
        "str",
        "None",
        "nan",
        "inf",
        "1e15",
        "1e400",
        "bool",
        "list",
        "no-context",
        "bare-object",
    ],
)
def test_a_context_without_a_usable_remaining_time_gets_the_capped_deadline(
    handler: LambdaHandler, context: Any
) -> None:
    # max_deadline (900 s, Lambda's longest timeout) less the 0.5 s margin; the
    # server sees it rounded up to the grpc-timeout header's precision.
    deadline = _deadline(handler(base_event("apigw-http-v2-minimal-get"), context))
    assert 890 < deadline <= 900


def test_max_deadline_is_configurable(sock_dir: Path) -> None:
    h = serve_lambda(
        ReportingServicer(),
        lambda_options=LambdaOptions(socket_dir=str(sock_dir), max_deadline=60, deadline_margin=5),
    )
    try:
        event = base_event("apigw-http-v2-minimal-get")
        assert 50 < _deadline(h(event, OddContext(remaining=None))) <= 56
        assert 50 < _deadline(h(event, OddContext(remaining=10**9))) <= 56
        assert 4 < _deadline(h(event, OddContext(remaining=10_000))) <= 6
    finally:
        h.stop()


@pytest.mark.parametrize("remaining", [0, -5, -(10**15), -math.inf, 1.5])
def test_no_time_left_answers_504_at_once(handler: LambdaHandler, remaining: Any) -> None:
    event = base_event("apigw-http-v2-minimal-get")
    event["rawPath"] = "/hang"
    response = handler(event, OddContext(remaining=remaining))
    assert (response["statusCode"], json.loads(response["body"])["code"]) == (504, 4)


def test_a_float_remaining_time_is_used(handler: LambdaHandler) -> None:
    deadline = _deadline(handler(base_event("apigw-http-v2-minimal-get"), OddContext(2500.0)))
    assert 1 < deadline <= 2.1


@pytest.mark.parametrize(
    "request_id", ["a\r\nb", "caf\u00e9", SURROGATE, "", 5, None, b"req", _MISSING]
)
def test_a_request_id_that_is_not_printable_ascii_is_left_out(
    handler: LambdaHandler, request_id: Any
) -> None:
    md = echo(handler(base_event("apigw-http-v2-minimal-get"), OddContext(request_id=request_id)))
    assert "x-lambda-request-id" not in md["metadata"]


def test_a_good_request_id_is_sent(handler: LambdaHandler) -> None:
    md = echo(handler(base_event("apigw-http-v2-minimal-get"), OddContext(request_id="r-1")))
    assert md["metadata"]["x-lambda-request-id"] == "r-1"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("deadline_margin", -1, ValueError),
        ("deadline_margin", math.nan, ValueError),
        ("deadline_margin", "1", TypeError),
        ("max_deadline", math.inf, ValueError),
        ("max_deadline", 0.25, ValueError),  # shorter than the margin
        ("max_workers", 0, ValueError),
        ("max_workers", 2.5, TypeError),
        ("socket_dir", "", ValueError),
    ],
)
def test_lambda_options_are_checked(field: str, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=field):
        LambdaOptions(**{field: value})


# -- replies no event source can carry -------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_a_reply_header_no_source_can_carry_is_dropped(source: str) -> None:
    from grpcgw.awslambda.events import EventOptions, detect
    from grpcgw.gateway import HttpResponse

    headers = [
        ("X-Ok", "fine\tvalue"),
        ("X-Crlf", "a\r\nSet-Cookie: evil=1"),
        ("X-Nul", "a\x00b"),
        ("X-Surrogate", SURROGATE),
        ("Bad Name", "x"),
        ("X-Int", 5),
        ("X-Also-Ok", "caf\u00e9"),
    ]
    out = detect(base_event(source), EventOptions()).response(
        HttpResponse(200, headers, b"{}")  # type: ignore[arg-type]
    )
    json.dumps(out).encode()  # what awslambdaric does with it: must not fail
    names = set(out.get("headers") or out.get("multiValueHeaders") or {})
    assert names == {"X-Ok", "X-Also-Ok"}


class _WildHook:
    """A response hook that puts a header value with CR/LF on every reply."""

    def __call__(self, request: Any, response: Any, reply: Any) -> Any:
        response.headers.append(("X-Injected", "a\r\nb"))
        response.headers.append(("X-Kept", "ok"))
        return response


def _with_response_hook(h: LambdaHandler, hook: Any) -> None:
    """Give the handler's gateway a ``response_hook`` (what a user's may do)."""
    from grpcgw.gateway import Gateway

    h._gateway = Gateway(
        [s.descriptor for s in h.services],
        invoker=h._invoker,
        options=h.options,
        response_hook=hook,
    )


def test_a_handler_never_crashes_on_a_reply_it_cannot_shape(sock_dir: Path) -> None:
    h = serve_lambda(ReportingServicer(), lambda_options=LambdaOptions(socket_dir=str(sock_dir)))
    try:
        _with_response_hook(h, _WildHook())
        for source in SOURCES:
            out = h(base_event(source), Context())
            assert out["statusCode"] == 200
            headers = out.get("headers") or out.get("multiValueHeaders")
            assert "X-Kept" in headers
            assert "X-Injected" not in headers
        # Whatever else goes wrong inside becomes a 500 Status in the source's shape.
        _with_response_hook(h, lambda request, response, reply: 42)
        for source in SOURCES:
            out = h(base_event(source), Context())
            assert out == ERROR_SHAPES_ALL[source](500, out["body"], {})
            assert json.loads(out["body"]) == {
                "code": 13,
                "message": "internal gateway error",
                "details": [],
            }
    finally:
        h.stop()


# -- no exception but EventSourceError, whatever the event ------------------------------------

_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from([SURROGATE, "\r\n", "/my/path", "GET", "%zz", "a=b&c", "\x00"]),
)
_json = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _all_paths(event: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(event, dict):
        for k, v in event.items():
            out.extend(_all_paths(v, (*prefix, k)))
    return out


@settings(
    max_examples=5000 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    source=st.sampled_from(SOURCES),
    data=st.data(),
)
def test_no_exception_but_event_source_error_leaves_the_handler(
    handler: LambdaHandler, source: str, data: st.DataObject
) -> None:
    event = base_event(source)
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(_all_paths(event)))
        value = data.draw(_json)
        with contextlib.suppress(TypeError, KeyError):  # a parent is no longer a map
            _set(event, where, value)
    try:
        out = handler(copy.deepcopy(event), Context())
    except EventSourceError:
        return  # mutated out of being an HTTP event at all
    assert isinstance(out, dict)
    status = out["statusCode"]
    assert 200 <= status <= 599
    json.dumps(out).encode()
    if status >= 400 and not out.get("isBase64Encoded"):
        body = json.loads(out["body"])
        assert set(body) == {"code", "message", "details"}
        assert status != 500 or body["message"] != "internal gateway error", event
