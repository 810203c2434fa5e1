"""The OpenAPI document: valid (3.1 and 2.0) for every service, and saying what the gateway does."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import descriptor_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from .conftest import ROOT, PingServicer, ShelfServicer
from .protoc import descriptor_set, pool_of

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from grpcgwtest.client.v1 import client_pb2  # noqa: E402
from grpcgwtest.echo.v1 import echo_pb2 as lambda_echo_pb2  # noqa: E402
from grpcgwtest.openapi.v1 import echo_pb2  # noqa: E402
from grpcgwtest.stream.v1 import stream_pb2  # noqa: E402

from grpcgw import openapi  # noqa: E402
from grpcgw.gateway import Gateway  # noqa: E402
from grpcgw.options import GatewayOptions, UnescapeMode  # noqa: E402

ECHO = "grpcgwtest.openapi.v1.EchoService"
THING = "grpcgwtest.openapi.v1.Thing"
SCHEMAS = "#/components/schemas/"

SERVICES: dict[str, list[Any]] = {
    "example": [PingServicer(), ShelfServicer()],
    "openapi-echo": [echo_pb2.DESCRIPTOR.services_by_name["EchoService"]],
    "lambda-echo": [lambda_echo_pb2.DESCRIPTOR.services_by_name["EchoService"]],
    "client": [client_pb2.DESCRIPTOR.services_by_name["ClientService"]],
    "stream": [stream_pb2.DESCRIPTOR.services_by_name["StreamService"]],
}
OPTIONS = {
    "default": GatewayOptions(),
    "strict": GatewayOptions(strict=True),
    "proto-names": GatewayOptions(use_proto_names=True, enums_as_ints=True),
    "all-characters": GatewayOptions(
        unescape_mode=UnescapeMode.ALL_CHARACTERS, expose_unannotated=True, health_path="/healthz"
    ),
    "security": GatewayOptions(openapi_security=("bearer", "basic", "header:X-API-Key")),
    "resource-names": GatewayOptions(openapi_path_names="resource"),
    "resource-proto-names": GatewayOptions(openapi_path_names="resource", use_proto_names=True),
}


def build(
    services: list[Any], options: GatewayOptions | None = None, version: str = "3.1", **kw: Any
) -> dict[str, Any]:
    options = options or GatewayOptions()
    routes = openapi.compile_routes(services, options=options)
    return openapi.build_document(routes, options=options, version=version, **kw)


@pytest.fixture(scope="module")
def annotated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """grpc-gateway's openapiv2 annotations: a descriptor set with source info and the
    annotation files, loaded into a pool of its own (as the proxy loads one)."""
    out = tmp_path_factory.mktemp("annotated") / "annotated.pb"
    files = descriptor_set(
        ROOT / "tests" / "data" / "openapiv2",
        ["grpcgwtest/annotated/v1/annotated.proto"],
        out,
        with_openapiv2=True,
    )
    service = pool_of(files).FindServiceByName("grpcgwtest.annotated.v1.WidgetService")
    return files, service


@pytest.fixture(scope="module")
def commented(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """The OpenAPI echo service compiled with ``--include_source_info`` into its own pool."""
    out = tmp_path_factory.mktemp("commented") / "echo.pb"
    files = descriptor_set(ROOT / "tests" / "protos", ["grpcgwtest/openapi/v1/echo.proto"], out)
    return files, pool_of(files).FindServiceByName(ECHO)


def operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (method, path, operation)."""
    return {
        op["operationId"]: (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
    }


def params(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation.get("parameters", [])}


def component(document: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"][ref["$ref"].removeprefix(SCHEMAS)]
    return found


# -- valid everywhere -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", openapi.VERSIONS)
@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
@pytest.mark.parametrize("name", SERVICES)
def test_every_document_is_valid(name: str, options: GatewayOptions, version: str) -> None:
    document = build(SERVICES[name], options, version)
    validate(document)
    json.dumps(document)  # JSON values only


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
@pytest.mark.parametrize("name", SERVICES)
def test_no_operation_has_two_parameters_of_one_name(name: str, options: GatewayOptions) -> None:
    """Generated clients make one argument of each parameter: names are unique in an
    operation (path, query and header alike), and the path's are its path parameters."""
    for _, path, operation in operations(build(SERVICES[name], options)).values():
        names = [p["name"] for p in operation.get("parameters", [])]
        assert len(names) == len(set(names)), (path, names)
        in_path = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        assert re.findall(r"\{([^}]+)\}", path) == in_path


@pytest.mark.parametrize("version", openapi.VERSIONS)
def test_annotated_and_commented_documents_are_valid(
    annotated: tuple[Any, Any], commented: tuple[Any, Any], version: str
) -> None:
    for files, service in (annotated, commented):
        validate(build([service], version=version, descriptor_set=files))


# -- operations -----------------------------------------------------------------------------------


def test_one_operation_per_binding_with_ids_tags_and_custom_verbs() -> None:
    document = build(SERVICES["example"])
    ops = operations(document)
    assert ops["ShelfService_GetShelf"][:2] == ("GET", "/v1/shelves/{name}")
    assert ops["ShelfService_GetShelf_1"][:2] == ("GET", "/v1/shelf/{name}")
    assert ops["ShelfService_DescribeLibrary"][:2] == ("HEAD", "/v1/library")
    assert ops["ShelfService_DescribeLibrary_1"][:2] == ("GET", "/v1/library")
    assert ops["ShelfService_MoveBook"][:2] == ("POST", "/v1/shelves/{name}/books/{name_1}:move")
    assert ops["PingService_Ping"][2]["tags"] == ["PingService"]
    assert [t["name"] for t in document["tags"]] == ["PingService", "ShelfService"]
    assert ops["PingService_Ping"][2]["x-grpcgw-rpc"] == "/example.v1.PingService/Ping"
    assert "ShelfService_Audit" not in ops  # not annotated
    unannotated = operations(build(SERVICES["example"], GatewayOptions(expose_unannotated=True)))
    assert unannotated["ShelfService_Audit"][:2] == ("POST", "/example.v1.ShelfService/Audit")
    # Each route of the gateway is one operation, and nothing else is.
    routes = openapi.compile_routes(SERVICES["example"])
    assert len(ops) == len(routes)


def test_paths_differing_only_in_names_share_the_first_names() -> None:
    ops = operations(build(SERVICES["example"]))
    # GET {name=shelves/*} and PATCH {shelf.name=shelves/*} are one OpenAPI path.
    assert ops["ShelfService_UpdateShelf"][1] == "/v1/shelves/{name}"
    patch = params(ops["ShelfService_UpdateShelf"][2])
    assert "field `shelf.name`" in patch["name"]["description"]


def test_custom_methods_openapi_cannot_list_are_named() -> None:
    from grpcgw.descriptors import HttpBinding
    from grpcgw.gateway import _compile_route

    method = echo_pb2.DESCRIPTOR.services_by_name["EchoService"].methods_by_name["Nothing"]
    route = _compile_route(method, HttpBinding("PURGE", "/v1/cache", "", ""), GatewayOptions())
    document = openapi.build_document([route])
    assert document["paths"] == {}
    assert document["x-grpcgw-unlisted-routes"] == ["PURGE /v1/cache"]


def test_deprecated_method_and_comments_from_source_info(commented: tuple[Any, Any]) -> None:
    files, service = commented
    document = build([service], descriptor_set=files)
    ops = operations(document)
    query = ops["EchoService_Query"][2]
    assert query["summary"] == "Query parameters of every kind."
    assert query["description"] == "Returns the request as it reached the server."
    legacy = ops["EchoService_LegacyGet"][2]
    assert legacy["deprecated"] is True
    assert legacy["summary"] == "Old: use GetThing."
    tag = document["tags"][0]
    assert tag["description"].startswith("Echoes requests back.")
    thing = document["components"]["schemas"][THING]
    assert thing["description"] == "A resource."
    assert thing["properties"]["title"]["description"] == "Shown to people."
    mood = document["components"]["schemas"]["grpcgwtest.openapi.v1.Mood"]
    assert "- `HAPPY` (1): Fine." in mood["description"]
    assert "- `SAD` (2): (deprecated)" in mood["description"]
    assert mood["x-deprecated-values"] == ["SAD"]
    # Generated _pb2 modules carry no source info: no comments, same document otherwise.
    plain = build(SERVICES["openapi-echo"])
    assert "summary" not in operations(plain)["EchoService_Query"][2]
    assert operations(plain)["EchoService_LegacyGet"][2]["deprecated"] is True


# -- path parameters ------------------------------------------------------------------------------


def test_multi_segment_variables_are_expanded() -> None:
    ops = operations(build(SERVICES["openapi-echo"]))
    method, path, op = ops["EchoService_UpdateThing"]
    assert (method, path) == ("PATCH", "/v1/groups/{thingName}/things/{thingName_1}")
    parts = params(op)
    pattern = parts["thingName"]["schema"]["pattern"]
    assert re.fullmatch(pattern, "a-b_c.d~é")
    assert not any(re.fullmatch(pattern, f"a{c}b") for c in "/?#[]@!$&'()*+,;=:")
    assert parts["thingName_1"]["schema"]["minLength"] == 1
    # `**` is one parameter, described as taking several segments.
    _, deep_path, deep = ops["EchoService_UpdateThing_1"]
    assert deep_path == "/v1/things/{thingName}"
    assert "several segments" in params(deep)["thingName"]["description"]
    # A single-segment variable takes any text (fully decoded) of its field's type.
    _, typed_path, typed = ops["EchoService_GetThing_1"]
    assert typed_path == "/v1/things/{id}/{mood}"
    assert params(typed)["id"]["schema"]["type"] == "integer"
    assert params(typed)["mood"]["schema"] == {"$ref": SCHEMAS + "grpcgwtest.openapi.v1.Mood"}


RESOURCE = GatewayOptions(openapi_path_names="resource")


def test_resource_names_follow_the_collections() -> None:
    ops = operations(build(SERVICES["example"], RESOURCE))
    assert ops["ShelfService_GetShelf"][1] == "/v1/shelves/{shelf}"
    assert ops["ShelfService_MoveBook"][1] == "/v1/shelves/{shelf}/books/{book}:move"
    assert ops["ShelfService_CreateBook"][1] == "/v1/shelves/{shelf}/books"  # {parent=shelves/*}
    # Paths differing only in names stay one path: PATCH {shelf.name=shelves/*} too.
    assert ops["ShelfService_UpdateShelf"][1] == "/v1/shelves/{shelf}"
    assert ops["ShelfService_DeleteShelf"][1] == "/v1/shelves/{shelf}"
    # No literal before the wildcard, and single-segment variables: the field's name.
    assert ops["ShelfService_GetBook"][1] == "/v1/books/{name}"  # {name=**}
    assert ops["ShelfService_GetShelf_1"][1] == "/v1/shelf/{name}"
    # The descriptions say which field gets what.
    move = params(ops["ShelfService_MoveBook"][2])
    assert move["book"]["description"] == (
        "Fills wildcard 2 of the `shelves/*/books/*` pattern of field `name`: the field "
        "gets the whole path, `shelves/{shelf}/books/{book}`."
    )
    update = params(ops["ShelfService_UpdateShelf"][2])
    assert (
        "field `shelf.name`: the field gets the whole path, `shelves/{shelf}`"
        in (update["shelf"]["description"])
    )
    echo = operations(build(SERVICES["openapi-echo"], RESOURCE))
    assert echo["EchoService_UpdateThing"][1] == "/v1/groups/{group}/things/{thing}"
    deep = echo["EchoService_UpdateThing_1"]
    assert deep[1] == "/v1/things/{thing}"  # things/**: after the literal too
    assert "several segments" in params(deep[2])["thing"]["description"]
    # GetThingRequest has a query parameter `group`: that part keeps the field naming.
    get = echo["EchoService_GetThing"]
    assert get[1] == "/v1/groups/{name}/things/{thing}:get"
    assert params(get[2])["group"]["in"] == "query"
    assert echo["EchoService_GetThing_1"][1] == "/v1/things/{id}/{mood}"
    # The Swagger 2.0 document has the same names.
    swagger = build(SERVICES["example"], RESOURCE, "2.0")
    assert "/v1/shelves/{shelf}/books/{book}:move" in swagger["paths"]


def _resource_paths(*bindings: tuple[str, str, str]) -> list[str]:
    """The documented paths of (method, rpc, template) bindings of the echo service."""
    from grpcgw.descriptors import HttpBinding
    from grpcgw.gateway import _compile_route

    service = echo_pb2.DESCRIPTOR.services_by_name["EchoService"]
    routes = [
        _compile_route(service.methods_by_name[rpc], HttpBinding(verb, template, "", ""), RESOURCE)
        for verb, rpc, template in bindings
    ]
    document = openapi.build_document(routes, options=RESOURCE)
    validate(document)
    return [path for path, item in document["paths"].items() for _ in item]


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ("/v1/{name=policies/*/test_cases/*}", "/v1/policies/{policy}/test_cases/{testCase}"),
        ("/v1/{name=payment-rails/*/userEvents/*}",
         "/v1/payment-rails/{paymentRail}/userEvents/{userEvent}"),
        ("/v1/{name=projects/*/config}", "/v1/projects/{project}/config"),
        ("/v1/{name=projects/*/addresses/*/v1.2/*}",
         "/v1/projects/{project}/addresses/{address}/v1.2/{name_2}"),
        ("/v1/{name=names/*/*}", "/v1/names/{name}/{name_1}"),
        ("/v1/{name=*/names/*}", "/v1/{name}/names/{name_1}"),
        ("/v1/{name=**}", "/v1/{name}"),
        ("/v1/{name=books/**}", "/v1/books/{book}"),
        ("/v1/{name=views/*}", "/v1/views/{name}"),  # GetThingRequest.view is in the query
        ("/v1/*/{name=things/*}", "/v1/{_}/things/{thing}"),
        ("/v1/{name=things/*}/parts/{id}", "/v1/things/{thing}/parts/{id}"),
        ("/v1/{name=ids/*}/x/{id}", "/v1/ids/{name}/x/{id}"),  # `id` is the other variable's
    ],
)  # fmt: skip
def test_resource_names_and_their_fallbacks(template: str, path: str) -> None:
    assert _resource_paths(("GET", "GetThing", template)) == [path]


