"""What the gateway writes, it reads back; what it cannot write is its JSON 500.

Two findings of the OpenAPI checks (schemathesis), kept as regressions:

- an echoed ``google.protobuf.FieldMask`` whose path has no lowerCamel form
  (``field_2``: proto3 JSON cannot write it) must answer the gateway's JSON
  ``500 INTERNAL``, over HTTP, for HEAD and on Lambda, like any reply that
  cannot be rendered, never aiohttp's ``text/plain`` 500;
- the reply writer writes float32's largest value as ``3.4028235e+38`` (its
  shortest float32 text, as Go's protojson and json_format write it), which
  is above FLT_MAX as a double: the readers (JSON body, query) must take it as
  FLT_MAX, as Go's ``ParseFloat(s, 32)`` does (json_format refuses it). Every
  float32 the writer writes reads back as the same float32.
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from grpcgwtest.openapi.v1 import echo_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grpcgw import GatewayOptions, LambdaOptions, serve_lambda, start_local
from grpcgw.openapi import compile_routes
from grpcgw.transcode import RequestTranscoder

from . import lambda_http
from .openapi_echo import EchoServicer

settings.register_profile(
    "roundtrip-ci", max_examples=200, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "roundtrip-fuzz", max_examples=20000, deadline=None, suppress_health_check=list(HealthCheck)
)
PROFILE = settings.get_profile(f"roundtrip-{os.environ.get('HYPOTHESIS_PROFILE', 'ci')}")

FLT_MAX = float.fromhex("0x1.fffffep+127")
FLT_TRUE_MIN = float.fromhex("0x1p-149")
FLT_MIN = float.fromhex("0x1p-126")


class MaskEcho(EchoServicer):
    """Answers Query with exactly what it was sent, the field mask included."""

    async def Query(self, request: echo_pb2.Scalars, context: Any) -> echo_pb2.Scalars:
        return request


def _status(body: bytes) -> dict[str, Any]:
    status: dict[str, Any] = json.loads(body)
    assert set(status) == {"code", "message", "details"}
    return status


# -- (a) an echoed FieldMask that proto3 JSON cannot write ------------------------------------


async def test_unwritable_field_mask_is_a_json_500_over_http() -> None:
    async with (
        await start_local(
            MaskEcho(), http_address="127.0.0.1:0", grpc_address="127.0.0.1:0"
        ) as local,
        aiohttp.ClientSession() as session,
    ):
        base = f"http://127.0.0.1:{local.http_port}/v1/scalars"
        async with session.get(base + "?mask=field_2") as resp:
            assert resp.status == 500
            assert resp.headers["Content-Type"] == "application/json"
            status = _status(await resp.read())
            assert status["code"] == 13
            assert "field_2" not in status["message"]  # the detail is the log's
        async with session.head(base + "?mask=field_2") as resp:
            assert resp.status == 500
            assert resp.headers["Content-Type"] == "application/json"
        # A path that does round trip is echoed as written.
        async with session.get(base + "?mask=foo_bar,a.b_c") as resp:
            assert resp.status == 200
            assert (await resp.json())["mask"] == "fooBar,a.bC"


def test_unwritable_field_mask_is_a_json_500_on_lambda(sock_dir: Path) -> None:
    handler = serve_lambda(MaskEcho(), lambda_options=LambdaOptions(socket_dir=str(sock_dir)))
    try:
        resp = handler(lambda_http.http_api_event("GET", "/v1/scalars", "mask=field_2"))
    finally:
        handler.stop()
    assert resp["statusCode"] == 500
    assert resp["headers"]["Content-Type"] == "application/json"
    assert _status(resp["body"].encode())["code"] == 13


# -- (b) float32: the readers take what the writer writes --------------------------------------


def _writer() -> Any:
    """The gateway's reply writer for Scalars (GET /v1/scalars)."""
    [route] = [r for r in compile_routes([EchoServicer()]) if r.rpc.endswith("/Query")]
    return route.response


def _body_reader(strict: bool) -> RequestTranscoder:
    """The gateway's JSON body reader for Scalars (as a ``body: "*"`` binding reads it)."""
    return RequestTranscoder(
        echo_pb2.Scalars, path_fields=[], body="*", options=GatewayOptions(strict=strict)
    )


def _query_reader() -> RequestTranscoder:
    return RequestTranscoder(echo_pb2.Scalars, path_fields=[], body="", options=GatewayOptions())


def _round_trip(value: float) -> None:
    reply = echo_pb2.Scalars(f=value)
    body, _ = _writer().render(reply)
    written = json.loads(body)["f"]
    for strict in (False, True):
        read = _body_reader(strict).transcode({}, "", body, "application/json")
        assert struct.pack("<f", read.f) == struct.pack("<f", reply.f), (value, body)
    # The same number as a JSON string, and in the query.
    text = repr(written) if isinstance(written, float) else str(written)
    as_string = json.dumps({"f": text}).encode()
    assert _body_reader(True).transcode({}, "", as_string, "application/json").f == reply.f or (
        math.isnan(reply.f)
    )
    queried = _query_reader().transcode({}, "f=" + quote(text), b"", "")
    assert queried.f == reply.f or math.isnan(reply.f)


@pytest.mark.parametrize(
    "value",
    [FLT_MAX, -FLT_MAX, FLT_MIN, FLT_TRUE_MIN, -FLT_TRUE_MIN, 0.1, 1 / 3, 16777217.0, 0.0, -0.0],
)
def test_float32_edges_read_back_as_written(value: float) -> None:
    _round_trip(value)


def test_float32_max_is_written_as_go_writes_it_and_read_back() -> None:
    body, _ = _writer().render(echo_pb2.Scalars(f=FLT_MAX))
    assert b'"f":3.4028235e+38' in body
    for text in (b"3.4028235e+38", b"3.4028235e38", b'"3.4028235e38"', b"-3.4028235e38"):
        read = _body_reader(True).transcode({}, "", b'{"f":' + text + b"}", "application/json")
        assert abs(read.f) == FLT_MAX, text
    # Beyond what rounds to FLT_MAX (half an ulp above it): refused, as Go refuses it.
    with pytest.raises(ValueError, match="f"):
        _body_reader(True).transcode({}, "", b'{"f":3.4028236e38}', "application/json")


@settings(PROFILE)
@given(st.floats(width=32, allow_nan=False, allow_infinity=True))
def test_every_float32_reads_back_as_written(value: float) -> None:
    _round_trip(value)


async def test_float32_max_over_http_is_read_back() -> None:
    """The reply of one request, sent back as the query of the next: the same value."""
    async with (
        await start_local(
            EchoServicer(), http_address="127.0.0.1:0", grpc_address="127.0.0.1:0"
        ) as local,
        aiohttp.ClientSession() as session,
    ):
        base = f"http://127.0.0.1:{local.http_port}/v1/scalars"
        async with session.get(base + "?f=" + quote(repr(FLT_MAX))) as resp:
            first = (await resp.json())["f"]
        async with session.get(base + "?f=" + quote(repr(first))) as resp:
            assert resp.status == 200
            assert (await resp.json())["f"] == first == 3.4028235e38
