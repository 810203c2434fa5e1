"""Regular expressions for decimal integers within a range (64-bit integers travel
as JSON strings, so a pattern is the only way to state their range)."""

from __future__ import annotations

import functools


def _up_to(limit: str) -> list[str]:
    """Alternatives matching the decimal numbers 1..``limit`` written without leading zeros."""
    n = len(limit)
    out: list[str] = []
    if n > 1:
        out.append("[1-9]" if n == 2 else f"[1-9][0-9]{{0,{n - 2}}}")
    for i, digit in enumerate(limit):
        low = 1 if i == 0 else 0
        high = int(digit) - 1
        if high < low:
            continue
        rest = n - i - 1
        choice = str(low) if low == high else f"[{low}-{high}]"
        out.append(limit[:i] + choice + ("" if rest == 0 else f"[0-9]{{{rest}}}"))
    out.append(limit)
    return out


@functools.cache
def integer_pattern(low: int, high: int) -> str:
    """An anchored pattern for the decimal integers in ``[low, high]`` (``low`` <= 0 < ``high``),
    with no leading zeros or ``+``."""
    positive = "|".join(_up_to(str(high)))
    parts = ["0", f"(?:{positive})"]
    if low < 0:
        negative = "|".join(_up_to(str(-low)))
        parts.append(f"-(?:{negative})")
    return "^(?:" + "|".join(parts) + ")$"
