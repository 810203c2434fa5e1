"""Build the AWS Lambda deployment zip of the ping example (managed Python runtime).

    python scripts/build_lambda.py                            # build/ping-lambda-x86_64.zip
    python scripts/build_lambda.py --arch arm64 --python 3.13 --output dist/fn.zip

Handler: ``examples.ping.lambda_function.handler``; runtime ``python<version>``.

What it does, with nothing but this interpreter's pip (network to PyPI needed):

1. builds a wheel of this repository (from a clean copy of ``src/`` and the
   project files, so stale ``build/`` directories never leak into it);
2. installs that wheel with the ``example`` extra and all its runtime
   dependencies for the Lambda platform: ``pip install --platform
   manylinux2014_{x86_64,aarch64} --implementation cp --python-version 3.12
   --only-binary=:all: --target <staging>``, so the compiled extensions
   (grpcio, protobuf, ...) are the Linux ones whatever machine builds;
3. drops what Lambda never runs: ``bin/`` console scripts, ``__pycache__``,
   bundled ``tests`` directories and ``direct_url.json`` (it names the build
   machine's paths); every ``.dist-info/RECORD`` is rewritten to list only the
   files that remain, so the zip stays a consistent set of installed packages;
4. adds the ``examples`` package (``examples/__init__.py`` and
   ``examples/ping/`` with its generated code, without ``deploy/`` and
   ``proto/``);
5. writes a deterministic zip: sorted entries, fixed timestamps, normalised
   permissions. The same sources and the same resolved versions give the same
   bytes.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The Lambda handler the zip serves (Terraform and the Dockerfile name it too).
HANDLER = "examples.ping.lambda_function.handler"
DEFAULT_PYTHON = "3.12"
#: Lambda architecture -> the manylinux platform tag pip resolves wheels for.
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
#: Extras of grpcgw installed with it (the example's generated code needs them).
EXTRAS = "example"
#: Project files copied next to ``src/`` for the wheel build (those that exist).
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "setup.cfg", "setup.py")
#: Parts of the example left out of the zip.
EXAMPLE_EXCLUDE = frozenset({"deploy", "proto", "__pycache__"})
#: Every entry gets this timestamp (the earliest a zip can hold).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
#: Lambda's limits for a zip uploaded directly, and for the unzipped function.
MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024


class BuildError(Exception):
    """The build failed; the message says why."""


def _default_output(arch: str) -> Path:
    return ROOT / "build" / f"ping-lambda-{arch}.zip"


def _python_version(text: str) -> str:
    m = re.fullmatch(r"(?:python)?(\d+)\.(\d+)", text)
    if not m:
        raise argparse.ArgumentTypeError(f"expected a version like 3.12, not {text!r}")
    if (int(m.group(1)), int(m.group(2))) < (3, 11):
        raise argparse.ArgumentTypeError(f"grpcgw needs Python >= 3.11, not {text}")
    return f"{m.group(1)}.{m.group(2)}"


def _run(cmd: Sequence[str], what: str) -> None:
    try:
        result = subprocess.run(cmd, check=False)
    except OSError as e:
        raise BuildError(f"{what}: cannot run {cmd[0]}: {e}") from e
    if result.returncode != 0:
        raise BuildError(
            f"{what} failed (exit {result.returncode}); pip's messages are above.\n"
            f"  command: {' '.join(cmd)}"
        )


def _check_pip(python: str) -> None:
    try:
        result = subprocess.run(
            [python, "-m", "pip", "--version"], capture_output=True, check=False
        )
    except OSError as e:
        raise BuildError(f"cannot run the Python interpreter {python}: {e}") from e
    if result.returncode != 0:
        raise BuildError(
            f"pip is not available to {python} (`{python} -m pip --version` failed); "
            "install it (python -m ensurepip) or run the script with an interpreter that has it"
        )


def _pip(python: str, *args: str, quiet: bool) -> list[str]:
    cmd = [python, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    if quiet:
        cmd.append("--quiet")
    return cmd


def build_wheel(work: Path, *, python: str, quiet: bool) -> Path:
    """A wheel of the repository, built from a clean copy of its sources."""
    src = work / "source"
    src.mkdir()
    for name in PROJECT_FILES:
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, src / name)
    if not (src / "pyproject.toml").is_file() or not (ROOT / "src").is_dir():
        raise BuildError(f"{ROOT} does not look like the grpcgw repository (pyproject.toml, src/)")
    shutil.copytree(
        ROOT / "src",
        src / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build"),
    )
    wheels = work / "wheel"
    _run(
        _pip(python, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(src), quiet=quiet),
        "building the grpcgw wheel",
    )
    found = sorted(wheels.glob("grpcgw-*.whl"))
    if len(found) != 1:
        raise BuildError(f"expected one grpcgw wheel in {wheels}, found {[p.name for p in found]}")
    return found[0]


def install(
    wheel: Path, staging: Path, *, arch: str, python_version: str, python: str, quiet: bool
) -> None:
    """Install the wheel and its dependencies for the Lambda platform into ``staging``."""
    _run(
        _pip(
            python,
            "install",
            "--target",
            str(staging),
            "--platform",
            PLATFORMS[arch],
            "--implementation",
            "cp",
            "--python-version",
            python_version,
            "--only-binary=:all:",
            "--no-compile",
            "--no-warn-script-location",
            f"{wheel}[{EXTRAS}]",
            quiet=quiet,
        ),
        f"installing grpcgw and its dependencies for {PLATFORMS[arch]} / cp{python_version}",
    )


def _record_rows(record: Path) -> Iterator[tuple[str, str]]:
    """(raw line, path) for each row of a RECORD file."""
    for line in record.read_bytes().decode("utf-8").splitlines(keepends=True):
        if not line.strip():
            continue
        row = next(csv.reader([line]))
        yield line, row[0]


def prune(staging: Path) -> None:
    """Remove what Lambda does not need and keep every RECORD consistent with what remains."""
    shutil.rmtree(staging / "bin", ignore_errors=True)
    for d in sorted(staging.rglob("*"), reverse=True):
        if not d.is_dir():
            continue
        rel = d.relative_to(staging)
        # `tests` directories bundled inside packages (a top-level package is kept).
        if d.name == "__pycache__" or (d.name == "tests" and len(rel.parts) > 1):
            shutil.rmtree(d)
    for f in staging.rglob("*.pyc"):
        f.unlink()
    for f in staging.glob("*.dist-info/direct_url.json"):
        f.unlink()
    for record in sorted(staging.glob("*.dist-info/RECORD")):
        kept = []
        for line, path in _record_rows(record):
            target = (staging / path).resolve()
            if target.is_file() and target.is_relative_to(staging.resolve()):
                kept.append(line)
        record.write_text("".join(kept), encoding="utf-8", newline="")


def add_example(staging: Path) -> None:
    """Copy the ``examples`` package (the ping example and its generated code)."""
    dest = staging / "examples"
    if dest.exists():
        raise BuildError(
            "a dependency installed a top-level `examples` package, which would clash with "
            "the example's own"
        )
    dest.mkdir()
    shutil.copy2(ROOT / "examples" / "__init__.py", dest / "__init__.py")
    shutil.copytree(
        ROOT / "examples" / "ping",
        dest / "ping",
        ignore=lambda _dir, names: [
            n for n in names if n in EXAMPLE_EXCLUDE or n.endswith((".pyc", ".pyo"))
        ],
    )
    module = dest / Path(*HANDLER.split(".")[1:-1]).with_suffix(".py")
    if not module.is_file():
        raise BuildError(f"the handler module {module.relative_to(staging)} is missing")


def write_zip(staging: Path, output: Path) -> tuple[int, int]:
    """Zip ``staging`` deterministically into ``output``; returns (files, unzipped bytes)."""
    files = sorted(
        (p for p in staging.rglob("*") if p.is_file()), key=lambda p: p.relative_to(staging).parts
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    unzipped = 0
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(staging).as_posix(), date_time=ZIP_EPOCH)
            mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3  # unix, so the permissions above are honoured
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            unzipped += len(data)
            zf.writestr(info, data, compresslevel=6)
    partial.replace(output)
    return len(files), unzipped


def build(
    output: Path,
    *,
    arch: str = "x86_64",
    python_version: str = DEFAULT_PYTHON,
    python: str = sys.executable,
    quiet: bool = True,
) -> Path:
    """Build the deployment zip at ``output``; returns its path."""
    _check_pip(python)
    with tempfile.TemporaryDirectory(prefix="grpcgw-lambda-") as tmp:
        work = Path(tmp)
        wheel = build_wheel(work, python=python, quiet=quiet)
        staging = work / "package"
        install(
            wheel, staging, arch=arch, python_version=python_version, python=python, quiet=quiet
        )
        prune(staging)
        add_example(staging)
        count, unzipped = write_zip(staging, output)
    size = output.stat().st_size
    if unzipped > MAX_UNZIPPED:
        raise BuildError(
            f"{output}: {unzipped} bytes unzipped, over Lambda's {MAX_UNZIPPED}-byte limit"
        )
    print(
        f"{output} ({size / 1e6:.1f} MB, {count} files, {unzipped / 1e6:.1f} MB unzipped): "
        f"runtime python{python_version}, architecture {arch}, handler {HANDLER}"
    )
    if size > MAX_ZIPPED:
        print(
            f"warning: over {MAX_ZIPPED // 2**20} MiB; upload it through S3 "
            "(aws_lambda_function s3_bucket/s3_key) instead of directly",
            file=sys.stderr,
        )
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="build_lambda.py",
        description="Build the AWS Lambda deployment zip of the ping example "
        f"(managed Python runtime, handler {HANDLER}).",
    )
    parser.add_argument(
        "--arch",
        choices=sorted(PLATFORMS),
        default="x86_64",
        help="Lambda architecture (default: %(default)s)",
    )
    parser.add_argument(
        "--python",
        type=_python_version,
        default=DEFAULT_PYTHON,
        metavar="3.N",
        help="Lambda runtime's Python version, python3.N (default: %(default)s)",
    )
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        help="where to write the zip (default: build/ping-lambda-<arch>.zip)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="show pip's output")
    args = parser.parse_args(argv)
    output = (args.output or _default_output(args.arch)).resolve()
    try:
        build(output, arch=args.arch, python_version=args.python, quiet=not args.verbose)
    except (BuildError, OSError) as e:
        print(f"build_lambda.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
