"""``serve_local(workers=N)`` as a program, for tests/test_workers.py.

    python -m tests.workers_app MODE [--workers N] [--delay S] [--grpc-in-constructor] ...

Serves a PingService that answers with the pid of the process that ran it, so
a test can see which worker served each request. ``--signal-at-fork`` and
``--hang-at-fork N`` make things happen in a worker between the fork and its
first line of grpcgw code (``os.register_at_fork``), where a signal or a held
lock would strike a real one.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import select
import signal
from typing import Any

import grpc

import grpcgw
import grpcgw.workers
from examples.ping.service import PingServicer, ping_pb2  # (it puts gen/ on sys.path)


class PidPing(PingServicer):
    """``GET /v1/ping`` -> ``{"message": "<pid>"}``, after ``delay`` seconds of "work"."""

    def __init__(self, delay: float, dial: bool) -> None:
        self.delay = delay
        # What the docs warn about: a channel made before the fork.
        self.channel = grpc.insecure_channel("127.0.0.1:1") if dial else None

    async def Ping(self, request: ping_pb2.PingRequest, context: Any) -> ping_pb2.PingResponse:
        if self.delay:
            print(f"ping in pid {os.getpid()}", flush=True)  # for a test to wait on
            await asyncio.sleep(self.delay)  # the servicer's work, not a wait of the test
        return ping_pb2.PingResponse(message=str(os.getpid()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("socket", "direct"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("--http-address", default="127.0.0.1:0")
    parser.add_argument("--grpc-in-constructor", action="store_true")
    parser.add_argument("--twice", action="store_true", help="one service given twice")
    parser.add_argument(
        "--signal-at-fork", action="store_true", help="each worker gets SIGTERM as it is forked"
    )
    parser.add_argument(
        "--hang-at-fork", type=int, default=0, help="the Nth worker forked hangs (2 minutes)"
    )
    parser.add_argument("--start-timeout", type=float, help="grpcgw.workers._START_TIMEOUT")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    args = parser.parse_args()
    if args.signal_at_fork:
        os.register_at_fork(after_in_child=lambda: os.kill(os.getpid(), signal.SIGTERM))
    if args.hang_at_fork:
        forks = itertools.count(1)
        fork_number = 0

        def count() -> None:
            nonlocal fork_number
            fork_number = next(forks)

        def hang() -> None:  # a worker stuck before it serves (a lock held at the fork)
            if fork_number == args.hang_at_fork:
                select.select([], [], [], 120)

        os.register_at_fork(before=count, after_in_child=hang)
    if args.start_timeout is not None:
        grpcgw.workers._START_TIMEOUT = args.start_timeout
    servicers: list[Any] = [PidPing(args.delay, args.grpc_in_constructor)]
    if args.twice:
        servicers.append(PidPing(0, False))
    grpcgw.serve_local(
        *servicers,
        http_address=args.http_address,
        grpc_address="127.0.0.1:0",
        dispatch=args.mode,
        workers=args.workers,
        grace=args.grace,
        log_format=args.log_format,
    )


if __name__ == "__main__":
    main()
