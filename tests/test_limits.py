"""Sizes, deadlines and time limits of the gateway core, and HEAD: against real
gRPC servers, with servicers that record what reached them; what does not depend on
a socket also dispatched in process (the ``mode`` fixture)."""

from __future__ import annotations

import asyncio
import math
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import grpc
import grpc.aio
import pytest
from aiohttp.test_utils import TestClient
from example.v1 import ping_pb2, ping_pb2_grpc, shelf_pb2, shelf_pb2_grpc

from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import Gateway, GatewayOptions, HttpRequest
from grpcgw.channel import ChannelInvoker, _channel_options, gateway_channel_options, open_channel
from grpcgw.descriptors import resolve_service
from grpcgw.grpcserver import GrpcServer
from grpcgw.metadata import MAX_METADATA_SIZE, MAX_REQUEST_METADATA
from grpcgw.web import create_app

from . import modes
from .conftest import Servers
from .gwhttp import req, status_of
from .modes import Backend, socket_only

mode, backend = modes.mode, modes.backend


class Recorder(grpc.aio.ServerInterceptor):
    """Counts the calls that reach the server and keeps the last one's metadata."""

    def __init__(self) -> None:
        self.calls = 0
        self.metadata: dict[str, Any] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        self.calls += 1
        self.metadata = dict(details.invocation_metadata)  # type: ignore[attr-defined]
        return await continuation(details)


# -- metadata size -------------------------------------------------------------------


@pytest.fixture
async def recorded(backend: Backend) -> tuple[Gateway, Recorder]:
    recorder = Recorder()
    return await backend.gateway(PingServicer(), interceptors=[recorder]), recorder


@socket_only("gRPC's own metadata limits, on a channel and a server")
@pytest.mark.parametrize("size", [4000, 8000])
async def test_long_authorization_always_goes_through(
    recorded: tuple[Gateway, Recorder], size: int
) -> None:
    # Forwarded twice (authorization, grpcgateway-authorization): past gRPC's
    # default 8 KiB soft limit, which refused a random share of such calls.
    gw, recorder = recorded
    token = "Bearer " + "t" * (size - 7)
    results = [
        await gw.handle(req("GET", "/v1/ping", headers=[("Authorization", token)]))
        for _ in range(20)
    ]
    assert [r.status for r in results] == [200] * 20
    assert recorder.calls == 20
    assert recorder.metadata["authorization"] == token


@socket_only("gRPC's own metadata limits, on a channel and a server")
async def test_many_metadata_headers_go_through(recorded: tuple[Gateway, Recorder]) -> None:
    gw, recorder = recorded
    headers = [(f"Grpc-Metadata-K{i}", "v" * 1000) for i in range(12)]
    results = [await gw.handle(req("GET", "/v1/ping", headers=headers)) for _ in range(20)]
    assert [r.status for r in results] == [200] * 20
    assert recorder.metadata["k11"] == "v" * 1000


async def test_metadata_over_the_limit_is_431_before_any_call(
    recorded: tuple[Gateway, Recorder],
) -> None:
    gw, recorder = recorded
    headers = [(f"Grpc-Metadata-K{i}", "v" * 8000) for i in range(8)]  # ~64 KB
    resp = await gw.handle(req("GET", "/v1/ping", headers=headers))
    buffered = await gw.handle_buffered(req("GET", "/v1/ping", headers=headers))
    message = status_of(resp, 431, 8)  # RESOURCE_EXHAUSTED
    assert "request headers too large" in message
    assert ":path" not in message
    assert "k0" not in message
    assert buffered.status == 431
    assert recorder.calls == 0


async def test_lambda_context_metadata_counts_toward_the_limit(
    recorded: tuple[Gateway, Recorder],
) -> None:
    gw, recorder = recorded
    claims = (("x-apigateway-authorizer", "c" * MAX_REQUEST_METADATA),)
    resp = await gw.handle(req("GET", "/v1/ping", metadata=claims))
    assert resp.status == 431
    assert recorder.calls == 0


async def test_backend_with_grpc_default_limits_answers_431_without_its_listing(
    sock_dir: Any,
) -> None:
    # A backend grpcgw did not start keeps gRPC's defaults: it refuses large
    # metadata itself, listing every key and size; the client sees neither.
    server = await GrpcServer.start(
        [resolve_service(PingServicer())],
        f"unix://{sock_dir}/small.sock",
        reflection=False,
        add_health=False,
        options=[("grpc.max_metadata_size", 8192), ("grpc.absolute_max_metadata_size", 16384)],
    )
    try:
        async with Gateway([PingServicer()], target=server.address) as gw:
            resp = await gw.handle(
                req("GET", "/v1/ping", headers=[("Grpc-Metadata-Big", "b" * 20000)])
            )
    finally:
        await server.stop(0)
    assert status_of(resp, 431, 8) == "request headers too large for the service"


