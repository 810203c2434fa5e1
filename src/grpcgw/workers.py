"""Worker processes for ``serve_local(workers=N)`` and ``grpcgw proxy --workers N``: a
supervisor that forks, watches and stops them.

One Python process serves on about one core (the GIL). With ``workers=N`` the
process that called ``serve_local`` becomes a supervisor: it forks ``N``
workers, each running the whole ``serve_local`` pair on its own copy of the
servicers, and does nothing else itself (the proxy's workers are each a whole
proxy: :mod:`grpcgw.proxy._workers`).

- **Fork, before gRPC starts.** ``serve_local`` is given servicer *instances*,
  which only a fork hands to another process as they are (gunicorn's
  ``--preload``). ``import grpc`` starts no thread; a gRPC channel or server
  does (``event_engine``, ``grpc_global_timer``, ``lifeguard``), and gRPC's
  state does not survive a fork: a channel used before the fork fails in the
  child ("Wrong file descriptor generation"). :func:`check_fork_safe` refuses
  to fork once such threads run, naming them.
- **Start-up.** Each worker reports on a pipe of its own that it serves, or why
  it could not; the supervisor waits for all of them, ``_START_TIMEOUT``
  seconds at most each (one still not serving then is killed: it failed). One
  that fails stops the others, and :meth:`Supervisor.run` raises
  :class:`WorkersError` with its reason.
- **Running.** Once all have started, a worker that dies (a restarted one
  too, before it serves) is logged and started again, at most
  ``_RESTART_BURST`` times in ``_RESTART_WINDOW`` seconds: beyond that the
  supervisor stops everything and raises (a crash loop does not spin).
- **Stopping.** SIGTERM, SIGINT or SIGHUP to the supervisor sends SIGTERM to
  every worker, which drains as ``serve_local`` does. A second signal kills them
  (SIGKILL) at once; :attr:`Supervisor.forced` then names it, and
  ``serve_local`` ends the process by it (:func:`end_by_signal`).
  Other signals may be passed on to the workers (the proxy's SIGHUP, a reload).
  Each worker also watches a pipe whose other end only the supervisor holds:
  when the supervisor dies, however it dies, the pipe ends and the workers stop
  (no orphans).

Every line grpcgw's formatters write says which process wrote it (the
supervisor, or worker N, and its pid: :func:`grpcgw.logs.tag_process`).

POSIX only (``os.fork``); the standard library only (and grpcgw's stdlib-only logs).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import selectors
import signal
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from grpcgw.listen import bind_every_address
from grpcgw.logs import tag_process, untag_process

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "Supervisor",
    "Worker",
    "WorkersError",
    "check_fork_safe",
    "check_workers",
    "end_by_signal",
    "max_workers",
    "reserve_tcp_port",
    "signal_note",
    "stop_signal_handler",
    "stop_signals_handled",
]

log = logging.getLogger("grpcgw")

#: At most this many restarts of workers within ``_RESTART_WINDOW`` seconds.
_RESTART_BURST = 5
_RESTART_WINDOW = 60.0
#: Seconds a stopping worker gets beyond twice ``grace`` (its HTTP side drains for
#: ``grace``, then its gRPC server gives its callers ``grace``) before it is killed.
_STOP_MARGIN = 10.0
#: Seconds a (re)started worker gets to serve (call ``ready()``) before it is killed:
#: a worker stuck at start-up (a lock held by another thread at the fork, a name that
#: does not resolve) must not keep the supervisor waiting for ever.
_START_TIMEOUT = 60.0
#: The signals that stop ``serve_local`` and the supervisor (the first gracefully, a
#: second at once). SIGHUP too: its workers are forks of servicers already built,
#: so there is nothing to reload, and a terminal that closes sends it (docs/options.md);
#: unless the supervisor passes it on (``forward``: the proxy's reload).
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)
#: The signals the supervisor handles: blocked across a fork, so that one reaching a
#: new worker before it has reset their handlers is neither lost nor taken for the
#: supervisor's own (its handler writes to the supervisor's wakeup pipe).
_SIGNALS = (
    *STOP_SIGNALS,
    *([signal.SIGCHLD] if hasattr(signal, "SIGCHLD") else []),
)  # not on Windows
#: Names (``/proc/<pid>/task/*/comm``, 15 characters at most) of gRPC core's threads.
_GRPC_THREADS = ("event_engine", "grpc_", "lifeguard", "default-executo", "resolver-execu")


#: The cap on ``workers`` is 4 per CPU, and never below this.
_MIN_CAP = 64


def max_workers() -> int:
    """The most workers :func:`check_workers` allows on this machine."""
    return max(_MIN_CAP, 4 * (os.cpu_count() or 1))


class WorkersError(RuntimeError):
    """A worker could not start, or kept dying, or did not stop cleanly."""


def check_workers(workers: object, where: str = "") -> int:
    """``workers`` as a count of processes (1 or more), or a clear ``TypeError``/``ValueError``
    (its text begins ``where(): `` if ``where`` is given)."""
    at = f"{where}(): " if where else ""
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise TypeError(f"{at}workers must be a whole number of processes, not {workers!r}")
    if workers < 1:
        raise ValueError(f"{at}workers must be 1 or more, not {workers}")
    if workers > max_workers():
        # Each worker is a whole Python process: a typo (100000) would fork until
        # memory runs out before anything could say so.
        raise ValueError(
            f"{at}workers={workers} is more than {max_workers()} "
            f"(4 per CPU, at least {_MIN_CAP}): one per CPU is what helps"
        )
    if workers > 1 and not hasattr(os, "fork"):
        raise ValueError(f"{at}workers={workers} needs os.fork (POSIX systems)")
    return workers


def _threads() -> list[str]:
    """The names of this process's other threads (empty where /proc is not)."""
    me = str(_gettid())
    names = []
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return []
    for task in tasks:
        if task == me:
            continue
        try:
            with open(f"/proc/self/task/{task}/comm") as f:
                names.append(f.read().strip())
        except OSError:  # ended meanwhile
            continue
    return names


