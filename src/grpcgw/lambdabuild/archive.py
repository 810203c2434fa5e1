"""Installed trees and zip files: pruning what Lambda never runs, and writing deterministic zips.

A staging directory here is what ``pip install --target`` leaves: top-level
packages and modules, one ``*.dist-info`` directory per distribution (with its
``RECORD``), and ``bin/`` for console scripts.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import shutil
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

#: Every zip entry gets this timestamp (the earliest a zip can hold).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_REGULAR_FILE = 0o100000
_UNIX = 3


def _record_rows(record: Path) -> Iterator[tuple[str, str]]:
    """(raw line, path) for each row of a RECORD file."""
    for line in record.read_bytes().decode("utf-8").splitlines(keepends=True):
        if not line.strip():
            continue
        row = next(csv.reader([line]))
        yield line, row[0]


def prune(staging: Path) -> None:
    """Remove what Lambda never runs and keep every ``RECORD`` consistent with what remains.

    Gone: ``bin/`` (console scripts), ``__pycache__`` and stray bytecode, ``tests``
    directories bundled inside packages (a top-level package of that name stays),
    and ``direct_url.json`` (it names the build machine's paths).
    """
    shutil.rmtree(staging / "bin", ignore_errors=True)
    for d in sorted(staging.rglob("*"), reverse=True):
        if not d.is_dir() or d.is_symlink():
            continue
        rel = d.relative_to(staging)
        if d.name == "__pycache__" or (d.name == "tests" and len(rel.parts) > 1):
            shutil.rmtree(d)
    for pattern in ("*.pyc", "*.pyo"):
        for f in staging.rglob(pattern):
            f.unlink()
    for f in staging.glob("*.dist-info/direct_url.json"):
        f.unlink()
    root = staging.resolve()
    for record in sorted(staging.glob("*.dist-info/RECORD")):
        kept = []
        for line, path in _record_rows(record):
            target = (staging / path).resolve()
            if target.is_file() and target.is_relative_to(root):
                kept.append(line)
        record.write_text("".join(kept), encoding="utf-8", newline="")


def tree_files(root: Path) -> list[tuple[str, Path]]:
    """(zip name, path) of every file under ``root``, in the order a zip should hold them."""
    files = [(p.relative_to(root).as_posix(), p) for p in root.rglob("*") if p.is_file()]
    return sorted(files, key=lambda item: item[0].split("/"))


def _info(name: str, executable: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.external_attr = (_REGULAR_FILE | (0o755 if executable else 0o644)) << 16
    info.create_system = _UNIX  # so unzip honours the permissions above
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_zip(entries: Iterable[tuple[str, Path]], output: Path) -> tuple[int, int]:
    """Write ``(name, path)`` entries as a deterministic zip; return (files, unzipped bytes).

    Entries are sorted by path segments; every one has the same timestamp, mode
    0644 (0755 if any execute bit was set) and compression, so equal contents
    give equal bytes whatever the file system said. The file appears atomically.
    """
    ordered = sorted(entries, key=lambda item: item[0].split("/"))
    names = [name for name, _ in ordered]
    if len(set(names)) != len(names):
        raise ValueError("duplicate zip entry names")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    unzipped = 0
    try:
        with zipfile.ZipFile(partial, "w") as zf:
            for name, path in ordered:
                data = path.read_bytes()
                unzipped += len(data)
                zf.writestr(_info(name, bool(path.stat().st_mode & 0o111)), data, compresslevel=6)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    return len(ordered), unzipped


def write_wheel(files: dict[str, bytes], output: Path, dist_info: str) -> None:
    """Write a wheel from ``{name: bytes}``, with a fresh ``RECORD`` in ``dist_info``."""
    record_name = f"{dist_info}/RECORD"
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    for name in sorted(files, key=lambda n: n.split("/")):
        if name == record_name:
            continue
        digest = base64.urlsafe_b64encode(hashlib.sha256(files[name]).digest()).rstrip(b"=")
        writer.writerow([name, f"sha256={digest.decode()}", len(files[name])])
    writer.writerow([record_name, "", ""])
    files = {**files, record_name: rows.getvalue().encode()}
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w") as zf:
        for name in sorted(files, key=lambda n: n.split("/")):
            zf.writestr(_info(name, False), files[name], compresslevel=6)
