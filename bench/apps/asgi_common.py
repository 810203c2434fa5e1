"""What the Mangum contenders share: the loop, the server and the stub, made at import."""

from __future__ import annotations

import asyncio
from typing import Any

from bench.service import socket_path, start_server, stub

# Mangum runs each invocation on asyncio.get_event_loop(): make it this one.
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
_path = socket_path("asgi")
server = loop.run_until_complete(start_server(_path))


async def _stub() -> Any:
    return stub(f"unix://{_path}")


STUB = loop.run_until_complete(_stub())
