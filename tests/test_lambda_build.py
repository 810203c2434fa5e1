"""``grpcgw lambda-build``: the example's zip, and the parts of the build one by one.

The example's zip is built once per module by the very command docs/lambda.md
shows (pip downloads the manylinux wheels; pip's cache makes later runs quick).
A user's project outside this repository is built and run in
tests/test_lambda_build_project.py.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import shlex
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from grpcgw.lambdabuild import BuildError, archive, bytecode, source, wheels
from grpcgw.lambdabuild import _add_source as add_source

from .conftest import ROOT

HANDLER = "examples.ping.lambda_function.handler"
HERE_PYTHON = "{}.{}".format(*sys.version_info[:2])
DOCS = ROOT / "docs" / "lambda.md"
#: ELF e_machine values.
EM_X86_64 = 62
#: aiohttp and the distributions only it brings in.
AIOHTTP_TREE = {
    "aiohttp",
    "aiohappyeyeballs",
    "aiosignal",
    "attrs",
    "frozenlist",
    "multidict",
    "propcache",
    "yarl",
}


def documented_command() -> list[str]:
    """The example's build command as docs/lambda.md shows it (continuation lines joined)."""
    text = DOCS.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith(f"grpcgw lambda-build {HANDLER}")
    ]
    assert lines, f"docs/lambda.md shows no `grpcgw lambda-build {HANDLER}` command"
    return shlex.split(lines[0])


