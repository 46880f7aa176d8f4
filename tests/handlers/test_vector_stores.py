"""Vector stores' own handlers on moto, under their IAM roles: create (with files), list with its pages, retrieve,
modify (name, metadata, expires_after set and removed), delete and the cleanup function's purge of what the
store held; keyed requests; another project's key; every response against OpenAI's schemas."""

from __future__ import annotations

from typing import Any

from tests.contract.schemas import assert_error, assert_valid
from tests.handlers.conftest import Api
from tests.handlers.vector_stores_support import (
    Ingestion,
    add_file,
    forget_idempotency_records,
    has_index,
    ingestion,
    new_file,
    new_store,
    parsed_texts,
    retrieve,
    store_items,
    vector_keys,
)

__all__ = ["ingestion"]  # fixtures


def test_a_store_round_trip(api: Api) -> None:
    """Create, retrieve, modify, delete: then 404 everywhere."""
    body = {"name": "manuals", "description": "the user manuals", "metadata": {"team": "support"}}
    created = new_store(api, body | {"expires_after": {"anchor": "last_active_at", "days": 7}})
    store_id = created["id"]
    assert store_id.startswith("vs_")
    assert created | {"id": "", "created_at": 0, "last_active_at": 0, "expires_at": 0} == {
        "id": "",
        "object": "vector_store",
        "created_at": 0,
        "name": "manuals",
        "description": "the user manuals",
        "usage_bytes": 0,
        "file_counts": {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0},
        "status": "completed",
        "expires_after": {"anchor": "last_active_at", "days": 7},
        "expires_at": 0,
        "last_active_at": 0,
        "metadata": {"team": "support"},
    }
    assert created["expires_at"] == created["last_active_at"] + 7 * 86_400
    assert retrieve(api, store_id) == created

    renamed = api("POST", f"/vector_stores/{store_id}", {"name": "guides", "metadata": {"team": "docs"}})
    assert renamed.status == 200, renamed.body
    assert_valid(renamed.body, "VectorStoreObject")
    assert (renamed.body["name"], renamed.body["metadata"]) == ("guides", {"team": "docs"})
    assert renamed.body["expires_after"] == {"anchor": "last_active_at", "days": 7}  # not sent: kept
    longer = api("POST", f"/vector_stores/{store_id}", {"expires_after": {"anchor": "last_active_at", "days": 30}})
    assert longer.body["expires_at"] == longer.body["last_active_at"] + 30 * 86_400
    assert longer.body["name"] == "guides"
    removed = api("POST", f"/vector_stores/{store_id}", {"expires_after": None})
    assert_valid(removed.body, "VectorStoreObject")
    assert "expires_after" not in removed.body
    assert removed.body["expires_at"] is None
    cleared = api("POST", f"/vector_stores/{store_id}", {"name": None, "metadata": None})
    assert (cleared.body["name"], cleared.body["metadata"]) == ("", {})
    assert retrieve(api, store_id) == cleared.body

    deleted = api("DELETE", f"/vector_stores/{store_id}")
    assert deleted.status == 200
    assert_valid(deleted.body, "DeleteVectorStoreResponse")
    assert deleted.body == {"id": store_id, "object": "vector_store.deleted", "deleted": True}
    assert api.stream.drain() >= 1  # the cleanup of a store that never had an index: nothing to delete, no error
    for method, path, sent in (
        ("GET", f"/vector_stores/{store_id}", None),
        ("POST", f"/vector_stores/{store_id}", {"name": "x"}),
        ("DELETE", f"/vector_stores/{store_id}", None),
    ):
        gone = api(method, path, sent)
        assert gone.status == 404
        assert_error(gone.body, 404, contains=f"No vector store found with id '{store_id}'.")


def test_list_pages_orders_and_cursors(api: Api) -> None:
    ids = [new_store(api, {"name": f"s{n}"})["id"] for n in range(5)]
    newest_first = ids[::-1]
    first = api("GET", "/vector_stores?limit=2")
    assert_valid(first.body, "ListVectorStoresResponse")
    assert [s["id"] for s in first.body["data"]] == newest_first[:2]
    assert (first.body["first_id"], first.body["last_id"], first.body["has_more"]) == (*newest_first[:2], True)
    second = api("GET", f"/vector_stores?limit=2&after={first.body['last_id']}")
    assert [s["id"] for s in second.body["data"]] == newest_first[2:4]
    last = api("GET", f"/vector_stores?limit=2&after={second.body['last_id']}")
    assert ([s["id"] for s in last.body["data"]], last.body["has_more"]) == (newest_first[4:], False)
    back = api("GET", f"/vector_stores?limit=2&before={last.body['first_id']}")
    assert_valid(back.body, "ListVectorStoresResponse")
    assert [s["id"] for s in back.body["data"]] == newest_first[2:4]
    ascending = api("GET", "/vector_stores?order=asc&limit=100")
    assert [s["id"] for s in ascending.body["data"]] == ids
    after = api("GET", f"/vector_stores?order=asc&after={ids[1]}")
    assert [s["id"] for s in after.body["data"]] == ids[2:]
    unknown = api("GET", "/vector_stores?after=vs_nosuchstore000000000000")
    assert unknown.status == 400
    assert_error(unknown.body, 400, param="after")
    bad = api("GET", "/vector_stores?order=sideways")
    assert_error(bad.body, 400, param="order")


