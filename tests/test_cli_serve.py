"""``grpcgw serve``: ``serve_local`` from the shell, as a subprocess, configured as the proxy is."""

from __future__ import annotations

import inspect
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grpcgw.serveconfig import ServeConfig, serve_settings
from grpcgw.server import serve_local

from .conftest import ROOT
from .proxyutil import Process

SERVICERS = ["examples.ping.service:PingServicer", "examples.ping.service:ShelfServicer"]
#: grpcgw's sources, run from the repository root (where ``examples`` is), and no
#: GRPCGW_* variable of the test run's own (an unknown one is an error).
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GRPCGW_") and k != "PYTHONPATH"},
    "PYTHONPATH": str(ROOT / "src"),
    "PYTHONUNBUFFERED": "1",
}
LOOPBACK = ["--http-address", "127.0.0.1:0", "--grpc-address", "127.0.0.1:0"]


def _serve(*args: str, env: dict[str, str] | None = None) -> tuple[Process, str]:
    process = Process(
        [sys.executable, "-m", "grpcgw", "serve", *args],
        env={**ENV, **(env or {})},
        cwd=ROOT,
    )
    line = process.started("HTTP/JSON gateway listening")
    port = re.search(r"\(port (\d+)\)", line)
    assert port is not None, line
    return process, f"http://127.0.0.1:{port.group(1)}"


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grpcgw", "serve", *args],
        cwd=ROOT,
        env={**ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def served() -> Iterator[tuple[Process, str]]:
    process, url = _serve(*SERVICERS, *LOOPBACK)
    yield process, url
    process.stop()


def test_serves_the_servicers_and_the_api_description(served: tuple[Process, str]) -> None:
    process, url = served
    assert _get(url + "/v1/ping")[::2] == (200, b'{"message":"Pong"}')
    status, headers, body = _get(url + "/docs")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    status, _, body = _get(url + "/openapi.json")
    assert status == 200
    assert "/v1/shelves" in json.loads(body)["paths"]
    explorer = process.out.until("explorer at")
    assert f"{url}/docs" in explorer
    assert f"{url}/openapi.json" in explorer
    # Access lines, as serve_local writes them.
    process.out.until("GET /v1/ping")
    process.signal(signal.SIGTERM)
    assert process.proc.wait(20) == 0
    assert "shutting down" in process.out.drain()


def test_settings_from_flags_variables_and_a_file(tmp_path: Path) -> None:
    config = tmp_path / "serve.toml"
    config.write_text('log_format = "json"\n[gateway]\ndocs_path = "/explorer"\n')
    process, url = _serve(
        *SERVICERS,
        *LOOPBACK,
        "--config",
        str(config),
        "--swagger-path",
        "none",
        env={"GRPCGW_STRICT": "true", "GRPCGW_OPENAPI_PATH_NAMES": "resource"},
    )
    try:
        assert _get(url + "/v1/ping?unknown=1")[0] == 400  # strict, from GRPCGW_STRICT
        assert _get(url + "/explorer")[0] == 200  # from the file
        assert _get(url + "/docs")[0] == 404
        assert _get(url + "/swagger.json")[0] == 404  # from the flag
        status, _, body = _get(url + "/openapi.json")
        assert status == 200
        # GRPCGW_OPENAPI_PATH_NAMES: the parts of {name=shelves/*/books/*} after their collections
        assert "/v1/shelves/{shelf}/books/{book}:move" in json.loads(body)["paths"]
        line = process.out.until('"message"')
        assert json.loads(line)["logger"].startswith("grpcgw")  # log_format json
    finally:
        assert process.stop() == 0
    process, url = _serve(*SERVICERS, *LOOPBACK, "--no-api-docs")
    try:
        assert _get(url + "/docs")[0] == 404
        assert _get(url + "/openapi.json")[0] == 404
        assert _get(url + "/v1/ping")[0] == 200
    finally:
        process.stop()


def test_openapi_comments_describe_the_servicers(tmp_path: Path) -> None:
    from .protoc import descriptor_set

    api = tmp_path / "api.binpb"
    protos = ["example/v1/ping.proto", "example/v1/shelf.proto"]
    descriptor_set(ROOT / "examples" / "ping" / "proto", protos, api)
    process, url = _serve(*SERVICERS, *LOOPBACK, "--openapi-comments", str(api))
    try:
        document = json.loads(_get(url + "/openapi.json")[2])
        tags = {tag["name"]: tag.get("description", "").split("\n")[0] for tag in document["tags"]}
        assert tags["PingService"] == (
            'The smallest useful service: GET /v1/ping answers {"message":"Pong"}.'
        )
    finally:
        assert process.stop() == 0
    missing = tmp_path / "missing.binpb"
    result = _run(*SERVICERS, *LOOPBACK, env={"GRPCGW_OPENAPI_COMMENTS": str(missing)})
    assert result.returncode == 1
    assert f"GatewayOptions.openapi_comments ({missing}): cannot read it" in result.stderr
    assert "Traceback" not in result.stderr


def test_print_config_says_where_each_value_came_from(tmp_path: Path) -> None:
    config = tmp_path / "serve.toml"
    config.write_text("[gateway]\nstrict = true\n")
    result = _run(
        *SERVICERS,
        "--print-config",
        "--config",
        str(config),
        "--docs-path",
        "/explorer",
        env={"GRPCGW_GRACE": "1.5"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert 'docs_path = "/explorer"  # --docs-path' in out
    assert "grace = 1.5  # GRPCGW_GRACE" in out
    assert f"strict = true  # {config}: gateway.strict" in out
    assert 'openapi_path = "/openapi.json"\n' in out
    # What it prints, --config reads back.
    again = tmp_path / "again.toml"
    again.write_text(out)
    assert _run(*SERVICERS, "--print-config", "--config", str(again)).returncode == 0


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--docs-path", "docs"], {}, "docs_path must be a path such as /docs"),
        (["--docs-path", "/docs", "--openapi-path", "/docs"], {}, "are both '/docs'"),
        ([], {"GRPCGW_DOCS_PAHT": "/x"}, "GRPCGW_DOCS_PAHT: no such setting"),
        ([], {"GRPCGW_API_DOCS": "maybe"}, "GRPCGW_API_DOCS: 'maybe' is not true or false"),
        ([], {"GRPCGW_OPENAPI_PATH_NAMES": "aip"}, "GRPCGW_OPENAPI_PATH_NAMES: invalid choice"),
        (["--grace", "-1"], {}, "grace must be a finite number"),
        (["--grace", "nan"], {}, "argument --grace: 'nan' is not a number"),
    ],
)
def test_bad_settings_are_one_line_naming_them(
    args: list[str], env: dict[str, str], message: str
) -> None:
    result = _run(*SERVICERS, *args, "--print-config", env=env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_config_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    """TOML is UTF-8: a latin-1 file is refused naming it, not with a traceback
    (tomllib raises UnicodeDecodeError, which is not grpcgw's own raise)."""
    config = tmp_path / "serve.toml"
    config.write_bytes('docs_path = "/d\xe9"\n'.encode("latin-1"))
    result = _run(*SERVICERS, "--config", str(config), "--print-config")
    assert result.returncode == 1
    assert result.stderr == (
        f"grpcgw: config file {config}: not UTF-8 text (byte 0xe9 at position 15)\n"
    )


def test_a_servicer_that_is_not_module_colon_class() -> None:
    result = _run("examples.ping.service.PingServicer", "--print-config")
    assert result.returncode == 0  # --print-config imports nothing
    result = _run("examples.ping.service.PingServicer", *LOOPBACK)
    assert result.returncode != 0
    assert "is not module:ServicerClass" in result.stderr
    result = _run("examples.ping.service:Nope", *LOOPBACK)
    assert result.returncode != 0
    assert "has no attribute 'Nope'" in result.stderr


def test_a_mistake_is_one_line_with_its_message_alone(tmp_path: Path) -> None:
    """What grpcgw refuses on purpose (a setting it cannot serve, a port in use) is
    ``grpcgw: <message>``, status 1, as for the other commands."""
    sock = tmp_path / "grpc.sock"
    result = _run(
        *SERVICERS, "--http-address", "127.0.0.1:0", "--grpc-address", f"unix://{sock}",
        "--workers", "2",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        f"grpcgw: serve_local(workers=2): grpc_address 'unix://{sock}' is a unix socket, "
        "which one gRPC server alone can listen on; give a TCP address (127.0.0.1:8081), "
        "whose port the workers share\n"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for workers in ("1", "2"):
            result = _run(
                *SERVICERS, "--http-address", f"127.0.0.1:{port}", "--grpc-address",
                "127.0.0.1:0", "--workers", workers,
            )  # fmt: skip
            assert result.returncode == 1
            assert re.fullmatch(
                rf"grpcgw: cannot bind .*{port}.*: address already in use\n", result.stderr
            ), result.stderr


def test_an_unexpected_error_keeps_its_traceback(tmp_path: Path) -> None:
    """A ValueError grpcgw did not raise (a servicer's constructor: the user's code, or
    a slip in grpcgw's) is not a mistake of input: its traceback says where it was."""
    (tmp_path / "badsvc.py").write_text(
        "from examples.ping.service import PingServicer\n\n\n"
        "class Servicer(PingServicer):\n"
        "    def __init__(self) -> None:\n"
        "        raise ValueError('DATABASE_URL is not set')\n"
    )
    result = _run("--path", str(tmp_path), "badsvc:Servicer", *LOOPBACK)
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert 'badsvc.py", line 6, in __init__' in result.stderr
    assert result.stderr.endswith("ValueError: DATABASE_URL is not set\n")


def test_help_lists_every_setting_with_its_variable() -> None:
    out = _run("--help").stdout
    for setting in serve_settings():
        assert setting.flags[0] in out, setting.key
        assert setting.env in out, setting.key
    assert "--no-api-docs" in out


def test_the_defaults_are_serve_locals() -> None:
    parameters = inspect.signature(serve_local).parameters
    defaults: dict[str, Any] = {
        name: parameters[name].default
        for name in (
            "http_address",
            "grpc_address",
            "reflection",
            "grace",
            "log_format",
            "log_level",
            "dispatch",
            "workers",
        )
    }
    config = ServeConfig()
    assert {name: getattr(config, name) for name in defaults} == defaults


def test_the_dispatch_choices_are_the_front_ends() -> None:
    from typing import get_args

    from grpcgw.invoker import Dispatch

    [setting] = [s for s in serve_settings() if s.key == "dispatch"]
    assert setting.choices == get_args(Dispatch)


def test_dispatch_direct_serves_in_process_and_grpc_clients_alike() -> None:
    process, url = _serve(*SERVICERS, *LOOPBACK, env={"GRPCGW_DISPATCH": "direct"})
    try:
        line = process.out.until("HTTP/JSON gateway listening")
        assert "(calls the servicers in process)" in line
        assert _get(url + "/v1/ping")[::2] == (200, b'{"message":"Pong"}')
        assert _get(url + "/v1/shelves/nope")[0] == 404
    finally:
        assert process.stop() == 0
    result = _run(*SERVICERS, "--dispatch", "inline", "--print-config")
    assert result.returncode != 0
    assert "--dispatch" in result.stderr
    assert "'inline'" in result.stderr


def test_workers_from_the_flag_the_environment_and_the_file(tmp_path: Path) -> None:
    config = tmp_path / "serve.toml"
    config.write_text("workers = 3\n")
    result = _run(*SERVICERS, "--print-config", "--config", str(config))
    assert f"workers = 3  # {config}: workers" in result.stdout
    result = _run(*SERVICERS, "--print-config", env={"GRPCGW_WORKERS": "4"})
    assert "workers = 4  # GRPCGW_WORKERS" in result.stdout
    result = _run(*SERVICERS, "--print-config", "--workers", "0")
    assert result.returncode != 0
    assert "workers must be 1 or more, not 0" in result.stderr
    result = _run(*SERVICERS, "--print-config", "--workers", "two")
    assert result.returncode != 0
    assert "argument --workers" in result.stderr
    # Served by two workers, each logging its start; SIGTERM stops them all, status 0.
    process, url = _serve(*SERVICERS, *LOOPBACK, "--workers", "2", "--dispatch", "direct")
    try:
        line = process.out.until("HTTP/JSON gateway listening")
        assert "(2 workers, pids " in line
        process.out.until("worker 2 started")
        assert _get(url + "/v1/ping")[::2] == (200, b'{"message":"Pong"}')
    finally:
        assert process.stop() == 0
    # A worker that cannot start: one line, status 1.
    result = _run(*SERVICERS, SERVICERS[0], *LOOPBACK, "--workers", "2")
    assert result.returncode == 1
    assert re.search(r"grpcgw: worker \d failed to start: RouteConfigError", result.stderr)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("dispatch", ["socket", "direct"])
def test_interceptors_from_the_flag_run_on_every_call(dispatch: str) -> None:
    """--interceptor module:Class (repeatable, or comma-separated; GRPCGW_INTERCEPTORS)
    puts server interceptors in front of the servicers, as serve_local's argument does."""
    process, url = _serve(
        *SERVICERS,
        *LOOPBACK,
        "--dispatch",
        dispatch,
        "--interceptor",
        "examples.ping.interceptor:LoggingInterceptor",
    )
    try:
        assert _get(url + "/v1/ping")[::2] == (200, b'{"message":"Pong"}')
        line = process.out.until("rpc call: method = /example.v1.PingService/Ping")
        assert json.loads(line[line.index("{") :])["code"] == "OK"
    finally:
        process.stop()


def test_interceptors_that_cannot_run_together_are_one_line() -> None:
    module = "examples.ping.interceptor"
    both = f"{module}:LoggingInterceptor,{module}:SyncLoggingInterceptor"
    for flags in (["--interceptor", both], [f"--interceptor={n}" for n in both.split(",")]):
        mixed = _run(*SERVICERS, *LOOPBACK, *flags)
        assert mixed.returncode == 1
        assert mixed.stderr.strip() == (
            "grpcgw: interceptors mix grpc.aio.ServerInterceptor and grpc.ServerInterceptor;"
            " a gRPC server runs one kind"
        )
    not_a_name = _run(*SERVICERS, *LOOPBACK, env={"GRPCGW_INTERCEPTORS": "LoggingInterceptor"})
    assert not_a_name.returncode == 1
    assert not_a_name.stderr.strip() == (
        "grpcgw: 'LoggingInterceptor' is not module:InterceptorClass"
    )


def test_path_finds_the_servicers_module(tmp_path: Path) -> None:
    (tmp_path / "mysvc.py").write_text(
        "from examples.ping.service import PingServicer as Servicer  # noqa: F401\n"
    )
    process, url = _serve("--path", str(tmp_path), "mysvc:Servicer", *LOOPBACK)
    try:
        assert _get(url + "/v1/ping")[::2] == (200, b'{"message":"Pong"}')
    finally:
        process.stop()
