"""A user's project outside this repository, built into a Lambda zip and run as Lambda runs it.

The project (``tests/data/lambda-project``: a .proto, a servicer, a handler
module, a requirements file) is copied to a temporary directory, its proto
compiled by grpcio-tools into generated code at the project's top level, and
a few things a real project also holds (its tests, a ``.env``, a virtual
environment, bytecode) added for the build to leave out.

:func:`run_zip` runs an unpacked zip the way the managed runtime does: the
zip's contents are the whole function (``python -S``: no site-packages), and
the runtime interface client comes from a separate directory standing in for
Lambda's ``/var/runtime`` (awslambdaric and what it needs, copied from this
environment). bench/lambda_zip.py measures cold starts with the same pieces.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

from .lambda_runtime import ROOT, FakeRuntime, LambdaProcess, lambda_env

PROJECT = ROOT / "tests" / "data" / "lambda-project"
HANDLER = "app.main.handler"
#: What the project leaves out besides the defaults: its proto sources.
EXCLUDES = ("--exclude", "proto")
#: What the managed runtime brings along in /var/runtime.
RUNTIME_DISTRIBUTIONS = ("awslambdaric", "simplejson", "snapshot-restore-py")


def make_project(dest: Path) -> Path:
    """A fresh copy of the project in ``dest`` (which must not exist), protos compiled."""
    shutil.copytree(PROJECT, dest)
    import google.api

    googleapis = Path(next(iter(google.api.__path__))).parent.parent
    wkt = resources.files("grpc_tools") / "_proto"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            "-Iproto",
            f"-I{wkt}",
            f"-I{googleapis}",
            "--python_out=.",
            "--grpc_python_out=.",
            "bookshop/v1/bookshop.proto",
        ],
        cwd=dest,
        check=True,
    )
    # What a real project holds that Lambda must not get.
    (dest / "tests").mkdir()
    (dest / "tests" / "test_service.py").write_text("def test_nothing():\n    pass\n")
    (dest / ".env").write_text("API_TOKEN=not-for-lambda\n")
    (dest / "env").mkdir()
    (dest / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (dest / "env" / "leak.py").write_text("")
    (dest / "app" / "__pycache__").mkdir()
    (dest / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0" * 16)
    return dest


def build(project: Path, output: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``grpcgw lambda-build`` run from the project's directory, as its author would."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "grpcgw",
            "lambda-build",
            HANDLER,
            "--requirements",
            "requirements.txt",
            *EXCLUDES,
            "-o",
            str(output),
            *args,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )


def unpack(zip_path: Path, dest: Path) -> Path:
    """Unzip as Lambda does into ``/var/task``, keeping the zip's file modes."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, dest))
            path.chmod((info.external_attr >> 16) & 0o777)
    return dest


def runtime_dir(dest: Path) -> Path:
    """A stand-in for Lambda's /var/runtime: awslambdaric and what it needs, copied."""
    for name in RUNTIME_DISTRIBUTIONS:
        dist = importlib.metadata.distribution(name)
        for entry in dist.files or ():
            if entry.parts[0] == ".." or "__pycache__" in entry.parts:
                continue
            target = dest / entry
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(str(entry.locate()), target)
    return dest


def run_zip(
    task_root: Path, runtime: Path, rt: FakeRuntime, handler: str = HANDLER
) -> LambdaProcess:
    """``python -S -m awslambdaric HANDLER`` with only the function and the runtime on the path.

    Bytecode is not written, as in Lambda's read-only /var/task.
    """
    env = lambda_env(handler, rt, cwd=task_root)
    env["PYTHONPATH"] = os.pathsep.join([str(task_root), str(runtime)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONNOUSERSITE"] = "1"
    return LambdaProcess(
        [sys.executable, "-S", "-m", "awslambdaric", handler], rt, cwd=task_root, env=env
    )
