"""Fault scenarios: a backend that is down, restarted, unresponsive, slow or killed
mid-stream behind ``grpcgw proxy``; servicers that raise or reply what JSON cannot
hold; clients that leave mid-call or send slowly. Every server runs in a process
of its own; every wait is on a condition, with a bound.

What each must show: the client gets a ``google.rpc.Status`` (or an ``{"error":
…}`` line, or an aborted raw stream), never a hang nor internals; the server
logs what happened once, without a traceback of its own; it keeps serving.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from .apps import SECRET
from .checks import INTERNAL, quiet, status_body
from .conftest import Served
from .harness import BOUND, Backend, Conn, Local, Proc, Proxy, get, still_serves

#: Upper bound on polls while the proxy reconnects to a backend that came back.
MAX_POLLS = 5000


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=BOUND)
    conn.request("GET", path, headers=headers or {})
    return conn.getresponse()


def _lines_of(stream: http.client.HTTPResponse) -> Iterator[dict[str, Any]]:
    while line := stream.readline():
        yield json.loads(line)


def _recovers(port: int) -> int:
    """Poll until an ordinary request succeeds again; returns how many failed first.

    Each poll is a request that fails at once (503) while the gateway's channel
    waits to reconnect: a bounded loop on the condition, not a timed wait.
    """
    deadline = time.monotonic() + 60
    for failed in range(MAX_POLLS):
        reply = get(port, "/v1/ping")
        if reply.status == 200:
            return failed
        assert reply.status == 503, reply
        status_body(reply.body, 14)
        assert time.monotonic() < deadline, f"no recovery after {failed} polls"
    raise AssertionError(f"no recovery after {MAX_POLLS} polls")


def _gateway_lines(proc: Proc, mark: int) -> list[str]:
    """grpcgw's own log lines since ``mark`` (the access log apart)."""
    return [line for line in proc.since(mark) if " grpcgw " in line and "grpcgw.access" not in line]


# -- the backend behind grpcgw proxy --------------------------------------------------------


@pytest.fixture(scope="module")
def silent() -> Iterator[socket.socket]:
    """A listener that completes TCP handshakes and never says a word."""
    with socket.socket() as listener:
        # SO_REUSEPORT, as gRPC's server binds: the test can hold the port through
        # the outage (bound, not listening) until the backend binds it alongside.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener


