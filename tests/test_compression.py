"""Response compression (``GatewayOptions.compress_min_size``): the rules, then every
front end (aiohttp and its fast lane, the API description, Lambda) sending the same bytes."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import GatewayOptions, LambdaOptions, fastlane, serve_lambda, start_local
from grpcgw.compression import accepts_gzip, compress_response, compressible
from grpcgw.exchange import HttpResponse
from grpcgw.server import LocalServer

from .test_edge import _connect, _responses

# -- the rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "taken"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("GZip", True),
        ("x-gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("br, gzip; q=1.0", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("*", True),
        ("*;q=0", False),
        ("*, gzip;q=0", False),  # refused by name: * does not bring it back
        ("identity", False),
        ("deflate, br", False),
        ("gzip;q=nonsense", False),
        ("gzip;q=2", False),  # out of range: no consent read into it
        ("gzipper", False),
    ],
)
def test_accept_encoding_takes_gzip(value: str | None, taken: bool) -> None:
    assert accepts_gzip(value) is taken


@pytest.mark.parametrize(
    ("content_type", "worth"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON", True),
        ("application/problem+json", True),
        ("application/x-ndjson", True),
        ("text/html; charset=utf-8", True),
        ("text/event-stream", True),
        ("image/svg+xml", True),
        ("image/png", False),
        ("application/octet-stream", False),
        ("application/zip", False),
        ("", False),
        (None, False),
    ],
)
def test_what_is_worth_compressing(content_type: str | None, worth: bool) -> None:
    assert compressible(content_type) is worth


JSON = [("Content-Type", "application/json")]
BODY = json.dumps({"shelves": [{"name": f"shelves/{i}", "theme": "x" * 20} for i in range(40)]})
GZIP = [("Accept-Encoding", "gzip, deflate")]


def test_a_large_json_body_is_gzipped_for_a_client_that_takes_it() -> None:
    response = HttpResponse(200, [*JSON, ("ETag", '"v1"')], BODY.encode())
    out = compress_response(GZIP, response, 100)
    assert gzip.decompress(out.body) == BODY.encode()
    assert len(out.body) < len(BODY) // 4
    assert out.headers == [
        ("Content-Type", "application/json"),
        ("ETag", 'W/"v1"'),  # other bytes: a weak validator
        ("Vary", "Accept-Encoding"),
        ("Content-Encoding", "gzip"),
    ]
    assert out.status == 200
    assert response.body == BODY.encode()  # the original is left as it was


def test_what_is_not_gzipped() -> None:
    big = BODY.encode()
    plain = HttpResponse(200, list(JSON), big)
    # A client that does not take it: the body as it is, and Vary for caches.
    out = compress_response([("Accept-Encoding", "identity")], plain, 100)
    assert (out.body, out.headers) == (big, [*JSON, ("Vary", "Accept-Encoding")])
    assert compress_response([], plain, 100).headers == [*JSON, ("Vary", "Accept-Encoding")]
    # Below the size: untouched, no Vary (it never varies).
    assert compress_response(GZIP, plain, len(big) + 1) is plain
    # Not text-like, or encoded already (an HttpBody reply may say so): untouched.
    png = HttpResponse(200, [("Content-Type", "image/png")], big)
    assert compress_response(GZIP, png, 100) is png
    encoded = HttpResponse(200, [*JSON, ("content-encoding", "br")], big)
    assert compress_response(GZIP, encoded, 100) is encoded
    # A stream: never (a compressor would hold messages back).
    streamed = HttpResponse(200, list(JSON), stream=_chunks())
    assert compress_response(GZIP, streamed, 0) is streamed


async def _chunks() -> AsyncIterator[bytes]:
    yield b"{}\n"


def test_vary_is_added_once() -> None:
    response = HttpResponse(200, [*JSON, ("Vary", "Origin")], BODY.encode())
    out = compress_response(GZIP, response, 1)
    assert [v for k, v in out.headers if k == "Vary"] == ["Origin", "Accept-Encoding"]
    already = HttpResponse(200, [*JSON, ("vary", "Origin, accept-encoding")], BODY.encode())
    out = compress_response(GZIP, already, 1)
    assert [v for k, v in out.headers if k.lower() == "vary"] == ["Origin, accept-encoding"]


def test_the_option_is_checked() -> None:
    assert GatewayOptions(compress_min_size=0).compress_min_size == 0
    with pytest.raises(ValueError, match="compress_min_size must be at least 0, not -1"):
        GatewayOptions(compress_min_size=-1)
    with pytest.raises(ValueError, match="compress_min_size must be an integer"):
        GatewayOptions(compress_min_size=1.5)  # type: ignore[arg-type]


# -- served ---------------------------------------------------------------------------------

MIN = 256


@pytest.fixture(params=["lane", "aiohttp"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[LocalServer]:
    """Served with the edge's fast lane and without (aiohttp's path): the same bytes."""
    fastlane._lane_off = request.param != "lane"
    try:
        local = await start_local(
            PingServicer(),
            ShelfServicer(),
            http_address="127.0.0.1:0",
            grpc_address="127.0.0.1:0",
            options=GatewayOptions(compress_min_size=MIN, api_docs=True),
        )
    finally:
        fastlane._lane_off = False
    async with local:
        yield local


async def _exchange(
    port: int, request: bytes, *, head_only: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """The response to ``request``: status, headers, body (none with ``head_only``:
    a HEAD's, or a stream's whose head is all a test reads)."""
    reader, writer = await _connect(port)
    try:
        writer.write(request)
        await writer.drain()
        data = b""
        async with asyncio.timeout(20):
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                data += chunk
                parsed = _try(data, head_only)
                if parsed is not None:
                    return parsed
    finally:
        writer.close()
    raise AssertionError(f"no whole response: {data!r}")


def _try(data: bytes, head_only: bool) -> tuple[int, dict[str, str], bytes] | None:
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    if head_only:
        return _responses(head + b"\r\n\r\n")[0]
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    if len(rest) < length:
        return None
    return _responses(data)[0]


def _get(path: str, *headers: str, method: str = "GET") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _shelves(port: int, n: int) -> None:
    for i in range(n):
        body = json.dumps({"theme": f"theme {i} " + "words " * 10}).encode()
        request = (
            f"POST /v1/shelves HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        status, _, _ = await _exchange(port, request)
        assert status == 201  # CreateShelf answers 201 (x-http-code)


async def test_a_reply_is_gzipped_for_a_client_that_takes_it(server: LocalServer) -> None:
    await _shelves(server.http_port, 5)
    status, plain_headers, plain = await _exchange(server.http_port, _get("/v1/shelves"))
    assert status == 200
    assert len(plain) >= MIN
    assert "content-encoding" not in plain_headers
    assert plain_headers["vary"] == "Accept-Encoding"
    listed = json.loads(plain)
    assert len(listed["shelves"]) >= 5

    request = _get("/v1/shelves", "Accept-Encoding: gzip")
    status, headers, body = await _exchange(server.http_port, request)
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body) < len(plain)
    assert json.loads(gzip.decompress(body)) == listed

    # HEAD: GET's headers, the compressed length among them, no body.
    head = _get("/v1/shelves", "Accept-Encoding: gzip", method="HEAD")
    status, head_headers, head_body = await _exchange(server.http_port, head, head_only=True)
    assert (status, head_body) == (200, b"")
    assert head_headers["content-encoding"] == "gzip"
    assert head_headers["content-length"] == headers["content-length"]


async def test_small_replies_errors_and_streams_go_as_they_are(server: LocalServer) -> None:
    port = server.http_port
    status, headers, body = await _exchange(port, _get("/v1/ping", "Accept-Encoding: gzip"))
    assert (status, body) == (200, b'{"message":"Pong"}')
    assert "content-encoding" not in headers
    assert "vary" not in headers
    status, headers, body = await _exchange(port, _get("/v1/nowhere", "Accept-Encoding: gzip"))
    assert status == 404
    assert json.loads(body)["code"] == 5
    await _shelves(port, 5)
    watch = _get("/v1/shelves:watch", "Accept-Encoding: gzip", "Accept: application/x-ndjson")
    status, headers, _ = await _exchange(port, watch, head_only=True)
    assert status == 200
    assert "content-encoding" not in headers


async def test_the_api_description_is_gzipped_too(server: LocalServer) -> None:
    port = server.http_port
    status, plain_headers, plain = await _exchange(port, _get("/openapi.json"))
    assert status == 200
    status, headers, body = await _exchange(port, _get("/openapi.json", "Accept-Encoding: gzip"))
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain
    assert headers["etag"] == "W/" + plain_headers["etag"]
    # The weak tag still validates (If-None-Match compares weakly).
    revalidate = _get("/openapi.json", "Accept-Encoding: gzip", f"If-None-Match: {headers['etag']}")
    status, _, body = await _exchange(port, revalidate)
    assert (status, body) == (304, b"")


def test_on_lambda_the_gzipped_reply_goes_base64(tmp_path: Any) -> None:
    handler = serve_lambda(
        PingServicer(),
        ShelfServicer(),
        options=GatewayOptions(compress_min_size=MIN),
        lambda_options=LambdaOptions(socket_dir=str(tmp_path)),
        dispatch="direct",
    )
    try:

        def event(method: str, path: str, headers: dict[str, str], body: str = "") -> Any:
            return {
                "version": "2.0",
                "routeKey": "$default",
                "rawPath": path,
                "rawQueryString": "",
                "headers": {"host": "x.lambda-url.us-east-1.on.aws", **headers},
                "requestContext": {
                    "http": {"method": method, "path": path, "sourceIp": "203.0.113.7"},
                    "requestId": "r",
                },
                "body": body,
                "isBase64Encoded": False,
            }

        for i in range(5):
            body = json.dumps({"theme": f"theme {i} " + "words " * 10})
            created = handler(
                event("POST", "/v1/shelves", {"content-type": "application/json"}, body), None
            )
            assert created["statusCode"] == 201, created
        plain = handler(event("GET", "/v1/shelves", {}), None)
        assert plain["isBase64Encoded"] is False
        assert plain["headers"]["Vary"] == "Accept-Encoding"
        zipped = handler(event("GET", "/v1/shelves", {"accept-encoding": "gzip, br"}), None)
        assert zipped["statusCode"] == 200
        assert zipped["isBase64Encoded"] is True
        assert zipped["headers"]["Content-Encoding"] == "gzip"
        assert gzip.decompress(base64.b64decode(zipped["body"])).decode() == plain["body"]
    finally:
        handler.stop()
