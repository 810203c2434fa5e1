"""Run protobuf's conformance suite against grpcgw's JSON codecs (``tox -e conformance``).

1. Build protobuf's ``conformance_test_runner`` from the ``conformance/``
   sources of the Debian ``protobuf`` source package that matches the
   installed ``libprotobuf-dev``, linked against that libprotobuf (installs
   ``libprotobuf-dev protobuf-compiler g++`` with apt when run as root and
   they are missing). The sources come through ``apt-get source`` with a
   ``deb-src`` list made from the machine's own apt sources, in a private apt
   state directory (the system's lists are left alone). Built once into
   ``--work`` (default ``build/conformance``).
2. Generate the Python code of ``conformance.proto`` and the test messages
   with grpcio-tools.
3. Run the runner against ``testee.py`` (grpcgw's JSON path) with the
   failure lists beside this file, and print the counts of JSON tests.

Exit status: the runner's (0 when every test not in a failure list passed), or 1
when the testee crashed (which the runner reports as a mere WARNING).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PACKAGES = ["libprotobuf-dev", "protobuf-compiler", "g++"]
RUNNER_SOURCES = [
    "conformance_test.cc",
    "conformance_test_main.cc",
    "binary_json_conformance_suite.cc",
    "text_format_conformance_suite.cc",
    "conformance_test_runner.cc",
    "third_party/jsoncpp/jsoncpp.cpp",
]


def log(text: str) -> None:
    print(f"conformance: {text}", file=sys.stderr, flush=True)


def run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], check=True, text=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def ensure_tools() -> None:
    missing = [p for p in PACKAGES if not _installed(p)]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SystemExit(f"conformance: install {' '.join(missing)} (apt) first")
    log(f"installing {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run("apt-get", "update", "-q", stdout=subprocess.DEVNULL, env=env)
    run("apt-get", "install", "-y", "-q", *missing, stdout=subprocess.DEVNULL, env=env)


def _installed(package: str) -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Status}", package], capture_output=True, text=True
    )
    return result.returncode == 0 and "install ok installed" in result.stdout


def _deb_src_list(target: Path) -> None:
    """A deb-src list for the archives the machine's deb lines name."""
    out: list[str] = []
    sources = Path("/etc/apt/sources.list.d")
    for path in sorted(sources.glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = dict(
                line.split(":", 1) for line in stanza.splitlines() if re.match(r"[A-Za-z-]+:", line)
            )
            if "deb" not in fields.get("Types", "").split():
                continue
            stanza_lines = [f"{k}:{v}" for k, v in fields.items() if k != "Types"]
            out.append("Types: deb-src\n" + "\n".join(stanza_lines))
    plain = [Path("/etc/apt/sources.list"), *sorted(sources.glob("*.list"))]
    lines = []
    for path in plain:
        if path.exists():
            lines += [
                "deb-src" + line[3:]
                for line in path.read_text().splitlines()
                if line.startswith("deb ")
            ]
    (target / "src.sources").write_text("\n\n".join(out) + "\n")
    (target / "src.list").write_text("\n".join(lines) + "\n")


def fetch_sources(work: Path) -> Path:
    """The protobuf source tree (``protobuf-X/``) matching the installed libprotobuf."""
    version = run(
        "dpkg-query", "-W", "-f", "${source:Version}", "libprotobuf-dev", capture_output=True
    ).stdout.strip()
    upstream = version.split(":")[-1].rsplit("-", 1)[0]
    tree = work / f"protobuf-{upstream}"
    if (tree / "conformance").is_dir():
        return tree
    apt = work / "apt"
    (apt / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (apt / "parts").mkdir(exist_ok=True)
    _deb_src_list(apt / "parts")
    options = [
        "-o", f"Dir::State::Lists={apt / 'lists'}",
        "-o", "Dir::Etc::sourcelist=/dev/null",
        "-o", f"Dir::Etc::sourceparts={apt / 'parts'}",
        "-o", "APT::Sandbox::User=root",
    ]  # fmt: skip
    log(f"fetching the source of protobuf {version} (apt-get source)")
    run("apt-get", *options, "update", "-q", stdout=subprocess.DEVNULL)
    download = work / "download"
    download.mkdir(exist_ok=True)
    run(
        "apt-get", *options, "source", "--download-only", f"protobuf={version}",
        cwd=download, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    (orig,) = download.glob("protobuf_*.orig.tar.*")
    wanted = ("conformance/", "src/google/protobuf/stubs/", "src/google/protobuf/test_messages_")
    with tarfile.open(orig) as archive:
        members = [
            m
            for m in archive.getmembers()
            if m.isfile() and m.name.partition("/")[2].startswith(wanted)
        ]
        archive.extractall(work, members=members, filter="data")
    if not (tree / "conformance").is_dir():
        raise SystemExit(f"conformance: {orig.name} has no conformance/ directory")
    return tree


def build_runner(work: Path) -> Path:
    runner = work / "conformance_test_runner"
    if runner.exists():
        return runner
    ensure_tools()
    tree = fetch_sources(work)
    out = work / "runner-build"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(tree / "conformance", out)
    protos = out / "google" / "protobuf"
    protos.mkdir(parents=True)
    for name in ("test_messages_proto2.proto", "test_messages_proto3.proto"):
        shutil.copy(tree / "src" / "google" / "protobuf" / name, protos / name)
    log("generating the runner's C++ code (protoc)")
    run(
        "protoc", "-I.", "-I/usr/include", "--cpp_out=.", "conformance.proto",
        "google/protobuf/test_messages_proto3.proto", "google/protobuf/test_messages_proto2.proto",
        cwd=out,
    )  # fmt: skip
    log("compiling conformance_test_runner (a few minutes)")
    sources = [*RUNNER_SOURCES, "conformance.pb.cc"]
    sources += [f"google/protobuf/test_messages_proto{n}.pb.cc" for n in (2, 3)]
    # The runner includes protobuf's internal stubs headers, which libprotobuf-dev
    # does not install: they come from the same source tree (same version).
    run(
        "g++", "-std=c++17", "-O1", "-I.", f"-I{tree / 'src'}", "-o", runner, *sources,
        "-lprotobuf", "-pthread",
        cwd=out,
    )  # fmt: skip
    return runner


def python_protos(work: Path, tree: Path) -> Path:
    """conformance_pb2 and the test messages' modules (flat: not in google.protobuf)."""
    out = work / "python"
    if (out / "conformance_pb2.py").exists():
        return out
    protos = work / "protos"
    protos.mkdir(exist_ok=True)
    shutil.copy(tree / "conformance" / "conformance.proto", protos)
    for name in ("test_messages_proto2.proto", "test_messages_proto3.proto"):
        shutil.copy(tree / "src" / "google" / "protobuf" / name, protos / name)
    out.mkdir(exist_ok=True)
    import grpc_tools
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).parent / "_proto"
    names = ["conformance.proto", "test_messages_proto2.proto", "test_messages_proto3.proto"]
    code = protoc.main(["protoc", f"-I{protos}", f"-I{include}", f"--python_out={out}", *names])
    if code != 0:
        raise SystemExit("conformance: protoc (grpcio-tools) failed")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "conformance")
    parser.add_argument("--runner", type=Path, help="an already built conformance_test_runner")
    args = parser.parse_args(argv)
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    runner = args.runner or build_runner(work)
    tree = (
        fetch_sources(work)
        if not list(work.glob("protobuf-*/conformance"))
        else next(p.parent for p in work.glob("protobuf-*/conformance"))
    )
    python = python_protos(work, tree)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(python), str(ROOT / "src")])}
    # The runner runs one program with no arguments of its own: a wrapper.
    testee = work / "testee.sh"
    testee.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "testee.py"}"\n')
    testee.chmod(0o755)
    with tempfile.TemporaryDirectory() as output:
        result = subprocess.run(
            [
                str(runner),
                "--verbose",
                "--failure_list", str(HERE / "failure_list.txt"),
                "--text_format_failure_list", str(HERE / "text_format_failure_list.txt"),
                "--output_dir", output,
                str(testee),
            ],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
    report = result.stdout + result.stderr
    (work / "last-run.txt").write_text(report)
    names = re.findall(r"^conformance test: name=(\S+?),", report, re.MULTILINE)
    failed = set(re.findall(r"^ERROR, test=(\S+?):", report, re.MULTILINE))
    expected = {
        line.split("#")[0].strip() for line in (HERE / "failure_list.txt").read_text().splitlines()
    } - {""}
    json_tests = sorted({name for name in names if "Json" in name})
    json_failed = sorted(n for n in json_tests if n in failed or n in expected)
    for line in report.splitlines():
        if line.startswith(("ERROR", "CONFORMANCE SUITE", "WARNING")):
            print(line)
    print(
        f"JSON tests: {len(json_tests)} run, {len(json_tests) - len(json_failed)} passed, "
        f"{len(json_failed)} failed ({len(set(json_failed) & expected)} expected)"
    )
    print(f"all tests: {len(set(names))} run; full log: {work / 'last-run.txt'}")
    # The runner restarts a testee that died and reports only a WARNING for a
    # Recommended test it was running: a crash of ours must fail the run.
    crashed = re.findall(r"\] (\S+): unexpected EOF from test program", report)
    if crashed:
        print(f"the testee crashed on {len(crashed)} tests: {', '.join(crashed[:5])}")
        return result.returncode or 1
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
