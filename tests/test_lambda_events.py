"""Lambda events and contexts, unit by unit: the deadline a context gives, request
context that is forwarded, options that are checked, replies no event source can
carry, and a handler that never crashes.

What each hostile event or context answers, case by case, is the reliability
table (tests/reliability/lambda_cases.py), run in process and under the real
awslambdaric; fuzzing the event adapters is tests/reliability/test_fuzz.py.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grpcgw import LambdaOptions, serve_lambda
from grpcgw.awslambda import LambdaHandler

from .modes import MODES
from .reliability.apps import Reporting
from .reliability.lambda_cases import (
    CONTEXT_SOURCES,
    FIELDS,
    SOURCES,
    SURROGATE,
    Context,
    OddContext,
    base_event,
    error_shape,
    load,
    set_at,
)


@pytest.fixture(scope="module", params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Each dispatch mode: the deadline and metadata the servicer sees must agree."""
    return str(request.param)


@pytest.fixture(scope="module")
def handler(mode: str) -> Iterator[LambdaHandler]:
    import shutil
    import tempfile

    d = tempfile.mkdtemp(prefix="gw-", dir="/tmp")
    h = serve_lambda(Reporting(), lambda_options=LambdaOptions(socket_dir=d), dispatch=mode)
    yield h
    h.stop()
    shutil.rmtree(d, ignore_errors=True)


def echo(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])  # type: ignore[no-any-return]


# -- the request context -------------------------------------------------------------------


@pytest.mark.parametrize("source", CONTEXT_SOURCES)
def test_a_real_source_ip_is_forwarded(handler: LambdaHandler, source: str) -> None:
    event = base_event(source)
    for ip in ("198.51.100.7", "2001:db8::1"):
        set_at(event, FIELDS[source]["source_ip"], ip)
        assert echo(handler(event, Context()))["metadata"]["x-forwarded-for"].endswith(ip)


def test_an_authorizer_that_is_not_json_is_left_out(handler: LambdaHandler) -> None:
    event = load("apigw-http-v2-get-cookies-query")
    event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": object()}}}
    assert "x-apigateway-authorizer" not in echo(handler(event, Context()))["metadata"]
    event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "caf\u00e9\n" + SURROGATE}}}
    claims = echo(handler(event, Context()))["metadata"]["x-apigateway-authorizer"]
    assert json.loads(claims)["jwt"]["claims"]["sub"] == "caf\u00e9\n" + SURROGATE


# -- the Lambda context: every bad value is handled -----------------------------------------


def _deadline(response: dict[str, Any]) -> float:
    return float(echo(response)["metadata"]["deadline"])


def _counted_down(handler: LambdaHandler, context: Any) -> tuple[float, float]:
    """The time the servicer saw left, and how long the invocation took: the most the
    deadline can have counted down by between the handler taking it and the servicer
    reading it. (A bound on what remains that holds on a loaded machine too: how long
    the servicer takes to run is scheduling-dependent.)"""
    start = time.monotonic()
    left = _deadline(handler(base_event("apigw-http-v2-minimal-get"), context))
    return left, time.monotonic() - start


def test_max_deadline_is_configurable(sock_dir: Path, mode: str) -> None:
    h = serve_lambda(
        Reporting(),
        lambda_options=LambdaOptions(socket_dir=str(sock_dir), max_deadline=60, deadline_margin=5),
        dispatch=mode,
    )
    try:
        # The budget less what the invocation took (the servicer shows ms), and not
        # above the budget but for grpc rounding the timeout it sends up.
        for remaining, budget, most in ((None, 55, 56), (10**9, 55, 56), (10_000, 5, 6)):
            left, took = _counted_down(h, OddContext(remaining=remaining))
            assert budget - took - 0.001 <= left <= most, (remaining, left, took)
    finally:
        h.stop()


@pytest.mark.parametrize("remaining", [0, -5, -(10**15), -math.inf, 1.5])
def test_no_time_left_answers_504_at_once(handler: LambdaHandler, remaining: Any) -> None:
    event = base_event("apigw-http-v2-minimal-get")
    event["rawPath"] = "/hang"
    response = handler(event, OddContext(remaining=remaining))
    assert (response["statusCode"], json.loads(response["body"])["code"]) == (504, 4)


