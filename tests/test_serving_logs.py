"""Logging of the front ends that own their process: ``serve_local`` and ``grpcgw proxy``
log one access line per request by default, as text or JSON, and grpcgw's own lines
in the same format."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import urllib.request
from typing import Any

import pytest

from examples.ping.service import PingServicer

from .conftest import ROOT, Servers
from .modes import MODES
from .test_cli import ENV
from .test_server import GATEWAY_PORT, PROXY_PORT, _Lines


def get(port: int, path: str, request_id: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"X-Request-Id": request_id}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def run_until_logged(args: list[str], listening: re.Pattern[str]) -> str:
    """Start a serving process on port 0, make two requests to the port the line
    ``listening`` matches names, and return its standard error after it stopped on SIGINT."""
    proc = subprocess.Popen(  # noqa: ASYNC220 (only spawns; every wait below is off the loop)
        args, cwd=ROOT, env=ENV, stderr=subprocess.PIPE, text=True
    )
    lines = _Lines(proc.stderr)
    try:
        port = await asyncio.to_thread(lines.port, listening)
        assert await asyncio.to_thread(get, port, "/v1/ping", "req-ok") == 200
        assert await asyncio.to_thread(get, port, "/v1/nowhere", "req-404") == 404
        await asyncio.to_thread(lines.until, "req-404")
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.to_thread(proc.wait, 30)
    return lines.rest()


def check_access_lines(entries: list[dict[str, Any]]) -> None:
    access = {e["request_id"]: e for e in entries if e["logger"] == "grpcgw.access"}
    assert access.keys() == {"req-ok", "req-404"}
    ok, missing = access["req-ok"], access["req-404"]
    assert {
        "level": "INFO",
        "method": "GET",
        "path": "/v1/ping",
        "route": "/v1/ping",
        "rpc": "/example.v1.PingService/Ping",
        "status": 200,
        "grpc_code": "OK",
        "bytes_in": 0,
        "bytes_out": 18,
        "remote_addr": "127.0.0.1",
    }.items() <= ok.items()
    assert ok["message"].startswith("GET /v1/ping 200 OK ")
    assert (missing["status"], missing["grpc_code"], missing["route"]) == (404, "NOT_FOUND", None)


@pytest.mark.parametrize("mode", MODES)
async def test_serve_local_logs_json_when_asked(mode: str) -> None:
    script = (
        "import grpcgw\n"
        "from examples.ping.service import PingServicer\n"
        f"grpcgw.serve_local(PingServicer(), http_address='127.0.0.1:0',\n"
        f"                   grpc_address='127.0.0.1:0', log_format='json', dispatch='{mode}')\n"
    )
    err = await run_until_logged([sys.executable, "-c", script], GATEWAY_PORT)
    entries = json_lines(err)
    own = [e for e in entries if e["logger"] == "grpcgw"]
    assert any(e["message"].startswith("HTTP/JSON gateway listening") for e in own)
    check_access_lines(entries)


async def test_proxy_logs_as_its_flags_say(servers: Servers) -> None:
    target = await servers.start(PingServicer())
    args = [
        sys.executable, "-m", "grpcgw", "proxy", "example.v1.PingService",
        "--import", "examples.ping.service", "--target", target,
        "--http-address", "127.0.0.1:0", "--log-format", "json", "--log-level", "info",
    ]  # fmt: skip
    err = await run_until_logged(args, PROXY_PORT)
    check_access_lines(json_lines(err))
    # Every line is JSON, the "serving" line that names the port among them.
    assert [line for line in err.splitlines() if not line.startswith("{")] == []
    [serving] = [e for e in json_lines(err) if e["message"].startswith("grpcgw proxy: http")]
    assert (serving["level"], serving["logger"]) == ("INFO", "grpcgw.proxy")


async def test_proxy_logs_text_by_default(servers: Servers) -> None:
    target = await servers.start(PingServicer())
    args = [
        sys.executable, "-m", "grpcgw", "proxy", "example.v1.PingService",
        "--import", "examples.ping.service", "--target", target,
        "--http-address", "127.0.0.1:0",
    ]  # fmt: skip
    err = await run_until_logged(args, PROXY_PORT)
    [line] = [x for x in err.splitlines() if "id=req-ok" in x]
    stamp, level, logger, message = line.split(" ", 3)
    assert stamp.endswith("Z")
    assert (level, logger) == ("INFO", "grpcgw.access")
    assert message.startswith("GET /v1/ping 200 OK ")


def test_bad_log_flags_are_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "grpcgw", "proxy", "x.Y", "--target", "localhost:1",
         "--log-format", "xml"],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--log-format: invalid choice: 'xml'" in result.stderr
