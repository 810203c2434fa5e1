"""The explorer page in a real browser: Debian's headless Chromium, driven by Playwright.

``/docs`` served by ``serve_local`` (``start_local``), and by ``serve_lambda``
behind a stand-in for API Gateway's HTTP API on the stage ``prod``
(``/prod/docs``): Swagger UI lists the example's operations from the gateway's
own document, and "Try it out" on ``GET /v1/ping`` calls the gateway that
served the page and shows ``{"message": "Pong"}``. Every request the page
makes stays on that gateway's origin (and under ``/prod/``): no CDN, no
validator badge.

A server-streaming method's reply is shown message by message while the
stream is open (the servicer holds it after its first message until the test
lets it go), for NDJSON and for server-sent events, then as a list of JSON
messages ending in the error line, never as "can't parse JSON"; on Lambda the
buffered stream is shown the same way. Execute pressed again while a stream is
open aborts it: the servicer sees that call cancelled, the page the new one. With
``GatewayOptions(openapi_security=...)`` the Authorize button is there, and
what is entered reaches the servicer's interceptor as metadata.

The request-headers table of the Try-it form: headers typed there (with the
keyboard alone) reach a servicer that echoes back the metadata it received,
for a unary call and a server stream, and stand in the curl command quoted so
that a POSIX shell reads them back exactly; the rows stay when another
operation is opened; a row replaces a header the page sends (what Authorize
took), and two rows of one name go as one header; a name the browser forbids,
a name or value that is not HTTP shows why and Execute sends nothing until the
row is fixed or removed.

``GRPCGW_UPDATE_SCREENSHOTS=1`` writes the screenshots kept in the docs
(docs/img/explorer.png, docs/img/explorer-stream.png,
docs/img/explorer-headers.png); otherwise they go to a temporary directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
import pytest_asyncio

from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import GatewayOptions, LambdaOptions, serve_lambda, start_local
from grpcgw.metadata import default_header_matcher
from grpcgw.server import LocalServer

from . import lambda_http
from .browser import launch, require_chromium
from .conftest import ROOT
from .servicers import MetadataEcho
from .test_streaming import StreamServicer

playwright = require_chromium()

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCREENSHOT = ROOT / "docs" / "img" / "explorer.png"
STREAM_SCREENSHOT = ROOT / "docs" / "img" / "explorer-stream.png"
HEADERS_SCREENSHOT = ROOT / "docs" / "img" / "explorer-headers.png"


class Counter(StreamServicer):
    """``GET /count/{n}``: the numbers 0 to n-1, failing before number ``failAt``;
    with ``hold``, it waits after the first one until the test lets it go
    (test_streaming's servicer)."""


TOKEN = "Bearer tok-3f9a"
API_KEY = "key-77c1"


class TokenCheck(grpc.aio.ServerInterceptor):
    """What an authentication interceptor does: a call without the right bearer
    token fails with UNAUTHENTICATED. It keeps the metadata of every call."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    async def intercept_service(self, continuation: Any, details: Any) -> Any:
        metadata = {k: v for k, v in details.invocation_metadata if isinstance(v, str)}
        self.seen.append(metadata)
        if metadata.get("authorization") == TOKEN:
            return await continuation(details)

        async def deny(request: Any, context: Any) -> Any:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "a bearer token is needed")

        return grpc.unary_unary_rpc_method_handler(deny)


def _tenant_matcher(header: str) -> str | None:
    """The default matcher, and ``X-Tenant`` as ``x-tenant``: a custom header an
    interceptor reads."""
    if header.lower() == "x-tenant":
        return "x-tenant"
    return default_header_matcher(header)


class World:
    local: LocalServer
    local_url: str
    lambda_url: str  # .../prod
    counter: Counter
    streams: LocalServer
    streams_url: str
    check: TokenCheck
    secured: LocalServer
    secured_url: str
    echo: MetadataEcho
    echo_counter: Counter
    echoing: LocalServer
    echoing_url: str
    resource: LocalServer
    resource_url: str
    browser: Any


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    w = World()
    w.local = await start_local(
        PingServicer(), ShelfServicer(), http_address="127.0.0.1:0", grpc_address="127.0.0.1:0"
    )
    w.local_url = f"http://127.0.0.1:{w.local.http_port}"
    w.counter = Counter()
    w.streams = await start_local(w.counter, http_address="127.0.0.1:0", grpc_address="127.0.0.1:0")
    w.streams_url = f"http://127.0.0.1:{w.streams.http_port}"
    w.check = TokenCheck()
    w.secured = await start_local(
        PingServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        interceptors=[w.check],
        options=GatewayOptions(openapi_security=("bearer", "header:Grpc-Metadata-X-Api-Key")),
    )
    w.secured_url = f"http://127.0.0.1:{w.secured.http_port}"
    w.echo, w.echo_counter = MetadataEcho(), Counter()
    w.echoing = await start_local(
        w.echo,
        w.echo_counter,
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        header_matcher=_tenant_matcher,
    )
    w.echoing_url = f"http://127.0.0.1:{w.echoing.http_port}"
    w.resource = await start_local(
        ShelfServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        options=GatewayOptions(openapi_path_names="resource"),
    )
    w.resource_url = f"http://127.0.0.1:{w.resource.http_port}"
    handler = serve_lambda(
        PingServicer(),
        ShelfServicer(),
        Counter(),
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
            await w.echoing.stop()
            await w.resource.stop()
            await w.secured.stop()
            await w.streams.stop()
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


# -- server streams -----------------------------------------------------------------------


async def _try_count(page: Any, *, n: int, fail_at: int, hold: bool, accept: str = "") -> Any:
    """Open ``GET /count/{n}``, fill it in and press "Execute"; the operation's block."""
    operation = page.locator("#operations-StreamService-StreamService_Count")
    await operation.locator(".opblock-summary").click()
    await operation.locator("button.try-out__btn").click()
    await operation.locator("tr[data-param-name='n'] input").fill(str(n))
    await operation.locator("tr[data-param-name='failAt'] input").fill(str(fail_at))
    await operation.locator("tr[data-param-name='hold'] select").select_option(
        "true" if hold else "false"
    )
    if accept:  # the 200 response's media type, which sets Accept
        await operation.locator(
            ".response-control-media-type--accept-controller select"
        ).select_option(accept)
    await operation.locator("button.execute").click()
    return operation


async def _shown_items(where: Any) -> list[tuple[str, str, Any]]:
    """The stream items shown in ``where``: (kind, label, the JSON shown)."""
    items = []
    for item in await where.locator(".grpcgw-stream-item").all():
        kind = (await item.get_attribute("class") or "").split()[-1].removeprefix("grpcgw-stream-")
        label = await item.locator(".grpcgw-stream-label").inner_text()
        items.append((kind, label.strip(), json.loads(await item.locator("pre").inner_text())))
    return items


async def _watch_a_held_stream(world: World, page: Any, accept: str) -> Any:
    """Count 0..3 failing at 4, held after 0: the page shows 0 while the servicer
    holds the stream open, then everything once it lets go. The operation's block."""
    world.counter.release = asyncio.Event()
    world.counter.holding = asyncio.Event()
    operation = await _try_count(page, n=4, fail_at=4, hold=True, accept=accept)
    live = operation.locator(".grpcgw-stream-live")
    await live.locator(".grpcgw-stream-message").first.wait_for(timeout=20_000)
    # The first message is on the page while the servicer still holds the stream open.
    assert world.counter.holding.is_set()
    assert not world.counter.release.is_set()
    assert await _shown_items(live) == [("message", "#1", {"value": "0"})]
    assert "the stream is open" in await live.locator(".grpcgw-stream-summary").inner_text()
    assert await operation.locator(".live-responses-table").count() == 0

    world.counter.release.set()
    reply = operation.locator(".live-responses-table tr.response")
    await reply.locator(".grpcgw-stream-error").wait_for(timeout=20_000)
    # The finished stream is shown in Swagger UI's panel, not above it any more.
    await live.wait_for(state="detached", timeout=20_000)
    assert (await reply.locator(".response-col_status").inner_text()).strip() == "200"
    assert await _shown_items(reply) == [
        ("message", "#1", {"value": "0"}),
        ("message", "#2", {"value": "1"}),
        ("message", "#3", {"value": "2"}),
        ("error", "Error: FAILED_PRECONDITION (9): failed at 4", {
            "code": 9, "message": "failed at 4", "details": []
        }),
    ]  # fmt: skip
    summary = await reply.locator(".grpcgw-stream-summary").inner_text()
    assert summary == "3 messages, then an error"
    assert "can't parse JSON" not in await operation.inner_text()
    return operation


async def test_an_ndjson_stream_is_shown_message_by_message(world: World, tmp_path: Path) -> None:
    context, page, _, errors = await _open(world, world.streams_url + "/docs")
    try:
        responses = []
        page.on("response", lambda r: responses.append(r))
        operation = await _watch_a_held_stream(world, page, accept="")
        (response,) = [r for r in responses if "/count/4" in r.url]
        assert response.headers["content-type"] == "application/x-ndjson"
        assert errors == []

        target = (
            STREAM_SCREENSHOT if os.environ.get("GRPCGW_UPDATE_SCREENSHOTS") else tmp_path / "s.png"
        )
        top = await operation.bounding_box()
        box = await operation.locator(".live-responses-table").bounding_box()
        assert top is not None
        assert box is not None
        await page.screenshot(
            path=str(target),
            full_page=True,
            clip={
                "x": 0,
                "y": top["y"],
                "width": 1100,
                "height": box["y"] + box["height"] + 16 - top["y"],
            },
        )
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        await context.close()


async def test_server_sent_events_are_shown_message_by_message(world: World) -> None:
    context, page, _, errors = await _open(world, world.streams_url + "/docs")
    try:
        requests = []
        page.on("request", lambda r: requests.append(r))
        await _watch_a_held_stream(world, page, accept="text/event-stream")
        (request,) = [r for r in requests if "/count/4" in r.url]
        assert request.headers["accept"] == "text/event-stream"
        response = await request.response()
        assert response.headers["content-type"] == "text/event-stream"
        assert errors == []
    finally:
        await context.close()


async def test_executing_again_aborts_the_stream_still_open(world: World) -> None:
    """Execute stays pressable while the operation's stream is open; pressing it
    aborts the earlier request: the servicer sees that call cancelled, and the page
    shows the new stream alone, never the earlier one's failure."""
    counter = world.counter
    counter.release, counter.holding = asyncio.Event(), asyncio.Event()
    counter.cancelled_calls.clear()
    counter.cancelled = asyncio.Event()
    context, page, requests, errors = await _open(world, world.streams_url + "/docs")
    try:
        operation = await _try_count(page, n=4, fail_at=4, hold=True)
        live = operation.locator(".grpcgw-stream-live")
        await live.locator(".grpcgw-stream-message").first.wait_for(timeout=20_000)
        await asyncio.wait_for(counter.holding.wait(), 20)
        first_release = counter.release
        execute = operation.locator("button.execute")
        assert await execute.is_enabled()  # Swagger UI alone disables it until the end

        # Again, for 0 and 1 without a failure: the first call (held) is cancelled.
        counter.release, counter.holding = asyncio.Event(), asyncio.Event()
        await operation.locator("tr[data-param-name='n'] input").fill("2")
        await operation.locator("tr[data-param-name='failAt'] input").fill("0")
        await execute.click()
        await asyncio.wait_for(counter.cancelled.wait(), 20)
        assert counter.cancelled_calls == [4]
        await asyncio.wait_for(counter.holding.wait(), 20)  # the second holds after 0
        await live.locator(".grpcgw-stream-message").first.wait_for(timeout=20_000)
        assert await _shown_items(live) == [("message", "#1", {"value": "0"})]
        # No reply panel yet: the aborted request's failure is never shown.
        assert await operation.locator(".live-responses-table").count() == 0
        first_release.set()  # nothing: that call is over

        counter.release.set()
        reply = operation.locator(".live-responses-table tr.response")
        await reply.locator(".grpcgw-stream-summary").wait_for(timeout=20_000)
        await live.wait_for(state="detached", timeout=20_000)
        assert await _shown_items(reply) == [
            ("message", "#1", {"value": "0"}),
            ("message", "#2", {"value": "1"}),
        ]
        assert await reply.locator(".grpcgw-stream-summary").inner_text() == "2 messages"
        url = await operation.locator(".request-url pre").inner_text()
        assert url.strip() == world.streams_url + "/count/2?failAt=0&hold=true"
        assert "Failed to fetch" not in await operation.inner_text()
        assert [u for u in requests if "/count/" in u] == [
            world.streams_url + "/count/4?failAt=4&hold=true",
            world.streams_url + "/count/2?failAt=0&hold=true",
        ]
        assert counter.cancelled_calls == [4]  # the second ended on its own
        assert errors == []
    finally:
        await context.close()


async def test_a_long_stream_shows_its_first_thousand_messages_and_its_error(
    world: World,
) -> None:
    context, page, _, errors = await _open(world, world.streams_url + "/docs")
    try:
        operation = await _try_count(page, n=1006, fail_at=1006, hold=False)
        reply = operation.locator(".live-responses-table tr.response")
        await reply.locator(".grpcgw-stream-error").wait_for(timeout=30_000)
        summary = await reply.locator(".grpcgw-stream-summary").inner_text()
        assert summary == "1005 messages, then an error (the first 1000 are shown)"
        labels = await reply.locator(".grpcgw-stream-label").all_inner_texts()
        assert labels == [f"#{i}" for i in range(1, 1001)] + [
            "Error: FAILED_PRECONDITION (9): failed at 1006"
        ]
        assert errors == []
    finally:
        await context.close()


NDJSON_TEXT = (
    '{"result":{"a":1}}\n\n{"result":{"b":"\u00fc\u4e2d"}}\r\n'
    '{"error":{"code":9,"message":"x"}}\nnot json\n{"c":2}'
)
SSE_TEXT = (
    ': a comment\r\ndata: {"a":1}\r\n\r\n'
    'event: error\r\ndata: {"code":9,\r\ndata:"message":"x"}\n\n'
    "id: 3\r\rretry: 10\n\n"
    'data: {"b":"\u00fc"}\r\rdata: [1]\ndata\n\ndata:not json\n\n'
    "data: an event cut off before its blank line"
)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("ndjson", NDJSON_TEXT, [
            {"kind": "message", "value": {"a": 1}},
            {"kind": "message", "value": {"b": "\u00fc\u4e2d"}},
            {"kind": "error", "value": {"code": 9, "message": "x"}},
            {"kind": "invalid", "text": "not json"},
            {"kind": "message", "value": {"c": 2}},
        ]),
        ("sse", SSE_TEXT, [
            {"kind": "message", "value": {"a": 1}},
            {"kind": "error", "value": {"code": 9, "message": "x"}},
            {"kind": "message", "value": {"b": "\u00fc"}},
            {"kind": "message", "value": [1]},  # "[1]" and "": "[1]\n"
            {"kind": "invalid", "text": "not json"},
        ]),
    ],
)  # fmt: skip
async def test_the_stream_readers_take_the_text_in_any_pieces(
    world: World, kind: str, text: str, expected: list[Any]
) -> None:
    """However the network cuts a stream (inside a line, between "\r" and "\n"), the
    page reads the same items: here cut every 1 to 9 characters."""
    context, page, _, errors = await _open(world, world.streams_url + "/docs")
    try:
        found = await page.evaluate(
            """([kind, text]) => {
                const out = [];
                for (let size = 1; size <= 9; size++) {
                    const chunks = [];
                    for (let i = 0; i < text.length; i += size) {
                        chunks.push(text.slice(i, i + size));
                    }
                    out.push(window.grpcgwExplorer.parse(kind, chunks));
                }
                out.push(window.grpcgwExplorer.parse(kind, [text]));
                return out;
            }""",
            [kind, text],
        )
        assert found == [expected] * 10
        assert errors == []
    finally:
        await context.close()


