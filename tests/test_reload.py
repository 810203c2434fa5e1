"""``grpcgw serve --reload``: a child server started again when the code changes."""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from grpcgw.reload import FileWatcher, fixed_port

from .conftest import ROOT
from .proxyutil import Process
from .test_cli_serve import ENV, LOOPBACK, _run

GEN = ROOT / "examples" / "ping" / "gen"
SERVE = [sys.executable, "-m", "grpcgw", "serve"]
PING = "examples.ping.service:PingServicer"

SERVICER = """\
from example.v1 import ping_pb2, ping_pb2_grpc


class PingServicer(ping_pb2_grpc.PingServiceServicer):
    def Ping(self, request, context):
        return ping_pb2.PingResponse(message={message!r})
"""


def _ping(url: str) -> bytes:
    with urllib.request.urlopen(url + "/v1/ping", timeout=10) as resp:
        body: bytes = resp.read()
        return body


def _listening(process: Process, n: int) -> str:
    line = process.out.until("HTTP/JSON gateway listening", n)
    found = re.search(r"http://[0-9.]+:\d+", line)
    assert found is not None, line
    return found.group(0)


def test_a_change_restarts_the_server_and_a_broken_file_waits_for_the_next(
    tmp_path: Path,
) -> None:
    code = tmp_path / "svc.py"
    code.write_text(SERVICER.format(message="Pong"))
    process = Process(
        [
            *SERVE,
            "--reload",
            "--reload-dir",
            str(tmp_path),
            "-p",
            str(GEN),
            "-p",
            str(tmp_path),
            "svc:PingServicer",
            *LOOPBACK,
        ],
        env=ENV,
        cwd=ROOT,
    )
    try:
        url = _listening(process, 1)
        assert _ping(url) == b'{"message":"Pong"}'

        code.write_text(SERVICER.format(message="Pong again"))
        process.out.until("svc.py changed: restarting")
        # Port 0 was chosen once, by the reloader: the new server listens where the first did.
        assert _listening(process, 2) == url
        assert _ping(url) == b'{"message":"Pong again"}'

        code.write_text(SERVICER.format(message="Pong") + "def broken(:\n")
        process.out.until("svc.py changed: restarting", 2)
        process.out.until("waiting for a change to restart")
        assert "SyntaxError" in process.out.text  # the child's own account, for the developer
        with pytest.raises(urllib.error.URLError):
            _ping(url)
        assert process.proc.poll() is None  # the reloader waits on

        code.write_text(SERVICER.format(message="Pong, mended"))
        assert _listening(process, 3) == url
        assert _ping(url) == b'{"message":"Pong, mended"}'

        # Ctrl-C reaches the reloader alone (the child has a process group of its own);
        # the child gets it once: a graceful stop, not the second signal's cut.
        process.signal(signal.SIGINT)
        assert process.proc.wait(30) == 0
        out = process.out.drain()
        assert out.count("shutting down") == 3  # each of the three servers that served
        assert "second signal" not in out
        with pytest.raises(urllib.error.URLError):
            _ping(url)
    finally:
        process.stop()


def test_the_config_file_is_watched_too(tmp_path: Path) -> None:
    config = tmp_path / "serve.toml"
    config.write_text('[gateway]\ndocs_path = "/explorer"\n')
    watched = tmp_path / "code"
    watched.mkdir()
    process = Process(
        [
            *SERVE,
            "--reload",
            "--reload-dir",
            str(watched),
            "--config",
            str(config),
            PING,
            *LOOPBACK,
        ],
        env=ENV,
        cwd=ROOT,
    )
    try:
        url = _listening(process, 1)
        assert urllib.request.urlopen(url + "/explorer", timeout=10).status == 200
        config.write_text('[gateway]\ndocs_path = "/explore"\n')
        process.out.until("serve.toml changed: restarting")
        _listening(process, 2)
        assert urllib.request.urlopen(url + "/explore", timeout=10).status == 200
        # SIGHUP (a terminal that closes) stops it as it stops serve: the child drains once.
        process.signal(signal.SIGHUP)
        assert process.proc.wait(30) == 0
        out = process.out.drain()
        assert out.count("shutting down") == 2
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url + "/explore", timeout=10)
    finally:
        process.stop()


def test_reload_serves_from_one_process() -> None:
    result = _run(PING, "--reload", "--workers", "2")
    assert result.returncode == 1
    assert "reload serves from one process: it cannot go with workers = 2" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_reload_dir_that_does_not_exist_is_named(tmp_path: Path) -> None:
    result = _run(PING, "--reload", "--reload-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert result.stderr.strip().endswith(f"--reload-dir {tmp_path / 'nowhere'}: no such directory")


def _touch(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_watcher_sees_code_and_skips_what_is_not_the_projects(tmp_path: Path) -> None:
    code = tmp_path / "app" / "service.py"
    _touch(code, "x = 1\n")
    _touch(tmp_path / "README.md", "not code\n")
    skipped = [
        tmp_path / ".venv" / "lib" / "mod.py",
        tmp_path / "env" / "lib" / "mod.py",  # a virtual environment by its pyvenv.cfg
        tmp_path / "node_modules" / "x.py",
        tmp_path / "app" / "__pycache__" / "service.py",
        tmp_path / ".git" / "hook.py",
    ]
    for path in skipped:
        _touch(path, "x = 1\n")
    _touch(tmp_path / "env" / "pyvenv.cfg", "home = /usr\n")
    config = tmp_path / "elsewhere" / "serve.toml"
    _touch(config, "")

    watcher = FileWatcher([tmp_path, str(tmp_path)], [str(config)])  # one directory, once
    assert watcher.dirs == (str(tmp_path),)
    assert watcher.changes() == []

    code.write_text("x = 22\n")
    assert watcher.changes() == [str(code)]
    assert watcher.changes() == []

    for path in skipped:
        path.write_text("x = 22\n")
    (tmp_path / "README.md").write_text("still not code\n")
    assert watcher.changes() == []

    added = tmp_path / "app" / "models.py"
    _touch(added, "y = 2\n")
    config.write_text("log_level = 'DEBUG'\n")
    assert watcher.changes() == sorted([str(added), str(config)])

    code.unlink()
    assert watcher.changes() == [str(code)]

    # Same size, new time (an editor saving the same length): a change too.
    stat = added.stat()
    os.utime(added, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert watcher.changes() == [str(added)]


def test_port_zero_is_chosen_once_and_other_addresses_stay() -> None:
    chosen = fixed_port("127.0.0.1:0")
    host, _, port = chosen.rpartition(":")
    assert host == "127.0.0.1"
    assert int(port) > 0
    with socket.socket() as sock:  # free when chosen: the first child binds it
        sock.bind(("127.0.0.1", int(port)))
    for address in ("127.0.0.1:8080", "[::1]:9000", "unix:/tmp/grpcgw.sock", "unix:///tmp/g.sock"):
        assert fixed_port(address) == address
