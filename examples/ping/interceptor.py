"""A server interceptor that logs every call as one structured JSON line when it ends:
the method, the status code and the duration.

    {"level":"debug","ts":"...","msg":"rpc call: method = /example.v1.PingService/Ping",
     "method":"/example.v1.PingService/Ping","code":"OK","duration_ms":0.41}

The code is what the servicer set (``context.abort``, ``set_code``), ``UNKNOWN``
for an exception that escaped it, ``CANCELLED`` when the client went away.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import grpc
import grpc.aio

log = logging.getLogger("example.ping")


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname.lower(),
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, separators=(",", ":"))


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (runtimes and tests swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


if not log.handlers:
    _handler = _Stderr()
    _handler.setFormatter(_JsonLines())
    log.addHandler(_handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False


def _log_call(method: str, code: grpc.StatusCode, start: float) -> None:
    duration_ms = round((time.perf_counter() - start) * 1000, 3)
    log.debug(
        "rpc call: method = %s",
        method,
        extra={"fields": {"method": method, "code": code.name, "duration_ms": duration_ms}},
    )


def _code(context: Any, error: BaseException | None) -> grpc.StatusCode:
    """How the call ended: the code the servicer set, else from the exception."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):  # grpc.aio gives the number
        return next((c for c in grpc.StatusCode if c.value[0] == code), grpc.StatusCode.UNKNOWN)
    if error is None:
        return grpc.StatusCode.OK
    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


class _CodeRecorder:
    """A context that remembers the code set on it, for one that cannot say it (a
    plain method on a ``grpc.aio`` server gets such a context)."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self._code: grpc.StatusCode | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def abort(self, code: grpc.StatusCode, details: str = "") -> Any:
        self._code = code
        return self._context.abort(code, details)

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code
        self._context.set_code(code)

    def code(self) -> grpc.StatusCode | None:
        return self._code


def _handler_for(handler: grpc.RpcMethodHandler, wrap: Callable[[Any, bool], Any]) -> Any:
    """``handler`` with its behaviour wrapped, of the same kind."""
    for kind, make in (
        ("unary_unary", grpc.unary_unary_rpc_method_handler),
        ("unary_stream", grpc.unary_stream_rpc_method_handler),
        ("stream_unary", grpc.stream_unary_rpc_method_handler),
        ("stream_stream", grpc.stream_stream_rpc_method_handler),
    ):
        behavior = getattr(handler, kind)
        if behavior is not None:
            return make(
                wrap(behavior, handler.response_streaming),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
    return handler


def _timed_aio(method: str) -> Callable[[Any, bool], Any]:
    def wrap(behavior: Any, streaming: bool) -> Any:
        if not (inspect.iscoroutinefunction(behavior) or inspect.isasyncgenfunction(behavior)):
            return _timed_sync(method)(behavior, streaming)  # a plain servicer on an aio server

        async def timed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            start = time.perf_counter()
            error: BaseException | None = None
            try:
                result = behavior(request, context)
                if inspect.isasyncgen(result):  # a streaming reply: write what it yields
                    async for reply in result:
                        await context.write(reply)
                    return None
                return await result
            except BaseException as exc:
                error = exc
                raise
            finally:
                _log_call(method, _code(context, error), start)

        return timed

    return wrap


def _timed_sync(method: str) -> Callable[[Any, bool], Any]:
    def wrap(behavior: Any, streaming: bool) -> Any:
        if streaming:

            def timed_stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                start = time.perf_counter()
                if not hasattr(context, "code"):
                    context = _CodeRecorder(context)
                error: BaseException | None = None
                try:
                    yield from behavior(request, context)
                except BaseException as exc:
                    error = exc
                    raise
                finally:
                    _log_call(method, _code(context, error), start)

            return timed_stream

        def timed(request: Any, context: grpc.ServicerContext) -> Any:
            start = time.perf_counter()
            if not hasattr(context, "code"):
                context = _CodeRecorder(context)
            error: BaseException | None = None
            try:
                return behavior(request, context)
            except BaseException as exc:
                error = exc
                raise
            finally:
                _log_call(method, _code(context, error), start)

        return timed

    return wrap


def _method(details: grpc.HandlerCallDetails) -> str:
    return str(details.method)  # type: ignore[attr-defined]


class LoggingInterceptor(grpc.aio.ServerInterceptor):
    """For ``grpc.aio`` servers (what ``serve_local`` and ``serve_lambda`` run)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler  # unknown method: gRPC answers UNIMPLEMENTED
        return _handler_for(handler, _timed_aio(_method(handler_call_details)))  # type: ignore[no-any-return]


class SyncLoggingInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """The same for threaded ``grpc.server`` servers with plain servicers."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = continuation(handler_call_details)
        if handler is None:
            return handler
        return _handler_for(handler, _timed_sync(_method(handler_call_details)))  # type: ignore[no-any-return]
