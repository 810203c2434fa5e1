"""Processes and raw HTTP for the reliability suite.

:class:`Proc` runs a server in a process of its own and collects its output on
reader threads, so a test can wait for a line (bounded) and look at what the
server logged while it handled one case. :func:`exchange` speaks raw bytes to
it and reads one response; :class:`Reply` is what came back.

Every wait here is on a condition (a line, a byte, a closed socket) and has a
bound; nothing asserts how long anything took.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    # Not the run's own GRPCGW_* (tox -e soak passes GRPCGW_SOAK_* through): the CLI
    # refuses a GRPCGW_ variable that names no setting, and the servers under test
    # run with the settings the tests give them.
    **{k: v for k, v in os.environ.items() if not k.startswith("GRPCGW_")},
    "PYTHONPATH": os.pathsep.join(str(p) for p in (ROOT / "src", ROOT, ROOT / "tests" / "gen")),
    "PYTHONUNBUFFERED": "1",
}
#: Generous bound on anything that should happen "at once" on a loaded machine.
BOUND = 30.0


class Proc:
    """A server process whose output lines (stdout and stderr, one pipe: in the order
    written, so a line seen after :meth:`mark` was written after it) are collected as
    they come."""

    def __init__(self, args: Sequence[str], *, name: str) -> None:
        self.name = name
        self.args = list(args)
        self._cond = threading.Condition()
        self._lines: list[str] = []
        self.popen = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=ENV,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._open = 1
        #: Where the output was once the server was ready (start-up lines before).
        self.ready = 0
        threading.Thread(target=self._pump, args=(self.popen.stdout,), daemon=True).start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            with self._cond:
                self._lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._open -= 1
            self._cond.notify_all()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def mark(self) -> int:
        """Where the output is now (for :meth:`since`)."""
        with self._cond:
            return len(self._lines)

    def since(self, mark: int) -> list[str]:
        with self._cond:
            return self._lines[mark:]

    def text(self) -> str:
        with self._cond:
            return "\n".join(self._lines)

    def count(self, pattern: str) -> int:
        with self._cond:
            return sum(pattern in line for line in self._lines)

    def wait_for(
        self, pattern: str | re.Pattern[str], *, after: int = 0, timeout: float = BOUND
    ) -> re.Match[str] | str:
        """The first line from ``after`` on that contains ``pattern`` (a regex: matches)."""

        def find() -> re.Match[str] | str | None:
            for line in self._lines[after:]:
                if isinstance(pattern, str):
                    if pattern in line:
                        return line
                elif m := pattern.search(line):
                    return m
            return None

        deadline = time.monotonic() + timeout
        with self._cond:
            while (found := find()) is None:
                left = deadline - time.monotonic()
                if left <= 0 or (self._open == 0 and find() is None):
                    tail = "\n".join(self._lines[-40:])
                    state = "exited" if self.popen.poll() is not None else "running"
                    raise AssertionError(
                        f"{self.name} ({state}): no {pattern!r} within {timeout} s:\n{tail}"
                    )
                self._cond.wait(left)
            return found

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        try:
            return self.popen.wait(BOUND)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(BOUND)

    def kill(self) -> None:
        """SIGKILL: the process dies mid-whatever, as after an OOM kill."""
        self.popen.kill()
        self.popen.wait(BOUND)


# -- the servers ----------------------------------------------------------------------------


# Each server binds port 0 and says which port it got: a port picked free beforehand
# and closed again could be taken by any other socket before the server binds it.
_LOCAL_PORT = re.compile(r"HTTP/JSON gateway listening on http://\S+ \(port (\d+)\)")
_PROXY_PORT = re.compile(r"grpcgw proxy: http://127\.0\.0\.1:(\d+) ")


class Local(Proc):
    """``serve_local`` with the suite's servicers (tests/reliability/apps.py)."""

    def __init__(self, *flags: str) -> None:
        super().__init__(
            [sys.executable, "-m", "tests.reliability.apps", "local", *flags], name="serve_local"
        )
        found = self.wait_for(_LOCAL_PORT)
        assert isinstance(found, re.Match)
        self.port = int(found.group(1))
        self.ready = self.mark()


