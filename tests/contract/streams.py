"""The Assistants streaming events as a client reads them: parsed from server-sent events, each checked
against OpenAI's schema for its event, and the order of a run that answers with a reply (the reading and the
order are ``infra/ops/event_stream.py``'s, which make bench shares)."""

from __future__ import annotations

import re
from typing import Any

from infra.ops.event_stream import REPLY_EVENTS, names, read_events, reply_text
from tests.contract.schemas import assert_valid

__all__ = ["REPLY_EVENTS", "SEARCHED_REPLY_EVENTS", "assert_valid_events", "events", "names", "reply_text"]

# A run that searches (one file_search step, its call in a delta), then answers with one reply, as OpenAI streams
# it: the reply's deltas left out (how many there are depends on when the stream looked).
SEARCHED_REPLY_EVENTS = [
    "thread.run.created",
    "thread.run.queued",
    "thread.run.in_progress",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.run.step.delta",
    "thread.run.step.completed",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.message.created",
    "thread.message.in_progress",
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
    """A whole stream's server-sent events as (event, data) (``infra/ops/event_stream.py`` reads them)."""
    return list(read_events(text.splitlines()))


def assert_valid_events(stream: list[tuple[str, Any]]) -> None:
    """A stream ends with ``done``, and every other event's data is valid for its event's schema."""
    assert stream, stream[-1:]
    assert stream[-1] == ("done", "[DONE]"), stream[-1:]
    for name, data in stream[:-1]:
        schema = next(s for pattern, s in _SCHEMAS if re.fullmatch(pattern, name))
        assert_valid(data, schema)
