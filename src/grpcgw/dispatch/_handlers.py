"""The handlers a servicer registers, the user's interceptor chain, and how to call each.

A generated ``add_<Name>Servicer_to_server(servicer, server)`` registers
``grpc.RpcMethodHandler`` objects on whatever server it is given: with
``add_generic_rpc_handlers`` (every grpcio-tools generation) and, since 1.62,
``add_registered_method_handlers`` too. :class:`HandlerRecorder` stands in for
the server and keeps both, and :func:`resolver` looks a method up as grpc's
servers do: registered handlers first, then each generic handler in turn.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from google.protobuf.message import DecodeError, Message

from grpcgw.descriptors import is_async_behaviour
from grpcgw.dispatch._call import HandlerCallDetails
from grpcgw.errors import Code, status_error
from grpcgw.invoker import MethodSpec

Handler = Any  # grpc.RpcMethodHandler (a namedtuple; grpc-stubs types it loosely)
Resolve = Callable[[HandlerCallDetails], Handler | None]


class HandlerRecorder:
    """Stands in for a gRPC server to keep the handlers an ``add_*_to_server`` function
    registers, whatever grpcio-tools version wrote it."""

    def __init__(self) -> None:
        self.generic: list[Any] = []
        #: Full method path (``/package.Service/Method``) -> handler.
        self.registered: dict[str, Handler] = {}

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Iterable[Any]) -> None:
        self.generic.extend(generic_rpc_handlers)

    def add_registered_method_handlers(
        self, service_name: str, method_handlers: Mapping[str, Handler]
    ) -> None:
        for name, handler in method_handlers.items():
            self.registered[f"/{service_name}/{name}"] = handler


def resolver(recorder: HandlerRecorder) -> Resolve:
    """grpc's lookup: the registered handler of the method, else the first generic
    handler that serves it (called with the call's details)."""
    registered = dict(recorder.registered)
    generic = tuple(recorder.generic)

    def resolve(details: HandlerCallDetails) -> Handler | None:
        handler = registered.get(details.method)
        if handler is not None:
            return handler
        for generic_handler in generic:
            handler = generic_handler.service(details)
            if handler is not None:
                return handler
        return None

    return resolve


def aio_chain(
    interceptors: Sequence[Any], resolve: Resolve
) -> Callable[[HandlerCallDetails], Awaitable[Handler | None]]:
    """The ``grpc.aio.ServerInterceptor`` chain, built once: each interceptor's
    ``continuation`` is the rest of the chain, ending in the handler lookup."""

    async def lookup(details: HandlerCallDetails) -> Handler | None:
        return resolve(details)

    chain: Callable[[HandlerCallDetails], Awaitable[Handler | None]] = lookup
    for interceptor in reversed(interceptors):
        chain = _aio_step(interceptor, chain)
    return chain


def _aio_step(
    interceptor: Any, continuation: Callable[[HandlerCallDetails], Awaitable[Handler | None]]
) -> Callable[[HandlerCallDetails], Awaitable[Handler | None]]:
    intercept = interceptor.intercept_service

    async def step(details: HandlerCallDetails) -> Handler | None:
        return await intercept(continuation, details)

    return step


def sync_chain(
    interceptors: Sequence[Any], resolve: Resolve
) -> Callable[[HandlerCallDetails], Handler | None]:
    """The ``grpc.ServerInterceptor`` chain, built once (as grpc's ``_ServicePipeline``)."""
    chain: Callable[[HandlerCallDetails], Handler | None] = resolve
    for interceptor in reversed(interceptors):
        chain = _sync_step(interceptor, chain)
    return chain


def _sync_step(
    interceptor: Any, continuation: Callable[[HandlerCallDetails], Handler | None]
) -> Callable[[HandlerCallDetails], Handler | None]:
    intercept = interceptor.intercept_service

    def step(details: HandlerCallDetails) -> Handler | None:
        return intercept(continuation, details)

    return step


# How a behaviour runs: on the caller's loop, or on a thread.
AWAIT = 1  # ``async def`` with a single reply: awaited
ASYNC_GEN = 2  # ``async def`` generator of replies
READER_WRITER = 3  # ``async def`` streaming with context.write()
SYNC = 4  # plain function (or generator): a worker thread


class Plan:
    """How to call one handler for one method: read once per handler object."""

    __slots__ = (
        "behavior",
        "handler",
        "kind",
        "pass_request",
        "pass_response",
        "request_deserializer",
        "request_streaming",
        "response_class",
        "response_serializer",
        "response_streaming",
        "shape_ok",
    )

    def __init__(self, handler: Handler, spec: MethodSpec, aio: bool) -> None:
        self.handler = handler
        self.request_streaming = bool(handler.request_streaming)
        self.response_streaming = bool(handler.response_streaming)
        name = ("stream_" if self.request_streaming else "unary_") + (
            "stream" if self.response_streaming else "unary"
        )
        self.behavior: Callable[..., Any] = getattr(handler, name)
        self.request_deserializer = handler.request_deserializer
        self.response_serializer = handler.response_serializer
        self.response_class = spec.response_class
        #: Whether the handler streams as the method is declared (an interceptor may
        #: hand back one that does not).
        self.shape_ok = (self.request_streaming, self.response_streaming) == (
            spec.client_streaming,
            spec.server_streaming,
        )
        # grpc.aio's own tests of what a behaviour is (a threaded server runs all on threads).
        behavior = self.behavior
        if not aio:
            self.kind = SYNC
        elif self.response_streaming:
            if inspect.iscoroutinefunction(behavior):
                self.kind = READER_WRITER
            elif inspect.isasyncgenfunction(behavior):
                self.kind = ASYNC_GEN
            else:
                self.kind = SYNC
        elif is_async_behaviour(behavior):
            self.kind = AWAIT
        else:
            self.kind = SYNC
        # The message object itself can cross when the handler's deserializer builds
        # exactly the gateway's class; otherwise it goes through bytes, as on the wire.
        deserializer = self.request_deserializer
        self.pass_request = getattr(deserializer, "__self__", None) is spec.request_class
        # Likewise the reply, when the handler serializes with the class's own method
        # (which then cannot fail: no required fields).
        self.pass_response = self.response_serializer is getattr(
            spec.response_class, "SerializeToString", None
        ) and not _has_required_fields(spec.response_class.DESCRIPTOR)


def _has_required_fields(descriptor: Any, seen: set[str] | None = None) -> bool:
    """Whether serializing a message of this type can fail (proto2 required fields)."""
    seen = set() if seen is None else seen
    if descriptor.full_name in seen:
        return False
    seen.add(descriptor.full_name)
    for field in descriptor.fields:
        required = getattr(field, "is_required", None)  # protobuf >= 5.28; before: label
        if required is None:
            required = getattr(field, "label", 0) == 2  # LABEL_REQUIRED
        if required:
            return True
        if field.message_type is not None and _has_required_fields(field.message_type, seen):
            return True
    return False


def wire_request(plan: Plan, message: Message) -> Any:
    """The request as the handler's deserializer would have built it from the wire."""
    if plan.pass_request:
        return message
    raw = message.SerializeToString()
    deserializer = plan.request_deserializer
    return raw if deserializer is None else deserializer(raw)


def wire_reply(plan: Plan, reply: Any) -> tuple[Message, int]:
    """The reply as the gateway would have read it from the wire, and its size.

    A reply of the method's class is used as it is; anything else goes through
    the handler's serializer and the method's parser, so it fails, or reads,
    exactly as it would over the network.
    """
    cls = plan.response_class
    if type(reply) is cls and plan.pass_response:
        return reply, reply.ByteSize()
    serializer = plan.response_serializer
    raw = reply if serializer is None else serializer(reply)
    if isinstance(raw, str):
        raw = raw.encode()
    if not isinstance(raw, bytes):
        raise TypeError(f"a reply must serialize to bytes, not {type(raw).__name__}")
    try:
        return cls.FromString(raw), len(raw)
    except DecodeError:
        # What a channel reports for bytes its deserializer refuses.
        raise status_error(Code.INTERNAL, "Exception deserializing response!") from None


__all__ = [
    "ASYNC_GEN",
    "AWAIT",
    "READER_WRITER",
    "SYNC",
    "HandlerRecorder",
    "Plan",
    "aio_chain",
    "resolver",
    "sync_chain",
    "wire_reply",
    "wire_request",
]