def test_a_float_remaining_time_is_used(handler: LambdaHandler) -> None:
    left, took = _counted_down(handler, OddContext(2500.0))
    assert 2 - took - 0.001 <= left <= 2.1, (left, took)


def test_a_good_request_id_is_sent(handler: LambdaHandler) -> None:
    md = echo(handler(base_event("apigw-http-v2-minimal-get"), OddContext(request_id="r-1")))
    assert md["metadata"]["x-lambda-request-id"] == "r-1"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("deadline_margin", -1, ValueError),
        ("deadline_margin", math.nan, ValueError),
        ("deadline_margin", "1", TypeError),
        ("max_deadline", math.inf, ValueError),
        ("max_deadline", 0.25, ValueError),  # shorter than the margin
        ("max_workers", 0, ValueError),
        ("max_workers", 2.5, TypeError),
        ("socket_dir", "", ValueError),
        ("strip_stage", "yes", TypeError),
        ("reflection", 1, TypeError),
        ("base_path", None, TypeError),
        ("binary_media_types", ["image/*", 3], TypeError),
        ("binary_media_types", 5, TypeError),
    ],
)
def test_lambda_options_are_checked(field: str, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=field):
        LambdaOptions(**{field: value})


def test_one_binary_media_type_given_bare_is_one_type_not_its_characters() -> None:
    assert LambdaOptions(binary_media_types="text/csv").binary_media_types == ("text/csv",)
    assert LambdaOptions(binary_media_types=["a/*", "b/c"]).binary_media_types == ("a/*", "b/c")


# -- replies no event source can carry -------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_a_reply_header_no_source_can_carry_is_dropped(source: str) -> None:
    from grpcgw.awslambda.events import EventOptions, detect
    from grpcgw.gateway import HttpResponse

    headers = [
        ("X-Ok", "fine\tvalue"),
        ("X-Crlf", "a\r\nSet-Cookie: evil=1"),
        ("X-Nul", "a\x00b"),
        ("X-Surrogate", SURROGATE),
        ("Bad Name", "x"),
        ("X-Int", 5),
        ("X-Also-Ok", "caf\u00e9"),
    ]
    out = detect(base_event(source), EventOptions()).response(
        HttpResponse(200, headers, b"{}")  # type: ignore[arg-type]
    )
    json.dumps(out).encode()  # what awslambdaric does with it: must not fail
    names = set(out.get("headers") or out.get("multiValueHeaders") or {})
    assert names == {"X-Ok", "X-Also-Ok"}


class _WildHook:
    """A response hook that puts a header value with CR/LF on every reply."""

    def __call__(self, request: Any, response: Any, reply: Any) -> Any:
        response.headers.append(("X-Injected", "a\r\nb"))
        response.headers.append(("X-Kept", "ok"))
        return response


def _with_response_hook(h: LambdaHandler, hook: Any) -> None:
    """Give the handler's gateway a ``response_hook`` (what a user's may do)."""
    from grpcgw.gateway import Gateway

    h._gateway = Gateway(
        [s.descriptor for s in h.services],
        invoker=h._invoker if h._direct is None else h._direct.invoker,
        options=h.options,
        response_hook=hook,
    )


def test_a_handler_never_crashes_on_a_reply_it_cannot_shape(sock_dir: Path, mode: str) -> None:
    h = serve_lambda(
        Reporting(), lambda_options=LambdaOptions(socket_dir=str(sock_dir)), dispatch=mode
    )
    try:
        _with_response_hook(h, _WildHook())
        for source in SOURCES:
            out = h(base_event(source), Context())
            assert out["statusCode"] == 200
            headers = out.get("headers") or out.get("multiValueHeaders")
            assert "X-Kept" in headers
            assert "X-Injected" not in headers
        # Whatever else goes wrong inside becomes a 500 Status in the source's shape.
        _with_response_hook(h, lambda request, response, reply: 42)
        for source in SOURCES:
            out = h(base_event(source), Context())
            assert out == error_shape(source, 500, out["body"])
            assert json.loads(out["body"]) == {
                "code": 13,
                "message": "internal gateway error",
                "details": [],
            }
    finally:
        h.stop()
