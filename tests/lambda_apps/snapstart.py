"""A handler module with SnapStart hooks (run it with AWS_LAMBDA_INITIALIZATION_TYPE=snap-start)."""

from __future__ import annotations

import sys
from typing import Any

from snapshot_restore_py import register_after_restore, register_before_snapshot

hooks: list[str] = []


def _before() -> None:
    hooks.append("before_snapshot")
    print("snapstart hook: before_snapshot", file=sys.stderr)


def _after() -> None:
    hooks.append("after_restore")
    print("snapstart hook: after_restore", file=sys.stderr)


register_before_snapshot(_before)
register_after_restore(_after)


def handler(event: Any, context: Any) -> dict[str, Any]:
    return {"hooks": hooks}
