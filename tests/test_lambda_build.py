"""The Lambda deployment artefacts: the zip build script, the Terraform and the Dockerfile.

The build test really runs ``scripts/build_lambda.py`` (pip downloads the
manylinux wheels from PyPI) once per module, for x86_64 / CPython 3.12.
"""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import importlib.util
import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import hcl2
import pytest

from .conftest import ROOT

SCRIPT = ROOT / "scripts" / "build_lambda.py"
DEPLOY = ROOT / "examples" / "ping" / "deploy"
TERRAFORM = DEPLOY / "terraform"
DOCKERFILE = DEPLOY / "Dockerfile"

#: ELF e_machine values.
EM_X86_64 = 62


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_lambda", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_lambda = _load_script()
HANDLER: str = build_lambda.HANDLER


# --- the zip ---------------------------------------------------------------------------


@dataclass
class Built:
    path: Path
    stdout: str
    zip: zipfile.ZipFile

    def read(self, name: str) -> bytes:
        return self.zip.read(name)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    out = tmp_path_factory.mktemp("lambda") / "ping-lambda-x86_64.zip"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--arch", "x86_64", "--output", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, f"build failed:\n{result.stdout}\n{result.stderr}"
    with zipfile.ZipFile(out) as zf:
        yield Built(out, result.stdout, zf)


def test_build_prints_the_zip_and_its_size(built: Built) -> None:
    assert str(built.path) in built.stdout
    assert re.search(r"\d+\.\d MB", built.stdout)
    assert HANDLER in built.stdout


def test_zip_holds_the_function_and_its_dependencies(built: Built) -> None:
    names = set(built.zip.namelist())
    for required in [
        "examples/__init__.py",
        "examples/ping/__init__.py",
        "examples/ping/lambda_function.py",
        "examples/ping/service.py",
        "examples/ping/interceptor.py",
        "examples/ping/gen/example/v1/ping_pb2.py",
        "examples/ping/gen/example/v1/ping_pb2_grpc.py",
        "grpcgw/__init__.py",
        "grpcgw/awslambda/__init__.py",
        "grpc/__init__.py",
        "grpc/_cython/cygrpc.cpython-312-x86_64-linux-gnu.so",
        "google/protobuf/__init__.py",
        "google/protobuf/json_format.py",
        "google/api/annotations_pb2.py",
    ]:
        assert required in names, required
    assert any(n.startswith("grpcio-") and n.endswith(".dist-info/METADATA") for n in names)


def test_zip_leaves_out_what_lambda_does_not_need(built: Built) -> None:
    for name in built.zip.namelist():
        parts = name.split("/")
        assert "__pycache__" not in parts, name
        assert not name.endswith((".pyc", ".pyo")), name
        assert parts[0] not in {"grpc_tools", "bin"}, name
        assert not parts[0].startswith("grpcio_tools"), name
        assert not name.endswith("dist-info/direct_url.json"), name
        assert not name.startswith(("examples/ping/deploy/", "examples/ping/proto/")), name
        assert "tests" not in parts[1:], name


def test_compiled_extensions_are_linux_x86_64_cpython_312(built: Built) -> None:
    extensions = [n for n in built.zip.namelist() if n.endswith(".so") or ".so." in n]
    assert extensions
    for name in extensions:
        head = built.read(name)[:20]
        assert head[:4] == b"\x7fELF", name
        (machine,) = struct.unpack_from("<H", head, 18)
        assert machine == EM_X86_64, f"{name}: ELF machine {machine}"
        tag = re.search(r"\.cpython-(\d+)-", name)
        assert tag is None or tag.group(1) == "312", name


