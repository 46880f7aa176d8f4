"""A vector store's file batches on moto, under the functions' IAM roles: a batch of ``file_ids`` (shared
attributes) or of ``files`` (each its own), handed over one event a file, its counts, its files' list and ``filter``, a
cancel while its files are in progress (before their workers run, and while one runs), a batch of files that
are all in the store already; keyed requests; ids that are not the project's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.schemas import assert_error, assert_valid
from tests.handlers.conftest import Api
from tests.handlers.vector_stores_support import (
    Ingestion,
    add_file,
    forget_idempotency_records,
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


def _batch(api: Api, store_id: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
    reply = api("POST", f"/vector_stores/{store_id}/file_batches", body, **kw)
    assert reply.status == 200, reply.body
    assert_valid(reply.body, "VectorStoreFileBatchObject")
    return dict(reply.body)


def _get(api: Api, store_id: str, batch_id: str) -> dict[str, Any]:
    reply = api("GET", f"/vector_stores/{store_id}/file_batches/{batch_id}")
    assert reply.status == 200, reply.body
    assert_valid(reply.body, "VectorStoreFileBatchObject")
    return dict(reply.body)


def _files(api: Api, store_id: str, batch_id: str, query: str = "") -> list[str]:
    reply = api("GET", f"/vector_stores/{store_id}/file_batches/{batch_id}/files{query}")
    assert reply.status == 200, reply.body
    assert_valid(reply.body, "ListVectorStoreFilesResponse")
    return [f["id"] for f in reply.body["data"]]


def test_a_batch_of_file_ids_is_handed_over_ingested_and_counted(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    file_ids = [new_file(api, f"f{n}.txt", f"the file number {n}") for n in range(3)]
    bad = new_file(api, "deck.pptx", b"PK\x03\x04")
    created = _batch(api, store_id, {"file_ids": [*file_ids, bad, file_ids[0]], "attributes": {"team": "a"}})
    batch_id = created["id"]
    assert batch_id.startswith("vsfb_")
    assert created | {"id": "", "created_at": 0} == {
        "id": "",
        "object": "vector_store.files_batch",
        "created_at": 0,
        "vector_store_id": store_id,
        "status": "in_progress",
        "file_counts": {"in_progress": 4, "completed": 0, "failed": 0, "cancelled": 0, "total": 4},
    }
    assert _get(api, store_id, batch_id) == created
    assert ingestion.work() == 4  # an event for each of its four files
    assert sorted(event["file_id"] for event in ingestion.sent) == sorted([*file_ids, bad])
    done = _get(api, store_id, batch_id)
    assert (done["status"], done["file_counts"]["completed"], done["file_counts"]["failed"]) == ("failed", 3, 1)
    assert sorted(_files(api, store_id, batch_id)) == sorted([*file_ids, bad])
    assert _files(api, store_id, batch_id, "?filter=failed") == [bad]
    assert _files(api, store_id, batch_id, "?filter=completed&order=asc") == file_ids
    first = _files(api, store_id, batch_id, "?filter=completed&limit=2")
    assert first == file_ids[::-1][:2]
    assert _files(api, store_id, batch_id, f"?filter=completed&limit=2&after={first[-1]}") == file_ids[:1]
    assert {store_file(api, store_id, fid)["attributes"]["team"] for fid in file_ids} == {"a"}
    store = retrieve(api, store_id)
    assert (store["file_counts"]["completed"], store["file_counts"]["failed"], store["file_counts"]["total"]) == (
        3,
        1,
        4,
    )


def test_a_batch_of_files_gives_each_its_own_attributes_and_chunking(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    one, two = new_file(api, "one.txt", "first"), new_file(api, "two.txt", "second")
    small = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 10}}
    files = [{"file_id": one, "attributes": {"n": 1}, "chunking_strategy": small}, {"file_id": two}]
    batch = _batch(api, store_id, {"files": files, "attributes": {"ignored": True}})
    ingestion.work()
    assert _get(api, store_id, batch["id"])["status"] == "completed"
    first, second = store_file(api, store_id, one), store_file(api, store_id, two)
    assert (first["attributes"], first["chunking_strategy"]) == ({"n": 1}, small)
    assert (second["attributes"], second["chunking_strategy"]["static"]["max_chunk_size_tokens"]) == ({}, 800)
    twice = api("POST", f"/vector_stores/{store_id}/file_batches", {"files": [{"file_id": one}, {"file_id": one}]})
    assert_error(twice.body, 400, param="files[1].file_id")
    both = api("POST", f"/vector_stores/{store_id}/file_batches", {"files": [{"file_id": one}], "file_ids": [one]})
    assert_error(both.body, 400, param="files")
    neither = api("POST", f"/vector_stores/{store_id}/file_batches", {})
    assert_error(neither.body, 400, param="file_ids")


def test_a_batch_cancelled_before_its_workers_run_leaves_nothing(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    file_ids = [new_file(api, f"f{n}.txt", f"text {n}") for n in range(2)]
    batch_id = _batch(api, store_id, {"file_ids": file_ids})["id"]
    cancelled = api("POST", f"/vector_stores/{store_id}/file_batches/{batch_id}/cancel")
    assert cancelled.status == 200, cancelled.body
    assert_valid(cancelled.body, "VectorStoreFileBatchObject")
    assert (cancelled.body["status"], cancelled.body["file_counts"]["cancelled"]) == ("cancelled", 2)
    assert ingestion.work() == 2  # each file's event: it finds its file cancelled
    assert _get(api, store_id, batch_id) == cancelled.body
    assert {store_file(api, store_id, fid)["status"] for fid in file_ids} == {"cancelled"}
    assert _files(api, store_id, batch_id, "?filter=cancelled") == file_ids[::-1]
    assert vector_keys(store_id) == []
    assert parsed_texts(store_id) == []
    store = retrieve(api, store_id)
    assert (store["file_counts"]["cancelled"], store["file_counts"]["in_progress"]) == (2, 0)
    again = api("POST", f"/vector_stores/{store_id}/file_batches/{batch_id}/cancel")  # ended: as it is
    assert again.body == cancelled.body


def test_a_batch_cancelled_while_a_worker_ingests_its_file_leaves_no_vectors(
    api: Api, ingestion: Ingestion, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel lands between the worker's writes and its end: the worker finds the file cancelled, does not
    mark it, and deletes the vectors and the parsed text it wrote."""
    from threads_api.index import s3vectors

    store_id = new_store(api)["id"]
    file_id = new_file(api, "a.txt", "turbines and pumps")
    batch_id = _batch(api, store_id, {"file_ids": [file_id]})["id"]
    put = s3vectors.put_vectors

    def put_then_cancel(name: str, vectors: Any) -> None:
        put(name, vectors)
        assert vector_keys(store_id) != []
        assert api("POST", f"/vector_stores/{store_id}/file_batches/{batch_id}/cancel").status == 200

    monkeypatch.setattr(s3vectors, "put_vectors", put_then_cancel)
    ingestion.work()
    assert store_file(api, store_id, file_id)["status"] == "cancelled"
    assert _get(api, store_id, batch_id)["status"] == "cancelled"
    assert vector_keys(store_id) == []
    assert parsed_texts(store_id) == []
    assert retrieve(api, store_id)["usage_bytes"] == 0


