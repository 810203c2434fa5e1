"""What every answer to hostile input must be, whichever front end gave it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

#: Text no client may see: tracebacks, Python names, addresses, socket paths.
INTERNAL = re.compile(
    r"Traceback|File \"|<class |\b[A-Z]\w*(?:Error|Exception)\b|\bipv[46]:|\bunix:|/tmp/"
    r"|\.sock\b|127\.0\.0\.1|\[::1?\]|localhost|grpcgw\.|aiohttp|_pb2|0x[0-9a-f]{6,}"
    r"|Exception calling application|Unexpected <|SECRET"
    r"""|(?<![\w'"])b['"]"""  # bytes as Python shows them (b'X(A)')
)
#: Log lines a server must not write for anything a client sends.
ALARMING = re.compile(r"Traceback| WARNING | ERROR | CRITICAL |\[(?:WARNING|ERROR|CRITICAL)\]")


def status_body(body: bytes, code: int, internals: Iterable[str] = ()) -> dict[str, Any]:
    """``body`` is a ``google.rpc.Status`` with ``code`` and a message that names no
    internals (nor any of ``internals``); returns it."""
    parsed = json.loads(body)
    assert isinstance(parsed, dict), parsed
    assert set(parsed) == {"code", "message", "details"}, parsed
    assert parsed["code"] == code, parsed
    message = parsed["message"]
    assert isinstance(message, str), parsed
    assert message.strip(), parsed
    assert not INTERNAL.search(message), message
    for text in internals:
        assert text not in message, (text, message)
    details = parsed["details"]
    if details:  # only a request that does not fit the method's message has one
        assert code == 3, parsed
        (detail,) = details
        assert set(detail) == {"@type", "fieldViolations"}, parsed
        assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest", parsed
        for violation in detail["fieldViolations"]:
            assert violation["description"] == message, parsed  # nothing the message hides
            assert not INTERNAL.search(violation.get("field", "")), parsed
    return parsed


def quiet(lines: Iterable[str]) -> None:
    """Nothing alarming among the log ``lines``."""
    bad = [line for line in lines if ALARMING.search(line)]
    assert not bad, "\n".join(bad)
