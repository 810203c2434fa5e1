"""The gRPC server every local contender calls: ``python -m bench.apps.grpc_server PATH``."""

from __future__ import annotations

import os
import sys

from bench.apps.local_common import main, say, until_stdin_closes
from bench.service import start_server


async def serve(path: str) -> None:
    server = await start_server(path)
    say({"pid": os.getpid(), "target": f"unix://{path}"})
    try:
        await until_stdin_closes()
    finally:
        await server.stop(0)


if __name__ == "__main__":
    main(serve(sys.argv[1]))
