"""A testee for protobuf's conformance runner that reads and writes JSON with grpcgw.

The runner (``conformance_test_runner``, built by ``run.py``) starts this
program and sends it ``ConformanceRequest`` messages on stdin, each preceded by
its length (4 bytes, little-endian); it answers each with a
``ConformanceResponse`` on stdout. JSON goes through the gateway's own path:
a JSON payload is the body of a ``body: "*"`` request
(``RequestTranscoder``: grpcgw's JSON reader, number hooks and checks
included), and JSON output is a reply (``ResponseTranscoder`` with
``emit_unpopulated=False``, the proto3 JSON default). Binary and
text format are protobuf's own. ``JSON_IGNORE_UNKNOWN_PARSING_TEST`` runs the
gateway's default (unknown fields ignored); ``JSON_TEST`` its strict mode.

Run by ``run.py``, which generates ``conformance_pb2`` and the test messages.
"""

from __future__ import annotations

import struct
import sys
from typing import Any

import conformance_pb2  # type: ignore[import-not-found]
import test_messages_proto2_pb2  # type: ignore[import-not-found]
import test_messages_proto3_pb2  # type: ignore[import-not-found]
from google.protobuf import message, text_format

from grpcgw.options import GatewayOptions
from grpcgw.transcode import RequestTranscoder, ResponseTranscoder, TranscodeError

_TYPES: dict[str, Any] = {
    "protobuf_test_messages.proto3.TestAllTypesProto3": test_messages_proto3_pb2.TestAllTypesProto3,
    "protobuf_test_messages.proto2.TestAllTypesProto2": test_messages_proto2_pb2.TestAllTypesProto2,
}
_LENIENT = GatewayOptions()
_STRICT = GatewayOptions(strict=True)
#: The proto3 JSON defaults (the gateway's default also writes unset fields).
_WRITE = GatewayOptions(emit_unpopulated=False)
_readers: dict[tuple[str, bool], RequestTranscoder] = {}
_writers: dict[str, ResponseTranscoder] = {}


def _reader(cls: Any, strict: bool) -> RequestTranscoder:
    key = (cls.DESCRIPTOR.full_name, strict)
    found = _readers.get(key)
    if found is None:
        found = _readers[key] = RequestTranscoder(
            cls, path_fields=(), body="*", options=_STRICT if strict else _LENIENT
        )
    return found


def _writer(cls: Any) -> ResponseTranscoder:
    found = _writers.get(cls.DESCRIPTOR.full_name)
    if found is None:
        found = _writers[cls.DESCRIPTOR.full_name] = ResponseTranscoder(
            cls, response_body="", options=_WRITE
        )
    return found


def answer(request: Any) -> Any:
    response = conformance_pb2.ConformanceResponse()
    if request.message_type == "conformance.FailureSet":
        # The expected failures come from the runner's --failure_list file.
        response.protobuf_payload = conformance_pb2.FailureSet().SerializeToString()
        return response
    cls = _TYPES.get(request.message_type)
    if cls is None:
        response.skipped = f"unknown message type {request.message_type}"
        return response
    payload = request.WhichOneof("payload")
    try:
        if payload == "protobuf_payload":
            parsed = cls.FromString(request.protobuf_payload)
        elif payload == "json_payload":
            strict = request.test_category != conformance_pb2.JSON_IGNORE_UNKNOWN_PARSING_TEST
            parsed = _reader(cls, strict).transcode({}, "", request.json_payload.encode("utf-8"))
        elif payload == "text_payload":
            parsed = text_format.Parse(request.text_payload, cls())
        else:
            response.skipped = f"{payload} input is not supported"
            return response
    except (message.DecodeError, text_format.ParseError, TranscodeError) as e:
        response.parse_error = _text(str(e))
        return response
    output = request.requested_output_format
    try:
        if output == conformance_pb2.PROTOBUF:
            response.protobuf_payload = parsed.SerializeToString()
        elif output == conformance_pb2.JSON:
            response.json_payload = _writer(cls).transcode(parsed).decode("utf-8")
        elif output == conformance_pb2.TEXT_FORMAT:
            response.text_payload = text_format.MessageToString(
                parsed, print_unknown_fields=request.print_unknown_fields
            )
        else:
            response.skipped = "this output format is not supported"
    except Exception as e:  # json_format's SerializeToJsonError and the like
        response.serialize_error = _text(f"{type(e).__name__}: {e}")
    return response


def _text(message: str) -> str:
    """``message`` as protobuf can hold it: the error of a payload that carried a
    lone surrogate (a JSON "\\ud800" escape) quotes it, and UTF-8 cannot."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def main() -> int:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = stdin.read(4)
        if not head:
            return 0
        if len(head) != 4:
            raise SystemExit("truncated length from the runner")
        (size,) = struct.unpack("<I", head)
        request = conformance_pb2.ConformanceRequest.FromString(stdin.read(size))
        data = answer(request).SerializeToString()
        stdout.write(struct.pack("<I", len(data)) + data)
        stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
