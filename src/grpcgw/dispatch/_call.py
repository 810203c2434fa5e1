"""One in-process call: its status, metadata, deadline and cancellation, and what the
client would have seen had it crossed the network.

A real gRPC server turns what a handler does (return, raise, ``abort``,
``set_code``...) into a status on the wire; grpc (threaded ``grpc.server``) and
grpc.aio do it with different rules and different messages. :class:`Call`
keeps the state both contexts write; :meth:`Call.error_for_exception`,
:meth:`Call.finish` and :meth:`Call.end_of_stream` apply the rules of the
server kind being stood in for, with grpc's own message texts.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import grpc
from google.protobuf.message import Message

from grpcgw.errors import Code, GatewayError, details_from_status_bin, status_error
from grpcgw.invoker import CallResult, Metadata

log = logging.getLogger("grpcgw")

#: What ``time_remaining()`` of a threaded ``grpc.server`` context counts down to
#: without a deadline (gpr_inf_future's seconds); a grpc.aio context returns ``None``.
_INFINITE_DEADLINE = float(2**63 - 1)

#: The ``peer()`` of every direct call: the caller is the gateway, in this process.
PEER = "inproc:grpcgw"

#: What ``auth_context()`` returns: what grpc reports for an insecure channel.
_AUTH_CONTEXT = {"transport_security_type": [b"insecure"], "security_level": [b"TSI_SECURITY_NONE"]}


#: Keys grpc core knows: a servicer receives them ahead of the others, in this order.
_KNOWN_FIRST = ("lb-token", "x-forwarded-for", "x-forwarded-host", "traceparent")
#: Keys grpc core consumes and never hands to a servicer.
_UNPUBLISHED = frozenset(("lb-cost-bin", "x-envoy-peer-metadata", "endpoint-load-metrics-bin"))
_REORDERED = frozenset(_KNOWN_FIRST) | _UNPUBLISHED


def _as_received(metadata: Metadata) -> tuple[Metadatum, ...]:
    """The invocation metadata a servicer of a real server gets for ``metadata``:
    grpc core (1.85) hands the keys it knows over first and drops those it consumes."""
    if not any(key in _REORDERED for key, _ in metadata):
        return tuple(Metadatum(k, v) for k, v in metadata)
    first = [Metadatum(k, v) for known in _KNOWN_FIRST for k, v in metadata if k == known]
    rest = [Metadatum(k, v) for k, v in metadata if k not in _REORDERED]
    return (*first, *rest)


class Metadatum(NamedTuple):
    """One invocation metadata entry, as grpc hands them to servicers (``.key``, ``.value``)."""

    key: str
    value: str | bytes


class HandlerCallDetails(
    collections.namedtuple("HandlerCallDetails", ("method", "invocation_metadata")),
    grpc.HandlerCallDetails,
):
    """What a server interceptor's ``intercept_service`` receives (as grpc builds it)."""


class AbortedError(Exception):
    """What a plain handler's ``context.abort()`` raises on a threaded ``grpc.server``
    (grpc raises a bare ``Exception``; a subclass keeps ``except Exception`` alike)."""


class CancelledRpcError(grpc.RpcError):
    """Raised by a threaded-server context used after its call was cancelled (as grpc does)."""


def metadata_tuple(metadata: Any) -> tuple[tuple[str, str | bytes], ...]:
    """Metadata a servicer gives, as the client receives it: ``-bin`` values as bytes,
    others as text."""
    out = []
    for key, value in metadata or ():
        key = str(key)
        if key.endswith("-bin"):
            if isinstance(value, str):
                value = value.encode()
        elif isinstance(value, bytes):
            value = value.decode("latin-1")
        out.append((key, value))
    return tuple(out)


def call_error(
    code: Code,
    details: str,
    header_metadata: Metadata = (),
    trailing_metadata: Metadata = (),
    pool: Any = None,
) -> GatewayError:
    """The :class:`GatewayError` a channel invoker raises when a server sends this
    status (``grpcgw.channel.rpc_error``): rich details taken out of the trailers,
    a message not meant for clients marked ``internal`` by ``errors.status_error``."""
    rich: list[dict[str, Any]] = []
    trailers: list[tuple[str, str | bytes]] = []
    for key, value in trailing_metadata:
        if key == "grpc-status-details-bin":
            rich = details_from_status_bin(value, pool)
        else:
            trailers.append((key, value))
    error = status_error(code, details, details=rich)
    error.header_metadata = tuple(header_metadata)
    error.trailing_metadata = tuple(trailers)
    return error