class Backend(Proc):
    """A gRPC server alone, with the suite's servicers."""

    def __init__(self, port: int = 0, *flags: str) -> None:
        super().__init__(
            [
                sys.executable,
                "-m",
                "tests.reliability.apps",
                "backend",
                "--port",
                str(port),
                *flags,
            ],
            name="backend",
        )
        found = self.wait_for(re.compile(r"backend ready (\d+)"))
        assert isinstance(found, re.Match)
        self.port = int(found.group(1))
        self.ready = self.mark()


class Proxy(Proc):
    """``grpcgw proxy`` in front of ``target``."""

    def __init__(self, target: str, *flags: str) -> None:
        from .apps import IMPORTS, SERVICES

        imports = [arg for module in IMPORTS for arg in ("--import", module)]
        super().__init__(
            [
                sys.executable,
                "-m",
                "grpcgw",
                "proxy",
                *SERVICES,
                *imports,
                "--target",
                target,
                "--http-address",
                "127.0.0.1:0",  # its "grpcgw proxy: http://..." line names the port
                *flags,
            ],
            name="grpcgw proxy",
        )
        found = self.wait_for(_PROXY_PORT)
        assert isinstance(found, re.Match)
        self.port = int(found.group(1))
        self.ready = self.mark()


# -- raw HTTP ------------------------------------------------------------------------------


@dataclass
class Reply:
    """One HTTP response as it came off the wire (``status`` 0: closed without one)."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    closed: bool = False  # the server closed the connection after it

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)


def _dechunk(data: bytes) -> tuple[bytes, bool]:
    """The body of a chunked message, and whether it is complete."""
    out, pos = b"", 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            return out, False
        size = int(data[pos:end].split(b";")[0], 16)
        if size == 0:
            return out, data.find(b"\r\n", end + 2) >= 0
        if len(data) < end + 2 + size + 2:
            return out, False
        out += data[end + 2 : end + 2 + size]
        pos = end + 2 + size + 2


class Conn:
    """A raw client connection with a bounded read of one response at a time."""

    def __init__(self, port: int, *, timeout: float = BOUND) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buffer = b""
        self.eof = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _more(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buffer += chunk
        return True

    def read_reply(self, *, head_only: bool = False) -> Reply:
        """The next response (``status`` 0 if the server closed without one)."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._more():
                if self.buffer:
                    raise AssertionError(f"a partial response, then close: {self.buffer!r}")
                return Reply(closed=True)
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        if 100 <= status < 200:  # an interim response (100 Continue): the next one
            self.buffer = rest
            return self.read_reply(head_only=head_only)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if head_only or status in (204, 304):
            self.buffer = rest
            body = b""
        elif "content-length" in headers:
            length = int(headers["content-length"])
            while len(rest) < length and self._more():
                rest = self.buffer.partition(b"\r\n\r\n")[2]
            body, self.buffer = rest[:length], rest[length:]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body, done = _dechunk(rest)
            while not done:
                if not self._more():
                    raise AssertionError(f"a chunked body cut short: {self.buffer[-200:]!r}")
                body, done = _dechunk(self.buffer.partition(b"\r\n\r\n")[2])
            self.buffer = b""
        else:
            while self._more():
                pass
            body, self.buffer = self.buffer.partition(b"\r\n\r\n")[2], b""
        closed = headers.get("connection", "").lower() == "close"
        return Reply(status, headers, body, closed)

    def read_to_close(self) -> bytes:
        while self._more():
            pass
        return self.buffer

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def exchange(port: int, raw: bytes, *, head_only: bool = False) -> Reply:
    """Send ``raw`` on a new connection and read the one response (or the close)."""
    with Conn(port) as conn:
        # The server may answer and close before all of it is sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.send(raw)
        return conn.read_reply(head_only=head_only)


def get(port: int, path: str, headers: Sequence[tuple[str, str]] = ()) -> Reply:
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers)
    raw = f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{lines}\r\n"
    return exchange(port, raw.encode("utf-8", "surrogateescape"))


def still_serves(server: Proc, port: int) -> list[str]:
    """An ordinary request succeeds; return what the server logged up to its access line.

    The access line names the request id sent, so once it is in the output,
    everything the server logged while it handled the requests before is too
    (one event loop, one log handler, in order).
    """
    request_id = uuid.uuid4().hex
    reply = get(port, "/v1/ping", [("X-Request-Id", request_id)])
    assert (reply.status, reply.body) == (200, b'{"message":"Pong"}'), reply
    server.wait_for(request_id)
    return server.since(0)
