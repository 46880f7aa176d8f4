"""The shapes a stream's events carry (pure: no read, no clock), apart from ``events.Follower``'s bookkeeping
of what it told already: the run as it was while queued or in progress, a reply's message opened, its deltas
(their content parts and annotations indexed, as the SDK merges a delta into its snapshot by ``index``), and
a tool step's calls in its delta."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

from threads_api.domain import lifecycle
from threads_api.domain.records import JsonObject, Run
from threads_api.wire.run_objects import run_object


def sse(event: str, data: Any) -> str:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"event: {event}\ndata: {text}\n\n"


def as_status(run: Run, status: str, now: int) -> JsonObject:
    """The run as it was while ``status``: nothing of how it ended yet (and its time not yet up)."""
    body = run_object(dataclasses.replace(run, status="queued"), now)
    return body | {
        "status": status,
        "expires_at": body["expires_at"] or run.created_at + lifecycle.EXPIRY_SECONDS,
        "required_action": None,
        "last_error": None,
        "completed_at": None,
        "failed_at": None,
        "cancelled_at": None,
        "incomplete_details": None,
        "usage": None,
    }


def reply_object(run: Run, message_id: str, now: int) -> JsonObject:
    """The reply being written, as OpenAI shows a message in progress (its text comes in deltas)."""
    return {
        "id": message_id,
        "object": "thread.message",
        "created_at": now,
        "assistant_id": run.assistant_id,
        "thread_id": run.thread_id,
        "run_id": run.id,
        "status": "in_progress",
        "incomplete_details": None,
        "completed_at": None,
        "incomplete_at": None,
        "role": "assistant",
        "content": [],
        "attachments": [],
        "metadata": {},
    }


def opened_message(message: JsonObject) -> Iterator[str]:
    opened = message | {"status": "in_progress", "content": [], "completed_at": None, "incomplete_at": None}
    opened["incomplete_details"] = None
    yield sse("thread.message.created", opened)
    yield sse("thread.message.in_progress", opened)


def text_delta(message_id: str, text: str, annotations: list[JsonObject]) -> str:
    """A piece of a reply's text; ``annotations``: those that start in it, each with its ``index`` among the
    reply's annotations."""
    part = {"index": 0, "type": "text", "text": {"value": text, "annotations": annotations}}
    return sse("thread.message.delta", delta_object(message_id, [part]))


def delta_object(message_id: str, content: list[JsonObject]) -> JsonObject:
    return {"id": message_id, "object": "thread.message.delta", "delta": {"content": content}}


def delta_content(content: list[JsonObject]) -> list[JsonObject]:
    """A whole message's content as one delta: each part and each annotation given its ``index``."""
    parts: list[JsonObject] = []
    for n, part in enumerate(content):
        if part.get("type") == "text":
            text = part["text"]
            annotations = [{"index": i, **a} for i, a in enumerate(text.get("annotations") or [])]
            parts.append({"index": n, **part, "text": {**text, "annotations": annotations}})
        else:
            parts.append({"index": n, **part})
    return parts


def tool_calls_delta(step: JsonObject) -> JsonObject:
    """A tool step's calls, as OpenAI streams them (the step itself was told with none): a function call with
    its name and arguments (its output not yet), a file_search call by its id alone (its results come with
    the step's end)."""
    calls: list[JsonObject] = []
    for n, call in enumerate(step["step_details"]["tool_calls"]):
        if call.get("type") == "function":
            calls.append({"index": n, **call, "function": {**call["function"], "output": None}})
        else:
            calls.append({"index": n, "id": call["id"], "type": call["type"], call["type"]: {}})
    delta = {"step_details": {"type": "tool_calls", "tool_calls": calls}}
    return {"id": step["id"], "object": "thread.run.step.delta", "delta": delta}