def test_every_channel_grpcgw_opens_has_the_raised_limits() -> None:
    opts = dict(_channel_options(None, ()))
    assert opts["grpc.max_metadata_size"] == MAX_METADATA_SIZE
    assert opts["grpc.absolute_max_metadata_size"] == MAX_METADATA_SIZE
    # What the caller gives wins, and each key is given once.
    mine = _channel_options(None, [("grpc.max_metadata_size", 1234)])
    assert [v for k, v in mine if k == "grpc.max_metadata_size"] == [1234]


@socket_only("gRPC's own metadata limits, on the blocking channel")
def test_lambda_forwards_a_long_authorization(sock_dir: Any, mode: str) -> None:
    import json

    from grpcgwtest.echo.v1 import echo_pb2, echo_pb2_grpc

    from grpcgw import LambdaOptions, serve_lambda

    class Echo(echo_pb2_grpc.EchoServiceServicer):
        def Echo(self, request: Any, context: Any) -> Any:
            md = dict(context.invocation_metadata())
            return echo_pb2.EchoResponse(metadata={"authorization": md["authorization"]})

    handler = serve_lambda(Echo(), lambda_options=LambdaOptions(socket_dir=str(sock_dir)))
    token = "Bearer " + "t" * 7993
    event = {
        "version": "2.0",
        "rawPath": "/my/path",
        "rawQueryString": "",
        "headers": {"authorization": token},
        "requestContext": {"http": {"method": "GET", "sourceIp": "1.2.3.4"}},
        "isBase64Encoded": False,
    }
    try:
        results = [handler(event) for _ in range(20)]
    finally:
        handler.stop()
    assert [r["statusCode"] for r in results] == [200] * 20
    assert json.loads(results[0]["body"])["metadata"]["authorization"] == token


# -- an unresponsive backend ---------------------------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port whose listener completes TCP handshakes and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


async def test_unresponsive_backend_is_503_once_the_connect_timeout_passes(
    silent_port: int,
) -> None:
    opts = GatewayOptions(connect_timeout=0.5)
    async with Gateway([PingServicer()], target=f"127.0.0.1:{silent_port}", options=opts) as gw:
        # Bounded wait: grpc's own 20 s connection timeout would miss it.
        resp = await asyncio.wait_for(gw.handle(req("GET", "/v1/ping")), 10)
    message = status_of(resp, 503, 14)
    assert message == "the service is unavailable"
    assert str(silent_port) not in resp.body.decode()


def test_connect_timeout_becomes_the_channel_argument() -> None:
    assert GatewayOptions().connect_timeout == 5.0
    opts = dict(gateway_channel_options(GatewayOptions()))
    assert opts["grpc.min_reconnect_backoff_ms"] == 5000
    assert "grpc.min_reconnect_backoff_ms" not in dict(
        gateway_channel_options(GatewayOptions(connect_timeout=None))
    )


# -- deadlines ---------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [1e10, 1e300, math.inf])
async def test_huge_option_timeout_is_no_instant_deadline(backend: Backend, seconds: float) -> None:
    gw = await backend.gateway(PingServicer(), options=GatewayOptions(timeout=seconds))
    assert (await gw.handle(req("GET", "/v1/ping"))).status == 200


@pytest.mark.parametrize("deadline", [1e15, math.inf, math.nan, -1.0, 0.0, -math.inf])
async def test_any_request_deadline_is_safe(backend: Backend, deadline: float) -> None:
    gw = await backend.gateway(PingServicer())
    resp = await gw.handle(req("GET", "/v1/ping", deadline=deadline))
    buffered = await gw.handle_buffered(req("GET", "/v1/ping", deadline=deadline))
    assert (resp.status, buffered.status) == (200, 200)


class Slow(ping_pb2_grpc.PingServiceServicer):
    async def Ping(self, request: Any, context: Any) -> Any:
        await asyncio.Event().wait()  # only a deadline ends the call


