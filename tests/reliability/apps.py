"""The servers the reliability suite runs in processes of their own.

    python -m tests.reliability.apps local [--header-timeout S] ...   # serve_local
    python -m tests.reliability.apps backend [--port N]               # a gRPC server alone

``local`` runs :func:`grpcgw.serve_local` (the gRPC server and the HTTP gateway
in one process, as a user runs it) on a free port and logs where; ``backend``
runs the same servicers in a bare gRPC server for ``grpcgw proxy`` to stand in
front of, and prints ``backend ready <port>``. Either prints one line per
call the servicers see cancelled (``cancelled <tag>``), so a test in another
process can wait for the servicer side of a disconnect.

The servicers behave as the request asks (by name or page token), so one
server covers every fault scenario: a slow reply, one that never comes, a
servicer that raises, a reply JSON cannot hold, idle, busy and endless streams.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [
    str(ROOT / "src"),
    str(ROOT),
    str(ROOT / "tests" / "gen"),
    str(ROOT / "examples" / "ping" / "gen"),  # what importing examples.ping adds
]

from example.v1 import shelf_pb2  # noqa: E402
from google.api import httpbody_pb2  # noqa: E402
from google.protobuf import timestamp_pb2  # noqa: E402
from grpcgwtest.echo.v1 import echo_pb2, echo_pb2_grpc  # noqa: E402
from grpcgwtest.stream.v1 import stream_pb2, stream_pb2_grpc  # noqa: E402

from examples.ping.service import PingServicer, ShelfServicer  # noqa: E402

#: What a crashing servicer says: it must never reach a client.
SECRET = "SECRET-db-password-hunter2"
#: A Timestamp beyond year 9999: no RFC 3339 form, so no JSON form.
BAD_TIME = timestamp_pb2.Timestamp(seconds=10**12)
#: The services, for ``grpcgw proxy`` (by name, with these modules imported).
SERVICES = [
    "example.v1.PingService",
    "example.v1.ShelfService",
    "grpcgwtest.echo.v1.EchoService",
    "grpcgwtest.stream.v1.StreamService",
]
IMPORTS = [
    "examples.ping.service",
    "grpcgwtest.echo.v1.echo_pb2",
    "grpcgwtest.stream.v1.stream_pb2",
]


def report(what: str) -> None:
    """One line on stdout for the test that waits for it."""
    print(what, flush=True)


async def _hang(tag: str) -> None:
    """Wait for ever; say so when it starts, and when the call is cancelled."""
    report(f"started {tag}")
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        report(f"cancelled {tag}")
        raise


class Shelves(ShelfServicer):
    """The example's shelves, plus faults chosen by the shelf name or page token.

    ``GetShelf``: ``shelves/unrenderable`` (a reply JSON cannot hold),
    ``shelves/crash`` (raises with :data:`SECRET`), ``shelves/slow-<ms>``,
    ``shelves/hang-<tag>`` (never answers). ``WatchShelves``, by page token:
    ``idle-<tag>`` (one shelf, then quiet), ``busy-<tag>`` (big shelves without
    end), ``crash`` (one shelf, then raises), ``unrenderable`` (one shelf, then
    one JSON cannot hold).
    """

    async def GetShelf(self, request: Any, context: Any) -> shelf_pb2.Shelf:
        name = request.name
        if name == "shelves/unrenderable":
            return shelf_pb2.Shelf(name=name, create_time=BAD_TIME)
        if name == "shelves/crash":
            raise RuntimeError(SECRET)
        if name.startswith("shelves/slow-"):
            # The servicer is slow; the test does not wait on a clock.
            await asyncio.sleep(int(name.removeprefix("shelves/slow-")) / 1000)
            return shelf_pb2.Shelf(name=name)
        if name.startswith("shelves/hang-"):
            await _hang(name.removeprefix("shelves/"))
        if name.startswith("shelves/big-"):  # a reply of that many bytes
            return shelf_pb2.Shelf(name=name, theme="x" * int(name.removeprefix("shelves/big-")))
        return await super().GetShelf(request, context)

    async def WatchShelves(self, request: Any, context: Any) -> AsyncIterator[shelf_pb2.Shelf]:
        token = request.page_token
        if token.startswith("idle-"):
            yield shelf_pb2.Shelf(name="shelves/first")
            await _hang(token)
        elif token.startswith("busy-"):
            shelf = shelf_pb2.Shelf(name="shelves/big", theme="x" * 60000)
            report(f"started {token}")
            try:
                while True:
                    yield shelf
            except BaseException:
                report(f"cancelled {token}")
                raise
        elif token == "crash":
            yield shelf_pb2.Shelf(name="shelves/first")
            raise RuntimeError(SECRET)
        elif token == "unrenderable":
            yield shelf_pb2.Shelf(name="shelves/first")
            yield shelf_pb2.Shelf(name="shelves/bad", create_time=BAD_TIME)
        else:
            async for shelf in super().WatchShelves(request, context):
                yield shelf


class Echo(echo_pb2_grpc.EchoServiceServicer):
    """Echoes the request; ``Hang`` never answers; ``Fail`` raises with :data:`SECRET`."""

    async def Echo(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        return echo_pb2.EchoResponse(request=request)

    async def Hang(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        await _hang(f"hang-{request.name}")
        raise AssertionError("unreachable")

    async def Fail(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        raise RuntimeError(SECRET)


#: The metadata keys :class:`Reporting` echoes (those the Lambda adapter sets).
REPORTED = (
    "x-lambda-request-id",
    "x-apigateway-request-id",
    "x-forwarded-for",
    "x-apigateway-authorizer",
)


class Reporting(echo_pb2_grpc.EchoServiceServicer):
    """For Lambda: echoes the request, the request-context metadata and the call's
    deadline (``metadata["deadline"]``, seconds); ``Hang`` never answers."""

    async def Echo(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        md = {k: v for k, v in context.invocation_metadata() if k in REPORTED}
        remaining = context.time_remaining()
        md["deadline"] = "none" if remaining is None else f"{remaining:.3f}"
        return echo_pb2.EchoResponse(request=request, metadata=md)

    async def Hang(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class Streams(stream_pb2_grpc.StreamServiceServicer):
    """``Count`` yields ``n`` numbers, then (with ``hold``) waits for ever;
    ``Download`` yields ``n`` raw chunks, then (with ``hold``) waits for ever."""

    async def Count(self, request: Any, context: Any) -> AsyncIterator[stream_pb2.Num]:
        for i in range(request.n):
            yield stream_pb2.Num(value=i)
        if request.hold:
            await _hang(f"count-{request.n}")

    async def Download(self, request: Any, context: Any) -> AsyncIterator[httpbody_pb2.HttpBody]:
        for i in range(request.n):
            yield httpbody_pb2.HttpBody(content_type="text/plain", data=b"chunk %d\n" % i)
        if request.hold:
            await _hang(f"download-{request.n}")


def servicers() -> list[object]:
    return [PingServicer(), Shelves(), Echo(), Streams()]


async def _backend(port: int) -> None:
    from grpcgw.descriptors import resolve_service
    from grpcgw.grpcserver import GrpcServer

    server = await GrpcServer.start([resolve_service(s) for s in servicers()], f"127.0.0.1:{port}")
    report(f"backend ready {server.port}")
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.apps")
    parser.add_argument("mode", choices=["local", "backend"])
    parser.add_argument("--port", type=int, default=0)
    for name in ("header", "idle", "body-read", "body", "send"):
        parser.add_argument(f"--{name}-timeout", type=float, default=None)
    parser.add_argument("--max-connections", type=int, default=None)
    parser.add_argument("--nofile", type=int, default=None, help="soft RLIMIT_NOFILE")
    args = parser.parse_args(argv)
    if args.nofile is not None:
        import resource

        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(args.nofile, hard), hard))
    if args.mode == "backend":
        logging.basicConfig(level=logging.WARNING)
        asyncio.run(_backend(args.port))
        return
    import grpcgw
    from grpcgw.limits import HttpLimits

    names = ("header_timeout", "idle_timeout", "body_read_timeout", "body_timeout", "send_timeout")
    limits: dict[str, Any] = {
        name: getattr(args, name)
        for name in (*names, "max_connections")
        if getattr(args, name) is not None
    }
    grpcgw.serve_local(
        *servicers(),
        http_address=f"127.0.0.1:{args.port}",
        grpc_address="127.0.0.1:0",
        limits=HttpLimits(**limits),
    )


if __name__ == "__main__":
    main()
