"""``grpcgw lambda-invoke --zip``: one event through the handler inside a built deployment zip.

    grpcgw lambda-invoke --zip function.zip app.main.handler --request GET /v1/ping

The zip is checked against this machine first (:mod:`grpcgw.lambdabuild.target`:
its wheels' Python, architecture and glibc), unpacked into a temporary
directory as Lambda unpacks it into ``/var/task``, and its handler run in a
fresh ``python -I -S -B`` (:mod:`grpcgw.lambdabuild._child`) whose import path
is the zip and the standard library alone: what the zip lacks fails here as
on Lambda, naming the module. Nothing here imports grpc, protobuf or the
zip's code; the function runs in the other process only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from grpcgw.lambdabuild import _child, bytecode, target
from grpcgw.lambdabuild.errors import InvokeError

#: Lambda's limit on a function unzipped (as grpcgw.lambdabuild.MAX_UNZIPPED).
MAX_UNZIPPED = 250 * 1024 * 1024
#: Lambda gives a function's initialisation (its imports) 10 s of its own.
INIT_SECONDS = 10.0
#: What the handler's process has past its deadline (which it keeps itself) to end.
GRACE_SECONDS = 2.0


def _unpack(zf: zipfile.ZipFile, dest: Path) -> None:
    """Unzip as Lambda does, keeping the entries' permission bits."""
    for info in zf.infolist():
        path = Path(zf.extract(info, dest))  # zipfile drops '..' and absolute names
        mode = (info.external_attr >> 16) & 0o777
        if mode and not info.is_dir():
            path.chmod(mode | 0o400)


def _interpreter(zip_name: str, found: target.Target) -> str:
    """The Python to run the zip with: this one, or the zip's version from PATH."""
    machine = target.Machine.here()
    python = sys.executable
    if len(found.pythons) == 1 and (wanted := next(iter(found.pythons))) != machine.python:
        other = bytecode.find_interpreter(wanted)
        if other is not None:
            python, machine = other, dataclasses.replace(machine, python=wanted)
    why = target.mismatch(found, machine, zip_name)
    if why is not None:
        raise InvokeError(why)
    return python


def invoke_zip(zip_path: Path, handler: str, event: Any, *, remaining_ms: int = 30_000) -> Any:
    """Run ``event`` through ``handler`` inside the zip and return the response.

    The function's output goes to this process's standard error as it comes.
    :class:`InvokeError` says, in one line, why the zip cannot run here, or
    that the function failed (its traceback, if any, already on standard error).
    """
    name = str(zip_path)
    try:
        zf = zipfile.ZipFile(zip_path)
    except FileNotFoundError:
        raise InvokeError(f"--zip {name}: no such file") from None
    except zipfile.BadZipFile:
        raise InvokeError(f"--zip {name}: not a zip file") from None
    except OSError as exc:
        raise InvokeError(f"--zip {name}: cannot read it: {exc.strerror or exc}") from None
    with zf, tempfile.TemporaryDirectory(prefix="grpcgw-lambda-invoke-") as tmp:
        unzipped = sum(info.file_size for info in zf.infolist())
        if unzipped > MAX_UNZIPPED:
            raise InvokeError(
                f"{name} is {unzipped / 1e6:.1f} MB unzipped, over Lambda's "
                f"{MAX_UNZIPPED // 2**20} MiB limit: Lambda would refuse it"
            )
        python = _interpreter(name, target.read_target(zf))
        root = Path(tmp) / "task"
        _unpack(zf, root)
        timeout = INIT_SECONDS + remaining_ms / 1000 + GRACE_SECONDS
        env = {**os.environ, "LAMBDA_TASK_ROOT": str(root)}
        try:
            result = subprocess.run(
                [python, "-I", "-S", "-B", _child.__file__, str(root), handler,
                 str(remaining_ms), name],
                input=json.dumps(event).encode(),
                stdout=subprocess.PIPE,
                cwd=root,
                env=env,
                timeout=timeout,
                check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise InvokeError(
                f"the function's process gave no response within {timeout:g} s "
                f"({INIT_SECONDS:g} s for its imports, as Lambda allows, --remaining-ms "
                f"{remaining_ms} for the invocation, {GRACE_SECONDS:g} s to end): killed"
            ) from None
    try:
        outcome = json.loads(result.stdout)
    except ValueError:
        outcome = None
    if not isinstance(outcome, dict) or not ({"response", "error"} & outcome.keys()):
        status = result.returncode
        how = f"signal {-status}" if status < 0 else f"exit status {status}"
        raise InvokeError(f"the function's process ended without a response ({how})")
    if "error" in outcome:
        raise InvokeError(str(outcome["error"]))
    return outcome["response"]
