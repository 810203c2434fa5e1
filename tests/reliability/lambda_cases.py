"""What hostile Lambda events and contexts do: one table, for ``serve_lambda`` in
process and under the real awslambdaric.

Each :class:`EventCase` is a real sample event of one source
(tests/data/lambda-events) turned into a body-less ``GET /my/path`` and then
mutated in one place, with the answer it must get: ``400 INVALID_ARGUMENT`` in
the source's own response shape, its message naming the field (``mentions``),
or ``200`` (the value is taken, or left out where it is request context that
gRPC metadata cannot carry), with a check of what reached the servicer.
Contexts that are missing, raise or answer nonsense are in :data:`CONTEXT_CASES`
(in process only: the runtime builds its own context).
"""

from __future__ import annotations

import base64
import http
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[1] / "data" / "lambda-events"
SURROGATE = "\ud800"


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


# -- the sources, each with a GET /my/path event and where its fields are ----------------

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
V2_SOURCES = ["apigw-http-v2-minimal-get", "function-url-get-root"]
CONTEXT_SOURCES = [s for s in SOURCES if "source_ip" in FIELDS[s]]


def _described(status: int) -> str:
    return f"{status} {http.HTTPStatus(status).phrase}"


def error_shape(source: str, status: int, body: str) -> dict[str, Any]:
    """The whole error response ``source`` must give: its own shape, a JSON body."""
    if source == "apigw-rest-v1-get-query-multivalue":
        return {
            "statusCode": status,
            "multiValueHeaders": {"Content-Type": ["application/json"]},
            "body": body,
            "isBase64Encoded": False,
        }
    if source in V2_SOURCES:
        return {
            "statusCode": status,
            "headers": {"Content-Type": "application/json"},
            "cookies": [],
            "body": body,
            "isBase64Encoded": False,
        }
    shape: dict[str, Any] = {"statusCode": status}
    if source.startswith(("alb", "vpc-lattice")):
        shape["statusDescription"] = _described(status)
    if source == "alb-get-multi-value-headers":
        shape["multiValueHeaders"] = {"Content-Type": ["application/json"]}
    else:
        shape["headers"] = {"Content-Type": "application/json"}
    shape.update(body=body, isBase64Encoded=False)
    return shape


