"""The table of hostile Lambda events and contexts (lambda_cases.py) against
``serve_lambda``: in process, then through the real awslambdaric.

For each case: the status; for an error, the ``google.rpc.Status`` body with the
code, a message naming the field at fault and no internals, in exactly the
event source's response shape; what reached the servicer, for an event taken;
no traceback and nothing at ERROR in the log; the handler still serving.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest

from grpcgw import LambdaOptions, serve_lambda
from grpcgw.awslambda import LambdaHandler

from ..lambda_runtime import FakeRuntime, LambdaProcess, lambda_function
from .apps import Reporting
from .checks import status_body
from .lambda_cases import (
    CONTEXT_CASES,
    EVENT_CASES,
    REQUEST_ID_CASES,
    Context,
    EventCase,
    OddContext,
    base_event,
    error_shape,
)

HANDLER = "tests.reliability.lambda_app.handler"
BOUND = 30


@pytest.fixture(scope="module")
def handler() -> Iterator[LambdaHandler]:
    directory = tempfile.mkdtemp(prefix="gw-", dir="/tmp")
    h = serve_lambda(Reporting(), lambda_options=LambdaOptions(socket_dir=directory))
    yield h
    h.stop()
    shutil.rmtree(directory, ignore_errors=True)


def _echo(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])  # type: ignore[no-any-return]


def check_answer(case: EventCase, response: dict[str, Any]) -> None:
    """``response`` is the answer ``case`` must get."""
    assert isinstance(response, dict), response
    assert response["statusCode"] == case.status, (case.name, response)
    if case.status == 200:
        if case.check is not None:
            case.check(_echo(response))
        return
    assert case.code is not None
    body = status_body(response["body"].encode(), case.code, ("/tmp/", "grpcgw-"))
    assert case.mentions in body["message"], body
    assert response == error_shape(case.source, case.status, response["body"])


def _alarming(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize("case", EVENT_CASES, ids=[c.name for c in EVENT_CASES])
def test_hostile_event(
    handler: LambdaHandler, caplog: pytest.LogCaptureFixture, case: EventCase
) -> None:
    caplog.set_level(logging.INFO, logger="grpcgw")
    check_answer(case, handler(copy.deepcopy(case.event), Context()))
    _echo(handler(base_event(case.source), Context()))  # still serving
    assert not _alarming(caplog)
    # At most one line for a bad event (it comes from a misconfigured integration or
    # a direct invocation: API Gateway never sends one for a client's request).
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) <= 1, warnings
    assert all(w.startswith("bad ") for w in warnings), warnings


@pytest.mark.parametrize(("name", "context"), CONTEXT_CASES, ids=[c[0] for c in CONTEXT_CASES])
def test_a_context_without_a_usable_remaining_time(
    handler: LambdaHandler, caplog: pytest.LogCaptureFixture, name: str, context: Any
) -> None:
    # max_deadline (900 s, Lambda's longest timeout) less the 0.5 s margin; the
    # server sees it rounded up to the grpc-timeout header's precision.
    echo = _echo(handler(base_event("apigw-http-v2-minimal-get"), context))
    assert 890 < float(echo["metadata"]["deadline"]) <= 900
    assert not _alarming(caplog)


@pytest.mark.parametrize(
    ("name", "request_id"), REQUEST_ID_CASES, ids=[c[0] for c in REQUEST_ID_CASES]
)
def test_a_request_id_metadata_cannot_carry(
    handler: LambdaHandler, caplog: pytest.LogCaptureFixture, name: str, request_id: Any
) -> None:
    echo = _echo(
        handler(base_event("apigw-http-v2-minimal-get"), OddContext(request_id=request_id))
    )
    assert "x-lambda-request-id" not in echo["metadata"]
    assert not _alarming(caplog)


# -- through the real awslambdaric ----------------------------------------------------------


@pytest.fixture(scope="module")
def runtime() -> Iterator[tuple[FakeRuntime, LambdaProcess]]:
    with lambda_function(HANDLER, env_extra={"AWS_LAMBDA_LOG_LEVEL": "INFO"}) as (rt, proc):
        rt.wait_for_next(BOUND)
        yield rt, proc


def test_every_event_case_through_the_real_runtime(
    runtime: tuple[FakeRuntime, LambdaProcess],
) -> None:
    """The same answers when the event comes as JSON from the Runtime API and the
    answer goes back as JSON (a lone surrogate survives both ways as a 400), with
    no invocation error and no traceback."""
    rt, proc = runtime
    for case in EVENT_CASES:
        if json.loads(json.dumps(case.event)) != case.event:
            continue  # JSON cannot say it (a header name that is a number)
        inv = rt.invoke(case.event, timeout=BOUND)
        assert inv.kind == "response", (case.name, inv.payload)
        check_answer(case, inv.payload)
    inv = rt.invoke(base_event("apigw-http-v2-minimal-get"), timeout=BOUND)
    _echo(inv.payload)
    assert proc.count("Traceback") == 0, proc.output
    assert rt.protocol_errors == []


@pytest.mark.parametrize(
    ("name", "offset_ms", "status"),
    [
        ("deadline passed", -5_000, 504),
        ("deadline now", 0, 504),
        ("deadline in 10**15 ms", 10**15, 200),
    ],
)
def test_deadlines_the_runtime_reports(
    runtime: tuple[FakeRuntime, LambdaProcess], name: str, offset_ms: int, status: int
) -> None:
    rt, _ = runtime
    event = base_event("apigw-http-v2-minimal-get", path="/hang" if status == 504 else "/my/path")
    inv = rt.invoke(event, deadline_ms=int(time.time() * 1000) + offset_ms, timeout=BOUND)
    assert inv.kind == "response", inv.payload
    assert inv.payload["statusCode"] == status, inv.payload
    if status == 200:
        assert 890 < float(_echo(inv.payload)["metadata"]["deadline"]) <= 900
    else:
        status_body(inv.payload["body"].encode(), 4)
