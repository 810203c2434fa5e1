"""``serve_local(workers=N)``: a supervisor and N worker processes, each running the
gRPC server and the HTTP gateway (direct dispatch), sharing one loopback port.

    python -m bench.apps.local_serve_workers MODE WORKERS

Says ``{"pid": supervisor, "port": ..., "workers": [pids]}`` once every worker
serves (read from the supervisor's own "listening" line), and stops (SIGTERM to
itself, which the supervisor passes on) when the parent closes stdin. The
gRPC server listens on a loopback TCP port (a unix socket cannot be shared by
several gRPC servers); in direct mode only gRPC clients would use it.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading

import grpcgw

from bench.apps.local_common import say
from bench.service import BenchServicer


class _Listening(logging.Handler):
    """Says the port and the workers' pids when the supervisor logs where they listen."""

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if text.startswith("HTTP/JSON gateway listening"):
            port = re.search(r"\(port (\d+)\)", text)
            pids = re.search(r"workers, pids ([\d, ]+)\)", text)
            if port and pids:
                workers = [int(p) for p in pids.group(1).split(", ")]
                say({"pid": os.getpid(), "port": int(port.group(1)), "workers": workers})


def _until_stdin_closes() -> None:
    while sys.stdin.buffer.read1(4096):
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def main(mode: str, workers: int) -> None:
    # Logging as the other serve-local layouts have it (no access lines: their loggers
    # are not enabled), but the supervisor's INFO lines reach _Listening (and stderr).
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("grpcgw").setLevel(logging.INFO)
    logging.getLogger("grpcgw").addHandler(_Listening())
    logging.getLogger("grpcgw.access").setLevel(logging.WARNING)
    threading.Thread(target=_until_stdin_closes, daemon=True).start()
    try:
        grpcgw.serve_local(
            BenchServicer(),
            http_address="127.0.0.1:0",
            grpc_address="127.0.0.1:0",
            dispatch=mode,  # type: ignore[arg-type]
            workers=workers,
            grace=1,
        )
    except Exception as exc:
        say({"error": f"{type(exc).__name__}: {exc}"})
        raise


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
