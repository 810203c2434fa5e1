"""A page in Debian's Chromium opens WebSockets to a gateway: a bidi call, full duplex,
from an origin ``cors`` allows; a page of another site is refused its handshake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from grpcgwtest.stream.v1 import stream_pb2, stream_pb2_grpc

from grpcgw import CorsOptions, GatewayOptions, start_local
from grpcgw.server import LocalServer

from .browser import launch, page_site, require_chromium

playwright = require_chromium()

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Doubler(stream_pb2_grpc.StreamServiceServicer):
    def __init__(self) -> None:
        #: The ``authorization`` metadata of each call (``None`` when it had none).
        self.authorization: list[str | None] = []

    async def Double(self, requests: Any, context: Any) -> AsyncIterator[stream_pb2.Num]:
        self.authorization.append(dict(context.invocation_metadata()).get("authorization"))
        async for num in requests:
            yield stream_pb2.Num(value=2 * num.value)


class World:
    page_origin: str
    other_origin: str
    gateway: LocalServer
    doubler: Doubler
    browser: Any


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[World]:
    w = World()
    page_runner, w.page_origin = await page_site()
    other_runner, w.other_origin = await page_site()
    w.doubler = Doubler()
    w.gateway = await start_local(
        w.doubler,
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        options=GatewayOptions(websocket=True, cors=CorsOptions(allow_origins=[w.page_origin])),
    )
    async with playwright.async_playwright() as p:
        w.browser = await launch(p)
        try:
            yield w
        finally:
            await w.browser.close()
            await w.gateway.stop()
            await page_runner.cleanup()
            await other_runner.cleanup()


# Runs in the page: each reply is awaited before the next request is sent (a call that
# only answered at the end would never get past the first), then EOF; the frames and
# how the socket closed.
DUPLEX = """
async ([url, values, protocols]) => {
  const ws = new WebSocket(url, protocols);
  const frames = [];
  let wake = null;
  const next = () => new Promise((resolve) => { wake = resolve; });
  ws.onmessage = (e) => { frames.push(JSON.parse(e.data)); if (wake) wake(); };
  const closed = new Promise((resolve) => {
    ws.onclose = (e) => { if (wake) wake(); resolve({code: e.code, clean: e.wasClean}); };
  });
  const opened = await new Promise((resolve) => {
    ws.onopen = () => resolve(true);
    ws.onerror = () => resolve(false);
  });
  if (!opened) return {opened, frames, close: await closed, protocol: ws.protocol};
  for (const value of values) {
    const waiting = next();
    ws.send(JSON.stringify({value}));
    await waiting;
  }
  ws.send("EOF");
  return {opened, frames, close: await closed, protocol: ws.protocol};
}
"""


async def test_a_page_calls_a_bidi_method_full_duplex(world: World) -> None:
    context = await world.browser.new_context()
    page = await context.new_page()
    await page.goto(world.page_origin + "/")
    url = f"ws://127.0.0.1:{world.gateway.http_port}/double"
    result = await page.evaluate(DUPLEX, [url, [1, 2, 3], []])
    assert result == {
        "opened": True,
        "frames": [{"result": {"value": str(2 * v)}} for v in (1, 2, 3)],
        "close": {"code": 1000, "clean": True},
        "protocol": "",
    }
    await context.close()


async def test_a_page_of_another_site_cannot_open_one(world: World) -> None:
    context = await world.browser.new_context()
    page = await context.new_page()
    await page.goto(world.other_origin + "/")
    url = f"ws://127.0.0.1:{world.gateway.http_port}/double"
    result = await page.evaluate(DUPLEX, [url, [1], []])
    # The handshake was answered 403: the browser reports a failed connection (1006).
    assert result == {
        "opened": False,
        "frames": [],
        "close": {"code": 1006, "clean": False},
        "protocol": "",
    }
    await context.close()


# The docs' recipe: the token, base64url without padding, as a subprotocol offered
# with the one the answer selects.
TOKEN_PROTOCOLS = """
(token) => ["grpcgw.v1", "base64url.bearer.authorization.grpcgw." +
  btoa(token).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "")]
"""


async def test_a_page_sends_its_bearer_token_as_a_subprotocol(world: World) -> None:
    context = await world.browser.new_context()
    page = await context.new_page()
    await page.goto(world.page_origin + "/")
    protocols = await page.evaluate(TOKEN_PROTOCOLS, "eyJhbGciOi.J9-_x~y+z/w==")
    url = f"ws://127.0.0.1:{world.gateway.http_port}/double"
    before = len(world.doubler.authorization)
    result = await page.evaluate(DUPLEX, [url, [4], protocols])
    # Chromium accepted the answer's subprotocol (it fails a handshake selecting none).
    assert result == {
        "opened": True,
        "frames": [{"result": {"value": "8"}}],
        "close": {"code": 1000, "clean": True},
        "protocol": "grpcgw.v1",
    }
    assert world.doubler.authorization[before:] == ["Bearer eyJhbGciOi.J9-_x~y+z/w=="]
    await context.close()
