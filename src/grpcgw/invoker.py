"""How the gateway reaches a method: the invoker interface (pure: no grpc, no aiohttp).

The gateway knows *what* to call (a :class:`MethodSpec`) and with which
request, metadata and timeout; an invoker knows *how*. :mod:`grpcgw.channel`
implements it over a ``grpc.aio`` channel (local, proxy) and over a blocking
channel (Lambda); a direct dispatcher calls an in-process servicer's handlers.

The contract every invoker keeps:

- every non-OK outcome is raised as a :class:`~grpcgw.errors.GatewayError`
  carrying the code, message, details and the header and trailing metadata
  the server sent, never as a transport-specific exception; an error made from
  a status comes from :func:`~grpcgw.errors.status_error`, which marks the
  messages not meant for clients (an unhandled servicer exception's text,
  gRPC's account of a transport failure) as ``internal``; an invoker that
  catches a servicer's exception itself says ``internal="servicer"``;
- ``deadline`` (seconds from now, or ``None``) is enforced by the invoker; the
  gateway only passes one that is finite, at most
  :data:`~grpcgw.metadata.MAX_TIMEOUT`, and not below zero;
- :meth:`ResponseStream.cancel` is idempotent and reaches the servicer
  (its context reports the call cancelled).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol, TypeAlias, get_args

from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message

if TYPE_CHECKING:
    from grpcgw.feed import MessageFeed

#: How a front end that runs the servicers in its own process (``serve_local``,
#: ``start_local``, ``serve_lambda``) has its gateway reach them: ``"socket"``, through
#: a real gRPC server over a socket, as any client would; ``"direct"``, by calling
#: their handlers in process (:mod:`grpcgw.dispatch`; docs/dispatch.md).
Dispatch = Literal["socket", "direct"]


def check_dispatch(value: object, where: str) -> Dispatch:
    """``value`` as a :data:`Dispatch`, or ``ValueError`` naming ``where`` it was given."""
    if value == "socket":
        return "socket"
    if value == "direct":
        return "direct"
    choices = " or ".join(repr(c) for c in get_args(Dispatch))
    raise ValueError(f"{where}(): dispatch must be {choices}, not {value!r}")


class UndecodableReply:
    """A reply whose bytes do not decode as the method's reply type (invalid UTF-8
    in a string, nesting past protobuf's depth limit), where an invoker hands on a
    message. A channel invoker's deserializer returns it rather than raising:
    grpc would log a traceback for each such reply and hand on ``None``. The
    gateway answers it as a reply that cannot be rendered, logging :attr:`reason`
    once."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        #: protobuf's words for what is wrong, naming the type it was read as.
        self.reason = reason


#: What a call is made with: the request message; for a client-streaming method the
#: sequence of request messages read before the call, or a
#: :class:`~grpcgw.feed.MessageFeed` of messages that arrive while it runs (over a
#: WebSocket; only invokers on an event loop are given one).
Requests: TypeAlias = "Message | Sequence[Message] | MessageFeed"

#: gRPC metadata: ``(key, value)`` pairs; ``-bin`` keys carry bytes.
Metadata = Sequence[tuple[str, str | bytes]]


class MethodSpec(NamedTuple):
    """One gRPC method as an invoker needs it, read once from its descriptor."""

    #: The gRPC ``:path``: ``/package.Service/Method``.
    rpc: str
    descriptor: MethodDescriptor
    request_class: type[Message]
    response_class: type[Message]
    client_streaming: bool
    server_streaming: bool


class CallResult(NamedTuple):
    """A unary (or client-streaming) reply with the metadata the server sent."""

    message: Message
    header_metadata: Metadata
    trailing_metadata: Metadata


class ResponseStream(Protocol):
    """The replies of a server-streaming (or bidi) call, in order."""

    async def next(self) -> Message | None:
        """The next reply, or ``None`` once the stream ended with OK."""
        ...

    async def header_metadata(self) -> Metadata:
        """The server's initial metadata (waits for it)."""
        ...

    def trailing_metadata(self) -> Metadata:
        """The trailers, once :meth:`next` has returned ``None`` (empty before)."""
        ...

    def cancel(self) -> None:
        """End the call: the client went away. Idempotent; a no-op once it ended."""
        ...


class Invoker(Protocol):
    """Makes the calls of one gateway; see the module docstring for the contract."""

    async def unary(
        self,
        spec: MethodSpec,
        request: Requests,
        *,
        metadata: Metadata,
        deadline: float | None,
    ) -> CallResult:
        """Call a method with a single reply; ``request`` is the sequence (or
        feed) of request messages when ``spec.client_streaming``."""
        ...

    def stream(
        self,
        spec: MethodSpec,
        request: Requests,
        *,
        metadata: Metadata,
        deadline: float | None,
    ) -> ResponseStream:
        """Start a call whose replies stream (``spec.server_streaming``)."""
        ...

    async def aclose(self) -> None:
        """Release what the invoker opened (channels it created)."""
        ...
