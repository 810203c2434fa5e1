"""grpcgw.proxy as a library: descriptor sources, pools of their own, swapping routes, reloads."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from example.v1 import ping_pb2
from google.protobuf import descriptor_pb2, descriptor_pool

from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import Gateway, HttpRequest, RouteConfigError
from grpcgw.proxy import (
    DescriptorError,
    DescriptorSource,
    Reloader,
    ReloadOutcome,
    load_descriptors,
)

from .conftest import ROOT, Servers
from .proxyutil import Process, Protos, protoc, start_backend
from .servicers import HeldPing


@pytest.fixture
def backend_v2(protos: tuple[Protos, Protos], sock_dir: Path) -> Iterator[str]:
    target = f"unix://{sock_dir}/backend.sock"
    backend: Process = start_backend(protos[1], target)
    yield target
    backend.stop()


def get(path: str, body: bytes = b"", method: str = "GET") -> HttpRequest:
    return HttpRequest(method, path, body=body)


async def test_reflected_files_live_in_a_pool_of_their_own(backend_v2: str) -> None:
    """The backend's example/v1/ping.proto differs from the one this process imported."""
    default = descriptor_pool.Default()
    imported = default.FindFileByName("example/v1/ping.proto")
    assert "Echo" not in imported.services_by_name["PingService"].methods_by_name

    descriptors = await load_descriptors(reflect=backend_v2)

    assert descriptors.pool is not default
    theirs = descriptors.pool.FindFileByName("example/v1/ping.proto")
    assert "Echo" in theirs.services_by_name["PingService"].methods_by_name
    assert default.FindFileByName("example/v1/ping.proto") is imported  # untouched
    assert "Echo" not in imported.services_by_name["PingService"].methods_by_name
    assert descriptors.service_names == ("example.v1.PingService", "example.v1.ShelfService")
    assert all(s.file.pool is descriptors.pool for s in descriptors.services)
    async with Gateway(descriptors.services, target=backend_v2) as gateway:
        echo = await gateway.handle(get("/v1/echo", b'{"text":"hi"}', "POST"))
        assert (echo.status, echo.json()["message"]) == (200, "echo: hi")
        pong = await gateway.handle(get("/v1/ping"))
        assert pong.json() == {"message": "Pong", "servedBy": "v2"}
    # The same, naming the services, looked up in the pool given.
    names = ["example.v1.PingService"]
    async with Gateway(names, pool=descriptors.pool, target=backend_v2) as gateway:
        assert gateway.services[0].descriptor.file.pool is descriptors.pool
        assert (await gateway.handle(get("/v1/echo", b"{}", "POST"))).status == 200


async def test_descriptor_sets_from_files_or_bytes(protos: tuple[Protos, Protos]) -> None:
    v2 = protos[1].descriptor_set
    from_path = await load_descriptors(descriptor_sets=[v2])
    from_bytes = await load_descriptors(descriptor_sets=[v2.read_bytes()])
    assert from_path.fingerprint == from_bytes.fingerprint
    assert from_path.pool is not from_bytes.pool  # each load: a new pool
    assert from_path.origin == f"descriptor set {v2}"
    assert from_bytes.origin == "descriptor set (bytes)"
    # Comments (SourceCodeInfo) are kept for OpenAPI descriptions.
    ping = next(f for f in from_path.files if f.name == "example/v1/ping.proto")
    comments = [loc.leading_comments for loc in ping.source_code_info.location]
    assert " What to echo.\n" in comments
    assert from_path.file_set().file[0] == from_path.files[0]


async def test_descriptor_sets_merge_shared_imports_and_refuse_conflicts(
    protos: tuple[Protos, Protos], tmp_path: Path
) -> None:
    v1, v2 = (p.descriptor_set for p in protos)
    # Two sets carrying the same imports (google/api/http.proto, ...): taken once.
    shelf_only = tmp_path / "shelf.binpb"
    files = descriptor_pb2.FileDescriptorSet.FromString(v1.read_bytes())
    kept = [f for f in files.file if f.name != "example/v1/ping.proto"]
    shelf_only.write_bytes(descriptor_pb2.FileDescriptorSet(file=kept).SerializeToString())
    merged = await load_descriptors(descriptor_sets=[shelf_only, v2])
    assert set(merged.service_names) == {"example.v1.PingService", "example.v1.ShelfService"}
    # One file, two definitions: an error naming both sets.
    with pytest.raises(
        DescriptorError, match=f"example/v1/ping.proto is defined differently in {v1} and in {v2}"
    ):
        await load_descriptors(descriptor_sets=[v1, v2])


