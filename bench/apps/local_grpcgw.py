"""grpcgw's aiohttp app (``grpcgw.web.create_app``, what ``serve_local`` serves) in front
of the gRPC server at TARGET: ``python -m bench.apps.local_grpcgw TARGET``."""

from __future__ import annotations

import os
import sys

import grpcgw
import grpcgw.web
from aiohttp import web

from bench.apps.local_common import main, say, until_stdin_closes
from bench.service import SERVICE


async def serve(target: str) -> None:
    gateway = grpcgw.Gateway([SERVICE], target=target)
    runner = web.AppRunner(grpcgw.web.create_app(gateway), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    say({"pid": os.getpid(), "port": port})
    try:
        await until_stdin_closes()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    main(serve(sys.argv[1]))
