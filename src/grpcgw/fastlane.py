"""The fast lane: whole simple unary requests answered in the connection protocol.

grpcgw's per-connection protocol (:mod:`grpcgw.httpserver`) hands a packet that
is one whole simple request (:class:`~grpcgw.http11.RequestRules`) for a unary
route to the application's :class:`LaneRouter` (``grpcgw.web``'s gateway lane)
without aiohttp's request objects, answering as aiohttp's path would. This module
holds what the lane needs besides the protocol's own methods: the router's
interface, a server's lane, and the check that this aiohttp has the private state
and C parser the lane's rules mirror (no lane otherwise).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestHandler

from grpcgw.http11 import LEFT_TO_AIOHTTP, RequestRules, SimpleRequest
from grpcgw.limits import HttpLimits

if TYPE_CHECKING:
    from grpcgw.exchange import HttpResponse

__all__ = ["LANE_HOLD", "LANE_ROUTER", "Lane", "LaneRouter", "learn_names", "make_lane"]

log = logging.getLogger("grpcgw")

#: The application key of the fast lane's router builder (set by ``grpcgw.web.create_app``).
LANE_ROUTER: Any = (
    web.AppKey("grpcgw.lane_router", object) if hasattr(web, "AppKey") else "grpcgw.lane_router"
)
#: Bytes held behind a lane request before the connection stops reading.
LANE_HOLD = 2**16
#: Methods the lane serves (HEAD and OPTIONS, with their own answers, go to aiohttp).
_LANE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: Tests only: start servers without the lane (its answers are compared with aiohttp's).
_lane_off = False


class LaneRouter(Protocol):
    """What the fast lane asks of the application (``grpcgw.web``'s gateway lane)."""

    def route(self, method: str, target: str, headers: list[tuple[str, str]]) -> object | None:
        """The routing outcome for a request the lane may serve, or ``None``."""

    def serve(
        self, match: object, request: SimpleRequest, remote: str | None
    ) -> Awaitable[HttpResponse]:
        """The answer (never a stream) to a request ``route`` accepted."""

    @property
    def max_body(self) -> int:
        """The largest request body the lane may read (larger ones go to aiohttp)."""

    def reply_headers(self, headers: Sequence[tuple[str, str]]) -> Sequence[tuple[str, str]]:
        """An answer's headers as the application's own path sends them."""


class Lane:
    """One server's fast lane: the request rules and the application's router."""

    __slots__ = ("date", "router", "rules", "served")

    def __init__(self, rules: RequestRules, router: LaneRouter, date: Callable[[], str]) -> None:
        self.rules = rules
        self.router = router
        #: aiohttp's ``Date`` value for now.
        self.date = date
        #: Requests the lane took (for tests: that it served what they compare).
        self.served = 0


#: aiohttp's private state the lane relies on (checked once: no lane without it).
_LANE_STATE = (
    "_waiter",
    "_messages",
    "_request_count",
    "_manager",
    "_request_in_progress",
    "_handler_waiter",
    "_keepalive",
    "_keepalive_handle",
    "_keepalive_timeout",
    "_next_keepalive_close_time",
    "_close",
    "_force_close",
    "_payload_parser",
)
_lane_names: dict[str, str] | None = None
_lane_supported: bool | None = None


def _lane_support(loop: asyncio.AbstractEventLoop) -> dict[str, str] | None:
    """aiohttp's header names by lower-case name, if this aiohttp has what the lane
    relies on (its C parser and writer, the protocol's state); else ``None``."""
    global _lane_names, _lane_supported
    if _lane_supported is None:
        _lane_supported = False
        try:
            _lane_names = learn_names(loop)
            _lane_supported = _lane_state_present()
        except Exception as exc:  # an aiohttp unlike the ones the lane knows: no lane
            log.debug("no fast lane: %s", exc)
    return _lane_names if _lane_supported else None


def _lane_state_present() -> bool:
    from aiohttp import helpers, http_parser, http_writer

    slots: set[str] = set()
    for cls in RequestHandler.__mro__:
        slots.update(getattr(cls, "__slots__", ()))
    return (
        all(name in slots for name in _LANE_STATE)
        and all(
            callable(getattr(RequestHandler, name, None))
            for name in ("_process_keepalive", "close", "force_close", "_drain_helper")
        )
        and {"_paused", "_upgraded", "_reading_paused", "_buffer_paused"} <= slots
        # The C parser (llhttp) and writer: what the lane's rules mirror.
        and http_parser.HttpRequestParser is getattr(http_parser, "HttpRequestParserC", None)
        and http_writer._serialize_headers is getattr(http_writer, "_c_serialize_headers", None)
        and callable(getattr(helpers, "rfc822_formatted_time", None))
    )


def learn_names(loop: asyncio.AbstractEventLoop) -> dict[str, str]:
    """How aiohttp's parser spells the header names it knows (``content-type`` ->
    ``Content-Type``), asked of the parser itself."""
    from aiohttp.http_parser import HttpRequestParser
    from multidict import istr

    known = sorted({str(v).lower() for v in vars(hdrs).values() if isinstance(v, istr)})
    values = {"content-length": "0", "connection": "keep-alive", "host": "x"}
    fields = [
        f"{name}: {values.get(name, 'v')}".encode("ascii")
        for name in known
        if name not in LEFT_TO_AIOHTTP and name.isascii()
    ]
    head = b"\r\n".join([b"GET / HTTP/1.1", *fields]) + b"\r\n\r\n"
    parser = HttpRequestParser(
        None, loop, 2**16, max_line_size=8190, max_field_size=8190, max_headers=len(fields) + 8
    )
    messages, _, _ = parser.feed_data(head)
    names = {str(name).lower(): str(name) for name in messages[0][0].headers}
    if len(names) != len(fields):
        raise RuntimeError("aiohttp's parser did not give back every header name")
    return names


def make_lane(build: Callable[[], LaneRouter | None], limits: HttpLimits) -> Lane | None:
    """The fast lane of an application whose lane router ``build`` makes (``None``
    where the application declines, or this aiohttp lacks what the lane relies on).

    The lane serves in ``data_received`` a whole simple request that the gateway
    routes to a unary method, answering as aiohttp's path (the lean handler,
    grpcgw's middleware and the ``Server`` name) would; :mod:`grpcgw.httpserver`
    asks for one only while nothing else could change that answer.
    """
    if _lane_off:
        return None
    router = build()
    if router is None:
        return None
    names = _lane_support(asyncio.get_running_loop())
    if names is None:
        return None
    rules = RequestRules(
        methods=_LANE_METHODS,
        max_line=limits.max_request_line,
        max_field=limits.max_header_size,
        max_headers=limits.max_headers,
        max_head=limits.max_head_size,
        max_body=router.max_body,
        names=names,
    )
    from aiohttp.helpers import rfc822_formatted_time

    return Lane(rules, router, rfc822_formatted_time)
