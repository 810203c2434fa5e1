"""Bytecode for the zip (``--compile``): Lambda cannot write it, so it compiles at every cold start.

``/var/task`` is read-only on Lambda, so Python cannot cache the bytecode of
the modules it imports there: every cold start compiles them all again (about
half the init of a small grpcgw function, see docs/lambda.md). With
``--compile`` the zip carries ``__pycache__/*.cpython-3NN.pyc`` for every
module, written by an interpreter of the runtime's version (bytecode is
specific to it) as *checked hash-based* pycs (PEP 552): valid whatever the
files' timestamps after unzipping, checked against the source at import, and
the same bytes for the same source, wherever it was built. Code objects name
their files as ``/var/task/...``, where Lambda unpacks the zip.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from grpcgw.lambdabuild.errors import BuildError

#: Where Lambda unpacks the function: the file names tracebacks show.
TASK_ROOT = "/var/task"


def find_interpreter(version: str) -> str | None:
    """A CPython of ``version`` (``3.12``): this one, or ``python3.12`` on PATH, or ``None``."""
    if sys.implementation.name == "cpython" and "{}.{}".format(*sys.version_info[:2]) == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found is not None:
        # A name on PATH may be another Python, or a shim (pyenv) with nothing behind it.
        probe = subprocess.run(
            [found, "-c", "import sys; print(sys.implementation.name, *sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.stdout.split() == ["cpython", *version.split(".")]:
            return found
    return None


def interpreter(version: str) -> str:
    """A CPython of ``version`` (``3.12``) to compile with: this one, or ``python3.12`` on PATH."""
    found = find_interpreter(version)
    if found is not None:
        return found
    raise BuildError(
        f"--compile needs CPython {version} (bytecode is specific to the Python version): "
        f"this is {sys.implementation.name} {sys.version_info[0]}.{sys.version_info[1]} and "
        f"there is no python{version} on PATH; install it or leave out --compile"
    )


#: Run by the target interpreter: compile each module, print the ones that do not compile.
_COMPILE = """
import importlib.util, pathlib, py_compile, sys
root, task_root = pathlib.Path(sys.argv[1]), sys.argv[2]
for path in sorted(root.rglob("*.py")):
    rel = path.relative_to(root)
    if rel.parts[0].endswith(".dist-info"):
        continue
    try:
        py_compile.compile(
            str(path),
            cfile=importlib.util.cache_from_source(str(path)),
            dfile=task_root + "/" + rel.as_posix(),
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
        )
    except py_compile.PyCompileError:
        print(rel.as_posix())
"""


def compile_tree(root: Path, python: str) -> list[str]:
    """Write checked hash-based pycs beside every module under ``root``, named for /var/task.

    Returns the modules that do not compile (a dependency's Python 2 leftovers,
    templates named ``.py``): they stay source only, as they would on Lambda.
    """
    try:
        result = subprocess.run(
            [python, "-c", _COMPILE, str(root), TASK_ROOT],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as e:
        raise BuildError(f"cannot run {python} to compile the bytecode: {e}") from e
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise BuildError(f"compiling the bytecode failed: {lines[-1] if lines else 'no output'}")
    return result.stdout.splitlines()