def _gettid() -> int:
    gettid = getattr(os, "gettid", None)
    return int(gettid()) if gettid is not None else os.getpid()


def check_fork_safe(where: str) -> None:
    """Raise :class:`WorkersError` if gRPC already runs in this process (a fork would
    hand the workers a broken copy of it); log other threads, which a fork drops."""
    threads = _threads()
    grpc_threads = sorted({t for t in threads if t.startswith(_GRPC_THREADS)})
    if grpc_threads:
        raise WorkersError(
            f"{where}: gRPC already runs in this process (its threads: "
            f"{', '.join(grpc_threads)}), so it cannot fork workers: a gRPC channel, stub or "
            "server was made before the fork. Make what a servicer dials when it is "
            "first used (after the fork, in each worker), not in its constructor; "
            "see docs/workers.md"
        )
    if threads:
        log.warning(
            "%s: %d other thread(s) run in this process (%s); the workers get none of "
            "them (only the thread that forks goes on in a child)",
            where,
            len(threads),
            ", ".join(sorted(set(threads))),
        )


def reserve_tcp_port(host: str, port: int) -> tuple[int, list[socket.socket]]:
    """Bind (without listening) ``host:port`` with ``SO_REUSEPORT``, on every address
    of ``host`` this machine has (:func:`grpcgw.listen.bind_every_address`), so that
    workers can listen there too with ``SO_REUSEPORT``; port 0 is resolved here, once.
    Returns the port and the sockets, which the caller keeps open while workers may
    bind (nobody else can take the port meanwhile) and closes at the end. Raises
    ``OSError`` naming the address (in use, say)."""
    if not hasattr(socket, "SO_REUSEPORT"):
        raise OSError(errno.EOPNOTSUPP, "several workers need SO_REUSEPORT, which this OS lacks")
    sockets = bind_every_address(host, port, reuse_port=True)
    return sockets[0].getsockname()[1], sockets


