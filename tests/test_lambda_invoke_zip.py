"""``grpcgw lambda-invoke --zip``: how a zip's handler runs, fails and is refused.

The zips here are small and pure Python (a handler module or two), so that
each case costs an interpreter start and no more; a zip built by
``grpcgw lambda-build`` and run the same way is in
tests/test_lambda_build_project.py. The target checks read the ``WHEEL``
files pip writes, here with the tags of real grpcio and protobuf wheels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from grpcgw.lambdabuild.target import Machine, Target, mismatch, read_target

from .conftest import ROOT

HERE = Machine.here()

HANDLER = """
import importlib.util, json, os, sys

print("loading", __name__)


def handler(event, context):
    print("print in the function")
    os.write(1, b"written to fd 1\\n")
    return {
        "statusCode": 200,
        "body": json.dumps({
            "path": event["rawPath"],
            "cwd": os.getcwd(),
            "sys_path": sys.path,
            "isolated": sys.flags.isolated,
            "no_site": sys.flags.no_site,
            "task_root": os.environ.get("LAMBDA_TASK_ROOT"),
            "grpcgw_found": importlib.util.find_spec("grpcgw") is not None,
            "remaining": context.get_remaining_time_in_millis(),
        }),
    }


def raises(event, context):
    raise RuntimeError("boom")


def unmarshalable(event, context):
    return {"body": {1, 2}}


def hangs(event, context):
    import threading
    threading.Event().wait()