def test_a_batch_of_files_in_the_store_already_takes_them_as_they_are(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    file_ids = [new_file(api, f"f{n}.txt", f"text {n}") for n in range(2)]
    for file_id in file_ids:
        add_file(api, store_id, file_id)
    ingestion.work()
    before = retrieve(api, store_id)
    batch = _batch(api, store_id, {"file_ids": file_ids})
    assert (batch["status"], batch["file_counts"]["completed"], batch["file_counts"]["total"]) == ("completed", 2, 2)
    assert ingestion.queued == []
    assert sorted(_files(api, store_id, batch["id"])) == sorted(file_ids)
    assert retrieve(api, store_id)["file_counts"] == before["file_counts"]
    mixed = _batch(api, store_id, {"file_ids": [file_ids[0], new_file(api)]})
    assert (mixed["file_counts"]["completed"], mixed["file_counts"]["in_progress"]) == (1, 1)
    ingestion.work()
    assert _get(api, store_id, mixed["id"])["file_counts"]["completed"] == 2


def test_keyed_batch_requests_replay_and_failures_are_not_kept(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    body = {"file_ids": [new_file(api)]}
    first = _batch(api, store_id, body, headers={"Idempotency-Key": "batch"})
    again = api("POST", f"/vector_stores/{store_id}/file_batches", body, headers={"Idempotency-Key": "batch"})
    assert (again.headers["idempotent-replayed"], again.body) == ("true", first)
    assert len(ingestion.sent) == 1  # its one file, once
    cancel = f"/vector_stores/{store_id}/file_batches/{first['id']}/cancel"
    cancelled = api("POST", cancel, headers={"Idempotency-Key": "cancel"})
    assert (cancelled.status, cancelled.body["status"]) == (200, "cancelled")
    missing = "vsfb_nosuchbatch00000000000"
    for method, path in (
        ("GET", f"/vector_stores/{store_id}/file_batches/{missing}"),
        ("GET", f"/vector_stores/{store_id}/file_batches/{missing}/files"),
        ("POST", f"/vector_stores/{store_id}/file_batches/{missing}/cancel"),
    ):
        for headers in ({}, {"Idempotency-Key": f"missing-{method}-{len(path)}"}):
            gone = api(method, path, headers=headers)
            assert gone.status == 404, (path, gone.body)
            assert_error(gone.body, 404, contains=f"No file batch found with id '{missing}'.")
    theirs = new_file(api, key=api.other_key)
    for headers in ({}, {"Idempotency-Key": "theirs"}):
        refused = api("POST", f"/vector_stores/{store_id}/file_batches", {"file_ids": [theirs]}, headers=headers)
        assert_error(refused.body, 404, contains=f"No file found with id '{theirs}'.")
    assert len(store_items(api, store_id)) == 2  # the first batch and its file: nothing of the refused ones
    assert api("GET", f"/vector_stores/vs_nosuchstore000000000000/file_batches/{first['id']}").status == 404


def test_a_keyed_batch_whose_record_was_lost_finds_its_batch(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    headers = {"Idempotency-Key": "batch-record-lost"}
    body = {"file_ids": [new_file(api), new_file(api)]}
    first = _batch(api, store_id, body, headers=headers)
    forget_idempotency_records()
    again = _batch(api, store_id, body, headers=headers)
    assert again == first
    assert len(ingestion.sent) == 2  # its two files, once each
    assert len(store_items(api, store_id)) == 3  # one batch, two files


def test_a_large_batch_spans_transactions_and_events_and_its_store_is_purged_whole(
    api: Api, ingestion: Ingestion
) -> None:
    """120 files: two transactions of files (at most 100 items each), an event each (handed over 16 at a time);
    then the store's deletion purges its 121 items in BatchWriteItems of at most 25."""
    store_id = new_store(api)["id"]
    file_ids = [new_file(api, f"f{n}.txt", f"file {n} of many") for n in range(120)]
    batch = _batch(api, store_id, {"file_ids": file_ids})
    assert batch["file_counts"]["in_progress"] == 120
    assert sorted(event["file_id"] for event in ingestion.queued) == sorted(file_ids)  # one each, in parallel
    assert ingestion.work() == 120
    done = _get(api, store_id, batch["id"])
    assert (done["status"], done["file_counts"]["completed"]) == ("completed", 120)
    assert retrieve(api, store_id)["file_counts"]["completed"] == 120
    assert len(vector_keys(store_id)) == 120
    assert api("DELETE", f"/vector_stores/{store_id}").status == 200
    api.stream.drain()
    assert store_items(api, store_id) == []
    assert parsed_texts(store_id) == []
    assert vector_keys(store_id) == []
