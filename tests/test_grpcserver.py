"""The gRPC server grpcgw starts for plain servicers: threaded, locally as on Lambda,
with graceful shutdown, health checks and reflection working as on ``grpc.aio``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpcgwtest.echo.v1 import echo_pb2, echo_pb2_grpc

from grpcgw.descriptors import resolve_service
from grpcgw.grpcserver import GrpcServer

from .conftest import ROOT
from .test_reflection import V1Messages, _ask_blocking
from .test_server import GATEWAY_PORT, GRPC_PORT, _Lines


class BlockingServicer(echo_pb2_grpc.EchoServiceServicer):
    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def Echo(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        return echo_pb2.EchoResponse(request=request)

    def Hang(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        self.entered.set()
        if not self.release.wait(30):
            raise AssertionError("never released")
        return echo_pb2.EchoResponse(request=request)


def _unary(channel: grpc.aio.Channel, method: str) -> Any:
    return channel.unary_unary(
        f"/grpcgwtest.echo.v1.EchoService/{method}",
        request_serializer=echo_pb2.EchoRequest.SerializeToString,
        response_deserializer=echo_pb2.EchoResponse.FromString,
    )


async def test_graceful_shutdown_of_the_threaded_server(sock_dir: Path) -> None:
    servicer = BlockingServicer()
    target = f"unix://{sock_dir}/threaded.sock"
    server = await GrpcServer.start([resolve_service(servicer)], target)
    assert not server.is_async
    try:
        async with grpc.aio.insecure_channel(target) as channel:
            check = health_pb2_grpc.HealthStub(channel).Check
            serving = await check(health_pb2.HealthCheckRequest(service=""), timeout=10)
            assert serving.status == health_pb2.HealthCheckResponse.SERVING
            in_flight = _unary(channel, "Hang")(echo_pb2.EchoRequest(name="kept"), timeout=30)
            assert await asyncio.to_thread(servicer.entered.wait, 10)
            stopping = asyncio.create_task(server.stop(grace=20))
            await asyncio.sleep(0)  # the task runs up to its first wait: the server stops
            # Health reports NOT_SERVING from the start of the grace period...
            status = server.health.Check(health_pb2.HealthCheckRequest(service=""), None)
            assert status.status == health_pb2.HealthCheckResponse.NOT_SERVING
            # ...no new call is taken...
            async with grpc.aio.insecure_channel(target) as fresh:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await _unary(fresh, "Echo")(echo_pb2.EchoRequest(), timeout=10)
                # gRPC core refuses a call that reaches a stopping server in one of two
                # ways, depending on whether the transport had accepted the stream before
                # shutdown began (cancelled with the server's unmatched calls) or not
                # (UNAVAILABLE): both mean the call never ran.
                assert refused.value.code() in (
                    grpc.StatusCode.UNAVAILABLE,
                    grpc.StatusCode.CANCELLED,
                )
            # ...and the running one finishes.
            servicer.release.set()
            assert (await in_flight).request.name == "kept"
            await asyncio.wait_for(stopping, 20)
    finally:
        servicer.release.set()
        await server.stop(0)


_SERVE = """
import examples.ping, grpcgw
from examples.ping.service import SyncPingServicer
grpcgw.serve_local(
    SyncPingServicer(),
    http_address="127.0.0.1:0",
    grpc_address="127.0.0.1:0",
    options=grpcgw.GatewayOptions(health_path="/healthz"),
)
"""


def test_serve_local_with_plain_servicers(tmp_path: Path) -> None:
    """``serve_local`` on the threaded server: HTTP, health, reflection, then SIGTERM."""
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = _Lines(proc.stderr)
    try:
        grpc_port = lines.port(GRPC_PORT)
        http_port = lines.port(GATEWAY_PORT)
        base = f"http://127.0.0.1:{http_port}"
        with urllib.request.urlopen(f"{base}/v1/ping", timeout=10) as resp:
            assert json.loads(resp.read()) == {"message": "Pong"}
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as resp:
            assert json.loads(resp.read()) == {"status": "SERVING"}
        answers = _ask_blocking(f"127.0.0.1:{grpc_port}", "v1", V1Messages(tmp_path))
        assert "example.v1.PingService" in answers["services"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    err = lines.rest()
    assert proc.returncode == 0, err
    assert "shutting down" in err
    assert "Traceback" not in err
