"""grpcgw's own ``ServicerContext``: what a handler called in process talks to.

:class:`AioContext` is what ``async def`` handlers get (``grpc.aio.ServicerContext``,
as a ``grpc.aio`` server gives them); :class:`SyncContext` is what plain
handlers get (``grpc.ServicerContext``), with the rules of the server kind the
invoker stands in for: a threaded ``grpc.server``, or a ``grpc.aio`` server
running plain handlers on its thread pool. Both write into a
:class:`~grpcgw.dispatch._call.Call`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, NoReturn, cast

import grpc
import grpc.aio
from google.protobuf.message import Message
from grpc.aio import EOF  # type: ignore[attr-defined]  # not in grpc-stubs

from grpcgw.dispatch._call import (
    _AUTH_CONTEXT,
    PEER,
    AbortedError,
    Call,
    CancelledRpcError,
    Metadatum,
    size_error,
)
from grpcgw.feed import MessageFeed

log = logging.getLogger("grpcgw.dispatch")

_COMPRESSION_KEY = "grpc-internal-encoding-request"


def check_trailing_metadata(metadata: Any) -> tuple[tuple[str, str | bytes], ...]:
    """grpc.aio's check of trailing metadata (the same TypeError for a bad shape)."""
    try:
        items = tuple(metadata)
        ok = all(
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], str | bytes)
            for item in items
        )
    except TypeError:
        ok = False
    if not ok or isinstance(metadata, str | bytes):
        raise TypeError(
            "Invalid trailing metadata type, expected Tuple[Tuple[str, Union[str, bytes]]...]: "
            f"{metadata}"
        )
    return items


def _metadata_pairs(metadata: Any) -> tuple[tuple[str, str | bytes], ...]:
    return tuple((str(k), v) for k, v in metadata or ())


class _Common:
    """What both contexts answer the same way."""

    __slots__ = ("_call",)

    def __init__(self, call: Call) -> None:
        self._call = call

    def invocation_metadata(self) -> tuple[Metadatum, ...]:
        return self._call.invocation_metadata()

    def peer(self) -> str:
        return PEER

    def peer_identities(self) -> Sequence[bytes] | None:
        return None

    def peer_identity_key(self) -> str | None:
        return None

    def auth_context(self) -> Mapping[str, Sequence[bytes]]:
        return {key: list(value) for key, value in _AUTH_CONTEXT.items()}

    def set_code(self, code: grpc.StatusCode) -> None:
        self._call.code = code

    def code(self) -> grpc.StatusCode | None:
        return self._call.code

    def disable_next_message_compression(self) -> None:
        self._call.no_compress_next = True


class AioContext(_Common, grpc.aio.ServicerContext):  # type: ignore[type-arg,misc]
    """The context of an ``async def`` handler, as a ``grpc.aio`` server's."""

    __slots__ = ("_requests", "_sink")

    def __init__(
        self,
        call: Call,
        requests: Iterator[Any] | None = None,
        sink: Callable[[Any], Awaitable[None]] | None = None,
    ) -> None:
        self._call = call  # _Common.__init__, without the call
        self._requests = requests
        self._sink = sink

    def _raise_for_termination(self) -> None:
        call = self._call
        if call.abort_exception is not None:
            raise call.abort_exception
        if call.status_sent:
            raise grpc.aio.UsageError("RPC already finished.")

    async def read(self) -> Any:
        self._raise_for_termination()
        requests = self._requests
        if requests is None:
            message = EOF
        elif type(requests) is LiveRequests:
            message = await requests.read()
        else:
            message = next(requests, EOF)
        self._raise_for_termination()
        return message

    async def write(self, message: Any) -> None:
        self._raise_for_termination()
        if self._sink is None:
            raise grpc.aio.UsageError("write() is for methods with a streamed reply")
        await self._sink(message)

    async def send_initial_metadata(self, initial_metadata: Any) -> None:
        self._raise_for_termination()
        if self._call.initial_metadata is not None:
            raise grpc.aio.UsageError("Send initial metadata failed: already sent")
        self._call.send_initial_metadata(_metadata_pairs(initial_metadata))

    async def abort(
        self,
        code: grpc.StatusCode,
        details: str = "",
        trailing_metadata: Any = (),
    ) -> NoReturn:
        raise aio_abort(self._call, code, details, trailing_metadata)

    async def abort_with_status(self, status: grpc.Status) -> NoReturn:
        status_: Any = status
        raise aio_abort(self._call, status_.code, status_.details, status_.trailing_metadata)

    def set_trailing_metadata(self, trailing_metadata: Any) -> None:
        self._call.trailing_metadata = check_trailing_metadata(trailing_metadata)

    def trailing_metadata(self) -> Any:
        return self._call.trailing_metadata

    def set_details(self, details: str) -> None:
        self._call.details = details

    def details(self) -> str:
        return self._call.details or ""

    def set_compression(self, compression: grpc.Compression) -> None:
        if self._call.initial_metadata is not None:
            raise RuntimeError(
                "Compression setting must be specified before sending initial metadata"
            )
        self._call.compression = compression

    def time_remaining(self) -> float | None:  # type: ignore[override]  # None: no deadline
        return self._call.time_remaining()

    def add_done_callback(self, callback: Callable[[Any], None]) -> None:
        self._call.add_callback(lambda: callback(self))

    def done(self) -> bool:
        return self._call.status_sent

    def cancelled(self) -> bool:
        return self._call.cancelled


