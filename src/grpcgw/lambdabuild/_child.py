"""Run by ``grpcgw lambda-invoke --zip`` as a script, in ``python -I -S``: one event, one handler.

    python -I -S -B _child.py TASK_ROOT HANDLER REMAINING_MS ZIP_NAME < event.json

The interpreter sees the standard library and ``TASK_ROOT`` (the unpacked
zip) only: no site-packages, no current directory, no ``PYTHON*``
variables, so a module the zip lacks fails to import as on Lambda. This file
imports nothing but the standard library (and is not on the path it sets up).
The event comes on standard input; the outcome leaves on the original
standard output, which the function cannot reach (its own output, ``print``
and anything written to file descriptor 1, goes to standard error, as on
Lambda it goes to the log): ``{"response": ...}``, or ``{"error": "..."}``
saying what went wrong in Lambda's words, after a traceback on standard error
where one helps.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

#: Distributions Lambda's Python runtime brings itself (not those of the zip).
_RUNTIME_PROVIDED = {"boto3", "botocore", "awslambdaric"}


class LocalContext:
    """A Lambda context for local invocations: ``remaining_ms`` from when it is made."""

    def __init__(self, remaining_ms: int) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = "local"
        self._deadline = time.monotonic() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _Outcome:
    """Writes the one outcome: the handler's, or the timeout's if that comes first."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()
        self._written = False

    def write(self, outcome: dict[str, Any]) -> bool:
        """Write ``outcome`` (unless one was): whether it was a response."""
        try:
            text = json.dumps(outcome, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            outcome = {"error": f"Unable to marshal response: {exc}"}
            text = json.dumps(outcome)
        with self._lock:
            if self._written:
                return False
            self._written = True
            self._out.write(text)
            self._out.flush()
        return "response" in outcome

    def time_out(self, seconds: float) -> None:
        """As on Lambda, the invocation ends at its deadline, whatever the function does."""
        self.write({"error": f"Task timed out after {seconds:.2f} seconds"})
        os._exit(1)


def _print_traceback(exc: BaseException, root: Path) -> None:
    """The traceback from the zip's first frame on (not this file's, nor importlib's)."""
    tb = exc.__traceback__
    while tb is not None and not Path(tb.tb_frame.f_code.co_filename).is_relative_to(root):
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb or exc.__traceback__)


def _importer(exc: BaseException, root: Path) -> str:
    """`` (imported by app/service.py line 3)``: the zip's file whose import failed."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if path.is_relative_to(root):
            return f" (imported by {path.relative_to(root).as_posix()} line {frame.lineno})"
    return ""


def _load(root: Path, spec: str, zip_name: str) -> Callable[..., Any] | str:
    """The handler named ``module.attribute`` (or ``module:attribute``), or why not."""
    module_name, sep, attr = spec.partition(":")
    if not sep:
        module_name, _, attr = spec.rpartition(".")
    module_name = module_name.replace("/", ".")  # Lambda also takes app/main.handler
    if not module_name or not attr:
        return f"{spec!r} is not module.attribute (Lambda's handler setting: app.main.handler)"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or str(exc)
        where = f"Unable to import module {module_name!r}: No module named {missing!r}"
        if module_name == missing or module_name.startswith(f"{missing}."):
            return (
                f"{where}: {zip_name} has no {module_name.replace('.', '/')}.py (or package): "
                "the handler's module is named from the zip's root"
            )
        hint = f"{where}{_importer(exc, root)}: {zip_name} does not contain it"
        if missing.partition(".")[0] in _RUNTIME_PROVIDED:
            return (
                f"{hint}. Lambda's runtime provides {missing.partition('.')[0]} itself, at a "
                "version of its choosing: add it to your requirements to test it here"
            )
        return f"{hint}: add what provides it to your requirements, then build again"
    except Exception as exc:  # the user's module failed as it loaded: its traceback helps
        _print_traceback(exc, root)
        return f"Unable to import module {module_name!r}: {type(exc).__name__}: {exc}"
    handler = getattr(module, attr, None)
    if not callable(handler):
        return f"Handler {attr!r} missing on module {module_name!r}"
    return handler  # type: ignore[no-any-return]


def _run(
    root: Path, spec: str, remaining_ms: int, zip_name: str, outcome: _Outcome
) -> dict[str, Any]:
    event = json.loads(sys.stdin.read())
    handler = _load(root, spec, zip_name)
    if isinstance(handler, str):
        return {"error": handler}
    timer = threading.Timer(remaining_ms / 1000, outcome.time_out, (remaining_ms / 1000,))
    timer.daemon = True
    timer.start()
    try:
        response = handler(event, LocalContext(remaining_ms))
    except Exception as exc:
        _print_traceback(exc, root)
        return {"error": f"the handler raised {type(exc).__name__}: {exc}"}
    finally:
        timer.cancel()
        stop = getattr(handler, "stop", None)
        if callable(stop):
            stop()
    return {"response": response}


def main(argv: list[str]) -> int:
    """``argv``: task root, handler, remaining milliseconds, the zip's name for messages."""
    root, spec, remaining_ms, zip_name = Path(argv[0]), argv[1], int(argv[2]), argv[3]
    # The response's own channel; the function's output, even a C library's, goes to stderr.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.path.insert(0, str(root))
    outcome = _Outcome(out)
    return 0 if outcome.write(_run(root, spec, remaining_ms, zip_name, outcome)) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
