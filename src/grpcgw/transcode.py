"""HTTP request <-> protobuf message transcoding for one ``google.api.http`` binding.

A :class:`RequestTranscoder` turns the three parts of an HTTP request that an
``HttpRule`` maps (path variables, the query string and the JSON body) into the
request message; a :class:`ResponseTranscoder` turns the response message into
JSON bytes. Both are built once per binding, so everything that depends only on
the message type (field lookups, value converters, json_format options) is
worked out at construction and each request only does dictionary lookups.

The JSON mapping itself is ``google.protobuf.json_format`` (proto3 JSON), run
through :mod:`grpcgw.protojson`'s compiled codecs (which give the same results,
faster); this module adds the parts http.proto leaves to the gateway: typed parsing of path
and query strings, the query-key grammar, and which fields the body, the path
and the query may set. The decided behaviours are in ``DESIGN.md`` and
``docs/conformance-transcoding.md``.

Pure: protobuf and the standard library only (no grpc, no aiohttp).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, NamedTuple, cast
from urllib.parse import unquote_to_bytes

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from grpcgw import protojson
from grpcgw.binding import (
    HTTP_BODY,
    JSON_TEXT_WKTS,
    SCALAR_WKTS,
    WRAPPERS,
    BindingConfigError,
    BindingPlan,
    field_table,
    is_map,
    is_plain_message,
    message_type,
    no_field_message,
    type_label,
)
from grpcgw.lazyre import lazy_compile
from grpcgw.options import GatewayOptions

__all__ = [
    "HTTP_BODY",
    "BindingConfigError",
    "BindingPlan",
    "RequestTranscoder",
    "ResponseTranscoder",
    "TranscodeError",
]


class TranscodeError(ValueError):
    """The client sent a path, query or body that does not fit the request message.

    The gateway answers 400 INVALID_ARGUMENT with ``str(error)`` as the message,
    so the text always names the parameter or field at fault, and a
    ``google.rpc.BadRequest`` detail with a field violation for each of ``fields``.

    ``fields`` are the paths of the fields at fault in the request message, as
    the client named them: a query key as written (``page_size``, ``pageSize``,
    ``labels[k]``), a path variable as the template names it, a body key as
    written below the body field's JSON name (``book.title``,
    ``book.editions[0].year``). ``""`` stands for the request as a whole (JSON
    that does not parse, a ``body: "*"`` body that is not an object, a query
    key that does not decode); it is the only path when none is given.
    """

    def __init__(self, message: str, *fields: str) -> None:
        super().__init__(message)
        self.fields: tuple[str, ...] = fields or ("",)


# -- field kinds ---------------------------------------------------------------

_FD = FieldDescriptor
_OCTET_STREAM: Final = "application/octet-stream"
JSON_CONTENT_TYPE: Final = "application/json"

# The binding plan owns the descriptor helpers; the names stay short here.
_field_table = field_table
_message_type = message_type
_is_map = is_map
_is_plain_message = is_plain_message
_type_label = type_label
_JSON_TEXT_WKTS: Final = JSON_TEXT_WKTS
_SCALAR_WKTS: Final = SCALAR_WKTS
_WRAPPERS: Final = WRAPPERS


def clear_caches() -> None:
    """Forget the lookups cached per descriptor so far (each is rebuilt on next use).

    Transcoders keep what they were built with. The caches hold descriptors,
    and through them their pool: after a gateway's services are replaced
    (:meth:`grpcgw.Gateway.replace_services`), clearing them lets the old pool go.
    """
    field_table.cache_clear()
    _scalar_converter.cache_clear()
    _leaf.cache_clear()


def _descriptor(message_class: type[Message]) -> Descriptor:
    desc: Descriptor = message_class.DESCRIPTOR  # type: ignore[assignment]
    return desc


def _quote(text: str, limit: int = 64) -> str:
    """``text`` as a JSON string for error messages, shortened if long."""
    if len(text) > limit:
        text = text[:limit] + "…"
    return json.dumps(text, ensure_ascii=False)


# -- text -> value converters (path variables and query values) ---------------

_Converter = Callable[[str], Any]

_INT_RE: Final = lazy_compile(r"[+-]?[0-9]+")
_FLOAT_RE: Final = lazy_compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: proto3 JSON spellings, plus the ones Go's ParseFloat (grpc-gateway) and
#: protobuf's C++ converter (grpc-httpjson-transcoding) also take.
_FLOAT_SPECIALS: Final = {
    "nan": math.nan,
    "inf": math.inf,
    "+inf": math.inf,
    "-inf": -math.inf,
    "infinity": math.inf,
    "+infinity": math.inf,
    "-infinity": -math.inf,
}
#: Go's strconv.ParseBool (grpc-gateway); grpc-httpjson-transcoding accepts these too.
_BOOLS: Final = {
    **dict.fromkeys(("true", "True", "TRUE", "t", "T", "1"), True),
    **dict.fromkeys(("false", "False", "FALSE", "f", "F", "0"), False),
}
_URLSAFE_TO_STD: Final = str.maketrans("-_", "+/")


def _int_converter(low: int, high: int) -> _Converter:

    def convert(text: str) -> int:
        if _INT_RE.fullmatch(text) is None:
            raise ValueError("not an integer")
        # The length check keeps int() away from huge digit strings.
        if len(text) > 24 or not low <= (number := int(text)) <= high:
            raise ValueError("out of range")
        return number

    return convert


def _parse_float(text: str) -> float:
    special = _FLOAT_SPECIALS.get(text.lower())
    if special is not None:
        return special
    if _FLOAT_RE.fullmatch(text) is None:
        raise ValueError("not a number")
    number = float(text)
    if math.isinf(number):
        raise ValueError("out of range")
    return number


def _parse_float32(text: str) -> float:
    number = _parse_float(text)
    try:
        struct.pack("<f", number)  # raises for finite values beyond float32
    except OverflowError:
        raise ValueError("out of range") from None
    return number


def _parse_bool(text: str) -> bool:
    try:
        return _BOOLS[text]
    except KeyError:
        raise ValueError('expected "true" or "false"') from None


def _parse_bytes(text: str) -> bytes:
    """Standard or URL-safe base64, padding optional."""
    data = text.translate(_URLSAFE_TO_STD)
    data += "=" * (-len(data) % 4)
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None


def _enum_converter(enum: EnumDescriptor) -> _Converter:
    by_name = {value.name: value.number for value in enum.values}
    numbers = frozenset(by_name.values())

    def convert(text: str) -> int:
        number = by_name.get(text)
        if number is not None:
            return number
        # grpc-gateway also takes the number, but only of a declared value.
        if _INT_RE.fullmatch(text) and len(text) < 12 and int(text) in numbers:
            return int(text)
        raise ValueError(f"not a value of enum {enum.name}")

    return convert


_GO_DURATION_PART: Final = lazy_compile(r"([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)")
_GO_DURATION_UNITS: Final = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_UPPER: Final = lazy_compile(r"[A-Z]")
#: A FieldMask path in the query: dotted field names (proto or lowerCamel).
_MASK_PATH: Final = lazy_compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_MAX_DURATION_NANOS: Final = 315_576_000_000 * 1_000_000_000 + 999_999_999


def _parse_go_duration(text: str) -> int | None:
    """Nanoseconds of a Go duration (``13h0m0s``, ``1.5ms``), or ``None``.

    grpc-gateway reads Duration query values with Go's time.ParseDuration, so
    clients of it send this form; the proto3 JSON form (``"46800s"``) is a
    subset and is tried first.
    """
    if len(text) > 100:  # also keeps Fraction() away from huge digit strings
        return None
    sign, rest = (-1, text[1:]) if text[:1] == "-" else (1, text.removeprefix("+"))
    if rest == "0":
        return 0
    from fractions import Fraction  # here: a rare path, and fractions is slow to import

    total, pos = Fraction(0), 0
    while pos < len(rest) or pos == 0:
        part = _GO_DURATION_PART.match(rest, pos)
        if part is None or part.group(1) in ("", "."):
            return None
        total += Fraction(part.group(1)) * _GO_DURATION_UNITS[part.group(2)]
        pos = part.end()
    return sign * int(total)


def _wkt_converter(desc: Descriptor) -> _Converter | None:
    name = desc.full_name
    cls = message_factory.GetMessageClass(desc)
    if name in _WRAPPERS:
        inner = _scalar_converter(desc.fields_by_name["value"])
        # cast: the stubs type message classes as type[Message], whose __init__ takes no fields.
        return lambda text: cast(Any, cls)(value=inner(text))
    if name == "google.protobuf.FieldMask":

        def field_mask(text: str) -> Message:
            # Paths in proto names (``float_value``, as grpc-gateway takes them)
            # or in lowerCamel JSON names (``floatValue``, the proto3 JSON form).
            parts = [p for p in text.split(",") if p]
            for part in parts:
                if _MASK_PATH.fullmatch(part) is None:
                    raise ValueError(f"{_quote(part)} is not a field path")
            paths = [_UPPER.sub(lambda m: "_" + m[0].lower(), p) for p in parts]
            mask: Message = cast(Any, cls)(paths=paths)
            return mask

        return field_mask
    if name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
        is_duration = name.endswith("Duration")

        def time_value(text: str) -> Message:
            message = cls()
            if not is_duration and protojson.timestamp_fast(text, message):
                return message
            # protojson reads the text as strictly as a JSON body's (ASCII digits,
            # offsets within a day); json_format took any script's digits.
            try:
                protojson.decoder(desc).decode(text, message)
            except protojson.ProtoJSONError:
                message.Clear()
                if not is_duration:
                    raise ValueError("expected an RFC 3339 timestamp") from None
                nanos = _parse_go_duration(text)
                if nanos is None or abs(nanos) > _MAX_DURATION_NANOS:
                    raise ValueError('expected a duration like "1.5s"') from None
                message.FromNanoseconds(nanos)  # type: ignore[attr-defined]
            return message

        return time_value
    if name in _JSON_TEXT_WKTS:

        def json_text(text: str) -> Message:
            message = cls()
            try:  # as strictly as a JSON body: finite numbers only, no NaN
                protojson.decoder(desc).decode(_load_json(text), message)
            except (ValueError, RecursionError):  # ProtoJSONError is a ValueError
                raise ValueError(f"expected JSON text for {desc.name}") from None
            return message

        return json_text
    return None


@functools.cache
def _scalar_converter(field: FieldDescriptor) -> _Converter:
    """Converter for a non-message field (one element of it, if repeated)."""
    if field.enum_type is not None:
        return _enum_converter(field.enum_type)
    kind = field.type
    if kind in protojson.INT_RANGES:
        return _int_converter(*protojson.INT_RANGES[kind])
    if kind == _FD.TYPE_FLOAT:
        return _parse_float32
    if kind == _FD.TYPE_DOUBLE:
        return _parse_float
    if kind == _FD.TYPE_BOOL:
        return _parse_bool
    if kind == _FD.TYPE_BYTES:
        return _parse_bytes
    return _parse_string


def _parse_string(text: str) -> str:
    """A string field's value: any text UTF-8 can hold (not a lone surrogate,
    which a Lambda event's JSON can carry and protobuf cannot store)."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("not valid Unicode (a lone surrogate)") from None
    return text


