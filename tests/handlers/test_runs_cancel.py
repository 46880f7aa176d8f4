"""A cancel ends a run within seconds whatever the model does, through the real handlers and the worker on the
scripted model server: no model call starts after it (the provider's retries stop), an answer still awaited is
abandoned, and a run whose worker is gone reads cancelled soon after, its thread free again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from infra.ops.chat_server import ChatServer, error
from tests.handlers.conftest import Api
from tests.handlers.runs_support import USAGE, Model, Runs, _thread, assistant, model, runs
from threads_api.domain import clock, lifecycle
from threads_api.providers import ChatResult

__all__ = ["assistant", "model", "runs"]  # fixtures

SOON = 2.5  # seconds: a cancel's worker ends the run within this


@pytest.fixture
def chat(runs: Runs, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatServer]:
    """The worker's provider: the OpenAI-compatible one, on the scripted model server."""
    from handlers import run_worker
    from threads_api.providers.openai_compatible import OpenAICompatible

    with ChatServer(hold_seconds=30) as server:
        monkeypatch.setattr(run_worker, "PROVIDER", OpenAICompatible(server.url, timeout=30))
        yield server
    assert not server.invalid


def _working(api: Api, runs: Runs, assistant: dict[str, Any], content: str) -> tuple[str, str, threading.Thread]:
    """A run whose worker runs in another thread, as Lambda runs it, until the model has been asked once."""
    thread_id = _thread(api, content)
    run_id = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).body["id"]
    (event,) = runs.queued
    runs.queued.clear()
    worker = threading.Thread(target=runs.run, args=(event, "request-1"), daemon=True)
    worker.start()
    return thread_id, str(run_id), worker


def _cancelled_soon(api: Api, chat: ChatServer, thread_id: str, run_id: str, worker: threading.Thread) -> None:
    """Cancel once the model has been asked: the run reads cancelled within ``SOON`` seconds, the worker is
    done, and no request reached the model after the cancel."""
    deadline = time.monotonic() + 10
    while not chat.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    assert chat.requests
    cancelled = api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel")
    assert cancelled.body["status"] == "cancelling", cancelled.body
    asked, since = len(chat.requests), time.monotonic()
    while api("GET", f"/threads/{thread_id}/runs/{run_id}").body["status"] != "cancelled":
        assert time.monotonic() - since < SOON, "the run still reads cancelling"
        time.sleep(0.05)
    worker.join(SOON)
    assert not worker.is_alive()
    assert len(chat.requests) == asked
    assert api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": "again"}).status == 200


def test_a_cancel_stops_the_providers_retries(
    api: Api, runs: Runs, chat: ChatServer, assistant: dict[str, Any]
) -> None:
    chat.script(*[error(429, retry_after="1")] * 8)  # eight attempts, a second apart: the run would take 7 s
    thread_id, run_id, worker = _working(api, runs, assistant, "Hello")
    _cancelled_soon(api, chat, thread_id, run_id, worker)


def test_a_cancel_abandons_an_answer_the_model_is_slow_to_give(
    api: Api, runs: Runs, chat: ChatServer, assistant: dict[str, Any]
) -> None:
    thread_id, run_id, worker = _working(api, runs, assistant, "Hello [[hold:never-answered]]")
    _cancelled_soon(api, chat, thread_id, run_id, worker)


class _Died(BaseException):
    """The worker's process dying mid-call: nothing in it runs any more."""


def test_a_run_cancelling_whose_worker_is_gone_reads_cancelled_soon_and_frees_its_thread(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_id = _thread(api)
    model.replies = [_Died(), ChatResult("Late.", [], "stop", USAGE)]
    run_id = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).body["id"]
    (event,) = runs.queued
    with pytest.raises(_Died):
        runs.run(event, "request-1")
    cancelling = api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel").body
    assert cancelling["status"] == "cancelling"
    then = clock.now_ms()
    monkeypatch.setattr(clock, "now_ms", lambda: then + (lifecycle.CANCEL_SECONDS + 1) * 1000)
    run = api("GET", f"/threads/{thread_id}/runs/{run_id}").body
    assert run["status"] == "cancelled"
    assert run["cancelled_at"] is not None
    assert api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).status == 200
