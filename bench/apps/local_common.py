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


def main(coro: Any) -> None:
    try:
        asyncio.run(coro)
    except Exception as exc:
        say({"error": f"{type(exc).__name__}: {exc}"})
        raise
