"""Response metadata -> response headers: the default names, cookies, and outgoing matchers."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from example.v1 import ping_pb2, ping_pb2_grpc

from grpcgw import Gateway, HttpRequest
from grpcgw.metadata import (
    OutgoingHeaders,
    default_outgoing_header_matcher,
    default_outgoing_trailer_matcher,
    response_headers,
)

from . import modes
from .modes import Backend
from .servicers import COOKIES, CookiePingServicer, SyncCookiePingServicer

mode, backend = modes.mode, modes.backend


def test_default_names() -> None:
    assert default_outgoing_header_matcher("x-a") == "Grpc-Metadata-x-a"
    assert default_outgoing_trailer_matcher("x-a") == "Grpc-Trailer-x-a"
    assert default_outgoing_header_matcher("set-cookie") == "Set-Cookie"
    assert default_outgoing_trailer_matcher("set-cookie") == "Set-Cookie"
    headers, status = response_headers(
        [("set-cookie", "a=1"), ("x-http-code", "201"), ("x-b-bin", b"\x00\x01")],
        [("set-cookie", "b=2"), ("x-t", "v")],
    )
    assert status == 201
    assert headers == [
        ("Set-Cookie", "a=1"),
        ("Grpc-Metadata-x-b-bin", "AAE="),
        ("Set-Cookie", "b=2"),
        ("Grpc-Trailer-x-t", "v"),
    ]


def test_matchers_rename_and_drop() -> None:
    def header(key: str) -> str | None:
        return {"x-total": "X-Total-Count", "x-drop": None}.get(key, f"X-Md-{key}")

    def trailer(key: str) -> str | None:
        return "X-Trace" if key == "x-trace" else None

    outgoing = OutgoingHeaders(header, trailer)
    for _ in range(2):  # the second time from the remembered names
        headers, status = outgoing(
            [("x-total", "3"), ("x-drop", "z"), ("x-other", "o"), ("x-http-code", "202")],
            [("x-trace", "t"), ("x-gone", "g")],
        )
        assert status == 202  # x-http-code is never a matcher's to rename
        assert headers == [("X-Total-Count", "3"), ("X-Md-x-other", "o"), ("X-Trace", "t")]


@pytest.mark.parametrize(
    "name", ["Content-Length", "content-type", "Transfer-Encoding", "Connection", "bad name", "", 3]
)
def test_a_matcher_cannot_name_a_header_that_frames_the_response(name: Any) -> None:
    outgoing = OutgoingHeaders(lambda key: name)
    assert outgoing([("x-a", "1")], []) == ([], None)


async def call_ping(backend: Backend, servicer: Any, **config: Any) -> Any:
    gw = await backend.gateway(servicer, **config)
    return await gw.handle(HttpRequest("GET", "/v1/ping"))


@pytest.mark.parametrize("servicer", [CookiePingServicer, SyncCookiePingServicer])
async def test_set_cookie_metadata_become_cookies(backend: Backend, servicer: Any) -> None:
    response = await call_ping(backend, servicer())
    assert response.status == 200
    assert [v for k, v in response.headers if k == "Set-Cookie"] == list(COOKIES)
    assert response.header("Grpc-Metadata-x-total") == "2"
    assert response.header("Grpc-Trailer-x-trace") == "t-1"


async def test_gateway_outgoing_matchers(backend: Backend) -> None:
    response = await call_ping(
        backend,
        CookiePingServicer(),
        outgoing_header_matcher=lambda k: "X-Total" if k == "x-total" else None,
        outgoing_trailer_matcher=lambda k: "X-Trace-Id" if k == "x-trace" else None,
    )
    assert response.status == 200
    names = [k for k, _ in response.headers]
    assert names == ["Content-Type", "X-Total", "X-Trace-Id"]  # cookies dropped as asked


class _FailingWithMetadata(ping_pb2_grpc.PingServiceServicer):
    async def Ping(self, request: Any, context: Any) -> ping_pb2.PingResponse:
        await context.send_initial_metadata((("set-cookie", "session=; Max-Age=0"),))
        context.set_trailing_metadata((("x-reason", "expired"),))
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "session expired")
        raise AssertionError("unreachable")


async def test_error_metadata_go_through_the_matchers_too(backend: Backend) -> None:
    gw = await backend.gateway(
        _FailingWithMetadata(),
        outgoing_trailer_matcher=lambda k: "X-Reason" if k == "x-reason" else None,
    )
    response = await gw.handle(HttpRequest("GET", "/v1/ping"))
    assert response.status == 401
    assert response.header("Set-Cookie") == "session=; Max-Age=0"  # a session cleared
    assert response.header("X-Reason") == "expired"
    assert response.json()["message"] == "session expired"


def test_unknown_keywords_are_refused_by_name(example_target: str) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'error_hok'"):
        Gateway([CookiePingServicer()], target=example_target, error_hok=None)  # type: ignore[call-arg]
