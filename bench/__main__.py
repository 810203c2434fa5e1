"""``python -m bench``: run the benchmark scenarios and print one table and the goals.

    python -m bench                      # the full run (several minutes)
    python -m bench --quick              # a smoke run, under a minute
    python -m bench --only lambda-warm --only routing
    python -m bench --json results.json  # also write every figure as JSON
    python -m bench --only local-system --rounds 1 --seconds 2   # a tiny check of one part

Scenarios: lambda-warm, cold-start, local-http, routing, transcoding, memory
(or their numbers, 1-6); local-proxy and local-system are the two parts of
local-http alone. Never part of the test suite's pass/fail: the exit
status is 0 whatever the goals say, unless a scenario could not run
(or ``--strict`` is given and a goal is missed).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from typing import Any

from bench.config import Config
from bench.harness import Goal, Row, ScenarioResult, loadavg, machine, number

SCENARIOS = {
    "lambda-warm": "bench.scenarios.lambda_warm",
    "cold-start": "bench.scenarios.cold_start",
    "local-http": "bench.scenarios.local_http",
    "routing": "bench.scenarios.routing",
    "transcoding": "bench.scenarios.transcoding",
    "memory": "bench.scenarios.memory",
}
BY_NUMBER = {str(i): name for i, name in enumerate(SCENARIOS, 1)}
#: Parts of a scenario run alone: name -> (module, function).
PARTS = {
    "local-proxy": ("bench.scenarios.local_http", "run_proxy_only"),
    "local-system": ("bench.scenarios.local_http", "run_system_only"),
}


def _scenario(text: str) -> str:
    name = BY_NUMBER.get(text, text)
    if name not in SCENARIOS and name not in PARTS:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {text!r}; choose from {', '.join([*SCENARIOS, *PARTS])} or 1-6"
        )
    return name


def format_table(rows: list[Row]) -> str:
    """One table: scenario, case, contender, metric, median, spread, ratio to the baseline."""
    header = ("scenario", "case", "contender", "metric", "median", "spread", "vs base")
    lines: list[tuple[str, ...]] = [header]
    last: tuple[str, str] = ("", "")
    for row in rows:
        scenario = row.scenario if row.scenario != last[0] else ""
        case = row.case if (row.scenario, row.case) != last else ""
        last = (row.scenario, row.case)
        ratio = row.ratio
        lines.append(
            (
                scenario,
                case,
                row.contender,
                row.metric,
                f"{number(row.median, row.unit)} {row.unit}",
                row.spread_text(),
                "base" if row.is_base else "-" if ratio is None else f"{ratio:.2f}x",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {4, 5, 6}
    out = []
    for n, line in enumerate(lines):
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _sorted_rows(result: ScenarioResult) -> list[Row]:
    """Rows grouped by case, in the order the cases were first measured."""
    cases: dict[str, int] = {}
    for row in result.rows:
        cases.setdefault(row.case, len(cases))
    return sorted(result.rows, key=lambda row: cases[row.case])


def format_goals(goals: list[Goal]) -> str:
    marks = {True: "PASS", False: "MISS", None: "----"}
    return "\n".join(f"{marks[g.ok]}  {g.text}: {g.measured}" for g in goals)


def render(info: dict[str, str], rows: list[Row], goals: list[Goal], notes: list[str]) -> str:
    """The report: machine, the one table, the notes (imports), the goals."""
    parts = [
        "machine: " + ", ".join(f"{k} {v}" for k, v in info.items()),
        "median over rounds; spread = half the min-max range over rounds; "
        "vs base = median of the per-round ratios to the case's baseline contender",
        "",
        format_table(rows),
    ]
    if notes:
        parts += ["", "\n".join(notes)]
    parts += ["", "goals:", format_goals(goals)]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (< 1 minute)")
    parser.add_argument(
        "--only",
        action="append",
        type=_scenario,
        metavar="SCENARIO",
        help=f"run only this scenario (repeatable): {', '.join([*SCENARIOS, *PARTS])}, or 1-6",
    )
    parser.add_argument("--rounds", type=int, help="rounds per scenario (default: its own)")
    parser.add_argument(
        "--seconds", type=int, help="seconds per wrk run in local-http (default: its own)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write every figure to PATH as JSON")
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="never apt-get install what a scenario needs (wrk, Go grpc-gateway's packages)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a goal is missed (not for CI gating)"
    )
    parser.add_argument(
        "--report", metavar="PATH", help="measure nothing: print the report of a --json file"
    )
    args = parser.parse_args(argv)
    if args.report:
        with open(args.report) as f:
            saved = json.load(f)
        print(
            render(
                saved["machine"],
                [Row.from_dict(d) for d in saved["rows"]],
                [Goal(g["goal"], g["measured"], g["ok"]) for g in saved["goals"]],
                saved["notes"],
            )
        )
        return 0
    config = Config(
        quick=args.quick, rounds=args.rounds, install=not args.no_install, seconds=args.seconds
    )
    names = list(dict.fromkeys(args.only or SCENARIOS))

    info = machine()
    print(
        f"grpcgw benchmarks ({'quick' if args.quick else 'full'} run): "
        + ", ".join(f"{k} {v}" for k, v in info.items()),
        file=sys.stderr,
    )
    started = time.monotonic()
    results: dict[str, ScenarioResult] = {}
    failed: list[str] = []
    for name in names:
        print(f"{name} ...", file=sys.stderr)
        t0 = time.monotonic()
        try:
            module_name, function = PARTS.get(name, (SCENARIOS.get(name, ""), "run"))
            module = importlib.import_module(module_name)
            results[name] = getattr(module, function)(config)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            results[name] = ScenarioResult(
                goals=[Goal(f"{name}", "the scenario failed (traceback above)", False)]
            )
        print(f"{name}: {time.monotonic() - t0:.0f} s", file=sys.stderr)

    rows = [row for result in results.values() for row in _sorted_rows(result)]
    goals = [goal for result in results.values() for goal in result.goals]
    notes = [note for result in results.values() for note in result.notes]
    print()
    print(render(info, rows, goals, notes))
    print(f"\n({time.monotonic() - started:.0f} s; 1-minute load average at the end: {loadavg()})")
    if args.json:
        document: dict[str, Any] = {
            "machine": info,
            "quick": args.quick,
            "rows": [row.to_dict() for row in rows],
            "goals": [{"goal": g.text, "measured": g.measured, "ok": g.ok} for g in goals],
            "notes": notes,
        }
        with open(args.json, "w") as f:
            json.dump(document, f, indent=1, ensure_ascii=False)
    if failed:
        return 2
    if args.strict and any(g.ok is False for g in goals):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
