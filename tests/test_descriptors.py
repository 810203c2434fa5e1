"""Service resolution and build-time validation of google.api.http annotations."""

from __future__ import annotations

import pytest
from example.v1 import shelf_pb2
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, empty_pb2, timestamp_pb2
from grpcgwtest.badrules.v1 import badrules_pb2

from examples.ping.service import PingServicer, SyncPingServicer
from grpcgw import Gateway, RouteConfigError
from grpcgw.descriptors import ServiceResolutionError, method_bindings, resolve_service


def test_resolve_servicer_descriptor_and_name() -> None:
    info = resolve_service(PingServicer())
    assert info.full_name == "example.v1.PingService"
    assert info.is_async()
    assert not resolve_service(SyncPingServicer()).is_async()
    assert info.add_to_server is not None
    desc = shelf_pb2.DESCRIPTOR.services_by_name["ShelfService"]
    assert resolve_service(desc).descriptor is desc
    assert resolve_service(".example.v1.ShelfService").descriptor is desc


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("no.such.Service", r"unknown service 'no\.such\.Service'"),
        (PingServicer, "is a class"),
        (42, "not a gRPC servicer"),
    ],
)
def test_resolve_errors(value: object, message: str) -> None:
    with pytest.raises(ServiceResolutionError, match=message):
        resolve_service(value)


def test_additional_bindings_and_custom_patterns() -> None:
    svc = shelf_pb2.DESCRIPTOR.services_by_name["ShelfService"]
    get = method_bindings(svc.methods_by_name["GetShelf"], expose_unannotated=False)
    assert [(b.http_method, b.template) for b in get] == [
        ("GET", "/v1/{name=shelves/*}"),
        ("GET", "/v1/shelf/{name}"),
    ]
    describe = method_bindings(svc.methods_by_name["DescribeLibrary"], expose_unannotated=False)
    assert [b.http_method for b in describe] == ["HEAD", "GET"]
    move = method_bindings(svc.methods_by_name["MoveBook"], expose_unannotated=False)
    assert (move[0].body, move[0].response_body) == ("*", "book")
    assert method_bindings(svc.methods_by_name["Audit"], expose_unannotated=False) == []
    audit = method_bindings(svc.methods_by_name["Audit"], expose_unannotated=True)
    assert [(b.http_method, b.template, b.body) for b in audit] == [
        ("POST", "/example.v1.ShelfService/Audit", "*")
    ]


def _service(rule: http_pb2.HttpRule, name: str) -> object:
    """A one-method service ``bad.v1.<name>`` carrying ``rule``, built without protoc."""
    pool = descriptor_pool.DescriptorPool()
    for dep in (descriptor_pb2, http_pb2, annotations_pb2, timestamp_pb2, empty_pb2):
        pool.AddSerializedFile(dep.DESCRIPTOR.serialized_pb)
    f = descriptor_pb2.FileDescriptorProto(
        name=f"bad/v1/{name.lower()}.proto",
        package="bad.v1",
        syntax="proto3",
        dependency=["google/api/annotations.proto", "google/protobuf/timestamp.proto"],
    )
    msg = f.message_type.add(name="Req")
    t = descriptor_pb2.FieldDescriptorProto
    msg.field.add(name="name", number=1, type=t.TYPE_STRING, json_name="name")
    msg.field.add(
        name="tags", number=2, type=t.TYPE_STRING, label=t.LABEL_REPEATED, json_name="tags"
    )
    msg.field.add(
        name="child", number=3, type=t.TYPE_MESSAGE, type_name=".bad.v1.Req", json_name="child"
    )
    method = f.service.add(name=name).method.add(
        name="Do", input_type=".bad.v1.Req", output_type=".bad.v1.Req"
    )
    method.options.Extensions[annotations_pb2.http].CopyFrom(rule)
    pool.Add(f)
    return pool.FindServiceByName(f"bad.v1.{name}")


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (http_pb2.HttpRule(get="/v1/{missing}"), "missing"),
        (http_pb2.HttpRule(get="/v1/{tags}"), "tags"),
        (http_pb2.HttpRule(get="/v1/{child}"), "child"),
        (http_pb2.HttpRule(get="/v1/{name"), "position"),
        (http_pb2.HttpRule(post="/v1/x", body="nope"), "nope"),
        (http_pb2.HttpRule(get="/v1/x", response_body="nope"), "nope"),
    ],
)
def test_bad_annotations_fail_at_build_time(rule: http_pb2.HttpRule, problem: str) -> None:
    service = _service(rule, "Svc")
    with pytest.raises(RouteConfigError) as info:
        Gateway([service], target="localhost:1")
    text = str(info.value)
    assert "bad.v1.Svc.Do" in text  # names the method
    assert rule.WhichOneof("pattern").upper() in text  # and the rule
    assert problem in text