async def test_a_stream_buffered_on_lambda_is_shown_the_same(world: World) -> None:
    context, page, _, errors = await _open(world, world.lambda_url + "/docs")
    try:
        operation = await _try_count(page, n=3, fail_at=3, hold=False)
        reply = operation.locator(".live-responses-table tr.response")
        await reply.locator(".grpcgw-stream-error").wait_for(timeout=20_000)
        assert await _shown_items(reply) == [
            ("message", "#1", {"value": "0"}),
            ("message", "#2", {"value": "1"}),
            ("error", "Error: FAILED_PRECONDITION (9): failed at 3", {
                "code": 9, "message": "failed at 3", "details": []
            }),
        ]  # fmt: skip
        url = await operation.locator(".request-url pre").inner_text()
        assert url.strip() == world.lambda_url + "/count/3?failAt=3&hold=false"
        assert errors == []
    finally:
        await context.close()


# -- resource-style path parameter names ----------------------------------------------------


async def test_try_it_fills_resource_named_path_parameters(world: World) -> None:
    """With ``openapi_path_names="resource"``, "Try it out" on
    ``GET /v1/{name=shelves/*/books/*}/cover`` asks for ``shelf`` and ``book`` and
    calls the route with them: the servicer's answer names the whole path it got."""
    context, page, requests, errors = await _open(world, world.resource_url + "/docs")
    try:
        operation = page.locator("#operations-ShelfService-ShelfService_DownloadCover")
        await operation.locator(".opblock-summary").click()
        assert "/v1/shelves/{shelf}/books/{book}/cover" in (
            await operation.locator(".opblock-summary-path").inner_text()
        )
        await operation.locator("button.try-out__btn").click()
        await operation.locator('tr[data-param-name="shelf"] input').fill("fiction")
        await operation.locator('tr[data-param-name="book"] input').fill("dune")
        await operation.locator("button.execute").click()
        await operation.locator(
            ".live-responses-table tr.response .response-col_status"
        ).first.wait_for(timeout=20_000)
        status, body, request_url = await _shown_reply(operation)
        url = world.resource_url + "/v1/shelves/fiction/books/dune/cover"
        assert request_url == url
        assert url in requests
        assert (status, body) == ("404", {
            "code": 5, "message": "shelves/fiction/books/dune has no cover", "details": []
        })  # fmt: skip
        assert errors == [
            "Failed to load resource: the server responded with a status of 404 (Not Found)"
        ]
    finally:
        await context.close()


