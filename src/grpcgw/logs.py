"""grpcgw's log lines: one access line per request, and text or JSON formatting.

The access log (:class:`AccessLog`) is written by the gateway core for every
request it answers, on the ``grpcgw.access`` logger at INFO, so every front end
logs the same line: the fields go into the record (``extra``) and the message
repeats them for plain-text handlers. :func:`configure` gives a process that
has no logging set up one handler on standard error in ``text`` or ``json``;
it never touches a configuration the application (or the Lambda runtime) made.

With ``serve_local(workers=N)`` or ``grpcgw proxy --workers N`` several
processes write to one stream: each line the formatters write there says which
(:func:`tag_process`); one process alone writes its lines as ever.

On AWS Lambda the runtime's own handler formats every line: with
``AWS_LAMBDA_LOG_FORMAT=JSON`` its JSON carries the access fields beside
``requestId``; ``AWS_LAMBDA_LOG_LEVEL`` sets the level.

Stdlib only.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from grpcgw.exchange import HttpRequest

__all__ = [
    "ACCESS_LOGGER",
    "AccessLog",
    "JsonFormatter",
    "LogFormat",
    "RateLimitedLog",
    "TextFormatter",
    "configure",
    "is_configured",
    "tag_process",
    "untag_process",
]

#: The logger of the access lines (a child of ``grpcgw``, whose own lines use ``grpcgw``).
ACCESS_LOGGER = "grpcgw.access"
#: How :func:`configure` writes lines.
LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[str, ...] = get_args(LogFormat)

# The longest path and request id written; what clients send is not trusted to be short.
_MAX_PATH = 1024
_MAX_REQUEST_ID = 128
_ACCESS_MESSAGE = "%s %s %d %s %.2fms in=%d out=%d route=%s rpc=%s id=%s"


def _client_text(value: str, limit: int) -> str:
    """``value`` safe for one line of text: printable, bounded."""
    if len(value) > limit:
        value = value[:limit] + "..."
    if not value.isprintable():
        value = value.encode("unicode_escape").decode("ascii")
    return value


def _request_id(request: HttpRequest) -> str:
    """The runtime's request id, else the client's ``X-Request-Id``, else a new one."""
    if request.request_id:
        return request.request_id
    for name, value in request.headers:
        if (
            len(name) == 12
            and name.lower() == "x-request-id"
            and 0 < len(value) <= _MAX_REQUEST_ID
            and value.isascii()
            and value.isprintable()
            and " " not in value
        ):
            return value
    return os.urandom(8).hex()


class AccessLog:
    """Writes one INFO line per request on ``logger`` (``grpcgw.access``).

    Fields, in the record and in JSON output: ``method``, ``path`` (raw, no
    query), ``route`` (the HttpRule template, ``None`` when no route matched),
    ``rpc`` (``/package.Service/Method``), ``status`` (HTTP), ``grpc_code``
    (the name, ``OK`` on success), ``duration_ms``, ``bytes_in`` (request body),
    ``bytes_out`` (response body, streams counted to their end), ``request_id``
    and ``remote_addr``.
    """

    __slots__ = ("logger",)

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)

    def enabled(self) -> bool:
        """Whether a line would be written now (the logger lets INFO through)."""
        return self.logger.isEnabledFor(logging.INFO)

    def emit(
        self,
        request: HttpRequest,
        *,
        route: str | None,
        rpc: str | None,
        status: int,
        code: str,
        start: float,
        bytes_out: int,
    ) -> None:
        """Log a request answered with ``status`` and gRPC ``code`` after ``start``
        (a :func:`time.perf_counter` reading)."""
        logger = self.logger
        if not logger.isEnabledFor(logging.INFO):
            return
        duration_ms = (time.perf_counter() - start) * 1000.0
        path = _client_text(request.path, _MAX_PATH)
        request_id = _request_id(request)
        bytes_in = len(request.body)
        args = (
            request.method,
            path,
            status,
            code,
            duration_ms,
            bytes_in,
            bytes_out,
            route or "-",
            rpc or "-",
            request_id,
        )
        record = _record(logger.name, args)
        fields = record.__dict__
        fields["method"] = request.method
        fields["path"] = path
        fields["route"] = route
        fields["rpc"] = rpc
        fields["status"] = status
        fields["grpc_code"] = code
        fields["duration_ms"] = round(duration_ms, 3)
        fields["bytes_in"] = bytes_in
        fields["bytes_out"] = bytes_out
        fields["request_id"] = request_id
        fields["remote_addr"] = request.remote_addr
        logger.handle(record)


# A LogRecord's attributes that are the same for every access line, made once per
# process: LogRecord() itself (file name, module, process name) and Logger.info
# (the caller's frame) cost about 15 µs a line, more than the rest of the gateway.
_template: dict[str, Any] | None = None


def _record(name: str, args: tuple[Any, ...]) -> logging.LogRecord:
    """A LogRecord of an access line, made as the record factory makes it (when the
    application installed its own factory, by that factory)."""
    global _template
    factory = logging.getLogRecordFactory()
    if factory is not logging.LogRecord:  # e.g. one adding a trace id: keep it in charge
        return factory(name, logging.INFO, __file__, 0, _ACCESS_MESSAGE, args, None, "emit")
    if _template is None or _template["name"] != name:
        _template = logging.LogRecord(
            name, logging.INFO, __file__, 0, _ACCESS_MESSAGE, (), None, "emit"
        ).__dict__
    record = logging.LogRecord.__new__(logging.LogRecord)
    fields = record.__dict__
    fields.update(_template)
    created = time.time()
    fields["created"] = created
    fields["msecs"] = int((created - int(created)) * 1000) + 0.0
    fields["relativeCreated"] = (created - logging._startTime) * 1000  # type: ignore[attr-defined]
    thread = threading.current_thread()
    fields["thread"] = thread.ident
    fields["threadName"] = thread.name
    fields["args"] = args
    return record


def _forget_template() -> None:
    global _template
    _template = None  # the process id and name are the parent's


os.register_at_fork(after_in_child=_forget_template)


# -- formatting ----------------------------------------------------------------------

#: The attributes every LogRecord has; the others came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(
    (
        *logging.LogRecord("", 0, "", 0, "", (), None).__dict__,
        "message", "asctime", "taskName",
        # set by the Lambda runtime's filter on its own handler
        "aws_request_id", "tenant_id", "_frame_type",
    )
)  # fmt: skip


#: What the formatters say of the process that writes, set by :func:`tag_process`:
#: its role as text ("worker 2", "supervisor") and its worker number (None: the
#: supervisor). None: the process serves alone, and its lines say nothing of it.
_tag: tuple[str, int | None] | None = None


def tag_process(worker: int | None) -> None:
    """Have every line grpcgw's formatters write from now on say which process wrote it:
    its pid and ``worker`` number, ``None`` for a supervisor. For processes that
    write to one stream (``serve_local(workers=N)`` tags the supervisor and each
    worker); text lines get ``[pid 101 worker 1]`` before the logger's name, JSON
    ones ``"pid"`` and ``"worker"`` (``null`` for the supervisor)."""
    global _tag
    _tag = ("supervisor" if worker is None else f"worker {worker}", worker)


def untag_process() -> None:
    """Lines no longer say which process wrote them (:func:`tag_process` undone)."""
    global _tag
    _tag = None


_last_second: tuple[int, str] = (-1, "")


def _timestamp(created: float) -> str:
    """ISO 8601 in UTC with milliseconds: ``2026-12-02T10:11:12.345Z``."""
    global _last_second
    seconds = int(created)
    millis = int((created - seconds) * 1000)
    last, text = _last_second
    if seconds != last:  # strftime once a second, not once a line
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _last_second = (seconds, text)
    return f"{text}.{millis:03d}Z"


class TextFormatter(logging.Formatter):
    """``<UTC time> <LEVEL> <logger> <message>``, then the traceback if any; in a
    tagged process (:func:`tag_process`) ``[pid <pid> worker <n>]`` (or
    ``supervisor``) before the logger."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _timestamp(record.created)

    def formatMessage(self, record: logging.LogRecord) -> str:
        tag = _tag
        if tag is None:
            return super().formatMessage(record)
        who = f"[pid {record.process or os.getpid()} {tag[0]}]"
        return f"{record.asctime} {record.levelname} {who} {record.name} {record.message}"


