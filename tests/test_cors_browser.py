"""CORS in a real browser: Debian's headless Chromium, driven by Playwright.

A page on one loopback origin calls gateways served by ``start_local`` on other
ports with ``fetch``, with credentials and without, and the browser itself
decides what the page may read: the Fetch standard as Chromium implements it,
not our reading of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from examples.ping.service import ShelfServicer
from grpcgw import CorsOptions, GatewayOptions, start_local
from grpcgw.server import LocalServer

from .browser import launch, page_site, require_chromium
from .servicers import CookiePingServicer

playwright = require_chromium()

pytestmark = pytest.mark.asyncio(loop_scope="module")


class World:
    """Two page origins, two gateways and a browser."""

    page_origin: str
    other_origin: str
    #: Allows page_origin only, with credentials, exposing one header.
    listed: LocalServer
    #: Allows any origin, without credentials.
    anyone: LocalServer
    browser: Any


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[World]:
    w = World()
    page_runner, w.page_origin = await page_site()
    other_runner, w.other_origin = await page_site()
    w.listed = await start_local(
        CookiePingServicer(),
        ShelfServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        options=GatewayOptions(
            cors=CorsOptions(
                allow_origins=[w.page_origin],
                allow_credentials=True,
                expose_headers=["Grpc-Metadata-X-Total"],
            )
        ),
    )
    w.anyone = await start_local(
        CookiePingServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        options=GatewayOptions(cors=CorsOptions(allow_origins=["*"])),
    )
    async with playwright.async_playwright() as p:
        w.browser = await launch(p)
        try:
            yield w
        finally:
            await w.browser.close()
            await w.listed.stop()
            await w.anyone.stop()
            await page_runner.cleanup()
            await other_runner.cleanup()


# Runs in the page: the outcome of one fetch as the page sees it.
FETCH = """
async ([url, init, read]) => {
  try {
    const response = await fetch(url, init);
    const headers = {};
    for (const name of read) headers[name] = response.headers.get(name);
    return {ok: true, status: response.status, body: await response.text(), headers};
  } catch (error) {
    return {ok: false, error: String(error)};
  }
}
"""


async def page_fetch(
    page: Any, url: str, init: dict[str, Any] | None = None, read: tuple[str, ...] = ()
) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate(FETCH, [url, init or {}, list(read)])
    return result


def url(server: LocalServer, path: str) -> str:
    return f"http://127.0.0.1:{server.http_port}{path}"


async def test_a_listed_origin_reads_replies_and_exposed_headers_only(world: World) -> None:
    context = await world.browser.new_context()
    page = await context.new_page()
    await page.goto(world.page_origin + "/")
    read = ("Grpc-Metadata-X-Total", "Grpc-Trailer-x-trace", "Content-Type")
    for credentials in ("omit", "include"):
        result = await page_fetch(
            page, url(world.listed, "/v1/ping"), {"credentials": credentials}, read
        )
        assert result["ok"], (credentials, result)
        assert (result["status"], result["body"]) == (200, '{"message":"Pong"}')
        assert result["headers"] == {
            "Grpc-Metadata-X-Total": "2",  # exposed
            "Grpc-Trailer-x-trace": None,  # sent, but not exposed: the page cannot read it
            "Content-Type": "application/json",  # always readable
        }
    await context.close()


async def test_cookies_are_stored_only_from_credentialed_requests(world: World) -> None:
    context = await world.browser.new_context()
    page = await context.new_page()
    await page.goto(world.page_origin + "/")
    assert (await page_fetch(page, url(world.listed, "/v1/ping"), {"credentials": "omit"}))["ok"]
    assert await context.cookies() == []  # a response to an uncredentialed fetch sets none
    assert (await page_fetch(page, url(world.listed, "/v1/ping"), {"credentials": "include"}))["ok"]
    jar = {c["name"]: c for c in await context.cookies()}
    assert jar.keys() == {"session", "theme"}
    assert jar["session"]["value"] == "abc123"
    assert jar["session"]["httpOnly"] is True
    assert jar["theme"]["value"] == "dark"
    await context.close()


async def test_a_preflighted_request_passes_and_a_refused_one_fails(world: World) -> None:
    context = await world.browser.new_context()
    page = await context.new_page()
    await page.goto(world.page_origin + "/")
    # application/json is not a "simple" content type: the browser preflights first.
    created = await page_fetch(
        page,
        url(world.listed, "/v1/shelves?shelf_id=b1"),
        {
            "method": "POST",
            "credentials": "include",
            "headers": {"Content-Type": "application/json", "Authorization": "Bearer t"},
            "body": '{"theme": "x"}',
        },
    )
    assert created["ok"], created
    assert created["status"] == 201
    # No DELETE route on /v1/ping: the preflight is refused, the request never sent.
    refused = await page_fetch(
        page, url(world.listed, "/v1/ping"), {"method": "DELETE", "credentials": "include"}
    )
    assert refused == {"ok": False, "error": "TypeError: Failed to fetch"}
    await context.close()


async def test_an_origin_not_listed_reads_nothing(world: World) -> None:
    context = await world.browser.new_context()
    page = await context.new_page()
    await page.goto(world.other_origin + "/")
    for credentials in ("omit", "include"):
        result = await page_fetch(page, url(world.listed, "/v1/ping"), {"credentials": credentials})
        assert result == {"ok": False, "error": "TypeError: Failed to fetch"}, credentials
    await context.close()


async def test_any_origin_without_credentials_is_star_which_credentials_cannot_use(
    world: World,
) -> None:
    context = await world.browser.new_context()
    page = await context.new_page()
    await page.goto(world.other_origin + "/")
    plain = await page_fetch(page, url(world.anyone, "/v1/ping"), {"credentials": "omit"})
    assert plain["ok"], plain
    assert plain["status"] == 200
    # "*" with credentials is refused by the browser (the Fetch standard), as it should be.
    credentialed = await page_fetch(page, url(world.anyone, "/v1/ping"), {"credentials": "include"})
    assert credentialed == {"ok": False, "error": "TypeError: Failed to fetch"}
    await context.close()