# -- authorization ------------------------------------------------------------------------


async def _authorize(page: Any, scheme: str, value: str) -> None:
    """Enter ``value`` for ``scheme`` in the Authorize dialog (opened and closed here)."""
    await page.locator(".auth-wrapper button.authorize").click()
    form = page.locator(".modal-ux .auth-container").filter(
        has=page.locator("h4 code", has_text=scheme)
    )
    await form.locator("input").fill(value)
    await form.locator("button.authorize").click()
    await form.locator("button.btn-done").click()
    await page.locator(".modal-ux").wait_for(state="detached")


async def test_what_authorize_takes_reaches_the_interceptor(world: World) -> None:
    context, page, _, errors = await _open(world, world.secured_url + "/docs")
    try:
        # Without credentials: the interceptor refuses the call, and the page says so.
        world.check.seen.clear()
        operation = await _try_ping(page)
        status, body, _ = await _shown_reply(operation)
        assert (status, body) == ("401", {
            "code": 16, "message": "a bearer token is needed", "details": []
        })  # fmt: skip
        assert "authorization" not in world.check.seen[-1]

        # The Authorize button of the document's security schemes.
        await _authorize(page, "bearer", TOKEN.removeprefix("Bearer "))
        await _authorize(page, "Grpc-Metadata-X-Api-Key", API_KEY)
        await operation.locator("button.execute").click()
        await (
            operation.locator(".live-responses-table tr.response .response-col_status")
            .filter(has_text="200")
            .wait_for(timeout=20_000)
        )
        status, body, _ = await _shown_reply(operation)
        assert (status, body) == ("200", {"message": "Pong"})
        seen = world.check.seen[-1]
        assert seen["authorization"] == TOKEN
        assert seen["x-api-key"] == API_KEY
        curl = await operation.locator(".curl-command").inner_text()
        assert f"Authorization: {TOKEN}" in curl
        # Chromium's console reports the refused call, and nothing else.
        assert errors == [
            "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
        ]
    finally:
        await context.close()


