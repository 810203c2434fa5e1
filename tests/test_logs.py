"""The access log (one line per request, from the gateway core) and grpcgw's formatters."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from typing import Any

import pytest

from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import CorsOptions, Gateway, GatewayOptions, HttpRequest
from grpcgw.logs import (
    ACCESS_LOGGER,
    JsonFormatter,
    TextFormatter,
    configure,
    tag_process,
    untag_process,
)

from .conftest import ROOT

FIELDS = {
    "method",
    "path",
    "route",
    "rpc",
    "status",
    "grpc_code",
    "duration_ms",
    "bytes_in",
    "bytes_out",
    "request_id",
    "remote_addr",
}


@pytest.fixture
def access(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The access records logged during the test (the logger let through at INFO)."""
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    yield records  # type: ignore[misc]
    logger.removeHandler(handler)


@pytest.fixture
async def gw(example_target: str) -> AsyncIterator[Gateway]:
    options = GatewayOptions(access_log=True, cors=CorsOptions(allow_origins=["*"]))
    async with Gateway(
        [PingServicer(), ShelfServicer()], target=example_target, options=options
    ) as g:
        yield g


def fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: getattr(record, k) for k in FIELDS}


async def test_one_line_per_request_with_every_field(
    gw: Gateway, access: list[logging.LogRecord]
) -> None:
    response = await gw.handle(HttpRequest("GET", "/v1/ping", remote_addr="192.0.2.1"))
    assert response.status == 200
    [record] = access
    got = fields(record)
    assert re.fullmatch(r"[0-9a-f]{16}", got.pop("request_id"))
    assert got.pop("duration_ms") >= 0
    assert got == {
        "method": "GET",
        "path": "/v1/ping",
        "route": "/v1/ping",
        "rpc": "/example.v1.PingService/Ping",
        "status": 200,
        "grpc_code": "OK",
        "bytes_in": 0,
        "bytes_out": len(response.body),
        "remote_addr": "192.0.2.1",
    }
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert message.startswith("GET /v1/ping 200 OK ")
    assert f"in=0 out={len(response.body)} route=/v1/ping rpc=/example.v1.PingService/Ping" in (
        message
    )
    assert message.endswith(f"id={record.request_id}")


async def test_request_ids(gw: Gateway, access: list[logging.LogRecord]) -> None:
    await gw.handle(HttpRequest("GET", "/v1/ping", headers=[("X-Request-Id", "abc-123")]))
    await gw.handle(
        HttpRequest("GET", "/v1/ping", headers=[("X-Request-Id", "abc")], request_id="lambda-1")
    )
    # What cannot go on one line as it is, or is too long, is not taken.
    await gw.handle(HttpRequest("GET", "/v1/ping", headers=[("X-Request-Id", "a b")]))
    await gw.handle(HttpRequest("GET", "/v1/ping", headers=[("X-Request-Id", "x" * 129)]))
    ids = [r.request_id for r in access]
    assert ids[:2] == ["abc-123", "lambda-1"]
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids[2:])


async def test_errors_are_logged_with_their_code(
    gw: Gateway, access: list[logging.LogRecord]
) -> None:
    await gw.handle(HttpRequest("GET", "/v1/nowhere"))
    await gw.handle(HttpRequest("DELETE", "/v1/ping"))
    await gw.handle(HttpRequest("GET", "/v1/shelves/none"))
    await gw.handle(HttpRequest("POST", "/v1/shelves", body=b"{nope"))
    got = [(r.status, r.grpc_code, r.route, r.bytes_in) for r in access]
    assert got == [
        (404, "NOT_FOUND", None, 0),
        (405, "UNIMPLEMENTED", None, 0),
        (404, "NOT_FOUND", "/v1/{name=shelves/*}", 0),
        (400, "INVALID_ARGUMENT", "/v1/shelves", 5),
    ]
    assert access[0].getMessage().startswith("GET /v1/nowhere 404 NOT_FOUND ")
    assert " route=- rpc=- " in access[0].getMessage()


async def test_a_stream_is_logged_when_it_ends(
    gw: Gateway, access: list[logging.LogRecord]
) -> None:
    for n in range(3):
        await gw.handle(HttpRequest("POST", "/v1/shelves", query=f"shelf_id={n}", body=b"{}"))
    access.clear()
    response = await gw.handle(HttpRequest("GET", "/v1/shelves:watch"))
    assert response.stream is not None
    assert access == []  # not before its end
    body = await response.read()
    [record] = access
    assert (record.status, record.grpc_code, record.bytes_out) == (200, "OK", len(body))
    assert record.rpc == "/example.v1.ShelfService/WatchShelves"
    # Closed by the client before its end: CANCELLED, with what was sent.
    access.clear()
    response = await gw.handle(HttpRequest("GET", "/v1/shelves:watch"))
    assert response.stream is not None
    first = await anext(response.stream)
    await response.stream.aclose()  # type: ignore[attr-defined]
    [record] = access
    assert (record.grpc_code, record.bytes_out) == ("CANCELLED", len(first))
    # Collected for Lambda: one line, once.
    access.clear()
    buffered = await gw.handle_buffered(HttpRequest("GET", "/v1/shelves:watch"))
    [record] = access
    assert (record.status, record.grpc_code, record.bytes_out) == (200, "OK", len(buffered.body))


