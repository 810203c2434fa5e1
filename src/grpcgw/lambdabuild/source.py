"""The user's project: which files of ``--source`` go into the zip; is the handler there.

Patterns (``--include``, ``--exclude`` and the defaults) are globs matched
against a path relative to the source, in POSIX form: a pattern with a ``/``
matches the whole relative path (``examples/ping/deploy``), one without
matches a file or directory name at any depth (``tests``, ``*.md``). A matched
directory stands for everything below it.
"""

from __future__ import annotations

import ast
import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grpcgw.lambdabuild.errors import BuildError

#: Left out of every build unless ``--no-default-excludes``: version control,
#: editor and tool state and anything hidden (``.git``, ``.venv``, ``.env``,
#: ``.aws-sam``, ``.terraform``), bytecode, packaging leftovers, test suites and
#: zip files (earlier builds). Virtual environments of any name are left out too
#: (a directory holding ``pyvenv.cfg``).
DEFAULT_EXCLUDES = (
    ".*",
    "__pycache__",
    "*.pyc",
    "*.pyo",
    "*.egg-info",
    "node_modules",
    "tests",
    "test",
    "conftest.py",
    "*.zip",
)


def _matches(rel: str, name: str, patterns: Iterable[str]) -> str | None:
    for pattern in patterns:
        pattern = pattern.strip("/")
        subject = rel if "/" in pattern else name
        if fnmatch.fnmatchcase(subject, pattern):
            return pattern
    return None


@dataclass
class Source:
    """The files taken from the project, and what was left out of it."""

    root: Path
    #: zip name -> file
    files: dict[str, Path]
    #: relative path of each left-out file or directory -> the pattern (or reason)
    excluded: dict[str, str]

    def why_missing(self, rel: str) -> str:
        """Why ``rel`` is not among the files (for an error message)."""
        parts = rel.split("/")
        for i in range(len(parts), 0, -1):
            reason = self.excluded.get("/".join(parts[:i]))
            if reason is not None:
                return f"{'/'.join(parts[:i])} is excluded ({reason})"
        return "not found"


def collect(
    root: Path,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    default_excludes: bool = True,
    also_exclude: Sequence[Path] = (),
) -> Source:
    """The files under ``root`` that go into the zip.

    ``also_exclude`` names files left out whatever the patterns say (the output
    zip and the requirements file, when they sit inside the source).
    """
    if not root.is_dir():
        raise BuildError(f"--source {root}: not a directory")
    excludes = [*(DEFAULT_EXCLUDES if default_excludes else ()), *exclude]
    skip = {p.resolve() for p in also_exclude}
    files: dict[str, Path] = {}
    excluded: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        base = here.relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        for d in sorted(dirnames):
            rel = prefix + d
            pattern = _matches(rel, d, excludes)
            if pattern is None and (here / d / "pyvenv.cfg").is_file():
                pattern = "a virtual environment"
            if pattern is None and (here / d).is_symlink():
                pattern = "a symbolic link to a directory"
            if pattern is not None:
                excluded[rel] = pattern
                dirnames.remove(d)
        for f in filenames:
            rel = prefix + f
            path = here / f
            pattern = _matches(rel, f, excludes)
            if pattern is None and path.resolve() in skip:
                pattern = "the build's own input or output"
            if pattern is None and include and not _included(rel, include):
                pattern = "not in --include"
            if pattern is not None:
                excluded[rel] = pattern
                continue
            if not path.is_file():
                continue  # a dangling link, a socket
            files[rel] = path
    return Source(root, files, excluded)


def _included(rel: str, include: Sequence[str]) -> bool:
    parts = rel.split("/")
    return any(
        _matches("/".join(parts[:i]), parts[i - 1], include) is not None
        for i in range(1, len(parts) + 1)
    )


# -- the handler ------------------------------------------------------------------------------


def split_handler(handler: str) -> tuple[str, str]:
    """``pkg.module.attr`` -> (``pkg.module``, ``attr``), or a :class:`BuildError`."""
    module, _, attr = handler.rpartition(".")
    if not module or not all(p.isidentifier() for p in [*module.split("."), attr]):
        raise BuildError(
            f"handler {handler!r}: expected module.function, e.g. app.handler "
            "(the module path, dot-separated, then the handler's name)"
        )
    return module, attr


def _bound_names(body: Sequence[ast.stmt]) -> tuple[set[str], bool]:
    """Names a module body binds at its top level; True if it may bind any (star import,
    module ``__getattr__``, writes to ``globals()``)."""
    names: set[str] = set()
    dynamic = False

    def targets(node: ast.AST) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)

    def visit(stmts: Sequence[ast.stmt]) -> None:
        nonlocal dynamic
        for stmt in stmts:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(stmt.name)
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    targets(target)
            elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
                if not isinstance(stmt, ast.AnnAssign) or stmt.value is not None:
                    targets(stmt.target)
            elif isinstance(stmt, ast.Import | ast.ImportFrom):
                for alias in stmt.names:
                    if alias.name == "*":
                        dynamic = True
                    else:
                        names.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(stmt, ast.For | ast.AsyncFor):
                targets(stmt.target)
                visit(stmt.body)
                visit(stmt.orelse)
            elif isinstance(stmt, ast.With | ast.AsyncWith):
                for item in stmt.items:
                    if item.optional_vars is not None:
                        targets(item.optional_vars)
                visit(stmt.body)
            elif isinstance(stmt, ast.If | ast.While):
                visit(stmt.body)
                visit(stmt.orelse)
            elif isinstance(stmt, ast.Try | ast.TryStar):
                visit(stmt.body)
                for h in stmt.handlers:
                    if h.name:
                        names.add(h.name)
                    visit(h.body)
                visit(stmt.orelse)
                visit(stmt.finalbody)
            elif isinstance(stmt, ast.Match):
                for case in stmt.cases:
                    visit(case.body)

    visit(body)
    for stmt in body:
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.NamedExpr):
                targets(sub.target)
            elif (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Name)
                and sub.func.id in {"globals", "exec", "vars"}
            ):
                dynamic = True
    return names, dynamic or "__getattr__" in names


@dataclass
class HandlerCheck:
    module_file: str
    #: a note when the module's names cannot be told without running it
    note: str = ""


def check_handler(handler: str, source: Source) -> HandlerCheck:
    """Check that the handler's module is among the files and binds the handler's name.

    The module is parsed, never imported: the user's init (which starts servers)
    does not run at build time.
    """
    module, attr = split_handler(handler)
    base = module.replace(".", "/")
    candidates = [f"{base}.py", f"{base}/__init__.py"]
    found = next((c for c in candidates if c in source.files), None)
    if found is None:
        reasons = "; ".join(f"{c}: {source.why_missing(c)}" for c in candidates)
        raise BuildError(f"handler {handler}: no module {module} under {source.root} ({reasons})")
    text = source.files[found].read_bytes()
    try:
        tree = ast.parse(text, filename=found)
    except SyntaxError as e:
        return HandlerCheck(
            found, f"{found} does not parse on this Python ({e.msg}, line {e.lineno}): not checked"
        )
    names, dynamic = _bound_names(tree.body)
    if attr in names:
        return HandlerCheck(found)
    if dynamic:
        return HandlerCheck(
            found, f"{found} binds names at run time; `{attr}` could not be checked"
        )
    raise BuildError(f"handler {handler}: {found} defines no `{attr}` at module level")
