"""``grpcgw serve --reload``: serve from a child process, started again when code changes.

The reloader imports none of the user's code. It runs ``grpcgw serve`` (the same
arguments, with ``--no-reload``) as a child process and looks every half
second at the ``.py`` files under the watched directories (and the config
file): when one is added, removed or rewritten, it stops the child (SIGTERM:
running calls get the grace period) and starts a new one, which imports
everything afresh. A child that cannot start (a syntax error, a bad import)
or that stops by itself is reported, and the next change starts one again, as
uvicorn's ``--reload`` does.

Polling needs no dependency and costs little on a project's tree; directories
that hold no code of the project are skipped (hidden ones, ``__pycache__``,
``node_modules``, ``site-packages``, and virtual environments, which hold a
``pyvenv.cfg``). A development tool: POSIX signals, one process (``workers``
must be 1).

The child runs in a process group of its own, so that it gets exactly one
signal when the reloader stops (a second would end its grace period at once,
as for ``serve_local``): a terminal's Ctrl-C reaches the reloader alone, which
passes it on.

Pure standard library.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from grpcgw.listen import bind_every_address

__all__ = ["FileWatcher", "Reloader", "fixed_port"]

log = logging.getLogger("grpcgw.reload")

#: Seconds between two looks at the files.
POLL_INTERVAL = 0.5
#: After a change, further looks this often until the files keep still (an editor
#: or a ``git checkout`` writes several), for at most ``_SETTLE_MAX`` seconds.
_SETTLE_INTERVAL = 0.1
_SETTLE_MAX = 1.0
#: Directory names never looked into.
_SKIPPED = frozenset({"__pycache__", "node_modules", "site-packages", "dist-packages"})
#: Beyond this many files a look costs enough to be worth a word in the log.
_MANY_FILES = 10_000

Snapshot = dict[str, tuple[int, int]]


class FileWatcher:
    """The ``.py`` files under ``dirs`` and the ``files`` given, and whether they changed.

    >>> watcher = FileWatcher(["src"])          # doctest: +SKIP
    >>> watcher.changes()                       # doctest: +SKIP
    ['src/app/service.py']
    """

    def __init__(self, dirs: Iterable[str | os.PathLike[str]], files: Iterable[str] = ()) -> None:
        self.dirs = tuple(dict.fromkeys(os.path.abspath(d) for d in dirs))
        self.files = tuple(dict.fromkeys(os.path.abspath(f) for f in files))
        self._snapshot = self._look()
        if len(self._snapshot) > _MANY_FILES:
            log.warning(
                "--reload watches %d files under %s: name the directories of your code "
                "with --reload-dir",
                len(self._snapshot),
                ", ".join(self.dirs),
            )

    def changes(self) -> list[str]:
        """The paths added, removed or rewritten since the last call (or since made)."""
        now = self._look()
        before, self._snapshot = self._snapshot, now
        changed = [path for path, stamp in now.items() if before.get(path) != stamp]
        changed += [path for path in before if path not in now]
        return sorted(changed)

    def _look(self) -> Snapshot:
        found: Snapshot = {}
        for path in self.files:
            _stamp(path, found)
        for top in self.dirs:
            _walk(top, found)
        return found


def _walk(directory: str, found: Snapshot) -> None:
    try:
        entries = list(os.scandir(directory))
    except OSError:  # gone, or not ours to read: nothing to watch there
        return
    if any(entry.name == "pyvenv.cfg" for entry in entries):
        return  # a virtual environment: installed code, not the project's
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                if not entry.name.startswith(".") and entry.name not in _SKIPPED:
                    _walk(entry.path, found)
            elif entry.name.endswith(".py"):
                _stamp(entry.path, found)
        except OSError:
            continue


def _stamp(path: str, found: Snapshot) -> None:
    try:
        stat = os.stat(path)
    except OSError:
        return
    found[path] = (stat.st_mtime_ns, stat.st_size)


class Reloader:
    """Runs ``command`` as a child process, again whenever ``watcher`` sees a change,
    until SIGINT, SIGTERM or SIGHUP; :meth:`run` returns the exit status (0)."""

    def __init__(self, command: Sequence[str], watcher: FileWatcher, *, grace: float) -> None:
        self.command = list(command)
        self.watcher = watcher
        #: How long a child gets to stop on SIGTERM (its own grace, and a margin) before
        #: it is killed.
        self.stop_timeout = grace + 5.0
        self._wake = threading.Event()
        self._signal: int | None = None
        self._child: subprocess.Popen[bytes] | None = None

    def run(self) -> int:
        stops = [getattr(signal, name, None) for name in ("SIGINT", "SIGTERM", "SIGHUP")]
        previous = {sig: signal.signal(sig, self._on_signal) for sig in stops if sig is not None}
        try:
            log.info("watching for changes in %s", ", ".join(self.watcher.dirs) or "no directory")
            self._start()
            reported = False
            while self._signal is None:
                self._wake.wait(POLL_INTERVAL)
                if self._signal is not None:
                    break
                changed = self.watcher.changes()
                if changed:
                    changed = self._settled(changed)
                    if self._signal is not None:
                        break
                    more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
                    log.info("%s changed%s: restarting", _shown(changed[0]), more)
                    self._stop(signal.SIGTERM)
                    self._start()
                    reported = False
                elif not reported and self._child is not None and self._child.poll() is not None:
                    log.warning(
                        "the server stopped (exit status %d): waiting for a change to restart",
                        self._child.returncode,
                    )
                    reported = True
            self._stop(self._signal)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _on_signal(self, sig: int, frame: object) -> None:
        if self._signal is None:
            self._signal = sig
        self._wake.set()

    def _settled(self, changed: list[str]) -> list[str]:
        """``changed`` and what changes with it while the files keep moving."""
        seen = dict.fromkeys(changed)
        deadline = time.monotonic() + _SETTLE_MAX
        while self._signal is None and time.monotonic() < deadline:
            self._wake.wait(_SETTLE_INTERVAL)
            more = self.watcher.changes()
            if not more:
                break
            seen.update(dict.fromkeys(more))
        return list(seen)

    def _start(self) -> None:
        # A group of its own: only the signal the reloader passes on reaches it.
        self._child = subprocess.Popen(self.command, process_group=0)

    def _stop(self, sig: int) -> None:
        child, self._child = self._child, None
        if child is None or child.poll() is not None:
            return
        # SIGHUP stops the reloader as it stops serve_local; the child gets SIGTERM.
        child.send_signal(signal.SIGTERM if sig == getattr(signal, "SIGHUP", None) else sig)
        try:
            child.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            log.warning("the server did not stop within %g s: killed", self.stop_timeout)
            child.kill()
            child.wait()


def _shown(path: str) -> str:
    """``path`` relative to the working directory when it is under it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def fixed_port(address: str) -> str:
    """``address`` with port 0 replaced by a port free now on every address of its
    host, so that each child the reloader starts listens where the first did;
    any other address as it is (unix sockets, a port given)."""
    head, sep, port = address.rpartition(":")
    if not sep or port != "0" or address.startswith(("unix:", "unix-abstract:", "vsock:")):
        return address
    sockets = bind_every_address(head.strip("[]"), 0)
    try:
        return f"{head}:{sockets[0].getsockname()[1]}"
    finally:
        for sock in sockets:
            sock.close()
