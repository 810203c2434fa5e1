"""gRPC server reflection, v1 and v1alpha, asked by real reflection clients.

v1alpha is asked through grpcio-reflection's generated stub; v1 (which
grpcio-reflection does not ship) through a stub made from the v1 protocol's
messages (tests/data/reflection/reflection_v1.proto), compiled with protoc at
run time into a pool of its own. Both ask the servers ``serve_local`` and
``serve_lambda`` start: ``grpc.aio`` for async servicers, threaded for plain ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from examples.ping.service import PingServicer, ShelfServicer, SyncPingServicer
from grpcgw import LambdaOptions, serve_lambda, start_local
from grpcgw.descriptors import resolve_service
from grpcgw.grpcserver import GrpcServer

from . import modes
from .conftest import DATA

mode = modes.mode

V1 = "grpc.reflection.v1.ServerReflection"
V1ALPHA = "grpc.reflection.v1alpha.ServerReflection"
METHOD = "ServerReflectionInfo"


class V1Messages:
    """The v1 request and response classes, from the protocol's own definition."""

    def __init__(self, out_dir: Path) -> None:
        from grpc_tools import protoc

        descriptor_set = out_dir / "reflection_v1.pb"
        code = protoc.main(
            [
                "protoc",
                f"-I{DATA / 'reflection'}",
                f"--descriptor_set_out={descriptor_set}",
                "reflection_v1.proto",
            ]
        )
        assert code == 0, "protoc failed on reflection_v1.proto"
        files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes())
        pool = descriptor_pool.DescriptorPool()  # not the default pool the server reads
        for file in files.file:
            pool.AddSerializedFile(file.SerializeToString())
        self.Request: Any = message_factory.GetMessageClass(
            pool.FindMessageTypeByName("grpc.reflection.v1.ServerReflectionRequest")
        )
        self.Response: Any = message_factory.GetMessageClass(
            pool.FindMessageTypeByName("grpc.reflection.v1.ServerReflectionResponse")
        )


@pytest.fixture(scope="module")
def v1(tmp_path_factory: pytest.TempPathFactory) -> V1Messages:
    return V1Messages(tmp_path_factory.mktemp("reflection"))


#: What each test asks, on one stream as grpcurl does.
def _questions(make: Callable[..., Any]) -> list[Any]:
    return [
        make(list_services=""),
        make(file_containing_symbol="example.v1.PingService"),
        make(file_by_filename="example/v1/ping.proto"),
        make(file_containing_symbol=V1),
        make(file_containing_symbol=V1ALPHA),
        make(file_containing_symbol="no.such.Service"),
    ]


def _answers(responses: list[Any]) -> dict[str, Any]:
    """The answers as plain data, the same whichever version produced them."""

    def files(response: Any) -> dict[str, descriptor_pb2.FileDescriptorProto]:
        out = {}
        for raw in response.file_descriptor_response.file_descriptor_proto:
            proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
            out[proto.name] = proto
        return out

    listed, by_symbol, by_name, v1_file, v1alpha_file, missing = responses
    return {
        "services": sorted(s.name for s in listed.list_services_response.service),
        "by_symbol": files(by_symbol),
        "by_name": files(by_name),
        "v1": files(v1_file),
        "v1alpha": files(v1alpha_file),
        "missing": missing.error_response.error_code,
    }


async def _ask_async(target: str, version: str, v1: V1Messages) -> dict[str, Any]:
    async with grpc.aio.insecure_channel(target) as channel:
        if version == "v1alpha":
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            call = stub.ServerReflectionInfo(
                iter(_questions(reflection_pb2.ServerReflectionRequest))
            )
        else:
            info = channel.stream_stream(
                f"/{V1}/{METHOD}",
                request_serializer=v1.Request.SerializeToString,
                response_deserializer=v1.Response.FromString,
            )
            call = info(iter(_questions(v1.Request)))
        return _answers([r async for r in call])


def _ask_blocking(target: str, version: str, v1: V1Messages) -> dict[str, Any]:
    with grpc.insecure_channel(target) as channel:
        if version == "v1alpha":
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            call = stub.ServerReflectionInfo(
                iter(_questions(reflection_pb2.ServerReflectionRequest)), timeout=20
            )
        else:
            info = channel.stream_stream(
                f"/{V1}/{METHOD}",
                request_serializer=v1.Request.SerializeToString,
                response_deserializer=v1.Response.FromString,
            )
            call = info(iter(_questions(v1.Request)), timeout=20)
        return _answers(list(call))


