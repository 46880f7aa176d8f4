"""The Assistants streaming events as a client reads them: parsed from server-sent events, each checked
against OpenAI's schema for its event, and the order of a run that answers with a reply."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.contract.schemas import assert_valid

# A run that answers with one reply, as OpenAI streams it (its text in one or more deltas: see ``names``).
REPLY_EVENTS = [
    "thread.run.created",
    "thread.run.queued",
    "thread.run.in_progress",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.message.created",
    "thread.message.in_progress",
    "thread.message.delta",
    "thread.message.completed",
    "thread.run.step.completed",
    "thread.run.completed",
    "done",
]
_SCHEMAS = [  # the first match applies
    (r"thread\.created", "ThreadObject"),
    (r"thread\.run\.step\.delta", "RunStepDeltaObject"),
    (r"thread\.run\.step\.\w+", "RunStepObject"),
    (r"thread\.run\.\w+", "RunObject"),
    (r"thread\.message\.delta", "MessageDeltaObject"),
    (r"thread\.message\.\w+", "MessageObject"),
]


def events(text: str) -> list[tuple[str, Any]]:
    """Server-sent events as (event, data): data is JSON, or the final ``[DONE]``. Comments (``: keep-alive``,
    lines a client skips) are skipped."""
    out = []
    for block in text.strip().split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith(":")]
        if not lines:
            continue
        fields = dict(line.split(": ", 1) for line in lines)
        out.append((fields["event"], fields["data"] if fields["data"] == "[DONE]" else json.loads(fields["data"])))
    return out


def names(stream: list[tuple[str, Any]]) -> list[str]:
    """The events' names, a run of ``thread.message.delta`` as one: how many pieces a reply comes in depends
    on when the stream looked at it."""
    out: list[str] = []
    for name, _ in stream:
        if not (name == "thread.message.delta" and out and out[-1] == name):
            out.append(name)
    return out


def reply_text(stream: list[tuple[str, Any]]) -> str:
    """The reply's text as a client puts it together from the deltas."""
    return "".join(
        part["text"]["value"]
        for name, data in stream
        if name == "thread.message.delta"
        for part in data["delta"]["content"]
        if part.get("type") == "text"
    )


def assert_valid_events(stream: list[tuple[str, Any]]) -> None:
    """A stream ends with ``done``, and every other event's data is valid for its event's schema."""
    assert stream, stream[-1:]
    assert stream[-1] == ("done", "[DONE]"), stream[-1:]
    for name, data in stream[:-1]:
        schema = next(s for pattern, s in _SCHEMAS if re.fullmatch(pattern, name))
        assert_valid(data, schema)