async def test_a_short_request_deadline_still_applies(backend: Backend) -> None:
    gw = await backend.gateway(Slow(), options=GatewayOptions(timeout=1e10))
    resp = await gw.handle(req("GET", "/v1/ping", deadline=0.05))
    assert status_of(resp, 504, 4) == "deadline exceeded"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timeout", math.nan),
        ("timeout", -1),
        ("timeout", 0),
        ("timeout", "5"),
        ("timeout", True),
        ("connect_timeout", 0),
        ("connect_timeout", math.inf),
        ("connect_timeout", math.nan),
        ("max_request_body", -1),
        ("max_request_body", 1.5),
        ("max_request_body", True),
        ("max_response_message", 0),
        ("max_response_message", 2**31),
        ("indent", -1),
    ],
)
def test_nonsense_options_fail_at_construction(name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"GatewayOptions.{name}"):
        GatewayOptions(**{name: value})


def test_sensible_options_are_accepted() -> None:
    GatewayOptions(timeout=0.001, connect_timeout=None, max_request_body=0, indent=0)
    GatewayOptions(timeout=None, max_response_message=2**31 - 1)


# -- max_response_message, however the gateway calls ---------------------------------


class Big(ping_pb2_grpc.PingServiceServicer):
    async def Ping(self, request: Any, context: Any) -> Any:
        return ping_pb2.PingResponse(message="x" * 5000)


@pytest.mark.parametrize("how", ["target", "channel", "invoker"])
async def test_max_response_message_applies_however_the_gateway_calls(
    servers: Servers, how: str
) -> None:
    target = await servers.start(Big())
    opts = GatewayOptions(max_response_message=1000)
    channel = open_channel(target)
    way: dict[str, Any] = {
        "target": {"target": target},
        "channel": {"channel": channel},
        "invoker": {"invoker": ChannelInvoker(channel, owns_channel=False)},
    }[how]
    try:
        async with Gateway([Big()], options=opts, **way) as gw:
            resp = await gw.handle(req("GET", "/v1/ping"))
    finally:
        await channel.close()
    status_of(resp, 429, 8)


# -- HEAD ------------------------------------------------------------------------------------


async def test_head_answers_like_get_without_a_body(backend: Backend) -> None:
    gw = await backend.gateway(PingServicer(), ShelfServicer())
    get = await gw.handle(req("GET", "/v1/ping"))
    head = await gw.handle(req("HEAD", "/v1/ping"))
    missing = await gw.handle(req("HEAD", "/v1/shelves/none"))
    no_route = await gw.handle(req("HEAD", "/v1/nothing"))
    wrong = await gw.handle(req("HEAD", "/v1/shelves/x/books/y:move"))  # POST only
    assert (head.status, head.body) == (200, b"")
    assert head.header("Content-Type") == "application/json"
    assert head.header("Content-Length") == str(len(get.body))
    assert (missing.status, missing.body, missing.header("Content-Type")) == (
        404,
        b"",
        "application/json",
    )
    assert (no_route.status, no_route.body) == (404, b"")
    assert (wrong.status, wrong.header("Allow")) == (405, "POST")


async def test_a_declared_head_route_still_wins(example_target: str) -> None:
    async with Gateway([ShelfServicer()], target=example_target) as gw:
        resp = await gw.handle(req("HEAD", "/v1/library"))  # custom: {kind: "HEAD"}
    assert resp.status == 200
    assert resp.json() == {"shelfCount": "0", "booksByGenre": {}}


async def test_head_of_a_stream_ends_the_call(backend: Backend) -> None:
    ended = asyncio.Event()

    class Watch(shelf_pb2_grpc.ShelfServiceServicer):
        async def WatchShelves(self, request: Any, context: Any) -> AsyncIterator[Any]:
            # However the server ends it: cancelled while waiting (CancelledError), or
            # while it still wrote the first reply (the generator is closed at its yield).
            try:
                yield shelf_pb2.Shelf(name="shelves/1")
                await asyncio.Event().wait()
            finally:
                ended.set()

    gw = await backend.gateway(Watch())
    resp = await gw.handle_buffered(req("HEAD", "/v1/shelves:watch"))
    assert (resp.status, resp.body) == (200, b"")
    assert resp.header("Content-Type") == "application/x-ndjson"
    await asyncio.wait_for(ended.wait(), 10)


async def test_head_over_http(example_target: str, aiohttp_client: Any) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(Gateway([PingServicer()], target=example_target))
    )
    resp = await client.head("/v1/ping")
    assert resp.status == 200
    assert resp.headers["Content-Length"] == str(len(b'{"message":"Pong"}'))
    assert await resp.read() == b""


# -- digits, and the query -------------------------------------------------------------------


class HttpCode(ping_pb2_grpc.PingServiceServicer):
    def __init__(self, code: str) -> None:
        self.code = code

    async def Ping(self, request: Any, context: Any) -> Any:
        await context.send_initial_metadata((("x-http-code", self.code),))
        return ping_pb2.PingResponse(message="Pong")


