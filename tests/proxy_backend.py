"""A gRPC server grpcgw did not build, for the proxy tests: run as a script in its own process.

    python tests/proxy_backend.py --gen DIR --address unix:///tmp/x.sock [--reflection v1]

``DIR`` holds Python code protoc generated at test time from the example's
protos (the gateway's process cannot import it). The servicers are the
example's own (``examples/ping/service.py``, loaded from its file so that it
imports ``example.v1`` from ``DIR``), served by a plain ``grpc.aio`` server
with grpcio-reflection — nothing of grpcgw. ``--reflection`` picks which
reflection protocols it serves: ``v1alpha`` is grpcio-reflection's own; ``v1``
(which grpcio-reflection does not ship) is the same servicer under the v1
name, as Go and Java servers serve it. If the generated ``PingService`` has an
``Echo`` method (a test's second version of the protos), it answers too (with
an ``Any`` holding a type of that version; ``text: "fail"`` fails with it as a
status detail), and ``Ping`` fills the field that version added
(``served_by``).

``--ping-delay`` makes Ping slow (requests stay in flight); ``--health`` serves
``grpc.health.v1``, SERVING until SIGUSR1 flips it.

Prints ``listening`` once it serves, ``reflection asked`` at each reflection
stream; stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import signal
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
V1 = "grpc.reflection.v1.ServerReflection"
V1ALPHA = "grpc.reflection.v1alpha.ServerReflection"


def _example_servicers() -> Any:
    spec = importlib.util.spec_from_file_location(
        "backend_service", ROOT / "examples" / "ping" / "service.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reflection(server: Any, names: list[str], protocols: str) -> None:
    import grpc
    from grpc_reflection.v1alpha import reflection, reflection_pb2

    if protocols == "none":
        return
    servicer = reflection.aio.ReflectionServicer([*names, V1, V1ALPHA])

    async def info(requests: Any, context: Any) -> Any:
        print("reflection asked", flush=True)  # one line per stream: who asked, and how often
        async for reply in servicer.ServerReflectionInfo(requests, context):
            yield reply

    method = grpc.stream_stream_rpc_method_handler(
        info,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    served = {"v1": [V1], "v1alpha": [V1ALPHA], "both": [V1, V1ALPHA]}[protocols]
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(n, {"ServerReflectionInfo": method}) for n in served]
    )


async def serve(gen: Path, address: str, protocols: str, ping_delay: float, health: bool) -> None:
    sys.path.insert(0, str(gen))
    import grpc
    from example.v1 import ping_pb2, ping_pb2_grpc, shelf_pb2_grpc
    from google.protobuf import any_pb2
    from google.rpc import code_pb2, status_pb2
    from grpc_status import rpc_status

    example = _example_servicers()
    ping: Any = example.PingServicer()
    if ping_delay:

        class SlowPing(example.PingServicer):  # type: ignore[name-defined,misc]
            async def Ping(self, request: Any, context: Any) -> Any:
                if ping_delay >= 10:  # so that a test can wait for a call in flight
                    print("slow ping started", flush=True)
                await asyncio.sleep(ping_delay)  # a slow backend: requests stay in flight
                return ping_pb2.PingResponse(message="Pong")

        ping = SlowPing()
    if hasattr(ping_pb2, "EchoRequest"):

        class PingV2(example.PingServicer):  # type: ignore[name-defined,misc]
            async def Ping(self, request: Any, context: Any) -> Any:
                return ping_pb2.PingResponse(message="Pong", served_by="v2")

            async def Echo(self, request: Any, context: Any) -> Any:
                detail = any_pb2.Any()
                if request.HasField("extra"):
                    detail.CopyFrom(request.extra)
                else:
                    detail.Pack(request)  # a type the gateway knows only from this server
                if request.text == "fail":
                    status = status_pb2.Status(
                        code=code_pb2.INVALID_ARGUMENT, message="echo refused", details=[detail]
                    )
                    await context.abort_with_status(rpc_status.to_status(status))
                return ping_pb2.PingResponse(message=f"echo: {request.text}", detail=detail)

        ping = PingV2()
    server = grpc.aio.server()
    ping_pb2_grpc.add_PingServiceServicer_to_server(ping, server)
    shelf_pb2_grpc.add_ShelfServiceServicer_to_server(example.ShelfServicer(), server)
    _reflection(server, ["example.v1.PingService", "example.v1.ShelfService"], protocols)
    loop = asyncio.get_running_loop()
    if health:
        from grpc_health.v1 import health, health_pb2, health_pb2_grpc

        checker = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(checker, server)
        serving = [True]

        async def flip() -> None:
            serving[0] = not serving[0]
            status = health_pb2.HealthCheckResponse.SERVING
            if not serving[0]:
                status = health_pb2.HealthCheckResponse.NOT_SERVING
            await checker.set("", status)
            print("health", "SERVING" if serving[0] else "NOT_SERVING", flush=True)

        await checker.set("", health_pb2.HealthCheckResponse.SERVING)
        loop.add_signal_handler(signal.SIGUSR1, lambda: loop.create_task(flip()))
    server.add_insecure_port(address)
    await server.start()
    print("listening", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gen", type=Path, required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--reflection", choices=("v1", "v1alpha", "both", "none"), default="both")
    parser.add_argument("--ping-delay", type=float, default=0.0, help="seconds Ping takes")
    parser.add_argument(
        "--health", action="store_true", help="serve grpc.health.v1 (SIGUSR1 flips it)"
    )
    args = parser.parse_args()
    asyncio.run(serve(args.gen, args.address, args.reflection, args.ping_delay, args.health))


if __name__ == "__main__":
    main()
