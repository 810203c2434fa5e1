"""``grpcgw lambda-build``: the AWS Lambda deployment zip of a user's project.

    grpcgw lambda-build app.handler --source . --requirements requirements.txt \\
        --arch arm64 --python 3.13 -o function.zip

What goes in, for the managed Python runtime (``python<version>`` on
``x86_64`` or ``arm64``), whatever machine builds:

1. the user's project: the files under ``--source`` (default the current
   directory) less the excludes (:data:`~grpcgw.lambdabuild.source.DEFAULT_EXCLUDES`
   and ``--exclude``), after checking that the handler's module is among them
   and binds the handler's name (parsed, never imported);
2. grpcgw (:mod:`grpcgw.lambdabuild.wheels` says from where) and the user's
   requirements, installed by pip as manylinux wheels for Lambda's platform
   (``--platform manylinux_2_34_aarch64 ... --implementation cp
   --python-version 3.13 --only-binary=:all: --target``). grpcgw's metadata
   drops aiohttp and awslambdaric first, so neither is in the zip unless the
   user's own requirements need it;
3. less what Lambda never runs (console scripts, bytecode, bundled tests,
   ``direct_url.json``), each ``RECORD`` rewritten to match;
4. with ``--compile``, bytecode for every module (:mod:`grpcgw.lambdabuild.bytecode`);
5. written as a deterministic zip: sorted entries, one timestamp, normalised
   permissions. The same sources and resolved versions give the same bytes.

Nothing here imports grpc, protobuf or aiohttp: the build runs pip in a
subprocess and only reads files. :mod:`grpcgw.lambdabuild.invoke` runs a built
zip's handler locally (``grpcgw lambda-invoke --zip``), in another process.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grpcgw.lambdabuild import archive, bytecode, source, wheels
from grpcgw.lambdabuild.errors import BuildError

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_PYTHON",
    "MAX_UNZIPPED",
    "MAX_ZIPPED",
    "PYTHON_VERSIONS",
    "BuildError",
    "BuildResult",
    "build",
]

ARCHITECTURES = tuple(wheels.MACHINES)
#: The Lambda Python runtimes grpcgw can run on (grpcgw needs Python >= 3.11).
PYTHON_VERSIONS = tuple(wheels.GLIBC)
DEFAULT_PYTHON = "3.12"
#: Lambda's limits: a zip uploaded directly, and the function unzipped.
MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024


@dataclass
class BuildResult:
    """What :func:`build` wrote."""

    output: Path
    handler: str
    handler_file: str
    arch: str
    python_version: str
    files: int
    unzipped: int
    zipped: int
    #: files taken from the user's source
    source_files: int
    #: where grpcgw came from
    grpcgw_from: str
    #: grpcgw requirements left out of the zip -> why (empty if the user's need them)
    left_out: dict[str, str] = field(default_factory=dict)
    #: grpcgw requirements the zip carries anyway, because the user's requirements need them
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The lines ``grpcgw lambda-build`` prints."""
        lines = [
            f"wrote {self.output}",
            f"  handler       {self.handler}   ({self.handler_file})",
            f"  runtime       python{self.python_version}, architecture {self.arch}",
            f"  size          {self.zipped / 1e6:.1f} MB zipped, {self.unzipped / 1e6:.1f} MB "
            f"unzipped, {self.files} files "
            f"(Lambda's limits: {MAX_ZIPPED // 2**20} MiB zipped for a direct upload, "
            f"{MAX_UNZIPPED // 2**20} MiB unzipped)",
            f"  your code     {self.source_files} files",
            f"  grpcgw from   {self.grpcgw_from}",
        ]
        if self.left_out:
            why = "; ".join(f"{name}: {reason}" for name, reason in self.left_out.items())
            lines.append(f"  left out      {why}")
        if self.kept:
            lines.append(f"  kept          {', '.join(self.kept)} (your requirements need it)")
        lines += [f"  note          {note}" for note in self.notes]
        return "\n".join(lines)


def _installed(staging: Path) -> set[str]:
    """Normalised names of the distributions in ``staging``."""
    return {
        wheels.normalize(d.name[: -len(".dist-info")].rpartition("-")[0])
        for d in staging.glob("*.dist-info")
    }


