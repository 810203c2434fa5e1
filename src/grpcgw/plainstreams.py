"""Plain (``def``) streaming handlers on a ``grpc.aio`` server, without grpc's hang.

grpc.aio runs a plain generator on its thread pool one reply ahead of its writes:
the thread goes on while the event loop is still writing an earlier reply. When
the generator then calls ``context.abort()`` (or ``send_initial_metadata``), that
batch is started while the first write, which carries the initial metadata, is
still in flight: grpc core refuses it (``GRPC_CALL_ERROR_TOO_MANY_OPERATIONS``),
the status is never sent and the call never ends, for the client too
(grpc/grpc#28989). Alone it happens when the generator aborts right after its
first reply; on a loaded machine, a few replies later too.

:class:`PlainStreams` (a ``grpc.aio.ServerInterceptor`` that :class:`GrpcServer`
puts first) hands grpc.aio such a handler as an async generator that runs the
plain one a step at a time on the same pool, the next step only once grpc has
written the last reply: the handler's code never runs beside a write. It gets a
context with what grpc.aio's own wrapper for plain handlers offers, and grpc.aio
does the rest as before (errors, status, cancellation).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from typing import Any

import grpc
import grpc.aio

from grpcgw.descriptors import is_async_behaviour

_END = object()


class _PlainContext:
    """What a plain handler's context is on grpc.aio (its ``_SyncServicerContext``):
    the calls that touch the call run on the event loop, and the thread waits."""

    def __init__(self, context: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._context = context
        self._loop = loop
        self._callbacks: list[Callable[[], None]] = []

    def _on_loop(self, coro: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()  # type: ignore[arg-type]

    def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> None:
        self._on_loop(self._context.abort(code, details, tuple(trailing_metadata)))

    def send_initial_metadata(self, metadata: Any) -> None:
        self._on_loop(self._context.send_initial_metadata(metadata))

    def add_callback(self, callback: Callable[[], None]) -> None:
        # grpc.aio runs these only after a unary handler: never for a stream.
        self._callbacks.append(callback)

    def set_trailing_metadata(self, metadata: Any) -> None:
        self._context.set_trailing_metadata(metadata)

    def invocation_metadata(self) -> Any:
        return self._context.invocation_metadata()

    def set_code(self, code: grpc.StatusCode) -> None:
        self._context.set_code(code)

    def set_details(self, details: str) -> None:
        self._context.set_details(details)

    def set_compression(self, compression: grpc.Compression) -> None:
        self._context.set_compression(compression)

    def disable_next_message_compression(self) -> None:
        self._context.disable_next_message_compression()

    def peer(self) -> str:
        return str(self._context.peer())

    def peer_identities(self) -> Any:
        return self._context.peer_identities()

    def peer_identity_key(self) -> Any:
        return self._context.peer_identity_key()

    def auth_context(self) -> Any:
        return self._context.auth_context()

    def time_remaining(self) -> float | None:
        remaining = self._context.time_remaining()
        return None if remaining is None else float(remaining)


def _blocking_requests(requests: Any, loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    """The request stream as a plain iterator for the handler's thread."""
    it = requests.__aiter__()
    while True:
        try:
            yield asyncio.run_coroutine_threadsafe(it.__anext__(), loop).result()
        except StopAsyncIteration:
            return


def _lockstep(behaviour: Callable[..., Any], pool: Executor, streaming_requests: bool) -> Any:
    async def replies(request: Any, context: Any) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        if streaming_requests:
            request = _blocking_requests(request, loop)
        plain = _PlainContext(context, loop)
        it: Iterator[Any] | None = None

        def step() -> Any:
            nonlocal it
            if it is None:
                it = iter(behaviour(request, plain))
            return next(it, _END)

        running: Future[Any] | None = None
        try:
            while True:
                running = pool.submit(step)
                reply = await asyncio.wrap_future(running)
                if reply is _END:
                    running = None
                    return
                yield reply  # grpc.aio writes it before it asks for the next
        finally:
            # Left early (cancelled, or the write failed): close the generator, on the
            # pool, once a step still running returns (a running one cannot be closed).
            if running is not None:
                running.add_done_callback(lambda _: _close(it, pool))

    return replies


def _close(it: Iterator[Any] | None, pool: Executor) -> None:
    close = getattr(it, "close", None)
    if close is not None:
        with contextlib.suppress(RuntimeError):  # the pool is shut down: the server stopped
            pool.submit(close)


class PlainStreams(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Runs the plain handlers of streamed replies in lockstep with their writes (the
    module docstring says why); every other handler passes through untouched."""

    def __init__(self, pool: Executor) -> None:
        self._pool = pool

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None or not handler.response_streaming:
            return handler
        streaming_requests = handler.request_streaming
        behaviour = handler.stream_stream if streaming_requests else handler.unary_stream
        if is_async_behaviour(behaviour):
            return handler
        make = (
            grpc.stream_stream_rpc_method_handler
            if streaming_requests
            else grpc.unary_stream_rpc_method_handler
        )
        return make(
            _lockstep(behaviour, self._pool, streaming_requests=streaming_requests),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def has_plain_streams(services: Sequence[Any]) -> bool:
    """Whether any of ``services`` (``ServiceInfo``) has a plain method that streams
    its replies: only then does a grpc.aio server need :class:`PlainStreams`."""
    for info in services:
        for method in info.descriptor.methods:
            impl = getattr(info.servicer, method.name, None)
            if method.server_streaming and impl is not None and not is_async_behaviour(impl):
                return True
    return False