not_callable = 42
"""


def make_zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, textwrap.dedent(text))
    return path


def invoke(
    zip_path: Path, handler: str, *args: str, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grpcgw", "lambda-invoke", "--zip", str(zip_path), handler,
         *args, *(() if "--request" in args else ("--request", "GET", "/v1/ping"))],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip


@pytest.fixture
def app_zip(tmp_path: Path) -> Path:
    return make_zip(tmp_path / "app.zip", {"app/__init__.py": "", "app/main.py": HANDLER})


def test_the_handler_runs_isolated_in_the_unpacked_zip(app_zip: Path) -> None:
    """Its import path is the zip and the standard library, its cwd the task root (as
    /var/task); stdout is the response alone, whatever the function prints."""
    result = invoke(app_zip, "app.main.handler", "--remaining-ms", "5000")
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    seen = json.loads(response["body"])
    assert seen["path"] == "/v1/ping"
    root = seen["cwd"]
    assert seen["task_root"] == root
    assert seen["sys_path"][0] == root
    assert Path(root).name == "task"
    assert not Path(root).is_relative_to(ROOT)
    stdlib = seen["sys_path"][1:]
    assert stdlib
    assert all(p.startswith(sys.base_prefix) for p in stdlib), stdlib
    assert not any("-packages" in p for p in stdlib), stdlib
    assert (seen["isolated"], seen["no_site"]) == (1, 1)
    assert not seen["grpcgw_found"]  # installed where grpcgw runs, not in the zip
    assert 0 < seen["remaining"] <= 5000
    assert "loading app.main" in result.stderr
    assert "print in the function" in result.stderr
    assert "written to fd 1" in result.stderr
    assert not Path(root).exists()  # the unpacked copy is gone


@pytest.mark.parametrize(
    ("handler", "last_line", "traceback"),
    [
        (
            "nowhere.handler",
            "Unable to import module 'nowhere': No module named 'nowhere': {zip} has no "
            "nowhere.py (or package): the handler's module is named from the zip's root",
            False,
        ),
        ("app.main.nothing", "Handler 'nothing' missing on module 'app.main'", False),
        ("app.main.not_callable", "Handler 'not_callable' missing on module 'app.main'", False),
        ("app.main.raises", "the handler raised RuntimeError: boom", True),
        (
            "app.main.unmarshalable",
            "Unable to marshal response: Object of type set is not JSON serializable",
            False,
        ),
        (
            "app.broken.handler",
            "Unable to import module 'app.broken': ZeroDivisionError: division by zero",
            True,
        ),
        (
            "app.aws.handler",
            "Unable to import module 'app.aws': No module named 'boto3' (imported by app/aws.py "
            "line 1): {zip} does not contain it. Lambda's runtime provides boto3 itself, at a "
            "version of its choosing: add it to your requirements to test it here",
            False,
        ),
    ],
)
def test_a_failing_function_says_why_in_lambdas_words(
    handler: str, last_line: str, traceback: bool, tmp_path: Path
) -> None:
    zip_path = make_zip(
        tmp_path / "f.zip",
        {
            "app/__init__.py": "",
            "app/main.py": HANDLER,
            "app/broken.py": "x = 1 / 0\n",
            "app/aws.py": "import boto3\n",
        },
    )
    result = invoke(zip_path, handler)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == f"grpcgw: {last_line.format(zip=zip_path)}"
    assert ("Traceback (most recent call last):" in result.stderr) is traceback


def test_a_function_past_its_deadline_is_ended(app_zip: Path) -> None:
    result = invoke(app_zip, "app.main.hangs", "--remaining-ms", "300")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == "grpcgw: Task timed out after 0.30 seconds"


def test_a_bad_zip_or_option_is_one_line(app_zip: Path, tmp_path: Path) -> None:
    missing = invoke(tmp_path / "none.zip", "app.main.handler")
    assert missing.stderr.strip() == f"grpcgw: --zip {tmp_path / 'none.zip'}: no such file"
    text = tmp_path / "text.zip"
    text.write_text("not a zip")
    bad = invoke(text, "app.main.handler")
    assert bad.stderr.strip() == f"grpcgw: --zip {text}: not a zip file"
    with_path = invoke(app_zip, "app.main.handler", "--path", "tests", "--request", "GET", "/")
    assert with_path.stderr.strip() == (
        "grpcgw: --path does not go with --zip: the zip is the whole import path"
    )
    folder = invoke(tmp_path, "app.main.handler")
    assert folder.stderr.strip() == f"grpcgw: --zip {tmp_path}: cannot read it: Is a directory"
    for result in (missing, bad, with_path, folder):
        assert (result.returncode, result.stdout) == (1, "")


# --- the zip's target, from its wheels ------------------------------------------------------

GRPCIO_WHEEL = """\
Wheel-Version: 1.0
Generator: setuptools (77.0.1)
Root-Is-Purelib: false
Tag: cp{py}-cp{py}-manylinux_2_17_{machine}
Tag: cp{py}-cp{py}-manylinux2014_{machine}
"""
PROTOBUF_WHEEL = """\
Wheel-Version: 1.0
Generator: bazel-wheelmaker 1.0
Root-Is-Purelib: false
Tag: cp39-abi3-manylinux_2_28_{machine}
"""
PURE_WHEEL = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def wheels_zip(path: Path, py: str = "312", machine: str = "x86_64") -> Path:
    return make_zip(
        path,
        {
            "grpcio-1.76.0.dist-info/WHEEL": GRPCIO_WHEEL.format(py=py, machine=machine),
            "protobuf-6.33.1.dist-info/WHEEL": PROTOBUF_WHEEL.format(machine=machine),
            "idna-3.11.dist-info/WHEEL": PURE_WHEEL,
        },
    )


def target_of(path: Path) -> Target:
    with zipfile.ZipFile(path) as zf:
        return read_target(zf)


def test_the_target_is_read_from_the_wheels(tmp_path: Path) -> None:
    target = target_of(wheels_zip(tmp_path / "a.zip", "313", "aarch64"))
    assert (target.pythons, target.archs, target.systems) == ({"3.13"}, {"arm64"}, {"linux"})
    assert target.glibc == ((2, 28), "protobuf")  # the newest a wheel needs
    assert set(target.wheels) == {"grpcio", "protobuf"}  # pure wheels say nothing
    assert target.describe() == "Python 3.13 on arm64"
    pure = target_of(make_zip(tmp_path / "p.zip", {"idna-3.11.dist-info/WHEEL": PURE_WHEEL}))
    assert pure == Target()
    assert mismatch(pure, HERE, "p.zip") is None


X86 = Machine(python="3.12", arch="x86_64", system="linux", glibc=(2, 36))


@pytest.mark.parametrize(
    ("machine", "message"),
    [
        (X86, None),
        (
            Machine("3.11", "arm64", "linux", (2, 36)),
            "f.zip targets Python 3.12 on x86_64; this is Python 3.11 on arm64: rebuild with "
            "--python 3.11 --arch arm64 to test it here",
        ),
        (
            Machine("3.11", "x86_64", "linux", (2, 36)),
            "f.zip targets Python 3.12 on x86_64; this is Python 3.11 on x86_64, and there is "
            "no python3.12 on PATH: install it, or rebuild with --python 3.11 to test it here",
        ),
        (
            Machine("3.12", "x86_64", "linux", (2, 17)),
            "f.zip's protobuf wheel needs glibc 2.28 (as Lambda's runtime for Python 3.12 has); "
            "this machine has glibc 2.17: test it in the container of docs/lambda.md instead",
        ),
        (
            Machine("3.12", "x86_64", "linux", None),
            "f.zip's protobuf wheel needs glibc 2.28, and this machine's C library is not "
            "glibc: test it in the container of docs/lambda.md instead",
        ),
        (
            Machine("3.12", "x86_64", "darwin", None),
            "f.zip holds Linux wheels for Python 3.12 on x86_64; this is darwin, which cannot "
            "load them: test it in the container of docs/lambda.md (the Runtime Interface "
            "Emulator) instead",
        ),
    ],
)
def test_a_zip_this_machine_cannot_run_is_refused_saying_why(
    machine: Machine, message: str | None, tmp_path: Path
) -> None:
    assert mismatch(target_of(wheels_zip(tmp_path / "f.zip")), machine, "f.zip") == message


def test_mixed_or_foreign_wheels_are_refused(tmp_path: Path) -> None:
    mixed = make_zip(
        tmp_path / "m.zip",
        {
            "grpcio-1.76.0.dist-info/WHEEL": GRPCIO_WHEEL.format(py="312", machine="x86_64"),
            "protobuf-6.33.1.dist-info/WHEEL": PROTOBUF_WHEEL.format(machine="aarch64"),
        },
    )
    assert mismatch(target_of(mixed), X86, "m.zip") == (
        "m.zip mixes wheels for Python 3.12 on arm64 and x86_64, which no runtime runs "
        "together: grpcio (cp312-cp312-manylinux_2_17_x86_64 cp312-cp312-manylinux2014_x86_64), "
        "protobuf (cp39-abi3-manylinux_2_28_aarch64); rebuild it"
    )
    mac = make_zip(
        tmp_path / "mac.zip",
        {"grpcio-1.76.0.dist-info/WHEEL": "Tag: cp312-cp312-macosx_11_0_universal2\n"},
    )
    assert mismatch(target_of(mac), X86, "mac.zip") == (
        "mac.zip holds wheels for macosx, not Linux: Lambda cannot run it; rebuild it with "
        "grpcgw lambda-build"
    )


def test_the_command_refuses_before_unpacking(tmp_path: Path) -> None:
    other = "aarch64" if HERE.arch == "x86_64" else "x86_64"
    zip_path = wheels_zip(tmp_path / "w.zip", HERE.python.replace(".", ""), other)
    result = invoke(zip_path, "app.main.handler")
    assert result.returncode == 1
    assert f"{zip_path} targets Python {HERE.python} on " in result.stderr
    assert f"rebuild with --python {HERE.python} --arch {HERE.arch}" in result.stderr


def _other_python() -> str:
    return "3.13" if HERE.python == "3.12" else "3.12"


def _python_on_path(bin_dir: Path, version: str, reports: str, marker: Path) -> dict[str, str]:
    """An environment whose PATH starts with a ``python<version>`` that answers the
    version probe with ``reports`` and runs everything else with this interpreter,
    leaving ``marker`` behind (this machine has one Python: the selection is what
    is tested, with a stand-in for the other version)."""
    bin_dir.mkdir()
    shim = bin_dir / f"python{version}"
    shim.write_text(
        "#!/bin/sh\n"
        'case "$*" in *sys.implementation.name*) echo "' + reports + '"; exit 0;; esac\n'
        f'echo "$@" > {marker}\n'
        f'exec {sys.executable} "$@"\n'
    )
    shim.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_a_zip_for_another_python_runs_with_that_python_from_path(
    app_zip: Path, tmp_path: Path
) -> None:
    version = _other_python()
    machine = "aarch64" if HERE.arch == "arm64" else HERE.arch
    zip_path = tmp_path / "other.zip"
    with zipfile.ZipFile(app_zip) as src, zipfile.ZipFile(zip_path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(
            "grpcio-1.76.0.dist-info/WHEEL",
            GRPCIO_WHEEL.format(py=version.replace(".", ""), machine=machine),
        )
    marker = tmp_path / "ran"
    env = _python_on_path(tmp_path / "bin", version, f"cpython 3 {version[2:]}", marker)
    args = [sys.executable, "-m", "grpcgw", "lambda-invoke", "--zip", str(zip_path)]
    ok = subprocess.run(
        [*args, "app.main.handler", "--request", "GET", "/v1/ping"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["statusCode"] == 200
    assert "-I" in marker.read_text().split()  # the handler ran under python<version>

    # A python<version> on PATH that is another version (a pyenv shim with nothing
    # behind it runs the global one) is not taken for it.
    marker.unlink()
    env = _python_on_path(tmp_path / "bin2", version, "cpython 3 1", marker)
    refused = subprocess.run(
        [*args, "app.main.handler", "--request", "GET", "/v1/ping"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 1
    assert f"there is no python{version} on PATH" in refused.stderr
    assert not marker.exists()