def aio_abort(
    call: Call, code: grpc.StatusCode, details: str, trailing_metadata: Any
) -> BaseException:
    """grpc.aio's ``abort``: record the status (it is sent now) and return the error to raise."""
    if call.abort_exception is not None:
        return grpc.aio.UsageError("Abort already called!")
    error = grpc.aio.AbortError("Locally aborted.")
    call.abort_exception = error
    if not trailing_metadata and call.trailing_metadata:
        pass  # keep what set_trailing_metadata() gave
    else:
        call.trailing_metadata = check_trailing_metadata(trailing_metadata or ())
    if details == "" and call.details:
        details = call.details
    else:
        call.details = details
    call.code = code
    call.status_sent = True
    return error


class SyncContext(_Common, grpc.ServicerContext):  # type: ignore[misc]
    """The context of a plain handler: a threaded ``grpc.server``'s (``call.aio`` false)
    or, on a ``grpc.aio`` server, its wrapper for plain handlers (``call.aio`` true),
    which keeps grpc.aio's rules for ``abort`` and ``send_initial_metadata``."""

    __slots__ = ()

    def is_active(self) -> bool:
        return self._call.is_active()

    def time_remaining(self) -> float | None:  # type: ignore[override]
        return self._call.time_remaining()

    def cancel(self) -> None:
        call = self._call
        if call.status_sent or call.cancelled:
            return
        call.cancel(run_callbacks=True)

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return self._call.add_callback(callback)

    def send_initial_metadata(self, initial_metadata: Any) -> None:
        call = self._call
        if call.aio:
            if call.abort_exception is not None:
                raise call.abort_exception
            if call.status_sent:
                raise grpc.aio.UsageError("RPC already finished.")
            if call.initial_metadata is not None:
                raise grpc.aio.UsageError("Send initial metadata failed: already sent")
        else:
            if call.cancelled:
                raise CancelledRpcError()
            if call.initial_metadata is not None or call.status_sent:
                raise ValueError("Initial metadata no longer allowed!")
        call.send_initial_metadata(_metadata_pairs(initial_metadata))

    def set_trailing_metadata(self, trailing_metadata: Any) -> None:
        if self._call.aio:
            self._call.trailing_metadata = check_trailing_metadata(trailing_metadata)
        else:
            self._call.trailing_metadata = _metadata_pairs(trailing_metadata)

    def trailing_metadata(self) -> Any:
        return self._call.trailing_metadata or (() if self._call.aio else None)

    def abort(self, code: grpc.StatusCode, details: str = "") -> NoReturn:
        call = self._call
        if call.aio:
            raise aio_abort(call, code, details, ())
        if code == grpc.StatusCode.OK:
            log.error("abort() called with StatusCode.OK; returning UNKNOWN")
            code, details = grpc.StatusCode.UNKNOWN, ""
        call.code = code
        call.details = details
        error = AbortedError()
        call.abort_exception = error
        raise error

    def abort_with_status(self, status: grpc.Status) -> NoReturn:
        call, status_ = self._call, cast(Any, status)
        if call.aio:
            raise aio_abort(call, status_.code, status_.details, status_.trailing_metadata)
        call.trailing_metadata = _metadata_pairs(status_.trailing_metadata)
        self.abort(status_.code, status_.details)

    def set_details(self, details: str) -> None:
        self._call.details = details

    def details(self) -> Any:
        details = self._call.details
        if self._call.aio:
            return details or ""
        return None if details is None else details.encode()

    def set_compression(self, compression: grpc.Compression) -> None:
        if self._call.aio and self._call.initial_metadata is not None:
            raise RuntimeError(
                "Compression setting must be specified before sending initial metadata"
            )
        self._call.compression = compression


class SyncRequests:
    """The request iterator a plain client-streaming handler reads."""

    __slots__ = ("_call", "_messages")

    def __init__(self, call: Call, messages: Iterator[Message]) -> None:
        self._call = call
        self._messages = messages

    def __iter__(self) -> SyncRequests:
        return self

    def __next__(self) -> Message:
        call = self._call
        if call.cancelled:
            if call.aio:
                raise StopIteration
            raise CancelledRpcError()
        try:
            return next(self._messages)
        except StopIteration:
            if call.cancelled and not call.aio:  # a live stream ends when the call is cancelled
                raise CancelledRpcError() from None
            raise

    next = __next__


class LiveRequests(Iterator[Any]):
    """A client stream's messages as they arrive (a :class:`~grpcgw.feed.MessageFeed`),
    each checked against the server's receive limit and made what the handler's
    deserializer would have made of it: read with ``await`` by ``async def``
    handlers, with ``next()`` (waiting on the loop) by plain ones on a worker."""

    __slots__ = ("_convert", "_feed", "_limit")

    def __init__(self, feed: MessageFeed, convert: Callable[[Message], Any], limit: int) -> None:
        self._feed = feed
        self._convert = convert
        self._limit = limit

    def _taken(self, message: Message | None) -> Any:
        if message is None:
            return EOF
        if self._limit >= 0:
            size = message.ByteSize()
            if size > self._limit:
                raise size_error("SERVER", "Received", size, self._limit)
        return self._convert(message)

    async def read(self) -> Any:
        return self._taken(await self._feed.next_or_none())

    def __next__(self) -> Any:
        message = self._taken(self._feed.next_blocking())
        if message is EOF:
            raise StopIteration
        return message


class AioRequests:
    """The request iterator an ``async def`` client-streaming handler reads (via ``read()``)."""

    __slots__ = ("_context",)

    def __init__(self, context: AioContext) -> None:
        self._context = context

    def __aiter__(self) -> AioRequests:
        return self

    async def __anext__(self) -> Any:
        message = await self._context.read()
        if message is EOF:
            raise StopAsyncIteration
        return message
