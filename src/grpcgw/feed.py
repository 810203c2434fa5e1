"""Request messages that arrive while their call runs (pure: asyncio only, no grpc, no aiohttp).

A client stream sent over HTTP is read whole before the call starts
(:mod:`grpcgw.driver`); one sent over a WebSocket (:mod:`grpcgw.wssession`)
is a :class:`MessageFeed`: the WebSocket's reader puts each message in as it
arrives, the invoker takes them out as the call sends them. At most one
message waits in between, and the reader waits for room before it reads the
next frame: a client cannot make the gateway hold more than that for a call
that does not read (backpressure, down to the TCP window).

Every invoker that runs on an event loop takes one where it takes a sequence
of request messages (:data:`grpcgw.invoker.Requests`).
"""

from __future__ import annotations

import asyncio
from typing import Final

from google.protobuf.message import Message


class _End:
    __slots__ = ()


_END: Final = _End()


class MessageFeed:
    """An async iterator of request messages fed while the call runs.

    :meth:`put` waits while a message is waiting to be taken; :meth:`end` is the
    client's half-close (the iteration stops after the messages before it);
    :meth:`close` ends it at once, dropping a message not yet taken (the call is
    being cancelled). Made on the event loop that feeds it: :attr:`loop` lets a
    handler on a worker thread read it (:meth:`next_blocking`).
    """

    __slots__ = ("_closed", "_queue", "loop", "taken")

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Message | _End] = asyncio.Queue(1)
        #: Messages the call has taken so far.
        self.taken = 0
        self._closed = False

    async def put(self, message: Message) -> None:
        """Hand the call ``message``, once the one before it was taken (dropped once
        :meth:`close` was called)."""
        if not self._closed:
            await self._queue.put(message)

    async def end(self) -> None:
        """No more messages: the iteration stops once those before are taken."""
        if not self._closed:
            await self._queue.put(_END)

    def close(self) -> None:
        """End the iteration now (a message not yet taken is dropped, later ones too)."""
        if self._closed:
            return
        self._closed = True
        queue = self._queue
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(_END)

    def __aiter__(self) -> MessageFeed:
        return self

    async def __anext__(self) -> Message:
        item = await self._queue.get()
        if isinstance(item, _End):
            self._queue.put_nowait(item)  # every later read ends too
            raise StopAsyncIteration
        self.taken += 1
        return item

    async def next_or_none(self) -> Message | None:
        """The next message, or ``None`` at the end."""
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            return None

    def next_blocking(self) -> Message | None:
        """:meth:`next_or_none` from a thread other than the loop's (a plain
        handler's worker); ``None`` also when the loop is gone."""
        future = asyncio.run_coroutine_threadsafe(self.next_or_none(), self.loop)
        try:
            return future.result()
        except (RuntimeError, asyncio.CancelledError):  # the loop closed, or the read was cancelled
            return None
