"""A plain Lambda handler that echoes what awslambdaric gave it.

``{"raise": "text"}`` makes it raise :class:`PlainError` with that text instead.
"""

from __future__ import annotations

import os
import sys
from typing import Any

#: How many times this module was imported in this process (always 1).
INITS = 1
_calls = 0

print("plain handler module imported", flush=True)


class PlainError(Exception):
    """What the handler raises on request."""


def handler(event: Any, context: Any) -> dict[str, Any]:
    global _calls
    _calls += 1
    print(f"plain handler call {_calls} request {context.aws_request_id}", file=sys.stderr)
    if isinstance(event, dict) and "raise" in event:
        raise PlainError(event["raise"])
    client_context = context.client_context
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "invoked_function_arn": context.invoked_function_arn,
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        "client_context_custom": client_context.custom if client_context else None,
        "cognito_identity_id": context.identity.cognito_identity_id,
        "pid": os.getpid(),
        "inits": INITS,
        "calls": _calls,
    }
