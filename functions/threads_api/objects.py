"""The OpenAI response objects, built from the domain's records."""

from __future__ import annotations

from typing import Any

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
    data = [shape(item) for item in page.items]
    return {
        "object": "list",
        "data": data,
        # OpenAI answers null for both on an empty page (its published schema says string).
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": page.has_more,
    }
