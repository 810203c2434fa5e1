"""Dialing the gRPC server: target parsing, TLS, the channels, and the channel invokers.

The invokers here implement :class:`grpcgw.invoker.Invoker` over a channel:
they call a method by its full name with generic (de)serialisers, so the
gateway needs no generated stubs. :class:`ChannelInvoker` awaits a
``grpc.aio`` channel; :class:`BlockingInvoker` has the same coroutine
interface over a plain ``grpc.Channel`` but never suspends, for a caller with
no event loop of its own (the Lambda handler).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import grpc
import grpc.aio
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import DecodeError, Message

from grpcgw.errors import Code, GatewayError, details_from_status_bin, status_error
from grpcgw.feed import MessageFeed
from grpcgw.invoker import CallResult, Metadata, MethodSpec, Requests, UndecodableReply
from grpcgw.lazyre import lazy_compile
from grpcgw.metadata import METADATA_SIZE_OPTIONS

if TYPE_CHECKING:
    from grpcgw.options import GatewayOptions
    from grpcgw.tls import TLSConfig

__all__ = [
    "MAX_RECONNECT_BACKOFF_MS",
    "BlockingInvoker",
    "CallResult",
    "ChannelInvoker",
    "TLSConfig",
    "TargetError",
    "gateway_channel_options",
    "open_blocking_channel",
    "open_channel",
    "parse_target",
    "rpc_error",
    "run_blocking",
]

T = TypeVar("T")


def __getattr__(name: str) -> Any:
    # TLSConfig is defined on first use: a dataclass costs cold-start time, and
    # the Lambda handler dials its own socket without TLS.
    if name == "TLSConfig":
        from grpcgw.tls import TLSConfig

        return TLSConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_HOST_PORT = lazy_compile(r"^(\[[0-9a-fA-F:.%\w]+\]|[\w.\-]+):[0-9]{1,5}$")  # ASCII port digits
_SCHEMES = ("unix:", "unix-abstract:", "dns:", "ipv4:", "ipv6:", "vsock:")


class TargetError(ValueError):
    """A gRPC target string that cannot be dialed."""


def parse_target(target: str) -> str:
    """Check a target and return it in the form grpcio dials.

    Accepted: ``unix:///abs/path.sock``, ``unix:relative/path.sock``,
    ``unix:/abs/path.sock``, ``host:port``, ``[::1]:port``, ``dns:///host:port``
    and grpc's other URI schemes. A bare absolute path is taken as a unix socket.
    """
    target = target.strip()
    if not target:
        raise TargetError("empty gRPC target")
    if target.startswith("/"):
        return f"unix://{target}"
    if target.startswith(("http://", "https://", "grpc://", "grpcs://")):
        raise TargetError(
            f"gRPC target {target!r} has a URL scheme: give host:port "
            "(and tls=TLSConfig(...) for TLS), or unix:///path/to.sock"
        )
    if target.startswith(_SCHEMES):
        if target.startswith("unix:") and target in ("unix:", "unix://"):
            raise TargetError(f"gRPC target {target!r} names no socket path")
        return target
    if not _HOST_PORT.match(target):
        raise TargetError(f"gRPC target {target!r} is not host:port, unix:///path or a gRPC URI")
    return target


def open_channel(
    target: str,
    *,
    tls: TLSConfig | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """Open a ``grpc.aio`` channel to ``target``; call from the event loop that will use it."""
    address, opts = parse_target(target), _channel_options(tls, options)
    if tls is None:
        return grpc.aio.insecure_channel(address, options=opts)
    return grpc.aio.secure_channel(address, tls.credentials(), options=opts)


def open_blocking_channel(
    target: str,
    *,
    tls: TLSConfig | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """Open a blocking ``grpc.Channel`` to ``target`` (for :class:`BlockingInvoker`)."""
    address, opts = parse_target(target), _channel_options(tls, options)
    if tls is None:
        return grpc.insecure_channel(address, options=opts)
    return grpc.secure_channel(address, tls.credentials(), options=opts)


#: The longest wait between reconnection attempts, in ms. grpc's own grows by 1.6
#: to 120 s: after an outage of a few minutes the gateway would take up to two
#: minutes to notice the backend is back (503 and /readyz false meanwhile).
#: ``channel_options`` win (docs/reliability.md).
MAX_RECONNECT_BACKOFF_MS = 5000


def gateway_channel_options(options: GatewayOptions) -> list[tuple[str, Any]]:
    """The channel arguments that carry a gateway's options: ``connect_timeout``
    and ``max_response_message`` (for a channel made for it, e.g. by the Lambda
    handler), after grpcgw's cap on the reconnect backoff
    (``grpc.max_reconnect_backoff_ms``, 5 s)."""
    opts: list[tuple[str, Any]] = [("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_BACKOFF_MS)]
    if options.connect_timeout is not None:
        # gRPC's "minimum reconnect backoff" is the time a connection attempt,
        # TCP and HTTP/2 handshake together, may take (grpc's default: 20 s).
        ms = min(max(round(options.connect_timeout * 1000), 1), 2**31 - 1)
        opts.append(("grpc.min_reconnect_backoff_ms", ms))
    if options.max_response_message is not None:
        opts.append(("grpc.max_receive_message_length", options.max_response_message))
    return opts


def _channel_options(
    tls: TLSConfig | None, options: Sequence[tuple[str, Any]]
) -> list[tuple[str, Any]]:
    # grpcgw's metadata limits unless the caller sets them; one value per key
    # (the last given), since grpc does not say which of two it would take.
    merged: dict[str, Any] = dict(METADATA_SIZE_OPTIONS)
    merged.update(options)
    if tls is not None and tls.server_name:
        merged["grpc.ssl_target_name_override"] = tls.server_name
    return list(merged.items())


class _CallStream:
    """What the replies of a streaming call share, aio or blocking: the call, the
    trailers once it ends, cancellation."""

    def __init__(self, call: Any, method: MethodDescriptor | None = None) -> None:
        self._call = call
        self._trailers: Metadata = ()
        #: The method called: its descriptor pool resolves the error details.
        self._method = method

    def trailing_metadata(self) -> Metadata:
        return self._trailers

    def cancel(self) -> None:
        self._call.cancel()


class AioResponseStream(_CallStream):
    """The replies of a ``grpc.aio`` streaming call; failures are raised as
    :class:`GatewayError`."""

    def __init__(self, call: Any, method: MethodDescriptor | None = None) -> None:
        super().__init__(call, method)
        self._replies = call.__aiter__()

    async def next(self) -> Message | None:
        try:
            reply: Message = await self._replies.__anext__()
        except StopAsyncIteration:
            self._trailers = tuple(cast(Metadata, await self._call.trailing_metadata() or ()))
            return None
        except grpc.aio.AioRpcError as exc:
            raise rpc_error(exc, _pool(self._method)) from None
        return reply

    async def header_metadata(self) -> Metadata:
        return tuple(cast(Metadata, await self._call.initial_metadata() or ()))


class BlockingResponseStream(_CallStream):
    """The replies of a blocking streaming call: ``next()`` waits in grpc's core."""

    async def next(self) -> Message | None:
        try:
            reply: Message = next(self._call)
        except StopIteration:
            self._trailers = tuple(cast(Metadata, self._call.trailing_metadata() or ()))
            return None
        except grpc.RpcError as exc:
            raise rpc_error(exc, _pool(self._method)) from None
        return reply

    async def header_metadata(self) -> Metadata:
        return tuple(cast(Metadata, self._call.initial_metadata() or ()))


