"""A hand-written aiohttp handler per call, making the same stub call and JSON conversion
as grpcgw: ``python -m bench.apps.local_aiohttp TARGET [--forward]``."""

from __future__ import annotations

import sys
from typing import Any

from aiohttp import web
from google.protobuf import json_format

from bench.apps.local_common import main, serve_app
from bench.service import PingRequest, Record, stub, to_json


def make_app(client: Any, *, forward: bool = False) -> web.Application:
    """With ``forward``, each call also carries ``x-forwarded-host`` and
    ``x-forwarded-for``, as grpcgw and grpc-gateway send them (equal work)."""

    def metadata(request: web.Request) -> Any:
        if not forward:
            return None
        return (("x-forwarded-host", request.host), ("x-forwarded-for", request.remote or ""))

    async def ping(request: web.Request) -> web.Response:
        reply = await client.Ping(PingRequest(), metadata=metadata(request))
        return web.Response(body=to_json(reply), content_type="application/json")

    async def echo(request: web.Request) -> web.Response:
        message = json_format.Parse(await request.read(), Record(), ignore_unknown_fields=True)
        message.name = f"records/{request.match_info['rid']}"
        reply = await client.Echo(message, metadata=metadata(request))
        return web.Response(body=to_json(reply), content_type="application/json")

    app = web.Application()
    app.router.add_get("/v1/ping", ping)
    app.router.add_post("/v1/records/{rid}:echo", echo)
    return app


async def serve(target: str, forward: bool = False) -> None:
    await serve_app(make_app(stub(target), forward=forward))


if __name__ == "__main__":
    main(serve(sys.argv[1], forward="--forward" in sys.argv[2:]))
