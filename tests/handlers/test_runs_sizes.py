"""Runs at the size limits, through the real handlers on moto: a run accepted is a run that can be taken by its
worker, end, be cancelled and stream to its end, however large (it keeps room for all of that); one past the
limit is a 400 naming the cause. A reply as long as an unstreamed one completes streamed too."""

from __future__ import annotations

import random
import string
from typing import Any

import pytest

from tests.contract.streams import events, reply_text
from tests.handlers.conftest import Api
from tests.handlers.runs_support import USAGE, Model, Runs, assistant, model, runs
from tests.handlers.test_runs_strand import PROJECT, _get, _run, _thread
from threads_api.domain.records import Run
from threads_api.providers import ChatResult, OnText

__all__ = ["assistant", "model", "runs"]  # fixtures

# Text that compresses little (six bits a character, at random): its size as stored is close to its length.
NOISE = "".join(random.Random(7).choices(string.ascii_letters + string.digits + "+/", k=400_000))
INSTRUCTIONS_MAX_CHARS = 256_000  # OpenAI's, and this API's (wire/assistant_bodies.py)


def _largest_accepted(api: Api, runs: Runs, assistant_id: str) -> int:
    """How many characters of NOISE the largest run accepted holds as its instructions: with one more it is
    refused (each try is a new thread and run). Compressed with the run's random ids, the same instructions
    take a byte or two more or less in another run: ``MARGIN`` characters cover that."""

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


MARGIN = 16  # characters of NOISE: about 12 bytes compressed
_largest: list[int] = []  # per test process: the search's answer (the same for every assistant like the fixture's)


@pytest.fixture
def largest(api: Api, runs: Runs, assistant: dict[str, Any]) -> int:
    if not _largest:
        _largest.append(_largest_accepted(api, runs, assistant["id"]))
    return _largest[0]


# -- 3. and 4. a run at the size limits: accepted, it runs, cancels and streams; past them, a 400 -------------------


def test_a_run_just_past_the_largest_accepted_is_a_400_naming_the_cause(
    api: Api, runs: Runs, assistant: dict[str, Any], largest: int
) -> None:
    for chars in (largest + MARGIN, INSTRUCTIONS_MAX_CHARS):
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
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"], "instructions": NOISE[: largest - MARGIN]})
    (event,) = runs.queued
    runs.queued.clear()
    runs.run(event, "r" * 100)
    run = _get(api, thread_id, run_id)
    assert run["status"] == "completed", run["last_error"]
    assert model.requests[0]["messages"][0]["content"] == NOISE[: largest - MARGIN]


def test_the_largest_run_accepted_whose_metadata_grows_to_its_largest_still_completes(
    api: Api, runs: Runs, assistant: dict[str, Any], largest: int
) -> None:
    thread_id = _thread(api)
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"], "instructions": NOISE[: largest - MARGIN]})
    # 16 pairs, each character of them six bytes as stored (a control character, escaped in JSON).
    metadata = {chr(1) * 63 + chr(n + 1): chr(2) * 512 for n in range(16)}
    modified = api("POST", f"/threads/{thread_id}/runs/{run_id}", {"metadata": metadata})
    assert modified.status == 200, modified.body
    runs.work()
    assert _get(api, thread_id, run_id)["status"] == "completed"


def test_the_largest_run_accepted_is_cancelled_queued_or_working_with_a_200(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any], largest: int
) -> None:
    body = {"assistant_id": assistant["id"], "instructions": NOISE[: largest - MARGIN]}
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
        self, request: dict[str, Any], *, deadline: float, on_text: OnText | None = None, **_: Any
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
    from threads_api.runs import events as run_events
    from threads_api.runs import progress

    provider = Pieces(REPLY)
    monkeypatch.setattr(run_worker, "PROVIDER", provider)
    monkeypatch.setattr(run_events, "STREAM_WAIT_SECONDS", 0.2)  # a stream that finds its run queued ends soon
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 0.0)  # every piece is saved, while it fits
    monkeypatch.setattr(progress, "PROGRESS_WRITE_UNITS_PER_SECOND", 1e12)
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
    follower = run_events.Follower(PROJECT, start)
    chunks = [c for run in [*pieces.saved, store.get_run(PROJECT, thread_id, run_id)] for c in follower.events(run)]
    stream = events("".join(chunks))
    assert reply_text(stream) == REPLY
    assert sum(name == "thread.message.delta" for name, _ in stream) > 2  # pieces first, then the rest
    assert stream[-1][0] == "thread.run.completed"


def test_the_largest_run_accepted_streams_a_long_reply_to_its_end(
    api: Api, runs: Runs, assistant: dict[str, Any], pieces: Pieces, largest: int
) -> None:
    thread_id = _thread(api)
    body = {"assistant_id": assistant["id"], "instructions": NOISE[: largest - MARGIN], "stream": True}
    runs.immediate = True
    reply = api("POST", f"/threads/{thread_id}/runs", body)
    stream = events(reply.body)
    assert stream[-2][0] == "thread.run.completed"
    assert reply_text(stream) == REPLY
