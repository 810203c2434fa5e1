"""Fuzzing the pure layers: each answers a value or its own error, never anything else.

- the template parser: a :class:`PathTemplate` or a :class:`TemplateError`;
- the router (the gateway's routes): a match, or a :class:`GatewayError` (404, 405, 400);
- headers to metadata: metadata and a timeout, or a :class:`MetadataError`;
- the query parser and the JSON body reader: a message, or a :class:`TranscodeError`;
- the Lambda event adapters: a source or an :class:`EventSourceError`, then a request
  or an :class:`InvalidEventError`, then a response dict JSON can carry; and the
  whole handler: a response in shape, or :class:`EventSourceError`.

The default (``ci``) budgets keep this under a few seconds; ``tox -e fuzz``
(``HYPOTHESIS_PROFILE=fuzz``) runs each property with 50-100 times more examples.
(The JSON codecs' differential tests against ``json_format`` are in
test_protojson.py, which ``tox -e fuzz`` runs with its own large budget.)
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import string
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from grpcgwtest.client.v1 import client_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grpcgw import Gateway, GatewayError, GatewayOptions, LambdaOptions, serve_lambda
from grpcgw.awslambda import EventSourceError, LambdaHandler
from grpcgw.awslambda.events import EventOptions, InvalidEventError, detect
from grpcgw.exchange import HttpResponse
from grpcgw.httprule import PathTemplate, TemplateError
from grpcgw.metadata import MetadataError, call_metadata
from grpcgw.transcode import RequestTranscoder, TranscodeError

from .apps import Reporting, servicers
from .lambda_cases import SOURCES, SURROGATE, Context, base_event

FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
T = TypeVar("T")


def outcome(call: Callable[[], T], errors: type[Exception]) -> tuple[T | None, Exception | None]:
    """What ``call`` returns, or the ``errors`` it raises (anything else propagates)."""
    try:
        return call(), None
    except errors as exc:
        return None, exc


def budget(ci: int, fuzz: int) -> settings:
    return settings(
        max_examples=fuzz if FUZZ else ci,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


#: Characters that matter to each grammar, with some that never should appear.
_ODD = ["\x00", "\r", "\n", "\t", " ", "\u00e9", "\u0661", "\uff11", SURROGATE, "\udfff", "\x7f"]
_TEMPLATE_CHARS = st.sampled_from([*"/{}=*:.-_%aZ09", "**", "{a=*}", "{a.b}", ":v", *_ODD])
_PATH_CHARS = st.sampled_from(
    [*"/abvs1:.-_~%*", "v1", "shelves", "books", "ping", "%2F", "%2f", "%zz", "%E2%82%AC",
     "%ed%a0%80", "%c0%af", "%00", "%", "..", "//", "?", "#", ";", *_ODD]
)  # fmt: skip
_METHODS = st.sampled_from(
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "get", "FOO", "", "G ET"]
) | st.text(max_size=8)


# -- the template parser ---------------------------------------------------------------------


@budget(500, 50_000)
@given(st.lists(_TEMPLATE_CHARS, max_size=30).map("".join) | st.text(max_size=40))
def test_template_parser_answers_a_template_or_a_template_error(text: str) -> None:
    try:
        template = PathTemplate.parse(text)
    except TemplateError:
        return
    assert isinstance(template, PathTemplate)


# -- the router ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gateway() -> Gateway:
    # Only routing is used: nothing is ever dialed.
    return Gateway(servicers(), target="unix:///nonexistent/grpcgw-fuzz.sock")


@budget(500, 50_000)
@given(method=_METHODS, path=st.lists(_PATH_CHARS, max_size=25).map("".join))
def test_the_router_answers_a_match_or_a_status(gateway: Gateway, method: str, path: str) -> None:
    for raw in (path, "/" + path):
        match, error = outcome(lambda raw=raw: gateway.match(method, raw), GatewayError)
        if isinstance(error, GatewayError):
            assert error.http_status in (400, 404, 405), error
            assert error.message
            json.loads(error.body())
        else:
            assert match is not None
            assert match.target.rpc


# -- headers to metadata -------------------------------------------------------------------------

_HEADER_NAMES = st.sampled_from(
    ["Authorization", "Grpc-Timeout", "Grpc-Metadata-X", "Grpc-Metadata-X-Bin", "Host", "Cookie",
     "X-Forwarded-For", "X-Forwarded-Host", "Content-Type", "Grpc-Metadata-Grpc-Status",
     "Grpc-Metadata-X-Lambda-Request-Id", "Grpc-Metadata-", "User-Agent", "Te", "Connection"]
) | st.text(max_size=12)  # fmt: skip
_HEADER_VALUES = (
    st.sampled_from(["1S", "100m", "99999999H", "0S", "\u0661S", "AAEC", "***", "", *_ODD])
    | st.text(max_size=20)
    | st.text(max_size=3).map(lambda t: t * 3000)
)


@budget(500, 50_000)
@given(headers=st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=8))
def test_headers_become_metadata_or_a_metadata_error(headers: list[tuple[str, str]]) -> None:
    result, error = outcome(lambda: call_metadata(headers, remote_addr="192.0.2.1"), MetadataError)
    if result is None:
        assert str(error)
        return
    metadata, timeout = result
    assert timeout is None or timeout >= 0
    for key, value in metadata:
        assert key == key.lower()
        assert key.isascii()
        if isinstance(value, str):
            assert (value.isascii() and value.isprintable()) or value == ""


# -- the query parser and the JSON body --------------------------------------------------------

_FIELDS = [f.name for f in client_pb2.AllTypes.DESCRIPTOR.fields] + [
    f.json_name for f in client_pb2.AllTypes.DESCRIPTOR.fields
]
_KEYS = st.sampled_from(
    [*_FIELDS, "nested.label", "nested.child.name", "counts[a]", "counts[]", "min.value", "$alt"]
) | st.text(max_size=10)
_VALUES = st.sampled_from(
    ["1", "-1", "1.5", "1e400", "NaN", "inf", "true", "t", "AA==", "-_", "KIND_ONE", "1",
     "2024-01-01T00:00:00Z", "1.5s", "1h2m", "a,b", "null", "[1]", '{"a":1}', "9" * 30, *_ODD]
) | st.text(max_size=12)  # fmt: skip


def _escape(text: str, how: int) -> str:
    if how == 0:
        return text
    out = []
    for ch in text:
        if ch in string.ascii_letters + string.digits or (how == 1 and ch not in "&=%+"):
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
    return "".join(out)


@st.composite
def _queries(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(_KEYS, _VALUES, st.integers(0, 2)), max_size=6))
    query = "&".join(f"{_escape(k, h)}={_escape(v, h)}" for k, v, h in pairs)
    if draw(st.booleans()):
        query += draw(st.sampled_from(["&", "=", "%", "%z", "&&=&", "+", "a=%ff", "b"]))
    return query


_ALL_TYPES_QUERY = RequestTranscoder(
    client_pb2.AllTypes, path_fields=(), body="", options=GatewayOptions()
)
_ALL_TYPES_STRICT = RequestTranscoder(
    client_pb2.AllTypes, path_fields=(), body="", options=GatewayOptions(strict=True)
)
_ALL_TYPES_BODY = RequestTranscoder(
    client_pb2.AllTypes, path_fields=(), body="*", options=GatewayOptions()
)


@budget(500, 50_000)
@given(query=_queries() | st.text(max_size=60))
def test_the_query_parser_answers_a_message_or_a_transcode_error(query: str) -> None:
    for transcoder in (_ALL_TYPES_QUERY, _ALL_TYPES_STRICT):
        message, error = outcome(lambda t=transcoder: t.transcode({}, query, b""), TranscodeError)
        if message is None:
            assert str(error)
        else:
            message.SerializeToString()  # a message protobuf can send


_JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats() | _VALUES
_JSON = st.recursive(
    _JSON_LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=20,
)


def _body_bytes(document: Any) -> bytes:
    return json.dumps(document, allow_nan=True).encode("utf-8", "surrogatepass")


@budget(300, 30_000)
@given(
    body=st.dictionaries(_KEYS, _JSON, max_size=6).map(_body_bytes)
    | _JSON.map(_body_bytes)
    | st.binary(max_size=40)
)
def test_the_body_reader_answers_a_message_or_a_transcode_error(body: bytes) -> None:
    message, error = outcome(lambda: _ALL_TYPES_BODY.transcode({}, "", body), TranscodeError)
    if message is None:
        assert str(error)
    else:
        message.SerializeToString()


# -- the Lambda event adapters ------------------------------------------------------------

_EVENT_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from([SURROGATE, "\r\n", "/my/path", "GET", "%zz", "a=b&c", "\x00", "2.0"]),
)
_EVENT_JSON = st.recursive(
    _EVENT_LEAF,
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


def _set(event: dict[str, Any], keys: tuple[Any, ...], value: Any) -> None:
    target = event
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value


@st.composite
def _mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    """A real event of one source with one to three of its fields replaced."""
    event = base_event(draw(st.sampled_from(SOURCES)))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(_all_paths(event)))
        with contextlib.suppress(TypeError, KeyError):  # a parent is no longer a map
            _set(event, where, draw(_EVENT_JSON))
    return event


_HEADERS_OUT = st.lists(
    st.tuples(st.text(max_size=10), st.text(max_size=10) | st.sampled_from(["a\r\nb", SURROGATE])),
    max_size=4,
)


@budget(500, 50_000)
@given(
    event=_mutated_events() | st.dictionaries(st.text(max_size=10), _EVENT_JSON, max_size=6),
    status=st.integers(100, 599),
    headers=_HEADERS_OUT,
    body=st.binary(max_size=20),
)
def test_event_adapters_answer_a_request_or_their_own_errors(
    event: dict[str, Any], status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    try:
        source = detect(event, EventOptions())
    except EventSourceError:
        return
    request, error = outcome(lambda: source.request((), 1.0, "r-1"), InvalidEventError)
    if request is None:
        assert str(error)
    else:  # text UTF-8 can carry (the router answers 404 to a path without "/")
        request.path.encode("utf-8")
        request.query.encode("utf-8")
        request.body.decode("latin-1")
    out = source.response(HttpResponse(status, headers, body))
    json.dumps(out).encode("utf-8")  # what awslambdaric does with it: never fails


@pytest.fixture(scope="module")
def handler() -> Iterator[LambdaHandler]:
    directory = tempfile.mkdtemp(prefix="gw-", dir="/tmp")
    h = serve_lambda(Reporting(), lambda_options=LambdaOptions(socket_dir=directory))
    yield h
    h.stop()
    shutil.rmtree(directory, ignore_errors=True)


@budget(200, 10_000)
@given(event=_mutated_events())
def test_no_exception_but_event_source_error_leaves_the_handler(
    handler: LambdaHandler, event: dict[str, Any]
) -> None:
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