@pytest.mark.parametrize(("code", "status"), [("201", 201), ("2_01", 200), ("+201", 200)])
async def test_x_http_code_takes_only_three_ascii_digits(
    backend: Backend, code: str, status: int
) -> None:
    gw = await backend.gateway(HttpCode(code))
    resp = await gw.handle(req("GET", "/v1/ping"))
    assert resp.status == status


async def test_a_path_carrying_its_query_is_read_once(example_target: str) -> None:
    async with Gateway([ShelfServicer()], target=example_target) as gw:
        resp = await gw.handle(HttpRequest("GET", "/v1/shelves?pageSize=ten"))
        both = await gw.handle(HttpRequest("GET", "/v1/shelves?pageSize=ten", query="pageSize=1"))
    assert "pageSize" in status_of(resp, 400, 3) or "page_size" in resp.json()["message"]
    assert both.status == 200  # query= is the query; the path's is not read as well


async def test_head_of_a_stream_over_http(backend: Backend, aiohttp_client: Any) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(await backend.gateway(ShelfServicer()))
    )
    resp = await client.head("/v1/shelves:watch")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/x-ndjson"
    assert await resp.read() == b""
    # The connection is still good for the next request.
    assert (await client.get("/v1/shelves:watch")).status == 200


_CLIENT_STREAM_MEMORY = """
import asyncio, resource, sys

from grpcgwtest.stream.v1 import stream_pb2, stream_pb2_grpc

from grpcgw import Gateway, HttpRequest
from grpcgw.dispatch import DirectInvoker


class Counting(stream_pb2_grpc.StreamServiceServicer):
    async def Sum(self, requests, context):
        count = 0
        async for _ in requests:
            count += 1
        return stream_pb2.Num(value=count)


async def main(lines):
    servicers = [Counting()]
    invoker = DirectInvoker(servicers)
    gateway = Gateway(servicers, invoker=invoker)
    body = b"{}\\n" * lines
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reply = await gateway.handle(HttpRequest("POST", "/sum", body=body))
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(reply.status, reply.body.decode(), grew // 1024)
    await gateway.aclose()
    await invoker.aclose()


asyncio.run(main(int(sys.argv[1])))
"""


def test_a_client_stream_of_small_messages_is_no_memory_bomb() -> None:
    # Every NDJSON line of a client stream is a request message, validated before
    # the call. A message object costs some 600 bytes, even an empty one: held as
    # objects, the 350 000 "{}" lines of a 1 MiB body took 150 MB (a 4 MiB
    # body, max_request_body, 820 MB). In a process of its own, to see its peak RSS.
    import subprocess
    import sys

    from .conftest import ROOT

    lines = (1 << 20) // 3
    result = subprocess.run(
        [sys.executable, "-c", _CLIENT_STREAM_MEMORY, str(lines)],
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT / 'src'}:{ROOT / 'tests' / 'gen'}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    status, body, grew_mb = result.stdout.split()
    assert (status, body) == ("200", f'{{"value":"{lines}"}}')  # every message arrived
    assert int(grew_mb) < 32, f"peak RSS grew by {grew_mb} MB for a 1 MiB body"


async def test_a_long_client_stream_body_lets_other_clients_be_served() -> None:
    # Transcoding every line of a big NDJSON body, before the call, takes seconds
    # for a million small lines; the loop serving every other client turns meanwhile.
    from grpcgwtest.stream.v1 import stream_pb2, stream_pb2_grpc

    from grpcgw.dispatch import DirectInvoker
    from grpcgw.driver import LINES_PER_TURN

    turns = 0
    at_call: list[int] = []

    class Counting(stream_pb2_grpc.StreamServiceServicer):
        async def Sum(self, requests: Any, context: Any) -> Any:
            at_call.append(turns)  # every line transcoded by now
            count = 0
            async for _ in requests:
                count += 1
            return stream_pb2.Num(value=count)

    async def ticking() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    lines = 40 * LINES_PER_TURN
    servicers = [Counting()]
    invoker = DirectInvoker(servicers)
    ticker = asyncio.create_task(ticking())
    try:
        async with Gateway(servicers, invoker=invoker) as gateway:
            reply = await gateway.handle(HttpRequest("POST", "/sum", body=b"{}\n" * lines))
    finally:
        ticker.cancel()
        await invoker.aclose()
    assert (reply.status, reply.json()) == (200, {"value": str(lines)})
    assert at_call[0] >= 40 - 2  # once per LINES_PER_TURN lines, not once at the end
