"""Runs that never strand, through the real handlers on moto: whatever a worker meets, its claim included, the
run ends with a ``last_error`` and its thread is released; a run accepted is a run that can run, be cancelled
and stream to its end, however large; every tool call handed out can be answered."""

from __future__ import annotations

import os
import random
import string
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.contract.streams import events, reply_text
from tests.deployed.test_local_dynamodb import assert_item_size_rule
from tests.handlers.conftest import Api
from tests.handlers.runs_support import USAGE, Model, Runs, assistant, model, runs
from threads_api.domain.records import Run
from threads_api.providers import ChatResult, OnText, ToolCall

__all__ = ["assistant", "model", "runs"]  # fixtures

PROJECT = "alpha"  # the default key's
# Text that compresses little (six bits a character, at random): its size as stored is close to its length.
NOISE = "".join(random.Random(7).choices(string.ascii_letters + string.digits + "+/", k=400_000))
INSTRUCTIONS_MAX_CHARS = 256_000  # OpenAI's, and this API's (wire/assistant_bodies.py)


def _thread(api: Api, text: str = "What is the weather in Paris?") -> str:
    reply = api("POST", "/threads", {"messages": [{"role": "user", "content": text}]})
    return str(reply.body["id"])


def _run(api: Api, thread_id: str, body: dict[str, Any]) -> str:
    reply = api("POST", f"/threads/{thread_id}/runs", body)
    assert reply.status == 200, reply.body
    return str(reply.body["id"])


def _get(api: Api, thread_id: str, run_id: str) -> dict[str, Any]:
    return dict(api("GET", f"/threads/{thread_id}/runs/{run_id}").body)


def _largest_accepted(api: Api, runs: Runs, assistant_id: str) -> int:
    """How many characters of NOISE the largest run accepted holds as its instructions: with one more it is
    refused (each try is a new thread and run)."""

    def accepted(chars: int) -> bool:
        reply = api("POST", "/threads/runs", {"assistant_id": assistant_id, "instructions": NOISE[:chars]})
        assert reply.status in (200, 400), reply.body
        return reply.status == 200

    low, high = 0, INSTRUCTIONS_MAX_CHARS
    assert accepted(low)
    assert not accepted(high)
    while high - low > 1:
        middle = (low + high) // 2
        if accepted(middle):
            low = middle
        else:
            high = middle
    runs.queued.clear()  # those runs are never worked
    return low


_largest: list[int] = []  # per test process: the search's answer (the same for every assistant like the fixture's)


@pytest.fixture
def largest(api: Api, runs: Runs, assistant: dict[str, Any]) -> int:
    if not _largest:
        _largest.append(_largest_accepted(api, runs, assistant["id"]))
    return _largest[0]


# -- 1. the embedded DynamoDB's item size ------------------------------------------------------------------------


def test_the_handler_tests_moto_checks_an_items_size_as_dynamodb_does(dynamodb: Any) -> None:
    """The same rule as the local API's moto (tests/deployed/test_local_dynamodb.py): the item as the write leaves
    it, its local index entry included; a replaced value is not counted twice."""
    assert_item_size_rule(dynamodb, os.environ["TABLE_NAME"])


# -- 2. a claim that fails ---------------------------------------------------------------------------------------


