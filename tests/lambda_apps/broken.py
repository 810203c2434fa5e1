"""A handler module that fails while it is imported (a Lambda init error)."""

from __future__ import annotations

from typing import Any

raise RuntimeError("tests.lambda_apps.broken fails at import")


def handler(event: Any, context: Any) -> None:  # pragma: no cover - never reached
    pass
