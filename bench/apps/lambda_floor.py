"""The floor: the bare stub call from the same loop, with no HTTP and no JSON at all.

Imports grpc, protobuf and the ``_pb2`` modules, starts the same server on a
unix socket, and exposes one function per call.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.service import PingRequest, echo_message, socket_path, start_server, stub

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
_path = socket_path("floor")
server = loop.run_until_complete(start_server(_path))


async def _stub() -> Any:
    return stub(f"unix://{_path}")


_stub_ = loop.run_until_complete(_stub())
_ping_request = PingRequest()
_echo_request = echo_message()


def ping() -> Any:
    return loop.run_until_complete(_stub_.Ping(_ping_request))


def echo() -> Any:
    return loop.run_until_complete(_stub_.Echo(_echo_request))


CALLS = {"ping": ping, "echo": echo}
