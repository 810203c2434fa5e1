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
from grpcgw.metadata import MAX_METADATA_SIZE

log = logging.getLogger("grpcgw.dispatch")

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


# -- the gateway's channel's limit on the metadata it receives ------------------------------
#
# A channel grpcgw opens refuses a block of headers or trailers of MAX_METADATA_SIZE or
# more, as grpc core counts it (each entry: key, value and 32 bytes; a -bin value one
# byte more), and fails the call with RESOURCE_EXHAUSTED. What a server adds to each
# block, by the same count (grpcio 1.85, measured):

#: The headers: ``:status``, ``content-type``, ``grpc-accept-encoding``.
_HEADERS = ((":status", 42), ("content-type", 60), ("grpc-accept-encoding", 75))
#: A status sent with nothing before it (Trailers-Only): ``:status``, ``content-type``.
_TRAILERS_ONLY = ((":status", 42), ("content-type", 60))


def _grpc_message_length(details: str) -> int:
    """The length of ``grpc-message`` on the wire (grpc percent-encodes its UTF-8)."""
    raw = details.encode("utf-8", "surrogatepass")
    return len(raw) + 2 * sum(1 for b in raw if b < 0x20 or b > 0x7E or b == 0x25)


def _over_limit(
    block: tuple[tuple[str, int], ...], metadata: Metadata
) -> tuple[str, Metadata] | None:
    """grpc core's text refusing a block of ``metadata`` (after what the server adds,
    ``block``) over a grpcgw channel's limit, and the entries it keeps (the client still
    reads them); ``None`` if the block fits."""
    limit = MAX_METADATA_SIZE
    listed = list(block)
    total = sum(size for _, size in block)
    for index, (key, value) in enumerate(metadata):
        binary = 1 if key.endswith("-bin") else 0  # counted, though not listed
        if len(value) + binary >= limit:
            what = f"value length {len(value) + binary} vs. {limit}"
            return f"{_REFUSED} ({what}))", metadata[:index]
        size = len(key) + len(value) + 32
        listed.append((key, size))
        total += size + binary
    if total < limit:
        return None
    listing = " ".join(f"{key}:{size}B" for key, size in listed)
    return f"{_REFUSED} ({total} vs. {limit});  {listing})", metadata


_REFUSED = "Stream removed (received metadata size exceeds hard limit"


def _status_block(code: Code, details: str) -> tuple[tuple[str, int], ...]:
    """The trailers of a status: ``grpc-status``, ``grpc-message`` (empty for OK)."""
    return (
        ("grpc-status", 11 + len(str(int(code))) + 32),
        ("grpc-message", 12 + _grpc_message_length(details) + 32),
    )


_OK_STATUS = _status_block(Code.OK, "")
_OK_TRAILERS_ONLY = _TRAILERS_ONLY + _OK_STATUS
#: A status message this long may need counting: percent-encoded, one character may
#: take 12 bytes, and what else a block holds without trailers is small.
_LONG_DETAILS = MAX_METADATA_SIZE // 16


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
    except Exception:  # str(exc) raised
        return unprintable.format(type=type(exc))


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
        "refused",
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
        #: The gateway's channel refused the headers sent (over its metadata limit).
        self.refused: GatewayError | None = None

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
        self.initial_metadata = sent = metadata_tuple(metadata)
        if sent:
            over = _over_limit(_HEADERS, sent)
            if over is not None:
                # The client resets the stream on receiving them: the call is over.
                text, kept = over
                self.refused = call_error(Code.RESOURCE_EXHAUSTED, text, kept, (), self.pool)
                self.cancel()
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

    def expire_if_late(self) -> bool:
        """End the call as expired if its deadline passed (the client of a real server
        gave up then), for a handler that no timer could interrupt (inline) or that
        beat its timer by a hair; whether the call is over for the servicer."""
        if (
            self.deadline is not None
            and not (self.status_sent or self.cancelled)
            and time.monotonic() >= self.deadline
        ):
            self.cancel(expired=True)
        return self.cancelled

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
        if self.refused is not None:
            return self.refused
        trailers = self.trailers()
        if trailers or len(details) > _LONG_DETAILS:
            block = _status_block(code, details)
            if self.initial_metadata is None:
                block = _TRAILERS_ONLY + block
            refused = self._refused_trailers(block, trailers)
            if refused is not None:
                return refused
        return call_error(code, details, self.header_metadata(), trailers, self.pool)

    def _refused_trailers(
        self, block: tuple[tuple[str, int], ...], trailers: Metadata
    ) -> GatewayError | None:
        over = _over_limit(block, trailers)
        if over is None:
            return None
        text, kept = over
        return call_error(Code.RESOURCE_EXHAUSTED, text, self.header_metadata(), kept, self.pool)

    def abort_error(self) -> GatewayError:
        """The status an ``abort()`` sent."""
        code = _code(self.code)
        return self.error(Code.UNKNOWN if code == Code.OK else code, self.details or "")

    def ended_error(self) -> GatewayError:
        """The client's view of a call it cancelled or whose deadline passed."""
        if self.refused is not None:
            return self.refused
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
            # (grpc.aio itself never ends a call whose exception cannot be printed.)
            text = _exception_text(
                exc, "Unexpected {type}: {exc}", "Unexpected {type}: <unprintable exception>"
            )
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
        if self.code is not None:
            code = _code(self.code)
            if code != Code.OK:
                raise self.error(code, self.details or "")
        self.status_sent = True
        trailers = self.trailers() if self.trailing_metadata else ()
        if trailers:
            refused = self._refused_trailers(_OK_STATUS, trailers)
            if refused is not None:
                raise refused
        return CallResult(response, self.initial_metadata or (), trailers)

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
        if self.trailing_metadata:
            block = _OK_STATUS if self.initial_metadata is not None else _OK_TRAILERS_ONLY
            return self._refused_trailers(block, self.trailers())
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