def test_another_projects_key_finds_nothing(api: Api, ingestion: Ingestion) -> None:
    """A store is its project's: another key gets 404s everywhere, changes nothing and lists nothing."""
    store_id = new_store(api, {"name": "mine"})["id"]
    file_id = new_file(api)
    add_file(api, store_id, file_id)
    batch_id = api("POST", f"/vector_stores/{store_id}/file_batches", {"file_ids": [file_id]}).body["id"]
    ingestion.work()
    theirs = new_file(api, key=api.other_key)
    base = f"/vector_stores/{store_id}"
    for method, path, body in (
        ("GET", base, None),
        ("POST", base, {"name": "stolen"}),
        ("DELETE", base, None),
        ("GET", f"{base}/files", None),
        ("POST", f"{base}/files", {"file_id": theirs}),
        ("GET", f"{base}/files/{file_id}", None),
        ("POST", f"{base}/files/{file_id}", {"attributes": {"a": "b"}}),
        ("GET", f"{base}/files/{file_id}/content", None),
        ("DELETE", f"{base}/files/{file_id}", None),
        ("POST", f"{base}/file_batches", {"file_ids": [theirs]}),
        ("GET", f"{base}/file_batches/{batch_id}", None),
        ("GET", f"{base}/file_batches/{batch_id}/files", None),
        ("POST", f"{base}/file_batches/{batch_id}/cancel", None),
        ("POST", f"{base}/search", {"query": "hello"}),
    ):
        reply = api(method, path, body, key=api.other_key)
        assert reply.status == 404, (method, path, reply.body)
        assert_error(reply.body, 404)
    assert api("GET", "/vector_stores", key=api.other_key).body["data"] == []
    mine = retrieve(api, store_id)
    assert (mine["name"], mine["file_counts"]["completed"]) == ("mine", 1)
    assert len(vector_keys(store_id)) == 1
    assert ingestion.queued == []


def test_a_store_created_with_files_ingests_them(api: Api, ingestion: Ingestion) -> None:
    file_ids = [new_file(api, f"f{n}.md", f"# Part {n}\n\nThe chapter {n} text.") for n in range(3)]
    strategy = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50}}
    created = new_store(api, {"file_ids": [*file_ids, file_ids[0]], "chunking_strategy": strategy})
    assert (created["status"], created["file_counts"]["in_progress"], created["file_counts"]["total"]) == (
        "in_progress",
        3,
        3,
    )
    assert ingestion.work() == 3  # an event a file
    assert sorted(event["file_id"] for event in ingestion.sent) == sorted(file_ids)
    done = retrieve(api, created["id"])
    assert (done["status"], done["file_counts"]["completed"], done["file_counts"]["total"]) == ("completed", 3, 3)
    listed = api("GET", f"/vector_stores/{created['id']}/files").body
    assert_valid(listed, "ListVectorStoreFilesResponse")
    assert {f["id"] for f in listed["data"]} == set(file_ids)
    assert {f["chunking_strategy"]["static"]["max_chunk_size_tokens"] for f in listed["data"]} == {100}
    assert done["usage_bytes"] == sum(f["usage_bytes"] for f in listed["data"]) > 0


def test_a_create_naming_a_file_not_of_the_project_writes_nothing(api: Api, ingestion: Ingestion) -> None:
    theirs = new_file(api, key=api.other_key)
    for headers in ({}, {"Idempotency-Key": "missing-file"}):
        reply = api("POST", "/vector_stores", {"name": "x", "file_ids": [new_file(api), theirs]}, headers=headers)
        assert reply.status == 404
        assert_error(reply.body, 404, contains=f"No file found with id '{theirs}'.")
    assert api("GET", "/vector_stores").body["data"] == []
    assert ingestion.sent == []


def test_keyed_creates_and_modifies_replay_the_first_response(api: Api) -> None:
    headers = {"Idempotency-Key": "create-store"}
    first = api("POST", "/vector_stores", {"name": "once"}, headers=headers)
    assert (first.status, first.headers["idempotent-replayed"]) == (200, "false")
    again = api("POST", "/vector_stores", {"name": "once"}, headers=headers)
    assert (again.headers["idempotent-replayed"], again.body) == ("true", first.body)
    assert [s["id"] for s in api("GET", "/vector_stores").body["data"]] == [first.body["id"]]
    path = f"/vector_stores/{first.body['id']}"
    renamed = api("POST", path, {"name": "renamed"}, headers={"Idempotency-Key": "rename"})
    assert renamed.body["name"] == "renamed"
    api("POST", path, {"name": "later"})
    replayed = api("POST", path, {"name": "renamed"}, headers={"Idempotency-Key": "rename"})
    assert (replayed.headers["idempotent-replayed"], replayed.body) == ("true", renamed.body)
    missing = api("POST", "/vector_stores/vs_nosuchstore000000000000", {"name": "x"}, headers={"Idempotency-Key": "m"})
    assert missing.status == 404
    assert retrieve(api, first.body["id"])["name"] == "later"


