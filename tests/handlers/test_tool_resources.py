"""Tool resources at the requests that write them, through the real handlers under their roles: the
``vector_store_ids`` given must be stores of the project (a 404 before anything is written), and the
``vector_stores`` helper becomes a store (an assistant's never expires, a thread's after 7 idle days) whose
files are checked first; a keyed retry makes one store; a store made for a write that then fails is taken back."""

from __future__ import annotations

from typing import Any

from tests.contract.schemas import assert_error, assert_valid
from tests.handlers.conftest import Api
from tests.handlers.vector_stores_support import (
    Ingestion,
    forget_idempotency_records,
    ingestion,
    new_file,
    new_store,
    retrieve,
)

__all__ = ["ingestion"]  # fixtures

THREAD_EXPIRY = {"anchor": "last_active_at", "days": 7}


def _helper(*file_ids: str, **more: Any) -> dict[str, Any]:
    return {"file_search": {"vector_stores": [{"file_ids": list(file_ids), **more}]}}


def _stores(api: Api) -> list[dict[str, Any]]:
    return list(api("GET", "/vector_stores").body["data"])


def _store_files(api: Api, store_id: str) -> list[str]:
    return sorted(f["id"] for f in api("GET", f"/vector_stores/{store_id}/files").body["data"])


def test_vector_store_ids_must_name_stores_of_the_project(api: Api) -> None:
    mine = new_store(api, {"name": "mine"})["id"]
    theirs = new_store(api, {"name": "theirs"}, key=api.other_key)["id"]
    assistant = api("POST", "/assistants", {"model": "gpt-4o"}).body["id"]
    thread = api("POST", "/threads").body["id"]
    for unknown in ("vs_missing", theirs):
        resources = {"file_search": {"vector_store_ids": [unknown]}}
        for path, body in (
            ("/assistants", {"model": "gpt-4o", "tool_resources": resources}),
            (f"/assistants/{assistant}", {"tool_resources": resources}),
            ("/threads", {"tool_resources": resources}),
            (f"/threads/{thread}", {"tool_resources": resources}),
        ):
            reply = api("POST", path, body)
            assert_error(reply.body, 404, contains=f"No vector store found with id '{unknown}'")
    assert [a["id"] for a in api("GET", "/assistants").body["data"]] == [assistant]
    assert [t["id"] for t in api("GET", "/threads").body["data"]] == [thread]
    assert api("GET", f"/threads/{thread}").body["tool_resources"] == {}
    kept = api("POST", f"/assistants/{assistant}", {"tool_resources": {"file_search": {"vector_store_ids": [mine]}}})
    assert kept.body["tool_resources"] == {"file_search": {"vector_store_ids": [mine]}}


def test_an_assistants_helper_makes_a_store_that_does_not_expire(api: Api, ingestion: Ingestion) -> None:
    file_id = new_file(api, "manual.txt", "Clean the filter every month.")
    reply = api(
        "POST",
        "/assistants",
        {
            "model": "gpt-4o",
            "tools": [{"type": "file_search"}],
            "tool_resources": _helper(file_id, metadata={"k": "v"}),
        },
    )
    assert reply.status == 200, reply.body
    assert_valid(reply.body, "AssistantObject")
    (store_id,) = reply.body["tool_resources"]["file_search"]["vector_store_ids"]
    assert set(reply.body["tool_resources"]["file_search"]) == {"vector_store_ids"}  # the helper is not kept
    store = retrieve(api, store_id)
    assert (store.get("expires_after"), store["metadata"], store["name"]) == (None, {"k": "v"}, "")
    assert _store_files(api, store_id) == [file_id]
    assert ingestion.work() == 1
    assert retrieve(api, store_id)["file_counts"]["completed"] == 1
    # modify: a new helper store replaces the one named
    again = api("POST", f"/assistants/{reply.body['id']}", {"tool_resources": _helper(file_id)})
    (other,) = again.body["tool_resources"]["file_search"]["vector_store_ids"]
    assert other != store_id
    assert retrieve(api, other).get("expires_after") is None


def test_a_threads_helper_store_expires_after_7_idle_days(api: Api, ingestion: Ingestion) -> None:
    file_id = new_file(api)
    created = api("POST", "/threads", {"tool_resources": _helper(file_id)})
    assert created.status == 200, created.body
    assert_valid(created.body, "ThreadObject")
    (store_id,) = created.body["tool_resources"]["file_search"]["vector_store_ids"]
    assert retrieve(api, store_id)["expires_after"] == THREAD_EXPIRY
    assert _store_files(api, store_id) == [file_id]
    modified = api("POST", f"/threads/{created.body['id']}", {"tool_resources": _helper(file_id)})
    (other,) = modified.body["tool_resources"]["file_search"]["vector_store_ids"]
    assert retrieve(api, other)["expires_after"] == THREAD_EXPIRY
    assert api("GET", f"/threads/{created.body['id']}").body["tool_resources"] == modified.body["tool_resources"]


def test_the_helpers_files_are_checked_before_any_store_is_made(api: Api, ingestion: Ingestion) -> None:
    good = new_file(api)
    theirs = new_file(api, key=api.other_key)
    for missing in ("file-missing", theirs):
        for path, body in (
            ("/assistants", {"model": "gpt-4o", "tool_resources": _helper(good, missing)}),
            ("/threads", {"tool_resources": _helper(good, missing)}),
        ):
            reply = api("POST", path, body)
            assert_error(reply.body, 404, contains=missing)
    assert _stores(api) == []
    assert api("GET", "/assistants").body["data"] == []
    assert api("GET", "/threads").body["data"] == []
    assert ingestion.queued == []


def test_a_keyed_retry_makes_one_store(api: Api, ingestion: Ingestion) -> None:
    file_id = new_file(api)
    body = {"tool_resources": _helper(file_id)}
    first = api("POST", "/threads", body, headers={"Idempotency-Key": "helper-1"})
    forget_idempotency_records()  # the retry runs the request again (its first answer was never recorded)
    second = api("POST", "/threads", body, headers={"Idempotency-Key": "helper-1"})
    assert second.status == 200, second.body
    assert second.body["tool_resources"] == first.body["tool_resources"]
    assert [s["id"] for s in _stores(api)] == first.body["tool_resources"]["file_search"]["vector_store_ids"]
    assistant_body = {"model": "gpt-4o", "tool_resources": _helper(file_id)}
    made = api("POST", "/assistants", assistant_body, headers={"Idempotency-Key": "helper-2"})
    forget_idempotency_records()
    again = api("POST", "/assistants", assistant_body, headers={"Idempotency-Key": "helper-2"})
    assert again.body["tool_resources"] == made.body["tool_resources"]
    assert len(_stores(api)) == 2


def test_a_store_made_for_a_write_that_fails_is_taken_back(api: Api, ingestion: Ingestion) -> None:
    file_id = new_file(api)
    for path in ("/assistants/asst_gone", "/threads/thread_gone"):
        reply = api("POST", path, {"tool_resources": _helper(file_id)})
        assert reply.status == 404, reply.body
    assert _stores(api) == []
