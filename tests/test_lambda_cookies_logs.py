"""Cookies and log lines on Lambda, end to end under the real awslambdaric.

A servicer sets two cookies as ``set-cookie`` metadata; every event source
answers them in its own shape (v2 ``cookies``, ``multiValueHeaders``, one
name per cookie where a source has single-value headers). The access log
comes out through the runtime's own log handler: as its JSON with the
invocation's ``requestId`` under ``AWS_LAMBDA_LOG_FORMAT=JSON``, as its text
line otherwise. The log formats are the runtime's, whatever the dispatch mode:
each mode runs with JSON, and socket mode with text too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from .lambda_runtime import FakeRuntime, LambdaProcess, lambda_function
from .servicers import COOKIES
from .test_lambda_e2e import EVENTS_DIR, TIMEOUT, http_event

HANDLER = "tests.lambda_apps.cookies.handler"
ORIGIN = "https://app.example.com"
SOURCES = [
    "rest-v1",
    "http-v2",
    "function-url",
    "alb",
    "alb-multi",
    "vpc-lattice-v1",
    "vpc-lattice-v2",
]


def event(source: str) -> dict[str, Any]:
    """``GET /v1/ping`` from ``ORIGIN`` as ``source`` sends it."""
    if source.startswith("vpc-lattice"):
        name = "vpc-lattice-v1-base64" if source.endswith("v1") else "vpc-lattice-v2"
        ev: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text("utf-8"))
        ev["raw_path" if source.endswith("v1") else "path"] = "/v1/ping"
        for key in ("body", "query_string_parameters", "queryStringParameters"):
            ev.pop(key, None)
        ev.pop("is_base64_encoded", None)
        ev["headers"]["origin"] = ORIGIN
        return ev
    ev = http_event(source, "/v1/ping")
    for field in ("headers", "multiValueHeaders"):
        headers = ev.get(field)
        if isinstance(headers, dict):  # the sample may have an Origin of its own
            for name in [k for k in headers if k.lower() == "origin"]:
                del headers[name]
            headers["origin"] = [ORIGIN] if field == "multiValueHeaders" else ORIGIN
    return ev


def cookies(source: str, response: dict[str, Any]) -> list[str]:
    """The cookies of ``response``, read the way ``source`` carries them."""
    if source in ("http-v2", "function-url"):
        assert not any(k.lower() == "set-cookie" for k in response["headers"])
        return list(response["cookies"])
    if source in ("rest-v1", "alb-multi"):
        return list(response["multiValueHeaders"]["Set-Cookie"])
    named = [(k, v) for k, v in response["headers"].items() if k.lower() == "set-cookie"]
    assert len({k for k, _ in named}) == len(named)  # one name per cookie, none overwritten
    return sorted(v for _, v in named)


def header(response: dict[str, Any], name: str) -> Any:
    if "multiValueHeaders" in response:
        return response["multiValueHeaders"].get(name)
    return response["headers"].get(name)


#: (log format, dispatch mode) of each process: both modes, both formats, three processes.
RUNS = [("JSON", "socket"), ("Text", "socket"), ("JSON", "direct")]
#: What the handler logs once at init, in each mode.
INIT_LOGS = {"socket": "gRPC server listening on unix://", "direct": "serving in process"}


@pytest.fixture(scope="module", params=RUNS, ids=["-".join(run) for run in RUNS])
def function(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[FakeRuntime, LambdaProcess, str, str]]:
    log_format, mode = request.param
    env = {
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "AWS_LAMBDA_LOG_FORMAT": log_format,
        "GRPCGW_TEST_DISPATCH": mode,
    }
    with lambda_function(HANDLER, env_extra=env) as (rt, proc):
        rt.wait_for_next(TIMEOUT)
        yield rt, proc, log_format, mode


@pytest.mark.parametrize("source", SOURCES)
def test_cookies_and_one_access_line_per_invocation(
    function: tuple[FakeRuntime, LambdaProcess, str, str], source: str
) -> None:
    rt, proc, log_format, _ = function
    inv = rt.invoke(event(source), timeout=TIMEOUT)
    assert inv.kind == "response", inv.payload
    response = inv.payload
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"]) == {"message": "Pong"}
    expected = list(COOKIES) if "lattice" not in source and source != "alb" else sorted(COOKIES)
    assert cookies(source, response) == expected
    allow = header(response, "Access-Control-Allow-Origin")
    assert allow in (ORIGIN, [ORIGIN])
    [line] = proc.wait_for_line(inv.request_id, timeout=TIMEOUT)
    if log_format == "JSON":
        entry = json.loads(line)
        assert entry["logger"] == "grpcgw.access"
        assert entry["level"] == "INFO"
        assert entry["requestId"] == inv.request_id
        assert {
            "method": "GET",
            "path": "/v1/ping",
            "route": "/v1/ping",
            "rpc": "/example.v1.PingService/Ping",
            "status": 200,
            "grpc_code": "OK",
            "bytes_in": 0,
            "bytes_out": len(response["body"]),
            "request_id": inv.request_id,
        }.items() <= entry.items()
        assert entry["message"].startswith("GET /v1/ping 200 OK ")
    else:
        level, _, request_id, message = line.split("\t")
        assert (level, request_id) == ("[INFO]", inv.request_id)
        assert message.startswith("GET /v1/ping 200 OK ")
        assert message.endswith(f"id={inv.request_id}")


def test_grpcgws_own_lines_take_the_runtimes_format(
    function: tuple[FakeRuntime, LambdaProcess, str, str],
) -> None:
    _, proc, log_format, mode = function
    [line] = proc.wait_for_line(INIT_LOGS[mode], timeout=TIMEOUT)
    if log_format == "JSON":
        entry = json.loads(line)
        assert (entry["logger"], entry["level"]) == ("grpcgw", "INFO")
    else:
        assert line.startswith("[INFO]\t")