def test_a_claim_that_fails_on_a_store_error_fails_the_run_at_once_and_releases_its_thread(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from threads_api.runs import worker

    thread_id = _thread(api)
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"]})
    save = worker.save_run
    failures: list[str] = []

    def fails_once(*args: Any, **kwargs: Any) -> Run:
        if not failures:
            failures.append("claim")
            error = {"Error": {"Code": "ValidationException", "Message": "Item size has exceeded the maximum"}}
            raise ClientError(error, "TransactWriteItems")  # type: ignore[arg-type]
        return save(*args, **kwargs)

    monkeypatch.setattr(worker, "save_run", fails_once)
    runs.work()
    run = _get(api, thread_id, run_id)
    assert (run["status"], run["last_error"]["code"]) == ("failed", "server_error")
    assert run["failed_at"] is not None
    assert model.requests == []  # the model was never asked
    assert _run(api, thread_id, {"assistant_id": assistant["id"]})  # the thread is free


def test_a_claim_whose_failure_cannot_be_recorded_either_is_logged_and_the_worker_returns(
    api: Api, runs: Runs, assistant: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from threads_api.runs import worker

    thread_id = _thread(api)
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"]})

    def fails(*args: Any, **kwargs: Any) -> Run:
        raise ConnectionError("the store is gone")

    monkeypatch.setattr(worker, "save_run", fails)
    runs.work()  # no exception out of the worker
    assert _get(api, thread_id, run_id)["status"] == "queued"  # it expires at its expires_at
    assert {"run not claimed", "run not failed"} <= {r.getMessage() for r in caplog.records}


# -- 3. and 4. a run at the size limits: accepted, it runs, cancels and streams; past them, a 400 -------------------


def test_a_run_one_character_past_the_largest_accepted_is_a_400_naming_the_cause(
    api: Api, runs: Runs, assistant: dict[str, Any], largest: int
) -> None:
    for chars in (largest + 1, INSTRUCTIONS_MAX_CHARS):
        reply = api("POST", "/threads/runs", {"assistant_id": assistant["id"], "instructions": NOISE[:chars]})
        assert reply.status == 400, reply.body
        error = reply.body["error"]
        assert error["code"] == "run_too_large"
        assert "too large to store" in error["message"]
        assert "room" in error["message"]  # what the run needs beside what it was given
    assert runs.queued == []


def test_the_largest_run_accepted_is_claimed_and_completes(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any], largest: int
) -> None:
    """Its claim adds a status, started_at and a worker id (here one longer than Lambda's), its end a step,
    usage and completed_at: the room left for them is there."""
    thread_id = _thread(api)
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"], "instructions": NOISE[:largest]})
    (event,) = runs.queued
    runs.queued.clear()
    runs.run(event, "r" * 100)
    run = _get(api, thread_id, run_id)
    assert run["status"] == "completed", run["last_error"]
    assert model.requests[0]["messages"][0]["content"] == NOISE[:largest]


def test_the_largest_run_accepted_whose_metadata_grows_to_its_largest_still_completes(
    api: Api, runs: Runs, assistant: dict[str, Any], largest: int
) -> None:
    thread_id = _thread(api)
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"], "instructions": NOISE[:largest]})
    # 16 pairs, each character of them six bytes as stored (a control character, escaped in JSON).
    metadata = {chr(1) * 63 + chr(n + 1): chr(2) * 512 for n in range(16)}
    modified = api("POST", f"/threads/{thread_id}/runs/{run_id}", {"metadata": metadata})
    assert modified.status == 200, modified.body
    runs.work()
    assert _get(api, thread_id, run_id)["status"] == "completed"


def test_the_largest_run_accepted_is_cancelled_queued_or_working_with_a_200(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any], largest: int
) -> None:
    body = {"assistant_id": assistant["id"], "instructions": NOISE[:largest]}
    thread_id = _thread(api)
    run_id = _run(api, thread_id, body)
    cancelled = api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel")
    assert (cancelled.status, cancelled.body["status"]) == (200, "cancelled")
    runs.queued.clear()

    working = _run(api, thread_id, body)
    answered = model.complete
    cancels: list[Any] = []

    def cancelled_meanwhile(request: dict[str, Any], **kwargs: Any) -> ChatResult:
        cancels.append(api("POST", f"/threads/{thread_id}/runs/{working}/cancel"))
        return answered(request, **kwargs)

    model.complete = cancelled_meanwhile  # type: ignore[method-assign]
    runs.work()
    assert [(c.status, c.body["status"]) for c in cancels] == [(200, "cancelling")]
    assert _get(api, thread_id, working)["status"] == "cancelled"


def test_a_run_whose_instructions_are_at_their_cap_is_cancelled_with_a_200(
    api: Api, runs: Runs, assistant: dict[str, Any]
) -> None:
    """256,000 characters of instructions, as an assistant may hold them: stored (compressed), and cancelled."""
    instructions = ("Be brief, and answer in the user's language. " * 6_000)[:INSTRUCTIONS_MAX_CHARS]
    thread_id = _thread(api)
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"], "instructions": instructions})
    cancelled = api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel")
    assert (cancelled.status, cancelled.body["status"]) == (200, "cancelled")
    assert cancelled.body["instructions"] == instructions


# -- 5. a streamed reply as long as an unstreamed one ------------------------------------------------------------

REPLY = NOISE[:395_000]


