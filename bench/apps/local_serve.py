"""``serve_local``'s pair in one process: the gRPC server (on a unix socket) and the
HTTP gateway on one event loop, as ``grpcgw.start_local`` runs them.

    python -m bench.apps.local_serve MODE SOCKET_PATH

MODE ``socket``: the gateway calls the gRPC server over the socket (today's
``serve_local``); ``direct``: ``dispatch="direct"``, the gateway calls the
servicer in process (the gRPC server still serves gRPC clients). The parent
checks that ``start_local`` takes ``dispatch=`` before asking for ``direct``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import grpcgw

from bench.apps.local_common import main, say, until_stdin_closes
from bench.service import BenchServicer


async def serve(mode: str, path: str) -> None:
    extra: dict[str, Any] = {} if mode == "socket" else {"dispatch": mode}
    local = await grpcgw.start_local(
        BenchServicer(), http_address="127.0.0.1:0", grpc_address=f"unix://{path}", **extra
    )
    say({"pid": os.getpid(), "port": local.http_port})
    try:
        await until_stdin_closes()
    finally:
        await local.stop(0)


if __name__ == "__main__":
    main(serve(sys.argv[1], sys.argv[2]))
