"""Zip sizes and cold starts of ``grpcgw lambda-build`` output (on demand, never in the tests).

    python -m bench.lambda_zip              # 10 cold starts per case
    python -m bench.lambda_zip --rounds 3

1. Sizes: the ping example (built by the command docs/lambda.md shows) and the
   test project of tests/data/lambda-project, for x86_64 and arm64 (python3.12).
2. Cold starts: both built again for this machine's Python and architecture,
   unpacked, and run as the managed runtime runs a zip: ``python -S -m
   awslambdaric HANDLER`` with only the function and a stand-in for
   ``/var/runtime`` (awslambdaric) on the path, against the fake Runtime API of
   tests/lambda_runtime.py. Each round is a fresh process:

   - **init**: from just before the process starts to the fake Runtime API
     receiving the first ``GET /runtime/invocation/next`` (interpreter start,
     awslambdaric, importing the handler module: grpcio, protobuf, the gRPC
     server, the routes). Lambda's ``Init Duration`` covers the same span less
     the interpreter start;
   - **init CPU**: the CPU time the process (all its threads) had used by
     then, which other load on the machine inflates much less than the wall
     time;
   - **first**: from handing over the first event to receiving its response.

   Twice: as built by default (no bytecode: Lambda's /var/task is read-only,
   so every cold start compiles the modules it imports) and built with
   ``--compile`` (the zip carries checked hash-based pycs).

Prints a Markdown table of medians (and min-max).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import lambda_project  # noqa: E402
from tests.lambda_runtime import FakeRuntime  # noqa: E402

EXAMPLE_HANDLER = "examples.ping.lambda_function.handler"
EVENTS = ROOT / "tests" / "data" / "lambda-events"


def _example_argv(output: Path, *extra: str) -> list[str]:
    text = (ROOT / "docs" / "lambda.md").read_text("utf-8").replace("\\\n", " ")
    line = next(
        s.strip()
        for s in text.splitlines()
        if s.strip().startswith(f"grpcgw lambda-build {EXAMPLE_HANDLER}")
    )
    argv = shlex.split(line)
    argv[argv.index("-o") + 1] = str(output)
    return [sys.executable, "-m", "grpcgw", *argv[1:], *extra]


def _build(app: str, work: Path, output: Path, *extra: str) -> None:
    if app == "example":
        cmd, cwd = _example_argv(output, *extra), ROOT
    else:
        project = work / f"project-{output.stem}"
        if not project.exists():
            lambda_project.make_project(project)
        cmd = [
            sys.executable,
            "-m",
            "grpcgw",
            "lambda-build",
            lambda_project.HANDLER,
            "--requirements",
            "requirements.txt",
            *lambda_project.EXCLUDES,
            "-o",
            str(output),
            *extra,
        ]
        cwd = project
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"build failed: {' '.join(cmd)}\n{result.stderr}")


def _sizes(path: Path) -> tuple[float, float, int]:
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    return path.stat().st_size / 1e6, sum(i.file_size for i in infos) / 1e6, len(infos)


def _event(app: str) -> dict[str, object]:
    event: dict[str, object] = json.loads(
        (EVENTS / "apigw-http-v2-minimal-get.json").read_text("utf-8")
    )
    path = "/v1/ping" if app == "example" else "/v1/shelves/fiction/books/1"
    event["rawPath"] = path
    event["rawQueryString"] = ""
    event["requestContext"]["http"].update(method="GET", path=path)  # type: ignore[index]
    return event


def _cpu_ms(pid: int) -> float:
    """CPU time a process has used so far, all threads (Linux), in ms; NaN elsewhere."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
    except OSError:
        return float("nan")
    return total / 1e6


def _cold(
    task: Path, runtime: Path, handler: str, event: dict[str, object]
) -> tuple[float, float, float]:
    """(init ms, init CPU ms, first response ms) of one fresh process."""
    with FakeRuntime() as rt:
        t0 = time.perf_counter()
        proc = lambda_project.run_zip(task, runtime, rt, handler)
        try:
            rt.wait_for_next(60)
            t1 = time.perf_counter()
            cpu = _cpu_ms(proc.pid)
            inv = rt.invoke(event, timeout=60)
            t2 = time.perf_counter()
            if inv.kind != "response" or inv.payload.get("statusCode") != 200:
                raise SystemExit(f"wrong first response: {inv.payload}")
        finally:
            proc.stop()
    return (t1 - t0) * 1000, cpu, (t2 - t1) * 1000


def _stat(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    here_arch = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
    here_python = "{}.{}".format(*sys.version_info[:2])
    with tempfile.TemporaryDirectory(prefix="bench-lambda-zip-") as tmp:
        work = Path(tmp)
        print("| zip | architecture | zipped MB | unzipped MB | files |")
        print("| --- | --- | --- | --- | --- |")
        for app in ("example", "project"):
            for arch in ("x86_64", "arm64"):
                out = work / f"{app}-{arch}.zip"
                _build(app, work, out, "--arch", arch)
                zipped, unzipped, files = _sizes(out)
                print(f"| {app} | {arch} | {zipped:.1f} | {unzipped:.1f} | {files} |")
        for app in ("example", "project"):
            out = work / f"{app}-compiled.zip"
            _build(app, work, out, "--arch", here_arch, "--python", here_python, "--compile")
            zipped, unzipped, files = _sizes(out)
            print(
                f"| {app}, --compile (python{here_python}) | {here_arch} | {zipped:.1f} "
                f"| {unzipped:.1f} | {files} |"
            )
        runtime = lambda_project.runtime_dir(work / "var-runtime")
        print(
            f"\ncold starts, python{here_python} on {here_arch} ({os.cpu_count()} CPUs, "
            f"load {os.getloadavg()[0]:.1f}), {args.rounds} fresh processes each; ms\n"
        )
        print("| zip | bytecode | init | init CPU | first response |")
        print("| --- | --- | --- | --- | --- |")
        for app in ("example", "project"):
            handler = EXAMPLE_HANDLER if app == "example" else lambda_project.HANDLER
            for compiled in (False, True):
                out = work / f"{app}-here-{compiled}.zip"
                flags = ["--compile"] if compiled else []
                _build(app, work, out, "--arch", here_arch, "--python", here_python, *flags)
                task = work / f"task-{app}-{compiled}"
                lambda_project.unpack(out, task)
                _cold(task, runtime, handler, _event(app))  # untimed: the page cache
                runs = [_cold(task, runtime, handler, _event(app)) for _ in range(args.rounds)]
                label = "--compile" if compiled else "none (the default)"
                print(
                    f"| {app} | {label} | {_stat([r[0] for r in runs])} "
                    f"| {_stat([r[1] for r in runs])} | {_stat([r[2] for r in runs])} |"
                )
                shutil.rmtree(task)


if __name__ == "__main__":
    main()
