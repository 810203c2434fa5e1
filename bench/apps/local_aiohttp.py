"""A hand-written aiohttp handler per call, making the same stub call and JSON conversion
as grpcgw: ``python -m bench.apps.local_aiohttp TARGET``."""

from __future__ import annotations

import sys
from typing import Any

from aiohttp import web
from google.protobuf import json_format

from bench.apps.local_common import main, serve_app
from bench.service import PingRequest, Record, stub, to_json


def make_app(client: Any) -> web.Application:
    async def ping(request: web.Request) -> web.Response:
        reply = await client.Ping(PingRequest())
        return web.Response(body=to_json(reply), content_type="application/json")

    async def echo(request: web.Request) -> web.Response:
        message = json_format.Parse(await request.read(), Record(), ignore_unknown_fields=True)
        message.name = f"records/{request.match_info['rid']}"
        reply = await client.Echo(message)
        return web.Response(body=to_json(reply), content_type="application/json")

    app = web.Application()
    app.router.add_get("/v1/ping", ping)
    app.router.add_post("/v1/records/{rid}:echo", echo)
    return app


async def serve(target: str) -> None:
    await serve_app(make_app(stub(target)))


if __name__ == "__main__":
    main(serve(sys.argv[1]))
