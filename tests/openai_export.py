"""A hand-made export as OpenAI's API gave it (an assistant, a thread, its messages as list pages, newest
first, with every content type), for the import's tests: the command's (tests/cli) and the SDK's (tests/e2e)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

THREAD = "thread_abc123DEF456ghi789JKL012"
ASSISTANT = "asst_abc123DEF456ghi789JKL012"


def message(n: int, content: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {
        "id": f"msg_{n:024d}",
        "object": "thread.message",
        "created_at": 1_700_000_000 + n // 2,  # two a second: their order is the file's
        "thread_id": THREAD,
        "status": "completed",
        "incomplete_details": None,
        "completed_at": None,
        "incomplete_at": None,
        "role": "user",
        "content": content,
        "assistant_id": None,
        "run_id": None,
        "attachments": [],
        "metadata": {"n": str(n)},
    } | more


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": {"value": value, "annotations": []}}


def openai_file(path: Path) -> list[dict[str, Any]]:
    """An export as OpenAI's API gave it: an assistant, a thread, and its messages as a list page, newest
    first (the API's default order), with every content type."""
    assistant = {
        "id": ASSISTANT,
        "object": "assistant",
        "created_at": 1_699_999_000,
        "name": "Helper",
        "description": None,
        "model": "gpt-4o",
        "instructions": "Be brief.",
        "tools": [{"type": "file_search"}],
        "tool_resources": {"file_search": {"vector_store_ids": []}},
        "metadata": {"team": "a"},
        "temperature": 0.5,
        "top_p": 1.0,
        "response_format": "auto",
    }
    thread = {
        "id": THREAD,
        "object": "thread",
        "created_at": 1_700_000_000,
        "metadata": {"user": "42"},
        "tool_resources": {"code_interpreter": {"file_ids": []}},
    }
    messages = [
        message(0, [text("Hello")], attachments=[{"file_id": "file-abc123", "tools": [{"type": "file_search"}]}]),
        message(1, [{"type": "image_file", "image_file": {"file_id": "file-img123", "detail": "low"}}]),
        message(2, [{"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "auto"}}]),
        message(3, [text("Hi!")], role="assistant", assistant_id=ASSISTANT, run_id="run_abc123DEF456ghi789JKL0"),
        message(4, [text("Noted.")], role="assistant", assistant_id=ASSISTANT),  # added by a client, not a run
    ]
    for each in messages:
        each["completed_at"] = each["created_at"]
    # Two pages, newest first: the second's two messages share a second, so only the first page's times tell
    # the order (and within that second, their order is the page's, reversed).
    newest = messages[::-1]
    pages = [{"object": "list", "data": data, "has_more": False} for data in (newest[:3], newest[3:])]
    lines = [assistant, thread, *pages]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return [assistant, thread, *messages]


# Numbered threads and their messages, for files of many (the import's memory, order and requests).


def thread_object(t: int) -> dict[str, Any]:
    """Thread number ``t``, as OpenAI returned it."""
    return {
        "id": f"thread_{t:024d}",
        "object": "thread",
        "created_at": 1_700_000_000,
        "metadata": {},
        "tool_resources": None,
    }


def message_object(t: int, n: int, text: str, created_at: int | None = None) -> dict[str, Any]:
    return {
        "id": f"msg_{t:012d}{n:012d}",
        "object": "thread.message",
        "created_at": 1_700_000_000 + n if created_at is None else created_at,
        "thread_id": f"thread_{t:024d}",
        "status": "completed",
        "incomplete_details": None,
        "completed_at": None,
        "incomplete_at": None,
        "role": "user",
        "content": [{"type": "text", "text": {"value": text, "annotations": []}}],
        "assistant_id": None,
        "run_id": None,
        "attachments": [],
        "metadata": {},
    }


def write_lines(path: Path, lines: list[Any]) -> Path:
    """``lines`` as JSON Lines at ``path``."""
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path