# -- request headers ----------------------------------------------------------------------

#: What the test types in the table, and the metadata each becomes: a
#: ``Grpc-Metadata-*`` header, a custom header the gateway's matcher passes, an
#: ``Authorization`` scheme the document does not declare; the tenant's value is
#: one a shell would run if the curl command did not quote it.
TABLE = [
    ("Grpc-Metadata-Trace-Id", "t-42"),
    ("X-Tenant", 'it\'s $(id -u) `id` "q" \\ ;&|'),
    ("Authorization", "Token abc123"),
]
AS_METADATA = {
    "trace-id": "t-42",
    "x-tenant": TABLE[1][1],
    "authorization": "Token abc123",
}


async def _open_operation(page: Any, operation_id: str) -> Any:
    """Open an operation and press "Try it out"; its block."""
    service = operation_id.split("_")[0]
    operation = page.locator(f"#operations-{service}-{operation_id}")
    await operation.locator(".opblock-summary").click()
    await operation.locator("button.try-out__btn").click()
    await operation.locator(".grpcgw-headers").wait_for(timeout=20_000)
    return operation


async def _type_headers(page: Any, operation: Any, rows: list[tuple[str, str]]) -> None:
    """Type ``rows`` in the operation's table with the keyboard alone: "Add header"
    focused and pressed with Enter puts the focus in the new row's name, Tab goes
    to its value."""
    add = operation.locator("button.grpcgw-headers-add")
    for name, value in rows:
        number = await operation.locator("tr.grpcgw-header-row").count() + 1
        await add.focus()
        await page.keyboard.press("Enter")
        await playwright.expect(operation.get_by_label(f"Header {number} name")).to_be_focused()
        await page.keyboard.insert_text(name)
        await page.keyboard.press("Tab")
        await playwright.expect(operation.get_by_label(f"Header {number} value")).to_be_focused()
        await page.keyboard.insert_text(value)


