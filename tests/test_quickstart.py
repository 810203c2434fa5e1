"""docs/quickstart.md, run as a newcomer would run it, so that the page cannot rot.

Every marked block of the page (see tests/docpage.py) runs in order in an
empty directory outside the repository: a virtual environment, grpcgw
installed from a copy of this checkout (the page's ``~/src/grpcgw`` clone),
protoc, the files, ``serve_local`` in the background, ``curl`` compared with
what the page shows, ``grpcgw lambda-invoke`` and ``grpcgw lambda-build``
(pip's cache makes the wheels quick after the first run). The ports 8080 and
8081 become free ones, since other servers may hold those on this machine
(see _page_ports).
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
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


#: How many times test_quickstart runs the page, each time on other ports, when
#: a server it starts finds its port taken (see _page_ports).
ATTEMPTS = 3


def _ephemeral_range() -> range:
    """The ports the kernel hands out for port 0 and for outgoing connections."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    except (OSError, ValueError):
        return range(49152, 65536)  # IANA's range: the default of BSD, macOS, Windows
    return range(int(low), int(high) + 1)


def _page_ports(count: int) -> list[int]:
    """Ports for the page's 8080 and 8081, free at this moment on 127.0.0.1 and ::1.

    The page names its ports in files and commands written before its server
    starts, so the server cannot bind port 0 and say which it got, as the other
    tests' servers do. A port is free now and may be taken before the server
    binds it; to make that rare it is picked outside the ephemeral range, which
    no socket bound to port 0 and no outgoing connection (the suite makes
    thousands) ever takes. What is left -- another program binding that very
    number meanwhile -- test_quickstart meets by running the page again on other
    ports, ATTEMPTS times at most.
    """
    ephemeral = _ephemeral_range()
    outside = [p for p in range(10000, 65536) if p not in ephemeral]
    ports: list[int] = []
    while len(ports) < count:
        port = _free_on_loopback(random.choice(outside) if outside else 0)
        if port and port not in ports:
            ports.append(port)
    return ports


def _free_on_loopback(port: int) -> int:
    """``port`` (0: one the kernel picks) if 127.0.0.1 and ::1 can bind it now, else 0."""
    with contextlib.ExitStack() as stack:
        try:
            v4 = stack.enter_context(socket.socket(socket.AF_INET))
            v4.bind(("127.0.0.1", port))
            port = v4.getsockname()[1]
        except OSError:
            return 0
        try:
            v6 = stack.enter_context(socket.socket(socket.AF_INET6))
            v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # ::1 alone
        except OSError:
            return port  # no IPv6 here: localhost is 127.0.0.1 alone
        try:
            v6.bind(("::1", port))
        except OSError as exc:
            return port if exc.errno == errno.EADDRNOTAVAIL else 0  # EADDRNOTAVAIL: no ::1
        return port


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
    for attempt in range(1, ATTEMPTS + 1):
        root = tmp_path / f"attempt-{attempt}"
        root.mkdir()
        clone = _clone(root / "grpcgw")
        start = root / "work"
        start.mkdir()
        state = root / "state"
        state.mkdir()
        http_port, grpc_port = _page_ports(2)
        substitutions = {"~/src/grpcgw": str(clone), "8080": str(http_port), "8081": str(grpc_port)}
        shell = docpage.Shell(start, _environment(), state)
        try:
            log = docpage.run_page(blocks, shell, substitutions)
        except docpage.PortInUse as exc:  # taken since _page_ports: once more, on others
            if attempt == ATTEMPTS:
                raise
            taken = str(exc).strip().splitlines()[-1]
            print(f"attempt {attempt}: a port was taken ({taken}); again on other ports")
            continue
        break
    print("\n".join(log))  # with each command's time, shown by pytest -s or on failure
    # The zip was written where the page says, in the project it built.
    zips = list(start.glob("*/function.zip"))
    assert len(zips) == 1, "\n".join(log)
    # What lambda-build printed is what the page shows, but for the figures that
    # move with the wheels pip resolves (the size line) and the zip's path.
    [build] = [c for b in blocks for c in b.commands if c.text.startswith("grpcgw lambda-build")]
    at = next(i for i, line in enumerate(log) if line.startswith("$ grpcgw lambda-build"))
    printed = {" ".join(line.split()) for line in log[at + 1].splitlines()}
    for line in build.expected.splitlines():
        if line.startswith("  ") and line.split()[0] != "size":
            assert " ".join(line.split()) in printed, f"the page shows {line!r}:\n{log[at + 1]}"


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


def test_a_background_command_that_cannot_listen_is_told_apart(tmp_path: Path) -> None:
    """PortInUse (test_quickstart runs the page again) only for a port taken, nothing else."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        bind = f"python3 -c 'import socket; socket.socket().bind((\"127.0.0.1\", {port}))'"
        page = f"<!-- test: background -->\n```console\n$ {bind}\nlistening\n```\n"
        with pytest.raises(docpage.PortInUse, match="Address already in use"):
            _page(tmp_path, page)
    failing = "<!-- test: background -->\n```console\n$ python3 -c 'raise SystemExit(3)'\nx\n```\n"
    with pytest.raises(AssertionError, match="status 3") as ended:
        _page(tmp_path, failing)
    assert not isinstance(ended.value, docpage.PortInUse)


def test_page_ports_are_outside_the_ephemeral_range() -> None:
    ephemeral = _ephemeral_range()
    ports = _page_ports(2)
    assert len(set(ports)) == 2
    for port in ports:
        assert 10000 <= port < 65536
        if any(p not in ephemeral for p in range(10000, 65536)):  # Linux: 32768-60999
            assert port not in ephemeral


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
