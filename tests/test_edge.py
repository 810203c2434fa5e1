"""The HTTP edge under hostile and unlucky clients, over real sockets.

Slow and idle clients, connection limits, running out of file descriptors,
what aiohttp's parser rejects, request body encodings, pipelining, and
cancellation when the client goes away. Every wait is on a condition with a
generous bound; nothing asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from example.v1 import shelf_pb2
from grpcgwtest.echo.v1 import echo_pb2, echo_pb2_grpc

import grpcgw.fastlane as fastlane
from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import Gateway, GatewayOptions, start_local
from grpcgw.limits import HttpLimits
from grpcgw.server import LocalServer
from grpcgw.web import create_app, setup
from grpcgw.web import start_server as serve_app

from .conftest import ROOT
from .servicers import HangingPing
from .test_server import PROXY_PORT, _Lines

#: Generous bound on anything the server should do "within a limit" of about a second.
BOUND = 20.0

#: For the tests of these timeouts only: elsewhere a one-second timer fires whenever a
#: loaded machine stalls the process for a second (the header timer ran before a
#: request already sent was read, and the test failed).
FAST = HttpLimits(
    header_timeout=1.0, idle_timeout=1.0, body_read_timeout=1.0, body_timeout=2.0, send_timeout=1.0
)


async def _local(
    *servicers: object, limits: HttpLimits | None = None, options: GatewayOptions | None = None
) -> LocalServer:
    """``servicers`` served on loopback, with the default limits unless ``limits``."""
    return await start_local(
        *servicers,
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        limits=limits or HttpLimits(),
        options=options,
    )


@pytest.fixture
async def local() -> AsyncIterator[LocalServer]:
    """A server with the :data:`FAST` timeouts, for the tests of those."""
    server = await _local(PingServicer(), ShelfServicer(), limits=FAST)
    async with server:
        yield server


@pytest.fixture
async def docs() -> AsyncIterator[LocalServer]:
    """A server with the default limits and the API description at /openapi.json."""
    server = await start_local(
        PingServicer(),
        ShelfServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        options=GatewayOptions(api_docs=True),
    )
    async with server:
        yield server


@pytest.fixture
async def calm() -> AsyncIterator[LocalServer]:
    """A server with the default limits, for tests not about a timeout."""
    server = await _local(PingServicer(), ShelfServicer())
    async with server:
        yield server


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _read_to_close(reader: asyncio.StreamReader, bound: float = BOUND) -> bytes:
    """Everything the server sends until it closes the connection (within ``bound``)."""
    data = b""
    async with asyncio.timeout(bound):
        while chunk := await reader.read(65536):
            data += chunk
    return data


def _responses(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Split a byte stream of HTTP/1.1 responses with Content-Length bodies."""
    out = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        assert sep, raw
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
        length = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:length]))
        raw = rest[length:]
    return out


def _status_body(body: bytes) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(body)
    assert set(parsed) == {"code", "message", "details"}, parsed
    assert parsed["message"]
    assert parsed["details"] == []
    return parsed


async def _ping(port: int) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/v1/ping") as resp,
    ):
        assert await resp.json() == {"message": "Pong"}
        return resp.status


def _gateway_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the HTTP side logged (the gRPC server's own logging is not under test)."""
    return [r for r in caplog.records if r.name.split(".")[0] in ("grpcgw", "aiohttp", "asyncio")]


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in _gateway_records(caplog) if r.exc_info]


async def _until(condition: Callable[[], bool], bound: float = BOUND) -> None:
    """Wait until ``condition()`` holds, checking once per loop turn.

    For state with no event to wait on (the kernel's accept queue, a count the
    accept loop keeps); sleep(0) yields a turn, it is not a timed wait.
    """
    async with asyncio.timeout(bound):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0)


# -- slow and idle clients ------------------------------------------------------------


async def _slowloris(port: int, head: bytes) -> bytes:
    """Send ``head`` one byte at a time, pausing until the server closes (or 0.2 s passes)."""
    reader, writer = await _connect(port)
    received = b""
    try:
        for byte in head:
            writer.write(bytes([byte]))
            try:
                received += await asyncio.wait_for(reader.read(65536), 0.2)
            except TimeoutError:
                continue
            break  # the server answered or closed: stop sending
        return received + await _read_to_close(reader)
    finally:
        writer.close()