async def _table(operation: Any) -> list[tuple[str, str]]:
    rows = []
    for row in await operation.locator("tr.grpcgw-header-row").all():
        name = await row.locator("input.grpcgw-header-name").input_value()
        rows.append((name, await row.locator("input.grpcgw-header-value").input_value()))
    return rows


async def _curl_words(operation: Any) -> list[str]:
    """The curl command the page shows, split as a POSIX shell splits it (a
    backslash before a line break continues the line)."""
    text = await operation.locator(".curl-command .curl").inner_text()
    return shlex.split(text.replace("\\\n", ""))


async def test_headers_typed_in_the_table_reach_the_servicer_and_the_curl_command(
    world: World, tmp_path: Path
) -> None:
    context, page, _, errors = await _open(world, world.echoing_url + "/docs")
    try:
        sent = []
        page.on("request", lambda r: sent.append(r) if "/v1/ping" in r.url else None)
        operation = await _open_operation(page, "PingService_Ping")
        assert await operation.locator("tr.grpcgw-header-row").count() == 0
        note = await operation.locator(".grpcgw-headers-note").inner_text()
        assert "A browser cannot set headers on a WebSocket" in note
        await _type_headers(page, operation, TABLE)
        assert await operation.locator(".grpcgw-header-problem").count() == 0
        world.echo.seen.clear()
        await operation.locator("button.execute").click()
        status, body, _ = await _shown_reply(operation)
        assert status == "200"
        echoed = json.loads(body["message"])
        # The servicer received each header as metadata, and said so on the page.
        assert {k: echoed.get(k) for k in AS_METADATA} == AS_METADATA
        assert world.echo.seen == [echoed]
        (request,) = sent
        assert {name.lower(): request.headers.get(name.lower()) for name, _ in TABLE} == {
            name.lower(): value for name, value in TABLE
        }
        # The curl command carries them, each one word for a shell.
        words = await _curl_words(operation)
        assert words[:4] == ["curl", "-X", "GET", world.echoing_url + "/v1/ping"]
        shown = [words[i + 1] for i, w in enumerate(words) if w == "-H"]
        assert [f"{name}: {value}" for name, value in TABLE] == [
            h for h in shown if h.split(":")[0] in {n for n, _ in TABLE}
        ]
        assert errors == []

        target = (
            HEADERS_SCREENSHOT
            if os.environ.get("GRPCGW_UPDATE_SCREENSHOTS")
            else tmp_path / "h.png"
        )
        top = await operation.bounding_box()
        box = await operation.locator(".curl-command").bounding_box()
        assert top is not None
        assert box is not None
        scrolled = await page.evaluate("window.scrollY")  # the boxes are the viewport's
        await page.screenshot(
            path=str(target),
            full_page=True,
            clip={
                "x": 0,
                "y": top["y"] + scrolled,
                "width": 1100,
                "height": box["y"] + box["height"] + 16 - top["y"],
            },
        )
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        await context.close()


