"""grpcgw as a wheel for the zip, and pip installing it with the user's requirements for Lambda.

Where the grpcgw wheel comes from (grpcgw is not on PyPI):

1. ``--grpcgw-wheel PATH``: that wheel;
2. grpcgw installed editable from a checkout (``pip install -e``): a wheel built
   with ``pip wheel`` from a clean copy of the checkout's project files and
   ``src/``, so the zip carries the working tree;
3. otherwise the installed distribution itself (from a wheel, a git URL, a
   local directory): its files, as its ``RECORD`` lists them, packed again as
   a wheel. The zip then carries exactly the grpcgw that runs the build.

Whichever it is, the wheel's metadata loses the requirements the Lambda path
never uses (:data:`LAMBDA_UNUSED`), so pip installs them only if the user's
own requirements need them.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from grpcgw.lambdabuild.archive import write_wheel
from grpcgw.lambdabuild.errors import BuildError

#: grpcgw requirements the Lambda zip does without, and why. aiohttp serves
#: ``serve_local`` and the proxy, never the Lambda handler; Swagger UI's files
#: only the explorer page, off on Lambda unless asked for. The managed Python
#: runtime brings its own runtime interface client (awslambdaric, with
#: ``snapshot_restore_py`` for SnapStart) and runs the function with it.
LAMBDA_UNUSED = {
    "aiohttp": "the Lambda path never imports it",
    "awslambdaric": "the managed Python runtime provides it",
    # Swagger UI's files (~11 MB installed, with Jinja2, which grpcgw never imports).
    "swagger-ui-bundle-v2": (
        "only the explorer page (/docs) uses it, off on Lambda; "
        "add it to your requirements to serve the page there"
    ),
}
#: Project files copied beside ``src/`` for the wheel build (those that exist).
PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "MANIFEST.in", "README.md", "LICENSE")
#: Lambda architecture -> the machine part of manylinux platform tags.
MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}
#: Lambda Python runtime -> the glibc (major, minor) of its Amazon Linux.
GLIBC = {"3.11": (2, 26), "3.12": (2, 34), "3.13": (2, 34), "3.14": (2, 34)}


def normalize(name: str) -> str:
    """A distribution name in PEP 503 normal form."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(text: str) -> str:
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", text)
    return normalize(m.group(1)) if m else ""


def platforms(arch: str, python_version: str) -> list[str]:
    """The manylinux tags Lambda's ``python<version>`` on ``arch`` runs, newest first.

    pip takes a ``--platform`` literally, so every glibc version down to 2.17
    (manylinux2014) is listed, as pip lists them for the machine it runs on.
    """
    machine = MACHINES[arch]
    major, newest = GLIBC[python_version]
    tags = [f"manylinux_{major}_{minor}_{machine}" for minor in range(newest, 16, -1)]
    tags.append(f"manylinux2014_{machine}")
    if machine == "x86_64":
        tags += ["manylinux2010_x86_64", "manylinux1_x86_64"]
    return tags


def run(cmd: Sequence[str], what: str, *, cwd: Path | None = None) -> None:
    try:
        result = subprocess.run(cmd, check=False, cwd=cwd)
    except OSError as e:
        raise BuildError(f"{what}: cannot run {cmd[0]}: {e}") from e
    if result.returncode != 0:
        raise BuildError(
            f"{what} failed (exit {result.returncode}); pip's messages are above. "
            f"Command: {' '.join(cmd)}"
        )


