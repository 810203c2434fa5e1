"""The fake Lambda Runtime API (tests/lambda_runtime.py), driven by the real awslambdaric."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator

import pytest

from .lambda_runtime import (
    API,
    FUNCTION_ARN,
    FUNCTION_NAME,
    FakeRuntime,
    LambdaProcess,
    RuntimeProcessExited,
    lambda_function,
    run_awslambdaric,
)

TIMEOUT = 20
PLAIN = "tests.lambda_apps.plain.handler"


@pytest.fixture(scope="module")
def plain() -> Iterator[tuple[FakeRuntime, LambdaProcess]]:
    """One warm awslambdaric process running ``plain.handler`` for the whole module."""
    with lambda_function(PLAIN) as (rt, proc):
        rt.wait_for_next(TIMEOUT)
        yield rt, proc


def test_response_round_trip(plain: tuple[FakeRuntime, LambdaProcess]) -> None:
    rt, proc = plain
    far = int(time.time() * 1000) + 600_000
    inv = rt.invoke(
        {"hello": "wörld", "n": [1, 2.5, None]},
        timeout=TIMEOUT,
        deadline_ms=far,
        request_id="req-round-trip",
        trace_id="Root=1-00000000-000000000000000000000001;Sampled=0",
    )
    assert inv.kind == "response"
    assert inv.content_type == "application/json"
    payload = inv.payload
    assert payload["event"] == {"hello": "wörld", "n": [1, 2.5, None]}
    assert payload["request_id"] == "req-round-trip" == inv.request_id
    assert 0 < payload["remaining_ms"] <= 600_000
    assert payload["function_name"] == FUNCTION_NAME
    assert payload["function_version"] == "$LATEST"
    assert payload["memory_limit_in_mb"] == "128"
    assert payload["log_group_name"] == f"/aws/lambda/{FUNCTION_NAME}"
    assert payload["invoked_function_arn"] == FUNCTION_ARN
    assert payload["trace_id"] == "Root=1-00000000-000000000000000000000001;Sampled=0"
    assert payload["client_context_custom"] is None
    assert payload["cognito_identity_id"] is None
    assert payload["pid"] == proc.pid
    proc.wait_for_line("request req-round-trip", timeout=TIMEOUT)
    assert rt.protocol_errors == []


def test_deadline_in_the_past_leaves_no_time(plain: tuple[FakeRuntime, LambdaProcess]) -> None:
    rt, _ = plain
    inv = rt.invoke({}, timeout=TIMEOUT, deadline_ms=1)
    assert inv.kind == "response"
    assert inv.payload["remaining_ms"] == 0


def test_client_context_and_cognito_identity(plain: tuple[FakeRuntime, LambdaProcess]) -> None:
    rt, _ = plain
    inv = rt.invoke(
        {},
        timeout=TIMEOUT,
        client_context={"custom": {"tenant": "t1"}, "env": {}, "client": {}},
        cognito_identity={"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"},
    )
    assert inv.kind == "response"
    assert inv.payload["client_context_custom"] == {"tenant": "t1"}
    assert inv.payload["cognito_identity_id"] == "id-1"


def test_warm_invocations_share_one_process(plain: tuple[FakeRuntime, LambdaProcess]) -> None:
    rt, proc = plain
    first = rt.invoke({"i": 1}, timeout=TIMEOUT)
    second = rt.invoke({"i": 2}, timeout=TIMEOUT)
    assert first.kind == second.kind == "response"
    assert first.request_id != second.request_id
    assert first.payload["pid"] == second.payload["pid"] == proc.pid
    assert first.payload["inits"] == second.payload["inits"] == 1
    assert second.payload["calls"] == first.payload["calls"] + 1
    assert proc.count("plain handler module imported") == 1
    assert proc.poll() is None


def test_queued_invocations_are_served_in_order(plain: tuple[FakeRuntime, LambdaProcess]) -> None:
    rt, _ = plain
    pending = [rt.submit({"i": i}, timeout=TIMEOUT) for i in range(3)]
    done = [inv.wait(TIMEOUT) for inv in pending]
    assert [inv.payload["event"] for inv in done] == [{"i": 0}, {"i": 1}, {"i": 2}]
    calls = [inv.payload["calls"] for inv in done]
    assert calls == sorted(calls)


def test_handler_exception_is_posted_to_error(plain: tuple[FakeRuntime, LambdaProcess]) -> None:
    rt, proc = plain
    inv = rt.invoke({"raise": "no pong today"}, timeout=TIMEOUT)
    assert inv.kind == "error"
    assert inv.payload["errorType"] == "PlainError"
    assert inv.payload["errorMessage"] == "no pong today"
    assert inv.payload["requestId"] == inv.request_id
    assert any("plain.py" in frame for frame in inv.payload["stackTrace"])
    assert inv.error_type == "PlainError"
    proc.wait_for_line("[ERROR] PlainError: no pong today", timeout=TIMEOUT)
    # The process survives a failed invocation and serves the next one.
    after = rt.invoke({"again": True}, timeout=TIMEOUT)
    assert after.kind == "response"
    assert after.payload["pid"] == proc.pid


def test_import_failure_is_posted_to_init_error() -> None:
    with lambda_function("tests.lambda_apps.broken.handler") as (rt, proc):
        error = rt.wait_init_error(TIMEOUT)
        assert error.payload["errorType"] == "RuntimeError"
        assert error.error_type == "RuntimeError"
        assert error.error_message == "tests.lambda_apps.broken fails at import"
        assert any("broken.py" in frame for frame in error.payload["stackTrace"])
        assert proc.wait_exit(TIMEOUT) == 1
        assert ("GET", f"{API}/invocation/next") not in rt.requests
        # An invocation for a dead runtime fails at once instead of timing out.
        with pytest.raises(RuntimeProcessExited, match="exited with code 1"):
            rt.invoke({}, timeout=TIMEOUT)


def test_missing_module_is_an_import_module_error() -> None:
    with lambda_function("tests.lambda_apps.no_such_module.handler") as (rt, proc):
        error = rt.wait_init_error(TIMEOUT)
        assert error.error_type == "Runtime.ImportModuleError"
        assert "tests.lambda_apps.no_such_module" in (error.error_message or "")
        assert proc.wait_exit(TIMEOUT) == 1


def test_snapstart_restore_hooks() -> None:
    env = {"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
    with lambda_function("tests.lambda_apps.snapstart.handler", env_extra=env) as (rt, proc):
        inv = rt.invoke({}, timeout=TIMEOUT)
        assert inv.kind == "response"
        assert inv.payload == {"hooks": ["before_snapshot", "after_restore"]}
        assert rt.restore_next_calls == 1
        assert rt.requests[0] == ("GET", f"{API}/restore/next")
        assert rt.restore_errors == []
        proc.wait_for_line("snapstart hook: after_restore", timeout=TIMEOUT)


def _request(
    rt: FakeRuntime, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(rt.address, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_rejects_unknown_request_ids_and_paths() -> None:
    with FakeRuntime() as rt:
        status, body = _request(rt, "POST", f"{API}/invocation/nope/response", b"{}")
        assert status == 400
        assert json.loads(body)["errorType"] == "InvalidRequestID"
        status, _ = _request(rt, "GET", "/2018-06-01/runtime/invocation/later")
        assert status == 404
        assert len(rt.protocol_errors) == 2


def test_rejects_a_second_answer_for_one_request() -> None:
    with FakeRuntime() as rt:
        inv = rt.submit({"x": 1}, timeout=TIMEOUT)
        status, body = _request(rt, "GET", f"{API}/invocation/next")
        assert status == 200
        assert json.loads(body) == {"x": 1}
        assert (
            _request(rt, "POST", f"{API}/invocation/{inv.request_id}/response", b'"ok"')[0] == 202
        )
        assert inv.wait(TIMEOUT).payload == "ok"
        status, body = _request(rt, "POST", f"{API}/invocation/{inv.request_id}/error", b"{}")
        assert status == 400
        assert json.loads(body)["errorType"] == "InvalidStateTransition"
        assert inv.kind == "response"


def test_close_answers_a_blocked_next() -> None:
    results: list[int] = []
    rt = FakeRuntime()
    try:
        poller = threading.Thread(
            target=lambda: results.append(_request(rt, "GET", f"{API}/invocation/next")[0]),
            daemon=True,
        )
        poller.start()
        rt.wait_for_next(TIMEOUT)
    finally:
        rt.close()
    poller.join(TIMEOUT)
    assert not poller.is_alive()
    assert results == [503]


def test_close_stops_a_runtime_blocked_in_next() -> None:
    rt = FakeRuntime()
    try:
        proc = run_awslambdaric(PLAIN, rt)
        rt.wait_for_next(TIMEOUT)
    finally:
        rt.close()
    assert proc.poll() is not None


def test_invoke_times_out_without_a_runtime() -> None:
    with FakeRuntime() as rt, pytest.raises(TimeoutError, match="no response or error"):
        rt.invoke({}, timeout=0.2)
