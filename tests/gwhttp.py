"""Requests for ``Gateway.handle`` and checks of its ``google.rpc.Status`` answers,
shared by the gateway-core tests."""

from __future__ import annotations

from typing import Any

from grpcgw import HttpRequest, HttpResponse


def req(method: str, path: str, body: bytes = b"", headers: Any = (), **kwargs: Any) -> HttpRequest:
    """An :class:`HttpRequest` for ``path``, its query string split off."""
    path, _, query = path.partition("?")
    return HttpRequest(method, path, query=query, body=body, headers=list(headers), **kwargs)


def status_of(resp: HttpResponse, http: int, code: int) -> str:
    """Check the response is a Status body with these codes; return its message."""
    assert resp.status == http, resp.body
    assert resp.header("Content-Type") == "application/json"
    body = resp.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    return str(body["message"])
