"""Limits on what an HTTP client may hold of the server: time, connections, head sizes.

One frozen record of plain numbers, shared by ``serve_local``, ``grpcgw proxy``
and :func:`grpcgw.web.start_server`. Pure (stdlib only): the aiohttp shell in
:mod:`grpcgw.httpserver` enforces it. A timeout of ``None`` means no limit.

The defaults and where they come from are in ``docs/options.md``: short enough
that slow or idle clients cannot hold the server (slowloris), long enough for a
real client on a poor link.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpLimits:
    """How long and how much an HTTP client may take; ``None`` disables a timeout."""

    #: Seconds a client has to send a complete request line and headers, counted
    #: from the connection's opening and, on a kept-alive connection, from the
    #: first byte of the next request. Beyond it: ``408`` and close (or a plain
    #: close if nothing came). Over HTTPS it also bounds the TLS handshake.
    header_timeout: float | None = field(
        default=10.0,
        metadata={"help": "seconds to receive a request's line and headers (408 beyond)"},
    )
    #: Seconds a kept-alive connection may wait, idle, for its next request.
    idle_timeout: float | None = field(
        default=75.0, metadata={"help": "seconds an idle keep-alive connection is kept"}
    )
    #: Seconds the server waits for the next piece of a request body (``408`` beyond).
    body_read_timeout: float | None = field(
        default=30.0,
        metadata={"help": "seconds of silence allowed while a request body arrives (408 beyond)"},
    )
    #: Seconds the whole request body may take to arrive (``408`` beyond).
    body_timeout: float | None = field(
        default=300.0, metadata={"help": "seconds a whole request body may take (408 beyond)"}
    )
    #: Seconds a response write may wait for a client that does not read; the
    #: connection is then aborted.
    send_timeout: float | None = field(
        default=60.0,
        metadata={"help": "seconds a response may wait for a client that does not read"},
    )
    #: Connections served at once. Beyond it, new connections wait in the listen
    #: backlog until one closes. Lowered to what ``RLIMIT_NOFILE`` leaves room for.
    max_connections: int | None = field(
        default=1000, metadata={"help": "connections served at once (more wait to be accepted)"}
    )
    #: Length of the listen queue (connections the kernel holds before accept).
    backlog: int = field(default=128, metadata={"help": "listen backlog"})
    #: Longest request line (method, target, version) in bytes; also the longest
    #: chunk-size line (the size and its extensions) of a chunked request body.
    max_request_line: int = field(
        default=8190,
        metadata={"help": "longest request line in bytes (414 beyond), and chunk-size line (400)"},
    )
    #: Longest header field (name and value) in bytes.
    max_header_size: int = field(
        default=8190, metadata={"help": "longest header field in bytes (431 beyond)"}
    )
    #: Most header fields in one request.
    max_headers: int = field(
        default=128, metadata={"help": "most header fields in a request (431 beyond)"}
    )

    #: Largest request head in bytes: the request line, the header fields and the
    #: blank line that ends them. Counted as the head arrives, across packets, so a
    #: client cannot make the server hold ``max_headers`` fields of
    #: ``max_header_size`` bytes each (about 1 MiB, ~1.8 MB once parsed) per
    #: connection; 64 KiB holds the 60 KiB of metadata a gRPC call may carry.
    max_head_size: int = field(
        default=65536,
        metadata={
            "help": "largest request head (request line and header fields) in bytes (431 beyond)"
        },
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            kind = _KINDS[f.name]
            if value is None and _OPTIONAL[f.name]:
                continue
            if kind is float:
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                if not ok or not math.isfinite(value) or value <= 0:
                    raise ValueError(f"HttpLimits.{f.name} must be a positive number or None")
            elif not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"HttpLimits.{f.name} must be a positive integer")
        # A head holds its request line and any one field whole: a smaller head limit
        # would silently replace those limits (a 431 where their 414 or 431 is due).
        for other in ("max_request_line", "max_header_size"):
            if self.max_head_size < getattr(self, other):
                raise ValueError(
                    f"HttpLimits.max_head_size ({self.max_head_size}) must be at least "
                    f"{other} ({getattr(self, other)})"
                )

    @classmethod
    def from_strings(cls, values: dict[str, str]) -> HttpLimits:
        """Limits from text (flags, environment, files): numbers, or ``none`` for no limit."""
        parsed: dict[str, Any] = {}
        for name, text in values.items():
            if name not in _KINDS:
                raise ValueError(f"unknown limit {name!r}")
            parsed[name] = parse_value(name, text)
        return cls(**parsed)


def _kinds() -> tuple[dict[str, type], dict[str, bool]]:
    hints = typing.get_type_hints(HttpLimits)
    kinds: dict[str, type] = {}
    optional: dict[str, bool] = {}
    for name, hint in hints.items():
        args = typing.get_args(hint) or (hint,)
        kinds[name] = float if float in args else int
        optional[name] = type(None) in args
    return kinds, optional


_KINDS, _OPTIONAL = _kinds()


def parse_value(name: str, text: str) -> float | int | None:
    """One limit's value from text: ``"10"``, ``"2.5"``, or ``"none"`` where allowed."""
    text = text.strip()
    if text.lower() in ("none", "off") and _OPTIONAL[name]:
        return None
    try:
        return float(text) if _KINDS[name] is float else int(text)
    except ValueError:
        kind = "a number" if _KINDS[name] is float else "an integer"
        also = " or none" if _OPTIONAL[name] else ""
        raise ValueError(f"{name} must be {kind}{also}, not {text!r}") from None


def limit_fields() -> list[tuple[str, type, bool, str]]:
    """``(name, int or float, accepts None, help)`` for each limit, in declaration order."""
    return [
        (f.name, _KINDS[f.name], _OPTIONAL[f.name], str(f.metadata.get("help", "")))
        for f in fields(HttpLimits)
    ]


__all__ = ["HttpLimits", "limit_fields", "parse_value"]
