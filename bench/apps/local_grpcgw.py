"""grpcgw's aiohttp app (``grpcgw.web.create_app``) in front of the gRPC server at
TARGET, served as ``serve_local`` and ``grpcgw proxy`` serve it (``grpcgw.web.start_server``:
the edge limits, and the lean request handler it gives a ``create_app`` application):
``python -m bench.apps.local_grpcgw TARGET``."""

from __future__ import annotations

import os
import sys

import grpcgw
import grpcgw.web

from bench.apps.local_common import main, say, until_stdin_closes
from bench.service import SERVICE


async def serve(target: str) -> None:
    app = grpcgw.web.create_app(grpcgw.Gateway([SERVICE], target=target))
    server = await grpcgw.web.start_server(app, "127.0.0.1:0")
    say({"pid": os.getpid(), "port": server.port})
    try:
        await until_stdin_closes()
    finally:
        await server.stop()


if __name__ == "__main__":
    main(serve(sys.argv[1]))
