"""Run a documentation page as a reader would: its marked blocks, in order, in a shell.

A block runs when an HTML comment (invisible once rendered) stands on the line
before its opening fence:

``<!-- test: run -->``
    an ``sh`` block: each command, in order; each must exit 0. A ``console``
    block: each ``$`` command; its output is shown for the reader, not compared.
``<!-- test: compare -->``
    a ``console`` block: each ``$`` command must exit 0 and print (on standard
    output) what follows it on the page; ``...`` there matches any text.
``<!-- test: file -->``
    a block whose fence names the file, ``title="app/service.py"``: written to
    that path, relative to the shell's current directory.
``<!-- test: background -->``
    a ``console`` block with one ``$`` command: started and left running (the
    reader's other terminal) once its output has shown the lines on the page,
    in order; a later background block replaces it, as Ctrl-C would; the last
    is stopped with SIGTERM at the end and must exit cleanly.

Commands run one by one, each in its own ``bash`` that starts where the last
one ended: its directory and its variables (``set -a`` exports them), so
``cd``, ``. .venv/bin/activate`` and ``X=...`` carry over as in a terminal.
Substitutions (a clone's path, ports) replace text in every block first.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

KINDS = ("run", "compare", "file", "background")
_MARKER = re.compile(r"<!--\s*test:\s*(?P<kind>[\w-]+)\s*-->")
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)(?P<info>.*)$")
_TITLE = re.compile(r'title="(?P<title>[^"]+)"')


class PageError(ValueError):
    """The page's markers are not usable (a typo, a marker with no block)."""


class PortInUse(AssertionError):
    """A background command ended before its lines, unable to listen: its port was taken."""


#: What a server that cannot listen says: the OS's text (aiohttp, Python's socket
#: errors) or grpcgw's for the gRPC server.
_IN_USE = re.compile(r"address already in use|cannot bind", re.IGNORECASE)


@dataclass
class Command:
    text: str
    expected: str = ""  # a console block's output lines


@dataclass
class Block:
    kind: str
    lang: str
    line: int  # of the opening fence, 1-based
    body: str
    title: str | None = None
    commands: list[Command] = field(default_factory=list)


def parse(text: str) -> list[Block]:
    """The marked blocks of a Markdown page, in order."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        marker = _MARKER.fullmatch(lines[i].strip())
        if marker is None:
            if "<!--" in lines[i] and "test:" in lines[i]:
                raise PageError(f"line {i + 1}: not a test marker: {lines[i].strip()}")
            i += 1
            continue
        kind = marker["kind"]
        if kind not in KINDS:
            raise PageError(f"line {i + 1}: unknown marker {kind!r} (one of {', '.join(KINDS)})")
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        opening = _FENCE.match(lines[j]) if j < len(lines) else None
        if opening is None:
            raise PageError(f"line {i + 1}: <!-- test: {kind} --> is not followed by a code block")
        end = j + 1
        while end < len(lines) and lines[end].strip() != opening["fence"]:
            end += 1
        if end == len(lines):
            raise PageError(f"line {j + 1}: the code block is not closed")
        title = _TITLE.search(opening["info"])
        block = Block(
            kind=kind,
            lang=opening["lang"],
            line=j + 1,
            body="\n".join(lines[j + 1 : end]) + "\n",
            title=title["title"] if title else None,
        )
        _check(block)
        blocks.append(block)
        i = end + 1
    return blocks


def _check(block: Block) -> None:
    where = f"block at line {block.line}"
    if block.kind == "file":
        if not block.title:
            raise PageError(f'{where}: a file block needs title="path" on its fence')
        return
    if block.lang in ("sh", "bash", "shell"):
        if block.kind != "run":
            raise PageError(f"{where}: {block.kind} needs a console block ($ commands, output)")
        block.commands = [Command(c) for c in _sh_commands(block.body)]
    elif block.lang == "console":
        block.commands = _console_commands(block.body)
    else:
        raise PageError(f"{where}: cannot run a {block.lang or 'plain'} block")
    if not block.commands:
        raise PageError(f"{where}: no commands")
    if block.kind == "background" and len(block.commands) != 1:
        raise PageError(f"{where}: a background block runs one command")


def _sh_commands(body: str) -> Iterator[str]:
    pending = ""
    for line in body.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line + "\n"
        if not line.endswith("\\"):
            yield pending.rstrip("\n")
            pending = ""
    if pending:
        yield pending.rstrip("\n")


def _console_commands(body: str) -> list[Command]:
    commands: list[Command] = []
    continued = False
    for line in body.splitlines():
        if continued:
            commands[-1].text += "\n" + line
        elif line.startswith("$ "):
            commands.append(Command(line[2:]))
        elif commands:
            commands[-1].expected += line + "\n"
        elif line.strip():
            raise PageError(f"output before the first $ command: {line!r}")
        continued = line.endswith("\\")
    return commands


def matches(expected: str, actual: str) -> bool:
    """``actual`` is ``expected``, where ``...`` stands for any text (line ends normalised)."""
    pattern = ".*?".join(re.escape(part) for part in _normal(expected).split("..."))
    return re.fullmatch(pattern, _normal(actual), re.DOTALL) is not None


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip("\n")


class _Lines:
    """A process's output, line by line, collected on a thread (waits without polling)."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self.text = ""
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put("")  # end of stream

    def next(self, deadline: float) -> str | None:
        """The next line, or None at the end of the stream; AssertionError after ``deadline``."""
        try:
            line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"timed out; the output so far:\n{self.text}") from None
        self.text += line
        return line or None


