"""Debian's headless Chromium, driven by Playwright: what the browser tests share.

A test module calls :func:`require_chromium` at import (it skips the module,
saying why, where Chromium or Playwright is not installed; ``.ci/run``
installs both) and launches with :func:`launch`. Never a browser of
Playwright's own: ``executable_path`` is Debian's (``GRPCGW_CHROMIUM``
overrides it).
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
from aiohttp import web

CHROMIUM = os.environ.get("GRPCGW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> Any:
    """Skip the calling module unless Chromium and Playwright are installed; returns
    ``playwright.async_api``."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does)",
            allow_module_level=True,
        )
    return pytest.importorskip(
        "playwright.async_api",
        reason="the test extra installs playwright (pip install -e '.[test]')",
    )


async def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless, from a running ``async_playwright()``."""
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)


async def page_site() -> tuple[web.AppRunner, str]:
    """A site serving an empty page on loopback, and its origin: where a page's
    requests (fetches, WebSockets) come from in the cross-origin tests."""
    app = web.Application()

    async def index(_: web.Request) -> web.Response:
        return web.Response(text="<!doctype html><title>page</title>", content_type="text/html")

    app.router.add_get("/", index)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"
