"""A fake AWS Lambda Runtime API on loopback, and a helper that runs awslambdaric against it.

The real ``awslambdaric`` client (its C ``runtime_client`` module, built on
aws-lambda-cpp and libcurl) talks to the server below exactly as it talks to
Lambda:

- ``GET  /2018-06-01/runtime/invocation/next``: blocks until :meth:`FakeRuntime.submit`
  queues an event; answers the event JSON with ``Lambda-Runtime-Aws-Request-Id``,
  ``Lambda-Runtime-Deadline-Ms``, ``Lambda-Runtime-Invoked-Function-Arn``,
  ``Lambda-Runtime-Trace-Id`` and, when given, ``Lambda-Runtime-Client-Context`` /
  ``Lambda-Runtime-Cognito-Identity``.
- ``POST /2018-06-01/runtime/invocation/{id}/response`` and ``.../{id}/error``:
  recorded on the :class:`Invocation`, answered ``202``.
- ``POST /2018-06-01/runtime/init/error``: recorded as an :class:`InitError`, ``202``.
- ``GET  /2018-06-01/runtime/restore/next`` and ``POST .../restore/error`` (SnapStart,
  only with ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``): counted / recorded.

Anything else (an unknown path, a post for an unknown or finished request id) is
answered ``4xx`` and listed in :attr:`FakeRuntime.protocol_errors`.

Usage::

    with FakeRuntime() as rt, run_awslambdaric("tests.lambda_apps.plain.handler", rt) as proc:
        inv = rt.invoke({"hello": "world"}, timeout=10)
        assert inv.kind == "response"
        proc.wait_for_line("some log text", timeout=10)

One runtime process per :class:`FakeRuntime` at a time: an invocation handed to a
``/next`` call whose client has died is lost, as on Lambda.

Lambda Managed Instances (``AWS_LAMBDA_MAX_CONCURRENCY=N``): awslambdaric forks N
workers, each of which imports the handler and polls ``/next`` on its own
connection. Every ``/next`` call is served on its own thread and blocks until an
event is queued, so N of them wait at once and each event goes to exactly one;
:meth:`FakeRuntime.wait_for_pending` waits until N are waiting (every worker's init
done), and :func:`run_awslambdaric` with ``max_concurrency`` starts the runtime in a
process group of its own, so stopping it stops the workers too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

ROOT = Path(__file__).resolve().parent.parent

API = "/2018-06-01/runtime"
FUNCTION_NAME = "grpcgw-test"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"

_RESULT_PATH = re.compile(rf"^{re.escape(API)}/invocation/(?P<id>[^/]+)/(?P<kind>response|error)$")


class RuntimeProcessExited(AssertionError):
    """The runtime process exited while the test was waiting for it."""


@dataclass
class Invocation:
    """One event handed to the runtime, and what the runtime answered."""

    request_id: str
    event: Any
    deadline_ms: int
    trace_id: str
    function_arn: str
    client_context: Any = None
    cognito_identity: Any = None
    #: ``"response"`` or ``"error"`` once the runtime has posted; ``None`` before.
    kind: Literal["response", "error"] | None = None
    #: The posted body, decoded as JSON (``None`` if it was not JSON).
    payload: Any = None
    #: The posted body as sent.
    body: bytes = b""
    #: The headers of the runtime's post (e.g. ``Lambda-Runtime-Function-Error-Type``).
    headers: dict[str, str] = field(default_factory=dict)
    #: True once a ``/next`` call has taken the event.
    delivered: bool = False
    _runtime: FakeRuntime | None = field(default=None, repr=False, compare=False)

    @property
    def done(self) -> bool:
        return self.kind is not None

    @property
    def content_type(self) -> str | None:
        return _header(self.headers, "Content-Type")

    @property
    def error_type(self) -> str | None:
        """The ``Lambda-Runtime-Function-Error-Type`` header, else the payload's ``errorType``."""
        value = _header(self.headers, "Lambda-Runtime-Function-Error-Type")
        if value is None and isinstance(self.payload, dict):
            value = self.payload.get("errorType")
        return value

    def wait(self, timeout: float) -> Invocation:
        """Wait until the runtime posts a response or an error for this invocation."""
        assert self._runtime is not None, "not submitted to a FakeRuntime"
        return self._runtime._wait_done(self, timeout)


