"""The explorer page in a real browser: Debian's headless Chromium, driven by Playwright.

``/docs`` served by ``serve_local`` (``start_local``), and by ``serve_lambda``
behind a stand-in for API Gateway's HTTP API on the stage ``prod``
(``/prod/docs``): Swagger UI lists the example's operations from the gateway's
own document, and "Try it out" on ``GET /v1/ping`` calls the gateway that
served the page and shows ``{"message": "Pong"}``. Every request the page
makes stays on that gateway's origin (and under ``/prod/``): no CDN, no
validator badge.

``GRPCGW_UPDATE_SCREENSHOTS=1`` writes the screenshot kept in the docs
(docs/img/explorer.png); otherwise it goes to a temporary directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import GatewayOptions, LambdaOptions, serve_lambda, start_local
from grpcgw.server import LocalServer

from . import lambda_http
from .browser import launch, require_chromium
from .conftest import ROOT

playwright = require_chromium()

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCREENSHOT = ROOT / "docs" / "img" / "explorer.png"


class World:
    local: LocalServer
    local_url: str
    lambda_url: str  # .../prod
    browser: Any


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    w = World()
    w.local = await start_local(
        PingServicer(), ShelfServicer(), http_address="127.0.0.1:0", grpc_address="127.0.0.1:0"
    )
    w.local_url = f"http://127.0.0.1:{w.local.http_port}"
    handler = serve_lambda(
        PingServicer(),
        ShelfServicer(),
        lambda_options=LambdaOptions(socket_dir=str(tmp_path_factory.mktemp("sock"))),
        options=GatewayOptions(api_docs=True),
    )
    runner, w.lambda_url = await lambda_http.serve(handler, stage="prod")
    async with playwright.async_playwright() as p:
        w.browser = await launch(p)
        try:
            yield w
        finally:
            await w.browser.close()
            await runner.cleanup()
            handler.stop()
            await w.local.stop()


async def _operation_ids(document_url: str) -> set[str]:
    async with aiohttp.ClientSession() as session, session.get(document_url) as response:
        document = await response.json()
    return {
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


async def _open(world: World, url: str) -> tuple[Any, Any, list[str], list[str]]:
    """The explorer at ``url``, rendered: (context, page, request URLs, console errors)."""
    context = await world.browser.new_context(viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = await page.goto(url)
    assert response is not None
    assert response.status == 200
    await page.locator(".opblock").first.wait_for(timeout=20_000)
    return context, page, requests, errors


async def _try_ping(page: Any) -> Any:
    """Open ``GET /v1/ping``, press "Try it out" and "Execute"; the operation's block."""
    operation = page.locator("#operations-PingService-PingService_Ping")
    await operation.locator(".opblock-summary").click()
    await operation.locator("button.try-out__btn").click()
    await operation.locator("button.execute").click()
    await operation.locator(
        ".live-responses-table tr.response .response-col_status"
    ).first.wait_for(timeout=20_000)
    return operation


async def _shown_reply(operation: Any) -> tuple[str, Any, str]:
    """The live response's status, body (as JSON) and request URL, as the page shows them."""
    status = await operation.locator(
        ".live-responses-table tr.response .response-col_status"
    ).first.inner_text()
    body = await operation.locator(
        ".live-responses-table .response-col_description pre"
    ).first.inner_text()
    request_url = await operation.locator(".request-url pre").inner_text()
    return status.strip(), json.loads(body), request_url.strip()


async def test_the_explorer_lists_the_operations_and_tries_ping(
    world: World, tmp_path: Path
) -> None:
    context, page, requests, errors = await _open(world, world.local_url + "/docs")
    try:
        shown = set(await page.locator(".opblock").evaluate_all("els => els.map(e => e.id)"))
        expected = await _operation_ids(world.local_url + "/openapi.json")
        assert len(expected) > 10
        assert shown == {f"operations-{op.split('_')[0]}-{op}" for op in expected}
        assert await page.locator(".info .title").inner_text() != ""

        operation = await _try_ping(page)
        status, body, request_url = await _shown_reply(operation)
        assert status == "200"
        assert body == {"message": "Pong"}
        assert request_url == world.local_url + "/v1/ping"

        # Everything came from the gateway: no CDN, no validator badge.
        assert requests
        assert all(url.startswith(world.local_url + "/") for url in requests), requests
        assert world.local_url + "/v1/ping" in requests
        assert errors == []

        target = SCREENSHOT if os.environ.get("GRPCGW_UPDATE_SCREENSHOTS") else tmp_path / "e.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        box = await operation.locator(".live-responses-table").bounding_box()
        assert box is not None
        await page.screenshot(
            path=str(target),
            full_page=True,
            clip={"x": 0, "y": 0, "width": 1100, "height": box["y"] + box["height"] + 16},
        )
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        await context.close()


async def test_behind_an_api_gateway_stage_everything_stays_under_it(world: World) -> None:
    context, page, requests, errors = await _open(world, world.lambda_url + "/docs")
    try:
        operation = await _try_ping(page)
        status, body, request_url = await _shown_reply(operation)
        assert status == "200"
        assert body == {"message": "Pong"}
        assert request_url == world.lambda_url + "/v1/ping"
        # The page, its files, the document and the call: all under /prod/.
        assert all(url.startswith(world.lambda_url + "/") for url in requests), requests
        assert world.lambda_url + "/openapi.json" in requests
        assert errors == []
    finally:
        await context.close()


async def test_the_page_with_a_trailing_slash_finds_its_files(world: World) -> None:
    context, _, requests, errors = await _open(world, world.lambda_url + "/docs/")
    try:
        assert world.lambda_url + "/openapi.json" in requests
        assert any(
            url.startswith(world.lambda_url + "/docs/swagger-ui-bundle.js") for url in requests
        )
        assert errors == []
    finally:
        await context.close()
