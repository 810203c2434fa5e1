"""The table of hostile HTTP requests (http_cases.py) against ``serve_local`` and
``grpcgw proxy``, each in its own process.

For each case: the status; for an error, a ``google.rpc.Status`` JSON body with
the code, a message and no internals; nothing at WARNING or above and no
traceback in the server's log while it handled the case; and an ordinary
request served right after.
"""

from __future__ import annotations

import pytest

from .checks import quiet, status_body
from .conftest import Served
from .harness import exchange, still_serves
from .http_cases import CASES, Case


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_request(gateway: Served, case: Case) -> None:
    mark = gateway.proc.mark()
    reply = exchange(gateway.port, case.raw, head_only=case.head)
    assert reply.status == case.status, (reply, reply.body[:300])
    if case.head:
        assert reply.body == b""
    elif case.code is not None:
        assert reply.header("Content-Type") == "application/json", reply
        body = status_body(reply.body, case.code, gateway.internals)
        assert case.message in body["message"], body
    elif case.body is not None:
        assert reply.body == case.body
    for name, value in case.headers:
        assert reply.header(name) == value, reply
    still_serves(gateway.proc, gateway.port)
    quiet(gateway.proc.since(mark))
