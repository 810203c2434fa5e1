"""Where the time goes: sample a hot path with py-spy and sum the samples by component.

    python -m bench.profiling lambda    [--call echo] [--kind v2] [--contender grpcgw]
    python -m bench.profiling local     [--call echo] [--connections 16] [--contender serve-local]
    python -m bench.profiling transcode [--call echo] [--direction request]
    python -m bench.profiling analyze FILE   # a py-spy ``--format raw`` file

``lambda`` loops the Lambda handler in process (scenario 1), ``local`` samples
the gateway process while wrk loads it (scenario 3), ``transcode`` loops one
transcoder (scenario 5). Needs py-spy (``pip install py-spy``) and permission
to ptrace (root, or ``kernel.yama.ptrace_scope=0``). Native frames are
sampled too, so time in grpc's Cython core shows as gRPC, not as the caller.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable

#: How a stack is charged: to the innermost frame that matches one of these patterns
#: (walking from the leaf to the root), so time spent in a library that grpcgw
#: calls goes to that library, and time in grpcgw's own code to the grpcgw module.
IDLE = (
    r"^(epoll_wait|epoll_pwait|select|poll) \(|EpollSelector\.select",
    "idle: loop waiting in epoll",
)
RULES: list[tuple[str, str]] = [
    (r"_check_message_json|_check_field_json|_check_element_json", "grpcgw: JSON body pre-check"),
    (r"_reject_duplicate_keys", "grpcgw: duplicate-key hook of json.loads"),
    (r"^(_Parser\.\w+|ParseDict|Parse) \(protobuf/json_format", "json_format: JSON -> message"),
    (
        r"^(_Printer\.\w+|MessageToDict|MessageToJson) \(protobuf/json_format",
        "json_format: message -> dict",
    ),
    (r"protobuf/internal/well_known_types", "json_format: Timestamp (and other WKT) JSON"),
    (r"\(json/(decoder|scanner)|^loads \(json/", "json.loads"),
    (r"\(json/encoder|^dumps \(json/", "json.dumps"),
    (r"grpcgw/routing\.py|grpcgw/httprule\.py", "grpcgw: routing"),
    (r"grpcgw/metadata\.py", "grpcgw: headers <-> metadata"),
    (r"grpcgw/awslambda/events\.py", "grpcgw: Lambda event in/out"),
    (r"grpcgw/web\.py", "grpcgw: aiohttp adapter (web.py)"),
    (r"grpcgw/transcode\.py", "grpcgw: transcode glue"),
    (r"grpcgw/protojson(/|\.py)", "grpcgw: protojson codecs"),
    (r"grpcgw/", "grpcgw: gateway / handler / channel glue"),
    (r"bench/service\.py", "servicer"),
    (r"\(grpc/|cygrpc", "gRPC (grpc.aio + cygrpc core)"),
    (r"\(aiohttp/|_http_parser|_http_writer|multidict|yarl|propcache", "aiohttp (HTTP server)"),
    (r"\(mangum/|\(starlette/|\(fastapi/|\(anyio/", "ASGI (mangum/starlette)"),
    (r"gc_collect|gc_collect_main|collect_with_callback", "Python cyclic GC"),
    (r"\(asyncio/|_asynciomodule|selectors", "asyncio (loop, tasks, callbacks, socket I/O)"),
]
#: Charged only when no rule matches anywhere in the stack, in this order.
FALLBACKS = [
    (r"\(protobuf/|_message\.|upb", "protobuf (other)"),
]

#: Samples per second: low, because py-spy pauses the process for each (native) sample.
RATE = "100"

_COMPILED = [(re.compile(pattern), name) for pattern, name in RULES]
_FRAME_NAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def read_raw(path: str) -> list[tuple[list[str], int]]:
    """Stacks (root first) and counts from a py-spy ``--format raw`` file."""
    stacks = []
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if stack and count.isdigit():
                stacks.append((stack.split(";"), int(count)))
    return stacks


def _keep(frames: list[str]) -> list[str]:
    """The frames of a stack that belong to the measured work, not to the driver loop."""
    return [f for f in frames if "bench/profiling" not in f and "importlib" not in f]


def component(frames: list[str]) -> str:
    if re.search(IDLE[0], frames[-1]):
        return IDLE[1]
    for frame in reversed(frames):
        for pattern, name in _COMPILED:
            if pattern.search(frame):
                return name
    for fallback, name in FALLBACKS:
        if any(re.search(fallback, frame) for frame in frames):
            return name
    return "other"


def _func(frame: str) -> str:
    m = _FRAME_NAME.match(frame)
    if m is None:
        return frame
    return f"{m['func']} ({m['file']})"


def report(path: str, title: str) -> str:
    # Samples of the start-up (imports) are not the hot path.
    raw = [(frames, n) for frames, n in read_raw(path) if not _is_startup(frames)]
    stacks = [(kept, n) for frames, n in raw if (kept := _keep(frames))]
    total = sum(n for _, n in stacks)
    if not total:
        return f"{title}: no samples"
    by_component: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, n in stacks:
        by_component[component(frames)] += n
        python = [f for f in frames if not f.startswith("0x")]
        if python:
            leaf[_func(python[-1])] += n
        for name in {_func(f) for f in frames if "grpcgw/" in f}:
            inclusive[name] += n
    lines = [f"{title}: {total} samples", "  by component (share of the samples):"]
    lines += [f"    {n / total:6.1%}  {name}" for name, n in by_component.most_common()]
    lines.append("  grpcgw functions, inclusive (time in them and what they call):")
    lines += [f"    {n / total:6.1%}  {name}" for name, n in inclusive.most_common(15)]
    lines.append("  top functions, self (innermost frame, native ones included):")
    lines += [f"    {n / total:6.1%}  {name}" for name, n in leaf.most_common(15)]
    return "\n".join(lines)


def _is_startup(frames: list[str]) -> bool:
    return any("_find_and_load" in f or "exec_module" in f for f in frames)


# -- what gets sampled ------------------------------------------------------------------


def _loop(fn: Callable[[], object], seconds: float) -> None:
    for _ in range(300):
        fn()
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        fn()
        n += 1
    print(f"{n} calls, {seconds / n * 1e6:.0f} µs each (under the sampler)", file=sys.stderr)


def target_lambda(contender: str, call: str, kind: str, seconds: float) -> None:
    from bench.lambda_worker import Worker

    worker = Worker(contender)
    _loop(worker.invoker(call, kind), seconds)


def target_transcode(call: str, direction: str, seconds: float) -> None:
    from bench.scenarios.transcoding import cases

    _loop(cases()[f"{call} {direction}"]["grpcgw"], seconds)


def _pyspy() -> str:
    path = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(path):
        raise SystemExit("py-spy is not installed: pip install py-spy")
    return path


def record_command(args: list[str], seconds: float, out: str) -> None:
    from bench.harness import child_env

    subprocess.run(
        [
            *(_pyspy(), "record", "-r", RATE, "--native", "-f", "raw", "-o", out, "--"),
            *(sys.executable, "-m", "bench.profiling", "_target", *args, "--seconds", str(seconds)),
        ],
        check=True,
        env=child_env(),
        stdout=subprocess.DEVNULL,
    )


def record_local(contender: str, call: str, connections: int, seconds: float, out: str) -> None:
    """Sample the process of ``contender`` (scenario 3) while wrk loads it: the gateway
    process of ``grpcgw`` / ``aiohttp`` (pinned as the proxy part pins it), or the one
    process of ``serve-local`` / ``serve-local-direct`` (unpinned, as the whole-system
    part runs it)."""
    from bench.harness import Child, close_all
    from bench.loadgen import CALLS, find_wrk, lua_script
    from bench.scenarios import local_system
    from bench.scenarios.local_http import APP_ARGS, APPS, SUBJECT_CPU, WRK_CPU
    from bench.service import remove_socket

    wrk, why = find_wrk(install=True)
    if wrk is None:
        raise SystemExit(why)
    if contender not in (*APPS, "serve-local", "serve-local-direct"):
        raise SystemExit(f"local: no such contender {contender!r}")
    why = local_system.unavailable(contender, None, "")
    if why:
        raise SystemExit(why)
    socket = f"/tmp/gwbench-profile-{os.getpid()}.sock"
    children = []
    try:
        if contender in APPS:
            server = Child(["-m", "bench.apps.grpc_server", socket], cpu=WRK_CPU)
            children.append(server)
            app = Child(
                ["-m", APPS[contender], server.hello["target"], *APP_ARGS.get(contender, [])],
                cpu=SUBJECT_CPU,
            )
            children.append(app)
            port, pid = app.hello["port"], app.pid
        else:
            layout = local_system.start(contender, None, socket)
            children += layout.children
            port, pid = layout.port, layout.pids["gateway+servicer"]
        with tempfile.TemporaryDirectory() as tmp:
            script = lua_script(call, tmp)
            url = f"http://127.0.0.1:{port}{CALLS[call][1]}"
            duration = int(seconds) + 3
            load = subprocess.Popen(
                [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "-s", script, url],
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(1)
            subprocess.run(
                [
                    *(_pyspy(), "record", "-r", RATE, "--native", "-f", "raw", "-o", out),
                    *("--pid", str(pid), "-d", str(int(seconds))),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            wrk_out, _ = load.communicate(timeout=duration + 30)
            rps = re.search(r"Requests/sec:\s*(\S+)", wrk_out)
            print(f"wrk: {rps.group(1) if rps else '?'} req/s (under the sampler)", file=sys.stderr)
    finally:
        close_all(reversed(children))
        remove_socket(socket)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profiling")
    parser.add_argument("what", choices=["lambda", "local", "transcode", "analyze", "_target"])
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--call", default="echo", choices=["ping", "echo"])
    parser.add_argument("--kind", default="v2", choices=["v2", "v1"])
    parser.add_argument(
        "--contender",
        default="grpcgw",
        help="lambda: floor, grpcgw, grpcgw-direct, grpcgw-plain, mangum+starlette, "
        "mangum+fastapi; local: grpcgw, aiohttp, serve-local, serve-local-direct",
    )
    parser.add_argument("--direction", default="request", choices=["request", "response"])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--keep", metavar="PATH", help="keep the raw py-spy samples here")
    args = parser.parse_args(argv)

    if args.what == "_target":  # inside py-spy
        if args.rest == ["lambda"]:
            target_lambda(args.contender, args.call, args.kind, args.seconds)
        else:
            target_transcode(args.call, args.direction, args.seconds)
        return 0
    if args.what == "analyze":
        for path in args.rest:
            print(report(path, path))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or os.path.join(tmp, "samples.txt")
        if args.what == "lambda":
            title = f"Lambda warm, {args.contender}, {args.call} {args.kind}"
            record_command(
                ["lambda", "--contender", args.contender, "--call", args.call, "--kind", args.kind],
                args.seconds,
                out,
            )
        elif args.what == "transcode":
            title = f"transcoding, grpcgw, {args.call} {args.direction}"
            record_command(
                ["transcode", "--call", args.call, "--direction", args.direction], args.seconds, out
            )
        else:
            title = f"local HTTP, {args.contender} process, {args.call} c={args.connections}"
            record_local(args.contender, args.call, args.connections, args.seconds, out)
        print(report(out, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
