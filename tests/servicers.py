"""Servicers the tests share beyond the example's: one that sets cookies and other
metadata, Pings that hang or wait for the test, and one that echoes its metadata."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc

import examples.ping  # noqa: F401  (puts the example's generated code on sys.path)

from example.v1 import ping_pb2, ping_pb2_grpc  # isort: skip

#: The two cookies :class:`CookiePingServicer` sets (the date holds a comma: the
#: values can never be joined into one header and split again).
COOKIES = (
    "session=abc123; Path=/; HttpOnly; SameSite=Lax",
    "theme=dark; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/",
)


class CookiePingServicer(ping_pb2_grpc.PingServiceServicer):
    """``GET /v1/ping`` answered with two ``set-cookie`` header metadata entries, an
    ``x-total`` header entry and an ``x-trace`` trailer entry."""

    async def Ping(self, request: Any, context: Any) -> ping_pb2.PingResponse:
        await context.send_initial_metadata(
            [("set-cookie", c) for c in COOKIES] + [("x-total", "2")]
        )
        context.set_trailing_metadata((("x-trace", "t-1"),))
        return ping_pb2.PingResponse(message="Pong")


class SyncCookiePingServicer(ping_pb2_grpc.PingServiceServicer):
    """:class:`CookiePingServicer` for a threaded ``grpc.server``."""

    def Ping(self, request: Any, context: Any) -> ping_pb2.PingResponse:
        context.send_initial_metadata([("set-cookie", c) for c in COOKIES] + [("x-total", "2")])
        context.set_trailing_metadata((("x-trace", "t-1"),))
        return ping_pb2.PingResponse(message="Pong")


class SyncDeniedPingServicer(ping_pb2_grpc.PingServiceServicer):
    """A plain ``Ping`` that aborts with PERMISSION_DENIED."""

    def Ping(self, request: Any, context: Any) -> ping_pb2.PingResponse:
        context.abort(grpc.StatusCode.PERMISSION_DENIED, "not you")
        raise AssertionError("unreachable")


class HangingPing(ping_pb2_grpc.PingServiceServicer):
    """``Ping`` never answers: ``started`` is set once it is called, ``cancelled``
    once its call is cancelled."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def Ping(self, request: Any, context: Any) -> Any:
        self.started.set()
        try:
            await asyncio.Event().wait()  # never answers
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


class HeldPing(ping_pb2_grpc.PingServiceServicer):
    """``Ping`` waits until the test sets ``release``, then answers ``Pong``;
    ``entered`` is set once a call is inside."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def Ping(self, request: Any, context: Any) -> ping_pb2.PingResponse:
        self.entered.set()
        await self.release.wait()
        return ping_pb2.PingResponse(message="Pong")


class MetadataEcho(ping_pb2_grpc.PingServiceServicer):
    """``GET /v1/ping`` answers the invocation metadata it received, as JSON in
    ``message`` (text values), and keeps each call's."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    async def Ping(self, request: Any, context: Any) -> ping_pb2.PingResponse:
        metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        self.seen.append(metadata)
        return ping_pb2.PingResponse(message=json.dumps(metadata, sort_keys=True))
