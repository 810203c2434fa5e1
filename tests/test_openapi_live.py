"""The OpenAPI document against the live gateway (``start_local``), with schemathesis.

* the example: no 5xx; status codes, content types and bodies as documented;
* an echo service: every request the document allows is accepted (lenient and
  strict), and with ``strict=True`` every request it does not allow answers 400,
  except the input forms proto3 JSON and the query parser accept beyond the
  document (listed in ``_LENIENCIES`` and in docs/openapi.md);
* URLs built from the document as a generated client builds them (RFC 6570
  simple expansion) reach the right method with the right field values.

Examples per operation: ``GRPCGW_OPENAPI_EXAMPLES`` (``tox -e fuzz`` sets more).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import AcceptedNegativeData, FailureGroup
from schemathesis.specs.openapi import checks

import grpcgw
from grpcgw import openapi
from grpcgw.options import GatewayOptions

from .conftest import PingServicer, ShelfServicer
from .openapi_echo import EchoServicer

EXAMPLES = int(os.environ.get("GRPCGW_OPENAPI_EXAMPLES", "25"))
#: The default suite replays the same examples every run; a fuzz budget explores.
DERANDOMIZE = "GRPCGW_OPENAPI_EXAMPLES" not in os.environ
LENIENT = GatewayOptions()
STRICT = GatewayOptions(strict=True)


@schemathesis.serializer("application/x-ndjson")
def _ndjson(context: Any, value: Any) -> bytes:
    """A client stream of one message (schemathesis has no NDJSON serializer)."""
    return (json.dumps(value) + "\n").encode()


class _Server:
    """``grpcgw.start_local`` on loopback, in a thread of its own (schemathesis calls are sync)."""

    def __init__(self, servicers: list[Any], options: GatewayOptions) -> None:
        self.servicers = servicers
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(options,), daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("the gateway did not start")
        if self._error is not None:
            raise self._error
        self.base_url = f"http://127.0.0.1:{self.local.http_port}"
        self.document = self.local.gateway.openapi()

    def _run(self, options: GatewayOptions) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self.local = await grpcgw.start_local(
                *self.servicers,
                http_address="127.0.0.1:0",
                grpc_address="127.0.0.1:0",
                options=options,
                reflection=False,
            )

        try:
            self._loop.run_until_complete(start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.local.stop(0), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()


@pytest.fixture(scope="module")
def example() -> Iterator[_Server]:
    server = _Server([PingServicer(), ShelfServicer()], LENIENT)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def echo() -> Iterator[_Server]:
    server = _Server([EchoServicer()], LENIENT)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def resource_echo() -> Iterator[_Server]:
    server = _Server([EchoServicer()], GatewayOptions(openapi_path_names="resource"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strict_echo() -> Iterator[_Server]:
    server = _Server([EchoServicer()], STRICT)
    yield server
    server.stop()


def _labels(servicers: list[Any], options: GatewayOptions) -> list[str]:
    routes = openapi.compile_routes(servicers, options=options)
    document = openapi.build_document(routes, options=options)
    return [f"{m.upper()} {p}" for p, item in document["paths"].items() for m in item]


_CONFORMANCE = [
    not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def _run(
    server: _Server,
    label: str,
    mode: schemathesis.GenerationMode,
    run_checks: list[Any],
    accept: Callable[[Any, Any, Any], bool] = lambda case, error, response: False,
) -> int:
    """Send ``EXAMPLES`` generated requests to one operation; fail on any check
    failure not ``accept``-ed. Returns the number of requests sent."""
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(server.document)))
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    sent = 0

    @settings(
        max_examples=EXAMPLES,
        derandomize=DERANDOMIZE,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        nonlocal sent
        sent += 1
        response = case.call(base_url=server.base_url)
        try:
            case.validate_response(response, checks=run_checks)
        except FailureGroup as error:
            if not all(accept(case, failure, response) for failure in error.exceptions):
                raise

    with contextlib.suppress(Unsatisfiable):  # nothing to generate or to violate
        run()
    return sent


# -- the example ----------------------------------------------------------------------------------


@pytest.mark.parametrize("label", _labels([PingServicer(), ShelfServicer()], LENIENT))
def test_example_replies_as_documented(example: _Server, label: str) -> None:
    assert _run(example, label, schemathesis.GenerationMode.POSITIVE, _CONFORMANCE) > 0


# -- the echo service: positive data acceptance ---------------------------------------------------

ECHO_LABELS = _labels([EchoServicer()], LENIENT)


@pytest.mark.parametrize("label", ECHO_LABELS)
def test_every_documented_request_is_accepted(echo: _Server, label: str) -> None:
    run_checks = [*_CONFORMANCE, checks.positive_data_acceptance]
    assert _run(echo, label, schemathesis.GenerationMode.POSITIVE, run_checks) > 0


@pytest.mark.parametrize("label", ECHO_LABELS)
def test_every_documented_request_is_accepted_in_strict_mode(
    strict_echo: _Server, label: str
) -> None:
    run_checks = [*_CONFORMANCE, checks.positive_data_acceptance]
    assert _run(strict_echo, label, schemathesis.GenerationMode.POSITIVE, run_checks) > 0


# -- negative data rejection ----------------------------------------------------------------------


def _resolve(document: dict[str, Any], schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _parameter_schema(document: dict[str, Any], case: Any, name: str, where: str) -> Any:
    for param in case.operation.definition.raw.get("parameters", []):
        if param["name"] == name and param["in"] == where:
            return _resolve(document, param.get("schema", {}))
    return None


def _description(case: Any, name: str) -> str:
    for param in case.operation.definition.raw.get("parameters", []):
        if param["name"] == name and param["in"] == "path":
            return str(param.get("description", ""))
    return ""


_INT64_FORMATS = ("int64", "uint64")
_NUMBER_TEXT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|-?Infinity|NaN")


def _parameter_leniency(document: dict[str, Any], case: Any, mutation: Any) -> str | None:
    """Why the gateway rightly accepts this path or query value the document does not allow."""
    where = mutation.parameter_location.value
    schema = _parameter_schema(document, case, mutation.parameter, where)
    if schema is None:
        return None
    if "enum" in mutation.keywords and isinstance(schema.get("enum"), list):
        return "enums by number in the path and query"
    if schema.get("type") == "object" and schema.get("additionalProperties") == {"type": "string"}:
        return "query values are text: any text is a string"
    if schema.get("type") == "array":
        schema = _resolve(document, schema.get("items", {}))
    if schema.get("type") == "string" and not schema.get("pattern") and "enum" not in schema:
        return "query values are text: any text is a string"
    if (
        where == "path"
        and "pattern" in mutation.keywords
        and "Fills" in _description(case, mutation.parameter)
    ):
        return "path parts with reserved characters: accepted, delivered percent-encoded"
    return None


def _camel(name: str) -> str:
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _body_leniency(error: Any) -> str | None:
    """Why the gateway rightly accepts a body with this JSON Schema error, or ``None``.

    The input forms proto3 JSON takes beyond the document (docs/openapi.md).
    """
    value, schema, keyword = error.instance, error.schema, error.validator
    if value is None:
        return "proto3 JSON: null is a field's default"
    kind = schema.get("type") if isinstance(schema, dict) else None
    if (
        kind == "string"
        and schema.get("format") in _INT64_FORMATS
        and type(value) in (int, float)
        and float(value).is_integer()
    ):
        return "proto3 JSON: 64-bit integers as numbers (1.0 is 1)"
    if kind in ("integer", "number") and isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        return "proto3 JSON: numbers as strings"
    if "enum" in schema and type(value) is int:
        return "proto3 JSON: enums by number"
    if keyword == "additionalProperties" and isinstance(value, dict):
        extra = set(value) - set(schema.get("properties", {}))
        if all(_camel(key) in schema.get("properties", {}) for key in extra):
            return "proto3 JSON: proto field names as well as JSON names"
    if keyword == "oneOf" and isinstance(value, dict):
        members = [
            key
            for branch in schema["oneOf"][1:]
            for key in branch["required"]
            if value.get(key) is not None
        ]
        if len(members) <= 1 and all(_body_leniency(e) for e in _leaves(error)):
            return "a oneof member set to null is not set"
    return None


def _leaves(error: Any) -> list[Any]:
    """The innermost errors under a oneOf/anyOf error, minus the oneof bookkeeping."""
    out = []
    for sub in error.context or []:
        if sub.validator in ("not", "required"):
            continue
        out.extend(_leaves(sub) if sub.context else [sub])
    return out


def _body_errors(document: dict[str, Any], case: Any) -> list[Any]:
    body = case.operation.definition.raw.get("requestBody")
    if body is None or case.body is None or isinstance(case.body, bytes | str):
        return []
    schema = next(iter(body["content"].values())).get("schema", {})
    root = {**schema, "components": document["components"]}
    return list(jsonschema.Draft202012Validator(root).iter_errors(case.body))


def _ignored_query_keys(server: _Server, case: Any) -> bool:
    """Whether every undocumented query key is one the gateway ignores even in strict
    mode: ``$``-prefixed Google system parameters, keys naming a path- or
    body-bound field (docs/conformance-transcoding.md), and a PATCH's field mask
    (docs/openapi.md, "What the gateway accepts beyond the document")."""
    documented = {p["name"] for p in case.operation.definition.raw.get("parameters", [])}
    raw = case.operation.definition.raw
    suffix = raw["operationId"].rpartition("_")[2]
    bindings = [r for r in server.local.gateway.routes if r.rpc == raw["x-grpcgw-rpc"]]
    plan = bindings[int(suffix) if suffix.isdigit() else 0].request.plan
    bound = set(plan.masked)
    bound |= {f.json_name for f in plan.message.fields if f.name in plan.masked}
    if plan.fill_mask is not None:  # the PATCH's mask, which the body's keys fill otherwise
        bound |= {plan.fill_mask.name, plan.fill_mask.json_name}
    for key in case.query or {}:
        if key in documented:
            continue
        if not (key.startswith("$") or re.split(r"[.\[]", key)[0] in bound):
            return False
    return True


def _accepted_leniency(server: _Server) -> Callable[[Any, Any, Any], bool]:
    """Accept a "schema-violating request accepted" failure when every violation the
    request really carries is one of the documented input forms."""
    document = server.document

    def accept(case: Any, error: Any, response: Any) -> bool:
        if not isinstance(error, AcceptedNegativeData):
            return False
        mutations = case.meta.phase.data.mutations if case.meta is not None else ()
        for mutation in mutations:
            where = mutation.parameter_location.value
            if where == "query" and mutation.parameter is None:  # an extra key
                if not _ignored_query_keys(server, case):
                    return False
                continue
            if where in ("path", "query") and not _parameter_leniency(document, case, mutation):
                return False
            if where not in ("path", "query", "body"):
                return False
        return all(_body_leniency(e) for e in _body_errors(document, case))

    return accept


@pytest.mark.parametrize("label", ECHO_LABELS)
def test_strict_mode_rejects_what_the_document_does_not_allow(
    strict_echo: _Server, label: str
) -> None:
    run_checks = [not_a_server_error, checks.negative_data_rejection]
    accept = _accepted_leniency(strict_echo)
    _run(strict_echo, label, schemathesis.GenerationMode.NEGATIVE, run_checks, accept)


# -- URLs as a generated client builds them -------------------------------------------------------


def _expand(path: str, values: dict[str, Any]) -> str:
    """RFC 6570 simple expansion: every character but the unreserved ones percent-encoded."""

    def one(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        if isinstance(value, bool):
            value = "true" if value else "false"
        return urllib.parse.quote(str(value), safe="")

    return re.sub(r"\{([^}]+)\}", one, path)


_CASES = {
    # naming -> (method, documented path, rpc, field path read back, template of the field value)
    "field": [
        ("GET", "/v1/groups/{name}/things/{name_1}:get", "GetThing", "name",
         "groups/{name}/things/{name_1}"),
        ("PATCH", "/v1/groups/{thingName}/things/{thingName_1}", "UpdateThing", "thing.name",
         "groups/{thingName}/things/{thingName_1}"),
        ("PUT", "/v1/things/{thingName}", "UpdateThing", "thing.name", "things/{thingName}"),
        ("POST", "/v1/groups/{parent}/things", "CreateThing", "parent", "groups/{parent}"),
    ],
    "resource": [
        # GetThingRequest has a query parameter `group`: that part keeps the field naming.
        ("GET", "/v1/groups/{name}/things/{thing}:get", "GetThing", "name",
         "groups/{name}/things/{thing}"),
        ("PATCH", "/v1/groups/{group}/things/{thing}", "UpdateThing", "thing.name",
         "groups/{group}/things/{thing}"),
        ("PUT", "/v1/things/{thing}", "UpdateThing", "thing.name", "things/{thing}"),
        ("POST", "/v1/groups/{group}/things", "CreateThing", "parent", "groups/{group}"),
    ],
}  # fmt: skip
# Single-segment variables are named after their field in both namings.
_SINGLE = [
    ("GET", "/v1/things/{id}/{mood}", "GetThing", "id", "{id}"),
    ("GET", "/v1/things/{id}/{mood}", "GetThing", "mood", "{mood}"),
    ("GET", "/v1/legacy/{name}", "LegacyGet", "name", "{name}"),
    ("GET", "/v1/repeat/{count}", "Repeat", "count", "{count}"),
    ("POST", "/v1/files/{name}", "Upload", "name", "{name}"),
]


def _read(message: Any, path: str) -> Any:
    for part in path.split("."):
        message = getattr(message, part)
    return message


@pytest.mark.parametrize(
    ("naming", "method", "path", "rpc", "field", "expected"),
    [(naming, *case) for naming, cases in _CASES.items() for case in [*cases, *_SINGLE]],
)
def test_urls_from_the_document_reach_the_route_with_the_field_values(
    request: pytest.FixtureRequest,
    naming: str,
    method: str,
    path: str,
    rpc: str,
    field: str,
    expected: str,
) -> None:
    from grpcgwtest.openapi.v1 import echo_pb2

    echo: _Server = request.getfixturevalue("echo" if naming == "field" else "resource_echo")
    assert path in echo.document["paths"]
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(echo.document)))
    operation = schema[path][method]
    servicer: EchoServicer = echo.servicers[0]
    body = {"title": "t"} if method in ("PATCH", "PUT") else None

    @settings(
        max_examples=EXAMPLES,
        derandomize=DERANDOMIZE,
        deadline=None,
        database=None,
        phases=[Phase.generate],
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        values = case.path_parameters
        url = echo.base_url + _expand(path, values)
        servicer.last.pop(rpc, None)
        response = requests.request(method, url, json=body, timeout=30)
        assert response.status_code == 200, (url, response.text)
        received = _read(servicer.last[rpc], field)
        if field == "mood":
            received = echo_pb2.Mood.Name(received)
        assert str(received) == expected.format(**{k: str(v) for k, v in values.items()}), url

    run()


# -- required fields in strict mode ---------------------------------------------------------------


def test_strict_mode_refuses_missing_required_fields(strict_echo: _Server, echo: _Server) -> None:
    def call(server: _Server, method: str, path: str, **kw: Any) -> requests.Response:
        return requests.request(method, server.base_url + path, timeout=30, **kw)

    missing_title = call(strict_echo, "POST", "/v1/groups/g/things", json={"thing": {}})
    assert missing_title.status_code == 400
    assert missing_title.json()["message"] == (
        'missing required field "thing.title" in the JSON body'
    )
    assert call(strict_echo, "POST", "/v1/groups/g/things").json()["message"] == (
        'missing required field "thing" in the JSON body'
    )
    collect = call(strict_echo, "POST", "/v1/things:collect", data=b'{"title":"a"}\n{}\n')
    assert collect.status_code == 400
    assert "request stream message 2" in collect.json()["message"]
    view = call(strict_echo, "GET", "/v1/legacy/x")
    assert view.json()["message"] == 'missing required query parameter "view"'
    assert call(strict_echo, "GET", "/v1/legacy/x?view=").status_code == 200
    update = call(strict_echo, "PUT", "/v1/things/a/b")
    assert update.json()["message"] == "the request body is required"
    assert call(strict_echo, "PUT", "/v1/things/a/b", json={"title": ""}).status_code == 200
    # The path-bound name is not required in the body; a null is not a value.
    nulled = call(strict_echo, "PUT", "/v1/things/a", json={"title": None})
    assert nulled.json()["message"] == 'missing required field "title" in the JSON body'
    # Lenient mode leaves REQUIRED to the server.
    assert call(echo, "POST", "/v1/groups/g/things").status_code == 200
    assert call(echo, "GET", "/v1/legacy/x").status_code == 200


def test_strict_mode_lets_a_patch_leave_out_what_its_field_mask_leaves_out(
    strict_echo: _Server,
) -> None:
    """AIP-203: a REQUIRED field of the resource may be left out of an update whose
    field mask leaves it out. The PATCH's mask is filled from the body's keys, so a
    partial body is whole; a REQUIRED field the mask names (from the body or the
    query) must have a value. PUT, which fills no mask, needs every REQUIRED field."""

    def patch(path: str, body: Any) -> requests.Response:
        url = strict_echo.base_url + "/v1/groups/g/things/t" + path
        return requests.patch(url, json=body, timeout=30)

    partial = patch("", {"mood": "HAPPY"})
    assert partial.status_code == 200, partial.text
    assert partial.json()["mood"] == "HAPPY"
    nested = patch("", {"parentThing": {"mood": "HAPPY"}})  # Thing.title below, too
    assert nested.status_code == 200, nested.text
    # Named by the mask, the REQUIRED field must have a value: null clears it.
    cleared = patch("", {"title": None})
    assert cleared.status_code == 400
    assert cleared.json()["message"] == 'missing required field "title" in the JSON body'
    named = patch("?updateMask=title", {"mood": "HAPPY"})
    assert named.json()["message"] == 'missing required field "title" in the JSON body'
    below = patch("?updateMask=parentThing.title", {"title": "a"})
    assert below.json()["message"] == 'missing required field "parentThing.title" in the JSON body'
    # A message the mask names whole needs no more than the document asks of it.
    assert patch("", {"parentThing": {}}).status_code == 200
    assert patch("?updateMask=title,mood", {"title": "a", "mood": "HAPPY"}).status_code == 200
    # The document says the same: the PATCH body requires nothing; PUT's requires title.
    document = requests.get(strict_echo.base_url + "/openapi.json", timeout=30).json()
    update = document["paths"]["/v1/groups/{thingName}/things/{thingName_1}"]["patch"]
    schema = _resolve(document, update["requestBody"]["content"]["application/json"]["schema"])
    assert "required" not in schema
    assert "required" not in _resolve(document, schema["properties"]["parentThing"])
    put = document["paths"]["/v1/things/{thingName}"]["put"]
    put_schema = _resolve(document, put["requestBody"]["content"]["application/json"]["schema"])
    assert put_schema["required"] == ["title"]
    # Without a body, a REQUIRED body field is still missing.
    empty = requests.patch(strict_echo.base_url + "/v1/groups/g/things/t", timeout=30)
    assert empty.json()["message"] == "the request body is required"