class Pieces:
    """A provider whose answer, streamed, comes 20,000 characters at a time; after each piece it keeps the run
    as the worker saved it (``saved``)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.saved: list[Run] = []
        self.run: tuple[str, str] | None = None  # (thread id, run id) of the run whose saves are kept

    def complete(
        self, request: dict[str, Any], *, deadline: float, stream: bool = False, on_text: OnText | None = None
    ) -> ChatResult:
        from threads_api.store.runs import load_run

        if on_text is not None:
            for end in range(20_000, len(self.text), 20_000):
                on_text(self.text[:end])
                loaded = load_run(*self.run) if self.run else None
                if loaded is not None:
                    self.saved.append(loaded[1])
        return ChatResult(self.text, [], "stop", USAGE)


@pytest.fixture
def pieces(runs: Runs, monkeypatch: pytest.MonkeyPatch) -> Pieces:
    from handlers import run_worker
    from threads_api.runs import worker

    provider = Pieces(REPLY)
    monkeypatch.setattr(run_worker, "PROVIDER", provider)
    monkeypatch.setattr(worker, "PROGRESS_SECONDS", 0.0)  # every piece is saved, while it fits
    monkeypatch.setattr(worker, "PROGRESS_WRITE_UNITS_PER_SECOND", 1e12)
    return provider


@pytest.mark.parametrize("stream", [False, True])
def test_a_reply_of_395000_characters_completes_streamed_or_not(
    api: Api, runs: Runs, assistant: dict[str, Any], pieces: Pieces, stream: bool
) -> None:
    thread_id = _thread(api)
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"], "stream": stream})
    pieces.run = (thread_id, run_id)
    runs.work()
    run = _get(api, thread_id, run_id)
    assert run["status"] == "completed", run["last_error"]
    (reply,) = api("GET", f"/threads/{thread_id}/messages?run_id={run_id}").body["data"]
    assert reply["content"][0]["text"]["value"] == REPLY
    if stream:  # the text so far was saved while it fitted the run's item, then no more
        partials = [len(r.partial or "") for r in pieces.saved]
        assert 0 < max(partials) < len(REPLY)


def test_a_stream_whose_text_so_far_stopped_being_saved_sends_the_rest_from_the_reply(
    api: Api, runs: Runs, assistant: dict[str, Any], pieces: Pieces
) -> None:
    """The stream's follower, fed the run as the worker saved it piece by piece, then as it ended: the deltas
    of the text so far, then the rest from the reply's message, the whole text once."""
    from threads_api import store
    from threads_api.runs import events as run_events

    thread_id = _thread(api)
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"], "stream": True})
    start = store.get_run(PROJECT, thread_id, run_id)
    pieces.run = (thread_id, run_id)
    runs.work()
    follower = run_events._Follower(PROJECT, start)
    chunks = [c for run in [*pieces.saved, store.get_run(PROJECT, thread_id, run_id)] for c in follower.events(run)]
    stream = events("".join(chunks))
    assert reply_text(stream) == REPLY
    assert sum(name == "thread.message.delta" for name, _ in stream) > 2  # pieces first, then the rest
    assert stream[-1][0] == "thread.run.completed"


def test_the_largest_run_accepted_streams_a_long_reply_to_its_end(
    api: Api, runs: Runs, assistant: dict[str, Any], pieces: Pieces, largest: int
) -> None:
    thread_id = _thread(api)
    body = {"assistant_id": assistant["id"], "instructions": NOISE[:largest], "stream": True}
    runs.immediate = True
    reply = api("POST", f"/threads/{thread_id}/runs", body)
    stream = events(reply.body)
    assert stream[-2][0] == "thread.run.completed"
    assert reply_text(stream) == REPLY


# -- 6. a tool call id longer than 64 characters -----------------------------------------------------------------


@pytest.mark.parametrize("length", [100, 256])
def test_a_long_tool_call_id_is_handed_out_as_given_and_answered(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any], length: int
) -> None:
    call_id = ("call_" + "x" * length)[:length]
    thread_id = _thread(api)
    model.replies = [ChatResult(None, [ToolCall(call_id, "get_weather", "{}")], "tool_calls", USAGE)]
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"]})
    runs.work()
    (asked,) = _get(api, thread_id, run_id)["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert asked["id"] == call_id
    path = f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"
    submitted = api("POST", path, {"tool_outputs": [{"tool_call_id": call_id, "output": "18C"}]})
    assert submitted.status == 200, submitted.body
    runs.work()
    assert _get(api, thread_id, run_id)["status"] == "completed"
    assert model.requests[1]["messages"][-1] == {"role": "tool", "tool_call_id": call_id, "content": "18C"}


def test_a_tool_call_id_longer_than_any_answer_may_name_is_handed_out_as_a_short_one_and_answered(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    call_id = "call_" + "y" * 5_000
    thread_id = _thread(api)
    model.replies = [ChatResult(None, [ToolCall(call_id, "get_weather", "{}")], "tool_calls", USAGE)]
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"]})
    runs.work()
    (asked,) = _get(api, thread_id, run_id)["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert asked["id"].startswith("call_")
    assert len(asked["id"]) <= 64
    path = f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"
    submitted = api("POST", path, {"tool_outputs": [{"tool_call_id": asked["id"], "output": "18C"}]})
    assert submitted.status == 200, submitted.body
    runs.work()
    assert _get(api, thread_id, run_id)["status"] == "completed"
    sent = model.requests[1]["messages"]
    assert sent[-2]["tool_calls"][0]["id"] == sent[-1]["tool_call_id"] == asked["id"]
