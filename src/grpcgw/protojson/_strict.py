"""Go protojson's rules for the text forms of scalars and well-known types.

grpc-gateway parses request bodies with Go's ``protojson``, which is stricter
than Python's ``json_format`` in many places (json_format takes ``int()`` and
``float()`` of whatever it is given, and decodes base64 without validating it).
grpcgw accepts a value only where both accept it, so a client sees the same
answer from either gateway; these functions decide Go's half. Each returns the
value Go reads, or ``None`` when Go rejects the text.

Pure: the standard library only.
"""

from __future__ import annotations

import binascii
import datetime
import math
import struct
from typing import Final

from grpcgw.lazyre import lazy_compile
from grpcgw.protojson._base import ProtoJSONError

#: A JSON number (RFC 8259): Go reads numbers in strings with the same grammar.
_NUMBER: Final = lazy_compile(r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?")
#: A map key of an integer type: Go's strconv.ParseInt/ParseUint in base 10.
MAP_INT_KEY: Final = lazy_compile(r"[+-]?[0-9]+")
FLT_MAX: Final = float.fromhex("0x1.fffffep+127")
FLOAT_WORDS: Final = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def integer(text: str) -> int | None:
    """The integer Go reads from JSON number text (``"1e2"``, ``"-3.0"``, ``"15e-1"``
    is not one), exactly as protojson's ``normalizeToIntString`` does, range aside."""
    match = _NUMBER.fullmatch(text)
    if match is None:
        return None
    sign, whole, frac, exp = match.groups()
    if whole == "0":
        whole = ""
    frac = (frac or "").rstrip("0")
    if not whole and not frac:
        return 0
    shift = 0
    if exp is not None:
        if len(exp.lstrip("+-").lstrip("0")) > 10:
            return None  # beyond int32: Go's ParseInt(exp, 10, 32) fails
        shift = int(exp)
        if not -(1 << 31) <= shift < 1 << 31:
            return None
    if shift >= 0:
        if len(frac) > shift or len(whole) + shift > 20:  # 20: the digits of 2**64
            return None
        digits = whole + frac + "0" * (shift - len(frac))
    else:
        point = len(whole) + shift
        if frac or point < 0 or whole[point:].strip("0"):
            return None
        digits = whole[:point]
    if not digits:
        return None
    return -int(digits) if sign else int(digits)


class NotInteger(float):
    """A JSON number whose double is integral but whose text is not an integer to
    Go (``1.00000000000000001``, ``1e-400``): an integer field must refuse it."""

    __slots__ = ()


def parse_json_float(text: str) -> float | int:
    """``parse_float`` for ``json.loads`` that keeps what Go reads from the text.

    A plain ``float`` unless its double loses what Go sees: an integral text too
    precise for a double becomes the exact ``int`` (its double is the same
    number), a non-integral text that rounds to an integral double becomes a
    :class:`NotInteger`.
    """
    value = float(text)
    if not value.is_integer():  # the common case; inf and nan too
        return value
    exact = integer(text)
    if exact is None:
        return NotInteger(value)
    if exact == value:
        return value  # -0.0 included
    return exact


def reject_json_constant(name: str) -> float:
    """``parse_constant`` for ``json.loads``: ``NaN`` and ``Infinity`` are not JSON
    (raises :class:`ProtoJSONError`)."""
    raise ProtoJSONError(f'{name} is not JSON: write it as a string, "{name}"')


def float_text(text: str, float32: bool) -> float | None:
    """The number Go reads from a JSON string for a float or double field."""
    word = FLOAT_WORDS.get(text)
    if word is not None:
        return word
    if _NUMBER.fullmatch(text) is None:
        return None
    return finite(float(text), float32)


def finite(value: float, float32: bool) -> float | None:
    """``value`` if it is in range for the type (a float32 rounds to FLT_MAX within
    half an ulp above it, as Go's ParseFloat(text, 32) does), else ``None``."""
    if value - value != 0.0:
        return None
    if float32 and abs(value) > FLT_MAX:
        try:
            return float(struct.unpack("<f", struct.pack("<f", value))[0])
        except OverflowError:
            return None
    return value


_STD_PADDED: Final = lazy_compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_URL_PADDED: Final = lazy_compile(
    r"(?:[A-Za-z0-9\-_]{4})*(?:[A-Za-z0-9\-_]{2}==|[A-Za-z0-9\-_]{3}=)?"
)
_STD_RAW: Final = lazy_compile(r"[A-Za-z0-9+/]*")
_URL_RAW: Final = lazy_compile(r"[A-Za-z0-9\-_]*")
_URL_TO_STD: Final = str.maketrans("-_", "+/")


def base64_bytes(text: str) -> bytes | None:
    """The bytes Go's protojson decodes from ``text``: the standard alphabet, or the
    URL-safe one when ``-`` or ``_`` occurs; padded when the length is a multiple
    of 4, else unpadded; CR and LF ignored; anything else is an error."""
    url = "-" in text or "_" in text
    padded = len(text) % 4 == 0
    body = text.replace("\r", "").replace("\n", "") if "\r" in text or "\n" in text else text
    if padded:
        if len(body) % 4 or (_URL_PADDED if url else _STD_PADDED).fullmatch(body) is None:
            return None
    elif len(body) % 4 == 1 or (_URL_RAW if url else _STD_RAW).fullmatch(body) is None:
        return None
    if url:
        body = body.translate(_URL_TO_STD)
    return binascii.a2b_base64(body + "=" * (-len(body) % 4))


#: RFC 3339 as both Go's time.Parse and json_format take it: four-digit year,
#: two-digit fields, upper-case T, 1-9 fractional digits, Z or an offset.
_TIMESTAMP: Final = lazy_compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]{1,9})?"
    r"(?:Z|[+-]([0-9]{2}):([0-9]{2}))"
)


