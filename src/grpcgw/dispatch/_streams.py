"""The replies of a streaming call dispatched in process, handed to the gateway.

A streaming handler runs in a task (``async def``) or on a worker thread
(plain), a little ahead of the gateway, through a :class:`_Pipe`; inline, it
runs on the calling thread when the gateway asks for its first reply.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from google.protobuf.message import Message

from grpcgw.dispatch._call import Call
from grpcgw.errors import GatewayError
from grpcgw.invoker import Metadata, Requests

if TYPE_CHECKING:
    from grpcgw.dispatch._invoker import DirectInvoker, _Method

#: Replies a streaming handler may run ahead of the gateway (a real server's
#: flow-control window plays this part).
STREAM_AHEAD = 8


def in_fresh_context(function: Callable[..., Any], *args: Any) -> Any:
    # A threaded grpc.server runs each call (interceptors and handler) in a new, empty
    # contextvars.Context.
    return contextvars.Context().run(function, *args)


def copy_reply(message: Message) -> Message:
    """A copy of a streamed reply: the servicer may change the one it wrote."""
    copy = type(message)()
    copy.CopyFrom(message)
    return copy


async def iterate_on_thread(
    replies: Any,
    write: Callable[[Any], Any],
    call: Call,
    loop: asyncio.AbstractEventLoop,
    executor: Executor,
) -> None:
    """grpc.aio's way with a plain handler's reply generator: iterated on a worker
    thread, each reply written from the loop."""

    def produce() -> None:
        try:
            for reply in replies:
                if call.abort_exception is not None:
                    raise call.abort_exception
                asyncio.run_coroutine_threadsafe(write(reply), loop).result()
        finally:
            close = getattr(replies, "close", None)
            if close is not None:
                close()

    await loop.run_in_executor(executor, produce)


class Pipe:
    """Replies from a handler to the gateway, at most ``limit`` ahead, then the outcome.

    Used on the event loop only (threads reach it with ``call_soon_threadsafe``).
    """

    __slots__ = ("_ended", "_getter", "_head", "_items", "_limit", "_loop", "_putter", "closed")

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int = STREAM_AHEAD) -> None:
        self._loop = loop
        self._items: deque[Any] = deque()
        self._limit = limit
        self._getter: asyncio.Future[None] | None = None
        self._putter: asyncio.Future[None] | None = None
        self._head: asyncio.Future[None] | None = None
        self._ended = False
        self.closed = False

    async def put(self, message: Message) -> bool:
        """Queue a reply; ``False`` once the reader has gone."""
        while len(self._items) >= self._limit and not self.closed:
            self._putter = self._loop.create_future()
            await self._putter
        if self.closed:
            return False
        self._items.append(message)
        self._wake_getter()
        return True

    def end(self, outcome: GatewayError | None) -> None:
        if self._ended:
            return
        self._ended = True
        self._items.append(_End(outcome))
        self._wake_getter()
        self.head()

    async def get(self) -> Any:
        while not self._items:
            self._getter = self._loop.create_future()
            await self._getter
        item = self._items.popleft()
        putter = self._putter
        if putter is not None and not putter.done():
            putter.set_result(None)
        return item

    def _wake_getter(self) -> None:
        getter = self._getter
        if getter is not None and not getter.done():
            getter.set_result(None)

    def head(self) -> None:
        """The initial metadata is known (sent, or the call ended)."""
        head = self._head
        if head is not None and not head.done():
            head.set_result(None)

    def head_threadsafe(self) -> None:
        self._loop.call_soon_threadsafe(self.head)

    async def wait_head(self) -> None:
        if self._items or self._ended:
            return
        self._head = self._loop.create_future()
        await self._head

    def close(self) -> None:
        self.closed = True
        putter = self._putter
        if putter is not None and not putter.done():
            putter.set_result(None)


class _End:
    __slots__ = ("outcome",)

    def __init__(self, outcome: GatewayError | None) -> None:
        self.outcome = outcome


class DirectResponseStream:
    """The replies of a streaming call dispatched in process (a task or a worker)."""

    def __init__(
        self,
        invoker: DirectInvoker,
        method: _Method,
        call: Call,
        request: Requests,
    ) -> None:
        loop = asyncio.get_running_loop()
        self._call = call
        self._pipe = pipe = Pipe(loop)
        self._done = False
        self._task: asyncio.Task[None] | None = None
        self._future: asyncio.Future[None] | None = None
        if invoker.aio:
            self._task = loop.create_task(invoker._aio_stream(method, call, request, pipe))
        else:
            call.on_initial_metadata = pipe.head_threadsafe

            def emit(message: Message) -> bool:
                if not call.is_active() or pipe.closed:
                    return False
                try:
                    return asyncio.run_coroutine_threadsafe(pipe.put(message), loop).result()
                except (RuntimeError, asyncio.CancelledError):  # the loop is gone
                    return False

            def end(outcome: GatewayError | None) -> None:
                loop.call_soon_threadsafe(pipe.end, outcome)

            self._future = loop.run_in_executor(
                invoker._pool(),
                in_fresh_context,
                invoker._threaded_stream,
                method,
                call,
                request,
                emit,
                end,
            )
        self._timer = None
        if call.deadline is not None:
            self._timer = loop.call_at(loop.time() + (call.time_remaining() or 0.0), self._expire)

    def _expire(self) -> None:
        call = self._call
        if call.status_sent or call.cancelled:
            return
        call.cancel(expired=True, run_callbacks=self._task is None)
        self._pipe.close()
        self._pipe.end(call.ended_error())
        if self._task is not None:
            self._task.cancel()

    async def next(self) -> Message | None:
        if self._done:
            return None
        item = await self._pipe.get()
        refused = self._call.refused
        if refused is not None:  # the headers sent were over the channel's limit
            self._done = True
            self.cancel()
            refused.header_metadata = ()  # a stream's client reports none with it
            raise refused
        if isinstance(item, _End):
            self._done = True
            self._stop_timer()
            if item.outcome is not None:
                raise item.outcome
            return None
        message: Message = item
        return message

    async def header_metadata(self) -> Metadata:
        if self._call.initial_metadata is None:
            await self._pipe.wait_head()
        return self._call.header_metadata()

    def trailing_metadata(self) -> Metadata:
        return self._call.trailers() if self._done else ()

    def cancel(self) -> None:
        self._stop_timer()
        call = self._call
        if not (call.status_sent or call.cancelled):
            call.cancel(run_callbacks=self._task is None)
        self._pipe.close()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class InlineResponseStream:
    """The replies of a plain streaming handler run on the calling thread (``inline``).

    The handler runs to its end at the first :meth:`next` (the Lambda handler
    buffers the whole reply anyway); its replies, then its outcome, follow.
    """

    def __init__(
        self,
        invoker: DirectInvoker,
        method: _Method,
        call: Call,
        request: Requests,
    ) -> None:
        self._invoker = invoker
        self._method = method
        self._call = call
        self._request = request
        self._replies: Iterator[Message] | None = None
        self._outcome: GatewayError | None = None
        self._done = False

    def _run(self) -> Iterator[Message]:
        replies: list[Message] = []

        def emit(message: Message) -> bool:
            replies.append(message)
            return True

        call = self._call
        try:
            self._outcome = self._invoker._sync_stream_body(self._method, call, self._request, emit)
        except GatewayError as exc:
            self._outcome = exc
        finally:
            call.run_callbacks()
        return iter(replies)

    async def next(self) -> Message | None:
        if self._done:
            return None
        if self._replies is None:
            self._replies = in_fresh_context(self._run)
            refused = self._call.refused
            if refused is not None:  # headers over the channel's limit
                self._done = True
                refused.header_metadata = ()  # a stream's client reports none with it
                raise refused
        message = next(self._replies, None)
        if message is None:
            self._done = True
            if self._outcome is not None:
                raise self._outcome
        return message

    async def header_metadata(self) -> Metadata:
        return self._call.header_metadata()

    def trailing_metadata(self) -> Metadata:
        return self._call.trailers() if self._done else ()

    def cancel(self) -> None:
        self._done = True
        call = self._call
        if not (call.status_sent or call.cancelled):
            call.cancel(run_callbacks=True)
