"""Pure pieces: the code table, Status bodies, header <-> metadata, targets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from grpcgw import metadata as metadata_mod
from grpcgw.channel import TargetError, parse_target
from grpcgw.errors import Code, GatewayError, details_from_status_bin, http_status, status_body
from grpcgw.metadata import (
    MetadataError,
    call_metadata,
    default_header_matcher,
    parse_grpc_timeout,
    response_headers,
)


def request_metadata(headers: Any, **kwargs: Any) -> list[tuple[str, str | bytes]]:
    """Just the metadata of :func:`call_metadata`."""
    return call_metadata(headers, **kwargs)[0]


# DESIGN.md's table, spelled out independently of errors.py.
TABLE = {
    "OK": 200, "CANCELLED": 499, "UNKNOWN": 500, "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504, "NOT_FOUND": 404, "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403, "RESOURCE_EXHAUSTED": 429, "FAILED_PRECONDITION": 400,
    "ABORTED": 409, "OUT_OF_RANGE": 400, "UNIMPLEMENTED": 501, "INTERNAL": 500,
    "UNAVAILABLE": 503, "DATA_LOSS": 500, "UNAUTHENTICATED": 401,
}  # fmt: skip


@pytest.mark.parametrize(("name", "status"), TABLE.items())
def test_code_to_http_status(name: str, status: int) -> None:
    assert http_status(Code[name]) == status
    assert GatewayError(Code[name], "x").http_status == status


def test_unknown_code_is_500() -> None:
    assert http_status(99) == 500


def test_status_body_shape() -> None:
    assert json.loads(status_body(Code.NOT_FOUND, "nö")) == {
        "code": 5,
        "message": "nö",
        "details": [],
    }
    err = GatewayError(Code.UNIMPLEMENTED, "no", http_status=405)
    assert (err.http_status, json.loads(err.body())["code"]) == (405, 12)


def test_details_from_status_bin() -> None:
    info = any_pb2.Any()
    info.Pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=2)))
    unknown = any_pb2.Any(type_url="type.googleapis.com/acme.Secret", value=b"\x01")
    raw = status_pb2.Status(code=8, details=[info, unknown]).SerializeToString()
    assert details_from_status_bin(raw) == [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"},
        {"@type": "type.googleapis.com/acme.Secret", "value": "AQ=="},
    ]
    assert details_from_status_bin(b"\xff\xff not a status") == []


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Authorization", "grpcgateway-authorization"),
        ("content-type", "grpcgateway-content-type"),
        ("Grpc-Metadata-Foo-Bar", "foo-bar"),
        ("grpc-metadata-x-bin", "x-bin"),
        ("X-Custom", None),
        ("Connection", None),
    ],
)
def test_default_header_matcher(header: str, key: str | None) -> None:
    assert default_header_matcher(header) == key


def test_request_metadata_drops_invalid_and_reserved_keys() -> None:
    md = request_metadata(
        [
            ("Grpc-Metadata-Bad Key", "x"),
            ("Grpc-Metadata-grpc-status", "0"),
            ("Grpc-Metadata-te", "trailers"),
            ("Grpc-Metadata-ok", "1"),
        ]
    )
    assert md == [("ok", "1")]


def test_call_metadata_takes_the_shortest_grpc_timeout_in_the_same_pass() -> None:
    md, timeout = call_metadata(
        [("Grpc-Timeout", "5S"), ("Accept", "*/*"), ("grpc-timeout", "200m")],
        remote_addr="10.0.0.1",
    )
    assert timeout == pytest.approx(0.2)
    assert md == [("grpcgateway-accept", "*/*"), ("x-forwarded-for", "10.0.0.1")]
    assert call_metadata([("Accept", "*/*")])[1] is None
    with pytest.raises(MetadataError, match="Grpc-Timeout"):
        call_metadata([("Grpc-Timeout", "soon")])
    assert call_metadata([("Grpc-Timeout", "99999999H")])[1] == metadata_mod.MAX_TIMEOUT


@pytest.mark.parametrize(
    "headers",
    [
        [("Grpc-Metadata-Note", "caf\u00e9")],
        [("Accept", "text/\x7fhtml")],
        [("Authorization", "Bearer a\r\nb")],
        [("Host", "h\u00f4te.example")],
        [("X-Forwarded-For", "1.2.3.4\x00")],
    ],
)
def test_forwarded_values_must_be_printable_ascii(headers: list[tuple[str, str]]) -> None:
    with pytest.raises(MetadataError, match="printable ASCII"):
        call_metadata(headers)


def test_text_values_are_exactly_printable_ascii() -> None:
    for code in (*range(0x80), 0xA0, 0xE9, 0x2028, 0xFEFF, 0x1F600):
        value = f"a{chr(code)}b"
        if 0x20 <= code <= 0x7E:
            assert request_metadata([("Accept", value)]) == [("grpcgateway-accept", value)]
        else:
            with pytest.raises(MetadataError, match="printable ASCII"):
                request_metadata([("Accept", value)])


def test_header_rules_cache_is_bounded_and_only_for_the_default_matcher() -> None:
    # Header names come from clients: a flood of new ones must not grow memory.
    for i in range(metadata_mod._MAX_CACHED_RULES + 50):
        request_metadata([(f"X-Junk-{i}", "v"), ("Grpc-Metadata-Kept", "1")])
    assert len(metadata_mod._DEFAULT_RULES) <= metadata_mod._MAX_CACHED_RULES
    # Cached or not, the answer is the matcher's.
    assert request_metadata([("Grpc-Metadata-Kept", "1")]) == [("kept", "1")]
    assert request_metadata([("X-Junk-7", "v")]) == []
    seen: list[str] = []

    def custom(name: str) -> str | None:
        seen.append(name)
        return None

    request_metadata([("Accept", "a")], matcher=custom)
    request_metadata([("Accept", "a")], matcher=custom)
    assert seen == ["Accept", "Accept"]  # asked every time: a custom matcher is not cached


def test_host_is_forwarded_only_as_x_forwarded_host() -> None:
    # grpc-gateway never sees Host among the headers (Go's HTTP server takes it out),
    # so no grpcgateway-host, and a matcher is never asked about it.
    asked: list[str] = []

    def everything(name: str) -> str:
        asked.append(name)
        return "x-" + name.lower()

    headers = [("Host", "api.example.com"), ("Accept", "*/*")]
    assert request_metadata(headers) == [
        ("grpcgateway-accept", "*/*"),
        ("x-forwarded-host", "api.example.com"),
    ]
    assert request_metadata(headers, matcher=everything) == [
        ("x-accept", "*/*"),
        ("x-forwarded-host", "api.example.com"),
    ]
    assert asked == ["Accept"]
    # An X-Forwarded-Host the client sent wins over Host, wherever it comes.
    forwarded = [("X-Forwarded-Host", "public.example"), ("Host", "internal:8080")]
    assert request_metadata(forwarded) == [("x-forwarded-host", "public.example")]
    # A bad value is reported under the header the client sent.
    with pytest.raises(MetadataError, match="header Host "):
        request_metadata([("Host", "h\u00e9te")])


def test_repeated_forwarding_headers_as_grpc_gateway_reads_them() -> None:
    # Every X-Forwarded-For, in order, then the client's address; the first
    # X-Forwarded-Host (Go's Header.Get).
    headers = [
        ("X-Forwarded-For", "203.0.113.1"),
        ("X-Forwarded-Host", "first.example"),
        ("x-forwarded-for", "10.0.0.2, 10.0.0.3"),
        ("X-Forwarded-Host", "second.example"),
    ]
    assert request_metadata(headers, remote_addr="127.0.0.1") == [
        ("x-forwarded-host", "first.example"),
        ("x-forwarded-for", "203.0.113.1, 10.0.0.2, 10.0.0.3, 127.0.0.1"),
    ]


def test_custom_matcher_replaces_default() -> None:
    md = request_metadata(
        [("X-Tenant", "acme"), ("Accept", "*/*")],
        matcher=lambda h: h.lower() if h.lower().startswith("x-") else None,
    )
    assert md == [("x-tenant", "acme")]


def test_binary_metadata_decoding() -> None:
    assert request_metadata([("Grpc-Metadata-T-Bin", "AP8")]) == [("t-bin", b"\x00\xff")]
    assert request_metadata([("Grpc-Metadata-T-Bin", "_-8")]) == [("t-bin", b"\xff\xef")]
    with pytest.raises(MetadataError, match="Grpc-Metadata-T-Bin"):
        request_metadata([("Grpc-Metadata-T-Bin", "not base64!")])


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1H", 3600), ("2M", 120), ("5S", 5), ("100m", 0.1), ("7u", 7e-6), ("9n", 9e-9)],
)
def test_grpc_timeout(value: str, seconds: float) -> None:
    assert parse_grpc_timeout(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "5", "S", "1.5S", "123456789S", "5s", "-1S"])
def test_bad_grpc_timeout(value: str) -> None:
    with pytest.raises(MetadataError):
        parse_grpc_timeout(value)


def test_response_headers() -> None:
    headers, status = response_headers(
        [("x-http-code", "201"), ("a", "1"), ("b-bin", b"\x00")], [("t", "2")]
    )
    assert status == 201
    assert headers == [
        ("Grpc-Metadata-a", "1"),
        ("Grpc-Metadata-b-bin", "AA=="),
        ("Grpc-Trailer-t", "2"),
    ]
    assert response_headers([("x-http-code", "nope")], [])[1] is None
    assert response_headers([("x-http-code", "99")], [])[1] is None


@pytest.mark.parametrize(
    ("target", "dialed"),
    [
        ("unix:///tmp/app.sock", "unix:///tmp/app.sock"),
        ("unix:app.sock", "unix:app.sock"),
        ("/tmp/app.sock", "unix:///tmp/app.sock"),
        ("localhost:8081", "localhost:8081"),
        ("[::1]:8081", "[::1]:8081"),
        ("10.0.0.1:443", "10.0.0.1:443"),
        ("dns:///svc.internal:443", "dns:///svc.internal:443"),
    ],
)
def test_parse_target(target: str, dialed: str) -> None:
    assert parse_target(target) == dialed


@pytest.mark.parametrize(
    "target",
    ["", "localhost", "http://localhost:8081", "unix://", "host:port", "host:\u0668\u0660"],
)
def test_bad_targets(target: str) -> None:
    with pytest.raises(TargetError):
        parse_target(target)


@pytest.mark.parametrize(
    "address", ["127.0.0.1:\u0668\u0660", "[::]:\uff18\uff10", "host:65536", "host:", ":80"]
)
def test_listen_addresses_take_ascii_ports(address: str) -> None:
    from grpcgw.httpserver import split_address

    with pytest.raises(ValueError, match="is not host:port"):
        split_address(address)
    assert split_address("[::]:8080") == ("::", 8080)


@pytest.mark.parametrize(
    "key",
    [
        "x-apigateway-authorizer",
        "x-apigateway-request-id",
        "x-lambda-event-source",
        "x-lambda-request-id",
    ],
)
def test_no_header_sets_a_request_context_key(key: str) -> None:
    # The Lambda adapter sets these from the event; a header must not forge them,
    # through the default matcher or a custom one.
    headers = [(f"Grpc-Metadata-{key}", "forged"), ("X-Custom", "forged")]
    assert request_metadata(headers) == []
    assert request_metadata(headers, matcher=lambda name: key) == []