def test_duplicate_routes_fail_at_build_time() -> None:
    rule = http_pb2.HttpRule(get="/v1/{name}")
    rule.additional_bindings.add(get="/v1/{other=*}")
    with pytest.raises(RouteConfigError, match=r"bad\.v1\.Dup\.Do"):
        Gateway([_service(rule, "Dup")], target="localhost:1")


#: tests/protos/grpcgwtest/badrules/v1/badrules.proto: its bad rules, in declaration order.
BROKEN = "grpcgwtest.badrules.v1.Broken"
BROKEN_PROBLEMS = (
    f"{BROKEN}.GetThing (GET /v1/things/{{missing}}/alias): path field 'missing': "
    "grpcgwtest.badrules.v1.Thing has no field 'missing'",
    f"{BROKEN}.ListThings (GET /v1/{{name): invalid path template '/v1/{{name': "
    "unterminated variable at position 9",
    f"{BROKEN}.CreateThing (POST /v1/things, body: \"nope\"): body 'nope': "
    "grpcgwtest.badrules.v1.Thing has no such field",
    f'{BROKEN}.DescribeThing (GET /v1/things/{{id}}:describe, response_body: "gone"): '
    "response_body 'gone': grpcgwtest.badrules.v1.Thing has no such field",
    f"{BROKEN}.FetchThing (GET /v1/things/{{name}}): duplicate route: it matches the same "
    f"requests as GET /v1/things/{{id}} of {BROKEN}.GetThing",
)


def test_every_bad_rule_of_every_method_is_reported_at_once() -> None:
    """One RouteConfigError, one line per bad rule (method, rule, problem), so that a user
    fixes them all before the next run; the good rules are not mentioned."""
    service = badrules_pb2.DESCRIPTOR.services_by_name["Broken"]
    with pytest.raises(RouteConfigError) as info:
        Gateway([service], target="localhost:1")
    error = info.value
    assert isinstance(error, ValueError)  # what callers caught before
    assert error.problems == BROKEN_PROBLEMS
    assert str(error) == "5 HTTP rules cannot be served:\n" + "\n".join(
        f"  {line}" for line in BROKEN_PROBLEMS
    )
    assert "DeleteThing" not in str(error)
    # By name too, and through replace_services, which keeps the old routes.
    gateway = Gateway([PingServicer()], target="localhost:1")
    with pytest.raises(RouteConfigError) as again:
        gateway.replace_services([BROKEN])
    assert again.value.problems == BROKEN_PROBLEMS
    assert [r.rpc for r in gateway.routes] == ["/example.v1.PingService/Ping"]


def test_route_config_error_keeps_its_problems_through_pickle() -> None:
    import pickle

    error = RouteConfigError("a.B.C (GET /x): one", "a.B.D (GET /y): two")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.problems, str(copy)) == (RouteConfigError, error.problems, str(error))
    single = RouteConfigError("a.B.C (GET /x): one")
    assert (str(single), single.problems) == ("a.B.C (GET /x): one", ("a.B.C (GET /x): one",))


def test_gateway_needs_one_target() -> None:
    with pytest.raises(TypeError, match="exactly one"):
        Gateway([PingServicer()])
    with pytest.raises(ValueError, match="URL scheme"):
        Gateway([PingServicer()], target="http://localhost:8081")
