"""A user's own project, outside this repository, from ``grpcgw lambda-build`` to an answered event.

tests/lambda_project.py makes the project in a temporary directory (its proto
compiled by grpcio-tools) and runs an unpacked zip as the managed runtime does:
``python -S -m awslambdaric`` with only the zip and awslambdaric on the path,
against the fake Runtime API of tests/lambda_runtime.py.

Builds are shared per module (pip's cache makes repeated ones quick): one for
this machine's Python and architecture (run, also by ``grpcgw lambda-invoke
--zip``, and built again from another copy of the project to compare bytes),
one for arm64 on python3.13 (which lambda-invoke refuses here), one whose
requirements add aiohttp.
"""

from __future__ import annotations

import contextlib
import json
import platform
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grpcgw.lambdabuild import wheels

from . import lambda_project
from .lambda_runtime import FakeRuntime, LambdaProcess, RuntimeProcessExited
from .test_lambda_build import (
    AIOHTTP_TREE,
    EM_X86_64,
    HERE_PYTHON,
    check_records,
    elf_machines,
    installed_names,
)

EM_AARCH64 = 183
HERE_ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
TIMEOUT = 30
EVENTS = Path(__file__).parent / "data" / "lambda-events"


@dataclass
class Build:
    project: Path
    path: Path
    stdout: str

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.path) as zf:
            return zf.namelist()


def _build(tmp: Path, name: str, *args: str, requirements: str = "") -> Build:
    project = lambda_project.make_project(tmp / f"project-{name}")
    if requirements:
        (project / "requirements.txt").write_text(requirements)
    out = tmp / f"{name}.zip"
    result = lambda_project.build(project, out, *args)
    assert result.returncode == 0, f"build failed:\n{result.stdout}\n{result.stderr}"
    return Build(project, out, result.stdout)


@pytest.fixture(scope="module")
def here(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Built for this machine's Python and architecture, so that it can run here."""
    tmp = tmp_path_factory.mktemp("here")
    return _build(tmp, "here", "--arch", HERE_ARCH, "--python", HERE_PYTHON)


@pytest.fixture(scope="module")
def arm64(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return _build(tmp_path_factory.mktemp("arm64"), "arm64", "--arch", "arm64", "--python", "3.13")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """As ``here``, with --compile."""
    tmp = tmp_path_factory.mktemp("compiled")
    return _build(tmp, "compiled", "--arch", HERE_ARCH, "--python", HERE_PYTHON, "--compile")


@contextlib.contextmanager
def running(build: Build, tmp: Path) -> Iterator[tuple[FakeRuntime, LambdaProcess]]:
    """The zip unpacked and running under awslambdaric, waiting for its first event."""
    task = lambda_project.unpack(build.path, tmp / "var-task")
    runtime = lambda_project.runtime_dir(tmp / "var-runtime")
    with FakeRuntime() as rt, lambda_project.run_zip(task, runtime, rt) as proc:
        try:
            rt.wait_for_next(TIMEOUT)
        except RuntimeProcessExited as exc:
            raise AssertionError(f"init failed: {rt.init_errors}\n{proc.output}") from exc
        yield rt, proc


@pytest.fixture(scope="module")
def function(
    here: Build, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FakeRuntime, LambdaProcess]]:
    """The ``here`` zip unpacked and running under awslambdaric."""
    with running(here, tmp_path_factory.mktemp("function")) as (rt, proc):
        yield rt, proc


def http_event(method: str, path: str, body: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "apigw-http-v2-minimal-get.json").read_text())
    event.update(rawPath=path, rawQueryString="", isBase64Encoded=False)
    event["requestContext"]["http"].update(method=method, path=path)
    event.pop("body", None)
    if body is not None:
        event["body"] = body
        event["headers"]["content-type"] = "application/json"
    return event


def invoke(rt: FakeRuntime, event: dict[str, Any]) -> dict[str, Any]:
    inv = rt.invoke(event, timeout=TIMEOUT)
    assert inv.kind == "response", inv.payload
    assert isinstance(inv.payload, dict)
    return inv.payload


# --- running it ---------------------------------------------------------------------------


def test_the_zip_answers_an_http_api_event(function: tuple[FakeRuntime, LambdaProcess]) -> None:
    rt, proc = function
    assert invoke(rt, http_event("GET", "/v1/shelves/fiction/books/1")) == {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "cookies": [],
        "body": '{"shelf":"fiction","id":"1","title":"Dune","authors":[]}',
        "isBase64Encoded": False,
    }
    assert rt.init_errors == []
    assert proc.poll() is None