@dataclass
class InitError:
    """A ``POST /runtime/init/error`` (or ``/runtime/restore/error``)."""

    payload: Any
    body: bytes
    headers: dict[str, str]

    @property
    def error_type(self) -> str | None:
        value = _header(self.headers, "Lambda-Runtime-Function-Error-Type")
        if value is None and isinstance(self.payload, dict):
            value = self.payload.get("errorType")
        return value

    @property
    def error_message(self) -> str | None:
        return self.payload.get("errorMessage") if isinstance(self.payload, dict) else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return value
    return None


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _trace_id() -> str:
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled=0"


def _now_ms() -> int:
    return int(time.time() * 1000)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 holds only 6 unaccepted connections; libcurl
    # in awslambdaric connects with a 1 s connect timeout, and a SYN dropped on a full
    # queue is retried after 1 s: under load (accept thread starved) one of several
    # workers' first ``/next`` then fails with "No Response from endpoint". The real
    # Runtime API never refuses a connection, so the fake must not either.
    request_queue_size = 128
    runtime: FakeRuntime

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError):
            return  # a runtime process was stopped mid-connection
        self.runtime._protocol_error(f"server error: {exc!r}")
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as libcurl expects; small posts without Nagle delays.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing -------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        close: bool = False,
    ) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()

    def _send_json(self, status: int, value: Any, *, close: bool = False) -> None:
        body = json.dumps(value).encode()
        self._send(status, body, {"Content-Type": "application/json"}, close=close)

    def _reject(self, status: int, error_type: str, message: str) -> None:
        self.server.runtime._protocol_error(f"{self.command} {self.path}: {message}")
        self._send_json(status, {"errorType": error_type, "errorMessage": message})

    # -- endpoints ------------------------------------------------------------------------

    def do_GET(self) -> None:
        rt = self.server.runtime
        rt._record_request(self.command, self.path)
        if self.path == f"{API}/invocation/next":
            self._next()
        elif self.path == f"{API}/restore/next":
            rt._restore_next()
            self._send(200)
        else:
            self._reject(404, "UnknownPath", "no such Runtime API endpoint")

    def do_POST(self) -> None:
        rt = self.server.runtime
        rt._record_request(self.command, self.path)
        body = self._read_body()
        headers = dict(self.headers.items())
        if self.path in (f"{API}/init/error", f"{API}/restore/error"):
            rt._init_error(self.path.rsplit("/", 2)[-2], InitError(_decode(body), body, headers))
            self._send_json(202, {"status": "OK"})
            return
        match = _RESULT_PATH.match(self.path)
        if match is None:
            self._reject(404, "UnknownPath", "no such Runtime API endpoint")
            return
        problem = rt._complete(match["id"], match["kind"], body, headers)  # type: ignore[arg-type]
        if problem is not None:
            self._reject(400, problem[0], problem[1])
        else:
            self._send_json(202, {"status": "OK"})

    def _next(self) -> None:
        inv = self.server.runtime._take_next()
        if inv is None:  # shutting down
            self._send_json(503, {"errorType": "ShuttingDown"}, close=True)
            return
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": inv.request_id,
            "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": inv.function_arn,
            "Lambda-Runtime-Trace-Id": inv.trace_id,
        }
        if inv.client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = json.dumps(inv.client_context)
        if inv.cognito_identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = json.dumps(inv.cognito_identity)
        self._send(200, json.dumps(inv.event).encode(), headers)


