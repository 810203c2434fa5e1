"""Regenerate the committed ``*_pb2.py`` / ``*_pb2_grpc.py`` / ``*_pb2.pyi`` files.

    python scripts/genprotos.py          # rewrite the generated files
    python scripts/genprotos.py --check  # exit 1 if any committed file is stale

Needs ``grpcio-tools`` (``pip install -e '.[test]'``). The generated code is
committed so that the example runs with the runtime dependencies alone; a test
(``tests/test_generated.py``) runs ``--check`` so a stale file fails CI.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: proto source root -> output root for the generated Python.
TREES = {
    ROOT / "examples" / "ping" / "proto": ROOT / "examples" / "ping" / "gen",
    ROOT / "tests" / "protos": ROOT / "tests" / "gen",
    ROOT / "bench" / "proto": ROOT / "bench" / "gen",
}


def _include_dirs() -> list[str]:
    from grpc_tools import protoc  # noqa: F401  (fails early with a clear ImportError)

    wkt = resources.files("grpc_tools") / "_proto"
    import google.api

    # googleapis-common-protos ships google/api/*.proto next to its modules.
    googleapis = Path(next(iter(google.api.__path__))).parent.parent
    return [str(wkt), str(googleapis)]


def generate(src: Path, out: Path) -> None:
    from grpc_tools import protoc

    protos = sorted(str(p.relative_to(src)) for p in src.rglob("*.proto"))
    if not protos:
        return
    out.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{src}",
        *(f"-I{d}" for d in _include_dirs()),
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit(f"protoc failed for {src}")
    # Make every generated directory an importable package.
    for d in [p for p in out.rglob("*") if p.is_dir()]:
        (d / "__init__.py").touch()


def _tree(d: Path) -> set[str]:
    return {
        str(p.relative_to(d)) for p in d.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }


def check() -> list[str]:
    stale: list[str] = []
    for src, out in TREES.items():
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp)
            generate(src, fresh)
            want, have = _tree(fresh), (_tree(out) if out.exists() else set())
            stale += [f"missing: {out / f}" for f in sorted(want - have)]
            stale += [f"extra: {out / f}" for f in sorted(have - want)]
            stale += [
                f"stale: {out / f}"
                for f in sorted(want & have)
                if not filecmp.cmp(fresh / f, out / f, shallow=False)
            ]
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    if args.check:
        stale = check()
        for line in stale:
            print(line)
        return 1 if stale else 0
    for src, out in TREES.items():
        if out.exists():
            shutil.rmtree(out)
        generate(src, out)
        print(f"generated {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
