"""A server interceptor that logs every incoming call as one structured JSON line."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable
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


def _log_call(details: grpc.HandlerCallDetails) -> None:
    method = details.method  # type: ignore[attr-defined]
    log.debug("rpc call: method = %s", method, extra={"fields": {"method": method}})


class LoggingInterceptor(grpc.aio.ServerInterceptor):
    """For ``grpc.aio`` servers (what ``serve_local`` and ``serve_lambda`` run)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        _log_call(handler_call_details)
        return await continuation(handler_call_details)


class SyncLoggingInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """The same for threaded ``grpc.server`` servers with plain servicers."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        _log_call(handler_call_details)
        return continuation(handler_call_details)
