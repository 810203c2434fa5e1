"""Timestamp: the common RFC 3339 form read and written without json_format."""

from __future__ import annotations

import datetime
from typing import Any, Final, cast

from google.protobuf.message import Message

from grpcgw.lazyre import lazy_compile
from grpcgw.protojson._base import MAX_DEPTH, Slow

_TIMESTAMP_RE: Final = lazy_compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.([0-9]{1,9}))?Z"
)
EPOCH: Final = datetime.datetime(1970, 1, 1)
_from_iso: Final = datetime.datetime.fromisoformat
_MIN_SECONDS: Final = -62135596800  # 0001-01-01T00:00:00Z
_MAX_SECONDS: Final = 253402300799  # 9999-12-31T23:59:59Z


def timestamp_fill(value: Any, message: Any, depth: int) -> None:
    """Fill a Timestamp from the form ``YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`` (which
    Go and json_format both take); :class:`Slow` for anything else."""
    if type(value) is not str or depth > MAX_DEPTH:
        raise Slow
    match = _TIMESTAMP_RE.fullmatch(value)
    if match is None or value[11:13] > "23":  # newer Pythons read 24:00 as midnight
        raise Slow
    # Raises ValueError for impossible dates and times (and year 0), as strptime does.
    delta = _from_iso(value[:19]) - EPOCH
    fraction = match[1]
    # json_format's arithmetic, float rounding included.
    nanos = round(float("0." + fraction) * 1e9) if fraction else 0
    if nanos >= 1_000_000_000:
        raise Slow
    message.SetInParent()
    message.seconds = delta.seconds + delta.days * 86_400
    message.nanos = nanos


def timestamp_fast(text: str, message: Message) -> bool:
    """Set the Timestamp ``message`` from ``text`` in the common form
    ``YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`` as json_format would; ``False`` (and
    ``message`` untouched) for any other text: json_format must decide."""
    try:
        timestamp_fill(text, message, 1)
    except (Slow, ValueError):
        return False
    return True


def timestamp_json(message: Any) -> str:
    """``message.ToJsonString()`` of a Timestamp (its errors included), at half the cost."""
    seconds, nanos = message.seconds, message.nanos
    if not (_MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos < 1_000_000_000):
        return cast(str, message.ToJsonString())  # raises json_format's error
    text = (EPOCH + datetime.timedelta(0, seconds)).isoformat()
    if nanos == 0:
        return text + "Z"
    if nanos % 1_000_000 == 0:
        return f"{text}.{nanos // 1_000_000:03d}Z"
    if nanos % 1000 == 0:
        return f"{text}.{nanos // 1000:06d}Z"
    return f"{text}.{nanos:09d}Z"