@dataclass
class Worker:
    """What a worker process is given: its number and its two pipes to the supervisor."""

    #: 1 to N; a restarted worker keeps the number of the one it replaces.
    number: int
    #: Read end of the pipe only the supervisor writes to: readable (EOF) once it is gone.
    lifeline: int
    _status: int = field(repr=False)

    def ready(self) -> None:
        """Tell the supervisor this worker serves."""
        _write(self._status, b"ready\n")

    def orphaned(self) -> bool:
        """Whether the supervisor is gone (the lifeline has ended)."""
        poll = select.poll()
        poll.register(self.lifeline, select.POLLIN)
        return bool(poll.poll(0))

    def watch_lifeline(self, loop: asyncio.AbstractEventLoop, stop: Callable[[], object]) -> None:
        """Call ``stop`` in ``loop`` once the supervisor is gone, however it ended."""

        def supervisor_gone() -> None:  # EOF: readable for good; stop watching
            loop.remove_reader(self.lifeline)
            log.warning("worker %d: the supervisor is gone; stopping", self.number)
            stop()

        loop.add_reader(self.lifeline, supervisor_gone)

    def failed(self, reason: str) -> None:
        # Its lines kept (the supervisor reads to EOF): every bad rule on a line of its own.
        _write(self._status, b"error " + reason.encode("utf-8", "replace"))


def _write(fd: int, data: bytes) -> None:
    with contextlib.suppress(OSError):  # the supervisor is gone: nothing to tell
        os.write(fd, data)


@dataclass
class _Slot:
    number: int
    pid: int = 0
    status_fd: int = -1
    ready: bool = False
    message: bytes = b""
    killed: bool = False
    #: When it must have called ready() (monotonic), and whether it was killed for not.
    start_deadline: float = 0.0
    late: bool = False


