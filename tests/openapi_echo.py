"""An echo servicer for the OpenAPI checks: every request that fits the document succeeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from google.api import httpbody_pb2
from google.protobuf import empty_pb2
from grpcgwtest.openapi.v1 import echo_pb2, echo_pb2_grpc


class EchoServicer(echo_pb2_grpc.EchoServiceServicer):
    """Answers with what it was sent; keeps the last request of each method."""

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}

    async def Query(self, request: echo_pb2.Scalars, context: Any) -> echo_pb2.Scalars:
        self.last["Query"] = request
        reply = echo_pb2.Scalars()
        reply.CopyFrom(request)
        # Any field name is a valid mask path in the query, but proto3 JSON cannot
        # write every one back (``field_2``): the reply leaves the mask out.
        reply.ClearField("mask")
        return reply

    async def CreateThing(
        self, request: echo_pb2.CreateThingRequest, context: Any
    ) -> echo_pb2.Thing:
        self.last["CreateThing"] = request
        thing = echo_pb2.Thing()
        thing.CopyFrom(request.thing)
        thing.name = f"{request.parent}/things/{request.thing_id or 'new'}"
        thing.create_time.GetCurrentTime()
        thing.ClearField("secret")
        return thing

    async def UpdateThing(
        self, request: echo_pb2.UpdateThingRequest, context: Any
    ) -> echo_pb2.Thing:
        self.last["UpdateThing"] = request
        thing = echo_pb2.Thing()
        thing.CopyFrom(request.thing)
        thing.ClearField("secret")
        return thing

    async def GetThing(
        self, request: echo_pb2.GetThingRequest, context: Any
    ) -> echo_pb2.GetThingResponse:
        self.last["GetThing"] = request
        name = request.name or f"things/{request.id}"
        return echo_pb2.GetThingResponse(thing=echo_pb2.Thing(name=name, mood=request.mood))

    async def LegacyGet(self, request: echo_pb2.GetThingRequest, context: Any) -> echo_pb2.Thing:
        self.last["LegacyGet"] = request
        return echo_pb2.Thing(name=request.name)

    async def Upload(self, request: echo_pb2.UploadRequest, context: Any) -> httpbody_pb2.HttpBody:
        self.last["Upload"] = request
        return httpbody_pb2.HttpBody(content_type=request.file.content_type, data=request.file.data)

    async def Repeat(
        self, request: echo_pb2.RepeatRequest, context: Any
    ) -> AsyncIterator[echo_pb2.Thing]:
        self.last["Repeat"] = request
        for i in range(max(0, min(request.count, 3))):
            yield echo_pb2.Thing(name=f"things/{i}", title=request.text)

    async def Collect(
        self, requests: AsyncIterator[echo_pb2.Thing], context: Any
    ) -> echo_pb2.CollectResponse:
        reply = echo_pb2.CollectResponse()
        async for thing in requests:
            reply.count += 1
            reply.titles.append(thing.title)
        self.last["Collect"] = reply
        return reply

    async def Nothing(self, request: empty_pb2.Empty, context: Any) -> empty_pb2.Empty:
        self.last["Nothing"] = request
        return empty_pb2.Empty()