class FakeRuntime:
    """The Lambda Runtime API on ``127.0.0.1:<free port>``; a context manager.

    :attr:`address` is the value for ``AWS_LAMBDA_RUNTIME_API``. Closing stops the
    processes started with :func:`run_awslambdaric` for it, answers any ``/next``
    still pending with ``503`` and stops the server; it never waits on the runtime.
    """

    def __init__(self, *, function_arn: str = FUNCTION_ARN) -> None:
        self.function_arn = function_arn
        self._cond = threading.Condition()
        self._queue: deque[Invocation] = deque()
        self._by_id: dict[str, Invocation] = {}
        self._closed = False
        self._pending_next = 0
        self._next_calls = 0
        self._processes: list[LambdaProcess] = []
        #: Every invocation submitted, in order.
        self.invocations: list[Invocation] = []
        #: Every ``POST /runtime/init/error``.
        self.init_errors: list[InitError] = []
        #: Every ``POST /runtime/restore/error``.
        self.restore_errors: list[InitError] = []
        #: How many ``GET /runtime/restore/next`` calls were made.
        self.restore_next_calls = 0
        #: ``(method, path)`` of every request, in order.
        self.requests: list[tuple[str, str]] = []
        #: Requests the real Runtime API would reject too.
        self.protocol_errors: list[str] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.runtime = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-lambda-runtime",
            daemon=True,
        )
        self._thread.start()

    # -- public API -----------------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def pending_next(self) -> int:
        """How many ``/next`` calls are blocked waiting for an event right now."""
        with self._cond:
            return self._pending_next

    @property
    def next_calls(self) -> int:
        """How many ``/next`` calls were made so far."""
        with self._cond:
            return self._next_calls

    def submit(
        self,
        event: Any,
        *,
        timeout: float = 30,
        deadline_ms: int | None = None,
        request_id: str | None = None,
        trace_id: str | None = None,
        client_context: Any = None,
        cognito_identity: Any = None,
    ) -> Invocation:
        """Queue ``event`` for the next ``/next`` call and return at once.

        ``deadline_ms`` is the ``Lambda-Runtime-Deadline-Ms`` value (epoch
        milliseconds); by default ``timeout`` seconds from now, like a function
        whose timeout is ``timeout``. ``client_context`` and ``cognito_identity``
        are sent as JSON headers when given.
        """
        inv = Invocation(
            request_id=request_id or str(uuid.uuid4()),
            event=event,
            deadline_ms=deadline_ms if deadline_ms is not None else _now_ms() + int(timeout * 1000),
            trace_id=trace_id or _trace_id(),
            function_arn=self.function_arn,
            client_context=client_context,
            cognito_identity=cognito_identity,
            _runtime=self,
        )
        with self._cond:
            if self._closed:
                raise RuntimeError("FakeRuntime is closed")
            if inv.request_id in self._by_id:
                raise ValueError(f"duplicate request id {inv.request_id}")
            self._by_id[inv.request_id] = inv
            self.invocations.append(inv)
            self._queue.append(inv)
            self._cond.notify_all()
        return inv

    def invoke(
        self,
        event: Any,
        *,
        timeout: float = 30,
        deadline_ms: int | None = None,
        **kwargs: Any,
    ) -> Invocation:
        """Submit ``event`` and wait (at most ``timeout`` seconds) for the response or error.

        Raises :class:`TimeoutError` if nothing is posted in time, and
        :class:`RuntimeProcessExited` as soon as the attached runtime process exits.
        """
        inv = self.submit(event, timeout=timeout, deadline_ms=deadline_ms, **kwargs)
        return inv.wait(timeout)

    def wait_init_error(self, timeout: float) -> InitError:
        """Wait for a ``POST /runtime/init/error`` and return the first one."""
        self._wait(lambda: bool(self.init_errors), timeout, "an init error")
        with self._cond:
            return self.init_errors[0]

    def wait_for_next(self, timeout: float, *, calls: int = 1) -> None:
        """Wait until a ``/next`` call is blocked and ``calls`` calls were made in all.

        The first one means the runtime finished init (the handler module imported).
        """
        self._wait(
            lambda: self._pending_next > 0 and self._next_calls >= calls,
            timeout,
            f"/next call #{calls}",
        )

    def wait_for_pending(self, count: int, timeout: float) -> None:
        """Wait until ``count`` ``/next`` calls are blocked at once (``count`` workers
        of a multi-concurrency runtime have finished their init and wait for work)."""
        self._wait(lambda: self._pending_next >= count, timeout, f"{count} waiting /next calls")

    def close(self) -> None:
        for proc in list(self._processes):
            proc.stop()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FakeRuntime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- used by the handler and by LambdaProcess -----------------------------------------

    def _attach(self, proc: LambdaProcess) -> None:
        with self._cond:
            self._processes.append(proc)

    def _process_event(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _record_request(self, method: str, path: str) -> None:
        with self._cond:
            self.requests.append((method, path))

    def _protocol_error(self, message: str) -> None:
        with self._cond:
            self.protocol_errors.append(message)
            self._cond.notify_all()

    def _restore_next(self) -> None:
        with self._cond:
            self.restore_next_calls += 1
            self._cond.notify_all()

    def _init_error(self, which: str, error: InitError) -> None:
        with self._cond:
            (self.init_errors if which == "init" else self.restore_errors).append(error)
            self._cond.notify_all()

    def _take_next(self) -> Invocation | None:
        with self._cond:
            self._next_calls += 1
            self._pending_next += 1
            self._cond.notify_all()
            try:
                while not self._queue and not self._closed:
                    self._cond.wait()
            finally:
                self._pending_next -= 1
            if self._closed:
                return None
            inv = self._queue.popleft()
            inv.delivered = True
            return inv

    def _complete(
        self,
        request_id: str,
        kind: Literal["response", "error"],
        body: bytes,
        headers: dict[str, str],
    ) -> tuple[str, str] | None:
        with self._cond:
            inv = self._by_id.get(request_id)
            if inv is None or not inv.delivered:
                return "InvalidRequestID", f"unknown request id {request_id}"
            if inv.done:
                return "InvalidStateTransition", f"{request_id} already has a {inv.kind}"
            inv.kind, inv.body, inv.headers = kind, body, headers
            inv.payload = _decode(body)
            self._cond.notify_all()
            return None

    def _exited(self) -> LambdaProcess | None:
        return next((p for p in self._processes if p.returncode is not None), None)

    def _wait(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        def done() -> bool:
            return ready() or self._exited() is not None or self._closed

        with self._cond:
            finished = self._cond.wait_for(done, timeout)
            if ready():
                return
            exited = self._exited()
        if exited is not None:
            raise RuntimeProcessExited(
                f"runtime process exited with code {exited.returncode} while waiting for "
                f"{what}; its output:\n{exited.output}"
            )
        if finished:
            raise RuntimeError(f"FakeRuntime closed while waiting for {what}")
        raise TimeoutError(f"no {what} within {timeout}s{self._diagnostics()}")

    def _wait_done(self, inv: Invocation, timeout: float) -> Invocation:
        self._wait(lambda: inv.done, timeout, f"response or error for {inv.request_id}")
        return inv

    def _diagnostics(self) -> str:
        parts = [f"; requests: {self.requests[-10:]}"]
        if self.protocol_errors:
            parts.append(f"; protocol errors: {self.protocol_errors}")
        parts.extend(f"\noutput of pid {p.pid}:\n{p.output}" for p in self._processes)
        return "".join(parts)


class LambdaProcess(subprocess.Popen[str]):
    """A runtime subprocess whose output (stdout and stderr, one pipe) is collected on a
    reader thread.

    One pipe, so lines are kept in the order the process wrote them: once a line is
    seen, every line written before it, to either stream, is too. (With a pipe and a
    reader each, waiting for a line on stderr said nothing of stdout: a test that then
    counted an earlier stdout line, such as awslambdaric's ``Traceback`` for an
    invocation error, could find it arriving later, in the next test.)

    Leaving the ``with`` block (or :meth:`stop`) terminates it; it never waits on the
    runtime to exit by itself.
    """

    def __init__(
        self,
        args: list[str],
        runtime: FakeRuntime | None,
        *,
        own_group: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=own_group,
            **kwargs,
        )
        #: Whether the process leads a process group of its own (its workers are in it).
        self.own_group = own_group
        self._runtime = runtime
        self._cond = threading.Condition()
        self._lines: list[str] = []
        self._open = True
        assert self.stdout is not None
        self._reader = threading.Thread(target=self._pump, args=(self.stdout,), daemon=True)
        self._reader.start()
        if runtime is not None:
            runtime._attach(self)

    def _pump(self, stream: IO[str]) -> None:
        with contextlib.suppress(ValueError, OSError):
            for line in stream:
                with self._cond:
                    self._lines.append(line.rstrip("\r\n"))
                    self._cond.notify_all()
        # The pipe is closed: the process is exiting. Reap it, then wake waiters.
        with self._cond:
            self._open = False
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.wait(timeout=30)
        with self._cond:
            self._cond.notify_all()
        if self._runtime is not None:
            self._runtime._process_event()

    @property
    def lines(self) -> list[str]:
        """Every line written so far, stdout and stderr, in the order written."""
        with self._cond:
            return list(self._lines)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def count(self, text: str) -> int:
        """How many lines so far contain ``text``."""
        return sum(text in line for line in self.lines)

    def wait_for_line(self, text: str, *, timeout: float, count: int = 1) -> list[str]:
        """Wait until ``count`` lines contain ``text``; return the matching lines.

        Raises :class:`RuntimeProcessExited` if the process ends first and
        :class:`TimeoutError` after ``timeout`` seconds.
        """

        def matches() -> list[str]:
            return [line for line in self._lines if text in line]

        with self._cond:
            self._cond.wait_for(lambda: len(matches()) >= count or not self._open, timeout)
            found = matches()
            closed = not self._open
        if len(found) >= count:
            return found
        if closed:
            raise RuntimeProcessExited(
                f"process exited ({self.returncode}) with {len(found)} of {count} lines "
                f"containing {text!r}; output:\n{self.output}"
            )
        raise TimeoutError(
            f"{len(found)} of {count} lines containing {text!r} after {timeout}s; "
            f"output:\n{self.output}"
        )

    def wait_exit(self, timeout: float) -> int:
        """Wait for the process to exit by itself; return its exit code."""
        try:
            return self.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(
                f"process {self.pid} still running after {timeout}s; output:\n{self.output}"
            ) from None

    def children(self) -> list[int]:
        """The pids of the processes this one forked that still run (Linux ``/proc``)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            # pid (comm) state ppid ...: comm may hold spaces and parentheses.
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) == self.pid and fields[0] != "Z":
                found.append(int(entry.name))
        return sorted(found)

    def stop(self, timeout: float = 10) -> None:
        """Terminate (then kill) the process, and collect the rest of its output.

        A process started in its own group is stopped with its whole group (the
        workers of a multi-concurrency runtime), by the group's id.
        """
        if self.own_group:
            self._signal_group(signal.SIGTERM)
        if self.poll() is None:
            self.terminate()
            try:
                self.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                self.wait(timeout=timeout)
        if self.own_group:
            self._signal_group(signal.SIGKILL)  # any worker that outlived its parent
        self._reader.join(timeout=timeout)
        if self.stdout is not None:
            with contextlib.suppress(OSError):
                self.stdout.close()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)  # the group this process leads: only what it started

    def __enter__(self) -> LambdaProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


#: Variables a real Lambda sandbox (or the developer's shell) may set that change how
#: awslambdaric runs; dropped from the inherited environment.
_DROPPED_ENV = re.compile(r"^(AWS_LAMBDA_|_LAMBDA_|AWS_EXECUTION_ENV$|_X_AMZN_TRACE_ID$|_HANDLER$)")


def lambda_env(
    handler: str, rt: FakeRuntime, *, cwd: Path, env_extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment Lambda gives a Python function, pointing at ``rt``."""
    env = {k: v for k, v in os.environ.items() if not _DROPPED_ENV.match(k)}
    python_path = [str(ROOT / "src"), str(ROOT)]
    if env.get("PYTHONPATH"):
        python_path.append(env["PYTHONPATH"])
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": rt.address,
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{FUNCTION_NAME}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]0123456789abcdef",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python{}.{}".format(*sys.version_info[:2]),
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "LAMBDA_TASK_ROOT": str(cwd),
            "_HANDLER": handler,
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(python_path),
        }
    )
    env.update(env_extra or {})
    return env