_KINDS = {
    (False, False): "unary_unary",
    (True, False): "stream_unary",
    (False, True): "unary_stream",
    (True, True): "stream_stream",
}


class _ChannelCalls:
    """What both channel invokers share: one multi-callable per method of the
    channel, built on first use, and whether closing closes the channel.

    Each multi-callable is kept with the reply class it decodes into, weakly:
    after the gateway's services are replaced (a proxy's reload), a method's
    reply type is a class of the new descriptor pool, a reply must be decoded
    into the class the route that matched expects, and the old pool must not be
    kept alive by a method no route calls any more.
    """

    def __init__(self, channel: grpc.aio.Channel | grpc.Channel, *, owns_channel: bool) -> None:
        self.channel = channel
        self._owns_channel = owns_channel
        self._callables: dict[str, tuple[weakref.ref[type[Message]], Any]] = {}

    def _callable(self, spec: MethodSpec) -> Any:
        found = self._callables.get(spec.rpc)
        if found is not None and found[0]() is spec.response_class:
            return found[1]
        factory = getattr(self.channel, _KINDS[spec.client_streaming, spec.server_streaming])
        reply_class = weakref.ref(spec.response_class)
        callable_ = factory(
            spec.rpc,
            request_serializer=_serialize,
            response_deserializer=functools.partial(_deserialize, reply_class),
        )
        self._callables[spec.rpc] = (reply_class, callable_)
        return callable_

    def _start(
        self,
        spec: MethodSpec,
        request: Requests,
        metadata: Any,
        deadline: float | None,
    ) -> Any:
        """Start a call: an aio call object, or a blocking stream's iterator."""
        payload = _payload(request, spec.client_streaming)
        return self._callable(spec)(payload, metadata=metadata, timeout=deadline)


def _deserialize(reply_class: weakref.ref[type[Message]], data: bytes) -> Message:
    # Alive: the route making the call holds its reply class.
    try:
        return cast(type[Message], reply_class()).FromString(data)
    except DecodeError as exc:
        # Raised, grpc would log a traceback per reply and hand on None (grpc.aio)
        # or fail the call as INTERNAL (the blocking API): the gateway says why.
        return cast(Message, UndecodableReply(str(exc)))