def _add_source(staging: Path, src: source.Source) -> None:
    """Copy the user's files into the installed tree; none may replace a dependency's."""
    for name in src.files:
        if (staging / name).exists():
            raise BuildError(
                f"{src.root / name} collides with {name} of an installed dependency; "
                "rename it or leave it out with --exclude"
            )
    for name, path in src.files.items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, staging / name)


def build(
    handler: str,
    *,
    source_dir: Path,
    output: Path,
    requirements: Path | None = None,
    arch: str = "x86_64",
    python_version: str = DEFAULT_PYTHON,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    default_excludes: bool = True,
    grpcgw_wheel: Path | None = None,
    find_links: Sequence[Path] = (),
    compile_bytecode: bool = False,
    python: str = sys.executable,
    quiet: bool = True,
) -> BuildResult:
    """Build the deployment zip at ``output``; a :class:`BuildError` says why not."""
    if arch not in ARCHITECTURES:
        raise BuildError(f"architecture {arch!r}: choose {' or '.join(ARCHITECTURES)}")
    if python_version not in PYTHON_VERSIONS:
        raise BuildError(
            f"python {python_version}: choose one of {', '.join(PYTHON_VERSIONS)} "
            "(grpcgw needs Python >= 3.11)"
        )
    if requirements is not None and not requirements.is_file():
        raise BuildError(f"--requirements {requirements}: no such file")
    source_dir = source_dir.resolve()
    output = output.resolve()
    src = source.collect(
        source_dir,
        include=include,
        exclude=exclude,
        default_excludes=default_excludes,
        also_exclude=[output, *([requirements] if requirements else [])],
    )
    check = source.check_handler(handler, src)
    compiler = bytecode.interpreter(python_version) if compile_bytecode else None
    wheels.check_pip(python)
    with tempfile.TemporaryDirectory(prefix="grpcgw-lambda-build-") as tmp:
        work = Path(tmp)
        wheel, origin = wheels.grpcgw_wheel(grpcgw_wheel, work, python=python, quiet=quiet)
        wheel, dropped = wheels.without_unused_requirements(wheel, work)
        staging = work / "package"
        wheels.install(
            staging,
            wheel,
            requirements.resolve() if requirements else None,
            arch=arch,
            python_version=python_version,
            find_links=[p.resolve() for p in find_links],
            python=python,
            quiet=quiet,
        )
        archive.prune(staging)
        installed = _installed(staging)
        _add_source(staging, src)
        not_compiled = bytecode.compile_tree(staging, compiler) if compiler else []
        entries = archive.tree_files(staging)
        unzipped = sum(path.stat().st_size for _, path in entries)
        if unzipped > MAX_UNZIPPED:
            raise BuildError(
                f"{unzipped / 1e6:.1f} MB unzipped, over Lambda's {MAX_UNZIPPED // 2**20} MiB "
                "limit; leave out what the function does not need (--exclude) or use a "
                "container image"
            )
        count, unzipped = archive.write_zip(entries, output)
    result = BuildResult(
        output=output,
        handler=handler,
        handler_file=check.module_file,
        arch=arch,
        python_version=python_version,
        files=count,
        unzipped=unzipped,
        zipped=output.stat().st_size,
        source_files=len(src.files),
        grpcgw_from=origin,
        left_out={n: wheels.LAMBDA_UNUSED[n] for n in dropped if n not in installed},
        kept=[n for n in dict.fromkeys(dropped) if n in installed],
    )
    if check.note:
        result.notes.append(check.note)
    if compiler:
        result.notes.append(f"bytecode compiled by {compiler}")
    if not_compiled:
        shown = ", ".join(not_compiled[:3]) + (", ..." if len(not_compiled) > 3 else "")
        result.notes.append(f"{len(not_compiled)} modules do not compile, left as source: {shown}")
    if result.zipped > MAX_ZIPPED:
        result.notes.append(
            f"over {MAX_ZIPPED // 2**20} MiB zipped: upload it through S3 "
            "(Terraform s3_bucket/s3_key, SAM does so itself) rather than directly"
        )
    return result