async def test_head_and_preflight_are_logged(gw: Gateway, access: list[logging.LogRecord]) -> None:
    await gw.handle(HttpRequest("HEAD", "/v1/ping"))
    await gw.handle(HttpRequest("HEAD", "/v1/shelves:watch"))
    await gw.handle(
        HttpRequest(
            "OPTIONS",
            "/v1/ping",
            headers=[("Origin", "https://a.example"), ("Access-Control-Request-Method", "GET")],
        )
    )
    got = [(r.method, r.status, r.grpc_code) for r in access]
    assert got == [("HEAD", 200, "OK"), ("HEAD", 200, "OK"), ("OPTIONS", 204, "OK")]


@pytest.mark.parametrize("access_log", [None, False])
async def test_off_means_no_line(
    example_target: str, access: list[logging.LogRecord], access_log: bool | None
) -> None:
    options = GatewayOptions(access_log=access_log)
    async with Gateway([PingServicer()], target=example_target, options=options) as gw:
        assert (await gw.handle(HttpRequest("GET", "/v1/ping"))).status == 200
        assert (await gw.handle(HttpRequest("GET", "/nowhere"))).status == 404
    assert access == []


def make_record(**extra: Any) -> logging.LogRecord:
    record = logging.LogRecord(
        "grpcgw.access", logging.INFO, __file__, 1, "hello %s", ("you",), None
    )
    record.created = 1_790_000_000.25
    record.__dict__.update(extra)
    return record


def test_json_formatter() -> None:
    line = JsonFormatter().format(make_record(status=200, route=None))
    assert json.loads(line) == {
        "timestamp": "2026-09-21T14:13:20.250Z",
        "level": "INFO",
        "logger": "grpcgw.access",
        "message": "hello you",
        "status": 200,
        "route": None,
    }
    try:
        raise ValueError("bad")
    except ValueError:
        record = make_record()
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert entry["errorType"] == "ValueError"
    assert entry["errorMessage"] == "bad"
    assert "raise ValueError" in "".join(entry["stackTrace"])


def test_text_formatter() -> None:
    line = TextFormatter().format(make_record(status=200))
    assert line == "2026-09-21T14:13:20.250Z INFO grpcgw.access hello you"


@pytest.mark.parametrize(("worker", "who"), [(2, "worker 2"), (None, "supervisor")])
def test_a_tagged_process_says_which_it_is(worker: int | None, who: str) -> None:
    """``tag_process`` (the supervisor and workers of ``workers=N``): the pid and role
    in every line, text and JSON; untagged, the lines are as before."""
    record = make_record(status=200, process=4242)
    tag_process(worker)
    try:
        text = TextFormatter().format(record)
        entry = json.loads(JsonFormatter().format(record))
    finally:
        untag_process()
    assert text == f"2026-09-21T14:13:20.250Z INFO [pid 4242 {who}] grpcgw.access hello you"
    assert list(entry) == ["timestamp", "level", "logger", "pid", "worker", "message", "status"]
    assert (entry["pid"], entry["worker"]) == (4242, worker)
    assert TextFormatter().format(record) == "2026-09-21T14:13:20.250Z INFO grpcgw.access hello you"
    assert "pid" not in json.loads(JsonFormatter().format(record))


def test_bad_format_or_level_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="log format"):
        configure("xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a log level"):
        configure("json", "LOUD")


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_configure_sets_up_a_process_that_has_no_logging() -> None:
    result = run(
        """
        import logging
        from grpcgw.logs import configure
        assert configure("json", "debug")
        assert not configure("text")  # once only
        logging.getLogger("grpcgw").debug("started %d", 1, extra={"port": 8080})
        """
    )
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stderr)
    assert entry["message"] == "started 1"
    assert (entry["level"], entry["logger"], entry["port"]) == ("DEBUG", "grpcgw", 8080)


def test_configure_never_touches_an_applications_logging() -> None:
    result = run(
        """
        import logging, sys
        logging.basicConfig(stream=sys.stdout, format="app: %(message)s", level=logging.WARNING)
        from grpcgw.logs import configure
        assert not configure("json", "DEBUG")
        logging.getLogger("grpcgw").warning("kept")
        logging.getLogger("grpcgw").info("dropped")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "app: kept\n"
    assert result.stderr == ""
