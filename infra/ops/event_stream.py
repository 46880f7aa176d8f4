"""A run's stream (``stream: true``) as a client reads it: the server-sent events parsed as they arrive, the
order in which OpenAI streams a run that answers with a reply, and what a client makes of the events (their
names, a reply's deltas as one; the reply's text).

The tests (``tests/contract/streams.py``, which adds the schema checks) and ``make bench``'s streams both read
streams this way; it lives here because ``bench/`` may not import from ``tests/`` (tests/test_imports.py), and
not in ``functions/``, whose own streams it is what the checks compare against.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

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


def read_events(lines: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """Server-sent events as (event, data), each as soon as the blank line that ends it is read: data is JSON,
    or the final ``[DONE]``. Comments (``: keep-alive``, lines a client skips) are skipped; an event without
    its ``event`` or ``data`` line, or a line that is not ``name: value``, raises (a test's stream is exact)."""
    fields: dict[str, str] = {}
    for line in itertools.chain(lines, [""]):  # the last event may lack its blank line
        if line.startswith(":"):
            continue
        if line:
            name, value = line.split(": ", 1)
            fields[name] = value
        elif fields:
            data = fields["data"]
            yield fields["event"], data if data == "[DONE]" else json.loads(data)
            fields = {}


def names(stream: Iterable[tuple[str, Any]]) -> list[str]:
    """The events' names, a run of ``thread.message.delta`` as one: how many pieces a reply comes in depends
    on when the stream looked at it."""
    out: list[str] = []
    for name, _ in stream:
        if not (name == "thread.message.delta" and out and out[-1] == name):
            out.append(name)
    return out


def reply_text(stream: Iterable[tuple[str, Any]]) -> str:
    """The reply's text as a client puts it together from the deltas."""
    return "".join(
        part["text"]["value"]
        for name, data in stream
        if name == "thread.message.delta"
        for part in data["delta"]["content"]
        if part.get("type") == "text"
    )
