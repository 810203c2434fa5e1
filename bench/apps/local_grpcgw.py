"""grpcgw's aiohttp app (``grpcgw.web.create_app``, what ``serve_local`` serves) in front
of the gRPC server at TARGET: ``python -m bench.apps.local_grpcgw TARGET``."""

from __future__ import annotations

import sys

import grpcgw
import grpcgw.web

from bench.apps.local_common import main, serve_app
from bench.service import SERVICE


async def serve(target: str) -> None:
    await serve_app(grpcgw.web.create_app(grpcgw.Gateway([SERVICE], target=target)))


if __name__ == "__main__":
    main(serve(sys.argv[1]))