def test_every_record_matches_the_zipped_files(built: Built) -> None:
    names = set(built.zip.namelist())
    records = [n for n in names if n.endswith(".dist-info/RECORD")]
    assert len(records) >= 5
    for record in records:
        rows = list(csv.reader(io.StringIO(built.read(record).decode())))
        assert rows, record
        for row in rows:
            path, digest = row[0], row[1]
            assert path in names, f"{record} lists {path}, which is not in the zip"
            if digest:
                algo, _, want = digest.partition("=")
                got = base64.urlsafe_b64encode(hashlib.new(algo, built.read(path)).digest())
                assert got.rstrip(b"=").decode() == want, f"{record}: {path} hash differs"


def test_zip_carries_the_current_sources(built: Built) -> None:
    """The grpcgw package and the example in the zip are byte for byte the working tree."""
    ping = ROOT / "examples" / "ping"
    want = {"examples/__init__.py": ROOT / "examples" / "__init__.py"}
    for tree, prefix in [(ROOT / "src" / "grpcgw", "grpcgw/"), (ping, "examples/ping/")]:
        want |= {
            prefix + p.relative_to(tree).as_posix(): p
            for p in tree.rglob("*")
            if p.is_file()
            and "__pycache__" not in p.parts
            and not p.name.endswith(".pyc")
            and p.relative_to(tree).parts[0] not in {"deploy", "proto"}
        }
    have = {n for n in built.zip.namelist() if n.startswith(("grpcgw/", "examples/"))}
    assert have == set(want)
    for name, path in want.items():
        assert built.read(name) == path.read_bytes(), name


def test_zip_entries_are_reproducible(built: Built) -> None:
    """Sorted names, one fixed timestamp, normalised modes, no build-machine paths."""
    infos = built.zip.infolist()
    keys = [tuple(i.filename.split("/")) for i in infos]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
        assert info.create_system == 3, info.filename
        assert info.external_attr >> 16 in {0o100644, 0o100755}, info.filename
        assert b"grpcgw-lambda-" not in built.read(info.filename), info.filename


def test_write_zip_is_deterministic(tmp_path: Path) -> None:
    """Two trees with equal contents but other mtimes, modes and creation order zip alike."""
    zips = []
    for n, names in enumerate([["b/x.py", "a.py", "b/c/y.so"], ["b/c/y.so", "a.py", "b/x.py"]]):
        tree = tmp_path / f"tree{n}"
        for name in names:
            path = tree / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(name.encode() * 100)
            path.chmod(0o775 if name.endswith(".so") else 0o600 + 0o40 * n)
            os.utime(path, (1_000_000 * (n + 1), 1_000_000 * (n + 1)))
        out = tmp_path / f"out{n}.zip"
        assert build_lambda.write_zip(tree, out) == (3, sum(len(x) * 100 for x in names))
        zips.append(out.read_bytes())
    assert zips[0] == zips[1]
    with zipfile.ZipFile(io.BytesIO(zips[0])) as zf:
        assert zf.namelist() == ["a.py", "b/c/y.so", "b/x.py"]
        assert [i.external_attr >> 16 for i in zf.infolist()] == [0o100644, 0o100755, 0o100644]


