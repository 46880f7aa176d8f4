"""A stream's events, from the run as it is read each time it changed: no DynamoDB, no HTTP (the reply's
message, read once it is written, comes from a stub)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.contract.streams import assert_valid_events
from tests.unit.test_run_lifecycle import NOW, _assistant, _body
from threads_api import store
from threads_api.domain import clock, lifecycle
from threads_api.domain.records import Message, Run
from threads_api.runs import events

TEXT = "Hello world"


def _parsed(chunks: list[str]) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for chunk in chunks:
        name, data = (line.split(": ", 1)[1] for line in chunk.strip().split("\n"))
        out.append((name, data if data == "[DONE]" else json.loads(data)))
    return out


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setattr(clock, "now_ms", lambda: NOW * 1000)
    return lifecycle.new_run("thread_1", _assistant(), _body(stream=True), "run_1", NOW)


def test_a_reply_written_as_the_model_answers_is_sent_in_pieces_then_completed(
    queued: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_id, message_id = lifecycle.reply_ids(queued)
    content = [{"type": "text", "text": {"value": TEXT, "annotations": []}}]
    reply = Message(message_id, "thread_1", NOW, "assistant", content, [], {}, "asst_1", "run_1")
    monkeypatch.setattr(store, "get_message", lambda project, thread_id, mid: reply)
    working = dataclasses.replace(queued, status="in_progress", started_at=NOW)
    follower = events.Follower("p", queued)
    chunks = [*follower.events(queued)]
    for text in ("Hel", "Hel", "Hello w", "Hi, a retry's new start", "Hello w"):  # a repeat, and a retry: no piece
        chunks += follower.events(dataclasses.replace(working, partial=text))
    step = lifecycle.step(working, step_id, "message_creation", {"message_id": message_id}, NOW, None)
    chunks += follower.events(lifecycle.ended(dataclasses.replace(working, steps=[step]), "completed", NOW))
    stream = _parsed(chunks)
    assert [name for name, _ in stream] == [
        "thread.run.in_progress",
        "thread.run.step.created",
        "thread.run.step.in_progress",
        "thread.message.created",
        "thread.message.in_progress",
        "thread.message.delta",
        "thread.message.delta",
        "thread.message.delta",
        "thread.message.completed",
        "thread.run.step.completed",
        "thread.run.completed",
    ]
    pieces = [data["delta"]["content"][0]["text"]["value"] for name, data in stream if name.endswith("delta")]  # type: ignore[index]
    assert pieces == ["Hel", "lo w", "orld"]
    assert "".join(pieces) == TEXT
    assert stream[3][1]["id"] == message_id  # type: ignore[index]
    assert stream[1][1]["id"] == step_id  # type: ignore[index]
    assert_valid_events([*stream, ("done", "[DONE]")])


def test_a_run_cancelled_while_the_model_answers_says_cancelling_once_then_cancelled(queued: Run) -> None:
    working = dataclasses.replace(queued, status="in_progress", started_at=NOW)
    cancelling = dataclasses.replace(working, status="cancelling", version=working.version + 1)
    follower = events.Follower("p", queued)
    chunks = [*follower.events(queued), *follower.events(working), *follower.events(cancelling)]
    chunks += follower.events(cancelling)  # read again, unchanged: nothing new
    chunks += follower.events(lifecycle.ended(cancelling, "cancelled", NOW))
    stream = _parsed(chunks)
    assert [name for name, _ in stream] == ["thread.run.in_progress", "thread.run.cancelling", "thread.run.cancelled"]
    assert [data["status"] for _, data in stream] == ["in_progress", "cancelling", "cancelled"]  # type: ignore[index]
    assert_valid_events([*stream, ("done", "[DONE]")])


def test_a_stream_whose_run_expires_by_time_ends_with_thread_run_expired(
    queued: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No write announces an expiry (the run reads expired at its expires_at): the stream still tells it."""
    working = dataclasses.replace(queued, status="in_progress", started_at=NOW, expires_at=NOW + 1)
    ticks = iter(range(NOW * 1000, NOW * 1000 + 60_000, 400))  # each look at the clock, 0.4 s later
    monkeypatch.setattr(clock, "now_ms", lambda: next(ticks))
    monkeypatch.setattr(events, "run_version", lambda thread_id, run_id: working.version)  # nothing written
    monkeypatch.setattr(events, "POLL_SECONDS", 0.0)
    monkeypatch.setattr(events, "SLOW_POLL_SECONDS", 0.0)
    stream = _parsed(list(events.followed("p", working, time_left=lambda: 60.0)))
    assert [name for name, _ in stream][-2:] == ["thread.run.expired", "done"]
    assert [name for name, _ in stream].count("thread.run.expired") == 1