class _Leaf(NamedTuple):
    """How to set one field from a string."""

    field: FieldDescriptor
    #: ``None`` for message types without a text form (the key is then an error).
    convert: _Converter | None
    label: str
    is_message: bool
    #: For map fields: the key converter (``convert`` is for the values).
    map_key: _Converter | None = None


@functools.cache
def _leaf(field: FieldDescriptor) -> _Leaf:
    if _is_map(field):
        entry = _message_type(field)
        key_field = entry.fields_by_name["key"]
        value = _leaf(entry.fields_by_name["value"])
        label = f"map<{_type_label(key_field)}, {value.label}>"
        return _Leaf(field, value.convert, label, value.is_message, _scalar_converter(key_field))
    if field.message_type is not None:
        return _Leaf(field, _wkt_converter(field.message_type), _type_label(field), True)
    return _Leaf(field, _scalar_converter(field), _type_label(field), False)


def _convert(leaf: _Leaf, convert: _Converter, text: str, where: str, field: str) -> Any:
    try:
        return convert(text)
    except ValueError as e:
        raise TranscodeError(
            f"invalid value {_quote(text)} for {where} ({leaf.label}): {e}", field
        ) from e


def _assign(target: Message, leaf: _Leaf, value: Any) -> None:
    name = leaf.field.name
    if leaf.field.is_repeated:
        container = getattr(target, name)
        if leaf.is_message:
            container.add().CopyFrom(value)
        else:
            container.append(value)
    elif leaf.is_message:
        sub = getattr(target, name)
        sub.SetInParent()  # an empty FieldMask or Struct is still present
        sub.CopyFrom(value)
    else:
        setattr(target, name, value)