def test_a_keyed_create_whose_record_was_lost_finds_its_store(api: Api, ingestion: Ingestion) -> None:
    """The store was written but its key's record was not: the retry derives the same id and finds the store
    (its files in it already) instead of writing another."""
    headers = {"Idempotency-Key": "record-lost"}
    body = {"name": "once", "file_ids": [new_file(api)]}
    first = api("POST", "/vector_stores", body, headers=headers)
    assert first.status == 200, first.body
    forget_idempotency_records()
    again = api("POST", "/vector_stores", body, headers=headers)
    assert (again.status, again.headers["idempotent-replayed"]) == (200, "false")
    assert again.body["id"] == first.body["id"]
    assert [s["id"] for s in api("GET", "/vector_stores").body["data"]] == [first.body["id"]]
    assert retrieve(api, first.body["id"])["file_counts"]["total"] == 1
    assert len(ingestion.sent) == 1


def test_deleting_a_store_purges_its_files_batches_texts_and_index(api: Api, ingestion: Ingestion) -> None:
    """The store's item goes at once; the stream's REMOVE record of it brings the cleanup function, which
    deletes its index, its files' and batches' items and their parsed texts. The files themselves stay."""
    store_id = new_store(api, {"name": "doomed"})["id"]
    kept = new_store(api, {"name": "kept"})["id"]
    single = new_file(api, "one.txt", "a single file about turbines")
    add_file(api, store_id, single)
    add_file(api, kept, single)
    batched = [new_file(api, f"b{n}.txt", f"batch file {n} about pumps") for n in range(2)]
    batch = api("POST", f"/vector_stores/{store_id}/file_batches", {"file_ids": batched})
    assert batch.status == 200, batch.body
    ingestion.work()
    assert len(vector_keys(store_id)) == 3
    assert len(parsed_texts(store_id)) == 3
    assert len(store_items(api, store_id)) == 4  # three files and the batch
    api.stream.drain()  # what the writes so far left on the stream is nothing for the cleanup

    assert api("DELETE", f"/vector_stores/{store_id}").status == 200
    assert api("GET", f"/vector_stores/{store_id}/files").status == 404
    assert api.stream.drain() >= 1
    assert store_items(api, store_id) == []
    assert parsed_texts(store_id) == []
    assert not has_index(store_id)
    assert vector_keys(store_id) == []
    assert retrieve(api, kept)["file_counts"]["completed"] == 1  # another store's copy of the file stays
    assert len(vector_keys(kept)) == 1
    assert len(parsed_texts(kept)) == 1
    assert api("GET", f"/files/{single}").status == 200
    assert api.stream.drain() == 0


def _bad(api: Api, path: str, body: Any, param: str) -> None:
    reply = api("POST", path, body)
    assert reply.status == 400, reply.body
    assert_error(reply.body, 400, param=param)


def test_bad_bodies_are_400s_naming_the_field(api: Api) -> None:
    _bad(api, "/vector_stores", {"expires_after": {"anchor": "created_at", "days": 1}}, "expires_after.anchor")
    _bad(api, "/vector_stores", {"name": 5}, "name")
    store_id = new_store(api)["id"]
    never = {"expires_after": {"anchor": "last_active_at", "days": 0}}
    _bad(api, f"/vector_stores/{store_id}", never, "expires_after.days")
    _bad(api, f"/vector_stores/{store_id}", {"colour": "blue"}, "colour")
    assert api("GET", "/vector_stores").body["data"][0]["id"] == store_id


def test_an_idempotency_key_never_replays_another_projects_store_response(api: Api, ingestion: Ingestion) -> None:
    """Each keyed POST on alpha's store, then the same key and path with beta's key: a 404, never alpha's answer
    replayed, and nothing of alpha's changed."""
    store_id = new_store(api, {"name": "mine"})["id"]
    file_id = new_file(api)
    base = f"/vector_stores/{store_id}"
    for n, (path, body) in enumerate(
        (
            (base, {"name": "renamed"}),
            (f"{base}/files", {"file_id": file_id}),
            (f"{base}/files/{file_id}", {"attributes": {"a": "b"}}),
            (f"{base}/file_batches", {"file_ids": [file_id]}),
        )
    ):
        headers = {"Idempotency-Key": f"same-{n}"}
        first = api("POST", path, body, headers=headers)
        assert first.status == 200, first.body
        theirs = api("POST", path, body, headers=headers, key=api.other_key)
        assert theirs.status == 404, (path, theirs.body)
        assert_error(theirs.body, 404, contains=f"No vector store found with id '{store_id}'.")
    store = retrieve(api, store_id)
    assert (store["name"], store["file_counts"]["total"]) == ("renamed", 1)
