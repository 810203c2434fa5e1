"""Direct dispatch for a caller with no event loop of its own: the Lambda handler.

``serve_lambda`` drives the gateway with :func:`~grpcgw.channel.run_blocking`
today: coroutines that never suspend, over a blocking channel to a real server
on another thread. With direct dispatch there is no server:

- plain servicers (and ``grpc.ServerInterceptor`` interceptors, or none) run
  *inline*, on the invoking thread, under a threaded ``grpc.server``'s rules:
  the coroutines still never suspend, so ``run_blocking`` drives them with no
  event loop, no thread hop, no pool;
- ``async def`` servicers (or ``grpc.aio`` interceptors) need a running loop:
  a private one, made for this process on first use and kept, runs each
  invocation on the invoking thread as ``run_until_complete`` would (about 4 µs,
  against 65-75 µs for a hop to a loop on another thread: see
  :func:`run_until_complete`). Kept, it also keeps what servicers attach to it
  (client sessions, pools) between invocations, which Lambda freezes in between
  anyway.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from grpcgw.channel import run_blocking
from grpcgw.descriptors import ServiceInfo, ServiceLike
from grpcgw.dispatch._invoker import DirectInvoker, served
from grpcgw.grpcserver import server_kind

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


class BlockingDispatch:
    """A :class:`DirectInvoker` and the cheapest correct way to run a gateway's
    coroutines over it from a thread with no event loop (see the module docstring).

    >>> dispatch = BlockingDispatch([PingServicer()])                  # doctest: +SKIP
    >>> gateway = Gateway([PingServicer()], invoker=dispatch.invoker)  # doctest: +SKIP
    >>> response = dispatch.run(gateway.handle_buffered(request))      # doctest: +SKIP
    """

    def __init__(
        self,
        services: Sequence[ServiceLike | ServiceInfo],
        *,
        interceptors: Sequence[object] = (),
        max_workers: int = 4,
        options: Sequence[tuple[str, Any]] = (),
        max_response_message: int | None = None,
        add_health: bool = False,
    ) -> None:
        infos = served(services)
        #: Whether plain handlers run on the calling thread (no event loop at all).
        self.inline = server_kind(infos, interceptors, prefer_threaded=True) == "sync"
        self.invoker = DirectInvoker(
            infos,
            interceptors=interceptors,
            prefer_threaded=True,
            inline=self.inline,
            max_workers=max_workers,
            options=options,
            max_response_message=max_response_message,
            add_health=add_health,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0
        #: :data:`_forks` when the loop was made: the hot path's test that the loop is
        #: this process's (``os.getpid()`` is a system call, and a slow one in situ).
        self._forks = -1

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` (one that calls this invoker) to its end on this thread (on
        another while this thread runs an event loop: a test calling the handler)."""
        if self.inline:
            return run_blocking(coroutine)
        loop = self._loop
        if loop is not None and self._forks == _forks and asyncio._get_running_loop() is None:
            return run_until_complete(loop, coroutine)  # the common case, in fewer calls
        return _off_running_loop(self._run_on_own_loop, coroutine)

    def _run_on_own_loop(self, coroutine: Coroutine[Any, Any, T]) -> T:
        loop = self._loop
        if loop is None or self._pid != os.getpid():
            # A loop made before a fork would share its epoll descriptor with the
            # parent's: each process makes its own.
            loop = self._loop = asyncio.new_event_loop()
            self._pid, self._forks = os.getpid(), _forks
        return run_until_complete(loop, coroutine)

    def close(self) -> None:
        """Shut the invoker's pool and the loop down."""
        _off_running_loop(self._close)

    def _close(self) -> None:
        if self._loop is not None and self._pid == os.getpid():
            self._loop.run_until_complete(self.invoker.aclose())
            self._loop.close()
        else:
            run_blocking(self.invoker.aclose())
        self._loop = None


#: How many times this process is a fork of the one that imported this module.
_forks = 0


def _count_fork() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_count_fork)


