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
    # Set on the replies a run writes (None on messages a client adds).
    assistant_id: str | None = None
    run_id: str | None = None
    status: str = "completed"  # or "incomplete", a reply cut short by max_completion_tokens
    incomplete_details: JsonObject | None = None


@dataclass(slots=True)
class Assistant:
    id: str
    created_at: int
    model: str
    name: str | None
    description: str | None
    instructions: str | None
    tools: list[JsonObject]
    tool_resources: JsonObject
    metadata: dict[str, str]
    temperature: float | None
    top_p: float | None
    response_format: str | JsonObject  # "auto", or {"type": "text" | "json_object" | "json_schema", ...}


@dataclass(slots=True)
class Page:
    """One page of a cursor-paginated list, in the order asked for."""

    items: list[Any]
    has_more: bool
    # Read away from a ``before`` cursor: the end nearest the cursor is the last item, so a page cut short
    # keeps its last items (otherwise its first).
    backwards: bool = False