def _check(answers: dict[str, Any], services: set[str]) -> None:
    assert set(answers["services"]) == {*services, "grpc.health.v1.Health", V1, V1ALPHA}
    ping = answers["by_symbol"]["example/v1/ping.proto"]
    assert ping.package == "example.v1"
    assert [s.name for s in ping.service] == ["PingService"]
    assert [m.name for m in ping.service[0].method] == ["Ping"]
    # With what it imports, as a client needs to build the descriptors.
    assert "google/api/annotations.proto" in answers["by_symbol"]
    assert "google/api/http.proto" in answers["by_symbol"]
    assert answers["by_name"]["example/v1/ping.proto"] == ping
    (v1_file,) = answers["v1"].values()
    assert (v1_file.name, v1_file.package) == (
        "grpc/reflection/v1/reflection.proto",
        "grpc.reflection.v1",
    )
    (alpha_file,) = answers["v1alpha"].values()
    assert alpha_file.package == "grpc.reflection.v1alpha"
    # The v1 file declares the same messages, field for field, in its own package.
    assert [m.name for m in v1_file.message_type] == [m.name for m in alpha_file.message_type]
    for new, old in zip(v1_file.message_type, alpha_file.message_type, strict=True):
        assert [(f.name, f.number, f.type) for f in new.field] == [
            (f.name, f.number, f.type) for f in old.field
        ]
    assert answers["missing"] == grpc.StatusCode.NOT_FOUND.value[0]


SERVERS = {
    "aio": ((PingServicer, ShelfServicer), True),
    "threaded": ((SyncPingServicer,), False),
}


@pytest.mark.parametrize("kind", sorted(SERVERS))
@pytest.mark.parametrize("version", ["v1", "v1alpha"])
async def test_reflection_on_the_servers_serve_local_starts(
    v1: V1Messages, sock_dir: Path, kind: str, version: str
) -> None:
    servicer_types, is_async = SERVERS[kind]
    services = [resolve_service(t()) for t in servicer_types]
    target = f"unix://{sock_dir}/refl.sock"
    server = await GrpcServer.start(services, target)
    try:
        assert server.is_async is is_async
        if is_async:
            answers = await _ask_async(target, version, v1)
        else:
            answers = await asyncio.to_thread(_ask_blocking, target, version, v1)
        _check(answers, {s.full_name for s in services})
    finally:
        await server.stop(0)


async def test_both_versions_answer_alike_through_start_local(v1: V1Messages, mode: str) -> None:
    # With direct dispatch too: the gRPC server still serves gRPC clients.
    local = await start_local(
        PingServicer(),
        ShelfServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        dispatch=mode,
    )
    async with local:
        target = f"127.0.0.1:{local.grpc_port}"
        new, old = [await _ask_async(target, version, v1) for version in ("v1", "v1alpha")]
    _check(new, {"example.v1.PingService", "example.v1.ShelfService"})
    assert {k: v for k, v in new.items() if k not in ("v1", "v1alpha")} == {
        k: v for k, v in old.items() if k not in ("v1", "v1alpha")
    }


async def test_reflection_can_be_turned_off(sock_dir: Path) -> None:
    target = f"unix://{sock_dir}/norefl.sock"
    server = await GrpcServer.start([resolve_service(PingServicer())], target, reflection=False)
    try:
        async with grpc.aio.insecure_channel(target) as channel:
            for service in (V1, V1ALPHA):
                call = channel.stream_stream(f"/{service}/{METHOD}")(iter([b""]))
                with pytest.raises(grpc.aio.AioRpcError) as info:
                    async for _ in call:
                        pass
                assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        await server.stop(0)


@pytest.fixture
def lambda_handler(sock_dir: Path, mode: str) -> Iterator[Any]:
    # Direct dispatch starts the server on the socket for reflection alone.
    handler = serve_lambda(
        SyncPingServicer(),
        lambda_options=LambdaOptions(socket_dir=str(sock_dir), reflection=True),
        dispatch=mode,
    )
    yield handler
    handler.stop()


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_reflection_on_the_lambda_socket(v1: V1Messages, lambda_handler: Any, version: str) -> None:
    answers = _ask_blocking(f"unix://{lambda_handler.socket}", version, v1)
    services = set(answers["services"])
    assert {"example.v1.PingService", V1, V1ALPHA} <= services
    assert "example/v1/ping.proto" in answers["by_symbol"]