def pip(python: str, *args: str, quiet: bool) -> list[str]:
    cmd = [python, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    if quiet:
        cmd.append("--quiet")
    return cmd


def check_pip(python: str) -> None:
    try:
        result = subprocess.run(
            [python, "-m", "pip", "--version"], capture_output=True, check=False
        )
    except OSError as e:
        raise BuildError(f"cannot run the Python interpreter {python}: {e}") from e
    if result.returncode != 0:
        raise BuildError(
            f"pip is not available to {python} (`{python} -m pip --version` failed); "
            "install it (python -m ensurepip) in the environment that runs grpcgw"
        )


# -- where the grpcgw wheel comes from -------------------------------------------------------


def _editable_project() -> Path | None:
    """The checkout grpcgw is installed from in editable mode, if it is."""
    try:
        dist = importlib.metadata.distribution("grpcgw")
    except importlib.metadata.PackageNotFoundError:
        return None
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    info = json.loads(text)
    url = urlparse(info.get("url", ""))
    if not info.get("dir_info", {}).get("editable") or url.scheme != "file":
        return None
    project = Path(url2pathname(unquote(url.path)))
    return project if (project / "pyproject.toml").is_file() else None


def _source_checkout() -> Path | None:
    """The checkout the running grpcgw is imported from, when it is not installed at all."""
    import grpcgw

    project = Path(grpcgw.__file__).resolve().parent.parent.parent
    pyproject = project / "pyproject.toml"
    if pyproject.is_file() and re.search(r'(?m)^name\s*=\s*"grpcgw"', pyproject.read_text("utf-8")):
        return project
    return None


def build_from_checkout(project: Path, work: Path, *, python: str, quiet: bool) -> Path:
    """``pip wheel`` of a clean copy of the checkout (no stale ``build/`` can leak in)."""
    copy = work / "grpcgw-source"
    copy.mkdir()
    for name in PROJECT_FILES:
        if (project / name).is_file():
            shutil.copy2(project / name, copy / name)
    if not (project / "src").is_dir():
        raise BuildError(f"{project} has no src/ directory to build grpcgw from")
    shutil.copytree(
        project / "src",
        copy / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build"),
    )
    out = work / "grpcgw-built"
    run(
        pip(python, "wheel", "--no-deps", "--wheel-dir", str(out), str(copy), quiet=quiet),
        f"building a grpcgw wheel from {project}",
    )
    found = sorted(out.glob("grpcgw-*.whl"))
    if len(found) != 1:
        raise BuildError(f"expected one grpcgw wheel from {project}, found {len(found)}")
    return found[0]


#: Files of an installed dist-info that are about the installation, not the package.
_INSTALL_RECORDS = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def repack_installed(work: Path) -> Path:
    """The installed grpcgw distribution, packed again as a wheel from its RECORD."""
    dist = importlib.metadata.distribution("grpcgw")
    listed = dist.files
    if not listed:
        raise BuildError(
            "the installed grpcgw has no RECORD to pack from; pass --grpcgw-wheel PATH"
        )
    files: dict[str, bytes] = {}
    dist_info = ""
    for entry in listed:
        name = entry.as_posix()
        parts = name.split("/")
        if parts[0] == ".." or "__pycache__" in parts or name.endswith((".pyc", ".pyo")):
            continue  # console scripts, bytecode
        if parts[0].endswith(".dist-info"):
            dist_info = parts[0]
            if len(parts) == 2 and parts[1] in _INSTALL_RECORDS:
                continue
        path = Path(str(entry.locate()))
        if path.is_file():
            files[name] = path.read_bytes()
    if not dist_info or f"{dist_info}/METADATA" not in files:
        raise BuildError("the installed grpcgw has no METADATA; pass --grpcgw-wheel PATH")
    files.setdefault(
        f"{dist_info}/WHEEL",
        b"Wheel-Version: 1.0\nGenerator: grpcgw lambda-build\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    )
    version = dist.version
    output = work / "grpcgw-repacked" / f"grpcgw-{version}-py3-none-any.whl"
    write_wheel(files, output, dist_info)
    return output


def grpcgw_wheel(given: Path | None, work: Path, *, python: str, quiet: bool) -> tuple[Path, str]:
    """(a wheel of grpcgw, where it came from)."""
    if given is not None:
        if not given.is_file() or not given.name.endswith(".whl"):
            raise BuildError(f"--grpcgw-wheel {given}: no such wheel file")
        return given, f"the wheel {given}"
    project = _editable_project() or _source_checkout()
    if project is not None:
        return build_from_checkout(project, work, python=python, quiet=quiet), f"{project}"
    try:
        importlib.metadata.distribution("grpcgw")
    except importlib.metadata.PackageNotFoundError:
        raise BuildError(
            "grpcgw is not installed as a distribution; install it or pass --grpcgw-wheel PATH"
        ) from None
    return repack_installed(work), "the installed distribution"


def without_unused_requirements(wheel: Path, work: Path) -> tuple[Path, list[str]]:
    """The wheel again, its METADATA without the :data:`LAMBDA_UNUSED` requirements.

    Only unconditional ``Requires-Dist`` lines go (those of an extra stay). The
    file keeps its name, so pip sees the same distribution and version.
    """
    with zipfile.ZipFile(wheel) as zf:
        files = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    metadata_names = [n for n in files if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
    if len(metadata_names) != 1:
        raise BuildError(f"{wheel.name} is not a wheel with one .dist-info/METADATA")
    metadata_name = metadata_names[0]
    text = files[metadata_name].decode("utf-8")
    head, sep, body = text.partition("\n\n")
    dropped: list[str] = []
    kept_lines: list[str] = []
    for line in head.split("\n"):
        if line.startswith("Requires-Dist:"):
            requirement = line.partition(":")[2].strip()
            name = _requirement_name(requirement)
            if name in LAMBDA_UNUSED and "extra" not in requirement.partition(";")[2]:
                dropped.append(name)
                continue
        kept_lines.append(line)
    files[metadata_name] = ("\n".join(kept_lines) + sep + body).encode("utf-8")
    output = work / "grpcgw-lambda" / wheel.name
    write_wheel(files, output, metadata_name.split("/")[0])
    return output, dropped


def install(
    staging: Path,
    wheel: Path,
    requirements: Path | None,
    *,
    arch: str,
    python_version: str,
    find_links: Sequence[Path] = (),
    python: str = sys.executable,
    quiet: bool = True,
) -> None:
    """``pip install --target staging`` of grpcgw and the requirements, as Lambda runs them."""
    args = ["install", "--target", str(staging)]
    for tag in platforms(arch, python_version):
        args += ["--platform", tag]
    args += [
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--only-binary=:all:",
        "--no-compile",
        "--no-warn-script-location",
        # A `grpcgw` line in the requirements resolves to this wheel.
        "--find-links",
        str(wheel.parent),
    ]
    for link in find_links:
        args += ["--find-links", str(link)]
    args.append(str(wheel))
    if requirements is not None:
        args += ["--requirement", str(requirements)]
    run(
        pip(python, *args, quiet=quiet),
        f"installing grpcgw and its dependencies for python{python_version} on {arch}",
    )
