"""The grpcgw command, run as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from examples.ping.service import PingServicer

from .conftest import ROOT, Servers
from .test_server import PROXY_PORT, _Lines

ENV = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}


def grpcgw(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grpcgw", *args],
        cwd=ROOT,
        env=ENV,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version_names_grpcgw_python_and_the_dependencies() -> None:
    """What a bug report needs first, read from the installed distributions' metadata
    (none of them imported to print it)."""
    import platform
    from importlib import metadata

    result = grpcgw("--version")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    expected = (
        f"grpcgw {metadata.version('grpcgw')} (Python {platform.python_version()} on "
        f"{platform.system()}; grpcio {metadata.version('grpcio')}, protobuf "
        f"{metadata.version('protobuf')}, googleapis-common-protos "
        f"{metadata.version('googleapis-common-protos')}, aiohttp "
        f"{metadata.version('aiohttp')}, awslambdaric {metadata.version('awslambdaric')})\n"
    )
    assert result.stdout == expected
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom grpcgw.cli import version_text\nversion_text()\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'grpc', 'aiohttp', 'google'}))",
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.stdout == "[]\n", loaded.stderr


def test_lambda_invoke_with_a_request() -> None:
    result = grpcgw(
        "lambda-invoke", "examples.ping.lambda_function.handler", "--request", "GET", "/v1/ping"
    )
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"message": "Pong"}
    # the example's interceptor ran inside the real gRPC server
    assert "rpc call: method = /example.v1.PingService/Ping" in result.stderr


def test_lambda_invoke_with_an_event_file(tmp_path: Path) -> None:
    event = json.loads(
        (ROOT / "tests/data/lambda-events/alb-get-single-value-headers.json").read_text()
    )
    event["path"] = "/v1/ping"
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    result = grpcgw("lambda-invoke", "examples.ping.lambda_function.handler", str(path))
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["statusDescription"] == "200 OK"
    assert json.loads(response["body"]) == {"message": "Pong"}
    from_stdin = grpcgw(
        "lambda-invoke", "examples.ping.lambda_function.handler", "-", stdin=json.dumps(event)
    )
    assert json.loads(from_stdin.stdout) == response


def test_lambda_invoke_reports_bad_input() -> None:
    result = grpcgw(
        "lambda-invoke", "examples.ping.lambda_function.nothing", "--request", "GET", "/"
    )
    assert result.returncode != 0
    assert "has no attribute 'nothing'" in result.stderr
    unknown = grpcgw(
        "lambda-invoke", "examples.ping.lambda_function.handler", "-", stdin='{"foo": 1}'
    )
    assert unknown.returncode != 0
    assert unknown.stderr.startswith("grpcgw: not an HTTP event")
    assert "Traceback" not in unknown.stderr


_LOUD_APP = """
import grpcgw
from examples.ping.service import PingServicer

print("app imported")


class Loud(PingServicer):
    async def Ping(self, request, context):
        metadata = dict(context.invocation_metadata())
        print("Ping called with", metadata.get("authorization"), metadata.get("tenant"))
        return await super().Ping(request, context)