# -- request ---------------------------------------------------------------------

_BAD_ESCAPE: Final = lazy_compile(r"%(?![0-9A-Fa-f]{2})")


class _DuplicateKey(ValueError):
    pass


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # As json_format.Parse does: a repeated key is an error, not last-wins.
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(f"duplicate key {_quote(key)}")
            seen.add(key)
    return result


# One decoder for every body: json.loads() with a hook builds a new one per call.
# Numbers are read as Go's protojson reads them (exact integers, no NaN/Infinity).
_JSON_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_reject_duplicate_keys,
    parse_float=protojson.parse_json_float,
    parse_constant=protojson.reject_json_constant,
)
_scan_once: Final = _JSON_DECODER.scan_once  # type: ignore[attr-defined]
_whitespace: Final = json.decoder.WHITESPACE.match  # type: ignore[attr-defined]
_JSON_SPACE: Final = frozenset(" \t\n\r")


def _load_json(text: str) -> Any:
    """``_JSON_DECODER.decode(text)`` (the same value, the same errors), without its
    two Python frames and, for a body with no whitespace around it, its two regex
    matches."""
    start = _whitespace(text, 0).end() if text[:1] in _JSON_SPACE else 0
    try:
        value, end = _scan_once(text, start)
    except StopIteration as err:
        raise json.JSONDecodeError("Expecting value", text, err.value) from None
    if end != len(text):
        end = _whitespace(text, end).end()
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    return value