async def test_the_table_stays_when_another_operation_is_opened(world: World) -> None:
    """One table for the page: the rows typed in one operation are there in the
    next, an edit there shows in the first, and a server stream carries them."""
    context, page, _, errors = await _open(world, world.echoing_url + "/docs")
    try:
        ping = await _open_operation(page, "PingService_Ping")
        await _type_headers(page, ping, TABLE[:2])
        count = await _open_operation(page, "StreamService_Count")
        assert await _table(count) == TABLE[:2]
        await _type_headers(page, count, TABLE[2:])
        await count.locator(".grpcgw-header-value").first.fill("t-43")
        expected = [("Grpc-Metadata-Trace-Id", "t-43"), *TABLE[1:]]
        assert await _table(ping) == expected

        world.echo_counter.metadata.clear()
        await count.locator("tr[data-param-name='n'] input").fill("2")
        await count.locator("tr[data-param-name='failAt'] input").fill("0")
        await count.locator("tr[data-param-name='hold'] select").select_option("false")
        await count.locator("button.execute").click()
        reply = count.locator(".live-responses-table tr.response")
        await reply.locator(".grpcgw-stream-summary").wait_for(timeout=20_000)
        assert await reply.locator(".grpcgw-stream-summary").inner_text() == "2 messages"
        (metadata,) = world.echo_counter.metadata
        received = {k: v for k, v in metadata if k in AS_METADATA}
        assert received == {**AS_METADATA, "trace-id": "t-43"}

        # Removing a row (from the keyboard) removes it everywhere; the focus moves on.
        await count.get_by_role("button", name="Remove header 1").focus()
        await page.keyboard.press("Enter")
        await playwright.expect(count.get_by_label("Header 1 name")).to_be_focused()
        assert await _table(ping) == TABLE[1:]
        assert await _table(count) == TABLE[1:]
        assert errors == []
    finally:
        await context.close()