def test_resource_names_avoid_the_query_of_every_operation_on_the_path() -> None:
    # Query's request has no field `group`, GetThing's has: both operations are on one
    # path, so neither may take `group` for the path.
    paths = _resource_paths(
        ("GET", "Query", "/v1/{s=groups/*}"), ("DELETE", "GetThing", "/v1/{name=groups/*}")
    )
    assert paths == ["/v1/groups/{s}", "/v1/groups/{s}"]
    alone = _resource_paths(("GET", "Query", "/v1/{s=groups/*}"))
    assert alone == ["/v1/groups/{group}"]


def test_resource_names_with_proto_names() -> None:
    options = GatewayOptions(openapi_path_names="resource", use_proto_names=True)
    from grpcgw.descriptors import HttpBinding
    from grpcgw.gateway import _compile_route

    method = echo_pb2.DESCRIPTOR.services_by_name["EchoService"].methods_by_name["GetThing"]
    binding = HttpBinding("GET", "/v1/{name=test_cases/*/payment-rails/*/userEvents/*}", "", "")
    route = _compile_route(method, binding, options)
    document = openapi.build_document([route], options=options)
    assert list(document["paths"]) == [
        "/v1/test_cases/{test_case}/payment-rails/{payment-rail}/userEvents/{userEvent}"
    ]


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("books", "book"), ("shelves", "shelf"), ("policies", "policy"), ("entries", "entry"),
        ("addresses", "address"), ("branches", "branch"), ("boxes", "box"), ("meshes", "mesh"),
        ("databases", "database"), ("status", "status"), ("access", "access"),
        ("analysis", "analysis"), ("people", "person"), ("Policies", "Policy"), ("data", "data"),
        ("ties", "tie"), ("keys", "key"), ("caches", "cache"), ("statuses", "status"),
        ("series", "series"), ("locations", "location"), ("s", "s"),
    ],
)  # fmt: skip
def test_the_singular_rule(plural: str, singular: str) -> None:
    from grpcgw.openapi import _pathnames

    assert _pathnames.singular(plural) == singular