def run_until_complete(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, T]) -> T:
    """``loop.run_until_complete(coroutine)``, one turn of the loop cheaper when the
    coroutine ends in its first step (a servicer that never suspends: most).

    ``run_until_complete`` learns that its task is done from a done callback,
    which takes a second turn of the loop to run (about 3 µs of its 7). Here the
    first turn runs alone (``stop()`` before ``run_forever()``: one turn, by
    asyncio's contract); the second runs only if it has work: callbacks that the
    first made ready, timers, or descriptors other than the loop's own to poll
    (then it is the very turn ``run_until_complete`` would have run, its
    callback aside). A task that suspends is left to ``run_until_complete``. A
    loop that is not asyncio's own (uvloop) always goes there.

    On a loop with nothing else to do (the Lambda handler's, between
    invocations) the first turn is :func:`_idle_turn`: what ``run_forever``'s
    turn does there, without its poll of the loop's own self-pipe.
    """
    if type(loop) is not _SELECTOR_LOOP:
        return loop.run_until_complete(coroutine)
    idle = _HAND_TURN and _is_idle(loop)
    task: asyncio.Task[T]
    if idle and loop._task_factory is None:  # type: ignore[attr-defined]  # get_task_factory()
        task = _Task(coroutine, loop=loop)  # what create_task() does then (not in debug mode)
    else:
        task = loop.create_task(coroutine)
    try:
        if idle:
            _idle_turn(loop)
        else:
            loop.stop()
            loop.run_forever()  # one turn: the task's first step (after what was ready before it)
        if not task.done():
            return loop.run_until_complete(task)
        if _has_work(loop):
            loop.stop()
            loop.run_forever()
    except BaseException:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" in the log
        raise
    return task.result()


#: The loop class of asyncio's default policy on POSIX; its turn is known to the letter.
_SELECTOR_LOOP: Any = getattr(asyncio, "SelectorEventLoop", None)
_Task: Any = asyncio.Task
#: :func:`_idle_turn` writes out ``run_forever``'s set-up as the Pythons grpcgw is
#: tested on have it (3.11-3.14); a newer one may change it: it gets asyncio's own turn.
_HAND_TURN = sys.version_info < (3, 15)


#: Python 3.13's own set-up of ``run_forever`` (and its clean-up), if this one has it.
_RUN_FOREVER_SETUP = hasattr(_SELECTOR_LOOP, "_run_forever_setup")


def _has_work(loop: Any) -> bool:
    """Whether a turn of ``loop`` (a ``SelectorEventLoop``) could run anything: a
    ready callback, a timer, or an event on a descriptor besides its self-pipe."""
    if loop._ready or loop._scheduled:
        return True
    # The selector's own map where it is the standard library's (no two calls to
    # build a view of it); get_map() for any other.
    fds = getattr(loop._selector, "_fd_to_key", None)
    return (len(fds) if type(fds) is dict else len(loop._selector.get_map())) > 1


def _is_idle(loop: Any) -> bool:
    """Whether ``loop`` (a ``SelectorEventLoop``, not running) has nothing to do, is not
    in debug mode (whose turn times callbacks) and runs in no thread."""
    return not (loop._debug or loop._thread_id is not None or _has_work(loop))


def _idle_turn(loop: Any) -> None:
    """One turn of an idle loop (:func:`_is_idle`) given the callbacks now ready: what
    ``loop.stop(); loop.run_forever()`` does there, less the poll.

    ``run_forever`` makes the loop this thread's running loop (with its async
    generator hooks and thread id), and its turn polls the selector (without
    waiting: the loop is stopping), moves due timers to the ready queue and runs
    the callbacks ready then. On an idle loop there are no timers and the only
    descriptor is the loop's self-pipe, whose byte only says that another thread
    made a callback ready (``call_soon_threadsafe``): the callback is in the queue
    already, and the byte is read on the next poll (:func:`_has_work` sees the
    callback and runs that turn). Python 3.13's own set-up and clean-up of
    ``run_forever`` are used where they exist; before, they are written out here
    as 3.11 and 3.12 write them.
    """
    # Looked up on the class once: getattr() with a default costs an AttributeError
    # (about 2,000 instructions) on every call where the method does not exist.
    setup = loop._run_forever_setup if _RUN_FOREVER_SETUP else None
    old_hooks: Any = None
    if setup is not None:
        setup()
    else:
        # _check_closed() and _check_running(), written out: the loop is idle, so it
        # runs in no thread; only another loop running in this one can be in the way.
        if loop._closed:
            raise RuntimeError("Event loop is closed")
        if asyncio.events._get_running_loop() is not None:
            raise RuntimeError("Cannot run the event loop while another loop is running")
        old_hooks = sys.get_asyncgen_hooks()
        loop._thread_id = threading.get_ident()
        sys.set_asyncgen_hooks(
            firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
        )
        asyncio.events._set_running_loop(loop)
    try:
        ready = loop._ready
        for _ in range(len(ready)):
            handle = ready.popleft()
            if not handle._cancelled:
                handle._run()
    finally:
        if setup is not None:
            loop._run_forever_cleanup()
        else:
            loop._stopping = False
            loop._thread_id = None
            asyncio.events._set_running_loop(None)
            sys.set_asyncgen_hooks(*old_hooks)


def _off_running_loop(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """``function(*args)``, on another thread if this one runs an event loop (a loop
    cannot be run from inside another: a test that calls a Lambda handler does)."""
    if asyncio._get_running_loop() is None:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(1, thread_name_prefix="grpcgw-dispatch") as thread:
        return thread.submit(function, *args, **kwargs).result()
