"""Runs with ``stream: true`` through the real handlers: the run's events in OpenAI's order, a created thread's
event first, and a stream that ends without a final run event when the run goes on past its wait."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.streams import REPLY_EVENTS, assert_valid_events, events, names, reply_text
from tests.handlers.conftest import Api
from tests.handlers.runs_support import Runs, _thread, assistant, model, runs

__all__ = ["assistant", "model", "runs"]  # fixtures


def test_stream_answers_the_runs_events_in_openais_order(api: Api, runs: Runs, assistant: dict[str, Any]) -> None:
    thread_id = _thread(api)
    runs.immediate = True
    reply = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"], "stream": True})
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    stream = events(reply.body)
    assert names(stream) == REPLY_EVENTS
    assert reply_text(stream) == "Hello!"
    assert_valid_events(stream)
    assert [stream[0][1]["status"], stream[2][1]["status"], stream[-2][1]["status"]] == [
        "queued",
        "in_progress",
        "completed",
    ]


def test_create_thread_and_run_makes_both_and_streams_thread_created_first(
    api: Api, runs: Runs, assistant: dict[str, Any]
) -> None:
    body = {"assistant_id": assistant["id"], "thread": {"messages": [{"role": "user", "content": "Hi"}]}}
    created = api("POST", "/threads/runs", body)
    assert created.status == 200
    assert created.body["status"] == "queued"
    runs.work()
    thread_id = created.body["thread_id"]
    assert [m["role"] for m in api("GET", f"/threads/{thread_id}/messages").body["data"]] == ["assistant", "user"]
    runs.immediate = True
    streamed = api("POST", "/threads/runs", body | {"stream": True})
    seen = names(events(streamed.body))
    assert seen[:3] == ["thread.created", "thread.run.created", "thread.run.queued"]
    assert seen[-2:] == ["thread.run.completed", "done"]


def test_a_stream_whose_run_goes_on_past_the_wait_ends_without_a_final_run_event(
    api: Api, runs: Runs, assistant: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from threads_api.runs import events as run_events

    monkeypatch.setattr(run_events, "STREAM_WAIT_SECONDS", 0.3)  # the worker is never run here: the run stays queued
    thread_id = _thread(api)
    reply = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"], "stream": True})
    stream = events(reply.body)
    assert [name for name, _ in stream] == ["thread.run.created", "thread.run.queued", "done"]
    assert_valid_events(stream)
    run_id = stream[0][1]["id"]
    runs.work()  # the run goes on, and completes: the client follows it by reading it
    assert api("GET", f"/threads/{thread_id}/runs/{run_id}").body["status"] == "completed"