def set_at(event: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    target = event
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value


def get_at(event: dict[str, Any], keys: tuple[str, ...]) -> Any:
    target: Any = event
    for key in keys:
        target = target[key]
    return target


def base_event(source: str, method: str = "GET", path: str = "/my/path") -> dict[str, Any]:
    """The source's sample event as a body-less ``method path`` with no query."""
    event = load(source)
    fields = FIELDS[source]
    set_at(event, fields["method"], method)
    set_at(event, fields["path"], path)
    for role in ("query", "multi_query"):
        if role in fields:
            set_at(event, fields[role], None)
    if "raw_query" in fields:
        set_at(event, fields["raw_query"], "")
    set_at(event, fields["body"], None)
    set_at(event, fields["b64"], False)
    return event


def map_event(source: str, role: str) -> dict[str, Any]:
    """:func:`base_event`, where the ``role`` map is the one read: a v2 event reads
    ``queryStringParameters`` only without a ``rawQueryString``, a REST event its
    single-value maps only without the multi-value ones."""
    event = base_event(source)
    if role == "query" and "raw_query" in FIELDS[source]:
        set_at(event, FIELDS[source]["raw_query"], None)
    if f"multi_{role}" in FIELDS[source]:
        set_at(event, FIELDS[source][f"multi_{role}"], None)
    return event


class Context:
    """A Lambda context with a fixed request id and a chosen remaining time."""

    def __init__(self, remaining_ms: int = 3000) -> None:
        self.aws_request_id = "c0ffee00-0000-4000-8000-000000000001"
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


# -- the table ----------------------------------------------------------------------------

Check = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class EventCase:
    name: str
    source: str
    event: dict[str, Any]
    #: 400 for a bad event, 200 when answered by the servicer, or the gateway's status.
    status: int
    #: The ``google.rpc.Status`` code of an error.
    code: int | None = None
    #: What the error's message names.
    mentions: str = ""
    #: A check of the echo (``{"request": ..., "metadata": ...}``) of a 200.
    check: Check | None = field(default=None, compare=False)
    #: What part of the event the case is about (for counts in docs/reliability.md).
    section: str = ""


EVENT_CASES: list[EventCase] = []
_section = ""


def section(name: str) -> None:
    global _section
    _section = name


def bad(name: str, source: str, event: dict[str, Any], mentions: str) -> None:
    EVENT_CASES.append(
        EventCase(f"{source}: {name}", source, event, 400, 3, mentions, section=_section)
    )


def good(name: str, source: str, event: dict[str, Any], check: Check | None = None) -> None:
    EVENT_CASES.append(
        EventCase(f"{source}: {name}", source, event, 200, check=check, section=_section)
    )


def _param1(expected: list[str]) -> Check:
    def check(echo: dict[str, Any]) -> None:
        assert echo["request"]["parameter1"] == expected, echo

    return check


def _not_in_metadata(key: str) -> Check:
    def check(echo: dict[str, Any]) -> None:
        assert key not in echo["metadata"], echo

    return check


section("header and query maps")
# Header and query maps: an entry of every JSON type.
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

for _source in SOURCES:
    for _role in MAP_ROLES:
        if _role not in FIELDS[_source]:
            continue
        _keys = FIELDS[_source][_role]
        _entry = "Grpc-Metadata-Note" if "headers" in _role else "parameter1"
        for _value, _single, _multi in MAP_VALUES:
            _event = map_event(_source, _role)
            _set = {**(get_at(_event, _keys) or {}), _entry: _value}
            set_at(_event, _keys, _set)
            _name = f"{_keys[-1]} entry {json.dumps(_value)}"
            if _single if not _role.startswith("multi") else _multi:
                _check = None
                if "query" in _role:
                    _check = _param1(_value if isinstance(_value, list) else [_value])
                good(_name, _source, _event, _check)
            else:
                bad(_name, _source, _event, _keys[-1])
        # The map itself of another type.
        for _value in (5, "abc", ["a"], True):
            _event = map_event(_source, _role)
            set_at(_event, _keys, _value)
            bad(f"{_keys[-1]} is {json.dumps(_value)}", _source, _event, _keys[-1])

_event = base_event("apigw-rest-v1-get-query-multivalue")
_event["multiValueQueryStringParameters"] = {"multiValueName": "abc"}  # was a, b, c
bad(
    "a multi-value string",
    "apigw-rest-v1-get-query-multivalue",
    _event,
    "multiValueQueryStringParameters['multiValueName']",
)
_event = base_event("apigw-http-v2-minimal-get")
_event["headers"] = {5: "x"}
bad("a header name that is a number", "apigw-http-v2-minimal-get", _event, "headers")

section("paths, methods, base64 flags, bodies")
# Paths, methods, base64 flags, bodies.
for _source in SOURCES:
    for _role, _value, _mentions in [
        ("path", f"/my/{SURROGATE}", "not valid Unicode"),
        ("path", 5, "not a string"),
        ("path", ["/my/path"], "not a string"),
        ("method", 5, "not a string"),
        ("method", None, "not a string"),
        ("method", "G ET", "not an HTTP method"),
        ("method", SURROGATE, "not an HTTP method"),
        ("method", "", "not an HTTP method"),
        ("method", "GET\r\n", "not an HTTP method"),
        ("b64", "false", "not a boolean"),
        ("b64", "true", "not a boolean"),
        ("b64", 1, "not a boolean"),
        ("b64", 0, "not a boolean"),
        ("b64", [], "not a boolean"),
    ]:
        _event = base_event(_source)
        set_at(_event, FIELDS[_source][_role], _value)
        bad(f"{_role} {json.dumps(_value)}", _source, _event, _mentions)
    _event = base_event(_source)
    set_at(_event, FIELDS[_source]["path"], None)
    good("path null (read as /: GET / of the echo service)", _source, _event)
    for _body, _b64, _mentions in [
        (f'{{"a": "{SURROGATE}"}}', False, "not valid Unicode"),
        (5, False, "not a string"),
        ({"a": 1}, False, "not a string"),
        (["a"], False, "not a string"),
        ("***", True, "not valid base64"),
        ("\u00e9", True, "not valid base64"),
        ('{"a": 1}', "false", "not a boolean"),  # the string "false" is not false
    ]:
        _event = base_event(_source, "POST")
        set_at(_event, FIELDS[_source]["body"], _body)
        set_at(_event, FIELDS[_source]["b64"], _b64)
        bad(f"body {json.dumps(_body)}, base64 {json.dumps(_b64)}", _source, _event, _mentions)
    for _body, _b64 in (
        ('{"x": "\u00fc"}', False),
        (base64.b64encode('{"x": "\u00fc"}'.encode()).decode(), True),
    ):
        _event = base_event(_source, "POST")
        set_at(_event, FIELDS[_source]["body"], _body)
        set_at(_event, FIELDS[_source]["b64"], _b64)

        def _payload(echo: dict[str, Any]) -> None:
            assert echo["request"]["payload"] == {"x": "\u00fc"}, echo

        good(f"a JSON body, base64 {_b64}", _source, _event, _payload)
    # A lone surrogate in a query map (JSON can write one; UTF-8 cannot).
    for _role in ("query", "multi_query"):
        if _role not in FIELDS[_source]:
            continue
        _event = map_event(_source, _role)
        _value = [SURROGATE] if _role == "multi_query" else SURROGATE
        set_at(_event, FIELDS[_source][_role], {"name": _value})
        if _role == "query" and "multi_query" in FIELDS[_source]:
            set_at(_event, FIELDS[_source]["multi_query"], None)
        bad(
            f"a lone surrogate in {FIELDS[_source][_role][-1]}",
            _source,
            _event,
            "not valid Unicode",
        )
    # Hostile paths that are well-formed strings: answered by the gateway.
    for _path, _status, _code in [
        ("/my/%zz", 400, 3),
        ("/%ed%a0%80", 400, 3),  # GET /{name}: a surrogate, escaped
        ("/" + "a" * 10000, 200, 0),  # GET /{name}
        ("/v1" + "/a" * 2000, 404, 5),
    ]:
        _event = base_event(_source, path=_path)
        EVENT_CASES.append(
            EventCase(
                f"{_source}: path {_path[:12]} ({len(_path)} chars)",
                _source,
                _event,
                _status,
                _code or None,
                section=_section,
            )
        )

section("raw query strings and cookies")
# HTTP API and function URLs: raw query strings and cookies.
for _source in V2_SOURCES:
    for _role, _value, _mentions in [
        ("raw_query", f"name={SURROGATE}", "rawQueryString is not valid Unicode"),
        ("raw_query", 5, "rawQueryString is a number"),
        ("raw_query", ["name=x"], "rawQueryString is an array"),
        ("raw_query", "parameter1=%zz", "malformed percent-escape"),
        ("cookies", "a=1", "cookies is a string"),
        ("cookies", [5], "cookies[] is a number"),
        ("cookies", [None], "cookies[] is null"),
        ("cookies", {"a": "1"}, "cookies is an object"),
    ]:
        _event = base_event(_source)
        set_at(_event, FIELDS[_source][_role], _value)
        bad(f"{_role} {json.dumps(_value)}", _source, _event, _mentions)
    _event = base_event(_source)
    _event["rawQueryString"] = "name=caf\u00e9 au lait"

    def _name(echo: dict[str, Any]) -> None:
        assert echo["request"]["name"] == "caf\u00e9 au lait", echo

    good("a raw query beyond ASCII", _source, _event, _name)

_event = base_event("vpc-lattice-v1-base64")
_event["raw_path"] = f"/my/path?name={SURROGATE}"
bad(
    "a lone surrogate in raw_path's query",
    "vpc-lattice-v1-base64",
    _event,
    "raw_path is not valid Unicode",
)

section("request context")
# The request context: values metadata cannot carry are left out, never a 500.
for _source in CONTEXT_SOURCES:
    for _value in ["1.2.3.4\n", "\u00e9", "1.2.3.4, 6.6.6.6", "", 5, None, {"ip": "1.2.3.4"}]:
        _event = base_event(_source)
        set_at(_event, FIELDS[_source]["source_ip"], _value)
        for _header in [k for k in _event.get("headers") or {} if k.lower() == "x-forwarded-for"]:
            del _event["headers"][_header]
        _event.pop("multiValueHeaders", None)
        good(f"sourceIp {json.dumps(_value)}", _source, _event, _not_in_metadata("x-forwarded-for"))
    for _value in ["a\nb", "a\r\nb", "\u00e9", "", 5, None, ["id"]]:
        _event = base_event(_source)
        set_at(_event, FIELDS[_source]["request_id"], _value)
        good(
            f"requestId {json.dumps(_value)}",
            _source,
            _event,
            _not_in_metadata("x-apigateway-request-id"),
        )

_event = load("apigw-http-v2-get-cookies-query")
_event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "caf\u00e9\n" + SURROGATE}}}