class ChannelInvoker(_ChannelCalls):
    """:class:`~grpcgw.invoker.Invoker` over one reused ``grpc.aio`` channel."""

    def __init__(self, channel: grpc.aio.Channel, *, owns_channel: bool = True) -> None:
        super().__init__(channel, owns_channel=owns_channel)

    async def unary(
        self,
        spec: MethodSpec,
        request: Requests,
        *,
        metadata: Metadata,
        deadline: float | None,
    ) -> CallResult:
        call = self._start(spec, request, _aio_metadata(metadata), deadline)
        try:
            response = await call
            header = await call.initial_metadata()
            trailer = await call.trailing_metadata()
        except grpc.aio.AioRpcError as exc:
            raise rpc_error(exc, _pool(spec.descriptor)) from None
        return CallResult(response, tuple(header or ()), tuple(trailer or ()))

    def stream(
        self,
        spec: MethodSpec,
        request: Requests,
        *,
        metadata: Metadata,
        deadline: float | None,
    ) -> AioResponseStream:
        call = self._start(spec, request, _aio_metadata(metadata), deadline)
        return AioResponseStream(call, spec.descriptor)

    async def aclose(self) -> None:
        if self._owns_channel:
            await cast(grpc.aio.Channel, self.channel).close(None)


class BlockingInvoker(_ChannelCalls):
    """:class:`~grpcgw.invoker.Invoker` over a blocking ``grpc.Channel``: its
    coroutines finish without ever suspending, so a caller can drive them with
    no event loop (:func:`run_blocking`).

    Used where the gRPC server runs on another thread's loop (Lambda): a
    blocking call waits in grpc's core with the GIL released, which costs
    less than waking an event loop for every completion.
    """

    def __init__(self, channel: grpc.Channel, *, owns_channel: bool = True) -> None:
        super().__init__(channel, owns_channel=owns_channel)

    async def unary(
        self,
        spec: MethodSpec,
        request: Requests,
        *,
        metadata: Metadata,
        deadline: float | None,
    ) -> CallResult:
        try:
            response, call = self._callable(spec).with_call(
                _payload(request, spec.client_streaming),
                metadata=tuple(metadata),
                timeout=deadline,
            )
        except grpc.RpcError as exc:
            raise rpc_error(exc, _pool(spec.descriptor)) from None
        return CallResult(
            response, tuple(call.initial_metadata() or ()), tuple(call.trailing_metadata() or ())
        )

    def stream(
        self,
        spec: MethodSpec,
        request: Requests,
        *,
        metadata: Metadata,
        deadline: float | None,
    ) -> BlockingResponseStream:
        call = self._start(spec, request, tuple(metadata), deadline)
        return BlockingResponseStream(call, spec.descriptor)

    async def aclose(self) -> None:
        if self._owns_channel:
            cast(grpc.Channel, self.channel).close()


def _aio_metadata(metadata: Metadata) -> Any:
    # grpc.aio turns any other sequence into a Metadata after an isinstance check
    # against typing.Sequence, which alone costs microseconds per call.
    return grpc.aio.Metadata(*metadata) if metadata else None


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (one that calls only a :class:`BlockingInvoker`)
    to its end, with no event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coro.close()
    raise RuntimeError("a coroutine run without an event loop tried to suspend")


def _payload(request: Requests, client_streaming: bool) -> Any:
    if client_streaming:
        assert not isinstance(request, Message)
        if isinstance(request, MessageFeed):
            return request  # grpc.aio reads it as the call sends (a WebSocket's messages)
        return iter(request)
    return request


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


def _pool(method: MethodDescriptor | None) -> Any:
    return None if method is None else method.containing_service.file.pool


def rpc_error(exc: grpc.aio.AioRpcError | grpc.RpcError, pool: Any = None) -> GatewayError:
    """Turn a failed call into a :class:`GatewayError` carrying status details and
    metadata, marked ``internal`` where its message is not for clients
    (:func:`grpcgw.errors.status_error`). The details' types are looked up in
    ``pool`` (the called method's), then in the default pool."""
    if not isinstance(exc, grpc.Call | grpc.aio.AioRpcError):
        # Defensive: every RpcError grpcio raises is also a grpc.Call.
        return GatewayError(Code.INTERNAL, f"the gRPC call failed: {exc}", internal="transport")
    code = Code(exc.code().value[0])
    details: list[dict[str, Any]] = []
    trailers: list[tuple[str, str | bytes]] = []
    for key, value in cast(Metadata, exc.trailing_metadata() or ()):
        if key == "grpc-status-details-bin":
            details = details_from_status_bin(value, pool)
        else:
            trailers.append((key, value))
    error = status_error(code, exc.details() or "", details=details)
    error.header_metadata = tuple(cast(Metadata, exc.initial_metadata() or ()))
    error.trailing_metadata = tuple(trailers)
    return error