def test_prune_keeps_records_consistent(tmp_path: Path) -> None:
    staging = tmp_path / "package"
    for name in [
        "pkg/__init__.py",
        "pkg/__pycache__/__init__.cpython-312.pyc",
        "pkg/tests/test_pkg.py",
        "bin/pkg-cli",
        "pkg-1.0.dist-info/METADATA",
        "pkg-1.0.dist-info/direct_url.json",
    ]:
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_text("x")
    (staging / "pkg-1.0.dist-info/RECORD").write_text(
        "../../bin/pkg-cli,sha256=a,1\r\n"
        "pkg/__init__.py,sha256=b,1\r\n"
        "pkg/__pycache__/__init__.cpython-312.pyc,,\r\n"
        "pkg/tests/test_pkg.py,sha256=c,1\r\n"
        "pkg-1.0.dist-info/METADATA,sha256=d,1\r\n"
        "pkg-1.0.dist-info/direct_url.json,sha256=e,1\r\n"
        "pkg-1.0.dist-info/RECORD,,\r\n",
        newline="",
    )
    build_lambda.prune(staging)
    left = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
    assert left == ["pkg-1.0.dist-info/METADATA", "pkg-1.0.dist-info/RECORD", "pkg/__init__.py"]
    assert (staging / "pkg-1.0.dist-info/RECORD").read_bytes() == (
        b"pkg/__init__.py,sha256=b,1\r\n"
        b"pkg-1.0.dist-info/METADATA,sha256=d,1\r\n"
        b"pkg-1.0.dist-info/RECORD,,\r\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--arch", "sparc"], "invalid choice"),
        (["--python", "2.7"], "Python >= 3.11"),
        (["--python", "twelve"], "expected a version like 3.12"),
    ],
)
def test_build_script_rejects_bad_arguments(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        build_lambda.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_build_script_reports_a_missing_interpreter(tmp_path: Path) -> None:
    with pytest.raises(build_lambda.BuildError, match="cannot run the Python interpreter"):
        build_lambda.build(tmp_path / "x.zip", python=str(tmp_path / "no-such-python"))
    assert not (tmp_path / "x.zip").exists()


def test_a_failing_step_names_itself_and_its_command() -> None:
    with pytest.raises(build_lambda.BuildError, match=r"doing the thing failed \(exit 3\)") as exc:
        build_lambda._run([sys.executable, "-c", "raise SystemExit(3)"], "doing the thing")
    assert "command: " in str(exc.value)


def test_main_exits_non_zero_with_the_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing_build(*args: object, **kwargs: object) -> Path:
        raise build_lambda.BuildError("pip could not find grpcio for cp312")

    monkeypatch.setattr(build_lambda, "build", failing_build)
    assert build_lambda.main(["--output", "x.zip"]) == 1
    assert capsys.readouterr().err == (
        "build_lambda.py: error: pip could not find grpcio for cp312\n"
    )


def test_python_version_option_accepts_runtime_names() -> None:
    assert build_lambda._python_version("3.13") == "3.13"
    assert build_lambda._python_version("python3.12") == "3.12"


# --- Terraform -------------------------------------------------------------------------


def _unquote(value: Any) -> Any:
    """python-hcl2 >= 5 keeps string quotes and marks blocks; older versions do not."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return json.loads(value)
        return value
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if not str(k).startswith("__")}
    return value


@dataclass
class Terraform:
    blocks: dict[str, list[dict[str, Any]]]

    def _one(self, kind: str, *labels: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = []
        for entry in self.blocks.get(kind, []):
            node: Any = entry
            for label in labels:
                node = node.get(label) if isinstance(node, dict) else None
            if node is not None:
                found.append(node)
        assert len(found) == 1, f"expected one {kind} {labels}, found {len(found)}"
        return found[0]

    def resource(self, rtype: str, name: str | None = None) -> dict[str, Any]:
        if name is None:
            names = [n for e in self.blocks.get("resource", []) for n in e.get(rtype, {})]
            assert len(names) == 1, f"expected one {rtype}, found {names}"
            name = names[0]
        return self._one("resource", rtype, name)

    def resources(self, rtype: str) -> list[dict[str, Any]]:
        return [b for e in self.blocks.get("resource", []) for b in e.get(rtype, {}).values()]

    def variable(self, name: str) -> dict[str, Any]:
        return self._one("variable", name)

    def output(self, name: str) -> dict[str, Any]:
        return self._one("output", name)

    @property
    def locals(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for entry in self.blocks.get("locals", []):
            merged.update(entry)
        return merged

    def value(self, expr: Any) -> Any:
        """Resolve ``${var.x}`` to the variable's default and ``${local.x}`` to the local."""
        if isinstance(expr, str):
            if m := re.fullmatch(r"\$\{var\.(\w+)\}", expr):
                return self.value(self.variable(m.group(1)).get("default"))
            if m := re.fullmatch(r"\$\{local\.(\w+)\}", expr):
                return self.value(self.locals[m.group(1)])
        return expr


@pytest.fixture(scope="module")
def terraform() -> Terraform:
    blocks: dict[str, list[dict[str, Any]]] = {}
    files = sorted(TERRAFORM.glob("*.tf"))
    assert {f.name for f in files} >= {"main.tf", "variables.tf", "outputs.tf", "versions.tf"}
    for path in files:
        with path.open(encoding="utf-8") as f:
            parsed = _unquote(hcl2.load(f))
        for kind, entries in parsed.items():
            blocks.setdefault(kind, []).extend(entries)
    return Terraform(blocks)


def test_terraform_pins_the_aws_provider(terraform: Terraform) -> None:
    (settings,) = terraform.blocks["terraform"]
    (providers,) = settings["required_providers"]
    assert providers["aws"]["source"] == "hashicorp/aws"
    assert providers["aws"]["version"] == "~> 5.0"
    assert terraform.value(terraform._one("provider", "aws")["region"]) == "us-east-1"


def test_terraform_variables(terraform: Terraform) -> None:
    for name in ["region", "function_name", "architecture", "zip_path"]:
        terraform.variable(name)
    assert terraform.variable("architecture")["default"] == "x86_64"
    assert terraform.variable("payload_format_version")["default"] == "2.0"
    assert terraform.variable("zip_path")["default"] is None


def test_terraform_lambda_function(terraform: Terraform) -> None:
    fn = terraform.resource("aws_lambda_function")
    assert terraform.value(fn["handler"]) == HANDLER
    assert terraform.value(fn["runtime"]) == f"python{build_lambda.DEFAULT_PYTHON}"
    assert [terraform.value(a) for a in fn["architectures"]] == ["x86_64"]
    assert terraform.value(fn["memory_size"]) == 512
    assert terraform.value(fn["timeout"]) == 10
    assert fn["filename"] == "${local.zip_path}"
    assert fn["source_code_hash"] == "${filebase64sha256(local.zip_path)}"
    role = terraform.resource("aws_iam_role")
    assert "lambda.amazonaws.com" in json.dumps(terraform.blocks["data"])
    assert role["assume_role_policy"]
    attachment = terraform.resource("aws_iam_role_policy_attachment")
    assert attachment["policy_arn"].endswith(
        ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    )


def test_terraform_default_zip_path_is_where_the_script_writes(terraform: Terraform) -> None:
    zip_path = terraform.locals["zip_path"]
    m = re.search(
        r'"\$\{path\.module\}/([^"]+)/ping-lambda-\$\{var\.architecture\}\.zip"', zip_path
    )
    assert m, zip_path
    assert (TERRAFORM / m.group(1)).resolve() == build_lambda._default_output("x").parent


def test_terraform_http_api(terraform: Terraform) -> None:
    api = terraform.resource("aws_apigatewayv2_api")
    assert api["protocol_type"] == "HTTP"
    integration = terraform.resource("aws_apigatewayv2_integration")
    assert integration["integration_type"] == "AWS_PROXY"
    assert integration["payload_format_version"] == "${var.payload_format_version}"
    assert "aws_lambda_function." in integration["integration_uri"]
    routes = terraform.resources("aws_apigatewayv2_route")
    assert sorted(r["route_key"] for r in routes) == ["ANY /", "ANY /{proxy+}"]
    for route in routes:
        assert route["target"] == "integrations/${aws_apigatewayv2_integration.lambda.id}"
    stage = terraform.resource("aws_apigatewayv2_stage")
    assert stage["name"] == "$default"
    assert stage["auto_deploy"] is True
    permission = terraform.resource("aws_lambda_permission")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert "execution_arn" in permission["source_arn"]
    assert "api_endpoint" in terraform.output("endpoint")["value"]


_ATTR = re.compile(r"^( *)([\w-]+|\"[^\"]*\")( *)= ")


def _fmt_problems(path: Path) -> Iterator[str]:
    """What ``terraform fmt`` would change that a line check can see (it cannot run here):
    2-space indentation, no tabs or trailing blanks, and the ``=`` of consecutive
    one-line attributes aligned one space after the longest name."""
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n") or text.endswith("\n\n"):
        yield f"{path.name}: must end with exactly one newline"
    run: list[tuple[int, re.Match[str]]] = []

    def check_run() -> Iterator[str]:
        if run:
            width = max(len(m.group(2)) for _, m in run)
            for lineno, m in run:
                if len(m.group(3)) != width - len(m.group(2)) + 1:
                    yield f"{path.name}:{lineno}: '=' not aligned"
        run.clear()

    depth = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        if "\t" in line or line != line.rstrip():
            yield f"{path.name}:{lineno}: tab or trailing whitespace"
        stripped = line.strip()
        closing = stripped[:1] in {"}", "]", ")"}
        want = 2 * (depth - (1 if closing else 0))
        if stripped and len(line) - len(line.lstrip(" ")) != want:
            yield f"{path.name}:{lineno}: indent {len(line) - len(line.lstrip())}, want {want}"
        m = _ATTR.match(line)
        opens = stripped.endswith(("{", "[", "("))
        if m and not opens and len(m.group(1)) == want:
            run.append((lineno, m))
        else:
            yield from check_run()
            if m and opens and m.group(3) != " ":
                yield f"{path.name}:{lineno}: one space before '=' of a multi-line value"
        if not stripped.startswith("#"):
            depth += sum(stripped.count(c) for c in "{[(") - sum(stripped.count(c) for c in "}])")
    yield from check_run()


def test_format_check_sees_what_terraform_fmt_would_change(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tf"
    bad.write_text(
        'resource "a" "b" {\n'
        "  name = 1\n"
        "  longer_name = 2\n"
        "   odd    = 3\n"
        "  tags   = {\n"
        '    x = "y"\n'
        "  }\n"
        "}\n"
    )
    assert sorted(_fmt_problems(bad)) == [
        "bad.tf:2: '=' not aligned",
        "bad.tf:4: indent 3, want 2",
        "bad.tf:5: one space before '=' of a multi-line value",
    ]


def test_terraform_is_in_canonical_format() -> None:
    problems = [p for f in sorted(TERRAFORM.glob("*.tf")) for p in _fmt_problems(f)]
    assert problems == []


# --- the container image ---------------------------------------------------------------


def _instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _handler_is_defined(handler: str) -> bool:
    module, _, attr = handler.rpartition(".")
    source = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == attr:
            return True
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == attr for t in targets):
            return True
    return False


def test_dockerfile_runs_the_handler_with_awslambdaric() -> None:
    instructions = _instructions(DOCKERFILE)
    values = dict(instructions)
    assert values["FROM"] == f"python:{build_lambda.DEFAULT_PYTHON}-slim"
    assert json.loads(values["ENTRYPOINT"]) == ["python", "-m", "awslambdaric"]
    cmd = json.loads(values["CMD"])
    assert cmd == [HANDLER]
    assert _handler_is_defined(cmd[0])
    assert any(w == "RUN" and "awslambdaric" in r and "pip install" in r for w, r in instructions)


def test_dockerfile_copies_files_that_exist() -> None:
    copies = [rest.split() for word, rest in _instructions(DOCKERFILE) if word == "COPY"]
    assert copies
    for args in copies:
        sources = [a for a in args[:-1] if not a.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), source


def test_handler_names_agree() -> None:
    """The build script, Terraform and the Dockerfile name the same, existing handler."""
    assert HANDLER == "examples.ping.lambda_function.handler"
    assert _handler_is_defined(HANDLER)
    assert f'"{HANDLER}"' in (TERRAFORM / "main.tf").read_text(encoding="utf-8")


def test_sample_event_is_an_http_api_ping() -> None:
    event = json.loads((DEPLOY / "events" / "ping-http-api-v2.json").read_text(encoding="utf-8"))
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/v1/ping"
    assert event["requestContext"]["http"]["method"] == "GET"