def _claims(echo: dict[str, Any]) -> None:
    claims = json.loads(echo["metadata"]["x-apigateway-authorizer"])
    assert claims["jwt"]["claims"]["sub"] == "caf\u00e9\n" + SURROGATE, echo


good("an authorizer claim no header could carry", "apigw-http-v2-minimal-get", _event, _claims)
for _source in SOURCES:
    # A header forging a request-context key never becomes it.
    _event = base_event(_source)
    _header_map = "headers" if "headers" in FIELDS[_source] else "multi_headers"
    _keys = FIELDS[_source][_header_map]
    _forged = "forged" if _header_map == "headers" else ["forged"]
    set_at(
        _event,
        _keys,
        {
            **(get_at(_event, _keys) or {}),
            "Grpc-Metadata-X-Apigateway-Authorizer": _forged,
            "Grpc-Metadata-X-Lambda-Request-Id": _forged,
        },
    )

    def _unforged(echo: dict[str, Any]) -> None:
        assert echo["metadata"].get("x-apigateway-authorizer") != "forged", echo
        assert echo["metadata"].get("x-lambda-request-id") != "forged", echo

    good("forged request-context headers", _source, _event, _unforged)

# -- contexts ------------------------------------------------------------------------------


class OddContext:
    """A context whose parts are missing, raise, or answer nonsense."""

    def __init__(self, remaining: Any = 3000, request_id: Any = "req-1", *, raises: bool = False):
        if request_id is not MISSING:
            self.aws_request_id = request_id
        if remaining is not MISSING:
            self._remaining = remaining
            self._raises = raises
            self.get_remaining_time_in_millis = self._get

    def _get(self) -> Any:
        if self._raises:
            raise RuntimeError("context broken")
        return self._remaining