#: (name, value, the field at fault, what the page says)
BAD_ROWS = [
    ("Cookie", "session=1", "name", "Cookie: the browser does not let a page send this header"),
    ("accept-encoding", "identity", "name", "accept-encoding: the browser does not let a page"),
    ("Sec-Fetch-Mode", "cors", "name", "a header whose name starts with Proxy- or Sec-"),
    ("X-HTTP-Method-Override", "TRACE", "name", "CONNECT, TRACE or TRACK"),
    ("X Tenant", "a", "name", "\u201cX Tenant\u201d is not a header name: a space is not"),
    ("X-Tenant:", "a", "name", "\u201c:\u201d (U+003A) is not allowed"),
    ("_tenant", "a", "name", "the explorer takes no name starting with \u201c_\u201d"),
    ("", "orphan", "name", "A header needs a name."),
    ("X-Tenant", "a\x00b", "value", "holds a NUL character"),
    ("X-Tenant", "a\x07b", "value", "holds a control character (U+0007)"),
    ("X-Tenant", "caf\u00e9 \u20ac", "value", "holds \u201c\u20ac\u201d (U+20AC)"),
]


async def test_a_forbidden_or_invalid_header_says_why_and_nothing_is_sent(
    world: World,
) -> None:
    context, page, requests, errors = await _open(world, world.echoing_url + "/docs")
    try:
        operation = await _open_operation(page, "PingService_Ping")
        await _type_headers(page, operation, [("X-Ok", "fine")])
        await operation.locator("button.grpcgw-headers-add").click()
        row = operation.locator("tr.grpcgw-header-row").nth(1)
        name = row.locator("input.grpcgw-header-name")
        value = row.locator("input.grpcgw-header-value")
        execute = operation.locator("button.execute")
        world.echo.seen.clear()
        for bad_name, bad_value, at_fault, reason in BAD_ROWS:
            await name.fill(bad_name)
            await value.fill(bad_value)
            assert await value.input_value() == bad_value  # the page keeps what was typed
            problem = operation.locator(".grpcgw-header-problem")
            assert reason in await problem.inner_text(), bad_name
            field = name if at_fault == "name" else value
            assert await field.get_attribute("aria-invalid") == "true"
            described = await field.get_attribute("aria-describedby")
            assert await page.locator(f"[id='{described}']").inner_text() == (
                await problem.inner_text()
            )
            assert await execute.is_disabled()
            blocked = await operation.locator(".grpcgw-headers-blocked").inner_text()
            assert "nothing is sent until it is fixed or removed" in blocked
            await execute.click(force=True)  # a disabled button does nothing
        assert [u for u in requests if "/v1/ping" in u] == []
        assert world.echo.seen == []

        # Removed, the call goes, with the good row.
        sent = []
        page.on("request", lambda r: sent.append(r) if "/v1/ping" in r.url else None)
        await row.get_by_role("button", name="Remove header 2").click()
        assert await operation.locator(".grpcgw-headers-blocked").count() == 0
        await execute.click()
        status, _, _ = await _shown_reply(operation)
        assert status == "200"
        assert [r.headers.get("x-ok") for r in sent] == ["fine"]
        assert len(world.echo.seen) == 1
        assert [u for u in requests if "/v1/ping" in u] == [world.echoing_url + "/v1/ping"]
        assert errors == []
    finally:
        await context.close()


