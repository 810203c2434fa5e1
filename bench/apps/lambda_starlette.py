"""Mangum + Starlette: one hand-written route per call, the same stub call and JSON conversion."""

from __future__ import annotations

from google.protobuf import json_format
from mangum import Mangum
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.apps.asgi_common import STUB
from bench.service import PingRequest, Record, to_json


async def ping(request: Request) -> Response:
    reply = await STUB.Ping(PingRequest())
    return Response(to_json(reply), media_type="application/json")


async def echo(request: Request) -> Response:
    message = json_format.Parse(await request.body(), Record(), ignore_unknown_fields=True)
    message.name = f"records/{request.path_params['rid']}"
    reply = await STUB.Echo(message)
    return Response(to_json(reply), media_type="application/json")


app = Starlette(
    routes=[
        Route("/v1/ping", ping, methods=["GET"]),
        Route("/v1/records/{rid}:echo", echo, methods=["POST"]),
    ]
)
handler = Mangum(app, lifespan="off")