async def test_missing_imports(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "dep" / "v1").mkdir(parents=True)
    (src / "dep" / "v1" / "b.proto").write_text(
        'syntax = "proto3";\npackage dep.v1;\nmessage B { string x = 1; }\n'
    )
    (src / "dep" / "v1" / "a.proto").write_text(
        'syntax = "proto3";\npackage dep.v1;\nimport "dep/v1/b.proto";\n'
        'import "google/api/annotations.proto";\nimport "google/protobuf/timestamp.proto";\n'
        "service A {\n  rpc Get(B) returns (B) {\n"
        '    option (google.api.http) = {get: "/v1/b/{x}"};\n  }\n}\n'
    )
    # Without --include_imports: google/... comes from the copies protobuf and
    # googleapis-common-protos ship; dep/v1/b.proto is nowhere.
    only_a = tmp_path / "a.binpb"
    protoc(src, f"--descriptor_set_out={only_a}")
    files = descriptor_pb2.FileDescriptorSet.FromString(only_a.read_bytes()).file
    assert sorted(f.name for f in files) == ["dep/v1/a.proto", "dep/v1/b.proto"]
    a = next(f for f in files if f.name == "dep/v1/a.proto")
    a_alone = descriptor_pb2.FileDescriptorSet(file=[a]).SerializeToString()
    with pytest.raises(
        DescriptorError,
        match=r"dep/v1/a.proto imports dep/v1/b.proto, which is missing "
        r"\(a descriptor set needs protoc --include_imports\)",
    ):
        await load_descriptors(descriptor_sets=[a_alone])
    loaded = await load_descriptors(descriptor_sets=[only_a])
    assert loaded.service_names == ("dep.v1.A",)
    assert loaded.pool.FindFileByName("google/api/annotations.proto") is not None


async def test_default_selection_skips_google_packages(tmp_path: Path) -> None:
    """A set carries the services of what it imports (google.longrunning.Operations, ...):
    served only when named."""
    ops = descriptor_pb2.FileDescriptorProto()
    from google.longrunning import operations_proto_pb2

    operations_proto_pb2.DESCRIPTOR.CopyToProto(ops)
    from example.v1 import ping_pb2 as ping

    files = [descriptor_pb2.FileDescriptorProto.FromString(ping.DESCRIPTOR.serialized_pb), ops]
    data = descriptor_pb2.FileDescriptorSet(file=files).SerializeToString()
    loaded = await load_descriptors(descriptor_sets=[data])
    assert loaded.service_names == ("example.v1.PingService",)
    named = await load_descriptors(
        descriptor_sets=[data], services=["google.longrunning.Operations"]
    )
    assert named.service_names == ("google.longrunning.Operations",)


async def test_a_module_missing_inside_one_is_named_without_the_path_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "needs_more_pb2.py").write_text("import not_installed_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DescriptorError) as info:
        await load_descriptors(modules=["needs_more_pb2"])
    assert str(info.value) == (
        "cannot import module needs_more_pb2: No module named 'not_installed_anywhere'"
    )


async def test_modules_and_the_default_pool() -> None:
    by_module = await load_descriptors(modules=["example.v1.shelf_pb2"])
    assert by_module.pool is descriptor_pool.Default()
    assert by_module.service_names == ("example.v1.ShelfService",)
    by_name = await load_descriptors(services=["example.v1.PingService"])
    assert by_name.services == (ping_pb2.DESCRIPTOR.services_by_name["PingService"],)
    with pytest.raises(DescriptorError, match=r"cannot import module no\.such\.module") as info:
        await load_descriptors(modules=["no.such.module"])
    assert str(info.value).endswith("(not on sys.path; grpcgw proxy --path DIR adds a directory)")
    with pytest.raises(DescriptorError, match=r"has no service no\.such\.Service"):
        await load_descriptors(services=["no.such.Service"])


def test_source_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="one source, not reflect and descriptor_sets"):
        DescriptorSource(reflect="localhost:1", descriptor_sets=["x"])
    with pytest.raises(ValueError, match="needs reflect=, descriptor_sets=, modules= or"):
        DescriptorSource()
    with pytest.raises(TypeError, match="takes a sequence"):
        DescriptorSource(descriptor_sets="api.binpb")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout must be above 0"):
        DescriptorSource(reflect="localhost:1", timeout=0)