def _code(code: grpc.StatusCode | None) -> Code:
    if code is None:
        return Code.OK
    return Code(code.value[0])


def _exception_text(exc: BaseException, template: str, unprintable: str) -> str:
    try:
        return template.format(exc=exc, type=type(exc))
    except Exception:
        return unprintable


#: Guards ``add_callback`` against the callbacks being run (rare; shared by all calls).
_CALLBACKS_LOCK = threading.Lock()


class Call:
    """The server side of one call, shared by its context and the invoker driving it.

    ``aio`` selects grpc.aio's rules (async handlers, and plain ones on a
    ``grpc.aio`` server), else the threaded ``grpc.server``'s.
    """

    __slots__ = (
        "_invocation",
        "abort_exception",
        "aio",
        "callbacks",
        "cancelled",
        "code",
        "compression",
        "deadline",
        "details",
        "expired",
        "initial_metadata",
        "metadata",
        "method",
        "no_compress_next",
        "on_initial_metadata",
        "pool",
        "status_sent",
        "trailing_metadata",
    )

    def __init__(
        self,
        method: str,
        metadata: Metadata,
        timeout: float | None,
        aio: bool,
        pool: Any = None,
    ) -> None:
        self.method = method
        #: The method's descriptor pool (rich error details are looked up there).
        self.pool = pool
        self.metadata = metadata
        self._invocation: tuple[Metadatum, ...] | None = None
        #: time.monotonic() at which the call expires.
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.aio = aio
        self.code: grpc.StatusCode | None = None
        self.details: str | None = None
        self.trailing_metadata: tuple[tuple[str, str | bytes], ...] = ()
        #: The initial metadata once sent (``None`` before).
        self.initial_metadata: tuple[tuple[str, str | bytes], ...] | None = None
        #: Told when the initial metadata is sent (a stream's head waits for it).
        self.on_initial_metadata: Callable[[], None] | None = None
        self.status_sent = False
        #: What ``abort()`` raised: the call's outcome, even if the handler swallows it.
        self.abort_exception: BaseException | None = None
        self.cancelled = False
        self.expired = False
        self.callbacks: list[Callable[[], None]] | None = []
        self.compression: grpc.Compression | None = None
        self.no_compress_next = False

    # -- what contexts read ------------------------------------------------------------

    def invocation_metadata(self) -> tuple[Metadatum, ...]:
        invocation = self._invocation
        if invocation is None:
            invocation = self._invocation = _as_received(self.metadata)
        return invocation

    def handler_call_details(self) -> HandlerCallDetails:
        return HandlerCallDetails(self.method, self.invocation_metadata())

    def time_remaining(self) -> float | None:
        if self.deadline is None:
            return None if self.aio else _INFINITE_DEADLINE - time.time()
        return max(self.deadline - time.monotonic(), 0.0)

    def is_active(self) -> bool:
        if self.cancelled or self.status_sent:
            return False
        # Expired, though the timer that says so may not have run yet (or cannot:
        # a handler run inline on the caller's thread).
        return self.deadline is None or time.monotonic() < self.deadline

    # -- what contexts write -----------------------------------------------------------

    def send_initial_metadata(self, metadata: Any) -> None:
        self.initial_metadata = metadata_tuple(metadata)
        notify = self.on_initial_metadata
        if notify is not None:
            notify()

    def add_callback(self, callback: Callable[[], None]) -> bool:
        with _CALLBACKS_LOCK:
            if self.callbacks is None:
                return False
            self.callbacks.append(callback)
            return True

    def run_callbacks(self) -> None:
        """Run the ``add_callback`` callbacks once: the call ended (or was cancelled)."""
        with _CALLBACKS_LOCK:
            callbacks, self.callbacks = self.callbacks, None
        for callback in callbacks or ():
            try:
                callback()
            except Exception:
                log.exception("callback of %s failed", self.method)

    def cancel(self, *, expired: bool = False, run_callbacks: bool = False) -> None:
        """The call is over for the servicer: the client went away, the deadline
        passed (``expired``), or the servicer cancelled it. A threaded server runs
        the ``add_callback`` callbacks now; grpc.aio when the handler has unwound."""
        if self.status_sent or self.cancelled:
            return
        self.cancelled = True
        self.expired = expired
        if run_callbacks:
            self.run_callbacks()

    # -- outcomes (what the client sees) -------------------------------------------------

    def header_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return self.initial_metadata or ()

    def trailers(self) -> tuple[tuple[str, str | bytes], ...]:
        """The trailing metadata as the client receives it."""
        return metadata_tuple(self.trailing_metadata) if self.trailing_metadata else ()

    def error(self, code: Code, details: str) -> GatewayError:
        self.status_sent = True
        return call_error(code, details, self.header_metadata(), self.trailers(), self.pool)

    def abort_error(self) -> GatewayError:
        """The status an ``abort()`` sent."""
        code = _code(self.code)
        return self.error(Code.UNKNOWN if code == Code.OK else code, self.details or "")

    def ended_error(self) -> GatewayError:
        """The client's view of a call it cancelled or whose deadline passed."""
        if self.expired:
            return call_error(Code.DEADLINE_EXCEEDED, "Deadline Exceeded", self.header_metadata())
        return call_error(Code.CANCELLED, "", self.header_metadata())

    def error_for_exception(self, exc: BaseException, *, iterating: bool = False) -> GatewayError:
        """The status a server sends when a handler raises ``exc``."""
        if self.cancelled:
            return self.ended_error()
        if self.aio:
            if self.abort_exception is not None:
                return self.abort_error()
            log.error(
                "Unexpected [%s] raised by servicer method [%s]",
                type(exc).__name__,
                self.method,
                exc_info=exc,
            )
            code = _code(self.code)
            text = _exception_text(exc, "Unexpected {type}: {exc}", "Unexpected exception")
            return self.error(Code.UNKNOWN if code == Code.OK else code, text)
        if self.abort_exception is not None:
            return self.abort_error()
        template = "Exception iterating responses: {exc}" if iterating else None
        text = _exception_text(
            exc,
            template or "Exception calling application: {exc}",
            "Calling application raised unprintable Exception!",
        )
        log.error("%s", text, exc_info=exc)
        code = _code(self.code) if self.code is not None else Code.UNKNOWN
        return self.error(
            Code.UNKNOWN if code == Code.OK else code,
            text if self.details is None else self.details,
        )

    def finish(self, response: Message) -> CallResult:
        """The reply of a unary handler that returned ``response`` (already checked)."""
        if self.cancelled:
            raise self.ended_error()
        if self.abort_exception is not None:
            raise self.abort_error()
        code = _code(self.code)
        if code != Code.OK:
            raise self.error(code, self.details or "")
        self.status_sent = True
        return CallResult(response, self.header_metadata(), self.trailers())

    def end_of_stream(self) -> GatewayError | None:
        """A streaming handler ended without raising: ``None`` for OK, else the error."""
        if self.cancelled:
            return self.ended_error()
        if self.abort_exception is not None:
            return self.abort_error()
        code = _code(self.code)
        if code != Code.OK:
            return self.error(code, self.details or "")
        self.status_sent = True
        return None


def serialization_failure(call: Call) -> GatewayError:
    """A threaded server's answer to a reply its serializer refused."""
    code = _code(call.code) if call.code is not None else Code.INTERNAL
    log.error("Exception serializing message!")
    return call.error(
        Code.UNKNOWN if code == Code.OK else code,
        call.details if call.details is not None else "Failed to serialize response!",
    )


def size_error(where: str, verb: str, size: int, limit: int) -> GatewayError:
    """grpc core's status for a message over a size limit (``where``: ``SERVER`` or
    ``CLIENT``, the side that refused it; ``verb``: ``Sent`` or ``Received``)."""
    return status_error(
        Code.RESOURCE_EXHAUSTED, f"{where}: {verb} message larger than max ({size} vs. {limit})"
    )
