"""Mangum + FastAPI: the same two routes as the Starlette contender, as FastAPI path operations."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from google.protobuf import json_format
from mangum import Mangum

from bench.apps.asgi_common import STUB
from bench.service import PingRequest, Record, to_json

app = FastAPI()


@app.get("/v1/ping")
async def ping() -> Response:
    reply = await STUB.Ping(PingRequest())
    return Response(to_json(reply), media_type="application/json")


@app.post("/v1/records/{rid}:echo")
async def echo(rid: str, request: Request) -> Response:
    message = json_format.Parse(await request.body(), Record(), ignore_unknown_fields=True)
    message.name = f"records/{rid}"
    reply = await STUB.Echo(message)
    return Response(to_json(reply), media_type="application/json")


handler = Mangum(app, lifespan="off")
