"""docs/quickstart.md, run as a newcomer would run it, so that the page cannot rot.

Every marked block of the page (see tests/docpage.py) runs in order in an
empty directory outside the repository: a virtual environment, grpcgw
installed from a copy of this checkout (the page's ``~/src/grpcgw`` clone),
protoc, the files, ``serve_local`` in the background, ``curl`` compared with
what the page shows, ``grpcgw lambda-invoke`` and ``grpcgw lambda-build``
(pip's cache makes the wheels quick after the first run). The ports 8080 and
8081 become free ones, since other servers may hold those on this machine.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
from pathlib import Path

import pytest

from . import docpage
from .conftest import ROOT

PAGE = ROOT / "docs" / "quickstart.md"
README = ROOT / "README.md"
#: What a clone holds that the page uses: the package, and the bundled example.
CLONE = ("pyproject.toml", "README.md", "LICENSE", "src", "examples")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clone(dest: Path) -> Path:
    """The parts of a clone of this repository the page installs from, without build leftovers."""
    dest.mkdir()
    for name in CLONE:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(
                path,
                dest / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"),
            )
        else:
            shutil.copy2(path, dest / name)
    return dest


def _environment() -> dict[str, str]:
    """This environment as a fresh terminal would have it: no virtual environment active."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
    }
    # python3 is this test's Python (>= 3.11, as the page says), whatever else is on PATH.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def test_the_page_has_blocks_of_every_kind() -> None:
    blocks = docpage.parse(PAGE.read_text())
    assert {b.kind for b in blocks} == set(docpage.KINDS)
    files = [b.title for b in blocks if b.kind == "file"]
    assert "app/service.py" in files
    commands = [c.text for b in blocks for c in b.commands]
    for needed in ("python3 -m venv", "pip install", "grpc_tools.protoc", "curl", "grpcgw routes"):
        assert any(needed in c for c in commands), needed
    assert any(c.startswith("grpcgw lambda-build") for c in commands)
    assert any(c.startswith("grpcgw lambda-invoke") for c in commands)


def test_readme_commands_are_the_quickstart_s() -> None:
    """README's "Your own service" shows commands the quickstart runs (the same text)."""
    readme = README.read_text()
    section = readme.split("## Your own service", 1)[1].split("\n## ", 1)[0]
    shown = [
        re.sub(r"\s+#\s.*$", "", line).strip()  # without a trailing comment
        for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
        for line in block.replace("\\\n", " ").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert shown, "README's Your own service section shows no sh block"
    run = " ".join(
        " ".join(c.text.replace("\\\n", " ").split())
        for b in docpage.parse(PAGE.read_text())
        for c in b.commands
    )
    for line in shown:
        assert " ".join(line.split()) in run, (
            f"README shows {line!r}, which the quickstart does not run"
        )


def test_quickstart(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed (apt-get install curl; .ci/run installs it)")
    blocks = docpage.parse(PAGE.read_text())
    assert blocks, "docs/quickstart.md has no marked blocks"
    clone = _clone(tmp_path / "grpcgw")
    start = tmp_path / "work"
    start.mkdir()
    state = tmp_path / "state"
    state.mkdir()
    substitutions = {
        "~/src/grpcgw": str(clone),
        "8080": str(_free_port()),
        "8081": str(_free_port()),
    }
    shell = docpage.Shell(start, _environment(), state)
    log = docpage.run_page(blocks, shell, substitutions)
    print("\n".join(log))  # with each command's time, shown by pytest -s or on failure
    # The zip was written where the page says, in the project it built.
    zips = list(start.glob("*/function.zip"))
    assert len(zips) == 1, "\n".join(log)


# -- the runner itself -------------------------------------------------------------------------


def _shell(tmp_path: Path) -> docpage.Shell:
    state = tmp_path / ".state"
    state.mkdir(exist_ok=True)
    return docpage.Shell(tmp_path, _environment(), state)


def _page(tmp_path: Path, text: str) -> list[str]:
    shell = _shell(tmp_path)
    return docpage.run_page(docpage.parse(text), shell, {}, timeout=30)


def test_a_failing_command_fails_the_page(tmp_path: Path) -> None:
    page = "<!-- test: run -->\n```sh\ntrue\nfalse\n```\n"
    with pytest.raises(AssertionError, match="'false' exited with 1"):
        _page(tmp_path, page)


def test_output_that_differs_fails_the_page(tmp_path: Path) -> None:
    page = '<!-- test: compare -->\n```console\n$ echo \'{"a":1}\'\n{"a":2}\n```\n'
    with pytest.raises(AssertionError, match="where the page shows"):
        _page(tmp_path, page)


def test_state_carries_from_command_to_command(tmp_path: Path) -> None:
    page = (
        '<!-- test: run -->\n```sh\nmkdir d && cd d\nX="$(pwd)"\n```\n\n'
        '<!-- test: file -->\n```text title="f.txt"\nhello\n```\n\n'
        '<!-- test: compare -->\n```console\n$ cat f.txt\nhello\n$ echo "$X"\n.../d\n```\n'
    )
    _page(tmp_path, page)
    assert (tmp_path / "d" / "f.txt").read_text() == "hello\n"


def test_a_background_command_is_waited_for_and_stopped(tmp_path: Path) -> None:
    page = (
        "<!-- test: background -->\n```console\n"
        "$ echo starting; echo ready on 8080; exec sleep 600\nstarting\n...on 8080\n```\n"
    )
    shell = _shell(tmp_path)
    blocks = docpage.parse(page)
    with pytest.raises(AssertionError, match="exited with -15 on SIGTERM"):
        docpage.run_page(blocks, shell, {})  # sleep dies of SIGTERM rather than exiting cleanly
    ended = "<!-- test: background -->\n```console\n$ echo done\nready\n```\n"
    with pytest.raises(AssertionError, match=r"ended .* before printing 'ready'"):
        _page(tmp_path, ended)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<!-- test: runn -->\n```sh\ntrue\n```\n", "unknown marker 'runn'"),
        ("<!-- test: run -->\n\nno block\n", "not followed by a code block"),
        ("<!-- test: file -->\n```python\nx = 1\n```\n", 'needs title="path"'),
        ("<!-- test: compare -->\n```sh\ntrue\n```\n", "needs a console block"),
        ("<!-- test: run -->\n```python\nx = 1\n```\n", "cannot run a python block"),
        ("<!-- test:run --> typo\n", "not a test marker"),
    ],
)
def test_markers_that_cannot_run_are_errors(text: str, message: str) -> None:
    with pytest.raises(docpage.PageError, match=message):
        docpage.parse(text)


def test_ellipsis() -> None:
    assert docpage.matches("a\n...\nz", "a\nb\r\nc\nz\n")
    assert docpage.matches("...listening on 80", "2026-01-01 grpcgw listening on 80")
    assert not docpage.matches("...listening on 80", "listening on 8080x")
    assert not docpage.matches("a", "a\nb")


def test_commands_in_console_and_sh_blocks() -> None:
    blocks = docpage.parse(
        "<!-- test: run -->\n```sh\n# a comment\necho a \\\n  b\n\necho c\n```\n\n"
        "<!-- test: compare -->\n```console\n$ echo a \\\n  b\na b\n$ true\n```\n"
    )
    assert [c.text for c in blocks[0].commands] == ["echo a \\\n  b", "echo c"]
    assert [(c.text, c.expected) for c in blocks[1].commands] == [
        ("echo a \\\n  b", "a b\n"),
        ("true", ""),
    ]