MISSING = object()

#: (name, context): each gets the capped deadline (``max_deadline`` less the margin).
CONTEXT_CASES: list[tuple[str, Any]] = [
    ("no get_remaining_time_in_millis", OddContext(remaining=MISSING)),
    ("get_remaining_time_in_millis raises", OddContext(raises=True)),
    ("remaining is a string", OddContext(remaining="3000")),
    ("remaining is None", OddContext(remaining=None)),
    ("remaining is NaN", OddContext(remaining=math.nan)),
    ("remaining is infinite", OddContext(remaining=math.inf)),
    ("remaining is 10**15 ms", OddContext(remaining=10**15)),
    ("remaining is 10**400 ms", OddContext(remaining=10**400)),
    ("remaining is True", OddContext(remaining=True)),
    ("remaining is a list", OddContext(remaining=[3000])),
    ("no context", None),
    ("a bare object", object()),
]
#: (name, request id): left out of the metadata, the call still made.
REQUEST_ID_CASES: list[tuple[str, Any]] = [
    ("CR LF", "a\r\nb"),
    ("non-ASCII", "caf\u00e9"),
    ("lone surrogate", SURROGATE),
    ("empty", ""),
    ("a number", 5),
    ("None", None),
    ("bytes", b"req"),
    ("missing", MISSING),
]