def test_rules_read_before_annotations_were_imported(protos: tuple[Protos, Protos]) -> None:
    """Options read before google.api.annotations was imported keep the rule unparsed:
    grpcgw parses it again."""
    code = f"""
        from google.protobuf import descriptor_pb2, descriptor_pool
        data = open({str(protos[0].descriptor_set)!r}, "rb").read()
        pool = descriptor_pool.DescriptorPool()
        for f in descriptor_pb2.FileDescriptorSet.FromString(data).file:
            pool.Add(f)
        method = pool.FindMethodByName("example.v1.PingService.Ping")
        method.GetOptions()  # parsed and cached now, without the extension
        from google.api import annotations_pb2
        assert not method.GetOptions().HasExtension(annotations_pb2.http)
        from grpcgw.descriptors import http_rule
        print(http_rule(method).get)
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={"PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "/v1/ping\n"


async def test_requests_in_flight_finish_on_the_routes_they_matched(servers: Servers) -> None:
    held = HeldPing()
    target = await servers.start(held, ShelfServicer())
    async with Gateway([held, ShelfServicer()], target=target) as gateway:
        in_flight = asyncio.create_task(gateway.handle(get("/v1/ping")))
        await asyncio.wait_for(held.entered.wait(), 10)
        gateway.replace_services(["example.v1.ShelfService"])
        assert [s.full_name for s in gateway.services] == ["example.v1.ShelfService"]
        assert (await gateway.handle(get("/v1/ping"))).status == 404  # the new table
        held.release.set()
        response = await asyncio.wait_for(in_flight, 10)
        assert (response.status, response.json()) == (200, {"message": "Pong"})


async def test_a_replacement_that_fails_changes_nothing(servers: Servers) -> None:
    from google.api import http_pb2

    from .test_descriptors import _service

    target = await servers.start(PingServicer())
    async with Gateway([PingServicer()], target=target) as gateway:
        routes = gateway.routes
        with pytest.raises(RouteConfigError, match="missing"):
            gateway.replace_services([_service(http_pb2.HttpRule(get="/v1/{missing}"), "Svc")])
        with pytest.raises(TypeError, match="unknown service"):
            gateway.replace_services(["no.such.Service"])
        assert gateway.routes == routes
        assert (await gateway.handle(get("/v1/ping"))).status == 200


async def test_reloader_outcomes(
    protos: tuple[Protos, Protos],
    servers: Servers,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = await servers.start(PingServicer(), ShelfServicer())
    current = tmp_path / "api.binpb"
    current.write_bytes(protos[0].descriptor_set.read_bytes())
    source = DescriptorSource(descriptor_sets=[current])
    descriptors = await source.load()
    swapped: list[Any] = []
    async with Gateway(descriptors.services, target=target) as gateway:
        reloader = Reloader(gateway, source, descriptors, on_swap=swapped.append)
        caplog.set_level(logging.INFO, logger="grpcgw.proxy")

        assert await reloader.reload() is ReloadOutcome.UNCHANGED
        assert reloader.descriptors is descriptors

        current.write_bytes(b"garbage")
        assert await reloader.reload() is ReloadOutcome.FAILED
        assert (
            "reload failed, still serving the routes loaded before: "
            f"descriptor set {current} is not a FileDescriptorSet" in caplog.text
        )
        assert len(gateway.routes) == 16

        current.write_bytes(protos[1].descriptor_set.read_bytes())
        assert await reloader.reload() is ReloadOutcome.SWAPPED
        assert len(gateway.routes) == 17
        # The new set's comments describe the new routes (the gateway had none before).
        assert gateway.descriptor_set == reloader.descriptors.files
        echo = gateway.openapi()["components"]["schemas"]["example.v1.EchoRequest"]
        assert echo["properties"]["text"]["description"] == "What to echo."
        assert swapped == [reloader.descriptors]
        assert "17 routes (were 16)" in caplog.text
        assert (reloader.swaps, reloader.failures) == (1, 1)


async def test_reload_requests_coalesce(
    protos: tuple[Protos, Protos], servers: Servers, tmp_path: Path
) -> None:
    """Requests made while a reload reads the source make one more reload, not one each."""
    target = await servers.start(PingServicer(), ShelfServicer())
    current = tmp_path / "api.binpb"
    current.write_bytes(protos[0].descriptor_set.read_bytes())
    reading = asyncio.Event()
    go_on = asyncio.Event()
    loads: list[int] = []

    class Held(DescriptorSource):
        async def load(self, **kwargs: Any) -> Any:
            loads.append(1)
            reading.set()
            await go_on.wait()
            return await DescriptorSource.load(self, **kwargs)

    source = Held(descriptor_sets=[current])
    go_on.set()
    descriptors = await source.load()
    go_on.clear()
    loads.clear()
    async with Gateway(descriptors.services, target=target) as gateway:
        reloader = Reloader(gateway, source, descriptors)
        reloader.request()
        await asyncio.wait_for(reading.wait(), 10)
        for _ in range(5):
            reloader.request()  # while the first reads: one more reload after it
        go_on.set()
        task = reloader._task
        assert task is not None
        await asyncio.wait_for(task, 10)
        assert len(loads) == 2
        await reloader.aclose()


async def test_any_resolves_from_the_proxy_pool(backend_v2: str) -> None:
    """``Any`` payloads of types only the server defines, in replies, requests and
    error details: read from the gateway's own pool (not the default pool, which
    has no example.v1.EchoRequest)."""
    with pytest.raises(KeyError):
        descriptor_pool.Default().FindMessageTypeByName("example.v1.EchoRequest")
    descriptors = await load_descriptors(reflect=backend_v2)
    echo_type = "type.googleapis.com/example.v1.EchoRequest"
    async with Gateway(descriptors.services, target=backend_v2) as gateway:
        reply = await gateway.handle(get("/v1/echo", b'{"text":"hi"}', "POST"))
        assert reply.status == 200, reply.body
        assert reply.json()["detail"] == {"@type": echo_type, "text": "hi"}
        inner = json.dumps({"text": "x", "extra": {"@type": echo_type, "text": "inner"}})
        reply = await gateway.handle(get("/v1/echo", inner.encode(), "POST"))
        assert reply.status == 200, reply.body
        assert reply.json()["detail"] == {"@type": echo_type, "text": "inner"}
        failed = await gateway.handle(get("/v1/echo", b'{"text":"fail"}', "POST"))
        assert failed.status == 400
        assert failed.json() == {
            "code": 3,
            "message": "echo refused",
            "details": [{"@type": echo_type, "text": "fail"}],
        }


async def test_a_replaced_pool_is_freed(protos: tuple[Protos, Protos], servers: Servers) -> None:
    """Nothing the gateway used keeps the descriptors it no longer serves (a reload
    every minute would otherwise keep every pool it ever loaded)."""
    target = await servers.start(PingServicer(), ShelfServicer())
    first = await load_descriptors(descriptor_sets=[protos[0].descriptor_set])
    pool, names = first.pool, first.service_names
    del first
    gc.collect()
    alone = sys.getrefcount(pool)  # this test's own references (pools take no weakref)
    async with Gateway(names, pool=pool, target=target) as gateway:
        created = await gateway.handle(get("/v1/shelves", b'{"theme":"t"}', "POST"))
        assert created.status == 201
        for path in ("/v1/ping", "/v1/shelves?genre=GENRE_FICTION&location.floor=2", "/v1/library"):
            path, _, query = path.partition("?")
            assert (await gateway.handle(HttpRequest("GET", path, query=query))).status == 200
        gc.collect()
        assert sys.getrefcount(pool) > alone  # the measure sees the routes holding it
        second = await load_descriptors(descriptor_sets=[protos[1].descriptor_set])
        gateway.replace_services(second.services)
        # (grpc.aio holds the last reply it decoded until the next call.)
        assert (await gateway.handle(get("/v1/ping"))).status == 200
        gc.collect()
        assert sys.getrefcount(pool) == alone


async def _garbling_reflection_server(file_bytes: bytes) -> tuple[Any, int]:
    """A server whose reflection lists example.v1.PingService and answers every
    file request with ``file_bytes`` as the one file."""
    import grpc
    import grpc.aio
    from grpc_reflection.v1alpha import reflection_pb2

    async def info(requests: Any, context: Any) -> Any:
        async for request in requests:
            answer = reflection_pb2.ServerReflectionResponse(original_request=request)
            if request.HasField("list_services"):
                answer.list_services_response.service.add(name="example.v1.PingService")
            else:
                answer.file_descriptor_response.file_descriptor_proto.append(file_bytes)
            yield answer

    handler = grpc.stream_stream_rpc_method_handler(
        info,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server = grpc.aio.server()
    service = grpc.method_handlers_generic_handler(
        "grpc.reflection.v1.ServerReflection", {"ServerReflectionInfo": handler}
    )
    server.add_generic_rpc_handlers((service,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


async def test_a_reflected_file_that_does_not_decode_is_a_descriptor_error() -> None:
    # What the server sends is the proxy's input: bytes that are no
    # FileDescriptorProto are a one-line DescriptorError (the proxy's start-up
    # message, a reload's "reload failed"), never protobuf's DecodeError.
    server, port = await _garbling_reflection_server(b"\xff\xff\xff\xff not a file")
    try:
        with pytest.raises(DescriptorError, match=r"file of example\.v1\.PingService") as caught:
            await load_descriptors(reflect=f"127.0.0.1:{port}", timeout=10)
        assert "do not decode as a FileDescriptorProto" in str(caught.value)
    finally:
        await server.stop(0)
