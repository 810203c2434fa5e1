"""Regular expressions compiled on first use (internal).

Compiling a pattern costs 20-400 µs; a module-level ``re.compile`` pays it at
import, in every cold start, even for patterns that only an error or a rare
input ever needs. :func:`lazy_compile` returns a stand-in that compiles on
first use and then hands out the compiled pattern's own bound methods, so a
pattern used on every request costs no more than a compiled one.
"""

from __future__ import annotations

import re
from typing import Any, AnyStr, cast

__all__ = ["lazy_compile"]

#: The methods copied onto the stand-in once compiled (found there with no detour).
_METHODS = ("match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer")


class _LazyPattern:
    """Compiles ``pattern`` the first time an attribute of it is asked for."""

    def __init__(self, pattern: str | bytes, flags: int) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        # Only for names not set yet: the first use, or a rare attribute (``pattern``).
        if name.startswith("__") or name == "_source":
            raise AttributeError(name)
        pattern, flags = self._source
        compiled = re.compile(cast(Any, pattern), flags)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy_compile({self._source[0]!r})"


def lazy_compile(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """``re.compile(pattern, flags)``, done on first use."""
    return cast("re.Pattern[AnyStr]", _LazyPattern(pattern, flags))
