"""The OpenAI response objects, built from the domain's records."""

from __future__ import annotations

import json
from typing import Any

from threads_api.domain import limits
from threads_api.domain.records import Assistant, Message, Page, Thread


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
        "assistant_id": message.assistant_id,
        "thread_id": message.thread_id,
        "run_id": message.run_id,
        "status": message.status,
        "incomplete_details": message.incomplete_details,
        "completed_at": message.created_at if message.status == "completed" else None,
        "incomplete_at": message.created_at if message.status == "incomplete" else None,
        "role": message.role,
        "content": message.content,
        "attachments": message.attachments,
        "metadata": message.metadata,
    }


def deleted_object(object_id: str, kind: str) -> dict[str, Any]:
    return {"id": object_id, "object": f"{kind}.deleted", "deleted": True}


class Written(dict[str, Any]):
    """A response body whose JSON is already written (``text``, what ``json.dumps(body, ensure_ascii=False)``
    gives): the gateway sends that text as it is instead of serializing the body again."""

    def __init__(self, body: dict[str, Any], text: str) -> None:
        super().__init__(body)
        self.text = text


class EventStream(Written):
    """A ``text/event-stream`` body (``stream: true``): ``text`` is sent as it is."""

    content_type = "text/event-stream; charset=utf-8"

    def __init__(self, text: str) -> None:
        super().__init__({}, text)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def list_object(page: Page, shape: Any) -> Written:
    """A page as OpenAI's list object, cut to fit Lambda's response limit (``has_more`` then true).

    The objects are written once: that JSON is measured as it will be sent (``sent_size``), and the body's text
    is made of it, so what is measured is exactly what is sent. A page over the limit is written object by
    object (``json.dumps`` writes a list as its items' JSON joined by ", "), and cut.
    """
    data = [shape(item) for item in page.items]
    data_text = _json(data)
    kept = len(data)
    if sent_size(data_text) > limits.LIST_PAGE_MAX_BYTES:
        texts = [_json(obj) for obj in data]
        kept = _fitted(texts, keep_end=page.backwards)
        data, texts = (data[-kept:], texts[-kept:]) if page.backwards else (data[:kept], texts[:kept])
        data_text = f"[{', '.join(texts)}]"
    body = {
        "object": "list",
        "data": data,
        # OpenAI answers null for both on an empty page (its published schema says string).
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": page.has_more or kept < len(page.items),
    }
    text = (
        f'{{"object": "list", "data": {data_text}, "first_id": {_json(body["first_id"])}, '
        f'"last_id": {_json(body["last_id"])}, "has_more": {_json(body["has_more"])}}}'
    )
    return Written(body, text)


def sent_size(text: str) -> int:
    """The bytes a piece of a response body's JSON ``text`` takes in the Lambda result as the runtime sends it.

    The runtime writes the result, whose ``body`` is that JSON as a string, with ``json.dumps(result,
    ensure_ascii=False)`` (python3.12+ runtimes), in UTF-8: the body's text is escaped a second time. JSON text
    holds no raw control character (they are all written as escapes), so that second escaping adds exactly one
    byte for each ``"`` and each ``\\`` and leaves every other character as it is.
    """
    return (len(text) if text.isascii() else len(text.encode())) + text.count('"') + text.count("\\")


def _fitted(texts: list[str], keep_end: bool) -> int:
    """How many of a page's objects (their JSON ``texts``) fit ``LIST_PAGE_MAX_BYTES`` as sent: always at
    least one, cutting the end farthest from the cursor (the first are kept, or with ``keep_end``, for a
    ``before`` page, the last)."""
    total = 0
    for kept, text in enumerate(texts[::-1] if keep_end else texts):
        total += sent_size(text) + 2  # and the ", " that separates it from the next
        if kept and total > limits.LIST_PAGE_MAX_BYTES:
            return kept
    return len(texts)


def assistant_object(assistant: Assistant) -> dict[str, Any]:
    return {
        "id": assistant.id,
        "object": "assistant",
        "created_at": assistant.created_at,
        "name": assistant.name,
        "description": assistant.description,
        "model": assistant.model,
        "instructions": assistant.instructions,
        "tools": assistant.tools,
        "tool_resources": assistant.tool_resources,
        "metadata": assistant.metadata,
        "temperature": assistant.temperature,
        "top_p": assistant.top_p,
        "response_format": assistant.response_format,
    }
