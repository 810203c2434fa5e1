"""``serve_lambda``: events served in process, the servicers behind a real gRPC server
on a unix socket in /tmp (``dispatch="socket"``) or called directly (``"direct"``).

Lambda lets no process listen on a port, but /tmp is writable. At init, once
per process, the handler compiles the routes and, in socket mode, starts the
user's servicers in a real gRPC server on a private unix socket and dials it;
each invocation then runs one gateway request in process. Interceptors and every
other gRPC server feature work as they do anywhere else.

In socket mode the server runs on its own event loop in a background thread,
and the invocation calls it over a blocking ``grpc`` channel: the call waits in
grpc's core with the GIL released instead of waking an event loop for every
completion, which makes the round trip cheaper than a ``grpc.aio`` stub call
made from the server's own loop (docs/performance.md).

In direct mode (:class:`~grpcgw.dispatch.BlockingDispatch`) there is no socket,
no server and no thread: plain servicers run on the invoking thread, ``async
def`` ones on a private event loop run by the invoking thread, each with the
interceptors as a real server runs them (docs/dispatch.md). With
``LambdaOptions(reflection=True)`` the real server starts on its socket as
well, for gRPC clients in the sandbox; the gateway still calls in process.

Never imports aiohttp: it costs cold-start time and the core does not need it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import json
import logging
import math
import os
import socket as socket_mod
import stat
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Unpack

from grpcgw.awslambda.events import EventOptions, EventSource, InvalidEventError, detect
from grpcgw.channel import (
    BlockingInvoker,
    gateway_channel_options,
    open_blocking_channel,
    run_blocking,
)
from grpcgw.contentcoding import content_encoding, decode_body
from grpcgw.descriptors import ServiceLike, resolve_service
from grpcgw.errors import Code, GatewayError
from grpcgw.exchange import HttpRequest, HttpResponse, error_response
from grpcgw.gateway import (
    Gateway,
    GatewayConfig,
    access_log_default,
    check_config,
    check_instance,
    check_interceptors,
)
from grpcgw.grpcserver import GrpcServer
from grpcgw.invoker import Dispatch, check_dispatch
from grpcgw.metadata import REQUEST_ID_KEY
from grpcgw.options import GatewayOptions

if TYPE_CHECKING:
    from grpcgw.dispatch import BlockingDispatch

log = logging.getLogger("grpcgw")

#: grpcio binds unix socket paths of at most this many bytes.
MAX_SOCKET_PATH = 105
#: Lambda's longest function timeout, in seconds: no invocation has more time left.
MAX_LAMBDA_TIMEOUT = 900.0
#: How many socket names :func:`claim_socket_path` draws before it gives up.
_SOCKET_NAME_ATTEMPTS = 8


class LambdaContext(Protocol):
    """The parts of the Lambda context object the handler uses (it copes with a
    context that lacks them or answers nonsense: see :class:`LambdaOptions`)."""

    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class LambdaOptions:
    """How :func:`serve_lambda` runs and reads events."""

    #: Where the gRPC server's unix socket goes (Lambda: only /tmp is writable).
    socket_dir: str = "/tmp"
    #: Seconds kept back from the invocation's remaining time for the call's
    #: deadline, so a slow call ends as 504 before Lambda kills the process.
    deadline_margin: float = 0.5
    #: The longest deadline a call gets, in seconds: a remaining time above it
    #: (``10**15`` ms, infinity) is taken as this, and so is one the context cannot
    #: tell (no ``get_remaining_time_in_millis``, it raises, or answers something
    #: that is not a number, or NaN), or no context at all. Lambda's longest timeout.
    max_deadline: float = MAX_LAMBDA_TIMEOUT
    #: Strip a named HTTP API stage from the start of the path (``rawPath``, or
    #: ``path`` in payload 1.0; execute-api endpoints only).
    strip_stage: bool = True
    #: A custom-domain base path mapping to strip from every path (e.g. ``"v1"``).
    base_path: str = ""
    #: Response content types always sent base64-encoded (globs like ``"image/*"``);
    #: non-text types are base64-encoded anyway.
    binary_media_types: tuple[str, ...] = ()
    #: Enable gRPC server reflection on the socket (off: nothing outside the process dials
    #: it). With ``dispatch="direct"`` it starts the gRPC server on the socket for that
    #: alone (the gateway still calls in process).
    reflection: bool = False
    #: Worker threads for plain (non-async) servicers (in direct mode: only for plain
    #: servicers beside ``async def`` ones or under ``grpc.aio`` interceptors).
    max_workers: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.socket_dir, str) or not self.socket_dir:
            raise ValueError("LambdaOptions.socket_dir must be a directory path")
        for name in ("deadline_margin", "max_deadline"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"LambdaOptions.{name} must be a number of seconds")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"LambdaOptions.{name} must be finite and not negative")
        if self.max_deadline <= self.deadline_margin:
            raise ValueError("LambdaOptions.max_deadline must be longer than deadline_margin")
        if isinstance(self.max_workers, bool) or not isinstance(self.max_workers, int):
            raise TypeError("LambdaOptions.max_workers must be an int")
        if self.max_workers < 1:
            raise ValueError("LambdaOptions.max_workers must be at least 1")
        for name in ("strip_stage", "reflection"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"LambdaOptions.{name} must be a bool, not {getattr(self, name)!r}")
        if not isinstance(self.base_path, str):
            raise TypeError(f"LambdaOptions.base_path must be a str, not {self.base_path!r}")
        types: object = self.binary_media_types
        if isinstance(types, str):
            types = (types,)  # one type given bare, not its characters
        elif isinstance(types, Iterable):
            types = tuple(types)
        if not isinstance(types, tuple) or not all(isinstance(t, str) for t in types):
            raise TypeError(
                "LambdaOptions.binary_media_types must be a list of media types "
                f"(such as 'image/*'), not {self.binary_media_types!r}"
            )
        object.__setattr__(self, "binary_media_types", types)


def _token() -> str:
    # os.urandom, not secrets: the name needs no more, and secrets costs imports at init.
    return os.urandom(4).hex()


def socket_path(directory: str) -> Path:
    """A socket path for this process: ``<dir>/grpcgw-<pid>-<rand>.sock`` (see
    :func:`claim_socket_path` for one that nothing occupies)."""
    path = Path(directory) / f"grpcgw-{os.getpid()}-{_token()}.sock"
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise ValueError(
            f"unix socket path {str(path)!r} is longer than {MAX_SOCKET_PATH} bytes; "
            "give a shorter socket_dir"
        )
    return path


def claim_socket_path(directory: str) -> Path:
    """A fresh socket path in ``directory`` at which nothing exists.

    grpcio removes whatever is at a unix socket path before it binds there, so a
    name that is taken (a live server's socket, or any file) is never used: another
    is drawn. Raises :class:`OSError` if :data:`_SOCKET_NAME_ATTEMPTS` draws are all
    taken (something is filling the directory with our names).
    """
    for _ in range(_SOCKET_NAME_ATTEMPTS):
        path = socket_path(directory)
        try:
            path.lstat()
        except FileNotFoundError:
            return path
        what = "a live socket" if _listening(path) else "a file"
        log.warning("%s is taken (%s): choosing another socket name", path, what)
    raise OSError(
        errno.EEXIST,
        f"no free socket name in {directory} after {_SOCKET_NAME_ATTEMPTS} attempts",
    )


def _remove_stale_sockets(directory: str) -> None:
    """Remove sockets left by processes of ours that are gone (a crashed earlier runtime).

    A socket is stale when the process its name records does not exist *and*
    nothing listens on it: a process in another PID namespace sharing the
    directory (containers sharing /tmp) may look dead here while it serves.
    """
    # os.scandir, not Path.glob: the same names (grpcgw-*-*.sock) without building a
    # pattern and a Path per entry at every cold start.
    with os.scandir(directory) as entries:
        names = [e.name for e in entries if _our_socket_name(e.name)]
    for name in names:
        try:
            pid = int(name.split("-")[1])
        except ValueError:
            continue
        if not _alive(pid):
            old = Path(directory, name)
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(old.lstat().st_mode) and not _listening(old):
                    old.unlink()


def _our_socket_name(name: str) -> bool:
    """Whether ``name`` matches ``grpcgw-*-*.sock`` (what :func:`socket_path` makes)."""
    return name.startswith("grpcgw-") and name.endswith(".sock") and "-" in name[7:-5]


def _listening(path: Path) -> bool:
    """Whether a server accepts connections on the unix socket at ``path``.

    Only a refused connection (or no file) says no: one that cannot be tried
    (no permission) or that is busy counts as live, so it is left alone.
    """
    with socket_mod.socket(socket_mod.AF_UNIX, socket_mod.SOCK_STREAM) as probe:
        probe.setblocking(False)
        code = probe.connect_ex(os.fsencode(path))
    return code not in (errno.ECONNREFUSED, errno.ENOENT, errno.ENOTSOCK)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LambdaHandler:
    """The Lambda handler :func:`serve_lambda` returns: ``handler(event, context) -> dict``."""

    def __init__(
        self,
        servicers: Sequence[ServiceLike],
        *,
        interceptors: Sequence[object] | None = (),
        lambda_options: LambdaOptions | None = None,
        dispatch: Dispatch = "socket",
        **config: Unpack[GatewayConfig],
    ) -> None:
        check_config(config, "serve_lambda")
        interceptors = check_interceptors(interceptors, "serve_lambda")
        check_instance(lambda_options, LambdaOptions, "lambda_options", "serve_lambda")
        #: How the gateway reaches the servicers: ``"socket"`` or ``"direct"``.
        self.dispatch: Dispatch = check_dispatch(dispatch, "serve_lambda")
        if not servicers:
            raise TypeError("serve_lambda() needs at least one servicer")
        self.services = [resolve_service(s) for s in servicers]
        # The access log is off unless asked for: Lambda logs every invocation
        # (START, END, REPORT) already.
        self._config = access_log_default(config, on=False)
        self.options = self._config.get("options") or GatewayOptions()
        if self.options.websocket:
            # Said, not refused: one configuration serves every front end (docs/options.md).
            log.warning(
                "GatewayOptions.websocket does not apply on Lambda: streaming methods "
                "are served over HTTP only (docs/streaming.md, WebSocket)"
            )
        self.lambda_options = lambda_options or LambdaOptions()
        self._event_options = EventOptions(
            strip_stage=self.lambda_options.strip_stage,
            base_path=self.lambda_options.base_path,
            binary_media_types=self.lambda_options.binary_media_types,
        )
        self._interceptors = interceptors
        self._max_deadline = float(self.lambda_options.max_deadline)
        self._margin = float(self.lambda_options.deadline_margin)
        self._warned_context = False
        self._pid = 0
        self._forks = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: GrpcServer | None = None
        self._gateway: Gateway | None = None
        self._invoker: BlockingInvoker | None = None
        self._direct: BlockingDispatch | None = None
        #: Runs an invocation's coroutine to its end on the invoking thread.
        self._run: Callable[[Coroutine[Any, Any, Any]], Any] = run_blocking
        #: The gRPC server's socket (``None`` in direct mode without reflection).
        self.socket: Path | None = None
        self.start()
        _register_snapstart_hooks(self)

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            raise RuntimeError("the Lambda handler is stopped")
        return self._gateway

    def start(self) -> None:
        """Compile the routes and start the way to the servicers (at init, and after a
        SnapStart restore): the gRPC server on a new socket and a channel to it, or
        direct dispatch."""
        if self.dispatch == "direct":
            self._start_direct()
        else:
            self._start_socket()
        # Everything built so far lives as long as the process: keep the cyclic
        # GC from scanning it again on every collection during invocations.
        gc.freeze()

    def _start_socket(self) -> None:
        opts = self.lambda_options
        path = self._claim_socket()
        # Routes first: a bad annotation fails the init before any thread or socket exists.
        # The blocking channel connects lazily, on the first call.
        # With the gateway's options (max_response_message above gRPC's 4 MiB,
        # connect_timeout), as Gateway(target=) opens its channel.
        channel = open_blocking_channel(
            f"unix://{path}", options=gateway_channel_options(self.options)
        )
        invoker = BlockingInvoker(channel)
        try:
            gateway = Gateway(
                [s.descriptor for s in self.services], invoker=invoker, **self._config
            )
            self._start_server(
                path,
                # Nothing outside the process can dial the socket: health checks
                # are only asked for through health_path.
                add_health=bool(self.options.health_path),
                reflection=opts.reflection,
            )
        except BaseException:
            run_blocking(invoker.aclose())
            raise
        self._invoker, self._gateway, self._run = invoker, gateway, run_blocking
        self._pid, self._forks = os.getpid(), _forks

    def _start_direct(self) -> None:
        from grpcgw.dispatch import BlockingDispatch

        opts = self.lambda_options
        # Routes and handlers first: nothing to undo if an annotation is bad.
        direct = BlockingDispatch(
            self.services,
            interceptors=self._interceptors,
            max_workers=opts.max_workers,
            max_response_message=self.options.max_response_message,
            add_health=bool(self.options.health_path),
        )
        try:
            gateway = Gateway(
                [s.descriptor for s in self.services], invoker=direct.invoker, **self._config
            )
            if opts.reflection:
                # For gRPC clients in the sandbox (grpcurl in a container under the
                # runtime interface emulator): the gateway itself calls in process.
                self._start_server(self._claim_socket(), add_health=False, reflection=True)
        except BaseException:
            direct.close()
            raise
        self._direct, self._gateway, self._run = direct, gateway, direct.run
        self._pid, self._forks = os.getpid(), _forks
        log.info(
            "serving in process (direct dispatch: %s)",
            "inline" if direct.inline else "on a private event loop",
        )

    def _claim_socket(self) -> Path:
        directory = self.lambda_options.socket_dir
        Path(directory).mkdir(parents=True, exist_ok=True)
        _remove_stale_sockets(directory)
        return claim_socket_path(directory)

    def _start_server(self, path: Path, *, add_health: bool, reflection: bool) -> None:
        """Start the servicers in a real gRPC server on ``path``, on a loop of its own
        in a thread of its own."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=_run_forever, args=(loop,), name="grpcgw-grpc-server", daemon=True
        )
        thread.start()
        # A umask makes the socket 0600 from the moment it exists (no chmod race).
        old_umask = os.umask(0o177)
        try:
            server = asyncio.run_coroutine_threadsafe(
                GrpcServer.start(
                    self.services,
                    f"unix://{path}",
                    interceptors=self._interceptors,
                    reflection=reflection,
                    max_workers=self.lambda_options.max_workers,
                    add_health=add_health,
                    # Plain servicers answer the blocking call from the threaded
                    # server's pool directly, with no event loop in between.
                    prefer_threaded=True,
                ),
                loop,
            ).result()
        except BaseException:
            _end_loop(loop, thread)
            raise
        finally:
            os.umask(old_umask)
        self._loop, self._thread, self._server, self.socket = loop, thread, server, path
        log.info("gRPC server listening on unix://%s", path)

    def stop(self) -> None:
        """Stop the server, close the channel and the loop, remove the socket (direct
        mode: shut the dispatch's pool and loop down)."""
        loop, thread, server, invoker = self._loop, self._thread, self._server, self._invoker
        direct = self._direct
        self._loop = self._thread = self._server = self._gateway = self._invoker = None
        self._direct = None
        if direct is not None:
            direct.close()  # a forked child's own loop and pool only (they are per process)
        if self._pid != os.getpid():
            return  # a forked child: the server, channel and socket are the parent's
        if invoker is not None:
            run_blocking(invoker.aclose())
        if loop is not None and thread is not None and thread.is_alive():
            if server is not None:
                asyncio.run_coroutine_threadsafe(server.stop(0), loop).result()
            _end_loop(loop, thread)
        if self.socket is not None:
            with contextlib.suppress(FileNotFoundError):
                self.socket.unlink()

    def _ensure_started(self) -> None:
        if self._gateway is None:
            self.start()
        elif self._forks != _forks and self._server is not None:
            # os.getpid() is a system call on every invocation: _forks is not. Direct
            # dispatch without a server survives a fork (its loop and pool are made
            # per process); a gRPC server or channel does not.
            # grpcio's core does not survive fork() once its threads run: a call from
            # here would hang. awslambdaric's multi-concurrency mode forks its workers
            # before it imports the handler module, so each builds its own handler.
            raise RuntimeError(
                f"this serve_lambda handler was started in process {self._pid} and is "
                f"called in process {os.getpid()}, a fork of it: gRPC cannot be used "
                "across fork(). Create the handler in the process that calls it (import "
                "the handler module after forking)."
            )

    def __call__(
        self, event: Mapping[str, Any], context: LambdaContext | None = None
    ) -> dict[str, Any]:
        """Serve one Lambda HTTP event.

        Every answer is a response dict in the event source's shape: a field of
        the wrong type or value answers ``400``, anything that goes wrong inside
        ``500``, each with a ``google.rpc.Status`` body. Only an event that is not
        an HTTP event of a known source raises (``EventSourceError``).
        """
        gateway = self._gateway
        if gateway is None or self._forks != _forks:
            self._ensure_started()
            gateway = self.gateway
        source = detect(event, self._event_options)
        request_id = self._request_id(context)
        try:
            request = source.request(
                ((REQUEST_ID_KEY, request_id),) if request_id else (),
                self._deadline(context),
                request_id,
            )
        except InvalidEventError as exc:
            log.warning("bad %s event: %s", source.name, exc)
            return self._error(source, GatewayError(Code.INVALID_ARGUMENT, str(exc)))
        if request.body:
            encoding = content_encoding(request.headers)
            if encoding is not None:
                try:
                    request = self._decoded(gateway, request, encoding)
                except GatewayError as exc:
                    return source.response(gateway.error(request, exc))
        try:
            # run_blocking (socket mode, or plain servicers called inline): the gateway's
            # coroutines never suspend; else the dispatch's private loop runs them.
            response = self._run(gateway.handle_buffered(request))
            answer = source.response(response)
            body = answer.get("body")
            # A character takes at most 12 bytes in the runtime's JSON (an escaped
            # surrogate pair): shorter bodies always fit, and cost no measuring.
            if body is not None and len(body) > source.max_response // 12:
                answer = self._fitted(gateway, source, request, answer)
            return answer
        except Exception:
            log.exception("internal error serving %s event", source.name)
            return self._error(source, GatewayError(Code.INTERNAL, "internal gateway error"))

    @staticmethod
    def _decoded(gateway: Gateway, request: HttpRequest, encoding: str) -> HttpRequest:
        """``request`` with its body decoded from ``encoding``, as aiohttp decodes one
        over HTTP (AWS passes it on compressed). A body that cannot be is refused
        only on a path that routes: over HTTP, routing answers before the body."""
        try:
            body = decode_body(request.body, encoding, gateway.options.max_request_body)
        except GatewayError:
            try:
                gateway.match(request.method, request.path, request.headers)
            except GatewayError:
                return request  # the gateway answers its 404 or 405
            raise
        return replace(request, body=body)

    @staticmethod
    def _fitted(
        gateway: Gateway, source: EventSource, request: HttpRequest, answer: dict[str, Any]
    ) -> dict[str, Any]:
        """``answer``, or, if the runtime's JSON of it is larger than the event source
        takes, a ``RESOURCE_EXHAUSTED`` error: Lambda would fail the invocation
        (``Function.ResponseSizeTooLarge``) and API Gateway answer a bare 502."""
        size = response_size(answer)
        if size <= source.max_response:
            return answer
        limit = source.max_response
        log.warning(
            "the reply to %s %r is %d bytes as a Lambda response, more than the %d that %s "
            "takes: answered 429 RESOURCE_EXHAUSTED (large payloads belong in S3; "
            "docs/lambda.md, Limits)",
            request.method,
            request.path,
            size,
            limit,
            "an ALB" if source.name == "alb" else "Lambda",
        )
        error = GatewayError(
            Code.RESOURCE_EXHAUSTED,
            f"reply too large for a Lambda response: {size} bytes, at most {limit}",
        )
        return source.response(gateway.error(request, error))

    def _error(self, source: EventSource, error: GatewayError) -> dict[str, Any]:
        response: HttpResponse = error_response(error)
        return source.response(response)

    @staticmethod
    def _request_id(context: object) -> str | None:
        """The invocation's request id (also sent as ``x-lambda-request-id`` metadata),
        unless the context has none that gRPC metadata can carry (printable ASCII)."""
        try:
            request_id = context.aws_request_id  # type: ignore[attr-defined]
        except Exception:
            return None
        if type(request_id) is str and request_id.isascii() and request_id.isprintable():
            return request_id or None
        return None

    def _deadline(self, context: object) -> float:
        """The call's deadline in seconds: the invocation's remaining time, at most
        ``max_deadline``, less ``deadline_margin`` (at least a millisecond)."""
        cap = self._max_deadline
        try:
            ms = context.get_remaining_time_in_millis()  # type: ignore[attr-defined]
        except Exception:
            ms = None
        if type(ms) is int:  # what awslambdaric answers
            seconds = ms / 1000.0 if ms < cap * 1000.0 else cap
        else:
            seconds = self._unusual_remaining(ms, context)
        return max(seconds - self._margin, 0.001)

    def _unusual_remaining(self, ms: object, context: object) -> float:
        cap = self._max_deadline
        if isinstance(ms, int | float) and not isinstance(ms, bool) and not math.isnan(ms):
            return min(float(ms) / 1000.0, cap) if ms < cap * 1000.0 else cap
        if context is not None and not self._warned_context:
            self._warned_context = True  # once: the context answers the same every time
            log.warning(
                "the Lambda context tells no remaining time (%.40r): calls get a deadline "
                "of max_deadline (%s s)",
                ms,
                cap,
            )
        return cap