def test_part_patterns_follow_the_unescape_mode() -> None:
    for mode, allowed in (
        (UnescapeMode.ALL_EXCEPT_RESERVED, ""),
        (UnescapeMode.ALL_EXCEPT_SLASH, ":?#@!$&'()*+,;="),
        (UnescapeMode.ALL_CHARACTERS, ":?#@!$&'()*+,;="),
    ):
        ops = operations(build(SERVICES["openapi-echo"], GatewayOptions(unescape_mode=mode)))
        part = params(ops["EchoService_UpdateThing"][2])["thingName"]["schema"]
        for c in ":?#@!$&'()*+,;=":
            assert bool(re.fullmatch(part["pattern"], f"a{c}b")) == (c in allowed), (mode, c)
        deep = params(ops["EchoService_UpdateThing_1"][2])["thingName"]["schema"]
        assert ("pattern" not in deep) == (mode is UnescapeMode.ALL_CHARACTERS)


# -- query parameters -----------------------------------------------------------------------------


def test_query_parameters_are_exactly_the_plan_s() -> None:
    options = GatewayOptions()
    routes = openapi.compile_routes(SERVICES["openapi-echo"], options=options)
    ops = operations(openapi.build_document(routes, options=options))
    seen: dict[str, int] = {}
    for route in routes:
        n = seen.get(route.rpc, 0)
        seen[route.rpc] = n + 1
        op_id = f"EchoService_{route.method.name}" + (f"_{n}" if n else "")
        listed = {p["name"] for p in ops[op_id][2].get("parameters", []) if p["in"] == "query"}
        assert listed == {q.name() for q in route.request.plan.query_fields()}, op_id


