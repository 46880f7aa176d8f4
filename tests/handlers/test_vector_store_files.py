"""A vector store's files on moto, under the functions' IAM roles: a file added (in progress at once), ingested by
the worker (completed, its usage counted in the store's), its parsed content, its attributes, the list and its
``filter``, its removal (its vectors and parsed text with it); a file added twice; a file not of the project."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.schemas import assert_error, assert_valid
from tests.handlers.conftest import Api
from tests.handlers.vector_stores_support import (
    Ingestion,
    add_file,
    ingestion,
    new_file,
    new_store,
    parsed_texts,
    retrieve,
    store_file,
    store_items,
    vector_keys,
)

__all__ = ["ingestion"]  # fixtures

TEXT = "The compressor of the unit is covered by the warranty for five years from the day of purchase."


def test_a_file_is_in_progress_then_ingested_and_counted_in_its_store(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api, {"name": "manuals"})["id"]
    file_id = new_file(api, "warranty.txt", TEXT)
    added = add_file(api, store_id, file_id, attributes={"topic": "legal", "year": 2024})
    assert added | {"created_at": 0} == {
        "id": file_id,
        "object": "vector_store.file",
        "usage_bytes": 0,
        "created_at": 0,
        "vector_store_id": store_id,
        "status": "in_progress",
        "last_error": None,
        "chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}},
        "attributes": {"topic": "legal", "year": 2024},
    }
    busy = retrieve(api, store_id)
    assert (busy["status"], busy["file_counts"]["in_progress"], busy["usage_bytes"]) == ("in_progress", 1, 0)
    empty = api("GET", f"/vector_stores/{store_id}/files/{file_id}/content")
    assert_valid(empty.body, "VectorStoreFileContentResponse")
    assert empty.body["data"] == []  # nothing parsed yet

    (event,) = ingestion.sent
    assert event == {
        "project": "alpha",
        "vector_store_id": store_id,
        "file_id": file_id,
        "generation": event["generation"],
    }
    assert ingestion.work() == 1
    done = store_file(api, store_id, file_id)
    assert (done["status"], done["last_error"]) == ("completed", None)
    assert done["usage_bytes"] > len(TEXT)
    store = retrieve(api, store_id)
    assert store["status"] == "completed"
    assert store["file_counts"] == {"in_progress": 0, "completed": 1, "failed": 0, "cancelled": 0, "total": 1}
    assert store["usage_bytes"] == done["usage_bytes"]
    content = api("GET", f"/vector_stores/{store_id}/files/{file_id}/content")
    assert content.status == 200
    assert_valid(content.body, "VectorStoreFileContentResponse")
    assert content.body == {
        "object": "vector_store.file_content.page",
        "data": [{"type": "text", "text": TEXT}],
        "has_more": False,
        "next_page": None,
    }
    assert len(vector_keys(store_id)) == 1
    assert len(parsed_texts(store_id)) == 1


def test_attributes_are_updated_and_cleared(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    file_id = new_file(api)
    add_file(api, store_id, file_id, attributes={"a": "1"})
    path = f"/vector_stores/{store_id}/files/{file_id}"
    updated = api("POST", path, {"attributes": {"topic": "legal", "rank": 2.5, "draft": False}})
    assert updated.status == 200, updated.body
    assert_valid(updated.body, "VectorStoreFileObject")
    assert updated.body["attributes"] == {"topic": "legal", "rank": 2.5, "draft": False}
    assert updated.body["status"] == "in_progress"
    ingestion.work()
    assert store_file(api, store_id, file_id)["attributes"] == {"topic": "legal", "rank": 2.5, "draft": False}
    cleared = api("POST", path, {"attributes": None})
    assert cleared.body["attributes"] == {}
    keyed = api("POST", path, {"attributes": {"k": "v"}}, headers={"Idempotency-Key": "attrs"})
    assert (keyed.status, keyed.headers["idempotent-replayed"], keyed.body["attributes"]) == (200, "false", {"k": "v"})
    missing = f"/vector_stores/{store_id}/files/file-nosuchfile0000000000000"
    for headers in ({}, {"Idempotency-Key": "attrs-missing"}):
        gone = api("POST", missing, {"attributes": {"k": "v"}}, headers=headers)
        assert gone.status == 404
        assert_error(gone.body, 404, contains="No file found with id 'file-nosuchfile0000000000000'.")
    too_many = api("POST", path, {"attributes": {f"k{n}": n for n in range(17)}})
    assert_error(too_many.body, 400, param="attributes")


def test_the_list_pages_and_filters_by_status(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    good = [new_file(api, f"good{n}.txt", f"text number {n}") for n in range(3)]
    bad = new_file(api, "slides.pptx", b"PK\x03\x04 not read here")
    for file_id in [*good, bad]:
        add_file(api, store_id, file_id)
    pending = api("GET", f"/vector_stores/{store_id}/files?filter=in_progress").body
    assert_valid(pending, "ListVectorStoreFilesResponse")
    assert len(pending["data"]) == 4
    ingestion.work()
    base = f"/vector_stores/{store_id}/files"
    newest_first = [bad, *good[::-1]]
    first = api("GET", f"{base}?limit=2").body
    assert_valid(first, "ListVectorStoreFilesResponse")
    assert ([f["id"] for f in first["data"]], first["has_more"]) == (newest_first[:2], True)
    rest = api("GET", f"{base}?limit=2&after={first['last_id']}").body
    assert ([f["id"] for f in rest["data"]], rest["has_more"]) == (newest_first[2:], False)
    before = api("GET", f"{base}?limit=1&before={rest['first_id']}").body
    assert [f["id"] for f in before["data"]] == newest_first[1:2]
    assert [f["id"] for f in api("GET", f"{base}?order=asc").body["data"]] == [*good, bad]
    completed = api("GET", f"{base}?filter=completed&limit=2").body
    assert ([f["id"] for f in completed["data"]], completed["has_more"]) == (good[::-1][:2], True)
    failed = api("GET", f"{base}?filter=failed").body
    assert_valid(failed, "ListVectorStoreFilesResponse")
    assert [(f["id"], f["last_error"]["code"]) for f in failed["data"]] == [(bad, "unsupported_file")]
    none = api("GET", f"{base}?filter=cancelled").body
    assert_valid(none, "ListVectorStoreFilesResponse")
    assert none["data"] == []
    wrong = api("GET", f"{base}?filter=done")
    assert_error(wrong.body, 400, param="filter")
    assert api("GET", "/vector_stores/vs_nosuchstore000000000000/files").status == 404


def test_a_file_removed_from_its_store_takes_its_vectors_and_text(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    file_id, other = new_file(api, "a.txt", TEXT), new_file(api, "b.txt", "another file entirely")
    for fid in (file_id, other):
        add_file(api, store_id, fid)
    ingestion.work()
    before = retrieve(api, store_id)
    other_usage = store_file(api, store_id, other)["usage_bytes"]
    assert len(vector_keys(store_id)) == len(parsed_texts(store_id)) == 2

    deleted = api("DELETE", f"/vector_stores/{store_id}/files/{file_id}")
    assert deleted.status == 200
    assert_valid(deleted.body, "DeleteVectorStoreFileResponse")
    assert deleted.body == {"id": file_id, "object": "vector_store.file.deleted", "deleted": True}
    assert [key.split("#")[0] for key in vector_keys(store_id)] == [other]
    assert len(parsed_texts(store_id)) == 1
    after = retrieve(api, store_id)
    assert after["file_counts"] == before["file_counts"] | {"completed": 1, "total": 1}
    assert after["usage_bytes"] == other_usage
    for method, path in (
        ("GET", f"/vector_stores/{store_id}/files/{file_id}"),
        ("GET", f"/vector_stores/{store_id}/files/{file_id}/content"),
        ("DELETE", f"/vector_stores/{store_id}/files/{file_id}"),
    ):
        gone = api(method, path)
        assert gone.status == 404
        assert_error(gone.body, 404, contains=f"No file found with id '{file_id}'.")
    assert api("GET", f"/files/{file_id}").status == 200  # the file itself stays
    assert api("DELETE", f"/vector_stores/vs_nosuchstore000000000000/files/{other}").status == 404


def test_a_file_removed_while_in_progress_leaves_nothing_once_its_worker_runs(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    file_id = new_file(api, "a.txt", TEXT)
    add_file(api, store_id, file_id)
    assert api("DELETE", f"/vector_stores/{store_id}/files/{file_id}").status == 200
    assert retrieve(api, store_id)["file_counts"]["total"] == 0
    ingestion.work()
    assert vector_keys(store_id) == []
    assert parsed_texts(store_id) == []
    again = add_file(api, store_id, file_id)  # added again: a new ingestion, not the earlier one's
    assert again["status"] == "in_progress"
    ingestion.work()
    assert store_file(api, store_id, file_id)["status"] == "completed"
    assert len(vector_keys(store_id)) == 1


def test_a_file_added_twice_is_answered_as_it_is(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    file_id = new_file(api, "a.txt", TEXT)
    add_file(api, store_id, file_id, attributes={"first": True})
    ingestion.work()
    done = store_file(api, store_id, file_id)
    again = add_file(api, store_id, file_id, attributes={"second": True})
    assert again == done  # completed, its first attributes
    assert ingestion.queued == []
    assert retrieve(api, store_id)["file_counts"]["total"] == 1


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "not-mine"}], ids=["plain", "keyed"])
def test_a_file_not_of_the_project_is_a_404_and_writes_nothing(
    api: Api, ingestion: Ingestion, headers: dict[str, str]
) -> None:
    store_id = new_store(api)["id"]
    theirs = new_file(api, key=api.other_key)
    for file_id in (theirs, "file-nosuchfile0000000000000"):
        reply = api("POST", f"/vector_stores/{store_id}/files", {"file_id": file_id}, headers=headers)
        assert reply.status == 404
        assert_error(reply.body, 404, contains=f"No file found with id '{file_id}'.")
    missing_store = api("POST", "/vector_stores/vs_nosuchstore000000000000/files", {"file_id": new_file(api)})
    assert_error(missing_store.body, 404, contains="No vector store found")
    assert store_items(api, store_id) == []
    assert ingestion.sent == []
    assert retrieve(api, store_id)["file_counts"]["total"] == 0


def test_a_keyed_add_replays_its_first_response(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    file_id = new_file(api)
    headers = {"Idempotency-Key": "add-once"}
    first = api("POST", f"/vector_stores/{store_id}/files", {"file_id": file_id}, headers=headers)
    assert (first.status, first.headers["idempotent-replayed"]) == (200, "false")
    again = api("POST", f"/vector_stores/{store_id}/files", {"file_id": file_id}, headers=headers)
    assert (again.headers["idempotent-replayed"], again.body) == ("true", first.body)
    assert len(ingestion.sent) == 1


def _bad(api: Api, path: str, body: Any, param: str) -> None:
    reply = api("POST", path, body)
    assert reply.status == 400, reply.body
    assert_error(reply.body, 400, param=param)


def test_bad_bodies_are_400s_naming_the_field(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    path = f"/vector_stores/{store_id}/files"
    _bad(api, path, {}, "file_id")
    big = {"type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 150}}
    overlap = "chunking_strategy.static.chunk_overlap_tokens"
    _bad(api, path, {"file_id": new_file(api), "chunking_strategy": big}, overlap)
    _bad(api, path, {"file_id": new_file(api), "attributes": {"k": [1]}}, "attributes")
    assert ingestion.sent == []


def test_a_full_store_takes_no_more_files(api: Api, ingestion: Ingestion, monkeypatch: pytest.MonkeyPatch) -> None:
    from threads_api.vector_stores import operations

    monkeypatch.setattr(operations, "FILES_PER_STORE", 2)
    store_id = new_store(api)["id"]
    kept = [new_file(api) for _ in range(2)]
    for file_id in kept:
        add_file(api, store_id, file_id)
    # A file in the store already is answered as it is, full store or not; a batch of them too.
    again = api("POST", f"/vector_stores/{store_id}/files", {"file_id": kept[0]})
    assert (again.status, again.body["id"]) == (200, kept[0])
    joined = api("POST", f"/vector_stores/{store_id}/file_batches", {"file_ids": kept})
    assert (joined.status, joined.body["file_counts"]["total"]) == (200, 2)
    refused = api("POST", f"/vector_stores/{store_id}/files", {"file_id": new_file(api)})
    assert refused.status == 400
    assert_error(refused.body, 400, param="file_ids", contains="at most 2")
    batch = api("POST", f"/vector_stores/{store_id}/file_batches", {"file_ids": [new_file(api)]})
    assert_error(batch.body, 400, param="file_ids")
    assert retrieve(api, store_id)["file_counts"]["total"] == 2
    assert len(ingestion.sent) == 2  # the two files, once each