class Supervisor:
    """Runs ``workers`` processes of ``body`` until a stop signal (see the module docstring).

    ``body(worker)`` runs in each forked worker: it must call ``worker.ready()``
    once it serves, stop when ``worker.lifeline`` becomes readable or on SIGTERM,
    and return (exit status 0) or raise (the exception's text is the reason the
    supervisor reports). ``close_in_workers`` are descriptors the workers must not
    keep (the supervisor's port reservations). ``forward`` are signals the supervisor
    passes on to every worker while they run (ignored by a worker until ``body`` sets
    its own handler: one that has not served yet has nothing to act on).
    """

    def __init__(
        self,
        workers: int,
        body: Callable[[Worker], None],
        *,
        grace: float,
        close_in_workers: Iterable[int] = (),
        start_timeout: float | None = None,
        forward: Iterable[int] = (),
    ) -> None:
        self._n = workers
        self._forward = tuple(forward)
        #: What the supervisor handles: blocked across a fork (see _SIGNALS).
        self._handled = tuple(dict.fromkeys((*_SIGNALS, *self._forward)))
        #: What stops it: a signal it passes on does not.
        self._stops = tuple(sig for sig in STOP_SIGNALS if sig not in self._forward)
        self._start_timeout = _START_TIMEOUT if start_timeout is None else start_timeout
        self._body = body
        self._grace = grace
        self._close_in_workers = list(close_in_workers)
        self._slots = [_Slot(i + 1) for i in range(workers)]
        self._restarts: deque[float] = deque()
        self._selector: selectors.BaseSelector | None = None
        self._lifeline_r = self._lifeline_w = -1
        self._wake_r = self._wake_w = -1
        self._stopping = False
        #: Every worker has served once: from then on a death before ready() is a crash
        #: (restarted within the budget), not a failed start-up.
        self._started = False
        self._stop_deadline = 0.0
        self._error: str | None = None
        self._forced = 0

    @property
    def forced(self) -> int:
        """The signal that forced the stop (a second one, which killed the workers), or 0."""
        return self._forced

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self._slots if s.pid]

    def run(self, on_ready: Callable[[list[int]], None] | None = None) -> None:
        """Start the workers, call ``on_ready(pids)`` once all serve, supervise until a
        signal stops them, and return once all have exited. Raises
        :class:`WorkersError` when one fails to start, crash-loops, or does not stop
        cleanly (the others are stopped first)."""
        self._lifeline_r, self._lifeline_w = os.pipe()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        previous = {sig: signal.signal(sig, _note) for sig in self._handled}
        old_wakeup = signal.set_wakeup_fd(self._wake_w)
        tag_process(None)  # the lines of several processes meet on one stream
        try:
            log.info("supervisor (pid %d) starting %d workers", os.getpid(), self._n)
            for slot in self._slots:
                self._spawn(slot)
            started = False
            while not self._done():
                if not started and all(s.ready for s in self._slots) and not self._stopping:
                    started = self._started = True
                    if on_ready is not None:
                        on_ready(self.pids)
                self._step()
        finally:
            untag_process()
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._kill_all(signal.SIGKILL)  # only if something above raised
            self._reap_all()
            self._selector.close()
            for fd in (self._lifeline_r, self._lifeline_w, self._wake_r, self._wake_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
            for slot in self._slots:
                self._close_status(slot)
        if self._error is not None:
            raise WorkersError(self._error)

    # -- the loop -------------------------------------------------------------------------

    def _done(self) -> bool:
        return self._stopping and not any(s.pid for s in self._slots)

    def _step(self) -> None:
        assert self._selector is not None
        deadlines = [s.start_deadline for s in self._slots if s.pid and not s.ready and not s.late]
        if self._stopping:
            deadlines.append(self._stop_deadline)
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        for key, _ in self._selector.select(timeout):
            fd = key.fd
            if fd == self._wake_r:
                self._signals()
            else:
                self._status(fd)
        self._reap()
        now = time.monotonic()
        for slot in self._slots:
            if slot.pid and not slot.ready and not slot.late and now >= slot.start_deadline:
                # Stuck before serving: SIGTERM may not reach a loop that is not running.
                slot.late = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.pid, signal.SIGKILL)
        if self._stopping and now >= self._stop_deadline and self.pids:
            log.warning(
                "workers still running %g s after SIGTERM: killing them", self._stop_timeout()
            )
            self._kill_all(signal.SIGKILL)
            self._stop_deadline = time.monotonic() + 3600

    def _signals(self) -> None:
        try:
            data = os.read(self._wake_r, 512)
        except BlockingIOError:
            return
        for sig in data:
            if sig in self._stops:
                if self._stopping:
                    if not self._forced:
                        self._forced = sig
                        log.warning(
                            "second signal (%s): killing the workers", signal.Signals(sig).name
                        )
                    self._kill_all(signal.SIGKILL)
                else:
                    log.info("shutting down %d workers%s", len(self.pids), signal_note(sig))
                    self._stop()
            elif sig in self._forward and not self._stopping:
                log.info("%s: passed on to %d workers", signal.Signals(sig).name, len(self.pids))
                self._kill_all(sig)

    def _stop(self, error: str | None = None) -> None:
        if error is not None and self._error is None:
            self._error = error
        if not self._stopping:
            self._stopping = True
            self._stop_deadline = time.monotonic() + self._stop_timeout()
            self._kill_all(signal.SIGTERM)

    def _stop_timeout(self) -> float:
        return 2 * self._grace + _STOP_MARGIN

    def _status(self, fd: int) -> None:
        slot = next((s for s in self._slots if s.status_fd == fd), None)
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if slot is None:
            return
        if data:
            slot.message += data
            if slot.message.startswith(b"ready\n"):
                # What follows "ready" in the same read (an error a moment later) is kept.
                slot.ready, slot.message = True, slot.message[6:]
            return
        self._close_status(slot)  # EOF: the worker exited (reaped by _reap)

    def _reap(self) -> None:
        for slot in self._slots:
            if not slot.pid:
                continue
            try:
                pid, status = os.waitpid(slot.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = slot.pid, 0
            if pid == 0:
                continue
            self._exited(slot, status)

    def _exited(self, slot: _Slot, status: int) -> None:
        code = os.waitstatus_to_exitcode(status)
        pid, slot.pid = slot.pid, 0
        with contextlib.suppress(OSError):
            while True:  # the rest of what it said before it ended
                data = os.read(slot.status_fd, 4096) if slot.status_fd >= 0 else b""
                if not data:
                    break
                slot.message += data
        if slot.message.startswith(b"ready\n"):
            slot.ready, slot.message = True, slot.message[6:]
        self._close_status(slot)
        how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        if self._stopping:
            # One still starting may die of the SIGTERM (its handlers are not set yet).
            if code != 0 and not slot.killed and slot.ready:
                self._stop(f"worker {slot.number} (pid {pid}) did not stop cleanly: {how}")
                log.error("worker %d (pid %d) did not stop cleanly: %s", slot.number, pid, how)
            else:
                log.debug("worker %d (pid %d) stopped", slot.number, pid)
            return
        reason = slot.message.decode("utf-8", "replace").removeprefix("error ").strip()
        if slot.late and not slot.ready:
            reason = f"not serving {self._start_timeout:g} s after it was started (killed)"
        if not slot.ready and not self._started:
            self._stop(f"worker {slot.number} failed to start: {reason or how}")
            return
        if reason:
            how = f"{how}: {reason}"
        now = time.monotonic()
        while self._restarts and now - self._restarts[0] > _RESTART_WINDOW:
            self._restarts.popleft()
        if len(self._restarts) >= _RESTART_BURST:
            self._stop(
                f"workers keep dying: {len(self._restarts) + 1} exits within "
                f"{_RESTART_WINDOW:.0f} s, the last worker {slot.number} (pid {pid}), {how}"
            )
            log.error("worker %d (pid %d) exited (%s); not restarting it", slot.number, pid, how)
            return
        self._restarts.append(now)
        log.error(
            "worker %d (pid %d) exited unexpectedly (%s); restarting it", slot.number, pid, how
        )
        self._spawn(slot)

    def _close_status(self, slot: _Slot) -> None:
        if slot.status_fd >= 0:
            assert self._selector is not None
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(slot.status_fd)
            with contextlib.suppress(OSError):
                os.close(slot.status_fd)
            slot.status_fd = -1

    def _kill_all(self, sig: int) -> None:
        for slot in self._slots:
            if slot.pid:
                slot.killed = slot.killed or sig == signal.SIGKILL
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.pid, sig)

    def _reap_all(self) -> None:
        for slot in self._slots:
            if slot.pid:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(slot.pid, 0)
                slot.pid = 0

    # -- a worker -------------------------------------------------------------------------

    def _spawn(self, slot: _Slot) -> None:
        assert self._selector is not None
        status_r, status_w = os.pipe()
        slot.ready, slot.message, slot.killed, slot.late = False, b"", False, False
        slot.start_deadline = time.monotonic() + self._start_timeout
        _flush()
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, self._handled)
        try:
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                os.close(status_r)
                self._worker(slot.number, status_w, mask)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(status_w)
        os.set_blocking(status_r, False)
        slot.pid, slot.status_fd = pid, status_r
        self._selector.register(status_r, selectors.EVENT_READ)

    def _worker(self, number: int, status_w: int, mask: Iterable[int]) -> None:
        code = 1
        try:
            tag_process(number)
            # The supervisor's handlers and wakeup pipe go before its signals are
            # unblocked: one sent meanwhile is the worker's (SIG_DFL: it ends it).
            signal.set_wakeup_fd(-1)
            for sig in _SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            for forwarded in self._forward:
                signal.signal(forwarded, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            # The supervisor's descriptors: other workers' pipes, the selector, the
            # lifeline's write end (held by the supervisor alone, or it never ends).
            assert self._selector is not None
            with contextlib.suppress(OSError):
                self._selector.close()
            for fd in (
                self._lifeline_w,
                self._wake_r,
                self._wake_w,
                *(s.status_fd for s in self._slots),
                *self._close_in_workers,
            ):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            worker = Worker(number, self._lifeline_r, status_w)
            try:
                self._body(worker)
            except BaseException as exc:
                log.debug("worker %d failed", number, exc_info=True)
                worker.failed(f"{type(exc).__name__}: {exc}")
            else:
                code = 0
        finally:
            _flush()
            os._exit(code)


def signal_note(sig: int) -> str:
    """What the shutting-down line adds for ``sig``: SIGHUP may have been meant as a reload."""
    if sig != getattr(signal, "SIGHUP", None):
        return ""
    return " on SIGHUP (nothing is reloaded: start serve_local again for new code)"


def stop_signal_handler(
    stop: asyncio.Event, worker: Worker | None, received: list[int] | None = None
) -> Callable[[int], None]:
    """The handler of a stop signal in a server's process (``serve_local``, the proxy):
    the first sets ``stop`` (and is appended to ``received``); a second while draining
    ends one process at once by that signal (:func:`end_by_signal`). A worker ignores
    a second: its supervisor forces it, and after a Ctrl-C (sent to the whole process
    group) the supervisor's SIGTERM is a worker's second signal."""

    def handle(sig: int) -> None:
        if not stop.is_set():
            if received is not None:
                received.append(sig)
            stop.set()
        elif worker is None:
            # The drain may be stuck (a servicer's thread that never returns, calls
            # that ignore cancellation): stop now.
            log.warning(
                "second signal (%s): stopping at once, running calls cut",
                signal.Signals(sig).name,
            )
            end_by_signal(sig)

    return handle


@contextlib.contextmanager
def stop_signals_handled(
    loop: asyncio.AbstractEventLoop, handler: Callable[[int], None], worker: Worker | None
) -> Iterator[None]:
    """``handler(sig)`` on ``loop`` for each of :data:`STOP_SIGNALS` while the block runs.

    At its end, before the loop closes, the signals leave the loop's wakeup pipe:
    asyncio's ``close()`` shuts that pipe before it removes its handlers, and a
    signal between the two (a supervisor's SIGTERM to a worker whose sibling failed
    to start) is printed as a traceback. A process alone gets the default actions
    back (a later signal ends it, as a forced stop); a worker, whose supervisor
    forces it with SIGKILL, lets asyncio's handlers swallow the rest until then.
    """
    added: list[int] = []
    try:
        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
                loop.add_signal_handler(sig, handler, sig)
                added.append(sig)
        yield
    finally:
        if added:
            if worker is None:
                for sig in added:
                    loop.remove_signal_handler(sig)
            else:
                signal.set_wakeup_fd(-1)


def end_by_signal(sig: int) -> NoReturn:
    """End this process at once by ``sig``, as if nothing handled it: a forced stop.

    Its parent sees it killed by ``sig`` (a shell reports status 128 + ``sig``,
    130 for SIGINT, 143 for SIGTERM), as when a server re-raises the signal that
    stopped it (uvicorn does). Nothing else runs: no ``finally``, no ``atexit``.
    """
    _flush()
    signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
    signal.raise_signal(sig)
    os._exit(128 + sig)  # not reached: the default action of a stop signal ends the process


def _note(signum: int, frame: Any) -> None:
    """The supervisor's signal handler: the wakeup descriptor carries the signal."""


def _flush() -> None:
    for handler in logging.getLogger().handlers + logging.getLogger("grpcgw").handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