async def test_slow_and_silent_clients_are_closed_while_others_are_served(
    local: LocalServer,
) -> None:
    port = local.http_port

    async def silent() -> bytes:
        reader, writer = await _connect(port)
        try:
            return await _read_to_close(reader)
        finally:
            writer.close()

    head = b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
    attack = [asyncio.create_task(silent()) for _ in range(4)]
    attack += [asyncio.create_task(_slowloris(port, head)) for _ in range(4)]
    # An ordinary client is served during the attack.
    assert await _ping(port) == 200
    results = await asyncio.gather(*attack)
    assert results[:4] == [b""] * 4  # silent: closed without a word
    for raw in results[4:]:  # slow headers: 408 with a Status body, then closed
        [(status, headers, body)] = _responses(raw)
        assert status == 408
        assert headers["content-type"] == "application/json"
        assert headers["connection"] == "close"
        assert _status_body(body)["code"] == 4  # DEADLINE_EXCEEDED
    assert await _ping(port) == 200


async def test_a_head_timeout_after_the_client_left_is_quiet(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The header timer fires after the client closed, before the server read its
    FIN: the 408 provokes a reset, and closing the write side then fails with
    ENOTCONN. It wrote an asyncio traceback per connection under a slowloris
    (found by ``tox -e soak``)."""
    caplog.set_level(logging.DEBUG)
    limits = HttpLimits(header_timeout=600)  # the test fires the timer itself
    async with await _local(PingServicer(), limits=limits) as local:
        sock = socket.create_connection(("127.0.0.1", local.http_port))
        sock.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: x\r\n")
        server = local.http_server.runner.server
        assert server is not None
        await _until(lambda: bool(server.connections) and server.connections[0]._head_bytes)
        [handler] = server.connections
        sock.close()  # a FIN the server's loop has not read yet
        handler._head_timed_out()  # what the timer does, at that moment
        await _until(lambda: not server.connections)
        assert await _ping(local.http_port) == 200
    assert not _tracebacks(caplog)


async def test_a_stalled_body_answers_408(local: LocalServer) -> None:
    reader, writer = await _connect(local.http_port)
    writer.write(
        b"POST /v1/shelves?shelf_id=s HTTP/1.1\r\nHost: x\r\n"
        b'Content-Type: application/json\r\nContent-Length: 50\r\n\r\n{"the'
    )
    [(status, headers, body)] = _responses(await _read_to_close(reader))
    writer.close()
    assert status == 408
    assert headers["connection"] == "close"
    assert _status_body(body)["code"] == 4


async def test_a_trickled_body_answers_408_once_the_whole_body_is_late(
    local: LocalServer,
) -> None:
    # Each byte comes well within body_read_timeout, the whole body not within body_timeout.
    head = (
        b"POST /v1/shelves?shelf_id=t HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    )
    reader, writer = await _connect(local.http_port)
    writer.write(head)
    raw = b""
    for _ in range(200):
        writer.write(b" ")
        try:
            raw = await asyncio.wait_for(reader.read(65536), 0.2)
        except TimeoutError:
            continue
        break
    raw += await _read_to_close(reader)
    writer.close()
    [(status, _, body)] = _responses(raw)
    assert status == 408
    assert "body" in _status_body(body)["message"]


async def test_an_idle_keep_alive_connection_is_closed(local: LocalServer) -> None:
    reader, writer = await _connect(local.http_port)
    writer.write(b"GET /v1/ping HTTP/1.1\r\nHost: x\r\n\r\n")
    [(status, _, body)] = _responses(await _read_to_close(reader))
    writer.close()
    assert (status, body) == (200, b'{"message":"Pong"}')


def _accept_queue(port: int) -> int:
    """Connections the kernel holds for the listening socket on ``port`` (Linux)."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local_port = int(fields[1].split(":")[1], 16)
            if local_port == port and fields[3] == "0A":  # LISTEN
                return int(fields[4].split(":")[1], 16)
    raise AssertionError(f"no listening socket on port {port}")


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux's /proc/net/tcp")
async def test_connections_beyond_the_limit_wait_to_be_accepted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="grpcgw")
    limits = HttpLimits(max_connections=3, header_timeout=None)
    async with await _local(PingServicer(), limits=limits) as local:
        port = local.http_port
        held = [await _connect(port) for _ in range(3)]
        await _until(lambda: local.http_server.connections == 3)
        waiting = asyncio.create_task(_ping(port))
        # The fourth connection is in the kernel's queue, not accepted...
        await _until(lambda: _accept_queue(port) == 1)
        assert local.http_server.connections == 3
        assert not waiting.done()
        # ...until one of the three goes: then it is served.
        held[0][1].close()
        assert await asyncio.wait_for(waiting, BOUND) == 200
        for _, writer in held[1:]:
            writer.close()
    assert "connection limit of 3 reached" in caplog.text