#: The runtimes whose awslambdaric writes responses with ``ensure_ascii=False`` (the
#: older ones escape every non-ASCII character: up to 12 bytes for one).
_UNESCAPED_RUNTIMES = frozenset(f"AWS_Lambda_python3.{minor}" for minor in range(12, 16))


def response_size(answer: Mapping[str, Any]) -> int:
    """The bytes of ``answer`` as the runtime posts it: awslambdaric's JSON, with its
    default separators and, on runtimes before python3.12, non-ASCII escaped."""
    ascii_only = os.environ.get("AWS_EXECUTION_ENV") not in _UNESCAPED_RUNTIMES
    return len(json.dumps(answer, ensure_ascii=ascii_only).encode())


#: How many times this process is a fork of the one that imported this module (a
#: child's count is its parent's plus one): a handler started before a fork sees it.
_forks = 0


def _count_fork() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_count_fork)


def _run_forever(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


def _end_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


def _register_snapstart_hooks(handler: LambdaHandler) -> None:
    """SnapStart: no socket or server may survive into a snapshot; restart after restore."""
    try:
        from snapshot_restore_py import (
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return
    register_before_snapshot(handler.stop)
    register_after_restore(handler.start)


def serve_lambda(
    *servicers: ServiceLike,
    interceptors: Sequence[object] | None = (),
    lambda_options: LambdaOptions | None = None,
    dispatch: Dispatch = "socket",
    **config: Unpack[GatewayConfig],
) -> LambdaHandler:
    """Serve ``servicers`` on AWS Lambda; assign the result to the module's ``handler``.

    At init, compiles the ``google.api.http`` routes and starts the servicers in
    a real gRPC server (with ``interceptors``) on a unix socket in /tmp; each
    invocation answers an API Gateway (REST or HTTP API), function URL, ALB or
    VPC Lattice event in process::

        handler = grpcgw.serve_lambda(PingServicer(), interceptors=[AuthInterceptor()])

    Works on the managed Python runtime (``Handler: app.handler``) and in a
    container image run by ``python -m awslambdaric app.handler``.

    ``config`` is the :class:`~grpcgw.GatewayConfig` every front end takes
    (``options``, ``header_matcher``, ``outgoing_header_matcher``,
    ``outgoing_trailer_matcher``, ``response_hook``, ``error_hook``). The access
    log is off unless ``GatewayOptions(access_log=True)``; its lines go through
    the runtime's log handler (``AWS_LAMBDA_LOG_FORMAT``, ``AWS_LAMBDA_LOG_LEVEL``).

    ``dispatch="direct"`` calls the servicers in process instead, through the same
    interceptors, with no socket, server or thread: the same answers at a fraction
    of the cost per invocation (docs/dispatch.md lists what still differs, chiefly
    that a plain servicer runs on the invoking thread, so nothing cuts off one that
    overruns its deadline). ``"socket"`` is the default.
    """
    check_config(config, "serve_lambda")
    return LambdaHandler(
        servicers,
        interceptors=interceptors,
        lambda_options=lambda_options,
        dispatch=dispatch,
        **config,
    )
