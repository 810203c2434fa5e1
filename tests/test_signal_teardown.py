"""A stop signal that arrives while asyncio closes the loop of a server's process.

asyncio's ``close()`` shuts the loop's wakeup pipe before it removes its signal
handlers; a signal between the two (a supervisor's SIGTERM to a worker whose
sibling failed to start) was printed as "Exception ignored when trying to write
to the signal wakeup fd" with a traceback. The script below sends itself SIGTERM
exactly there, so the window is hit every time."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from .conftest import ROOT

SCRIPT = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from grpcgw.workers import stop_signals_handled

    class Loop(asyncio.SelectorEventLoop):
        def _close_self_pipe(self):  # the window: the pipe shut, the handlers still set
            super()._close_self_pipe()
            os.kill(os.getpid(), signal.SIGTERM)

    async def main(worker):
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        with stop_signals_handled(loop, lambda sig: stop.set(), worker):
            raise RuntimeError("failed to start")

    worker = object() if sys.argv[1] == "worker" else None
    try:
        with asyncio.Runner(loop_factory=Loop) as runner:
            runner.run(main(worker))
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
    """
)


@pytest.mark.parametrize("role", ["worker", "alone"])
def test_a_stop_signal_while_the_loop_closes_prints_no_traceback(role: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, role],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert "Exception ignored" not in result.stderr, result.stderr
    # A worker swallows it (its supervisor forces with SIGKILL) and ends as it would
    # have; a process alone has the default action back: the signal ends it.
    assert result.returncode == (1 if role == "worker" else -15), result.stderr