_EMFILE_SERVER = textwrap.dedent(
    """
    import asyncio, logging, resource, sys
    sys.path[:0] = [{root!r}, {src!r}]
    import examples.ping
    from examples.ping.service import PingServicer
    from grpcgw import start_local
    from grpcgw.limits import HttpLimits

    resource.setrlimit(resource.RLIMIT_NOFILE, (160, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")

    async def main():
        local = await start_local(
            PingServicer(), http_address="127.0.0.1:0", grpc_address="127.0.0.1:0",
            limits=HttpLimits(max_connections=None, header_timeout=None),
        )
        print(f"ready on port {{local.http_port}}", flush=True, file=sys.stderr)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


async def test_running_out_of_file_descriptors_logs_one_line_and_recovers() -> None:
    code = _EMFILE_SERVER.format(root=str(ROOT), src=str(ROOT / "src"))
    proc = subprocess.Popen(  # noqa: ASYNC220 (only spawns; waits are off the loop)
        [sys.executable, "-c", code], stderr=subprocess.PIPE, text=True
    )
    lines = _Lines(proc.stderr)
    held: list[asyncio.StreamWriter] = []
    try:
        port = await asyncio.to_thread(lines.port, re.compile(r"ready on port (\d+)"))
        # More connections than the server has descriptors for: the kernel queues
        # what the server cannot accept.
        held.extend([(await _connect(port))[1] for _ in range(220)])
        await asyncio.to_thread(lines.until, "Too many open files")
        # A client waits in the queue while the server has no descriptor left...
        waiting = asyncio.create_task(_ping(port))
        for writer in held:
            writer.close()
        held.clear()
        # ...and is served once the others have gone.
        assert await asyncio.wait_for(waiting, BOUND) == 200
    finally:
        for writer in held:
            writer.close()
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)
    err = lines.rest()
    assert err.count("Too many open files") <= 2, err
    assert "Traceback" not in err, err


# -- every error is a google.rpc.Status ---------------------------------------------
# What the parser rejects and request body encodings, case by case, are in the
# reliability table (tests/reliability/http_cases.py), against real processes.


async def test_malformed_requests_do_not_flood_the_log(
    calm: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for _ in range(50):
        reader, writer = await _connect(calm.http_port)
        writer.write(b"GARBAGE\r\n\r\n")
        await _read_to_close(reader)
        writer.close()
    about = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert 1 <= len(about) <= 3, [r.getMessage() for r in about]
    assert not _tracebacks(caplog)
    assert not [r for r in _gateway_records(caplog) if r.levelno >= logging.WARNING]


async def test_a_pipelined_request_before_garbage_is_answered(calm: LocalServer) -> None:
    reader, writer = await _connect(calm.http_port)
    writer.write(b"GET /v1/ping HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n")
    raw = await _read_to_close(reader)
    writer.close()
    (s1, _, b1), (s2, h2, b2) = _responses(raw)
    assert (s1, b1) == (200, b'{"message":"Pong"}')
    assert s2 == 400
    assert h2["content-type"] == "application/json"
    assert _status_body(b2)["code"] == 3


@pytest.mark.parametrize("expect", ["100-continue", "tea"])
@pytest.mark.parametrize(
    ("head", "status"),
    [
        # Declared beyond max_request_body (4 MiB): refused before the body is sent.
        (b"POST /v1/shelves HTTP/1.1\r\nContent-Length: 99999999\r\n", 413),
        (b"POST /v1/shelves HTTP/1.1\r\nContent-Encoding: xyz\r\nContent-Length: 2\r\n", 415),
        # A method the path does not serve: the body is not wanted either.
        (b"POST /v1/ping HTTP/1.1\r\nContent-Length: 2\r\n", 405),
        # No route at all (aiohttp's own 404), or a method the API description's
        # route does not serve.
        (b"POST /nope HTTP/1.1\r\nContent-Length: 2\r\n", 404),
        (b"PUT /openapi.json HTTP/1.1\r\nContent-Length: 2\r\n", 405),
    ],
    ids=["too large", "unsupported encoding", "wrong method", "no route", "api docs method"],
)
async def test_expect_is_refused_before_the_body(
    docs: LocalServer, head: bytes, status: int, expect: str
) -> None:
    # A client that asks first is told no without being invited to send the body
    # it holds back (RFC 9110 10.1.1): no "100 Continue", the error, a close.
    # Whatever it expects: the request fails either way (417 is for one that would
    # otherwise be served).
    reader, writer = await _connect(docs.http_port)
    writer.write(head + b"Host: x\r\nExpect: %s\r\n\r\n" % expect.encode())
    raw = await _read_to_close(reader)
    writer.close()
    assert not raw.startswith(b"HTTP/1.1 100"), raw
    [(got, headers, body)] = _responses(raw)
    assert got == status
    assert headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    assert headers["server"] == "grpcgw"
    _status_body(body)


async def test_an_unknown_expectation_on_the_api_description_is_a_status_417(
    docs: LocalServer,
) -> None:
    # aiohttp's own 417 is text/plain, from before any middleware.
    reader, writer = await _connect(docs.http_port)
    writer.write(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n")
    [(status, headers, body)] = _responses(await _read_to_close(reader))
    writer.close()
    assert status == 417
    assert headers["content-type"] == "application/json"
    assert _status_body(body)["code"] == 9


async def test_expect_on_a_path_with_no_route_in_a_plain_application() -> None:
    # aiohttp's own application on grpcgw's server: aiohttp's own 404 and 405, but
    # no 100 Continue before them either.
    async def mine(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    app = web.Application()
    app.router.add_get("/mine", mine)
    app.router.add_post("/upload", mine)
    async with await serve_app(app, "127.0.0.1:0") as server:
        for head, status in (
            (b"POST /nope HTTP/1.1\r\n", 404),
            (b"PUT /mine HTTP/1.1\r\n", 405),
        ):
            reader, writer = await _connect(server.port)
            writer.write(head + b"Host: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
            raw = await _read_to_close(reader)
            writer.close()
            assert not raw.startswith(b"HTTP/1.1 100"), raw
            assert [answer[0] for answer in _responses(raw)] == [status]
        # A route that takes the body is still invited to send it.
        reader, writer = await _connect(server.port)
        writer.write(
            b"POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        )
        assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"{}")
        [(status, _, body)] = _responses(await _read_to_close(reader))
        writer.close()
        assert (status, body) == (200, b"2")


async def test_expect_100_continue_within_the_limits_is_continued(calm: LocalServer) -> None:
    reader, writer = await _connect(calm.http_port)
    writer.write(
        b"POST /v1/shelves?shelf_id=x100 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"
    )
    assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"{}")
    [(status, _, body)] = _responses(await _read_to_close(reader))
    writer.close()
    assert (status, json.loads(body)["name"]) == (201, "shelves/x100")


class _Hosts(echo_pb2_grpc.EchoServiceServicer):
    """Echoes the ``x-forwarded-host`` it was sent."""

    async def Echo(self, request: Any, context: Any) -> echo_pb2.EchoResponse:
        md = {k: v for k, v in context.invocation_metadata() if k == "x-forwarded-host"}
        return echo_pb2.EchoResponse(request=request, metadata=md)


@pytest.mark.parametrize("lane", [True, False], ids=["lane", "no lane"])
async def test_an_absolute_form_target_names_the_forwarded_host(
    lane: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # RFC 9112 3.2.2: with an absolute-form target the server ignores Host and takes
    # the target's authority, so x-forwarded-host is that.
    monkeypatch.setattr(fastlane, "_lane_off", not lane)
    async with await _local(_Hosts()) as local:
        cases = [
            (b"GET /my/path HTTP/1.1\r\nHost: other\r\n", "other"),
            (b"GET http://example.com/my/path HTTP/1.1\r\nHost: other\r\n", "example.com"),
            (b"GET http://a.example:8443/my/path?x=1 HTTP/1.1\r\nHost: o\r\n", "a.example:8443"),
            (b"GET https://user@example.com/my/path HTTP/1.1\r\nHost: o\r\n", "example.com"),
            # An X-Forwarded-Host the client sent still wins, as it does over Host.
            (b"GET http://a.example/my/path HTTP/1.1\r\nHost: o\r\nX-Forwarded-Host: f\r\n", "f"),
        ]
        for head, host in cases:
            reader, writer = await _connect(local.http_port)
            writer.write(head + b"Connection: close\r\n\r\n")
            [(status, _, body)] = _responses(await _read_to_close(reader))
            writer.close()
            assert status == 200, (head, body)
            assert json.loads(body)["metadata"] == {"x-forwarded-host": host}, head
        lanes = local.http_server._site._lane
        assert (lanes is not None and lanes.served == 1) == lane  # the origin-form one


@pytest.mark.parametrize("lane", [True, False], ids=["lane", "no lane"])
async def test_an_absolute_form_target_without_a_path_is_the_root(
    lane: bool, request_parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # RFC 9112 3.2.2, RFC 9110 4.2.3: an empty path in an absolute-form target is
    # "/" (EchoService.Echo's binding; "/{name}" would say which name came), the
    # query still the query, the authority still x-forwarded-host.
    monkeypatch.setattr(fastlane, "_lane_off", not lane)
    async with await _local(_Hosts()) as local:
        cases = [
            (b"GET http://example.com HTTP/1.1\r\nHost: o\r\n", "example.com", {}),
            (b"GET http://example.com/ HTTP/1.1\r\nHost: o\r\n", "example.com", {}),
            (
                b"GET http://a.example:8443?parameter2=x&parameter1=a&parameter1=b HTTP/1.1\r\n"
                b"Host: o\r\n",
                "a.example:8443",
                {"parameter2": "x", "parameter1": ["a", "b"]},
            ),
            (
                b"GET https://user@example.com?parameter2=%C3%A9%2F HTTP/1.1\r\nHost: o\r\n",
                "example.com",
                {"parameter2": "\u00e9/"},
            ),
            # Asked to continue: the route is found for that too (so 100 Continue first).
            (
                b"GET http://example.com?parameter2=e HTTP/1.1\r\nHost: o\r\n"
                b"Expect: 100-continue\r\n",
                "example.com",
                {"parameter2": "e"},
            ),
        ]
        for head, host, fields in cases:
            reader, writer = await _connect(local.http_port)
            writer.write(head + b"Connection: close\r\n\r\n")
            *continued, (status, _, body) = _responses(await _read_to_close(reader))
            writer.close()
            assert [answer[0] for answer in continued] == ([100] if b"Expect" in head else [])
            assert status == 200, (head, body)
            answer = json.loads(body)
            assert answer["metadata"] == {"x-forwarded-host": host}, head
            request = {k: v for k, v in answer["request"].items() if v not in ("", [])}
            assert request == fields, head
        # A path that is not there is still not found (the path stays the path).
        reader, writer = await _connect(local.http_port)
        writer.write(b"GET http://a.example/no/x HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n")
        [(status, _, body)] = _responses(await _read_to_close(reader))
        writer.close()
        assert (status, _status_body(body)["code"]) == (404, 5)


async def test_the_api_description_answers_an_absolute_form_target(docs: LocalServer) -> None:
    for target in (b"/openapi.json", b"http://a.example/openapi.json"):
        reader, writer = await _connect(docs.http_port)
        writer.write(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % target)
        [(status, _, body)] = _responses(await _read_to_close(reader))
        writer.close()
        assert status == 200, (target, body)
        assert json.loads(body)["openapi"].startswith("3."), target


async def _post_shelf(port: int, body: bytes, encoding: str) -> tuple[int, bytes, dict[str, str]]:
    reader, writer = await _connect(port)
    writer.write(
        b"POST /v1/shelves?shelf_id=e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n"
        % (encoding.encode(), len(body))
        + body
    )
    [(status, headers, out)] = _responses(await _read_to_close(reader))
    writer.close()
    return status, out, headers


async def test_body_errors_are_status_bodies_in_a_users_own_app(
    example_target: str, aiohttp_client: Any
) -> None:
    """``setup()`` in an application with no grpcgw middleware, on aiohttp's own server."""
    app = web.Application()
    setup(app, Gateway([ShelfServicer()], target=example_target))
    client = await aiohttp_client(app)
    for encoding, status in (("gzip", 400), ("xyz", 415)):
        resp = await client.post(
            "/v1/shelves?shelf_id=u", data=b"notgzip", headers={"Content-Encoding": encoding}
        )
        assert resp.status == status
        assert resp.headers["Content-Type"] == "application/json"
        _status_body(await resp.read())


# -- the Server header --------------------------------------------------------------


async def _head_of(port: int, request: bytes) -> tuple[int, dict[str, str]]:
    """Status and headers of the first answer to ``request`` (the body is not read)."""
    reader, writer = await _connect(port)
    try:
        writer.write(request)
        async with asyncio.timeout(BOUND):
            head = await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
    lines = head.decode("latin-1").split("\r\n")
    headers = [h.partition(":") for h in lines[1:] if h]
    servers = [v.strip() for k, _, v in headers if k.lower() == "server"]
    assert len(servers) <= 1, lines
    return int(lines[0].split()[1]), {k.lower(): v.strip() for k, _, v in headers}


async def test_every_answer_names_grpcgw_without_versions() -> None:
    local = await start_local(
        PingServicer(),
        ShelfServicer(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        limits=HttpLimits(max_header_size=1024),
        options=GatewayOptions(max_request_body=1024),
    )
    async with local:
        port = local.http_port
        cases = {
            200: b"GET /v1/ping HTTP/1.1\r\nHost: x\r\n\r\n",  # a unary answer
            404: b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n",
            400: b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n",
            413: b"POST /v1/shelves HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n",
            431: b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n",
        }
        for expected, request in cases.items():
            status, headers = await _head_of(port, request)
            assert (status, headers.get("server")) == (expected, "grpcgw"), request[:40]
        # A stream: the head is written before the first message.
        status, headers = await _head_of(port, b"GET /v1/shelves:watch HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (status, headers.get("server")) == (200, "grpcgw")
    # grpcgw's own bytes: a head that never ends (alone on a server with a short header
    # timeout, which a stalled process would fire before it read the other requests).
    async with await _local(PingServicer(), limits=HttpLimits(header_timeout=1.0)) as hurried:
        status, headers = await _head_of(hurried.http_port, b"GET /v1/ping HTTP/1.1\r\n")
        assert (status, headers.get("server")) == (408, "grpcgw")


async def test_a_server_header_the_handler_sets_is_kept() -> None:
    from grpcgw.httpserver import start_server

    async def own(request: web.Request) -> web.Response:
        return web.Response(text="mine", headers={"Server": "my-edge"})

    app = web.Application()
    app.router.add_get("/own", own)
    async with await start_server(app, "127.0.0.1:0") as server:
        status, headers = await _head_of(server.port, b"GET /own HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (status, headers["server"]) == (200, "my-edge")
        status, headers = await _head_of(server.port, b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (status, headers["server"]) == (404, "grpcgw")


# -- cancellation when the client goes away ------------------------------------------


class _IdleWatch(ShelfServicer):
    def __init__(self) -> None:
        super().__init__()
        self.cancelled = asyncio.Event()

    async def WatchShelves(self, request: Any, context: Any) -> AsyncIterator[Any]:
        try:
            # (The yield too: a cancellation can find the handler still writing the
            # first reply, and the generator is then closed where it yielded.)
            yield shelf_pb2.Shelf(name="shelves/first")
            await asyncio.Event().wait()  # the stream goes quiet
        finally:  # never ends otherwise: the call was cancelled
            self.cancelled.set()


async def _cancel_on_disconnect(
    port: int, request: bytes, until: Callable[[asyncio.StreamReader], Awaitable[object]]
) -> None:
    reader, writer = await _connect(port)
    writer.write(request)
    await until(reader)
    writer.close()
    await writer.wait_closed()


async def test_a_unary_call_is_cancelled_when_the_client_goes() -> None:
    servicer = HangingPing()
    async with await _local(servicer) as local:

        async def started(_: asyncio.StreamReader) -> None:
            await asyncio.wait_for(servicer.started.wait(), BOUND)

        await _cancel_on_disconnect(
            local.http_port, b"GET /v1/ping HTTP/1.1\r\nHost: x\r\n\r\n", started
        )
        await asyncio.wait_for(servicer.cancelled.wait(), BOUND)


async def test_an_idle_server_stream_is_cancelled_when_the_client_goes() -> None:
    servicer = _IdleWatch()
    async with await _local(servicer) as local:

        async def first_line(reader: asyncio.StreamReader) -> None:
            async with asyncio.timeout(BOUND):
                while b'"shelves/first"' not in await reader.readline():
                    pass

        await _cancel_on_disconnect(
            local.http_port, b"GET /v1/shelves:watch HTTP/1.1\r\nHost: x\r\n\r\n", first_line
        )
        await asyncio.wait_for(servicer.cancelled.wait(), BOUND)


class _Firehose(ShelfServicer):
    """A stream that never stops sending big messages."""

    def __init__(self) -> None:
        super().__init__()
        self.cancelled = asyncio.Event()

    async def WatchShelves(self, request: Any, context: Any) -> AsyncIterator[Any]:
        shelf = shelf_pb2.Shelf(name="shelves/big", theme="x" * 60000)
        try:
            while True:
                yield shelf
        finally:  # never ends otherwise: the call was cancelled
            self.cancelled.set()


async def test_a_client_that_stops_reading_is_cut_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    servicer = _Firehose()
    async with await _local(servicer, limits=HttpLimits(send_timeout=1.0)) as local:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", local.http_port))
        sock.sendall(b"GET /v1/shelves:watch HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            # Never read: the server's buffers fill, then send_timeout ends the call.
            await asyncio.wait_for(servicer.cancelled.wait(), BOUND)
        finally:
            sock.close()
        assert await _ping_status(local) == 404  # still serving (no Ping servicer here)
    assert not _tracebacks(caplog)
    assert not [r for r in _gateway_records(caplog) if r.levelno >= logging.ERROR]


async def test_a_websocket_client_that_stops_reading_is_cut_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same over a WebSocket (``websocket=True``): the server stream's frames fill
    the buffers of a client that reads nothing, and send_timeout ends the call."""
    caplog.set_level(logging.DEBUG)
    servicer = _Firehose()
    options = GatewayOptions(websocket=True)
    async with await _local(
        servicer, limits=HttpLimits(send_timeout=0.5), options=options
    ) as local:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", local.http_port))
        sock.sendall(
            b"GET /v1/shelves:watch HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
            b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        try:
            # Never read (the 101 neither): the frames fill the buffers, then
            # send_timeout aborts the connection and the call is cancelled.
            await asyncio.wait_for(servicer.cancelled.wait(), BOUND)
        finally:
            sock.close()
        assert await _ping_status(local) == 404  # still serving (no Ping servicer here)
    assert any("read nothing for 0.5 s" in r.getMessage() for r in _gateway_records(caplog))
    # It was a WebSocket call (101), not the NDJSON answer to a plain GET.
    access = [r.__dict__ for r in caplog.records if r.name == "grpcgw.access"]
    assert [(a["status"], a["grpc_code"]) for a in access if a["status"] == 101] == [
        (101, "CANCELLED")
    ]
    assert not _tracebacks(caplog)
    assert not [r for r in _gateway_records(caplog) if r.levelno >= logging.ERROR]


async def _ping_status(local: LocalServer) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{local.http_port}/v1/ping") as resp,
    ):
        return resp.status


async def test_a_client_leaving_a_busy_stream_writes_no_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    servicer = _Firehose()
    async with await _local(servicer) as local:

        async def some(reader: asyncio.StreamReader) -> None:
            await reader.readexactly(200_000)

        await _cancel_on_disconnect(
            local.http_port, b"GET /v1/shelves:watch HTTP/1.1\r\nHost: x\r\n\r\n", some
        )
        await asyncio.wait_for(servicer.cancelled.wait(), BOUND)
    assert not _tracebacks(caplog)
    assert not [r for r in _gateway_records(caplog) if r.levelno >= logging.WARNING]


async def test_create_app_answers_a_stream_disconnect_quietly(
    servers: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp's own runner, as a ``create_app`` user runs it (no handler cancellation)."""
    caplog.set_level(logging.DEBUG)
    servicer = _Firehose()
    target = await servers.start(servicer)
    runner = web.AppRunner(create_app(Gateway([servicer], target=target)))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        await _cancel_on_disconnect(
            runner.addresses[0][1],
            b"GET /v1/shelves:watch HTTP/1.1\r\nHost: x\r\n\r\n",
            lambda reader: reader.readexactly(200_000),
        )
        await asyncio.wait_for(servicer.cancelled.wait(), BOUND)
    finally:
        await runner.cleanup()
    assert not _tracebacks(caplog)


# -- the proxy -------------------------------------------------------------------------


async def test_the_proxy_serves_within_its_limit_flags(servers: Any) -> None:
    from .test_cli import ENV

    target = await servers.start(PingServicer())
    proc = subprocess.Popen(  # noqa: ASYNC220 (only spawns; waits are off the loop)
        [sys.executable, "-m", "grpcgw", "proxy", "example.v1.PingService",
         "--import", "examples.ping.service", "--target", target,
         "--http-address", "127.0.0.1:0", "--header-timeout", "0.5",
         "--max-connections", "50", "--body-timeout", "none"],
        cwd=ROOT, env=ENV, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines = _Lines(proc.stderr)
    try:
        port = await asyncio.to_thread(lines.port, PROXY_PORT)
        reader, writer = await _connect(port)
        assert await _read_to_close(reader) == b""  # a silent client is let go
        writer.close()
        reader, writer = await _connect(port)
        writer.write(b"GARBAGE\r\n\r\n")
        [(status, headers, body)] = _responses(await _read_to_close(reader))
        writer.close()
        assert (status, headers["content-type"]) == (400, "application/json")
        assert headers["server"] == "grpcgw"
        assert _status_body(body)["code"] == 3
        assert await _ping(port) == 200
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.to_thread(proc.wait, 30)
    assert proc.returncode == 0
    assert "Traceback" not in lines.rest()


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("--header-timeout=soon", "--header-timeout: 'soon' is not a number (or none)"),
        ("--backlog=none", "--backlog: 'none' is not an integer"),
        ("--header-timeout=0", "HttpLimits.header_timeout must be a positive number or None"),
    ],
)
def test_bad_limit_flags_are_one_line_errors(flag: str, message: str) -> None:
    from .test_cli import grpcgw

    result = grpcgw("proxy", "example.v1.PingService", "--target", "localhost:1", flag)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# -- a unix socket -----------------------------------------------------------------------


async def test_serving_on_a_unix_socket(sock_dir: Any) -> None:
    path = f"{sock_dir}/http.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()  # a leftover socket file, nobody listening: replaced
    local = await start_local(
        PingServicer(), http_address=f"unix:{path}", grpc_address="127.0.0.1:0"
    )
    async with local:
        assert local.http_port == 0
        connector = aiohttp.UnixConnector(path=path)
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get("http://localhost/v1/ping") as resp,
        ):
            assert await resp.json() == {"message": "Pong"}
        # A live server on the path is not replaced.
        with pytest.raises(OSError, match="already listens"):
            await start_local(
                PingServicer(), http_address=f"unix:{path}", grpc_address="127.0.0.1:0"
            )


# -- HTTPS ---------------------------------------------------------------------------------


async def test_a_client_silent_before_the_tls_handshake_holds_up_no_one(
    sock_dir: Any,
) -> None:
    # The handshake ran inside the accept loop: one connection that never sent a
    # ClientHello stopped every other client being accepted for 60 s (asyncio's
    # handshake timeout), and took that long to be let go.
    import ssl

    from grpcgw.httpserver import start_server

    from .test_proxy_lifecycle import _self_signed

    cert, key = _self_signed(sock_dir)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = web.Application()

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app.router.add_get("/", hello)
    limits = HttpLimits(header_timeout=1.0)
    async with await start_server(app, "127.0.0.1:0", limits=limits, ssl_context=context) as server:
        silent_reader, silent = await _connect(server.port)
        await _until(lambda: server.connections == 1)
        trust = ssl.create_default_context(cafile=str(cert))
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=BOUND)) as session,
            session.get(f"https://127.0.0.1:{server.port}/", ssl=trust) as resp,
        ):
            assert await resp.text() == "hello"
        # The silent one is let go within the header timeout, as a silent plain one is.
        assert await _read_to_close(silent_reader) == b""
        silent.close()
        await _until(lambda: server.connections == 0)
