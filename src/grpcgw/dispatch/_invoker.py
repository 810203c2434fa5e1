""":class:`DirectInvoker`: the gateway calls the servicer's own handlers, in process.

See the package docstring and docs/dispatch.md for what it keeps of a real
server and what it does not.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import types
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial
from typing import Any

import grpc
from google.protobuf.message import Message

from grpcgw.descriptors import ServiceInfo, ServiceLike, resolve_service
from grpcgw.dispatch._call import Call, serialization_failure, size_error
from grpcgw.dispatch._context import (
    AioContext,
    AioRequests,
    LiveRequests,
    SyncContext,
    SyncRequests,
)
from grpcgw.dispatch._handlers import (
    ASYNC_GEN,
    AWAIT,
    READER_WRITER,
    SYNC,
    Handler,
    HandlerRecorder,
    Plan,
    aio_chain,
    resolver,
    sync_chain,
    wire_reply,
    wire_request,
)
from grpcgw.dispatch._streams import (
    DirectResponseStream,
    InlineResponseStream,
    Pipe,
    copy_reply,
    in_fresh_context,
    iterate_on_thread,
)
from grpcgw.errors import Code, GatewayError, status_error
from grpcgw.feed import MessageFeed
from grpcgw.grpcserver import HEALTH_SERVICE, ServerConfigError, require_servicers, server_kind
from grpcgw.invoker import CallResult, Metadata, MethodSpec, Requests

log = logging.getLogger("grpcgw.dispatch")

#: grpc's default limit on a received message (server: requests; client: replies).
DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024


def _limit(value: Any, default: int) -> int:
    """A grpc message-size option as a limit (``-1``: none)."""
    if value is None:
        return default
    value = int(value)
    return -1 if value < 0 else value


def served(services: Sequence[ServiceLike | ServiceInfo]) -> list[ServiceInfo]:
    """The services to dispatch to, each with its servicer (checked as GrpcServer does)."""
    infos = [s if isinstance(s, ServiceInfo) else resolve_service(s) for s in services]
    if not infos:
        raise TypeError("DirectInvoker needs at least one servicer")
    require_servicers(infos)
    return infos


class _Method:
    """A method the gateway calls, with the plan of its registered handler (if any)."""

    __slots__ = ("fast", "plan", "pool", "spec")

    def __init__(self, spec: MethodSpec, plan: Plan | None, intercepted: bool) -> None:
        self.spec = spec
        self.plan = plan
        self.pool = spec.descriptor.containing_service.file.pool
        #: The plan every call uses when nothing can choose another handler per call
        #: (no interceptors, a registered handler of the declared shape).
        self.fast = plan if plan is not None and plan.shape_ok and not intercepted else None


class DirectInvoker:
    """:class:`~grpcgw.invoker.Invoker` that calls in-process servicers' handlers directly.

    ``services`` are servicer instances (or :class:`~grpcgw.descriptors.ServiceInfo`
    with one). Their generated ``add_…Servicer_to_server`` functions are run
    against a recorder to learn the ``grpc.RpcMethodHandler`` of each method,
    and each call runs the ``interceptors`` and the handler the way the gRPC
    server :class:`~grpcgw.grpcserver.GrpcServer` would start for the same
    arguments: a ``grpc.aio`` server (``async def`` handlers on the caller's
    loop, plain ones on a thread pool), or, with ``grpc.ServerInterceptor``
    interceptors or ``prefer_threaded`` and only plain servicers, a threaded
    ``grpc.server`` (everything on the pool). Nothing is serialized; the
    message-size limits are still enforced: ``options`` may set
    ``grpc.max_receive_message_length`` (requests, 4 MiB by default) and
    ``grpc.max_send_message_length`` (replies, none by default) as on a
    server, and ``max_response_message`` is the gateway's own limit on replies
    (4 MiB by default, as a channel's).

    With ``inline`` (a threaded server's rules only), plain handlers run on the
    calling thread and the coroutines never suspend, for callers without an
    event loop (:func:`grpcgw.channel.run_blocking`). ``add_health`` serves
    ``grpc.health.v1.Health`` (every service SERVING) unless a servicer does.
    """

    def __init__(
        self,
        services: Sequence[ServiceLike | ServiceInfo],
        *,
        interceptors: Sequence[object] = (),
        prefer_threaded: bool = True,
        inline: bool = False,
        max_workers: int = 16,
        executor: Executor | None = None,
        options: Sequence[tuple[str, Any]] = (),
        max_response_message: int | None = None,
        add_health: bool = False,
    ) -> None:
        infos = served(services)
        kind = server_kind(infos, interceptors, prefer_threaded=prefer_threaded)
        if inline and kind == "aio":
            raise ServerConfigError(
                "inline dispatch runs plain servicers with grpc.ServerInterceptor interceptors "
                "(or none) only: async servicers and grpc.aio interceptors need an event loop"
            )
        #: Whether grpc.aio's rules apply (else a threaded grpc.server's).
        self.aio = kind == "aio"
        self.inline = inline
        recorder = HandlerRecorder()
        for info in infos:
            assert info.add_to_server is not None
            info.add_to_server(info.servicer, recorder)
        #: The ``grpc.health.v1`` servicer added by ``add_health`` (``None`` otherwise).
        self.health: Any = None
        names = [s.full_name for s in infos]
        if add_health and HEALTH_SERVICE not in names:
            self.health = _health_servicer(recorder, names)
        self._resolve = resolver(recorder)
        self._aio_chain = aio_chain(interceptors, self._resolve) if self.aio else None
        self._sync_chain = None if self.aio else sync_chain(interceptors, self._resolve)
        self._intercepted = bool(interceptors)
        self._registered = dict(recorder.registered)
        self._methods: dict[str, _Method] = {}
        opts = dict(options)
        self._max_request = _limit(opts.get("grpc.max_receive_message_length"), DEFAULT_MAX_MESSAGE)
        self._max_send = _limit(opts.get("grpc.max_send_message_length"), -1)
        self._max_reply = _limit(max_response_message, DEFAULT_MAX_MESSAGE)
        self._executor = executor
        self._owns_executor = executor is None
        self._pool_pid = 0
        self._max_workers = max_workers

    # -- per method, per handler -----------------------------------------------------

    def _method(self, spec: MethodSpec) -> _Method:
        method = self._methods.get(spec.rpc)
        if method is None:
            handler = self._registered.get(spec.rpc)
            plan = None if handler is None else Plan(handler, spec, self.aio)
            method = self._methods[spec.rpc] = _Method(spec, plan, self._intercepted)
        return method

    def _plan(self, method: _Method, handler: Handler | None) -> Plan:
        if handler is None:
            raise status_error(Code.UNIMPLEMENTED, "Method not found!")
        plan = method.plan
        if plan is None or plan.handler is not handler:
            plan = Plan(handler, method.spec, self.aio)
        if not plan.shape_ok:
            raise GatewayError(
                Code.INTERNAL,
                f"the handler of {method.spec.rpc} does not stream as the method is declared",
                internal="servicer",
            )
        return plan

    async def _aio_plan(self, method: _Method, call: Call) -> Plan:
        if method.fast is not None:
            return method.fast
        assert self._aio_chain is not None
        return self._plan(method, await self._aio_chain(call.handler_call_details()))

    def _sync_plan(self, method: _Method, call: Call) -> Plan:
        if method.fast is not None:
            return method.fast
        assert self._sync_chain is not None
        try:
            handler = self._sync_chain(call.handler_call_details())
        except Exception:
            log.exception("Exception servicing handler for %s", call.method)
            raise status_error(Code.UNKNOWN, "Error in service handler!") from None
        return self._plan(method, handler)

    def _sync_call(self, method: _Method, call: Call, request: Requests) -> tuple[Plan, Any]:
        """The plan a plain handler runs under, and the argument it is called with (a
        client stream's messages as the request iterator grpc hands it)."""
        plan = self._sync_plan(method, call)
        self._check_requests(request)
        argument, messages = self._argument(plan, request)
        if messages is not None:
            argument = SyncRequests(call, messages)
        return plan, argument

    def _pool(self) -> Executor:
        executor = self._executor
        if executor is None or (self._owns_executor and self._pool_pid != os.getpid()):
            # Made on first use, and again in a forked child (a pool's threads do not
            # survive fork(): the parent's would take work and never run it).
            executor = self._executor = ThreadPoolExecutor(
                max_workers=self._max_workers, thread_name_prefix="grpcgw-direct"
            )
            self._pool_pid = os.getpid()
        return executor

    # -- messages ----------------------------------------------------------------------

    def _check_requests(self, request: Requests) -> None:
        limit = self._max_request
        if limit < 0:
            return
        if isinstance(request, Message):
            messages: Sequence[Message] = (request,)
        elif isinstance(request, MessageFeed):
            return  # its messages are checked as they are read (LiveRequests)
        else:
            messages = request
        for message in messages:
            size = message.ByteSize()
            if size > limit:
                raise size_error("SERVER", "Received", size, limit)

    def _reply(self, plan: Plan, reply: Any) -> Message:
        """The reply as the gateway receives it; raises what serializing it raises."""
        message, size = wire_reply(plan, reply)
        if 0 <= self._max_send < size:
            raise size_error("SERVER", "Sent", size, self._max_send)
        if 0 <= self._max_reply < size:
            raise size_error("CLIENT", "Received", size, self._max_reply)
        return message

    def _argument(self, plan: Plan, request: Requests) -> tuple[Any, Iterator[Any] | None]:
        """What the behaviour is called with, and the iterator ``context.read()`` reads."""
        if plan.request_streaming:
            assert not isinstance(request, Message)
            if isinstance(request, MessageFeed):
                convert = (lambda m: m) if plan.pass_request else partial(wire_request, plan)
                return None, LiveRequests(request, convert, self._max_request)
            messages: Iterator[Any] = (
                iter(request) if plan.pass_request else (wire_request(plan, m) for m in request)
            )
            return None, messages
        assert isinstance(request, Message)
        return wire_request(plan, request), None

    # -- unary -------------------------------------------------------------------------

    async def unary(
        self,
        spec: MethodSpec,
        request: Requests,
        *,
        metadata: Metadata,
        deadline: float | None,
    ) -> CallResult:
        method = self._methods.get(spec.rpc) or self._method(spec)
        call = Call(spec.rpc, metadata, deadline, self.aio, method.pool)
        if self.inline:
            result: CallResult = in_fresh_context(self._sync_unary, method, call, request)
            return result
        if not self.aio:
            return await self._threaded_unary(method, call, request)
        timer = None if deadline is None else _Timer(call)
        try:
            result = await self._aio_unary(method, call, request, timer)
            if timer is None or not timer.expired():
                return result
        except asyncio.CancelledError:
            if not call.expired:
                call.cancel()
                raise
        except GatewayError:
            if not call.expired:
                raise
        finally:
            if timer is not None:
                timer.disarm()
            if call.callbacks:
                call.run_callbacks()
        # The deadline passed (the task was cancelled for it, and the handler may
        # have swallowed that; or the handler ran past it without suspending). Unless
        # someone else cancelled the task too, the client sees DEADLINE_EXCEEDED.
        assert timer is not None
        if timer.uncancel() > 0:
            raise asyncio.CancelledError
        call.expired = True
        raise call.ended_error()

    async def _aio_unary(
        self,
        method: _Method,
        call: Call,
        request: Requests,
        timer: _Timer | None,
    ) -> CallResult:
        try:
            if method.fast is not None:
                plan = method.fast
            else:
                if timer is not None:
                    timer.arm()
                plan = await self._aio_plan(method, call)
            self._check_requests(request)
            argument, messages = self._argument(plan, request)
            if plan.kind == AWAIT:
                context = AioContext(call, messages)
                if messages is not None:
                    argument = AioRequests(context)
                awaitable = plan.behavior(argument, context)
                if timer is None or type(awaitable) is not _Coroutine:
                    if timer is not None:
                        timer.arm()
                    reply = await awaitable
                else:
                    # Run it up to its first suspension: a handler that never suspends
                    # (most) needs no deadline timer, which costs more than the call.
                    try:
                        suspended = awaitable.send(None)
                    except StopIteration as done:
                        reply = done.value
                    else:
                        timer.arm()
                        reply = await _resume(awaitable, suspended)
            else:
                if timer is not None:
                    timer.arm()
                sync_context = SyncContext(call)
                if messages is not None:
                    argument = SyncRequests(call, messages)
                reply = await asyncio.get_running_loop().run_in_executor(
                    self._pool(), plan.behavior, argument, sync_context
                )
            if call.abort_exception is not None:
                raise call.abort_error()
            if call.cancelled or call.code not in (None, grpc.StatusCode.OK):
                return call.finish(reply)  # raises the status the handler set
            return call.finish(self._reply(plan, reply))
        except (GatewayError, asyncio.CancelledError):
            raise
        except Exception as exc:
            raise call.error_for_exception(exc) from None

    async def _threaded_unary(self, method: _Method, call: Call, request: Requests) -> CallResult:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._pool(), in_fresh_context, self._sync_unary, method, call, request
        )
        timer = None
        if call.deadline is not None:
            timer = loop.call_at(
                loop.time() + (call.time_remaining() or 0.0), _expire_threaded, call, future
            )
        try:
            result: CallResult = await future
            return result
        except asyncio.CancelledError:
            if not call.expired:
                call.cancel(run_callbacks=True)
                raise
            raise call.ended_error() from None
        finally:
            if timer is not None:
                timer.cancel()

    def _sync_unary(self, method: _Method, call: Call, request: Requests) -> CallResult:
        """A plain handler under a threaded server's rules (on a worker, or inline)."""
        try:
            plan, argument = self._sync_call(method, call, request)
            try:
                reply = plan.behavior(argument, SyncContext(call))
            except Exception as exc:
                call.expire_if_late()
                raise call.error_for_exception(exc) from None
            if call.expire_if_late():
                raise call.ended_error()
            try:
                message, size = wire_reply(plan, reply)
            except GatewayError:
                raise
            except Exception:
                raise serialization_failure(call) from None
            if 0 <= self._max_send < size:
                raise size_error("SERVER", "Sent", size, self._max_send)
            if 0 <= self._max_reply < size:
                raise size_error("CLIENT", "Received", size, self._max_reply)
            return call.finish(message)
        finally:
            call.run_callbacks()

    # -- streams -----------------------------------------------------------------------

    def stream(
        self,
        spec: MethodSpec,
        request: Requests,
        *,
        metadata: Metadata,
        deadline: float | None,
    ) -> DirectResponseStream | InlineResponseStream:
        method = self._methods.get(spec.rpc) or self._method(spec)
        call = Call(spec.rpc, metadata, deadline, self.aio, method.pool)
        if self.inline:
            return InlineResponseStream(self, method, call, request)
        return DirectResponseStream(self, method, call, request)

    async def _aio_stream(
        self,
        method: _Method,
        call: Call,
        request: Requests,
        pipe: Pipe,
    ) -> None:
        """The task of a streaming call under grpc.aio's rules."""
        loop = asyncio.get_running_loop()
        outcome: GatewayError | None = None
        try:
            plan = await self._aio_plan(method, call)
            self._check_requests(request)
            argument, messages = self._argument(plan, request)

            async def write(reply: Any) -> None:
                message = self._reply(plan, reply)
                if message is reply:
                    message = copy_reply(message)  # the servicer may change it once written
                if call.initial_metadata is None:
                    call.send_initial_metadata(())
                if not await pipe.put(message):
                    raise asyncio.CancelledError

            if plan.kind == SYNC:
                call.on_initial_metadata = pipe.head_threadsafe
                sync_context = SyncContext(call)
                if messages is not None:
                    argument = SyncRequests(call, messages)
                replies = plan.behavior(argument, sync_context)
                await iterate_on_thread(replies, write, call, loop, self._pool())
            else:
                call.on_initial_metadata = pipe.head
                context = AioContext(call, messages, write)
                if messages is not None:
                    argument = AioRequests(context)
                if plan.kind == READER_WRITER:
                    await plan.behavior(argument, context)
                else:
                    assert plan.kind == ASYNC_GEN
                    async for reply in plan.behavior(argument, context):
                        if call.abort_exception is not None:
                            raise call.abort_exception
                        await context.write(reply)
            if call.abort_exception is not None:
                raise call.abort_exception
            outcome = call.end_of_stream()
        except asyncio.CancelledError:
            outcome = call.ended_error() if call.expired else None
            call.cancel()
        except GatewayError as exc:
            outcome = exc
            call.status_sent = True
        except Exception as exc:
            outcome = call.error_for_exception(exc)
        finally:
            call.run_callbacks()
        pipe.end(outcome)

    def _threaded_stream(
        self,
        method: _Method,
        call: Call,
        request: Requests,
        emit: Callable[[Message], bool],
        end: Callable[[GatewayError | None], None],
    ) -> None:
        """A streaming call under a threaded server's rules, on a worker thread."""
        outcome: GatewayError | None
        try:
            outcome = self._sync_stream_body(method, call, request, emit)
        except GatewayError as exc:
            outcome = exc
        except Exception:
            # Not the servicer's (its exceptions are statuses): never leave the stream open.
            log.exception("direct dispatch of %s failed", call.method)
            outcome = GatewayError(Code.INTERNAL, "internal gateway error", internal="transport")
        finally:
            call.run_callbacks()
        end(outcome)

    def _sync_stream_body(
        self,
        method: _Method,
        call: Call,
        request: Requests,
        emit: Callable[[Message], bool],
    ) -> GatewayError | None:
        plan, argument = self._sync_call(method, call, request)
        try:
            replies = plan.behavior(argument, SyncContext(call))
        except Exception as exc:
            call.expire_if_late()
            return call.error_for_exception(exc)
        try:
            while True:
                try:
                    reply = next(replies)
                except StopIteration:
                    break
                except Exception as exc:
                    call.expire_if_late()
                    return call.error_for_exception(exc, iterating=True)
                if call.expire_if_late() or not call.is_active():
                    return call.ended_error()
                try:
                    message, size = wire_reply(plan, reply)
                except GatewayError:
                    raise
                except Exception:
                    return serialization_failure(call)
                if 0 <= self._max_send < size:
                    return size_error("SERVER", "Sent", size, self._max_send)
                if 0 <= self._max_reply < size:
                    return size_error("CLIENT", "Received", size, self._max_reply)
                if message is reply:
                    message = copy_reply(message)
                if call.initial_metadata is None:
                    call.send_initial_metadata(())
                if not emit(message):
                    return None  # the gateway went away: nobody reads the outcome
            call.expire_if_late()
            return call.end_of_stream()
        finally:
            close = getattr(replies, "close", None)
            if close is not None:
                close()

    async def aclose(self) -> None:
        """Shut the worker pool down (one this invoker created in this process); running
        handlers finish."""
        if self._owns_executor and self._executor is not None:
            if self._pool_pid == os.getpid():
                self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


_Coroutine = types.CoroutineType


@types.coroutine
def _resume(coroutine: Any, suspended: Any) -> Any:
    """Await the rest of a coroutine already run up to its first suspension (what
    ``await`` would have done had it run it from the start)."""
    while True:
        try:
            value = yield suspended
        except GeneratorExit:
            coroutine.close()
            raise
        except BaseException as exc:
            try:
                suspended = coroutine.throw(exc)
            except StopIteration as done:
                return done.value
        else:
            try:
                suspended = coroutine.send(value)
            except StopIteration as done:
                return done.value


class _Timer:
    """A unary call's deadline under grpc.aio's rules: cancels the caller's task (the
    handler runs in it) when it passes. Armed only once the handler suspends."""

    __slots__ = ("_call", "_handle", "_task")

    def __init__(self, call: Call) -> None:
        self._call = call
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None

    def arm(self) -> None:
        if self._handle is None:
            loop = asyncio.get_running_loop()
            self._task = asyncio.current_task(loop)
            remaining = self._call.time_remaining() or 0.0
            self._handle = loop.call_at(loop.time() + remaining, self._expire)

    def _expire(self) -> None:
        call = self._call
        if call.status_sent or call.cancelled:
            return
        call.cancel(expired=True)
        assert self._task is not None
        self._task.cancel()

    def expired(self) -> bool:
        """Whether the deadline passed (the reply came too late for the client)."""
        call = self._call
        return call.expired or (call.deadline is not None and time.monotonic() >= call.deadline)

    def uncancel(self) -> int:
        """Take back the task cancellation the deadline asked for; the requests left."""
        if self._task is None or not self._call.expired:
            return 0
        return self._task.uncancel()

    def disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()


def _expire_threaded(call: Call, future: asyncio.Future[Any]) -> None:
    if call.status_sent or call.cancelled:
        return
    call.cancel(expired=True, run_callbacks=True)
    future.cancel()


def _health_servicer(recorder: HandlerRecorder, names: list[str]) -> Any:
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    servicer = health.HealthServicer()
    for name in ("", *names):
        servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, recorder)
    return servicer


__all__ = ["DirectInvoker", "served"]