class _PathBinding(NamedTuple):
    parents: tuple[FieldDescriptor, ...]
    leaf: _Leaf
    convert: _Converter


class RequestTranscoder:
    """Builds the request message of one HTTP binding from path bindings, query and body.

    ``path_fields`` are the dotted field paths the path template binds (proto
    or JSON names); ``body`` is the ``HttpRule.body``: ``""`` (no body), ``"*"``
    (the whole message) or a top-level field name. Raises
    :class:`BindingConfigError` if they do not fit ``message_class``.
    """

    __slots__ = (
        "_body_field",
        "_body_name",
        "_decoder",
        "_fill_mask",
        "_has_body",
        "_ignore_query",
        "_masked",
        "_message_class",
        "_paths",
        "_plan",
        "_plus_as_space",
        "_raw_body",
        "_required_body",
        "_required_query",
        "_root",
        "_strict",
    )

    def __init__(
        self,
        message_class: type[Message],
        *,
        path_fields: Sequence[str],
        body: str,
        options: GatewayOptions,
        fill_field_mask: bool = False,
    ) -> None:
        desc = _descriptor(message_class)
        plan = BindingPlan.build(
            desc, path_fields=path_fields, body=body, fill_field_mask=fill_field_mask
        )
        self._plan = plan
        self._message_class = message_class
        self._root = desc
        self._strict = options.strict
        self._decoder = protojson.decoder(desc, ignore_unknown_fields=not options.strict)
        self._plus_as_space = options.query_plus_as_space
        self._paths: dict[str, _PathBinding] = {}
        for bound in plan.path_fields:
            leaf = _leaf(bound.fields[-1])
            assert leaf.convert is not None  # the plan admits only fields with a text form
            self._paths[bound.key] = _PathBinding(bound.fields[:-1], leaf, leaf.convert)
        # Query keys equal to or below these canonical (proto name) paths are
        # skipped: http.proto gives each field to exactly one of path, body, query.
        self._masked = plan.masked
        self._has_body = plan.has_body
        self._ignore_query = not plan.reads_query
        self._body_field = plan.body_field
        #: What a field violation in the body is named below: the body field's
        #: JSON name (its proto name with ``use_proto_names``), as the gateway
        #: writes it; ``""`` when the body is the whole message.
        self._body_name = ""
        if plan.body_field is not None:
            field = plan.body_field
            self._body_name = field.name if options.use_proto_names else field.json_name
        self._raw_body = plan.raw_body
        self._fill_mask = plan.fill_mask
        # Strict mode refuses requests that lack a REQUIRED field the document requires.
        self._required_body = plan.required_body() if options.strict else None
        self._required_query = plan.required_query() if options.strict else ()

    @property
    def plan(self) -> BindingPlan:
        """Where each field of the request comes from (read by :mod:`grpcgw.openapi`)."""
        return self._plan

    @property
    def raw_body(self) -> bool:
        """Whether the request body is taken as raw bytes into a ``google.api.HttpBody``."""
        return self._raw_body

    def transcode(
        self, bindings: Mapping[str, str], query: str, body: bytes, content_type: str = ""
    ) -> Message:
        """The request message for one HTTP request.

        ``bindings`` maps each path field (as given to the constructor) to its
        decoded string; ``query`` is the raw query string without ``?``;
        ``body`` the raw request body and ``content_type`` its Content-Type
        (used for ``google.api.HttpBody``). Raises :class:`TranscodeError` for
        bad client input.
        """
        message = self._message_class()
        document: Any = None
        if self._raw_body:
            target: Any = message
            if self._body_field is not None:
                target = getattr(message, self._body_field.name)
            target.content_type = content_type or _OCTET_STREAM
            target.data = body
        elif body and self._has_body:
            document = self._merge_body(message, body, content_type)
            if self._fill_mask is not None:
                self._fill_field_mask(message, document)
            elif self._required_body is not None:
                self._check_required(self._required_body.missing(document))
        elif self._required_body is not None:
            self._check_required(self._required_body.missing(None, present=False))
        # Path values are set after the body, so they win over body values.
        for key, text in bindings.items():
            binding = self._paths.get(key)
            if binding is None:
                raise ValueError(f"binding {key!r} is not a path field of this transcoder")
            target = message
            for parent in binding.parents:
                target = getattr(target, parent.name)
            try:
                value = binding.convert(text)
            except ValueError:  # the message names the parameter: built only when needed
                value = _convert(
                    binding.leaf, binding.convert, text, f'path parameter "{key}"', key
                )
            if self._strict and body:
                _check_collision(target, binding.leaf, value, key)
            _assign(target, binding.leaf, value)
        if query and not self._ignore_query:
            seen = self._merge_query(message, query)
            if self._required_query:
                self._check_required_query(message, seen)
        elif self._required_query:
            self._check_required_query(message, set())
        if self._fill_mask is not None and self._required_body is not None and document is not None:
            # A partial update: only what the final mask (filled from the body's
            # keys, or given in the query) covers must be there (AIP-203).
            mask = getattr(message, self._fill_mask.name).paths
            self._check_required(self._required_body.missing_in_mask(document, mask))
        return message

    def _body_path(self, path: str) -> str:
        """A path within the body (as the JSON sent names it) as a path in the
        request message: below the body field, if the body is one."""
        name = self._body_name
        if not name:
            return path
        if not path:
            return name
        field = self._body_field
        assert field is not None
        # "[0]" into a repeated body field, "[key]" into a map; "." into a message
        # (whose "[pkg.ext]" keys name extensions).
        return name + path if path[0] == "[" and field.is_repeated else f"{name}.{path}"

    def _check_required(self, missing: str | None) -> None:
        if missing == "":
            raise TranscodeError("the request body is required", self._body_name)
        if missing is not None:
            raise TranscodeError(
                f'missing required field "{missing}" in the JSON body', self._body_path(missing)
            )

    def _check_required_query(self, message: Message, seen: set[str]) -> None:
        for required in self._required_query:
            if required.field.is_repeated:
                target: Any = message
                for parent in required.fields[:-1]:
                    target = getattr(target, parent.name)
                given = len(getattr(target, required.field.name)) > 0
            else:
                given = required.canonical in seen
            if not given:
                name = required.name()
                raise TranscodeError(f'missing required query parameter "{name}"', name)

    def _fill_field_mask(self, message: Message, document: object) -> None:
        assert self._fill_mask is not None
        assert self._body_field is not None
        mask = getattr(message, self._fill_mask.name)
        if mask.paths or not isinstance(document, dict):
            return  # given by the client (query or body), or nothing to derive it from
        body_type = self._body_field.message_type
        assert body_type is not None
        try:
            paths = _mask_paths(document, body_type, "")
        except TranscodeError as e:
            raise TranscodeError(str(e), *map(self._body_path, e.fields)) from None
        if paths:  # an empty object sets nothing: leave the mask absent, not empty
            mask.paths.extend(paths)

    # -- query --------------------------------------------------------------------

    def _unescape(self, text: str, field: str = "") -> str:
        if self._plus_as_space and "+" in text:
            text = text.replace("+", " ")
        if "%" not in text:
            return text
        if _BAD_ESCAPE.search(text):
            raise TranscodeError(f"malformed percent-escape in query string: {_quote(text)}", field)
        try:
            return unquote_to_bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise TranscodeError(
                f"query string is not UTF-8 after percent-decoding: {_quote(text)}", field
            ) from None
        except UnicodeEncodeError:  # a lone surrogate beside an escape (Lambda events)
            raise TranscodeError(
                "query string is not valid Unicode (a lone surrogate)", field
            ) from None

    def _merge_query(self, message: Message, query: str) -> set[str]:
        """Set the fields the query names; return the singular ones it set."""
        seen: set[str] = set()  # singular fields (and map entries) already set by the query
        for pair in query.split("&"):
            if pair:
                raw_key, _, raw_value = pair.partition("=")
                key = self._unescape(raw_key)  # a key that does not decode names no field
                self._set_query(message, key, self._unescape(raw_value, key), seen)
        return seen

    def _set_query(self, message: Message, key: str, text: str, seen: set[str]) -> None:
        path, map_key = key, None
        if key.endswith("]") and (open_at := key.find("[")) > 0:
            path, map_key = key[:open_at], key[open_at + 1 : -1]  # grpc-gateway's map[key]=v
        parts = path.split(".")
        target, desc, canonical = message, self._root, ""
        for i, part in enumerate(parts):
            found = _field_table(desc).get(part)
            if found is None:
                # `$`-prefixed keys are Google API system parameters (`$alt`,
                # `$fields`, ...), which Google's REST clients send: never fields.
                if self._strict and not key.startswith("$"):
                    raise TranscodeError(f'unknown query parameter "{key}"', key)
                return
            field = found
            canonical = f"{canonical}.{field.name}" if canonical else field.name
            if canonical in self._masked:
                return
            if i == len(parts) - 1:
                break
            if not _is_plain_message(field):
                raise TranscodeError(
                    f'invalid query parameter "{key}": "{canonical}" is not a message field', key
                )
            self._check_oneof(target, field, key)
            target, desc = getattr(target, field.name), _message_type(field)

        leaf = _leaf(field)
        where = f'query parameter "{key}"'
        if map_key is not None and leaf.map_key is None:
            raise TranscodeError(f'invalid {where}: "{canonical}" is not a map field', key)
        if leaf.convert is None:
            raise TranscodeError(
                f"invalid {where}: {leaf.label} is a message; set its fields as "
                f'"{path}.<field>=..."',
                key,
            )
        if leaf.map_key is not None:
            if map_key is None:
                raise TranscodeError(
                    f'invalid {where}: a map field takes "{path}[<key>]=<value>"', key
                )
            entry_key = _convert(leaf, leaf.map_key, map_key, f"the key of {where}", key)
            value = _convert(leaf, leaf.convert, text, where, key)
            entry = f"{canonical}[{entry_key!r}]"
            if entry in seen:
                raise TranscodeError(f"{where} given more than once", key)
            seen.add(entry)
            container = getattr(target, field.name)
            if leaf.is_message:
                container[entry_key].CopyFrom(value)
            else:
                container[entry_key] = value
            return
        value = _convert(leaf, leaf.convert, text, where, key)
        if not field.is_repeated:
            # A singular field given twice is an error rather than last-wins
            # (grpc-gateway: "too many values").
            if canonical in seen:
                raise TranscodeError(f"{where} given more than once", key)
            seen.add(canonical)
            self._check_oneof(target, field, key)
        _assign(target, leaf, value)

    @staticmethod
    def _check_oneof(target: Message, field: FieldDescriptor, key: str) -> None:
        oneof = field.containing_oneof
        if oneof is not None:
            current = target.WhichOneof(oneof.name)
            if current is not None and current != field.name:
                raise TranscodeError(
                    f'invalid query parameter "{key}": "{current}" of oneof "{oneof.name}" '
                    "is already set",
                    key,
                )

    # -- body -------------------------------------------------------------------------

    def _merge_body(self, message: Message, body: bytes, content_type: str = "") -> object:
        """Parse the JSON body into ``message``; return the body field's JSON value."""
        try:
            value = _load_json(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise TranscodeError("invalid JSON body: not UTF-8") from None
        except RecursionError:
            raise TranscodeError("invalid JSON body: nested too deeply") from None
        except json.JSONDecodeError as e:
            raise TranscodeError(f"invalid JSON body: {e}{_form_hint(content_type)}") from None
        except (_DuplicateKey, protojson.ProtoJSONError) as e:  # the JSON text: no field yet
            raise TranscodeError(f"invalid JSON body: {e}") from None
        except ValueError:  # int() refuses numbers of more than 4300 digits
            raise TranscodeError("invalid JSON body: a number has too many digits") from None
        field = self._body_field
        try:
            if field is None:
                return self._decoder.decode(value, message)
            return self._decoder.decode_field(value, message, field)
        except protojson.ProtoJSONError as e:
            raise TranscodeError(
                f"invalid JSON body: {e}", *map(self._body_path, e.paths)
            ) from None


#: Form encodings, which a browser's <form> (and ``curl -d``) send: the body any
#: content type carries is read as JSON (grpc-gateway's rule), so only when it
#: is not JSON does the content type explain what went wrong.
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _form_hint(content_type: str) -> str:
    media = content_type.partition(";")[0].strip().lower()
    if media not in _FORMS:
        return ""
    return f" (the body was sent as {media}; this method reads a JSON body)"


def _check_collision(target: Message, leaf: _Leaf, value: Any, key: str) -> None:
    """Strict mode: a path value must not contradict a value the body set."""
    name = leaf.field.name
    if leaf.is_message:
        present = target.HasField(name) and getattr(target, name) != value
    else:
        current = getattr(target, name)
        present = current != leaf.field.default_value and current != value
    if present:
        raise TranscodeError(
            f'field "{key}" is bound by the path; the body must not set it to another value', key
        )


def _mask_paths(
    document: dict[str, Any], desc: Descriptor, prefix: str, written: str = ""
) -> list[str]:
    """FieldMask paths for the keys a JSON object sets (grpc-gateway's
    ``FieldMaskFromRequestBody``): proto names, nested objects of plain message
    fields recursed into, repeated, map and well-known-type fields taken whole.
    ``prefix``: the object's path in proto names; ``written``: as the JSON wrote it."""
    table = _field_table(desc)
    paths: list[str] = []
    for key, value in document.items():
        field = table.get(key)
        if field is None:
            raise TranscodeError(
                f'invalid JSON body: unknown field "{prefix}{key}" for the field mask',
                written + key,
            )
        path = f"{prefix}{field.name}"
        if isinstance(value, dict) and value and _is_plain_message(field) and not field.is_repeated:
            nested = field.message_type
            assert nested is not None
            paths.extend(_mask_paths(value, nested, path + ".", f"{written}{key}."))
        else:
            paths.append(path)
    return paths


# -- response ------------------------------------------------------------------------


def json_encoder(indent: int | None) -> Callable[[Any], str]:
    """``json.dumps(document, ensure_ascii=False, indent=indent)`` (compact separators
    without an indent), with the set-up it repeats on every call done once.

    ``json.dumps`` and ``JSONEncoder.encode`` build a new C encoder per call; for a
    small reply that costs more than encoding it. Documents are trees (built by
    protojson), so the circular-reference check is left out.
    """
    if indent is None:
        return protojson.compact_json()
    return json.JSONEncoder(ensure_ascii=False, indent=indent, separators=(",", ": ")).encode


class ResponseTranscoder:
    """Renders the response message of one HTTP binding as JSON bytes.

    ``response_body`` is the ``HttpRule.response_body``: ``""`` for the whole
    message or a top-level field whose value alone becomes the JSON document.
    """

    __slots__ = (
        "_compact",
        "_emit_unpopulated",
        "_encode",
        "_enums_as_ints",
        "_field",
        "_http_body",
        "_key",
        "_message_class",
        "_proto_names",
        "_whole",
    )

    def __init__(
        self, message_class: type[Message], *, response_body: str, options: GatewayOptions
    ) -> None:
        desc = _descriptor(message_class)
        self._field: FieldDescriptor | None = None
        self._key = ""
        if response_body:
            field = _field_table(desc).get(response_body)
            if field is None:
                raise BindingConfigError(no_field_message("response_body", response_body, desc))
            self._field = field
            self._key = field.name if options.use_proto_names else field.json_name
        rendered = desc if self._field is None else self._field.message_type
        self._http_body = (
            rendered is not None
            and rendered.full_name == HTTP_BODY
            and not (self._field is not None and self._field.is_repeated)
        )
        self._emit_unpopulated = options.emit_unpopulated
        self._proto_names = options.use_proto_names
        self._enums_as_ints = options.enums_as_ints
        self._encode = json_encoder(options.indent)
        #: No indent: whole replies are written by ``Encoder.json_text``, which is
        #: ``self._encode`` of their dict (tests/test_protojson.py compares them).
        self._compact = options.indent is None
        #: The encoder of whole ``message_class`` replies, once the first is rendered.
        self._message_class = message_class
        self._whole: Callable[[Message], Any] | None = None

    @property
    def field(self) -> FieldDescriptor | None:
        """The ``response_body`` field, or ``None`` when the whole message is the reply."""
        return self._field

    @property
    def http_body(self) -> bool:
        """Whether replies are ``google.api.HttpBody``: raw bytes with their own content type."""
        return self._http_body

    def render(self, message: Message) -> tuple[bytes, str]:
        """The response body and its Content-Type.

        JSON for ordinary messages; for a ``google.api.HttpBody`` (the whole
        reply or the ``response_body`` field) its ``data`` as is, with its
        ``content_type`` (``application/octet-stream`` when empty).
        """
        if self._http_body:
            body: Any = message if self._field is None else getattr(message, self._field.name)
            return bytes(body.data), str(body.content_type) or _OCTET_STREAM
        return self.transcode(message), JSON_CONTENT_TYPE

    def transcode(self, message: Message) -> bytes:
        """UTF-8 JSON for ``message`` (or its ``response_body`` field)."""
        field = self._field
        document: Any
        if field is None:
            if type(message) is not self._message_class:
                document = self._to_dict(message, self._emit_unpopulated)
            else:
                whole = self._whole
                if whole is None:  # built on first use: a cold start compiles no unused codec
                    whole = self._whole = self._whole_encoder(type(message))
                document = whole(message)
                if self._compact:  # written as text straight from the message
                    text: str = document
                    return text.encode("utf-8")
        elif field.message_type is not None and not field.is_repeated:
            if message.HasField(field.name):
                document = self._to_dict(getattr(message, field.name), self._emit_unpopulated)
            else:
                # Unset: an empty object for a plain message, null for a WKT
                # (an epoch Timestamp or a 0 wrapper would be a made-up value).
                document = {} if _is_plain_message(field) else None
        else:
            # Scalars, repeated and map fields have no MessageToDict of their
            # own: render the message with every field and pick this one.
            document = self._to_dict(message, True).get(self._key)
        return self._encode(document).encode("utf-8")

    def _whole_encoder(self, message_class: type[Message]) -> Callable[[Message], Any]:
        """What renders whole replies: their JSON text (no indent), else their dict."""
        encoder = protojson.encoder(
            _descriptor(message_class),
            always_print_fields_with_no_presence=self._emit_unpopulated,
            preserving_proto_field_name=self._proto_names,
            use_integers_for_enums=self._enums_as_ints,
        )
        return encoder.json_text if self._compact else encoder.encode

    def _to_dict(self, message: Message, emit_unpopulated: bool) -> Any:
        return self._encoder(type(message), emit_unpopulated)(message)

    def _encoder(
        self, message_class: type[Message], emit_unpopulated: bool
    ) -> Callable[[Message], Any]:
        return protojson.encoder(
            _descriptor(message_class),
            always_print_fields_with_no_presence=emit_unpopulated,
            preserving_proto_field_name=self._proto_names,
            use_integers_for_enums=self._enums_as_ints,
        ).encode
