"""A run whose search cannot be made fails with a ``last_error`` that says why, and releases its thread: the
assistant's store deleted, the thread's expired (``invalid_prompt``: the client must change something), the
embeddings provider failing, retryable or not, or S3 Vectors failing (``server_error``). Never a 5xx: every read
of the run, its steps and its thread answers 200, and the thread takes a new run."""

from __future__ import annotations

from typing import Any

import pytest

from tests.handlers.conftest import Api
from tests.handlers.file_search_support import (
    Library,
    library,
    read_run,
    reply,
    search_call,
    searched,
    searcher,
    start,
    steps,
    thread,
)
from tests.handlers.runs_support import Model, Runs, model, runs
from tests.handlers.vector_stores_support import ingestion, new_store
from threads_api.embeddings import EmbeddingError
from threads_api.providers import ChatResult

__all__ = ["ingestion", "library", "model", "runs", "searcher"]


def _failed_and_released(api: Api, thread_id: str, run: dict[str, Any], assistant: dict[str, Any]) -> dict[str, Any]:
    """The run failed, nothing half-written (no step of the round), every read a 200, and the thread free."""
    assert run["status"] == "failed"
    assert run["failed_at"] is not None
    assert steps(api, thread_id, run["id"]) == []
    assert api("GET", f"/threads/{thread_id}/messages").status == 200
    assert api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).status == 200
    return dict(run["last_error"])


def test_the_assistants_store_deleted_fails_the_run_invalid_prompt(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    assert api("DELETE", f"/vector_stores/{library.store_id}").status == 200
    thread_id, run = searched(api, runs, model, searcher, [search_call("warranty"), reply("unused")])
    assert _failed_and_released(api, thread_id, run, searcher) == {
        "code": "invalid_prompt",
        "message": f"The assistant's vector store {library.store_id} was not found: it was deleted, or belongs to "
        "another project. Change the assistant's tool_resources.",
    }
    assert len(model.requests) == 1


def test_the_threads_store_expired_fails_the_run_invalid_prompt(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from threads_api.domain import clock

    store_id = new_store(api, {"name": "t", "expires_after": {"anchor": "last_active_at", "days": 1}})["id"]
    thread_id = thread(api, tool_resources={"file_search": {"vector_store_ids": [store_id]}})
    now_ms = clock.now_ms
    monkeypatch.setattr(clock, "now_ms", lambda: now_ms() + 2 * 86_400_000)
    model.replies = [search_call("warranty")]
    run_id = start(api, thread_id, searcher)
    runs.work()
    run = read_run(api, thread_id, run_id)
    assert _failed_and_released(api, thread_id, run, searcher) == {
        "code": "invalid_prompt",
        "message": f"The thread's vector store {store_id} expired (1 day without activity) and can no longer be "
        "searched.",
    }


class _Failing:
    name = "failing"
    dimensions = 8

    def __init__(self, retryable: bool) -> None:
        self.retryable = retryable

    def embed(self, texts: list[str], *, deadline: float) -> list[list[float]]:
        raise EmbeddingError("The embeddings provider answered 503.", self.retryable)


@pytest.mark.parametrize("retryable", [True, False])
def test_the_embeddings_provider_failing_fails_the_run_server_error(
    api: Api,
    runs: Runs,
    model: Model,
    searcher: dict[str, Any],
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
    retryable: bool,
) -> None:
    from threads_api.runs import searching

    monkeypatch.setattr(searching, "embedder", lambda: _Failing(retryable))
    thread_id, run = searched(api, runs, model, searcher, [search_call("warranty")])
    assert _failed_and_released(api, thread_id, run, searcher) == {
        "code": "server_error",
        "message": "The embeddings provider failed the search: The embeddings provider answered 503.",
    }


def test_s3_vectors_failing_fails_the_run_on_an_internal_error(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    from threads_api.index import s3vectors

    def query(*_: Any, **__: Any) -> Any:
        raise ConnectionError("S3 Vectors unreachable")

    monkeypatch.setattr(s3vectors, "query", query)
    thread_id, run = searched(api, runs, model, searcher, [search_call("warranty")])
    assert _failed_and_released(api, thread_id, run, searcher) == {
        "code": "server_error",
        "message": "The run failed on an internal error.",
    }


def test_a_reply_written_beside_a_failed_search_is_kept_incomplete(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    """A streamed reply's text a stream was told, then the search beside it failing: the text is kept, as the
    stream told it (its message incomplete, its step failed with the run)."""
    assert api("DELETE", f"/vector_stores/{library.store_id}").status == 200
    model.replies = [ChatResult("Let me look that up.", search_call("warranty").tool_calls, "tool_calls", None)]
    thread_id = thread(api)
    runs.immediate = True
    answer = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": searcher["id"], "stream": True})
    assert answer.status == 200
    run = api("GET", f"/threads/{thread_id}/runs?limit=1").body["data"][0]
    assert (run["status"], run["last_error"]["code"]) == ("failed", "invalid_prompt")
    (kept,) = steps(api, thread_id, run["id"])
    assert (kept["type"], kept["status"]) == ("message_creation", "failed")
    message = api("GET", f"/threads/{thread_id}/messages?limit=1").body["data"][0]
    assert (message["status"], message["incomplete_details"]) == ("incomplete", {"reason": "run_failed"})
    assert message["content"][0]["text"]["value"] == "Let me look that up."
