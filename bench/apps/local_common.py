"""What the local-HTTP processes share: serve until the parent closes our stdin."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any


def say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def until_stdin_closes() -> None:
    """Wait for EOF on stdin (the parent closing the pipe, or dying)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    fd = sys.stdin.fileno()

    def readable() -> None:
        if not os.read(fd, 4096) and not done.done():
            done.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await done
    finally:
        loop.remove_reader(fd)


async def serve_app(app: Any) -> None:
    """Serve an aiohttp application on a free loopback port, say the port, and
    serve until stdin closes (aiohttp is imported here, not by the gRPC server)."""
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    say({"pid": os.getpid(), "port": runner.addresses[0][1]})
    try:
        await until_stdin_closes()
    finally:
        await runner.cleanup()


def main(coro: Any) -> None:
    try:
        asyncio.run(coro)
    except Exception as exc:
        say({"error": f"{type(exc).__name__}: {exc}"})
        raise
