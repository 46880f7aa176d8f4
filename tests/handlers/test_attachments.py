"""Attachments that ``file_search`` searches, through the real handlers under their roles: their files go into
the thread's store (made with a 7-day expiry, named by the thread's ``tool_resources``) at the request that
writes the message; a second message reuses it; a deleted or expired store is replaced; of two first
attachments at once one store wins; a message a run would refuse adds no file; a run's additional messages and
create-thread-and-run's thread do the same; a message without such files costs what it did."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.schemas import assert_valid
from tests.handlers.conftest import Api
from tests.handlers.edge_support import dynamodb_calls
from tests.handlers.runs_support import Runs, assistant, model, runs
from tests.handlers.vector_stores_support import Ingestion, ingestion, new_file, retrieve
from threads_api.domain import clock

__all__ = ["assistant", "ingestion", "model", "runs"]  # fixtures

THREAD_EXPIRY = {"anchor": "last_active_at", "days": 7}


def _message(*file_ids: str, tool: str = "file_search") -> dict[str, Any]:
    attachments = [{"file_id": f, "tools": [{"type": tool}]} for f in file_ids]
    return {"role": "user", "content": "See the files.", "attachments": attachments}


def _thread_store(api: Api, thread_id: str) -> str:
    (store_id,) = api("GET", f"/threads/{thread_id}").body["tool_resources"]["file_search"]["vector_store_ids"]
    return str(store_id)


def _store_files(api: Api, store_id: str) -> list[str]:
    return sorted(f["id"] for f in api("GET", f"/vector_stores/{store_id}/files").body["data"])


def _stores(api: Api) -> list[str]:
    return [s["id"] for s in api("GET", "/vector_stores").body["data"]]


def test_attachments_make_the_threads_store_and_a_second_message_reuses_it(api: Api, ingestion: Ingestion) -> None:
    first, second = new_file(api, "a.txt", "alpha"), new_file(api, "b.txt", "beta")
    thread_id = api("POST", "/threads").body["id"]
    reply = api("POST", f"/threads/{thread_id}/messages", _message(first))
    assert reply.status == 200, reply.body
    assert_valid(reply.body, "MessageObject")
    assert reply.body["attachments"] == [{"file_id": first, "tools": [{"type": "file_search"}]}]
    store_id = _thread_store(api, thread_id)
    store = retrieve(api, store_id)
    assert (store["expires_after"], store["name"]) == (THREAD_EXPIRY, "")
    api("POST", f"/threads/{thread_id}/messages", _message(first, second))
    assert _thread_store(api, thread_id) == store_id
    assert _store_files(api, store_id) == sorted([first, second])
    assert _stores(api) == [store_id]
    assert ingestion.work() == 2
    assert retrieve(api, store_id)["file_counts"]["completed"] == 2


def test_a_new_threads_attachments_go_into_its_store(api: Api, ingestion: Ingestion) -> None:
    file_id = new_file(api)
    created = api("POST", "/threads", {"messages": [_message(file_id), _message(file_id, tool="code_interpreter")]})
    assert created.status == 200, created.body
    store_id = created.body["tool_resources"]["file_search"]["vector_store_ids"][0]
    assert _store_files(api, store_id) == [file_id]
    # given a store, the attachments' files go into it
    mine = api("POST", "/vector_stores", {"name": "mine"}).body["id"]
    body = {"messages": [_message(file_id)], "tool_resources": {"file_search": {"vector_store_ids": [mine]}}}
    given = api("POST", "/threads", body)
    assert given.body["tool_resources"] == {"file_search": {"vector_store_ids": [mine]}}
    assert _store_files(api, mine) == [file_id]


def test_a_deleted_or_expired_thread_store_is_replaced(
    api: Api, ingestion: Ingestion, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_id = new_file(api)
    thread_id = api("POST", "/threads").body["id"]
    api("POST", f"/threads/{thread_id}/messages", _message(file_id))
    deleted = _thread_store(api, thread_id)
    assert api("DELETE", f"/vector_stores/{deleted}").status == 200
    api("POST", f"/threads/{thread_id}/messages", _message(file_id))
    expiring = _thread_store(api, thread_id)
    assert expiring != deleted
    later = clock.now() + 8 * 86_400
    monkeypatch.setattr(clock, "now", lambda: later)
    api("POST", f"/threads/{thread_id}/messages", _message(file_id))
    assert _thread_store(api, thread_id) not in (deleted, expiring)
    assert _store_files(api, _thread_store(api, thread_id)) == [file_id]


def test_of_two_first_attachments_at_once_one_store_wins(api: Api, ingestion: Ingestion) -> None:
    """The loser read the thread before the winner named its store: its own store is deleted, its files go
    into the winner's."""
    from threads_api.store import threads
    from threads_api.tool_resources import attachments

    first, second = new_file(api, "a.txt", "alpha"), new_file(api, "b.txt", "beta")
    thread_id = api("POST", "/threads").body["id"]
    stale = threads.get_thread("alpha", thread_id)
    api("POST", f"/threads/{thread_id}/messages", _message(first))
    winner = _thread_store(api, thread_id)
    attachments.add_to_thread("alpha", stale, [second], None)
    assert _thread_store(api, thread_id) == winner
    assert _stores(api) == [winner]
    assert _store_files(api, winner) == sorted([first, second])


def test_a_message_refused_by_an_active_run_adds_no_file(api: Api, runs: Runs, assistant: dict[str, Any]) -> None:
    file_id = new_file(api)
    thread_id = api("POST", "/threads").body["id"]
    api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]})  # queued: it holds the thread
    reply = api("POST", f"/threads/{thread_id}/messages", _message(file_id))
    assert reply.status == 400, reply.body
    assert "while a run" in reply.body["error"]["message"]
    assert _stores(api) == []
    assert api("GET", f"/threads/{thread_id}").body["tool_resources"] == {}


def test_a_runs_additional_messages_and_a_new_thread_and_run_fill_the_threads_store(
    api: Api, runs: Runs, assistant: dict[str, Any], ingestion: Ingestion
) -> None:
    file_id = new_file(api)
    thread_id = api("POST", "/threads").body["id"]
    body = {"assistant_id": assistant["id"], "additional_messages": [_message(file_id)]}
    run = api("POST", f"/threads/{thread_id}/runs", body)
    assert run.status == 200, run.body
    assert _store_files(api, _thread_store(api, thread_id)) == [file_id]
    busy = api("POST", f"/threads/{thread_id}/runs", body)  # the first run holds the thread
    assert busy.status == 400
    assert "already has an active run" in busy.body["error"]["message"]
    assert len(_stores(api)) == 1
    both = api("POST", "/threads/runs", {"assistant_id": assistant["id"], "thread": {"messages": [_message(file_id)]}})
    assert both.status == 200, both.body
    assert _store_files(api, _thread_store(api, both.body["thread_id"])) == [file_id]
    assert retrieve(api, _thread_store(api, both.body["thread_id"]))["expires_after"] == THREAD_EXPIRY


def test_a_message_without_searched_files_costs_one_write(api: Api) -> None:
    thread_id = api("POST", "/threads").body["id"]
    for body in (_message(), _message("file-any", tool="code_interpreter")):
        with dynamodb_calls() as calls:
            assert api("POST", f"/threads/{thread_id}/messages", body).status == 200
        assert [op for function, op in calls if function == "CreateMessageFunction"] == ["TransactWriteItems"]