def test_query_parameter_forms() -> None:
    ops = operations(build(SERVICES["openapi-echo"]))
    query = params(ops["EchoService_Query"][2])
    assert query["i64"]["schema"] == {
        "type": "integer",
        "format": "int64",
        "minimum": -(2**63),
        "maximum": 2**63 - 1,
    }
    assert query["u32"]["schema"]["maximum"] == 2**32 - 1
    # The largest float text the query parser takes (it rounds to FLT_MAX): found by
    # schemathesis, which sent 3.4028235000000003e+38 after the bound was FLT_MAX.
    assert query["f"]["schema"]["maximum"] == float.fromhex("0x1.fffffefffffffp+127")
    assert query["rI64"]["style"] == "form"
    assert query["rI64"]["explode"] is True
    assert query["rI64"]["schema"]["type"] == "array"
    assert query["labels"]["style"] == "deepObject"
    assert query["labels"]["schema"]["additionalProperties"] == {"type": "string"}
    moods = query["moods"]["schema"]
    assert re.fullmatch(moods["propertyNames"]["pattern"], "-7")
    assert not re.fullmatch(moods["propertyNames"]["pattern"], "x")
    assert query["ts"]["schema"] == {"type": "string", "format": "date-time"}
    assert re.fullmatch(query["dur"]["schema"]["pattern"], "-1.5s")
    assert re.fullmatch(query["mask"]["schema"]["pattern"], "a.b_c,dE,,f")
    assert not re.fullmatch(query["mask"]["schema"]["pattern"], "a b")
    assert re.fullmatch(query["by"]["schema"]["pattern"], "-_8=")  # URL-safe base64
    assert query["wB"]["schema"] == {"type": "boolean"}
    assert query["otherName"]["in"] == "query"
    assert "renamed" not in query
    assert query["old"]["deprecated"] is True
    assert "inner.name" in query
    assert "inner.n" in query
    assert not any(name.startswith("inner.next") for name in query)  # a recursion
    # Path-bound, body-bound and the auto-filled PATCH mask are not in the query.
    update = params(ops["EchoService_UpdateThing"][2])
    assert set(update) == {"thingName", "thingName_1", "allowMissing"}
    put = params(ops["EchoService_UpdateThing_1"][2])  # PUT: no mask filling
    assert "updateMask" in put
    assert "parameters" not in ops["EchoService_Collect"][2]  # body "*"
    # REQUIRED leaves are required parameters.
    get = params(ops["EchoService_GetThing"][2])
    assert get["view"]["required"] is True
    assert "required" not in get["readMask"]