def timestamp_ok(text: str) -> bool:
    """Whether Go reads ``text`` as a Timestamp (the range is json_format's check too)."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return False
    year, month, day, hour, minute, second, zone_hour, zone_minute = match.groups()
    try:
        datetime.date(int(year), int(month), int(day))
    except ValueError:
        return False
    if hour > "23" or minute > "59" or second > "59":
        return False
    return zone_hour is None or (zone_hour <= "23" and zone_minute <= "59")


def timestamp_in_range(text: str) -> bool:
    """Whether a Timestamp ``timestamp_ok`` takes lies in 0001-01-01T00:00:00Z to
    9999-12-31T23:59:59.999999999Z once its offset is applied (Go's and
    json_format's range)."""
    match = _TIMESTAMP.fullmatch(text)
    assert match is not None
    year, month, day, hour, minute, _, zone_hour, zone_minute = match.groups()
    if zone_hour is None:
        return True  # Z: the fields are UTC, and timestamp_ok checked them
    # Whole minutes: the seconds cannot carry a time across the range's ends.
    offset = datetime.timedelta(hours=int(zone_hour), minutes=int(zone_minute))
    local = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute))
    try:  # datetime spans years 1 to 9999, as Timestamp does
        _ = local - offset if text[-6] == "+" else local + offset
    except OverflowError:
        return False
    return True


#: The largest number of whole seconds of a Duration, either sign (about 10,000 years).
DURATION_MAX_SECONDS: Final = 315_576_000_000


def duration_in_range(text: str) -> bool:
    """Whether the whole seconds of a Duration ``duration_text`` gave are within
    ±315576000000 (the range Go and json_format check; the fraction may add to it)."""
    whole = text[:-1].partition(".")[0].lstrip("+-")
    return len(whole) <= 12 and int(whole) <= DURATION_MAX_SECONDS


#: protojson's parseDuration: an optional sign, whole seconds without leading
#: zeros and/or up to 9 fractional digits, then "s" (".5s" and "1.s" too).
_DURATION: Final = lazy_compile(r"([+-]?)((?:0|[1-9][0-9]*)?)((?:\.[0-9]{0,9})?)s")


def duration_text(text: str) -> str | None:
    """The Duration text Go reads, with its whole seconds written out (``".5s"``
    becomes ``"0.5s"``, which json_format needs), or ``None``. The range is
    json_format's check too."""
    match = _DURATION.fullmatch(text)
    if match is None:
        return None
    sign, whole, fraction = match.groups()
    if whole:
        return text
    if not fraction:
        return None  # "s" or "-s": nothing before the "s"
    return f"{sign}0{fraction}s"


#: A protobuf full name (protoreflect.FullName.IsValid): dotted ASCII identifiers.
_FIELD_PATH: Final = lazy_compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_UPPER: Final = lazy_compile("[A-Z]")


def field_mask_text(text: str) -> str | None:
    """The FieldMask text Go reads (surrounding white space dropped), or ``None``.
    Each path is lowerCamel: no ``_``, and in snake_case a valid dotted name."""
    text = text.strip()
    if not text:
        return text
    for path in text.split(","):
        snake = _UPPER.sub(lambda m: "_" + m[0].lower(), path)
        if "_" in path or _FIELD_PATH.fullmatch(snake) is None:
            return None
    return text