def test_the_zip_transcodes_a_body_and_an_error(
    function: tuple[FakeRuntime, LambdaProcess],
) -> None:
    rt, _ = function
    created = invoke(
        rt, http_event("POST", "/v1/shelves/poetry/books", '{"title":"Odes","authors":["Keats"]}')
    )
    assert created["statusCode"] == 200
    assert json.loads(created["body"]) == {
        "shelf": "poetry",
        "id": "1",
        "title": "Odes",
        "authors": ["Keats"],
    }
    missing = invoke(rt, http_event("GET", "/v1/shelves/poetry/books/9"))
    assert missing["statusCode"] == 404
    assert json.loads(missing["body"]) == {
        "code": 5,
        "message": "no book 9 on poetry",
        "details": [],
    }


def test_the_zip_carries_the_projects_requirements(
    function: tuple[FakeRuntime, LambdaProcess],
) -> None:
    """The servicer imports idna, which only the project's requirements file names."""
    rt, _ = function
    answer = invoke(rt, http_event("GET", "/v1/address"))
    assert json.loads(answer["body"]) == {
        "host": "bücher.example",
        "asciiHost": "xn--bcher-kva.example",
    }


# --- what is in it ------------------------------------------------------------------------


def test_build_prints_the_handler_to_configure(here: Build) -> None:
    assert re.search(r"handler +app\.main\.handler +\(app/main\.py\)", here.stdout)
    assert f"runtime       python{HERE_PYTHON}, architecture {HERE_ARCH}" in here.stdout
    assert re.search(r"\d+\.\d MB zipped, \d+\.\d MB unzipped", here.stdout)
    assert "your code     5 files" in here.stdout


def test_only_the_projects_code_is_taken(here: Build) -> None:
    ours = sorted(n for n in here.names() if n.split("/")[0] in {"app", "bookshop", "proto"})
    assert ours == [
        "app/__init__.py",
        "app/main.py",
        "app/service.py",
        "bookshop/v1/bookshop_pb2.py",
        "bookshop/v1/bookshop_pb2_grpc.py",
    ]
    tops = {n.split("/")[0] for n in here.names()}
    assert not tops & {"tests", ".env", "env", "requirements.txt", "here.zip"}, tops
    for name in ours:
        assert zipfile.ZipFile(here.path).read(name) == (here.project / name).read_bytes()


def test_no_aiohttp_nor_the_runtime_client_in_the_zip(here: Build, arm64: Build) -> None:
    for build in (here, arm64):
        dists = installed_names(build.names())
        assert {"grpcgw", "grpcio", "protobuf", "idna"} <= dists
        assert not dists & AIOHTTP_TREE, dists
        assert not dists & {"awslambdaric", "simplejson", "snapshot-restore-py"}, dists
        assert "left out      aiohttp: the Lambda path never imports it" in build.stdout


def test_two_builds_from_two_copies_are_the_same_bytes(
    here: Build, tmp_path_factory: pytest.TempPathFactory
) -> None:
    again = _build(
        tmp_path_factory.mktemp("again"), "again", "--arch", HERE_ARCH, "--python", HERE_PYTHON
    )
    assert again.project != here.project
    assert again.path.read_bytes() == here.path.read_bytes()


def test_records_match_the_files(here: Build, arm64: Build) -> None:
    for build in (here, arm64):
        with zipfile.ZipFile(build.path) as zf:
            assert check_records(zf) >= 6


@pytest.mark.parametrize(
    ("build", "machine", "python"),
    [("here", None, HERE_PYTHON), ("arm64", EM_AARCH64, "3.13")],
)
def test_native_extensions_are_for_the_target(
    build: str, machine: int | None, python: str, request: pytest.FixtureRequest
) -> None:
    built: Build = request.getfixturevalue(build)
    if machine is None:
        machine = {"x86_64": EM_X86_64, "arm64": EM_AARCH64}[HERE_ARCH]
    with zipfile.ZipFile(built.path) as zf:
        machines = elf_machines(zf)
    assert any(n.startswith("grpc/_cython/cygrpc.") for n in machines)
    assert set(machines.values()) == {machine}
    tag = "cpython-" + python.replace(".", "")
    for name in machines:
        found = re.search(r"\.(cpython-\d+)-", name)
        assert found is None or found.group(1) == tag, name


