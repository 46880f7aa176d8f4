"""The OpenAI response objects, built from the domain's records."""

from __future__ import annotations

import json
from typing import Any

from threads_api import limits
from threads_api.entities import Message, Page, Thread


def thread_object(thread: Thread) -> dict[str, Any]:
    return {
        "id": thread.id,
        "object": "thread",
        "created_at": thread.created_at,
        "metadata": thread.metadata,
        "tool_resources": thread.tool_resources,
    }


def message_object(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "object": "thread.message",
        "created_at": message.created_at,
        "assistant_id": None,
        "thread_id": message.thread_id,
        "run_id": None,
        "status": "completed",
        "incomplete_details": None,
        "completed_at": message.created_at,
        "incomplete_at": None,
        "role": message.role,
        "content": message.content,
        "attachments": message.attachments,
        "metadata": message.metadata,
    }


def deleted_object(object_id: str, kind: str) -> dict[str, Any]:
    return {"id": object_id, "object": f"{kind}.deleted", "deleted": True}


def list_object(page: Page, shape: Any) -> dict[str, Any]:
    """A page as OpenAI's list object, cut to fit Lambda's response limit (``has_more`` then true)."""
    data, cut = _fitted([shape(item) for item in page.items], keep_end=page.backwards)
    return {
        "object": "list",
        "data": data,
        # OpenAI answers null for both on an empty page (its published schema says string).
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": page.has_more or cut,
    }


def sent_size(obj: Any) -> int:
    """The bytes ``obj`` takes in the Lambda result as the runtime sends it.

    The response body is ``json.dumps(body, ensure_ascii=False)`` and the runtime writes the result holding
    it with ``json.dumps(result, ensure_ascii=False)`` (python3.12+ runtimes), in UTF-8: the body's text is
    escaped a second time. JSON text holds no raw control character (they are all written as escapes), so that
    second escaping adds exactly one byte for each ``"`` and each ``\\`` and leaves the rest as it is.
    """
    text = json.dumps(obj, ensure_ascii=False)
    return len(text.encode()) + text.count('"') + text.count("\\")


def _fitted(data: list[dict[str, Any]], keep_end: bool) -> tuple[list[dict[str, Any]], bool]:
    """The objects of a page that fit ``LIST_PAGE_MAX_BYTES`` as sent (always at least one), cutting the end
    farthest from the cursor: the first items are kept, or with ``keep_end`` (a ``before`` page) the last."""
    ordered = data[::-1] if keep_end else data
    kept: list[dict[str, Any]] = []
    total = 0
    for obj in ordered:
        size = sent_size(obj) + 2  # and the ", " that separates it from the next
        if kept and total + size > limits.LIST_PAGE_MAX_BYTES:
            break
        kept.append(obj)
        total += size
    cut = len(kept) < len(data)
    return (kept[::-1] if keep_end else kept), cut
