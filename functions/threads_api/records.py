"""The domain's records, as the store hands them over: no DynamoDB, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JsonObject = dict[str, Any]


@dataclass(slots=True)
class Thread:
    id: str
    created_at: int
    metadata: dict[str, str]
    tool_resources: JsonObject


@dataclass(slots=True)
class Message:
    id: str
    thread_id: str
    created_at: int
    role: str
    content: list[JsonObject]
    attachments: list[JsonObject]
    metadata: dict[str, str]


@dataclass(slots=True)
class Page:
    """One page of a cursor-paginated list, in the order asked for."""

    items: list[Any]
    has_more: bool
    # Read away from a ``before`` cursor: the end nearest the cursor is the last item, so a page cut short
    # keeps its last items (otherwise its first).
    backwards: bool = False
