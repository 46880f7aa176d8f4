"""The domain's records, as the store hands them over: no DynamoDB, no HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    # Or "incomplete" (a reply cut short), or "in_progress" (a reply its run is writing: ``lifecycle.writing``).
    status: str = "completed"
    incomplete_details: JsonObject | None = None


@dataclass(slots=True)
class File:
    """A file's metadata; its bytes are in the stack's bucket."""

    id: str
    created_at: int
    bytes: int
    filename: str
    purpose: str
    status: str = "processed"


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


@dataclass(slots=True)
class PageParams:
    """OpenAI's list parameters: ``limit``, ``order`` (asc or desc), and the ``after``/``before`` cursors."""

    limit: int
    order: str
    after: str | None
    before: str | None


def page_of[T](items: list[T], item_id: Callable[[T], str], params: PageParams) -> Page:
    """A page of a short list held in memory (a run's steps, a run's replies), oldest first in ``items``, cut
    by OpenAI's list parameters (``params``: limit, order, after, before). A cursor not in the list raises
    ``BadCursor``."""
    from threads_api.domain.errors import BadCursor

    ordered = items[::-1] if params.order == "desc" else list(items)
    ids = [item_id(item) for item in ordered]
    for name in ("after", "before"):
        cursor = getattr(params, name)
        if cursor is not None and cursor not in ids:
            raise BadCursor(name, cursor)
    if params.after is not None:
        ordered = ordered[ids.index(params.after) + 1 :]
    elif params.before is not None:
        earlier = ordered[: ids.index(params.before)]
        return Page(earlier[-params.limit :], len(earlier) > params.limit, backwards=True)
    return Page(ordered[: params.limit], len(ordered) > params.limit)


@dataclass(slots=True)
class Run:
    """A run and its steps (the steps are few: they live in the run's record, as OpenAI's step objects)."""

    id: str
    thread_id: str
    assistant_id: str
    created_at: int
    status: str
    model: str
    instructions: str
    tools: list[JsonObject]
    metadata: dict[str, str]
    expires_at: int | None
    settings: JsonObject  # temperature, top_p, token limits, truncation, tool_choice, parallel_tool_calls, ...
    additional_instructions: str | None = None
    required_action: JsonObject | None = None
    last_error: JsonObject | None = None
    started_at: int | None = None
    cancelled_at: int | None = None
    failed_at: int | None = None
    completed_at: int | None = None
    incomplete_details: JsonObject | None = None
    usage: JsonObject | None = None
    steps: list[JsonObject] = field(default_factory=list)
    partial: str | None = None  # the reply's text so far, while a streamed model answers (stream: true)
    worker: str | None = None  # the worker invocation (Lambda's request id) that took it: its retries resume it
    version: int = 0  # bumped by every write: each write is conditional on the version it read
