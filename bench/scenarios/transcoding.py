"""5. Transcoding micro: grpcgw's transcoders vs ``json_format`` called directly, per message.

- request: ``RequestTranscoder.transcode(bindings, query, body)`` vs
  ``json_format.Parse(body, Record(), ignore_unknown_fields=True)`` plus setting
  the path field (for ping: vs constructing the empty request);
- response: ``ResponseTranscoder.transcode(message)`` vs
  ``json.dumps(json_format.MessageToDict(message, ...))`` with grpcgw's default
  options (the bytes are checked to be equal).
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from collections.abc import Callable

from google.protobuf import json_format
from grpcgw.options import GatewayOptions
from grpcgw.transcode import RequestTranscoder, ResponseTranscoder

from bench.config import Config
from bench.harness import ScenarioResult, Table, rotated
from bench.service import ECHO_BODY, ECHO_NAME, PingRequest, PingResponse, Record, to_json

NAME = "transcoding"
TITLE = "5 transcoding"
CONTENDERS = ["json_format", "grpcgw"]


def cases() -> dict[str, dict[str, Callable[[], object]]]:
    options = GatewayOptions()
    body = json.dumps(ECHO_BODY, separators=(",", ":")).encode()
    echo_in = RequestTranscoder(Record, path_fields=["name"], body="*", options=options)
    echo_out = ResponseTranscoder(Record, response_body="", options=options)
    ping_in = RequestTranscoder(PingRequest, path_fields=[], body="", options=options)
    ping_out = ResponseTranscoder(PingResponse, response_body="", options=options)
    bindings = {"name": ECHO_NAME}
    record = echo_in.transcode(bindings, "", body)
    pong = PingResponse(message="Pong")

    def parse_direct() -> Record:
        message = json_format.Parse(body, Record(), ignore_unknown_fields=True)
        message.name = ECHO_NAME
        return message

    if parse_direct() != record:
        raise AssertionError("grpcgw and json_format read the echo body differently")
    if echo_out.transcode(record) != to_json(record) or ping_out.transcode(pong) != to_json(pong):
        raise AssertionError("grpcgw and json_format write different JSON")
    return {
        "echo request": {
            "json_format": parse_direct,
            "grpcgw": lambda: echo_in.transcode(bindings, "", body),
        },
        "echo response": {
            "json_format": lambda: to_json(record),
            "grpcgw": lambda: echo_out.transcode(record),
        },
        "ping request": {
            "json_format": PingRequest,
            "grpcgw": lambda: ping_in.transcode({}, "", b""),
        },
        "ping response": {
            "json_format": lambda: to_json(pong),
            "grpcgw": lambda: ping_out.transcode(pong),
        },
    }


def _per_call_us(fn: Callable[[], object], loops: int) -> float:
    batches = []
    for _ in range(5):
        t0 = time.perf_counter_ns()
        for _ in range(loops):
            fn()
        batches.append((time.perf_counter_ns() - t0) / loops / 1000)
    return statistics.median(batches)


def run(config: Config) -> ScenarioResult:
    rounds = config.r(5, 2)
    loops = config.n(2000, 100)
    result = ScenarioResult()
    table = Table(TITLE)
    work = cases()
    gc.collect()
    for r in range(rounds):
        print(f"  {NAME}: round {r + 1}/{rounds}", file=sys.stderr)
        for case, fns in work.items():
            for contender in rotated(CONTENDERS, r):
                table.add(case, contender, "µs/message", "µs", _per_call_us(fns[contender], loops))
    table.compute_ratios("json_format")
    result.rows = table.rows()
    return result
