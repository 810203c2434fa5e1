"""Compiled proto3 JSON codecs: ``google.protobuf.json_format``'s results, faster,
with Go protojson's strictness when reading.

``json_format`` is pure Python and walks descriptors for every value; here the
per-field work (name lookup, type dispatch, range checks) is worked out once per
message type and each message only runs precomputed converters, written out as
Python source for that type and compiled once (as ``dataclasses`` does): one
straight-line function per type that reads or sets each field by name, with the
common checks inline. The source holds only ``repr`` literals, numbers and
ASCII identifiers, never descriptor text as code. Two shapes keep per-field
paths instead: documents setting under a quarter of a type's fields are filled
key by key, and types of more than ``GENERATED_MAX_FIELDS`` fields (sparsely
set, as a rule) are encoded from upb's ``ListFields()``.

The parts, one idea each:

- :mod:`._decode`: JSON -> message. A *fast path* takes only the plain forms;
  anything else starts over on the *reference path*: :mod:`._check`, then
  ``json_format.ParseDict`` on the whole document (errors always come from it).
- :mod:`._check`: what Go's protojson (grpc-gateway's parser) rejects and
  json_format would take or misread, and what json_format rejects, rejected
  first with the field named by its path in the document (json_format's own
  messages name message types, not the JSON sent); the rules for text forms
  are in :mod:`._strict`.
- :mod:`._encode`: message -> JSON, field by field as json_format's printer,
  falling back to ``json_format.MessageToDict`` on anything unexpected; and
  message -> the compact JSON text of that (``Encoder.json_text``), written
  out per type where the encoder is.
- :mod:`._codecs`: :class:`Codecs`, the compiled codecs of one descriptor pool
  (``descriptor_pool=`` passed to every json_format call); :func:`encoder` and
  :func:`decoder` use the shared instance of the descriptor's pool.

Reading is json_format's, made as strict as Go's protojson: a value is accepted
only where both accept it, and then the message is what json_format makes.
Deliberate differences from ``json_format.ParseDict``, all as Go's protojson
(see docs/conformance-transcoding.md for the full list):

- a JSON value that is not an object where a message is expected is an error
  (``json_format`` with ``ignore_unknown_fields`` turns a string or an array
  into an empty message);
- an unknown enum name is an error even when unknown fields are ignored
  (``json_format`` and Go then silently leave the field unset);
- a ``[name]`` key naming no extension is an unknown field like any other,
  ignored with ``ignore_unknown_fields`` even on a message without extension
  ranges (``json_format`` refuses it there), and one naming another message's
  extension is an error either way (``json_format`` ignores it);
- integers, floats, base64, enum numbers, Timestamps, Durations, FieldMasks,
  map keys and ``Value`` numbers only in the forms Go accepts;
- a float32 value just above FLT_MAX that rounds to FLT_MAX (``3.4028235e38``,
  the shortest text of FLT_MAX) is taken as FLT_MAX (``json_format`` rejects it).

For numbers to be read exactly as Go reads them, parse the JSON with
``json.loads(text, parse_float=parse_json_float, parse_constant=reject_json_constant)``.

Pure: protobuf and the standard library only.
"""

from __future__ import annotations

from grpcgw.protojson._base import INT_RANGES, MAX_DEPTH, ProtoJSONError
from grpcgw.protojson._codecs import DEFAULT, Codecs, codecs_for, decoder, encoder
from grpcgw.protojson._decode import Decoder
from grpcgw.protojson._encode import GENERATED_MAX_FIELDS, Encoder, compact_json
from grpcgw.protojson._strict import parse_json_float, reject_json_constant
from grpcgw.protojson._times import timestamp_fast, timestamp_json

__all__ = [
    "DEFAULT",
    "GENERATED_MAX_FIELDS",
    "INT_RANGES",
    "MAX_DEPTH",
    "Codecs",
    "Decoder",
    "Encoder",
    "ProtoJSONError",
    "codecs_for",
    "compact_json",
    "decoder",
    "encoder",
    "parse_json_float",
    "reject_json_constant",
    "timestamp_fast",
    "timestamp_json",
]