def test_aiohttp_comes_along_when_the_requirements_need_it(
    here: Build, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With --grpcgw-wheel (a user outside this repository) and aiohttp in the requirements."""
    tmp = tmp_path_factory.mktemp("with-aiohttp")
    wheel = wheels.build_from_checkout(lambda_project.ROOT, tmp, python=sys.executable, quiet=True)
    build = _build(
        tmp,
        "with-aiohttp",
        "--grpcgw-wheel",
        str(wheel),
        "--python",
        HERE_PYTHON,
        requirements="grpcgw\nidna>=3\naiohttp\n",
    )
    dists = installed_names(build.names())
    assert AIOHTTP_TREE - {"attrs"} <= dists  # attrs: no longer required by every aiohttp
    assert "awslambdaric" not in dists
    assert "kept          aiohttp (your requirements need it)" in build.stdout
    assert f"grpcgw from   the wheel {wheel}" in build.stdout
    assert "aiohttp" not in installed_names(here.names())


def test_compiled_zip_carries_bytecode_for_every_module(compiled: Build, here: Build) -> None:
    names = set(compiled.names())
    modules = [n for n in names if n.endswith(".py") and ".dist-info/" not in n]
    tag = "cpython-" + HERE_PYTHON.replace(".", "")
    for module in modules:
        folder, _, file = module.rpartition("/")
        pyc = f"{folder}/__pycache__/{file[:-3]}.{tag}.pyc".lstrip("/")
        assert pyc in names, module
    assert "app/__pycache__/main." + tag + ".pyc" in names
    assert "note          bytecode compiled by " in compiled.stdout
    assert set(here.names()) < names
    with zipfile.ZipFile(compiled.path) as zf:
        assert check_records(zf) >= 6


def test_compiled_zip_answers(compiled: Build, tmp_path: Path) -> None:
    with running(compiled, tmp_path) as (rt, _):
        answer = invoke(rt, http_event("GET", "/v1/shelves/fiction/books/1"))
        assert answer["statusCode"] == 200
        assert json.loads(answer["body"])["title"] == "Dune"
        assert rt.init_errors == []


# --- grpcgw lambda-invoke --zip: the built zip run here, in a Python of its own -------------


def lambda_invoke(zip_path: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``grpcgw lambda-invoke --zip``, run as its user would, from ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "grpcgw", "lambda-invoke", "--zip", str(zip_path), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def without(build: Build, dest: Path, *drop: str) -> Path:
    """A copy of the zip less the entries under each of ``drop`` (a top-level name)."""
    with zipfile.ZipFile(build.path) as zf, zipfile.ZipFile(dest, "w") as out:
        for info in zf.infolist():
            if info.filename.split("/")[0] not in drop:
                out.writestr(info, zf.read(info))
    return dest


def test_lambda_invoke_runs_the_built_zip(here: Build) -> None:
    """The zip's own grpcgw, servicer and generated code answer, run from the project's
    directory (whose app/ the isolated interpreter must not see); stdout is the response."""
    result = lambda_invoke(
        here.path, "app.main.handler", "--request", "GET", "/v1/shelves/fiction/books/1",
        cwd=here.project,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "cookies": [],
        "body": '{"shelf":"fiction","id":"1","title":"Dune","authors":[]}',
        "isBase64Encoded": False,
    }
    address = lambda_invoke(here.path, "app.main.handler", "--request", "GET", "/v1/address",
                            cwd=here.project)  # fmt: skip
    assert json.loads(json.loads(address.stdout)["body"])["asciiHost"] == "xn--bcher-kva.example"


def test_lambda_invoke_names_the_module_a_zip_lacks(here: Build, tmp_path: Path) -> None:
    """idna, which only the project's requirements name, left out: it is installed where
    grpcgw runs, but the zip's interpreter sees the zip alone, as Lambda does."""
    import idna  # noqa: F401  (here, outside the zip, it is there)

    dists = [n.split("/")[0] for n in here.names() if n.startswith("idna-")]
    lacking = without(here, tmp_path / "no-idna.zip", "idna", *dists)
    result = lambda_invoke(lacking, "app.main.handler", "--request", "GET", "/v1/address",
                           cwd=here.project)  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == (
        f"grpcgw: Unable to import module 'app.main': No module named 'idna' "
        f"(imported by app/service.py line 6): {lacking} does not contain it: add what "
        "provides it to your requirements, then build again"
    )
    # The project's own code too: app/service.py is in the directory it runs from.
    no_service = tmp_path / "no-service.zip"
    with zipfile.ZipFile(here.path) as zf, zipfile.ZipFile(no_service, "w") as out:
        for info in zf.infolist():
            if info.filename != "app/service.py":
                out.writestr(info, zf.read(info))
    result = lambda_invoke(no_service, "app.main.handler", "--request", "GET", "/v1/address",
                           cwd=here.project)  # fmt: skip
    assert result.returncode == 1
    assert "No module named 'app.service' (imported by app/main.py line 4)" in result.stderr


@pytest.fixture(scope="module")
def foreign(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """A zip for the other architecture (the arm64 build on an x86_64 machine)."""
    if HERE_ARCH == "x86_64":
        built: Build = request.getfixturevalue("arm64")
        return built
    return _build(tmp_path_factory.mktemp("x86"), "x86", "--arch", "x86_64", "--python", "3.13")


def test_lambda_invoke_refuses_a_zip_for_another_machine(foreign: Build, tmp_path: Path) -> None:
    other = "arm64" if HERE_ARCH == "x86_64" else "x86_64"
    result = lambda_invoke(foreign.path, "app.main.handler", "--request", "GET", "/v1/address",
                           cwd=tmp_path)  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"grpcgw: {foreign.path} targets Python 3.13 on {other}; this is Python "
        f"{HERE_PYTHON} on {HERE_ARCH}: rebuild with --python {HERE_PYTHON} --arch {HERE_ARCH} "
        "to test it here"
    )
