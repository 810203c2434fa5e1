"""gRPC server reflection, ``grpc.reflection.v1`` and ``v1alpha``, on the servers grpcgw starts.

grpcio-reflection implements only ``grpc.reflection.v1alpha`` (up to 1.85 at
least). ``grpc.reflection.v1``, which current grpcurl and grpcui ask for first,
declares the same messages, field for field, in another package: the bytes on
the wire are the same, so one servicer answers both, registered under each
service name.

So that a client can also describe the v1 service itself, its file descriptor
(v1alpha's with the package renamed) lives in a pool of its own: it never
collides with a ``grpc/reflection/v1/reflection.proto`` the application
imports, and lookups try the default pool first, then that one.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import grpc
import grpc.aio
from google.protobuf import descriptor_pb2, descriptor_pool

V1_SERVICE = "grpc.reflection.v1.ServerReflection"
V1ALPHA_SERVICE = "grpc.reflection.v1alpha.ServerReflection"
_V1_FILE = "grpc/reflection/v1/reflection.proto"


def enable_reflection(server: grpc.Server | grpc.aio.Server, service_names: Sequence[str]) -> None:
    """Serve both reflection versions on ``server``, listing ``service_names`` and themselves."""
    from grpc_reflection.v1alpha import reflection, reflection_pb2

    names = [*service_names, V1_SERVICE, V1ALPHA_SERVICE]
    pool = _Pools(descriptor_pool.Default(), _v1_pool())
    servicer: Any = (
        reflection.aio.ReflectionServicer(names, pool=pool)  # type: ignore[attr-defined]
        if isinstance(server, grpc.aio.Server)
        else reflection.ReflectionServicer(names, pool=pool)
    )
    method = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(name, {"ServerReflectionInfo": method})
            for name in (V1_SERVICE, V1ALPHA_SERVICE)
        ]
    )


@functools.cache
def _v1_pool() -> descriptor_pool.DescriptorPool:
    """A pool holding ``grpc/reflection/v1/reflection.proto``, made from v1alpha's."""
    from grpc_reflection.v1alpha import reflection_pb2

    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    old, new = f".{proto.package}.", ".grpc.reflection.v1."
    proto.name, proto.package = _V1_FILE, "grpc.reflection.v1"
    proto.ClearField("options")  # v1alpha's say deprecated, and name its own packages
    proto.options.go_package = "google.golang.org/grpc/reflection/grpc_reflection_v1"
    proto.options.java_package = "io.grpc.reflection.v1"
    proto.options.java_multiple_files = True
    proto.options.java_outer_classname = "ServerReflectionProto"
    for message in proto.message_type:
        for field in message.field:
            if field.type_name.startswith(old):
                field.type_name = new + field.type_name[len(old) :]
    for service in proto.service:
        for rpc in service.method:
            rpc.input_type = new + rpc.input_type[len(old) :]
            rpc.output_type = new + rpc.output_type[len(old) :]
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(proto.SerializeToString())
    return pool


class _Pools:
    """The lookups the reflection servicer makes, in the default pool, then in v1's."""

    def __init__(self, *pools: descriptor_pool.DescriptorPool) -> None:
        self._pools = pools

    def _first(self, method: str, *args: Any) -> Any:
        for pool in self._pools[:-1]:
            try:
                return getattr(pool, method)(*args)
            except KeyError:
                pass
        return getattr(self._pools[-1], method)(*args)

    def FindFileByName(self, name: str) -> Any:
        return self._first("FindFileByName", name)

    def FindFileContainingSymbol(self, symbol: str) -> Any:
        return self._first("FindFileContainingSymbol", symbol)

    def FindMessageTypeByName(self, name: str) -> Any:
        return self._first("FindMessageTypeByName", name)

    def FindExtensionByNumber(self, message: Any, number: int) -> Any:
        return message.file.pool.FindExtensionByNumber(message, number)

    def FindAllExtensions(self, message: Any) -> Any:
        return message.file.pool.FindAllExtensions(message)
