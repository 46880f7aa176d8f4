"""Files whose worker never ended them (Lambda gave up on their event): past ``reads.STRANDED_SECONDS`` in
progress, whichever function reads one first ends it ``failed`` with the store's counters, under its own IAM
role; a worker that ended the file meanwhile wins, and a late worker finds nothing to do."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.schemas import assert_valid
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
    vector_keys,
)

__all__ = ["ingestion"]  # fixtures


def _later(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    from threads_api.domain import clock

    now_ms = clock.now_ms
    monkeypatch.setattr(clock, "now_ms", lambda: now_ms() + seconds * 1000)


def _stranded(file: dict[str, Any]) -> None:
    assert (file["status"], file["last_error"]["code"]) == ("failed", "server_error"), file
    assert "did not finish" in file["last_error"]["message"]


def test_each_reader_ends_the_stranded_files_it_reads(
    api: Api, ingestion: Ingestion, monkeypatch: pytest.MonkeyPatch
) -> None:
    from threads_api.vector_stores import reads

    store_id = new_store(api)["id"]
    single, listed = new_file(api), new_file(api)
    for file_id in (single, listed):
        add_file(api, store_id, file_id)
    batches = []
    for _ in range(2):
        reply = api("POST", f"/vector_stores/{store_id}/file_batches", {"file_ids": [new_file(api)]})
        batches.append(reply.body["id"])
    assert store_file(api, store_id, single)["status"] == "in_progress"  # not yet stranded
    other_store = new_store(api)["id"]
    add_file(api, other_store, new_file(api))
    _later(monkeypatch, reads.STRANDED_SECONDS + 1)
    pending = api("GET", f"/vector_stores/{other_store}/files?filter=in_progress").body  # ended as it is read
    assert_valid(pending, "ListVectorStoreFilesResponse")
    assert pending["data"] == []
    assert retrieve(api, other_store)["file_counts"]["failed"] == 1

    _stranded(store_file(api, store_id, single))
    batch = api("GET", f"/vector_stores/{store_id}/file_batches/{batches[0]}").body  # RetrieveVectorStoreFileBatch…
    assert_valid(batch, "VectorStoreFileBatchObject")
    assert (batch["status"], batch["file_counts"]["failed"], batch["file_counts"]["in_progress"]) == ("failed", 1, 0)
    batch_files = api("GET", f"/vector_stores/{store_id}/file_batches/{batches[1]}/files").body  # ListFilesIn…
    assert_valid(batch_files, "ListVectorStoreFilesResponse")
    _stranded(batch_files["data"][0])
    every = api("GET", f"/vector_stores/{store_id}/files").body  # ListVectorStoreFilesFunction
    assert_valid(every, "ListVectorStoreFilesResponse")
    for file in every["data"]:
        _stranded(file)
    store = retrieve(api, store_id)
    assert store["file_counts"] == {"in_progress": 0, "completed": 0, "failed": 4, "cancelled": 0, "total": 4}
    assert store["status"] == "completed"

    assert ingestion.work() == 5  # Lambda ran the events at last: the files are ended, nothing is written
    assert {store_file(api, store_id, fid)["status"] for fid in (single, listed)} == {"failed"}
    assert vector_keys(store_id) == []
    assert parsed_texts(store_id) == []


def test_a_worker_that_ends_the_file_first_wins(
    api: Api, ingestion: Ingestion, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader finds the file stranded, but its worker ends it before the reader's transaction: the
    reader's condition fails, and it answers the file as the worker left it."""
    from threads_api.store import store_file_states
    from threads_api.vector_stores import reads

    store_id = new_store(api)["id"]
    file_id = new_file(api, "a.txt", "late but done")
    add_file(api, store_id, file_id)
    _later(monkeypatch, reads.STRANDED_SECONDS + 1)
    finish = store_file_states.finish

    def worker_first(*args: Any, **kwargs: Any) -> bool:
        ingestion.work()
        return finish(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(store_file_states, "finish", worker_first)
        done = store_file(api, store_id, file_id)
    assert (done["status"], done["last_error"]) == ("completed", None)
    assert done["usage_bytes"] > 0
    store = retrieve(api, store_id)
    assert (store["file_counts"]["completed"], store["file_counts"]["failed"]) == (1, 0)
    assert store["usage_bytes"] == done["usage_bytes"]