def _hold(port: int) -> socket.socket:
    """The port bound and not listening (connections to it are refused), beside a
    listener that set SO_REUSEPORT, so that nothing else takes it meanwhile."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", port))
    return holder


def test_backend_unresponsive_down_back_slow_killed_and_restarted(
    silent: socket.socket,
) -> None:
    """One proxy through the life of its backend, in order."""
    port = silent.getsockname()[1]
    proxy = Proxy(f"127.0.0.1:{port}", "--connect-timeout", "0.5")
    backend: Backend | None = None
    try:
        # Unresponsive: the first request waits for the connect timeout (0.5 s here,
        # 5 s by default), not grpc's 20 s, then 503 with nothing about the address.
        mark = proxy.mark()
        reply = get(proxy.port, "/v1/ping")
        assert reply.status == 503, reply
        assert status_body(reply.body, 14, (str(port),))["message"] == "the service is unavailable"
        # Down: nothing listens any more. The port stays bound, not listening
        # (connections are refused), so no other socket can take it before the
        # backend comes back on it.
        holder = _hold(port)
        silent.close()
        reply = get(proxy.port, "/v1/ping")
        assert reply.status == 503, reply
        status_body(reply.body, 14, (str(port),))

        # Back: the gateway reconnects by itself.
        backend = Backend(port)
        holder.close()
        failed = _recovers(proxy.port)
        # The outage is logged at WARNING, without tracebacks, and not once per
        # failed request: one line per 10 s with a count (the access log has each).
        logged = _gateway_lines(proxy, mark)
        assert 1 <= len(logged) <= 5, (failed, logged)
        assert all(" WARNING grpcgw " in line for line in logged), logged
        quiet_but_warnings(proxy.since(mark))

        # Slow: within the deadline it answers, past it 504, generic.
        reply = get(proxy.port, "/v1/shelves/slow-300")
        assert reply.status == 200, reply
        reply = get(proxy.port, "/v1/shelves/slow-5000", [("Grpc-Timeout", "100m")])
        assert reply.status == 504, reply
        assert status_body(reply.body, 4)["message"] == "deadline exceeded"

        # Killed mid-stream (NDJSON): the stream ends with an error line, then ends.
        stream = _get(proxy.port, "/v1/shelves:watch?pageToken=idle-kill1")
        lines = _lines_of(stream)
        assert next(lines)["result"]["name"] == "shelves/first"
        backend.wait_for("started idle-kill1")
        holder = _hold(port)  # through the restart, as above
        backend.kill()
        rest = list(lines)  # bounded by the socket timeout: never a hang
        assert len(rest) == 1, rest
        error = rest[0]["error"]
        assert error["code"] == 14, rest
        assert not INTERNAL.search(error["message"]), error
        assert str(port) not in error["message"]
        stream.close()

        # Restarted: it recovers again.
        backend = Backend(port)
        holder.close()
        _recovers(proxy.port)

        # Killed mid-stream (raw HttpBody): the response is cut short, never ended as
        # if complete.
        stream = _get(proxy.port, "/download/2?hold=true")
        assert stream.status == 200
        assert stream.readline() == b"chunk 0\n"
        backend.wait_for("started download-2")
        backend.kill()
        with pytest.raises(http.client.IncompleteRead):
            stream.read()
        stream.close()

        backend = Backend(port)
        _recovers(proxy.port)
        still_serves(proxy, proxy.port)
        assert "Traceback" not in proxy.text()
    finally:
        proxy.stop()
        if backend is not None:
            backend.stop()


def quiet_but_warnings(lines: list[str]) -> None:
    """No traceback, nothing at ERROR or above (WARNING is the backend's failure)."""
    quiet([line for line in lines if " WARNING " not in line])


# -- servicers that fail, clients that leave: serve_local ------------------------------------


@pytest.fixture(scope="module")
def faulty() -> Iterator[Local]:
    """serve_local with short client limits, for faults that log (kept apart from the
    shared servers, whose logs must stay quiet)."""
    proc = Local("--header-timeout", "1", "--body-read-timeout", "1", "--send-timeout", "1")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.mark.parametrize(
    "path", ["/v1/shelves/crash", "/fail"], ids=["async servicer", "async echo"]
)
def test_a_raising_servicer_is_a_generic_500_and_one_line(faulty: Local, path: str) -> None:
    mark = faulty.mark()
    reply = get(faulty.port, path)
    assert reply.status == 500, reply
    assert status_body(reply.body, 2)["message"] == "internal error"
    still_serves(faulty, faulty.port)
    [line] = [line for line in _gateway_lines(faulty, mark) if SECRET in line]
    assert " ERROR grpcgw " in line
    # The gRPC server in the same process logs the servicer's own traceback (where
    # the bug is), once; grpcgw adds none.
    logged = "\n".join(faulty.since(mark))
    assert logged.count("Traceback") <= 1, logged
    assert "grpcgw/" not in logged.partition("Traceback")[2], logged


def test_a_raising_stream_ends_with_a_generic_error_line(faulty: Local) -> None:
    stream = _get(faulty.port, "/v1/shelves:watch?pageToken=crash")
    lines = list(_lines_of(stream))
    assert lines[0]["result"]["name"] == "shelves/first"
    assert lines[1:] == [{"error": {"code": 2, "message": "internal error", "details": []}}]


def test_an_unrenderable_reply_is_a_generic_500(faulty: Local) -> None:
    mark = faulty.mark()
    reply = get(faulty.port, "/v1/shelves/unrenderable")
    assert reply.status == 500, reply
    message = status_body(reply.body, 13)["message"]
    assert message == "internal error: the reply cannot be rendered as JSON"
    stream = _get(faulty.port, "/v1/shelves:watch?pageToken=unrenderable")
    lines = list(_lines_of(stream))
    assert lines[1:] == [{"error": {"code": 13, "message": message, "details": []}}]
    still_serves(faulty, faulty.port)
    logged = _gateway_lines(faulty, mark)
    assert len([line for line in logged if "cannot be rendered" in line]) == 2, logged
    assert "Traceback" not in "\n".join(faulty.since(mark))


# -- clients that leave: the servicer sees its call cancelled ------------------------------


def _servicer_log(gateway: Served) -> Proc:
    """The process whose servicers print ``started``/``cancelled`` lines."""
    return gateway.backend or gateway.proc


@pytest.mark.parametrize(
    ("target", "tag", "read"),
    [
        ("/v1/shelves/hang-{tag}", "hang-{tag}", 0),
        ("/hang?name={tag}", "hang-{tag}", 0),
        ("/v1/shelves:watch?pageToken=idle-{tag}", "idle-{tag}", 1),
        ("/v1/shelves:watch?pageToken=busy-{tag}", "busy-{tag}", 200_000),
        ("/count/1?hold=true&n=1", "count-1", 1),
    ],
    ids=["unary", "unary (echo)", "idle stream", "busy stream", "idle stream (count)"],
)
def test_a_client_leaving_cancels_the_call(
    gateway: Served, target: str, tag: str, read: int
) -> None:
    tag = tag.format(tag=uuid.uuid4().hex[:8]) if "{tag}" in tag else tag
    path = target.format(tag=tag.split("-", 1)[1])
    servicer = _servicer_log(gateway)
    mark, gateway_mark = servicer.mark(), gateway.proc.mark()
    conn = Conn(gateway.port)
    conn.send(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    servicer.wait_for(f"started {tag}", after=mark)
    if read:  # some of the stream first: the call is under way
        while len(conn.buffer) < min(read, 100) and conn._more():
            pass
    conn.close()
    servicer.wait_for(f"cancelled {tag}", after=mark)
    still_serves(gateway.proc, gateway.port)
    quiet(gateway.proc.since(gateway_mark))
    quiet(servicer.since(mark))


# -- slow clients ---------------------------------------------------------------------------


def test_slow_clients_are_let_go_while_others_are_served(faulty: Local) -> None:
    port = faulty.port
    mark = faulty.mark()
    silent = [Conn(port) for _ in range(20)]
    partial_head = [Conn(port) for _ in range(20)]
    for conn in partial_head:
        conn.send(b"GET /v1/ping HTTP/1.1\r\nHost: t\r\nX-Slow: 1\r\n")
    partial_body = [Conn(port) for _ in range(20)]
    for conn in partial_body:
        conn.send(
            b"POST /v1/shelves?shelfId=slow HTTP/1.1\r\nHost: t\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
    # Not reading: a busy stream the client never reads is cut off (send timeout).
    reader = socket.create_connection(("127.0.0.1", port))
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.sendall(b"GET /v1/shelves:watch?pageToken=busy-unread HTTP/1.1\r\nHost: t\r\n\r\n")
    try:
        # Ordinary requests are served meanwhile.
        for _ in range(5):
            still_serves(faulty, port)
        for conn in silent:  # closed without a word
            assert conn.read_to_close() == b""
        for conn in partial_head:  # 408 with a Status body
            reply = conn.read_reply()
            assert reply.status == 408, reply
            status_body(reply.body, 4)
        for conn in partial_body:
            reply = conn.read_reply()
            assert reply.status == 408, reply
            assert "body" in status_body(reply.body, 4)["message"]
        faulty.wait_for("cancelled busy-unread", after=mark)
    finally:
        for conn in silent + partial_head + partial_body:
            conn.close()
        reader.close()
    still_serves(faulty, port)
    quiet(faulty.since(mark))


def test_the_shared_servers_logged_nothing_alarming(local: Served, proxied: Served) -> None:
    """Whatever the suite sent them so far, ``serve_local``, the proxy and its
    backend logged no traceback and nothing at WARNING or above (once started:
    configuration warnings at start-up are not the clients' doing)."""
    for proc in (local.proc, proxied.proc, proxied.backend):
        assert proc is not None
        quiet(proc.since(proc.ready))
        assert proc.popen.poll() is None, f"{proc.name} exited"