class Shell:
    """Commands run as in one terminal: the directory and exported variables carry over."""

    def __init__(self, cwd: Path, env: Mapping[str, str], state: Path) -> None:
        self.cwd = cwd
        self.env = dict(env)
        self._state = state
        self.background: tuple[subprocess.Popen[str], _Lines] | None = None

    def run(self, command: str, timeout: float) -> subprocess.CompletedProcess[str]:
        where, variables = self._state / "cwd", self._state / "env"
        where.unlink(missing_ok=True)
        variables.unlink(missing_ok=True)
        script = (
            f"set -a\n{command}\n__status=$?\n"
            f"pwd > '{where}'\nenv -0 > '{variables}'\nexit $__status\n"
        )
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", script],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if where.exists() and variables.exists():
            self.cwd = Path(where.read_text().strip())
            pairs = (item.partition("=") for item in variables.read_text().split("\0") if item)
            self.env = {name: value for name, _, value in pairs}
        return result

    def start(self, command: str, expected: str, timeout: float) -> None:
        """Start ``command`` and wait for its output to show ``expected``, line by line."""
        self.stop()
        proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc", "-c", command],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, to stop it and its children
        )
        lines = _Lines(proc.stdout)  # type: ignore[arg-type]
        self.background = (proc, lines)
        deadline = time.monotonic() + timeout
        for want in _normal(expected).splitlines():
            while True:
                line = lines.next(deadline)
                if line is None:
                    ended = PortInUse if _IN_USE.search(lines.text) else AssertionError
                    raise ended(
                        f"{command!r} ended (status {proc.wait()}) before printing {want!r}:\n"
                        f"{lines.text}"
                    )
                if matches(want, line):
                    break

    def stop(self, timeout: float = 30) -> str:
        """SIGTERM to the background command; it must exit with 0. Returns its output."""
        if self.background is None:
            return ""
        proc, lines = self.background
        self.background = None
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            status = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise AssertionError(f"still running {timeout}s after SIGTERM:\n{lines.text}") from None
        deadline = time.monotonic() + timeout
        while lines.next(deadline) is not None:
            pass
        assert status == 0, f"exited with {status} on SIGTERM:\n{lines.text}"
        return lines.text


def substitute(text: str, substitutions: Mapping[str, str]) -> str:
    for old, new in substitutions.items():
        text = text.replace(old, new)
    return text


def run_page(
    blocks: list[Block],
    shell: Shell,
    substitutions: Mapping[str, str],
    *,
    timeout: float = 300,
) -> list[str]:
    """Run every block in order; AssertionError at the first that fails. Returns a log."""
    log: list[str] = []
    try:
        for block in blocks:
            where = f"block at line {block.line}"
            if block.kind == "file":
                path = shell.cwd / substitute(block.title or "", substitutions)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(substitute(block.body, substitutions))
                log.append(f"wrote {path}")
                continue
            for command in block.commands:
                text = substitute(command.text, substitutions)
                expected = substitute(command.expected, substitutions)
                started = time.monotonic()
                if block.kind == "background":
                    shell.start(text, expected, timeout=60)
                    log.append(f"$ {text} &  ({time.monotonic() - started:.1f} s)")
                    continue
                result = shell.run(text, timeout)
                log.append(f"$ {text}  ({time.monotonic() - started:.1f} s)")
                if block.kind == "run" and block.lang == "console":
                    log.append(result.stdout.rstrip())
                assert result.returncode == 0, (
                    f"{where}: {text!r} exited with {result.returncode}\n"
                    f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
                )
                if block.kind == "compare":
                    assert matches(expected, result.stdout), (
                        f"{where}: {text!r} printed\n{result.stdout}\n"
                        f"where the page shows\n{expected}\nstderr:\n{result.stderr}"
                    )
        log.append(shell.stop())
    finally:
        if shell.background is not None:
            proc, _ = shell.background
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return log