handler = grpcgw.serve_lambda(Loud())
"""


def test_lambda_invoke_keeps_what_the_function_prints_off_the_response(tmp_path: Path) -> None:
    """As on Lambda, where a function's prints go to its log: stdout is the response
    alone (``| jq`` works), the prints are on stderr; -H sets request headers."""
    (tmp_path / "loud.py").write_text(_LOUD_APP)
    result = grpcgw(
        "lambda-invoke",
        "--path",
        str(tmp_path),
        "loud.handler",
        "--request",
        "GET",
        "/v1/ping",
        "-H",
        "Authorization: Bearer t",
        "--header",
        "Grpc-Metadata-Tenant: a",
        "-H",
        "grpc-metadata-tenant:b",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["body"] == '{"message":"Pong"}'
    assert "app imported" in result.stderr
    assert "Ping called with Bearer t a,b" in result.stderr


def test_lambda_invoke_reads_data_from_a_file_or_stdin(tmp_path: Path) -> None:
    body = tmp_path / "shelf.json"
    body.write_text('{"theme": "Poetry"}')
    post = ("lambda-invoke", "examples.ping.lambda_function.handler", "--request", "POST")
    from_file = grpcgw(*post, "/v1/shelves?shelfId=p", "--data", f"@{body}")
    assert from_file.returncode == 0, from_file.stderr
    assert json.loads(json.loads(from_file.stdout)["body"])["theme"] == "Poetry"
    from_stdin = grpcgw(*post, "/v1/shelves?shelfId=q", "--data", "@-", stdin='{"theme": "Prose"}')
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert json.loads(json.loads(from_stdin.stdout)["body"])["theme"] == "Prose"
    missing = grpcgw(*post, "/v1/shelves", "--data", f"@{tmp_path / 'nope.json'}")
    assert missing.returncode == 1
    nope = str(tmp_path / "nope.json")
    assert missing.stderr.strip() == (
        f"grpcgw: cannot read --data file {nope!r}: No such file or directory"
    )


def test_lambda_invoke_names_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    """An event or --data file that is not UTF-8 text (JSON is) is a one-line mistake
    naming the file, as a missing one is, not a UnicodeDecodeError's traceback."""
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"theme": "Po\xe9sie"}'.encode("latin-1"))
    handler = "examples.ping.lambda_function.handler"
    post = ("--request", "POST", "/v1/shelves?shelfId=p")
    for args, what in [((str(latin1),), "event"), ((*post, "--data", f"@{latin1}"), "--data file")]:
        result = grpcgw("lambda-invoke", handler, *args)
        assert result.returncode == 1, result.stderr
        assert result.stderr == (
            f"grpcgw: cannot read {what} {str(latin1)!r}: not UTF-8 text "
            "(byte 0xe9 at position 13)\n"
        )
        assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ("--request", "GET", "v1/ping"),
            None,
            "grpcgw: --request PATH must start with '/' (got 'v1/ping')",
        ),
        (
            ("--request", "GET", "/v1/ping", "-H", "nocolon"),
            None,
            "grpcgw: --header 'nocolon' is not 'Name: value'",
        ),
        (
            ("-",),
            "not json",
            "grpcgw: the event is not JSON: Expecting value: line 1 column 1 (char 0)",
        ),
        (
            ("-", "--request", "GET", "/"),
            "{}",
            "grpcgw: give an event file or --request (with --header, --data), not both",
        ),
    ],
)
def test_lambda_invoke_names_what_is_wrong(
    args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    result = grpcgw("lambda-invoke", "examples.ping.lambda_function.handler", *args, stdin=stdin)
    assert result.returncode == 1
    assert result.stderr.strip() == message
    assert result.stdout == ""


def test_routes() -> None:
    result = grpcgw(
        "routes", "examples.ping.service:ShelfServicer", "examples.ping.service:PingServicer"
    )
    assert result.returncode == 0, result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "GET /v1/{name=shelves/*} -> /example.v1.ShelfService/GetShelf" in lines
    assert "HEAD /v1/library -> /example.v1.ShelfService/DescribeLibrary" in lines
    assert "GET /v1/ping -> /example.v1.PingService/Ping" in lines
    by_name = grpcgw("routes", "example.v1.PingService", "--import", "examples.ping.service")
    assert by_name.stdout.split() == ["GET", "/v1/ping", "->", "/example.v1.PingService/Ping"]


async def test_proxy_in_front_of_a_running_server(servers: Servers) -> None:
    import asyncio

    target = await servers.start(PingServicer())
    proc = subprocess.Popen(  # noqa: ASYNC220 (only spawns; every wait below is off the loop)
        [sys.executable, "-m", "grpcgw", "proxy", "example.v1.PingService",
         "--import", "examples.ping.service", "--target", target,
         "--http-address", "127.0.0.1:0"],
        cwd=ROOT, env=ENV, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines = _Lines(proc.stderr)
    try:
        port = await asyncio.to_thread(lines.port, PROXY_PORT)

        def get() -> bytes:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/ping", timeout=10) as resp:
                return bytes(resp.read())

        assert await asyncio.to_thread(get) == b'{"message":"Pong"}'
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.to_thread(proc.wait, 30)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "no.such.Service",
            "grpcgw: unknown service 'no.such.Service': give the module of its generated code"
            " with --import MODULE",
        ),
        ("examples.ping.service:", "grpcgw: 'examples.ping.service:' is not module.attribute"),
        (
            "nowhere.module:Servicer",
            "grpcgw: No module named 'nowhere' in the current directory, the --path directories"
            " or the installed packages (code protoc wrote into a directory such as gen/ needs"
            " --path gen)\n",
        ),
    ],
)
def test_bad_specs_are_one_line_errors(spec: str, message: str) -> None:
    """The message alone: the exception's class is not what a user needs to read."""
    result = grpcgw("routes", spec)
    assert result.returncode == 1
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["serve", "--workers", "0", "examples.ping.service:PingServicer"],
            "workers must be 1 or more, not 0",
        ),
        (
            ["serve", "--interceptor", "x", "examples.ping.service:PingServicer"],
            "'x' is not module:InterceptorClass",
        ),
        (
            ["serve", "--config", "no-such.toml", "examples.ping.service:PingServicer"],
            "cannot read config file no-such.toml: No such file or directory",
        ),
        (
            ["proxy", "--target", "127.0.0.1:1", "--reflect", "--config", "no-such.toml"],
            "cannot read config file no-such.toml: No such file or directory",
        ),
        (["openapi"], "give a service, or --descriptor-set FILE"),
        (
            ["healthcheck", "--config", "no-such.toml"],
            "cannot read config file no-such.toml: No such file or directory",
        ),
        (
            ["lambda-invoke", "--zip", "no-such.zip", "app.handler", "--request", "GET", "/"],
            "--zip no-such.zip: no such file",
        ),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else "",
)
def test_every_command_says_a_mistake_after_one_prefix(args: list[str], message: str) -> None:
    """Whichever command, a mistake is ``grpcgw: `` and a message that names the
    flag, setting or file: one line, status 1."""
    result = grpcgw(*args)
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"grpcgw: {message}\n"


