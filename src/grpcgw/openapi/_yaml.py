"""A small YAML emitter for JSON documents (no PyYAML needed).

Block mappings and sequences; strings plain only where no YAML 1.1 or 1.2
reader could take them for anything else, otherwise double-quoted with JSON
escapes (a subset of YAML's); floats always with a ``.`` (YAML 1.1 readers
need it).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

_PLAIN: Final = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
#: Words a YAML 1.1 or 1.2 reader resolves to booleans or null.
_SPECIAL: Final = frozenset(["y", "n", "yes", "no", "true", "false", "on", "off", "null"])
#: Characters to escape: outside YAML's printable set, or line breaks YAML would fold.
_UNSAFE: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}"


def _string(text: str) -> str:
    if _PLAIN.fullmatch(text) and text.lower() not in _SPECIAL:
        return text
    return _UNSAFE.sub(_escape, json.dumps(text, ensure_ascii=False))


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text and "." not in text:
            mantissa, _, exponent = text.partition("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _string(str(value))


def _is_block(value: Any) -> bool:
    return isinstance(value, dict | list) and bool(value)


def _node(value: Any, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            name = _string(str(key))
            if _is_block(item):
                out.append(f"{pad}{name}:")
                _node(item, indent + 2, out)
            else:
                out.append(f"{pad}{name}: {_scalar(item)}")
        return
    for item in value:
        if _is_block(item):
            nested: list[str] = []
            _node(item, indent + 2, nested)
            out.append(f"{pad}- {nested[0][indent + 2 :]}")
            out.extend(nested[1:])
        else:
            out.append(f"{pad}- {_scalar(item)}")


def dump(document: Any) -> str:
    """``document`` (JSON values only) as a YAML text."""
    if not _is_block(document):
        return _scalar(document) + "\n"
    lines: list[str] = []
    _node(document, 0, lines)
    return "\n".join(lines) + "\n"