def test_proto_names_and_enums_as_ints() -> None:
    document = build(
        SERVICES["openapi-echo"], GatewayOptions(use_proto_names=True, enums_as_ints=True)
    )
    query = params(operations(document)["EchoService_Query"][2])
    assert "r_i64" in query
    assert "renamed" in query
    assert "inner.name" in query
    mood = document["components"]["schemas"]["grpcgwtest.openapi.v1.Mood"]
    assert mood["type"] == "integer"
    assert mood["enum"] == [0, 1, 2]
    assert "create_time" in document["components"]["schemas"][THING]["properties"]


# -- bodies and replies ---------------------------------------------------------------------------


def test_request_bodies() -> None:
    document = build(SERVICES["openapi-echo"])
    ops = operations(document)
    create = ops["EchoService_CreateThing"][2]["requestBody"]
    assert create["required"] is True
    body = component(document, create["content"]["application/json"]["schema"])
    assert "parent" not in body["properties"]
    assert "thingId" in body["properties"]
    assert body["required"] == ["thing"]
    update = ops["EchoService_UpdateThing"][2]["requestBody"]
    schema = component(document, update["content"]["application/json"]["schema"])
    assert "name" not in schema["properties"]  # bound by the path
    assert schema["additionalProperties"] is False  # its keys make the field mask
    assert schema["properties"]["detail"]["$ref"].endswith("Inner-closed")
    upload = ops["EchoService_Upload"][2]["requestBody"]
    assert upload["content"] == {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    collect = ops["EchoService_Collect"][2]["requestBody"]
    assert list(collect["content"]) == ["application/x-ndjson"]
    assert "requestBody" not in ops["EchoService_Nothing"][2]


def test_replies() -> None:
    document = build(SERVICES["openapi-echo"])
    ops = operations(document)
    get = ops["EchoService_GetThing"][2]["responses"]
    assert get["200"]["content"]["application/json"]["schema"] == {"$ref": SCHEMAS + THING}
    assert get["default"]["content"]["application/json"]["schema"] == {
        "$ref": SCHEMAS + "google.rpc.Status"
    }
    assert ops["EchoService_Upload"][2]["responses"]["200"]["content"] == {"*/*": {}}
    stream = ops["EchoService_Repeat"][2]["responses"]["200"]["content"]
    assert set(stream) == {"application/x-ndjson", "text/event-stream"}
    item = stream["application/x-ndjson"]["schema"]
    assert item["properties"]["result"] == {"$ref": SCHEMAS + THING}
    nothing = ops["EchoService_Nothing"][2]["responses"]["200"]["content"]["application/json"]
    assert nothing["schema"] == {"type": "object", "properties": {}}
    example = operations(build(SERVICES["example"]))
    move = example["ShelfService_MoveBook"][2]["responses"]["200"]
    assert move["content"]["application/json"]["schema"] == {"$ref": SCHEMAS + "example.v1.Book"}
    head = example["ShelfService_DescribeLibrary"][2]["responses"]["200"]
    assert "content" not in head


def test_schemas_in_proto3_json() -> None:
    document = build(SERVICES["openapi-echo"])
    schemas = document["components"]["schemas"]
    thing = schemas[THING]
    props = thing["properties"]
    assert props["size"]["type"] == "string"
    assert props["size"]["format"] == "int64"
    assert re.fullmatch(props["size"]["pattern"], str(-(2**63)))
    assert not re.fullmatch(props["size"]["pattern"], str(2**63))
    assert props["counts"]["additionalProperties"]["format"] == "int64"
    assert props["createTime"]["readOnly"] is True
    assert "writeOnly" not in props["secret"]  # emitted as "" in every reply
    assert thing["required"] == ["title"]
    assert props["parentThing"] == {"$ref": SCHEMAS + THING}  # recursion by reference
    assert props["attributes"] == {"type": "object"}
    assert props["extra"] == {}
    oneof = thing["oneOf"]
    assert oneof[0] == {"not": {"anyOf": [{"required": [n]} for n in ("note", "number", "detail")]}}
    scalars = schemas["grpcgwtest.openapi.v1.Scalars"]["properties"]
    assert scalars["wI64"]["type"] == "string"
    assert scalars["i32"]["type"] == "integer"
    assert scalars["f"]["maximum"] == 3.4028235e38
    assert scalars["old"]["deprecated"] is True
    status = schemas["google.rpc.Status"]["properties"]
    assert status["details"]["items"] == {"$ref": SCHEMAS + "google.protobuf.Any"}
    assert schemas["google.protobuf.Any"]["required"] == ["@type"]
    no_unpopulated = build(SERVICES["openapi-echo"], GatewayOptions(emit_unpopulated=False))
    assert no_unpopulated["components"]["schemas"][THING]["properties"]["secret"]["writeOnly"]
    strict = build(SERVICES["openapi-echo"], GatewayOptions(strict=True))
    assert strict["components"]["schemas"][THING]["additionalProperties"] is False


# -- grpc-gateway's openapiv2 annotations ---------------------------------------------------------


def test_openapiv2_annotations_are_honoured(annotated: tuple[Any, Any]) -> None:
    files, service = annotated
    document = build([service], descriptor_set=files)
    assert document["info"]["title"] == "Annotated API"
    assert document["info"]["version"] == "2.3.1"
    assert document["info"]["contact"]["email"] == "api@example.com"
    assert document["components"]["securitySchemes"]["ApiKey"]["in"] == "header"
    assert document["security"] == [{"ApiKey": []}]
    assert document["externalDocs"]["url"] == "https://example.com/docs"
    assert document["tags"][0]["description"] == "Widgets, annotated."
    ops = operations(document)
    make = ops["makeWidget"][2]
    assert make["summary"] == "Make a widget"
    assert make["tags"] == ["Widgets"]
    assert list(make["responses"]) == ["200", "201", "409", "default"]
    assert make["responses"]["201"]["content"] == make["responses"]["200"]["content"]
    assert params(make)["X-Request-Id"]["in"] == "header"
    get_path, get = ops["WidgetService_GetWidget"][1:]
    assert get_path == "/v1/shops/{widgetName}/widgets/{widgetName_1}"
    assert get["deprecated"] is True
    assert get["security"] == [{}]
    widget = document["components"]["schemas"]["grpcgwtest.annotated.v1.Widget"]
    assert widget["title"] == "A widget"
    assert widget["required"] == ["displayName"]
    assert widget["examples"] == [{"name": "shops/1/widgets/2", "displayName": "Gizmo"}]
    name = widget["properties"]["displayName"]
    assert (name["pattern"], name["maxLength"], name["examples"]) == ("^[A-Za-z ]+$", 40, ["Gizmo"])
    assert widget["properties"]["stock"]["maximum"] == 1000
    color = document["components"]["schemas"]["grpcgwtest.annotated.v1.Color"]
    assert color["title"] == "Colour"
    swagger = build([service], version="2.0", descriptor_set=files)
    assert swagger["securityDefinitions"]["ApiKey"]["type"] == "apiKey"
    assert swagger["definitions"]["grpcgwtest.annotated.v1.Widget"]["example"]["displayName"]


# -- security schemes from the options ------------------------------------------------------------


def test_configured_security_schemes_in_both_versions() -> None:
    options = GatewayOptions(openapi_security=("bearer", "basic", "header:Grpc-Metadata-X-Key"))
    document = build(SERVICES["example"], options)
    schemes = document["components"]["securitySchemes"]
    shapes = {
        name: {k: v for k, v in s.items() if k != "description"} for name, s in schemes.items()
    }
    assert shapes == {
        "bearer": {"type": "http", "scheme": "bearer"},
        "basic": {"type": "http", "scheme": "basic"},
        "Grpc-Metadata-X-Key": {"type": "apiKey", "in": "header", "name": "Grpc-Metadata-X-Key"},
    }  # fmt: skip
    assert "`authorization` metadata" in schemes["bearer"]["description"]
    assert "the `x-key` metadata" in schemes["Grpc-Metadata-X-Key"]["description"]
    # Any one of them, for every operation (none states its own).
    assert document["security"] == [{"bearer": []}, {"basic": []}, {"Grpc-Metadata-X-Key": []}]
    assert all("security" not in op for _, _, op in operations(document).values())

    swagger = build(SERVICES["example"], options, "2.0")
    definitions = swagger["securityDefinitions"]
    # Swagger 2.0 has no bearer scheme: the header, whose value is "Bearer <token>".
    assert definitions["bearer"]["type"] == "apiKey"
    assert (definitions["bearer"]["in"], definitions["bearer"]["name"]) == (
        "header",
        "Authorization",
    )
    assert "`Bearer <token>`" in definitions["bearer"]["description"]
    assert definitions["basic"]["type"] == "basic"
    assert definitions["Grpc-Metadata-X-Key"]["name"] == "Grpc-Metadata-X-Key"
    assert swagger["security"] == document["security"]
    no_security = build(SERVICES["example"])
    assert "security" not in no_security
    assert "securitySchemes" not in no_security["components"]


def test_configured_security_joins_the_annotated(annotated: tuple[Any, Any]) -> None:
    files, service = annotated
    bearer = GatewayOptions(openapi_security=("bearer",))
    document = build([service], bearer, descriptor_set=files)
    assert list(document["components"]["securitySchemes"]) == ["ApiKey", "bearer"]
    assert document["security"] == [{"ApiKey": []}, {"bearer": []}]  # either one
    # An operation's own requirements still stand (GetWidget needs none).
    assert operations(document)["WidgetService_GetWidget"][2]["security"] == [{}]
    validate(document)
    # A configured scheme describes this gateway: it wins over an annotated namesake.
    renamed = GatewayOptions(openapi_security=("header:ApiKey",))
    for version in openapi.VERSIONS:
        document = build([service], renamed, version, descriptor_set=files)
        schemes = (
            document["components"]["securitySchemes"]
            if version == "3.1"
            else document["securityDefinitions"]
        )
        assert schemes["ApiKey"]["name"] == "ApiKey"
        assert document["security"] == [{"ApiKey": []}]


def test_openapi_security_is_checked() -> None:
    options = GatewayOptions(openapi_security=[" Bearer", "HEADER: X-API-Key "])
    assert options.openapi_security == ("bearer", "header:X-API-Key")
    assert GatewayOptions(openapi_security="basic").openapi_security == ("basic",)
    for bad, message in [
        (["token"], "'token' is not a security scheme: expected bearer, basic or header:<Name>"),
        (["header:"], "'header:' names no header"),
        (["header:X API"], "'header:X API' names no header"),
        (["query:key"], "'query:key' is not a security scheme"),
        (["bearer", "bearer"], "names 'bearer' twice"),
        (["header:X-Key", "header:x-key"], "names 'x-key' twice"),
        (["basic", "header:Basic"], "names 'Basic' twice"),  # one name in the document
        ([1], "must hold strings, not 1"),
        (3, "must be a list of strings, not 3"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            GatewayOptions(openapi_security=bad)


def test_an_api_key_header_the_matcher_drops_is_said(caplog: pytest.LogCaptureFixture) -> None:
    def gateway(*security: str, **config: Any) -> None:
        options = GatewayOptions(openapi_security=security)
        Gateway(SERVICES["example"], target="unix:///x.sock", options=options, **config)

    with caplog.at_level(logging.WARNING, logger="grpcgw"):
        gateway("bearer", "basic", "header:Grpc-Metadata-X-Key", "header:Authorization")
        assert caplog.messages == []
        gateway("header:X-API-Key")
        (message,) = caplog.messages
        assert message.startswith(
            "GatewayOptions.openapi_security declares an API key in the X-API-Key header, which "
            "the header matcher does not forward: the server never sees it (declare "
            "header:Grpc-Metadata-X-API-Key, which arrives as x-api-key"
        )
        caplog.clear()
        gateway(
            "header:X-API-Key",
            header_matcher=lambda h: h.lower() if h.lower() == "x-api-key" else None,
        )
        assert caplog.messages == []


def test_info_can_be_given() -> None:
    document = build(SERVICES["example"], title="Library", api_version="1.0")
    assert document["info"] == {"title": "Library", "version": "1.0"}


# -- Swagger 2.0 ----------------------------------------------------------------------------------


def test_swagger_2() -> None:
    document = build(SERVICES["openapi-echo"], version="2.0")
    assert document["swagger"] == "2.0"
    ops = operations(document)
    query = params(ops["EchoService_Query"][2])
    assert query["rI64"]["collectionFormat"] == "multi"
    assert query["mood"]["enum"] == ["MOOD_UNSPECIFIED", "HAPPY", "SAD"]  # inline, no $ref
    assert "labels" not in query  # 2.0 has no deepObject
    create = params(ops["EchoService_CreateThing"][2])
    assert create["body"]["in"] == "body"
    assert create["body"]["required"] is True
    assert ops["EchoService_Upload"][2]["consumes"] == ["application/octet-stream"]
    repeat = ops["EchoService_Repeat"][2]["produces"]
    assert repeat == ["application/x-ndjson", "text/event-stream", "application/json"]
    thing = document["definitions"][THING]
    assert "oneOf" not in thing
    assert thing["properties"]["parentThing"]["$ref"].startswith("#/definitions/")
    assert "#/components" not in json.dumps(document)


# -- gateway accessor, caching, YAML --------------------------------------------------------------


def test_gateway_accessor_is_cached() -> None:
    gateway = Gateway(SERVICES["example"], target="unix:///dev/null")
    first = gateway.openapi()
    assert gateway.openapi() is first
    assert gateway.openapi("2.0")["swagger"] == "2.0"
    assert json.loads(openapi.document_json(gateway)) == first
    assert openapi.document_json(gateway) is openapi.document_json(gateway)
    with pytest.raises(ValueError, match="unknown OpenAPI version"):
        gateway.openapi("3.0")
    # A proxy reload swaps the routes: the next document describes the new ones.
    gateway.replace_services(SERVICES["stream"])
    replaced = gateway.openapi()
    assert replaced is not first
    assert "/v1/ping" not in replaced["paths"]
    assert json.loads(openapi.document_json(gateway)) == replaced


@pytest.mark.parametrize("name", SERVICES)
def test_yaml_reads_back_as_the_same_document(name: str) -> None:
    for version in openapi.VERSIONS:
        document = build(SERVICES[name], version=version)
        assert yaml.safe_load(openapi.to_yaml(document)) == document


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_JSON)
@settings(max_examples=300, deadline=None)
def test_yaml_emitter_round_trips_any_json(value: Any) -> None:
    assert yaml.safe_load(openapi.to_yaml(value)) == value


def test_route_table_is_what_the_document_lists() -> None:
    """Every documented path routes to its operation's method (the router decides)."""
    gateway = Gateway(SERVICES["openapi-echo"], target="unix:///dev/null")
    for method, path, op in operations(gateway.openapi()).values():
        concrete = re.sub(r"\{[^}]*\}", "x1", path)
        match = gateway.match(method, concrete)
        assert match.target.rpc == op["x-grpcgw-rpc"], (method, path)


def test_descriptor_set_files_are_accepted_as_a_list(commented: tuple[Any, Any]) -> None:
    files, service = commented
    as_list = build([service], descriptor_set=list(files.file))
    assert as_list == build([service], descriptor_set=files)
    gateway = Gateway([service], target="unix:///dev/null")
    with_comments = openapi.document(gateway, descriptor_set=files)
    assert with_comments is openapi.document(gateway, descriptor_set=files)
    assert operations(with_comments)["EchoService_Query"][2]["summary"]
    assert "summary" not in operations(gateway.openapi())["EchoService_Query"][2]
    assert json.loads(openapi.document_json(gateway, descriptor_set=files)) == with_comments
    empty = descriptor_pb2.FileDescriptorSet()
    assert (
        "summary" not in operations(build([service], descriptor_set=empty))["EchoService_Query"][2]
    )


# -- every field kind, as the gateway writes it ----------------------------------------------------


def _kitchen() -> Any:
    from google.protobuf import struct_pb2
    from grpcgwtest.transcode.v1.types_pb2 import Child, Kitchen

    k = Kitchen(
        double_value=-1.5e300, float_value=3.4028234663852886e38, int32_value=-(2**31),
        int64_value=-(2**63), uint32_value=2**32 - 1, uint64_value=2**64 - 1,
        sint32_value=7, sint64_value=2**63 - 1, fixed32_value=1, fixed64_value=2**64 - 1,
        sfixed32_value=-1, sfixed64_value=-(2**63), bool_value=True, string_value="é",
        bytes_value=b"\xff\x00", color=2, optional_string="", optional_int32=0, renamed="r",
        repeated_int32=[1, -2], repeated_string=["a"], repeated_color=[1, 0],
        repeated_bytes=[b"x"], repeated_int64_wrapper=[{"value": 5}],
        string_map={"k": "v"}, color_by_id={-5: 1}, children_by_name={"c": Child(name="c")},
        timestamp_by_flag={True: {"seconds": 1}}, child=Child(grand=Child(tags=["t"])),
        children=[Child(color=1)], kitchen=Kitchen(bool_value=True), choice_number=3,
    )  # fmt: skip
    k.repeated_timestamp.add(seconds=253402300799, nanos=999_999_999)
    for name, value in (
        ("double_wrapper", 1.0), ("float_wrapper", 2.0), ("int64_wrapper", -(2**63)),
        ("uint64_wrapper", 2**64 - 1), ("int32_wrapper", 3), ("uint32_wrapper", 4),
        ("bool_wrapper", False), ("string_wrapper", ""), ("bytes_wrapper", b"\x01"),
    ):  # fmt: skip
        getattr(k, name).value = value
    k.timestamp.FromJsonString("0001-01-01T00:00:00Z")
    k.duration.FromJsonString("-315576000000.999999999s")
    k.field_mask.paths.extend(["a.b_c", "d"])
    k.struct.update({"a": [1, None, {"b": True}]})
    k.value.CopyFrom(struct_pb2.Value(list_value=struct_pb2.ListValue(values=[])))
    k.list_value.extend([1, "x"])
    k.any.Pack(Child(name="in any"))
    k.empty.SetInParent()
    return k


@pytest.mark.parametrize(
    "options",
    [GatewayOptions(), GatewayOptions(use_proto_names=True, enums_as_ints=True, strict=True),
     GatewayOptions(emit_unpopulated=False)],
    ids=["default", "proto-names", "populated-only"],
)  # fmt: skip
def test_replies_as_written_match_their_schema(options: GatewayOptions) -> None:
    import jsonschema
    from grpcgwtest.transcode.v1.types_pb2 import Kitchen

    from grpcgw.openapi._comments import Comments
    from grpcgw.openapi._schemas import Schemas
    from grpcgw.transcode import ResponseTranscoder

    schemas = Schemas(options, Comments())
    ref = schemas.message(Kitchen.DESCRIPTOR)
    root = {**ref, "components": {"schemas": schemas.components}}
    validator = jsonschema.Draft202012Validator(root)
    writer = ResponseTranscoder(Kitchen, response_body="", options=options)
    for message in (_kitchen(), Kitchen()):
        document = json.loads(writer.transcode(message))
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]
        assert not errors, errors
    wkt = schemas.components["grpcgwtest.transcode.v1.Kitchen"]["properties"]
    key = (lambda n: n) if options.use_proto_names else _camel_case
    assert wkt[key("timestamp")] == {"type": "string", "format": "date-time"}
    assert wkt[key("value")] == {}
    assert wkt[key("list_value")] == {"type": "array", "items": {}}
    assert wkt[key("any")] == {"$ref": SCHEMAS + "google.protobuf.Any"}
    assert wkt[key("uint64_wrapper")]["format"] == "uint64"


def _camel_case(name: str) -> str:
    parts = name.split("_")
    return parts[0] + "".join(p.title() for p in parts[1:])