@pytest.mark.parametrize(
    "args",
    [
        ("routes", "examples.ping.service:ShelfServicer"),
        ("openapi", "examples.ping.service:ShelfServicer", "--format", "yaml"),
    ],
)
def test_a_reader_that_stops_early_ends_the_command_quietly(args: tuple[str, ...]) -> None:
    """`grpcgw routes ... | head -1`: the reader is gone before the output is, which
    must not print `grpcgw: [Errno 32] Broken pipe` (nor a traceback at exit)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # no reader at all: every write fails, whatever the timing
    try:
        result = subprocess.run(
            [sys.executable, "-m", "grpcgw", *args],
            cwd=ROOT,
            env=ENV,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 141  # a shell's status for a command killed by SIGPIPE


def test_routes_show_body_and_response_body() -> None:
    result = grpcgw("routes", "examples.ping.service:ShelfServicer")
    assert result.returncode == 0, result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert (
        'POST /v1/{name=shelves/*/books/*}:move -> /example.v1.ShelfService/MoveBook body: "*" '
        'response_body: "book"'
    ) in lines
    assert 'POST /v1/shelves -> /example.v1.ShelfService/CreateShelf body: "shelf"' in lines


def test_routes_mark_streaming_methods() -> None:
    result = grpcgw(
        "routes", "-p", "tests/gen", "--import", "grpcgwtest.stream.v1.stream_pb2",
        "grpcgwtest.stream.v1.StreamService",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    rpc = "/grpcgwtest.stream.v1.StreamService"
    assert lines == [
        f"GET /count/{{n}} -> {rpc}/Count (server streaming)",
        f'POST /sum -> {rpc}/Sum (client streaming) body: "*"',
        f'POST /double -> {rpc}/Double (bidi streaming) body: "*"',
        f"GET /download/{{n}} -> {rpc}/Download (server streaming)",
        f'POST /upload -> {rpc}/Upload (client streaming) body: "*"',
        f'PUT /files/{{name}} -> {rpc}/Store body: "file"',
    ]


def test_every_bad_rule_is_reported_by_routes_serve_and_proxy(tmp_path: Path) -> None:
    """One run names every rule to fix (tests/protos/grpcgwtest/badrules), whichever
    command compiles the routes."""
    from .protoc import descriptor_set
    from .test_descriptors import BROKEN, BROKEN_PROBLEMS

    module = "grpcgwtest.badrules.v1.badrules_pb2"
    routes = grpcgw("routes", "-p", "tests/gen", "--import", module, BROKEN)
    serve = grpcgw(
        "serve", "-p", "tests/gen", f"{module}_grpc:BrokenServicer",
        "--http-address", "127.0.0.1:0", "--grpc-address", "127.0.0.1:0",
    )  # fmt: skip
    descriptors = tmp_path / "badrules.pb"
    proto = "grpcgwtest/badrules/v1/badrules.proto"
    descriptor_set(ROOT / "tests" / "protos", [proto], descriptors)
    proxy = grpcgw(
        "proxy", "--descriptor-set", str(descriptors), "--target", "127.0.0.1:1",
        "--http-address", "127.0.0.1:0",
    )  # fmt: skip
    # With workers, each worker compiles the routes: the supervisor says what the first said.
    serve_workers = grpcgw(*serve.args[3:], "--workers", "2")
    proxy_workers = grpcgw(*proxy.args[3:], "--workers", "2")
    for result in (routes, serve, proxy, serve_workers, proxy_workers):
        assert result.returncode == 1, result.args
        assert "5 HTTP rules cannot be served:" in result.stderr, result.stderr
        stripped = [line.strip() for line in result.stderr.splitlines()]
        for problem in BROKEN_PROBLEMS:
            assert problem in stripped, (result.args, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stdout == ""


def test_openapi_json_yaml_and_swagger(tmp_path: Path) -> None:
    import yaml
    from openapi_spec_validator import validate

    result = grpcgw("openapi", "examples.ping.service:ShelfServicer", "--title", "Library")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    validate(document)
    assert document["info"]["title"] == "Library"
    assert "/v1/shelves/{name}/books/{name_1}:move" in document["paths"]
    out = tmp_path / "openapi.yaml"
    as_yaml = grpcgw(
        "openapi", "examples.ping.service:ShelfServicer", "--title", "Library",
        "--format", "yaml", "-o", str(out),
    )  # fmt: skip
    assert as_yaml.returncode == 0, as_yaml.stderr
    assert as_yaml.stdout == ""
    assert yaml.safe_load(out.read_text()) == document
    swagger = grpcgw("openapi", "example.v1.PingService", "--import", "examples.ping.service",
                     "--openapi", "2.0")  # fmt: skip
    assert json.loads(swagger.stdout)["swagger"] == "2.0"


def test_openapi_with_security_schemes() -> None:
    result = grpcgw(
        "openapi", "examples.ping.service:PingServicer",
        "--openapi-security", "bearer,header:X-API-Key", "--openapi-security", "basic",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no word of header matchers: nothing is served here
    document = json.loads(result.stdout)
    assert document["security"] == [{"bearer": []}, {"X-API-Key": []}, {"basic": []}]
    assert list(document["components"]["securitySchemes"]) == ["bearer", "X-API-Key", "basic"]
    bad = grpcgw("openapi", "examples.ping.service:PingServicer", "--openapi-security", "token")
    assert bad.returncode == 1
    assert bad.stderr.startswith(
        "grpcgw: GatewayOptions.openapi_security: 'token' is not a security scheme"
    )


def test_openapi_with_resource_path_names() -> None:
    """``--openapi-path-names resource``, in both versions; the default stays the field's."""
    from openapi_spec_validator import validate

    for version in ("3.1", "2.0"):
        result = grpcgw(
            "openapi", "examples.ping.service:ShelfServicer", "--openapi", version,
            "--openapi-path-names", "resource",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        validate(document)
        assert "/v1/shelves/{shelf}/books/{book}:move" in document["paths"]
        assert "/v1/shelves/{shelf}" in document["paths"]
    bad = grpcgw("openapi", "examples.ping.service:ShelfServicer", "--openapi-path-names", "x")
    assert bad.returncode == 2
    assert "invalid choice: 'x'" in bad.stderr


def test_openapi_from_a_descriptor_set(tmp_path: Path) -> None:
    from .protoc import descriptor_set

    path = tmp_path / "echo.pb"
    descriptor_set(ROOT / "tests" / "protos", ["grpcgwtest/openapi/v1/echo.proto"], path)
    result = grpcgw("openapi", "--descriptor-set", str(path), "--strict")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    query = document["paths"]["/v1/scalars"]["get"]
    assert query["summary"] == "Query parameters of every kind."
    assert (
        document["components"]["schemas"]["grpcgwtest.openapi.v1.Thing"]["additionalProperties"]
        is False
    )
    # A service named from a module, with comments from the set.
    named = grpcgw("openapi", "--descriptor-set", str(path), "grpcgwtest.openapi.v1.EchoService")
    assert json.loads(named.stdout)["paths"]["/v1/scalars"]["get"]["summary"]
    bad = tmp_path / "bad.pb"
    bad.write_bytes(b"\xff\xff")
    failed = grpcgw("openapi", "--descriptor-set", str(bad))
    assert failed.returncode == 1
    assert "is not a FileDescriptorSet" in failed.stderr
    assert "Traceback" not in failed.stderr
    nothing = grpcgw("openapi")
    assert nothing.returncode != 0
    assert "give a service" in nothing.stderr


def test_a_module_missing_inside_yours_is_named_as_python_names_it(tmp_path: Path) -> None:
    """The --path hint is for the module the command line names; a module that
    one imports and that is not installed keeps Python's own message."""
    (tmp_path / "myservice.py").write_text("import not_installed_anywhere\n")
    result = grpcgw("routes", "--path", str(tmp_path), "myservice:Servicer")
    assert result.returncode == 1
    assert result.stderr == "grpcgw: No module named 'not_installed_anywhere'\n"


def test_path_finds_generated_code() -> None:
    """``--path DIR`` (``-p``): where protoc wrote the code, which imports itself from there."""
    import_ = ("--import", "grpcgwtest.echo.v1.echo_pb2", "grpcgwtest.echo.v1.EchoService")
    without = grpcgw("routes", *import_)
    assert without.returncode == 1
    assert "No module named 'grpcgwtest' in the current directory" in without.stderr
    assert "needs --path gen" in without.stderr
    for flag in ("--path", "-p"):
        result = grpcgw("routes", flag, "tests/gen", *import_)
        assert result.returncode == 0, result.stderr
        assert "/grpcgwtest.echo.v1.EchoService/" in result.stdout
    handler = grpcgw("lambda-invoke", "--path", "nowhere", "app.handler", "--request", "GET", "/")
    assert handler.returncode != 0
    assert handler.stderr.strip() == "grpcgw: --path nowhere: no such directory"