def run_awslambdaric(
    handler: str,
    rt: FakeRuntime,
    *,
    cwd: Path | str = ROOT,
    env_extra: Mapping[str, str] | None = None,
    max_concurrency: int | None = None,
) -> LambdaProcess:
    """Start ``python -m awslambdaric <handler>`` against ``rt`` (a context manager).

    With ``max_concurrency`` it runs as on Lambda Managed Instances
    (``AWS_LAMBDA_MAX_CONCURRENCY``): that many forked workers, in a process group
    of the runtime's own. The process (and its workers) are stopped when the
    ``with`` block ends or ``rt`` closes.
    """
    cwd = Path(cwd)
    extra = dict(env_extra or {})
    if max_concurrency is not None:
        extra["AWS_LAMBDA_MAX_CONCURRENCY"] = str(max_concurrency)
    env = lambda_env(handler, rt, cwd=cwd, env_extra=extra)
    return LambdaProcess(
        [sys.executable, "-m", "awslambdaric", handler],
        rt,
        own_group=max_concurrency is not None,
        cwd=cwd,
        env=env,
    )


@contextlib.contextmanager
def lambda_function(
    handler: str,
    *,
    cwd: Path | str = ROOT,
    env_extra: Mapping[str, str] | None = None,
) -> Iterator[tuple[FakeRuntime, LambdaProcess]]:
    """A fresh :class:`FakeRuntime` with one awslambdaric process for ``handler``."""
    with (
        FakeRuntime() as rt,
        run_awslambdaric(handler, rt, cwd=cwd, env_extra=env_extra) as proc,
    ):
        yield rt, proc
