"""Streams and raw bodies: NDJSON and SSE over chunked HTTP, client streams, HttpBody, Lambda.

Every test runs in both dispatch modes (the ``mode`` fixture): through a real
gRPC server and dispatched in process."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from aiohttp import ClientPayloadError
from aiohttp.test_utils import TestClient
from google.api import httpbody_pb2
from grpcgwtest.stream.v1 import stream_pb2, stream_pb2_grpc

from grpcgw import Gateway, HttpRequest, HttpResponse, LambdaOptions, serve_lambda
from grpcgw.web import create_app

from . import modes
from .modes import Backend

mode, backend = modes.mode, modes.backend


class StreamServicer(stream_pb2_grpc.StreamServiceServicer):
    def __init__(self) -> None:
        self.release = asyncio.Event()
        #: Set once a held Count call has sent its first number.
        self.holding = asyncio.Event()
        self.cancelled = asyncio.Event()
        #: The ``n`` of each Count call cancelled (its client gone), in order.
        self.cancelled_calls: list[int] = []
        self.uploads: list[httpbody_pb2.HttpBody] = []
        #: The invocation metadata of every Count and Double call, in order.
        self.metadata: list[list[tuple[str, str | bytes]]] = []

    async def Count(self, request: Any, context: Any) -> AsyncIterator[stream_pb2.Num]:
        self.metadata.append([tuple(m) for m in context.invocation_metadata()])
        release = self.release  # this call's, whatever a test sets for the next
        try:
            for i in range(request.n):
                if request.fail_at == i + 1:
                    await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"failed at {i + 1}")
                yield stream_pb2.Num(value=i)
                if request.hold and i == 0:
                    self.holding.set()
                    await release.wait()
        except asyncio.CancelledError:
            self.cancelled_calls.append(request.n)
            self.cancelled.set()
            raise

    async def Sum(self, requests: Any, context: Any) -> stream_pb2.Num:
        total = 0
        async for num in requests:
            total += num.value
        return stream_pb2.Num(value=total)

    async def Double(self, requests: Any, context: Any) -> AsyncIterator[stream_pb2.Num]:
        self.metadata.append([tuple(m) for m in context.invocation_metadata()])
        async for num in requests:
            yield stream_pb2.Num(value=2 * num.value)

    async def Download(self, request: Any, context: Any) -> AsyncIterator[httpbody_pb2.HttpBody]:
        for i in range(request.n):
            if request.fail_at == i + 1:
                await context.abort(grpc.StatusCode.DATA_LOSS, "disk gone")
            yield httpbody_pb2.HttpBody(content_type="image/png", data=bytes([i]) * 3)

    async def Upload(self, requests: Any, context: Any) -> stream_pb2.Num:
        async for body in requests:
            self.uploads.append(body)
        return stream_pb2.Num(value=sum(len(b.data) for b in self.uploads))

    async def Store(self, request: Any, context: Any) -> httpbody_pb2.HttpBody:
        # Echo the upload back with a description of what arrived.
        return httpbody_pb2.HttpBody(
            content_type=request.file.content_type,
            data=request.file.data + f"|{request.name}|{request.tag}".encode(),
        )


@pytest.fixture
def servicer() -> StreamServicer:
    return StreamServicer()


@pytest.fixture
async def gateway(backend: Backend, servicer: StreamServicer) -> Gateway:
    return await backend.gateway(servicer)


@pytest.fixture
async def client(gateway: Gateway, aiohttp_client: Any) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(gateway))


async def test_server_stream_is_ndjson_flushed_per_message(
    client: TestClient[Any, Any], servicer: StreamServicer
) -> None:
    async with client.get("/count/3?hold=true") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/x-ndjson"
        assert resp.headers["Transfer-Encoding"] == "chunked"
        # The first line arrives while the servicer is still holding the stream open.
        first = await asyncio.wait_for(resp.content.readline(), 10)
        assert json.loads(first) == {"result": {"value": "0"}}
        assert not servicer.release.is_set()
        servicer.release.set()
        rest = await resp.content.read()
    assert [json.loads(line) for line in rest.splitlines()] == [
        {"result": {"value": "1"}},
        {"result": {"value": "2"}},
    ]


async def test_mid_stream_error_is_a_last_error_line(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/count/5?failAt=3")
    assert resp.status == 200
    lines = [json.loads(line) for line in (await resp.read()).splitlines()]
    assert lines == [
        {"result": {"value": "0"}},
        {"result": {"value": "1"}},
        {"error": {"code": 9, "message": "failed at 3", "details": []}},
    ]


async def test_failure_before_the_first_message_is_an_ordinary_error(
    client: TestClient[Any, Any],
) -> None:
    resp = await client.get("/count/5?failAt=1")
    assert resp.status == 400
    assert resp.headers["Content-Type"] == "application/json"
    assert await resp.json() == {"code": 9, "message": "failed at 1", "details": []}


async def test_empty_stream(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/count/0")
    assert (resp.status, await resp.read()) == (200, b"")


async def test_server_sent_events(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/count/4?failAt=3", headers={"Accept": "text/event-stream"})
    assert resp.headers["Content-Type"] == "text/event-stream"
    text = (await resp.read()).decode()
    # Parse as a browser's EventSource does: blank-line separated events of field lines.
    events = []
    for block in text.split("\n\n"):
        if not block:
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    assert events == [
        ("message", {"value": "0"}),
        ("message", {"value": "1"}),
        ("error", {"code": 9, "message": "failed at 3", "details": []}),
    ]


async def test_client_disconnect_cancels_the_call(
    client: TestClient[Any, Any], servicer: StreamServicer
) -> None:
    resp = await client.get("/count/3?hold=true")
    assert json.loads(await asyncio.wait_for(resp.content.readline(), 10))["result"]
    resp.close()  # the client goes away mid-stream
    await asyncio.wait_for(servicer.cancelled.wait(), 10)


async def test_a_response_hook_answering_a_stream_otherwise_ends_the_call(
    backend: Backend, servicer: StreamServicer, aiohttp_client: Any
) -> None:
    # A hook that replaces a stream's answer with a whole body (say, a 403 by some
    # policy): nothing reads the replies, so the call must be cancelled, not left
    # holding the servicer.
    def refuse(request: HttpRequest, response: HttpResponse, reply: Any) -> HttpResponse:
        return HttpResponse(403, [("Content-Type", "text/plain")], b"no streams today")

    gateway = await backend.gateway(servicer, response_hook=refuse)
    client = await aiohttp_client(create_app(gateway))
    resp = await client.get("/count/3?hold=true")
    assert (resp.status, await resp.read()) == (403, b"no streams today")
    await asyncio.wait_for(servicer.cancelled.wait(), 10)


async def test_client_stream_from_ndjson(client: TestClient[Any, Any]) -> None:
    body = b'{"value": "1"}\n{"value": 2}\n\n{"value": "39"}\n'
    resp = await client.post("/sum", data=body)
    assert (resp.status, await resp.json()) == (200, {"value": "42"})


async def test_bad_line_in_a_client_stream_is_400(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/sum", data=b'{"value": 1}\n{"value": "x"}\n')
    assert resp.status == 400
    assert (await resp.json())["message"].startswith("request stream message 2: ")


async def test_bidi_stream(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/double", data=b'{"value": 1}\n{"value": 5}\n')
    lines = [json.loads(line) for line in (await resp.read()).splitlines()]
    assert lines == [{"result": {"value": "2"}}, {"result": {"value": "10"}}]


async def test_http_body_download_stream_is_raw(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/download/3")
    assert resp.headers["Content-Type"] == "image/png"
    assert await resp.read() == b"\x00\x00\x00\x01\x01\x01\x02\x02\x02"


async def test_raw_stream_failing_midway_is_truncated_not_complete(
    client: TestClient[Any, Any],
) -> None:
    resp = await client.get("/download/3?failAt=2")
    assert resp.status == 200
    with pytest.raises(ClientPayloadError):
        await resp.read()


async def test_http_body_upload_stream(
    client: TestClient[Any, Any], servicer: StreamServicer
) -> None:
    data = bytes(range(256)) * 8192  # 2 MiB: sent as two 1 MiB messages
    resp = await client.post("/upload", data=data, headers={"Content-Type": "video/mp4"})
    assert (resp.status, await resp.json()) == (200, {"value": str(len(data))})
    assert [len(b.data) for b in servicer.uploads] == [1 << 20, 1 << 20]
    assert {b.content_type for b in servicer.uploads} == {"video/mp4"}
    assert b"".join(b.data for b in servicer.uploads) == data


async def test_http_body_field_with_path_and_query(client: TestClient[Any, Any]) -> None:
    resp = await client.put(
        "/files/a.bin?tag=v1", data=b"\x00\xffraw", headers={"Content-Type": "application/x-thing"}
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/x-thing"
    assert await resp.read() == b"\x00\xffraw|a.bin|v1"


_TRACE = base64.b64encode(b"\x00\xff").decode()


async def test_stream_calls_carry_the_request_metadata(
    client: TestClient[Any, Any], servicer: StreamServicer
) -> None:
    headers = [
        ("Grpc-Metadata-Tag", "a"),
        ("Grpc-Metadata-Tag", "b"),
        ("Grpc-Metadata-Trace-Bin", _TRACE),
    ]
    async with client.get("/count/1", headers=headers) as resp:
        assert resp.status == 200
        await resp.read()
    async with client.post("/double", data=b'{"value": 1}\n', headers=headers) as resp:
        assert resp.status == 200
        await resp.read()
    assert len(servicer.metadata) == 2
    for seen in servicer.metadata:
        assert [kv for kv in seen if kv[0] in ("tag", "trace-bin")] == [
            ("tag", "a"),
            ("tag", "b"),
            ("trace-bin", b"\x00\xff"),
        ]


async def test_gateway_handle_streams_without_aiohttp(gateway: Gateway) -> None:
    resp = await gateway.handle(HttpRequest("GET", "/count/2"))
    assert resp.stream is not None
    assert [c async for c in resp.stream] == [
        b'{"result":{"value":"0"}}\n',
        b'{"result":{"value":"1"}}\n',
    ]


# -- on Lambda: streams buffered, raw bodies base64 both ways -------------------------------


class Context:
    aws_request_id = "r-1"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def v2_event(method: str, path: str, body: bytes = b"", content_type: str = "") -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": path.partition("?")[0],
        "rawQueryString": path.partition("?")[2],
        "headers": {"content-type": content_type} if content_type else {},
        "requestContext": {"http": {"method": method, "sourceIp": "1.2.3.4"}, "domainName": "x"},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


def lambda_handler(servicer: object, mode: str, sock_dir: Any) -> Any:
    return serve_lambda(
        servicer, lambda_options=LambdaOptions(socket_dir=str(sock_dir)), dispatch=mode
    )


@pytest.fixture
def handler(mode: str, sock_dir: Any) -> Any:
    h = lambda_handler(StreamServicer(), mode, sock_dir)
    yield h
    h.stop()


def test_lambda_buffers_streams(handler: Any) -> None:
    resp = handler(v2_event("GET", "/count/3?failAt=3"), Context())
    assert resp["statusCode"] == 200
    assert resp["isBase64Encoded"] is False
    assert [json.loads(line) for line in resp["body"].splitlines()] == [
        {"result": {"value": "0"}},
        {"result": {"value": "1"}},
        {"error": {"code": 9, "message": "failed at 3", "details": []}},
    ]


def test_lambda_binary_both_ways(handler: Any) -> None:
    resp = handler(v2_event("PUT", "/files/x?tag=t", b"\x89PNG\x00", "image/png"), Context())
    assert resp["statusCode"] == 200
    assert resp["headers"]["Content-Type"] == "image/png"
    assert resp["isBase64Encoded"] is True
    assert base64.b64decode(resp["body"]) == b"\x89PNG\x00|x|t"
    download = handler(v2_event("GET", "/download/2"), Context())
    assert base64.b64decode(download["body"]) == b"\x00\x00\x00\x01\x01\x01"


def test_lambda_raw_stream_failure_is_an_error_response(handler: Any) -> None:
    resp = handler(v2_event("GET", "/download/3?failAt=2"), Context())
    assert resp["statusCode"] == 500
    assert json.loads(resp["body"]) == {"code": 15, "message": "disk gone", "details": []}


def test_lambda_client_and_bidi_streams(handler: Any) -> None:
    body = b'{"value": 1}\n{"value": 2}\n{"value": 39}\n'
    summed = handler(v2_event("POST", "/sum", body, "application/x-ndjson"), Context())
    assert (summed["statusCode"], json.loads(summed["body"])) == (200, {"value": "42"})
    doubled = handler(v2_event("POST", "/double", b'{"value": 1}\n{"value": 5}\n'), Context())
    assert [json.loads(line) for line in doubled["body"].splitlines()] == [
        {"result": {"value": "2"}},
        {"result": {"value": "10"}},
    ]
    bad = handler(v2_event("POST", "/sum", b'{"value": 1}\n{"value": "x"}\n'), Context())
    assert bad["statusCode"] == 400
    assert json.loads(bad["body"])["message"].startswith("request stream message 2:")


def test_lambda_stream_calls_carry_the_request_metadata(mode: str, sock_dir: Any) -> None:
    # On Lambda the calls go over the blocking channel: the same metadata must arrive.
    servicer = StreamServicer()
    h = lambda_handler(servicer, mode, sock_dir)
    try:
        for method, path, body in (("GET", "/count/1", b""), ("POST", "/double", b'{"value":1}')):
            event = v2_event(method, path, body)
            event["headers"] = {"grpc-metadata-tag": "a", "grpc-metadata-trace-bin": _TRACE}
            assert h(event, Context())["statusCode"] == 200
    finally:
        h.stop()
    assert len(servicer.metadata) == 2
    for seen in servicer.metadata:
        assert [kv for kv in seen if kv[0] in ("tag", "trace-bin", "x-lambda-request-id")] == [
            ("tag", "a"),
            ("trace-bin", b"\x00\xff"),
            ("x-lambda-request-id", "r-1"),
        ]


def test_lambda_raw_upload_stream(handler: Any) -> None:
    data = bytes(range(256)) * 5000  # more than one 1 MiB chunk: two messages
    resp = handler(v2_event("POST", "/upload", data, "video/mp4"), Context())
    assert (resp["statusCode"], json.loads(resp["body"])) == (200, {"value": str(len(data))})


def test_lambda_stream_failing_before_its_first_message(handler: Any) -> None:
    resp = handler(v2_event("GET", "/count/5?failAt=1"), Context())
    assert resp["statusCode"] == 400
    assert json.loads(resp["body"]) == {"code": 9, "message": "failed at 1", "details": []}


class PlainStreamServicer(stream_pb2_grpc.StreamServiceServicer):
    """Streams with plain methods: on Lambda they run on the threaded gRPC server."""

    def Count(self, request: Any, context: Any) -> Any:
        for i in range(request.n):
            if request.fail_at == i + 1:
                context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"failed at {i + 1}")
            yield stream_pb2.Num(value=i)

    def Sum(self, requests: Any, context: Any) -> stream_pb2.Num:
        return stream_pb2.Num(value=sum(num.value for num in requests))

    def Double(self, requests: Any, context: Any) -> Any:
        for num in requests:
            yield stream_pb2.Num(value=2 * num.value)


def test_lambda_streams_of_plain_servicers(mode: str, sock_dir: Any) -> None:
    h = lambda_handler(PlainStreamServicer(), mode, sock_dir)
    try:
        if mode == "socket":
            assert h._server is not None
            assert not h._server.is_async
        else:  # run on the invoking thread
            assert h._direct is not None
            assert h._direct.inline
        counted = h(v2_event("GET", "/count/3?failAt=3"), Context())
        assert [json.loads(line) for line in counted["body"].splitlines()] == [
            {"result": {"value": "0"}},
            {"result": {"value": "1"}},
            {"error": {"code": 9, "message": "failed at 3", "details": []}},
        ]
        early = h(v2_event("GET", "/count/5?failAt=1"), Context())
        assert (early["statusCode"], json.loads(early["body"])["code"]) == (400, 9)
        summed = h(v2_event("POST", "/sum", b'{"value": 40}\n{"value": 2}\n'), Context())
        assert json.loads(summed["body"]) == {"value": "42"}
        doubled = h(v2_event("POST", "/double", b'{"value": 1}\n{"value": 5}\n'), Context())
        assert [json.loads(line) for line in doubled["body"].splitlines()] == [
            {"result": {"value": "2"}},
            {"result": {"value": "10"}},
        ]
    finally:
        h.stop()
