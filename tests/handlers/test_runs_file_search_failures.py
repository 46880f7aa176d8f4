"""A run whose search cannot be made fails with a ``last_error`` that says why, and releases its thread: the
assistant's store deleted, the thread's expired (``invalid_prompt``: the client must change something), the
embeddings provider failing, retryable or not, or S3 Vectors failing (``server_error``). Never a 5xx: every read
of the run, its steps and its thread answers 200, and the thread takes a new run. And the thread's store still
ingesting: waited for, searched as it is past the wait, and a cancel during the wait."""

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
from tests.handlers.vector_stores_support import Ingestion, add_file, ingestion, new_file, new_store
from threads_api.domain import file_search
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


def _pending_thread_store(api: Api) -> tuple[str, str]:
    """A store whose one file is added but not ingested yet (its ingestion queued): its id and the file's."""
    store_id = new_store(api, {"name": "thread"})["id"]
    file_id = new_file(api, "fan.txt", "The fan turns at 1200 rpm in turbo mode.")
    add_file(api, store_id, file_id)
    return store_id, file_id


def test_the_thread_store_still_ingesting_is_waited_for(
    api: Api, runs: Runs, model: Model, ingestion: Ingestion, searcher: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from threads_api.runs import searching

    store_id, file_id = _pending_thread_store(api)
    slept: list[float] = []

    def pause() -> None:  # the ingestion ends during the wait
        slept.append(searching.WAIT_POLL_SECONDS)
        ingestion.work()

    monkeypatch.setattr(searching, "_pause", pause)
    model.replies = [search_call("fan turbo rpm"), reply("1200 rpm.")]
    thread_id = thread(api, tool_resources={"file_search": {"vector_store_ids": [store_id]}})
    run_id = start(api, thread_id, searcher)
    runs.work()
    assert read_run(api, thread_id, run_id)["status"] == "completed"
    assert slept == [searching.WAIT_POLL_SECONDS]
    results = steps(api, thread_id, run_id)[0]["step_details"]["tool_calls"][0]["file_search"]["results"]
    assert file_id in [r["file_id"] for r in results]


def test_past_the_wait_the_completed_files_are_searched(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_id, file_id = _pending_thread_store(api)
    monkeypatch.setattr(file_search, "STORE_WAIT_SECONDS", 1)
    model.replies = [search_call("fan turbo rpm warranty"), reply("No idea.")]
    thread_id = thread(api, tool_resources={"file_search": {"vector_store_ids": [store_id]}})
    run_id = start(api, thread_id, searcher)
    runs.work()
    assert read_run(api, thread_id, run_id)["status"] == "completed"
    results = steps(api, thread_id, run_id)[0]["step_details"]["tool_calls"][0]["file_search"]["results"]
    found = {r["file_id"] for r in results}
    assert file_id not in found
    assert library.files["warranty terms.txt"] in found  # the assistant's store, searched beside


def test_a_cancel_during_the_store_wait_ends_the_run_cancelled(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from threads_api.runs import searching

    store_id, _ = _pending_thread_store(api)
    model.replies = [search_call("fan")]
    thread_id = thread(api, tool_resources={"file_search": {"vector_store_ids": [store_id]}})
    run_id = start(api, thread_id, searcher)

    def pause() -> None:
        cancelled = api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel")
        assert cancelled.status == 200, cancelled.body

    monkeypatch.setattr(searching, "_pause", pause)
    runs.work()
    run = read_run(api, thread_id, run_id)
    assert run["status"] == "cancelled"
    assert run["usage"] is None or run["usage"]["total_tokens"] >= 0
    assert steps(api, thread_id, run_id) == []  # the round was not saved
    assert len(model.requests) == 1
    assert api("POST", f"/threads/{thread_id}/runs", {"assistant_id": searcher["id"]}).status == 200


def test_a_cancel_during_the_search_writes_no_record_of_it(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run is cancelled while its search is made: the search's records are conditional on the run's
    version, so none is written (nothing would ever delete them), and the run ends cancelled."""
    from threads_api.runs import searching

    model.replies = [search_call("fan"), reply("never asked")]
    thread_id = thread(api)
    run_id = start(api, thread_id, searcher)
    made = searching.search

    def cancelled_first(*args: Any, **kwargs: Any) -> Any:
        assert api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel").status == 200
        return made(*args, **kwargs)

    monkeypatch.setattr(searching, "search", cancelled_first)
    runs.work()
    assert read_run(api, thread_id, run_id)["status"] == "cancelled"
    assert [i["sk"]["S"] for i in api.items(f"{thread_id}#runs") if "#fs#" in i["sk"]["S"]] == []


def test_a_round_of_more_calls_than_one_transaction_takes_keeps_every_record(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    """120 parallel calls: their records exceed the round's transaction (100 items), so they are written first,
    in batches, each conditional on the run's version; every call's answer reaches the model's next request."""
    many = search_call(*[f"warranty {n}" for n in range(120)])
    thread_id, run = searched(api, runs, model, searcher, [many, reply("Done.")])
    assert run["status"] == "completed", run["last_error"]
    [step] = [s for s in steps(api, thread_id, run["id"]) if s["type"] == "tool_calls"]
    assert len(step["step_details"]["tool_calls"]) == 120
    answers = [m for m in model.requests[-1]["messages"] if m["role"] == "tool"]
    assert len(answers) == 120
    assert all(a["content"] == file_search.NOT_AVAILABLE for a in answers[file_search.SEARCH_CALLS_MAX :])
    assert "warranty" in answers[0]["content"].lower()
