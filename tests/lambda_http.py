"""A local stand-in for API Gateway's HTTP API in front of a Lambda handler, for browsers.

Each HTTP request it receives becomes an HTTP API (payload 2.0) event on a
named stage of an ``execute-api`` domain, as API Gateway sends them
(``rawPath`` ``/prod/docs``, ``requestContext.stage`` ``prod``); the handler's
response dict becomes the HTTP response. A browser pointed at
``http://127.0.0.1:<port>/prod/...`` sees what it would see at
``https://<api>.execute-api.<region>.amazonaws.com/prod/...``.

aiohttp is imported only to serve (the events alone need none of it). The
handler runs in a worker thread, as the Lambda runtime runs it: it is
blocking, and must not share the loop of this server.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

DOMAIN = "abc123.execute-api.eu-west-1.amazonaws.com"


def http_api_event(
    method: str,
    raw_path: str,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    stage: str = "prod",
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event for a request to ``https://DOMAIN<raw_path>``."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    headers["host"] = DOMAIN
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "domainName": DOMAIN,
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "http": {"method": method, "path": raw_path, "sourceIp": "127.0.0.1"},
        },
        "isBase64Encoded": bool(body),
    }
    if body:
        event["body"] = base64.b64encode(body).decode()
    return event


async def serve(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]], *, stage: str = "prod"
) -> tuple[web.AppRunner, str]:
    """Serve ``handler`` on loopback; returns the runner and the stage's base URL."""
    from aiohttp import web

    async def relay(request: web.Request) -> web.Response:
        path, _, query = request.raw_path.partition("?")
        headers: dict[str, str] = {}
        for name, value in request.headers.items():  # API Gateway joins repeats with commas
            headers[name.lower()] = (
                f"{headers[name.lower()]},{value}" if name.lower() in headers else value
            )
        event = http_api_event(
            request.method, path, query, headers, await request.read(), stage=stage
        )
        reply = await asyncio.to_thread(handler, event, None)
        body = reply.get("body") or ""
        data = base64.b64decode(body) if reply.get("isBase64Encoded") else body.encode()
        response = web.Response(status=reply["statusCode"], body=data)
        for name, value in (reply.get("headers") or {}).items():
            response.headers[name] = value
        for cookie in reply.get("cookies") or ():
            response.headers.add("Set-Cookie", cookie)
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", relay)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/{stage}"