async def test_a_table_header_replaces_what_authorize_took(world: World) -> None:
    """A row named as a header the page sends (in any case) replaces it, here the
    token Authorize took; two rows of one name go as one header, joined."""
    context, page, _, errors = await _open(world, world.secured_url + "/docs")
    try:
        await _authorize(page, "bearer", "wrong-token")
        operation = await _open_operation(page, "PingService_Ping")
        rows = [
            ("authorization", TOKEN),
            ("Grpc-Metadata-Trace-Id", "a"),
            ("grpc-metadata-trace-id", "b"),
        ]
        await _type_headers(page, operation, rows)
        world.check.seen.clear()
        await operation.locator("button.execute").click()
        status, body, _ = await _shown_reply(operation)
        assert (status, body) == ("200", {"message": "Pong"})
        (seen,) = world.check.seen
        assert (seen["authorization"], seen["trace-id"]) == (TOKEN, "a, b")
        words = await _curl_words(operation)
        shown = [words[i + 1] for i, w in enumerate(words) if w == "-H"]
        assert [h for h in shown if h.lower().startswith(("authorization", "grpc-"))] == [
            f"authorization: {TOKEN}",
            "Grpc-Metadata-Trace-Id: a, b",
        ]
        assert errors == []
    finally:
        await context.close()