# Made once: json.dumps with arguments builds a new encoder per call.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``timestamp``, ``level``, ``logger``, in a tagged
    process (:func:`tag_process`) ``pid`` and ``worker``, ``message``, every
    ``extra`` field (the access log's among them), and for an exception
    ``errorType``, ``errorMessage`` and ``stackTrace`` (the keys the Lambda
    runtime's JSON uses, so one query reads both)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
        }
        tag = _tag
        if tag is not None:
            entry["pid"] = record.process or os.getpid()
            entry["worker"] = tag[1]
        entry["message"] = record.getMessage()
        for key, value in record.__dict__.items():  # in order: the extras come last
            if key not in _RECORD_ATTRIBUTES:
                entry.setdefault(key, value)
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, exc, tb = record.exc_info
            entry["errorType"] = exc_type.__name__
            entry["errorMessage"] = str(exc)
            entry["stackTrace"] = traceback.format_exception(exc_type, exc, tb)
        if record.stack_info:
            entry["stack"] = record.stack_info
        return _encode(entry)


def _level(level: int | str) -> int:
    if isinstance(level, bool):
        raise ValueError(f"not a log level: {level!r}")
    if isinstance(level, int):
        return level
    name = level.strip().upper()
    name = {"WARN": "WARNING", "FATAL": "CRITICAL", "TRACE": "DEBUG"}.get(name, name)
    value = logging.getLevelNamesMapping().get(name)
    if value is None:
        raise ValueError(f"not a log level: {level!r} (DEBUG, INFO, WARNING, ERROR or CRITICAL)")
    return value


def is_configured() -> bool:
    """Whether the application (or a runtime) has set up logging: the root logger,
    or grpcgw's own, has a handler."""
    return any(logging.getLogger(name).handlers for name in ("", "grpcgw", ACCESS_LOGGER))


def formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter for ``"text"`` or ``"json"``."""
    if log_format == "json":
        return JsonFormatter()
    if log_format == "text":
        return TextFormatter()
    raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")


def configure(
    log_format: LogFormat = "text",
    level: int | str = "INFO",
    *,
    stream: Any = None,
) -> bool:
    """Log to standard error (or ``stream``) in ``log_format`` at ``level``, unless
    logging is already set up (:func:`is_configured`): then nothing changes.

    Returns whether it configured logging. Bad values raise ``ValueError``,
    even when nothing would change.
    """
    fmt = formatter(log_format)
    value = _level(level)
    if is_configured():
        return False
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(fmt)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(value)
    return True


def level_names() -> Sequence[str]:
    """The level names :func:`configure` takes (for command-line choices)."""
    return ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class RateLimitedLog:
    """Log the first of a kind of event at once, then at most one line per ``interval``.

    Events an attacker can cause (malformed requests, slow clients) or that
    repeat by the thousand (``EMFILE`` on every accept) get one line, with a
    count of the ones left out since the last.
    """

    __slots__ = ("_interval", "_level", "_logger", "_next", "_skipped")

    def __init__(self, logger: logging.Logger, level: int, interval: float = 10.0) -> None:
        self._logger = logger
        self._level = level
        self._interval = interval
        self._next = 0.0
        self._skipped = 0

    def __call__(self, message: str, *args: object) -> None:
        if not self._logger.isEnabledFor(self._level):
            return
        now = time.monotonic()
        if now < self._next:
            self._skipped += 1
            return
        if self._skipped:
            message += f" ({self._skipped} more like this in the last {self._interval:g} s)"
            self._skipped = 0
        self._next = now + self._interval
        self._logger.log(self._level, message, *args)
