"""Build Go grpc-gateway for the bench proto from Debian's packages, offline.

    python -m bench.go_gateway.build OUT_DIR [--no-install]

Generates the Go code of ``bench/proto/gwbench/v1/bench.proto`` with Debian's
``protoc``, ``protoc-gen-go`` (golang/protobuf 1.3) and
``protoc-gen-grpc-gateway`` (1.6.4) into a temporary GOPATH, and builds two
binaries into OUT_DIR with ``GO111MODULE=off`` against Debian's
``/usr/share/gocode`` (nothing is downloaded; ``GOPROXY=off``):

- ``gateway``: Go grpc-gateway in front of a gRPC server (``gateway/main.go``);
- ``backend``: BenchService served in Go (``backend/main.go``).

When a tool is missing and we run as root on Debian/Ubuntu, it runs
``apt-get install`` for :data:`PACKAGES` first (``--no-install``, or
``python -m bench --no-install``, prevents that). The first build compiles
grpc-go and takes a minute or two; Go's build cache makes the next ones take
seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent / "proto"
PROTO = "gwbench/v1/bench.proto"
GOCODE = Path("/usr/share/gocode")
GATEWAY_SRC = GOCODE / "src/github.com/grpc-ecosystem/grpc-gateway"
#: Debian's packages the build needs (bookworm: Go 1.19, grpc-gateway 1.6.4, grpc-go 1.33).
PACKAGES = [
    "golang-go",
    "protobuf-compiler",
    "libprotobuf-dev",  # google/protobuf/timestamp.proto
    "golang-goprotobuf-dev",  # protoc-gen-go (1.3) and github.com/golang/protobuf
    "golang-grpc-gateway",  # protoc-gen-grpc-gateway
    "golang-github-grpc-ecosystem-grpc-gateway-dev",  # its runtime and google/api protos
    "golang-google-grpc-dev",
    "golang-google-genproto-dev",
]
#: Where the generated package and the Go imports of the ``.proto`` files live.
GO_PACKAGES = {
    PROTO: "gwbench/v1",
    "google/protobuf/timestamp.proto": "github.com/golang/protobuf/ptypes/timestamp",
    "google/api/annotations.proto": "google.golang.org/genproto/googleapis/api/annotations",
    "google/api/http.proto": "google.golang.org/genproto/googleapis/api/annotations",
}
COMMANDS = ("gateway", "backend")


@dataclass(frozen=True)
class GoBuild:
    """The built binaries and what they were built from."""

    gateway: str
    backend: str
    #: e.g. "grpc-gateway 1.6.4-2, grpc-go 1.33.3-2, go1.19.8".
    versions: str


def _missing() -> list[str]:
    """What the build needs and cannot find."""
    needs = {
        "go": shutil.which("go"),
        "protoc": shutil.which("protoc"),
        "protoc-gen-go": shutil.which("protoc-gen-go"),
        "protoc-gen-grpc-gateway": shutil.which("protoc-gen-grpc-gateway"),
        "grpc-gateway's runtime": (GATEWAY_SRC / "runtime").is_dir() or None,
        "grpc-go": (GOCODE / "src/google.golang.org/grpc").is_dir() or None,
        "google/protobuf/timestamp.proto": (
            Path("/usr/include/google/protobuf/timestamp.proto").is_file() or None
        ),
    }
    return [name for name, found in needs.items() if not found]


def install_packages() -> str:
    """``apt-get install`` :data:`PACKAGES` (as root, where apt-get exists); '' or why not."""
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return "not root on Debian/Ubuntu: install " + " ".join(PACKAGES)
    print("  go-gateway: apt-get install " + " ".join(PACKAGES), file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt_get(*args: str) -> int:
        quiet = subprocess.DEVNULL
        return subprocess.run(
            [apt, *args], env=env, stdout=quiet, stderr=quiet, timeout=1200
        ).returncode

    try:
        args = ("install", "-y", "-qq", "--no-install-recommends", *PACKAGES)
        if apt_get(*args):
            apt_get("update", "-qq")
            if apt_get(*args):
                return "apt-get install " + " ".join(PACKAGES) + " failed"
    except (OSError, subprocess.SubprocessError) as exc:
        return f"apt-get install failed ({exc})"
    return ""


def _versions() -> str:
    out = []
    for label, package in (
        ("grpc-gateway", "golang-github-grpc-ecosystem-grpc-gateway-dev"),
        ("grpc-go", "golang-google-grpc-dev"),
        ("golang/protobuf", "golang-github-golang-protobuf-1-3-dev"),
    ):
        try:
            version = subprocess.run(
                ["dpkg-query", "-W", "-f", "${Version}", package],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            version = ""
        out.append(f"{label} {version or '?'}")
    go = subprocess.run(["go", "version"], capture_output=True, text=True, timeout=60).stdout
    out.append(go.split()[2] if len(go.split()) > 2 else "go ?")
    return ", ".join(out)


def _run(args: list[str], env: dict[str, str], cwd: Path) -> None:
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=1200)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{(proc.stderr or proc.stdout)[-3000:]}")


def build(out_dir: str | os.PathLike[str], *, install: bool = True) -> tuple[GoBuild | None, str]:
    """Build the binaries into ``out_dir``: (the build, '') or (None, why not)."""
    missing = _missing()
    if missing and install:
        why = install_packages()
        missing = _missing()
        if missing and why:
            return None, f"Go grpc-gateway cannot be built: {why}"
    if missing:
        return None, (
            f"Go grpc-gateway cannot be built: missing {', '.join(missing)} "
            f"(Debian: apt-get install {' '.join(PACKAGES)})"
        )
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gwbench-go-") as tmp:
        gopath = Path(tmp)
        src = gopath / "src"
        src.mkdir()
        mapping = ",".join(f"M{proto}={package}" for proto, package in GO_PACKAGES.items())
        _run(
            [
                "protoc",
                f"-I{PROTO_ROOT}",
                f"-I{GATEWAY_SRC / 'third_party/googleapis'}",
                "-I/usr/include",
                f"--go_out=plugins=grpc,{mapping}:{src}",
                f"--grpc-gateway_out=logtostderr=true,{mapping}:{src}",
                PROTO,
            ],
            dict(os.environ),
            gopath,
        )
        env = {
            **os.environ,
            "GO111MODULE": "off",
            "GOPATH": f"{gopath}{os.pathsep}{GOCODE}",
            "GOPROXY": "off",
            "GOFLAGS": "",
            "CGO_ENABLED": "0",
        }
        if not any(os.environ.get(name) for name in ("GOCACHE", "XDG_CACHE_HOME", "HOME")):
            env["GOCACHE"] = str(out / "go-build-cache")  # go needs one somewhere
        for command in COMMANDS:
            target = src / "gwbench/cmd" / command
            target.mkdir(parents=True)
            shutil.copy(HERE / command / "main.go", target / "main.go")
            _run(["go", "build", "-o", str(out / command), f"gwbench/cmd/{command}"], env, gopath)
    return GoBuild(str(out / "gateway"), str(out / "backend"), _versions()), ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.go_gateway.build",
        description="Build Go grpc-gateway and a Go BenchService for the bench proto.",
    )
    parser.add_argument("out", help="the directory to write the gateway and backend binaries to")
    parser.add_argument("--no-install", action="store_true", help="never run apt-get install")
    args = parser.parse_args(argv)
    result, why = build(args.out, install=not args.no_install)
    if result is None:
        print(why, file=sys.stderr)
        return 1
    print(f"{result.gateway}\n{result.backend}\n({result.versions})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
