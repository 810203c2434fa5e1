"""Where one Lambda invocation's time goes, stage by stage, in situ and alone.

    python -m bench.stages [--call echo] [--kind v2] [--contender grpcgw] [--cpu 0|all]

Loops the ``serve_lambda`` handler of scenario 1 in this process and times
each stage of every invocation (wall time) with a wrapper: event -> request,
routing, headers -> metadata, request transcoding, the gRPC call, response
transcoding, response -> event; "the rest" is the invocation less those.
Slice by slice, it also replays each stage's last arguments back to back, the
way a micro-benchmark (scenario 5) runs it. The two columns differ: inside an
invocation a stage runs once, after a gRPC round trip whose threads have
taken its code and data out of the CPU's caches, and on one CPU the server's
threads, finishing the call, share the CPU with it. The ratio says how far a
tight-loop figure understates a stage's cost in a real invocation. Each
wrapper adds about 0.3 µs to the stage it times. Needs no py-spy.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import statistics
import sys
import time
from typing import Any

from bench.harness import pinner

#: (label, where the callable lives, its attribute name); "<source>" is the event
#: source class of the case's event, "<gateway>" the handler's Gateway instance.
STAGES: list[tuple[str, str, str]] = [
    ("Lambda event -> HttpRequest", "grpcgw.awslambda.handler", "detect"),
    ("Lambda event -> HttpRequest", "<source>", "request"),
    ("routing", "<gateway>", "match"),
    ("headers -> metadata, deadline", "grpcgw.driver:Driver", "_call_metadata"),
    ("request JSON -> message", "grpcgw.transcode:RequestTranscoder", "transcode"),
    ("gRPC call (blocking channel)", "grpcgw.channel:BlockingInvoker", "unary"),
    ("message -> response JSON", "grpcgw.transcode:ResponseTranscoder", "render"),
    ("HttpResponse -> Lambda response", "<source>", "response"),
]
#: Direct dispatch calls the servicer in process instead of over the channel.
DIRECT_CALL = ("servicer call (direct dispatch)", "grpcgw.dispatch._invoker:DirectInvoker", "unary")


def stages_for(contender: str) -> list[tuple[str, str, str]]:
    """The stages timed for ``contender`` (direct dispatch has no channel)."""
    if contender != "grpcgw-direct":
        return STAGES
    return [
        DIRECT_CALL if where == "grpcgw.channel:BlockingInvoker" else (label, where, name)
        for label, where, name in STAGES
    ]


class _Stage:
    """Times one callable wherever it is looked up, and keeps its last arguments."""

    def __init__(self, label: str, owner: Any, name: str, spent: dict[str, float]) -> None:
        self.label, self.owner, self.name = label, owner, name
        self.original: Any = getattr(owner, name)
        # Restored as found: put back where it was the owner's own, else removed
        # (an instance attribute over its class's method, a subclass's over its base's).
        self.own = name in vars(owner)
        self.last: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        original, clock = self.original, time.perf_counter

        if inspect.iscoroutinefunction(original):

            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                start = clock()
                try:
                    return await original(*args, **kwargs)
                finally:
                    spent[label] += clock() - start
                    self.last = (args, kwargs)

            setattr(owner, name, timed_async)
        else:

            def timed(*args: Any, **kwargs: Any) -> Any:
                start = clock()
                try:
                    return original(*args, **kwargs)
                finally:
                    spent[label] += clock() - start
                    self.last = (args, kwargs)

            setattr(owner, name, timed)

    def restore(self) -> None:
        if self.own:
            setattr(self.owner, self.name, self.original)
        else:
            delattr(self.owner, self.name)

    def replay(self, n: int) -> list[float]:
        """The stage alone: its last call made ``n`` times back to back (seconds each)."""
        from grpcgw.channel import run_blocking

        assert self.last is not None, f"{self.label} was never called"
        args, kwargs = self.last
        fn, clock, times = self.original, time.perf_counter, []
        coroutine = inspect.iscoroutinefunction(fn)
        for _ in range(n):
            start = clock()
            result = fn(*args, **kwargs)
            if coroutine:
                run_blocking(result)
            times.append(clock() - start)
        return times


def _owner(where: str, handler: Any, event: Any) -> Any:
    if where == "<gateway>":
        return handler.gateway
    if where == "<source>":
        from grpcgw.awslambda.events import detect

        return type(detect(event, handler._event_options))
    module, _, cls = where.partition(":")
    owner = importlib.import_module(module)
    return getattr(owner, cls) if cls else owner


def measure(
    contender: str, call: str, kind: str, slices: int, size: int
) -> list[tuple[str, float, float]]:
    """(stage, µs in situ, µs alone) rows, "the rest" and the whole invocation last.

    In and alone take turns slice by slice (``size`` invocations, then ``size``
    replays of each stage), so a burst of noise on a shared machine lands on
    both; a figure is the median of its slice medians.
    """
    from bench.events import Context, event
    from bench.lambda_worker import MODULES

    handler = importlib.import_module(MODULES[contender]).handler
    ev, ctx = event(call, kind), Context()
    timed = stages_for(contender)
    labels = list(dict.fromkeys(label for label, _, _ in timed))
    spent = dict.fromkeys(labels, 0.0)
    rest, whole = "the rest (handler, dispatch glue)", "whole invocation"
    situ: dict[str, list[float]] = {label: [] for label in [*labels, rest, whole]}
    alone: dict[str, list[float]] = {label: [] for label in labels}
    clock, median = time.perf_counter, statistics.median
    for _ in range(size):  # warm-up: every cache built, every code path compiled
        handler(ev, ctx)
    for _ in range(slices):
        stages = [_Stage(label, _owner(w, handler, ev), name, spent) for label, w, name in timed]
        times: dict[str, list[float]] = {label: [] for label in situ}
        try:
            for _ in range(size):
                for label in labels:
                    spent[label] = 0.0
                start = clock()
                reply = handler(ev, ctx)
                elapsed = clock() - start
                if reply["statusCode"] != 200:
                    raise SystemExit(f"the handler answered {reply['statusCode']}: {reply['body']}")
                for label in labels:
                    times[label].append(spent[label])
                times[rest].append(elapsed - sum(spent.values()))
                times[whole].append(elapsed)
        finally:
            for stage in stages:
                stage.restore()
        for label, values in times.items():
            situ[label].append(median(values))
        replays: dict[str, list[float]] = {}
        for stage in stages:  # a label's stages (detect + request) add up, call by call
            replayed = stage.replay(size)
            before = replays.get(stage.label, [0.0] * size)
            replays[stage.label] = [a + b for a, b in zip(before, replayed, strict=True)]
        for label, values in replays.items():
            alone[label].append(median(values))
    rows = [(label, median(situ[label]) * 1e6, median(alone[label]) * 1e6) for label in labels]
    nan = float("nan")
    rows += [(rest, median(situ[rest]) * 1e6, nan), (whole, median(situ[whole]) * 1e6, nan)]
    return rows


def render(rows: list[tuple[str, float, float]], title: str) -> str:
    lines = [title, f"  {'stage':36} {'in situ':>9} {'alone':>9} {'ratio':>6}"]
    for label, situ, alone in rows:
        if alone == alone:  # not NaN
            lines.append(f"  {label:36} {situ:7.1f}µs {alone:7.1f}µs {situ / alone:5.1f}x")
        else:
            lines.append(f"  {label:36} {situ:7.1f}µs")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.stages",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--call", default="echo", choices=["ping", "echo"])
    parser.add_argument("--kind", default="v2", choices=["v2", "v1"])
    parser.add_argument(
        "--contender", default="grpcgw", choices=["grpcgw", "grpcgw-plain", "grpcgw-direct"]
    )
    parser.add_argument(
        "--cpu",
        default="0",
        help="pin the process to this CPU (scenario 1's '1 CPU' case), or 'all'",
    )
    parser.add_argument("--slices", type=int, default=12, help="slices of each (in situ, alone)")
    parser.add_argument("--size", type=int, default=250, help="invocations (replays) per slice")
    args = parser.parse_args(argv)
    pin = None if args.cpu == "all" else pinner(int(args.cpu))
    if pin is not None:  # before anything starts a thread: gRPC's threads inherit it
        pin()
    cpus = "all CPUs" if args.cpu == "all" else f"CPU {args.cpu}"
    title = (
        f"Lambda warm, {args.contender}, {args.call} {args.kind}, {cpus}: "
        f"median of {args.slices} slice medians of {args.size}"
    )
    rows = measure(args.contender, args.call, args.kind, args.slices, args.size)
    print(render(rows, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