def run_grpcgw(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grpcgw", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def installed_names(names: list[str]) -> set[str]:
    """Normalised names of the distributions a zip holds."""
    return {
        wheels.normalize(n.split("/")[0][: -len(".dist-info")].rpartition("-")[0])
        for n in names
        if n.split("/")[0].endswith(".dist-info")
    }


def check_records(zf: zipfile.ZipFile) -> int:
    """Every RECORD lists files that are in the zip, with their hashes; returns how many."""
    names = set(zf.namelist())
    records = [n for n in names if n.endswith(".dist-info/RECORD")]
    for record in records:
        rows = list(csv.reader(io.StringIO(zf.read(record).decode())))
        assert rows, record
        for row in rows:
            path, digest = row[0], row[1]
            assert path in names, f"{record} lists {path}, which is not in the zip"
            if digest:
                algo, _, want = digest.partition("=")
                got = base64.urlsafe_b64encode(hashlib.new(algo, zf.read(path)).digest())
                assert got.rstrip(b"=").decode() == want, f"{record}: {path} hash differs"
    return len(records)


def elf_machines(zf: zipfile.ZipFile) -> dict[str, int]:
    """Native extension -> its ELF e_machine."""
    out = {}
    for name in zf.namelist():
        if name.endswith(".so") or ".so." in name:
            head = zf.read(name)[:20]
            assert head[:4] == b"\x7fELF", name
            out[name] = struct.unpack_from("<H", head, 18)[0]
    return out


# --- the example, built by the documented command --------------------------------------


@dataclass
class Built:
    path: Path
    stdout: str
    zip: zipfile.ZipFile

    def read(self, name: str) -> bytes:
        return self.zip.read(name)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    argv = documented_command()
    out = tmp_path_factory.mktemp("lambda") / "ping-lambda-x86_64.zip"
    assert "-o" in argv, argv
    argv[argv.index("-o") + 1] = str(out)
    result = run_grpcgw(*argv[1:])
    assert result.returncode == 0, f"build failed:\n{result.stdout}\n{result.stderr}"
    with zipfile.ZipFile(out) as zf:
        yield Built(out, result.stdout, zf)


def test_documented_command_builds_for_x86_64_python_312() -> None:
    argv = documented_command()
    assert argv[:3] == ["grpcgw", "lambda-build", HANDLER]
    assert "--arch" not in argv
    assert "--python" not in argv  # the defaults: x86_64, 3.12
    assert argv[argv.index("-o") + 1] == "build/ping-lambda-x86_64.zip"


def test_build_prints_the_handler_and_the_sizes(built: Built) -> None:
    out = built.stdout
    assert f"wrote {built.path}" in out
    assert re.search(rf"handler +{re.escape(HANDLER)} +\(examples/ping/lambda_function\.py\)", out)
    assert "runtime       python3.12, architecture x86_64" in out
    m = re.search(r"(\d+\.\d) MB zipped, (\d+\.\d) MB unzipped, (\d+) files", out)
    assert m, out
    assert float(m.group(1)) == round(built.path.stat().st_size / 1e6, 1)
    unzipped = sum(i.file_size for i in built.zip.infolist())
    assert float(m.group(2)) == round(unzipped / 1e6, 1)
    assert int(m.group(3)) == len(built.zip.infolist())
    assert "left out      aiohttp: the Lambda path never imports it" in out


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
    dists = installed_names(list(names))
    assert {"grpcgw", "grpcio", "protobuf", "googleapis-common-protos"} <= dists


def test_zip_has_neither_aiohttp_nor_the_runtime_client(built: Built) -> None:
    names = built.zip.namelist()
    dists = installed_names(names)
    assert not dists & AIOHTTP_TREE, dists
    assert not dists & {"awslambdaric", "simplejson", "snapshot-restore-py"}, dists
    tops = {n.split("/")[0] for n in names}
    assert not tops & {"aiohttp", "multidict", "yarl", "awslambdaric", "simplejson"}, tops
    assert not any(n.startswith("runtime_client.") for n in tops)


def test_grpcgw_metadata_in_the_zip_drops_only_what_lambda_does_not_use(built: Built) -> None:
    (metadata,) = [n for n in built.zip.namelist() if re.match(r"grpcgw-.*/METADATA$", n)]
    requires = [
        line.partition(":")[2].strip()
        for line in built.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    names = {re.split(r"[<>=!~;\[ ]", r)[0] for r in requires if "extra ==" not in r}
    assert names == {
        "grpcio",
        "grpcio-reflection",
        "grpcio-health-checking",
        "protobuf",
        "googleapis-common-protos",
    }
    assert 'grpcio>=1.85.1; extra == "example"' in requires


def test_zip_leaves_out_what_lambda_does_not_need(built: Built) -> None:
    for name in built.zip.namelist():
        parts = name.split("/")
        assert "__pycache__" not in parts, name
        assert not name.endswith((".pyc", ".pyo")), name
        assert parts[0] not in {"grpc_tools", "bin"}, name
        assert not name.endswith("dist-info/direct_url.json"), name
        assert not name.startswith(("examples/ping/deploy/", "examples/ping/proto/")), name
        assert name != "examples/ping/requirements.txt"
        assert "tests" not in parts[1:], name


def test_compiled_extensions_are_linux_x86_64_cpython_312(built: Built) -> None:
    machines = elf_machines(built.zip)
    assert machines
    assert set(machines.values()) == {EM_X86_64}
    for name in machines:
        tag = re.search(r"\.cpython-(\d+)-", name)
        assert tag is None or tag.group(1) == "312", name


def test_every_record_matches_the_zipped_files(built: Built) -> None:
    assert check_records(built.zip) >= 5


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
            and p.relative_to(tree).parts[0] not in {"deploy", "proto", "requirements.txt"}
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
        assert b"/grpcgw-lambda-build-" not in built.read(info.filename), info.filename


def test_lambda_invoke_runs_the_documented_zip_or_says_what_it_needs(built: Built) -> None:
    """``grpcgw lambda-invoke --zip`` on the example's zip (x86_64, Python 3.12): it answers
    where that is the machine; elsewhere it is refused, naming both sides (PATH holds no
    other Python here, so a python3.12 elsewhere on the machine is not used)."""
    import platform

    arch = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
    result = subprocess.run(
        [sys.executable, "-m", "grpcgw", "lambda-invoke", "--zip", str(built.path), HANDLER,
         "--request", "GET", "/v1/ping"],
        cwd=built.path.parent,
        env={**os.environ, "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    if (HERE_PYTHON, arch) == ("3.12", "x86_64"):
        assert result.returncode == 0, result.stderr
        assert json.loads(json.loads(result.stdout)["body"]) == {"message": "Pong"}
        return
    assert result.returncode == 1
    assert result.stdout == ""
    if arch != "x86_64":
        why = f"rebuild with --python {HERE_PYTHON} --arch {arch} to test it here"
    else:
        why = (
            "and there is no python3.12 on PATH: install it, or rebuild with --python "
            f"{HERE_PYTHON} to test it here"
        )
    assert result.stderr.strip().startswith(
        f"grpcgw: {built.path} targets Python 3.12 on x86_64; this is Python "
        f"{HERE_PYTHON} on {arch}"
    ), result.stderr
    assert result.stderr.strip().endswith(why), result.stderr


# --- the command's errors: one line, before any download -------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch.handler"], "handler nosuch.handler: no module nosuch under "),
        (
            ["examples.ping.lambda_function.nothere", "--include", "examples"],
            "examples/ping/lambda_function.py defines no `nothere` at module level",
        ),
        (["handler"], "expected module.function, e.g. app.handler"),
        (
            [HANDLER, "--exclude", "examples/ping"],
            "examples/ping/lambda_function.py: examples/ping is excluded (examples/ping)",
        ),
        ([HANDLER, "--requirements", "no-such.txt"], "--requirements no-such.txt: no such file"),
        ([HANDLER, "--source", "no-such-dir"], "no-such-dir: not a directory"),
    ],
)
def test_a_bad_build_fails_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = run_grpcgw("lambda-build", *args, "-o", str(tmp_path / "f.zip"))
    assert result.returncode == 1, result.stdout
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("grpcgw: ")
    assert message in result.stderr
    assert not (tmp_path / "f.zip").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arch", "sparc"], "invalid choice: 'sparc'"),
        (["--python", "3.10"], "grpcgw needs Python >= 3.11 (its requires-python)"),
        (["--python", "2.7"], "choose one of 3.11, 3.12, 3.13, 3.14"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], message: str) -> None:
    result = run_grpcgw("lambda-build", HANDLER, *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_runtime_names_are_accepted_for_python() -> None:
    from grpcgw.cli import _lambda_python

    assert _lambda_python("python3.13") == "3.13"
    assert _lambda_python("3.14") == "3.14"


def test_a_missing_interpreter_is_reported(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="cannot run the Python interpreter"):
        wheels.check_pip(str(tmp_path / "no-such-python"))


def test_a_failing_step_names_itself_and_its_command() -> None:
    with pytest.raises(BuildError, match=r"doing the thing failed \(exit 3\)") as exc:
        wheels.run([sys.executable, "-c", "raise SystemExit(3)"], "doing the thing")
    assert "Command: " in str(exc.value)


# --- the parts -------------------------------------------------------------------------


def test_platforms_follow_the_runtimes_glibc() -> None:
    al2023 = wheels.platforms("arm64", "3.13")
    assert al2023[0] == "manylinux_2_34_aarch64"
    assert al2023[-2:] == ["manylinux_2_17_aarch64", "manylinux2014_aarch64"]
    al2 = wheels.platforms("x86_64", "3.11")
    assert al2[0] == "manylinux_2_26_x86_64"
    assert "manylinux_2_28_x86_64" not in al2  # python3.11 runs on Amazon Linux 2
    assert al2[-3:] == ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]


def _wheel(tmp_path: Path, requires: list[str]) -> Path:
    metadata = "Metadata-Version: 2.4\nName: grpcgw\nVersion: 1.0\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires) + "\nThe description.\n"
    path = tmp_path / "grpcgw-1.0-py3-none-any.whl"
    archive.write_wheel(
        {"grpcgw/__init__.py": b"", "grpcgw-1.0.dist-info/METADATA": metadata.encode()},
        path,
        "grpcgw-1.0.dist-info",
    )
    return path


def test_unused_requirements_are_dropped_unless_an_extra_asks(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path,
        [
            "grpcio>=1.62",
            "aiohttp>=3.9",
            "awslambdaric>=2.2",
            'AIOHTTP[speedups]; python_version >= "3.11"',
            'aiohttp>=3.9; extra == "web"',
        ],
    )
    out, dropped = wheels.without_unused_requirements(wheel, tmp_path / "work")
    assert out.name == wheel.name
    assert dropped == ["aiohttp", "awslambdaric", "aiohttp"]
    with zipfile.ZipFile(out) as zf:
        text = zf.read("grpcgw-1.0.dist-info/METADATA").decode()
        assert check_records(zf) == 1
    assert text == (
        "Metadata-Version: 2.4\nName: grpcgw\nVersion: 1.0\n"
        'Requires-Dist: grpcio>=1.62\nRequires-Dist: aiohttp>=3.9; extra == "web"\n'
        "\nThe description.\n"
    )


def test_a_grpcgw_installed_from_a_wheel_is_packed_again(tmp_path: Path) -> None:
    """A user outside this repository: grpcgw installed from a wheel, not editable."""
    wheel = wheels.build_from_checkout(ROOT, tmp_path, python=sys.executable, quiet=True)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target, wheel],
        check=True,
    )
    code = (
        "import sys; from pathlib import Path; from grpcgw.lambdabuild import wheels\n"
        "w, origin = wheels.grpcgw_wheel(None, Path(sys.argv[1]), python=sys.executable,"
        " quiet=True)\nprint(w); print(origin)"
    )
    (tmp_path / "work").mkdir()
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "work")],
        env={**os.environ, "PYTHONPATH": str(target)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    repacked, origin = result.stdout.splitlines()
    assert origin == "the installed distribution"
    with zipfile.ZipFile(wheel) as a, zipfile.ZipFile(repacked) as b:
        original = {n: a.read(n) for n in a.namelist() if not n.endswith("/RECORD")}
        again = {n: b.read(n) for n in b.namelist() if not n.endswith("/RECORD")}
        assert again == original
        check_records(b)


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
        count = archive.write_zip(archive.tree_files(tree), out)
        assert count == (3, sum(len(x) * 100 for x in names))
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
    archive.prune(staging)
    left = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
    assert left == ["pkg-1.0.dist-info/METADATA", "pkg-1.0.dist-info/RECORD", "pkg/__init__.py"]
    assert (staging / "pkg-1.0.dist-info/RECORD").read_bytes() == (
        b"pkg/__init__.py,sha256=b,1\r\n"
        b"pkg-1.0.dist-info/METADATA,sha256=d,1\r\n"
        b"pkg-1.0.dist-info/RECORD,,\r\n"
    )


def _tree(root: Path, names: list[str]) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


def test_source_default_excludes(tmp_path: Path) -> None:
    root = _tree(
        tmp_path / "project",
        [
            "app/__init__.py",
            "app/main.py",
            "app/data/table.json",
            "app/__pycache__/main.cpython-312.pyc",
            "app/tests/test_main.py",
            "tests/test_app.py",
            "test/old.py",
            "conftest.py",
            ".git/HEAD",
            ".env",
            ".venv/lib/x.py",
            "myenv/pyvenv.cfg",
            "myenv/lib/y.py",
            "node_modules/x/index.js",
            "app.egg-info/PKG-INFO",
            "function.zip",
            "gen/pkg/v1/a_pb2.py",
        ],
    )
    src = source.collect(root)
    assert sorted(src.files) == [
        "app/__init__.py",
        "app/data/table.json",
        "app/main.py",
        "gen/pkg/v1/a_pb2.py",
    ]
    assert src.excluded["myenv"] == "a virtual environment"
    assert src.excluded[".env"] == ".*"
    everything = source.collect(root, default_excludes=False)
    assert "app/tests/test_main.py" in everything.files
    assert ".env" in everything.files
    assert "myenv/lib/y.py" not in everything.files  # never a virtual environment


def test_source_include_and_exclude_patterns(tmp_path: Path) -> None:
    root = _tree(
        tmp_path / "repo",
        ["examples/a/x.py", "examples/a/deploy/main.tf", "examples/a/README.md", "src/s.py"],
    )
    src = source.collect(root, include=["examples"], exclude=["examples/a/deploy", "*.md"])
    assert sorted(src.files) == ["examples/a/x.py"]
    assert src.excluded["src/s.py"] == "not in --include"
    assert src.why_missing("examples/a/deploy/main.tf") == (
        "examples/a/deploy is excluded (examples/a/deploy)"
    )
    out = root / "examples" / "a" / "x.py"
    assert "examples/a/x.py" not in source.collect(root, also_exclude=[out]).files


@pytest.mark.parametrize(
    "module",
    [
        "def handler(event, context): ...",
        "handler = make()",
        "handler: object = make()",
        "from .impl import run as handler",
        "import handler",
        "try:\n    handler = make()\nexcept ImportError:\n    handler = None",
        "if True:\n    a, (b, handler) = 1, (2, 3)",
        "class handler: ...",
        "with open('x') as handler: ...",
    ],
)
def test_handler_is_found_without_running_the_module(module: str, tmp_path: Path) -> None:
    _tree(tmp_path, ["app/__init__.py"])
    (tmp_path / "app" / "main.py").write_text("raise SystemExit('never run')\n" + module)
    check = source.check_handler("app.main.handler", source.collect(tmp_path))
    assert check.module_file == "app/main.py"
    assert check.note == ""


@pytest.mark.parametrize(
    ("module", "outcome"),
    [
        ("handler: object", "defines no `handler`"),
        ("def make():\n    handler = 1", "defines no `handler`"),
        ("from impl import *", "binds names at run time"),
        ("def __getattr__(name): ...", "binds names at run time"),
        ("globals()['handler'] = 1", "binds names at run time"),
        ("handler = (", "does not parse on this Python"),
    ],
)
def test_handler_check_outcomes(module: str, outcome: str, tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(module)
    src = source.collect(tmp_path)
    try:
        note = source.check_handler("main.handler", src).note
    except BuildError as e:
        note = str(e)
    assert outcome in note


def test_handler_in_a_package_init(tmp_path: Path) -> None:
    _tree(tmp_path, ["app/__init__.py"])
    (tmp_path / "app" / "__init__.py").write_text("handler = 1\n")
    assert source.check_handler("app.handler", source.collect(tmp_path)).module_file == (
        "app/__init__.py"
    )


def test_a_source_file_may_not_replace_a_dependencys(tmp_path: Path) -> None:
    staging = _tree(tmp_path / "staging", ["google/protobuf/__init__.py", "grpc/__init__.py"])
    root = _tree(tmp_path / "src", ["google/api/mine_pb2.py", "app.py"])
    add_source(staging, source.collect(root))
    assert [name for name, _ in archive.tree_files(staging)] == [
        "app.py",
        "google/api/mine_pb2.py",
        "google/protobuf/__init__.py",
        "grpc/__init__.py",
    ]
    staging = _tree(tmp_path / "staging2", ["grpc/__init__.py"])
    _tree(root, ["grpc/__init__.py"])
    with pytest.raises(BuildError, match=re.escape("grpc/__init__.py collides with grpc/__init__")):
        add_source(staging, source.collect(root))
    assert not (staging / "app.py").exists()  # nothing copied


def test_bytecode_is_the_same_wherever_it_is_compiled(tmp_path: Path) -> None:
    """Checked hash-based pycs naming /var/task: equal bytes from two build directories."""
    import importlib.util
    import marshal

    pycs = []
    for n in range(2):
        root = _tree(tmp_path / f"staging{n}" / "package", ["pkg/__init__.py", "pkg/mod.py"])
        (root / "pkg" / "mod.py").write_text("def f():\n    return 1\n")
        (root / "pkg" / "py2.py").write_text("print 'hello'\n")
        _tree(root, ["pkg-1.0.dist-info/not_a_module.py"])
        assert bytecode.compile_tree(root, bytecode.interpreter(HERE_PYTHON)) == ["pkg/py2.py"]
        pyc = Path(importlib.util.cache_from_source(str(root / "pkg" / "mod.py")))
        assert pyc.parent == root / "pkg" / "__pycache__"
        assert not (root / "pkg-1.0.dist-info" / "__pycache__").exists()
        pycs.append(pyc.read_bytes())
    assert pycs[0] == pycs[1]
    flags = int.from_bytes(pycs[0][4:8], "little")
    assert flags == 0b11  # hash-based, checked against the source
    code = marshal.loads(pycs[0][16:])
    assert code.co_filename == "/var/task/pkg/mod.py"


def test_compile_needs_the_runtimes_python() -> None:
    with pytest.raises(
        BuildError, match=r"--compile needs CPython 3\.99 .* no python3\.99 on PATH"
    ):
        bytecode.interpreter("3.99")
