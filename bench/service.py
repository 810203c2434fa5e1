"""What every contender shares: the generated code, the servicer, the messages, the server.

Same servicer code, same messages and the same unix-socket transport for every
contender: grpcgw's handlers start their server through grpcgw (as users do),
every other contender through :func:`start_server`, with the same settings.
Imports grpc and the ``_pb2`` modules, never grpcgw, aiohttp or an ASGI stack.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

_GEN = str(Path(__file__).resolve().parent / "gen")
if _GEN not in sys.path:
    sys.path.insert(0, _GEN)

import grpc  # noqa: E402
import grpc.aio  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from gwbench.v1 import bench_pb2, bench_pb2_grpc  # noqa: E402

PingRequest = bench_pb2.PingRequest
PingResponse = bench_pb2.PingResponse
Record = bench_pb2.Record

SERVICE = "gwbench.v1.BenchService"
#: The path the Echo call is made for (``POST /v1/{name=records/*}:echo``).
ECHO_PATH = "/v1/records/r-1042:echo"
ECHO_NAME = "records/r-1042"

#: The JSON body of an Echo request: 13 fields, strings, int64, repeated, nested, enum, Timestamp.
ECHO_BODY: dict[str, Any] = {
    "title": "Transcoding gRPC to JSON, measured",
    "description": "A record with enough fields to make JSON conversion a real cost: "
    "strings, 64-bit integers, repeated values, nested messages, an enum and a timestamp.",
    "id": "9007199254740993",
    "sizeBytes": "1048576",
    "score": 4.25,
    "published": True,
    "kind": "KIND_REPORT",
    "tags": ["grpc", "json", "gateway", "lambda", "benchmark"],
    "revisionIds": ["101", "102", "103", "104", "105", "106"],
    "author": {"displayName": "Ada Lovelace", "email": "ada@example.com", "yearOfBirth": 1815},
    "reviewers": [
        {"displayName": "Grace Hopper", "email": "grace@example.com", "yearOfBirth": 1906},
        {"displayName": "Alan Turing", "email": "alan@example.com", "yearOfBirth": 1912},
    ],
    "createTime": "2025-01-01T12:00:00.250Z",
}


def echo_message() -> bench_pb2.Record:
    """The Echo request as a message (what the floor sends): the body plus the path's name."""
    message = json_format.ParseDict(ECHO_BODY, bench_pb2.Record())
    message.name = ECHO_NAME
    return message


class BenchServicer(bench_pb2_grpc.BenchServiceServicer):
    """The servicer every contender calls (``async def``: what a ``grpc.aio`` server runs)."""

    async def Ping(self, request: Any, context: Any) -> Any:
        return PingResponse(message="Pong")

    async def Echo(self, request: Any, context: Any) -> Any:
        return request


class PlainBenchServicer(bench_pb2_grpc.BenchServiceServicer):
    """:class:`BenchServicer` with plain methods (what a threaded ``grpc.server`` runs)."""

    def Ping(self, request: Any, context: Any) -> Any:
        return PingResponse(message="Pong")

    def Echo(self, request: Any, context: Any) -> Any:
        return request


def tmp_dir() -> str:
    """The directory standing for Lambda's /tmp: ``GWBENCH_TMP`` (an empty one of the
    cold-start child's own), else /tmp."""
    return os.environ.get("GWBENCH_TMP") or "/tmp"


def socket_path(tag: str) -> str:
    """A fresh socket path in :func:`tmp_dir`, removed when the process exits normally
    (the suite removes those of processes that end with ``os._exit``)."""
    path = f"{tmp_dir()}/gwbench-{tag}-{os.getpid()}-{secrets.token_hex(3)}.sock"
    atexit.register(remove_socket, path)
    return path


def remove_socket(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


async def start_server(path: str) -> grpc.aio.Server:
    """A ``grpc.aio`` server for :class:`BenchServicer` on ``unix://path``, set up as
    grpcgw's own (``grpcgw.grpcserver.GrpcServer`` with reflection off) sets it up."""
    server = grpc.aio.server(migration_thread_pool=ThreadPoolExecutor(max_workers=4))
    bench_pb2_grpc.add_BenchServiceServicer_to_server(BenchServicer(), server)
    server.add_insecure_port(f"unix://{path}")
    await server.start()
    return server


def stub(target: str) -> bench_pb2_grpc.BenchServiceStub:
    """A stub over a new ``grpc.aio`` channel (call from the loop that will use it)."""
    return bench_pb2_grpc.BenchServiceStub(grpc.aio.insecure_channel(target))


def to_json(message: Any) -> bytes:
    """The response JSON the hand-written contenders send: grpcgw's defaults (unpopulated
    fields emitted, lowerCamel names, enum names, int64 as strings), compact."""
    return json.dumps(
        json_format.MessageToDict(message, always_print_fields_with_no_presence=True),
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
