"""What the storage tests share: a record of the store's DynamoDB operations."""

from __future__ import annotations

from typing import Any

import pytest


def _calls(monkeypatch: pytest.MonkeyPatch, answer: Any = None) -> list[str]:
    """Record the store's DynamoDB operations; ``answer(operation, params, real)`` may stand in for DynamoDB."""
    from threads_api import store

    real = store.client._make_api_call  # type: ignore[attr-defined]
    calls: list[str] = []

    def record(operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        return (answer or (lambda operation, params, real: real(operation, params)))(operation, params, real)

    monkeypatch.setattr(store.client, "_make_api_call", record)
    return calls
