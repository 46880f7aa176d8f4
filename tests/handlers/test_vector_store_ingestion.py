"""The ingestion worker's failures on moto, under its IAM role: files it cannot read end ``failed`` with the code
of their fault, an embedder that fails and a worker out of time end the file ``server_error`` with nothing left
behind, Lambda's retry of a worker killed midway leaves each vector once, and a hand-over to Lambda that fails
ends the file at once."""

from __future__ import annotations

from typing import Any

import pytest

from infra.ops.sample_documents import pdf
from tests.handlers.conftest import Api
from tests.handlers.vector_stores_support import (
    Ingestion,
    add_file,
    has_index,
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

SMALL_CHUNKS = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}
LONG_TEXT = " ".join(f"sentence {n} tells of pumps, valves and turbine number {n}." for n in range(60))


class Killed(BaseException):
    """Lambda ending the invocation outright (its time, its memory): nothing of the worker's runs after it."""


class FailingEmbedder:
    """The local embedder, failing from its ``fail_at``-th call on (0: the first)."""

    def __init__(self, fail_at: int) -> None:
        from threads_api.embeddings.lexical import Lexical

        self.inner = Lexical()
        self.name, self.dimensions = self.inner.name, self.inner.dimensions
        self.calls, self.fail_at = 0, fail_at

    def embed(self, texts: list[str], *, deadline: float) -> list[list[float]]:
        from threads_api.embeddings import EmbeddingError

        self.calls += 1
        if self.calls > self.fail_at:
            raise EmbeddingError("The embeddings provider answered 500 three times.", retryable=True)
        return self.inner.embed(texts, deadline=deadline)


BAD_FILES = [
    ("blank.txt", b" \n\t \n", "invalid_file", "holds no text"),
    ("slides.pptx", b"PK\x03\x04 a presentation", "unsupported_file", "slides.pptx is a .pptx file"),
    ("binary.txt", bytes(range(256)), "invalid_file", "binary.txt is not UTF-8 text"),
    ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog broken", "invalid_file", "broken.pdf"),
]


def test_files_that_cannot_be_read_end_failed_with_their_fault(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    ids = {name: new_file(api, name, data) for name, data, _, _ in BAD_FILES}
    good = new_file(api, "manual.pdf", pdf("The manual of the heat pump.", "Page two of it."))
    for file_id in [*ids.values(), good]:
        add_file(api, store_id, file_id)
    ingestion.work()
    for name, _, code, words in BAD_FILES:
        failed = store_file(api, store_id, ids[name])
        assert (failed["status"], failed["usage_bytes"], failed["last_error"]["code"]) == ("failed", 0, code), name
        assert words in failed["last_error"]["message"], failed["last_error"]
    assert store_file(api, store_id, good)["status"] == "completed"
    content = api("GET", f"/vector_stores/{store_id}/files/{good}/content").body["data"][0]["text"]
    assert "heat pump" in content
    assert "Page two" in content
    store = retrieve(api, store_id)
    assert (store["file_counts"]["failed"], store["file_counts"]["completed"], store["status"]) == (4, 1, "completed")
    assert [key.split("#")[0] for key in vector_keys(store_id)] == [good]
    assert len(parsed_texts(store_id)) == 1


def test_a_file_deleted_before_its_ingestion_ends_failed(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    file_id = new_file(api)
    add_file(api, store_id, file_id)
    assert api("DELETE", f"/files/{file_id}").status == 200
    ingestion.work()
    failed = store_file(api, store_id, file_id)
    assert (failed["status"], failed["last_error"]["code"]) == ("failed", "invalid_file")
    assert "deleted" in failed["last_error"]["message"]
    assert vector_keys(store_id) == []


def test_an_embedder_that_fails_ends_the_file_failed_with_no_vectors_left(
    api: Api, ingestion: Ingestion, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its first batch is written to the index, its second fails: the file ends ``server_error``, and what the
    first wrote (its vectors, its parsed text) is deleted."""
    from handlers import ingest_worker
    from threads_api.index import s3vectors
    from threads_api.vector_stores import ingestion as use_case

    embedder = FailingEmbedder(fail_at=1)
    monkeypatch.setattr(ingest_worker, "EMBEDDER", embedder)
    monkeypatch.setattr(use_case, "EMBED_BATCH", 2)
    store_id = new_store(api)["id"]
    file_id = new_file(api, "long.txt", LONG_TEXT)
    add_file(api, store_id, file_id, chunking_strategy=SMALL_CHUNKS)
    written: list[int] = []
    put = s3vectors.put_vectors

    def counted(name: str, vectors: Any) -> None:
        written.append(len(vectors))
        put(name, vectors)

    monkeypatch.setattr(s3vectors, "put_vectors", counted)
    ingestion.work()
    assert (embedder.calls, written) == (2, [2])
    failed = store_file(api, store_id, file_id)
    assert (failed["status"], failed["usage_bytes"], failed["last_error"]["code"]) == ("failed", 0, "server_error")
    assert "answered 500" in failed["last_error"]["message"]
    assert vector_keys(store_id) == []
    assert parsed_texts(store_id) == []
    store = retrieve(api, store_id)
    assert (store["file_counts"]["failed"], store["file_counts"]["in_progress"], store["usage_bytes"]) == (1, 0, 0)


def test_a_worker_out_of_time_ends_the_file_failed(api: Api, ingestion: Ingestion) -> None:
    from handlers import ingest_worker
    from infra.local.invoke import LocalContext
    from tests import least_privilege

    store_id = new_store(api)["id"]
    file_id = new_file(api, "long.txt", LONG_TEXT)
    add_file(api, store_id, file_id)
    (event,) = ingestion.queued
    with least_privilege.running("IngestWorkerFunction"):  # less than the worker keeps to end a file
        ingest_worker.handler(event, LocalContext("IngestWorkerFunction", "short", timeout_seconds=10))
    failed = store_file(api, store_id, file_id)
    assert (failed["status"], failed["last_error"]["code"]) == ("failed", "server_error")
    assert "ran out of time" in failed["last_error"]["message"]
    assert vector_keys(store_id) == []
    assert parsed_texts(store_id) == []


def test_a_worker_killed_midway_and_retried_leaves_each_vector_once(
    api: Api, ingestion: Ingestion, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda's retry of an invocation killed after it wrote some vectors (the same event, the same request id)
    writes them again under the same keys: the file's vectors are its chunks, once each, and counted once."""
    from threads_api.index import s3vectors
    from threads_api.vector_stores import ingestion as use_case

    monkeypatch.setattr(use_case, "EMBED_BATCH", 2)
    store_id = new_store(api)["id"]
    file_id = new_file(api, "long.txt", LONG_TEXT)
    add_file(api, store_id, file_id, chunking_strategy=SMALL_CHUNKS)
    (event,) = ingestion.queued
    put, calls = s3vectors.put_vectors, []

    def killed_on_the_third(name: str, vectors: Any) -> None:
        calls.append(len(vectors))
        put(name, vectors)
        if len(calls) == 3:
            raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(s3vectors, "put_vectors", killed_on_the_third)
        with pytest.raises(Killed):
            ingestion.run(event, "request-1")
    assert len(vector_keys(store_id)) == 6
    assert store_file(api, store_id, file_id)["status"] == "in_progress"
    ingestion.run(event, "request-1")
    done = store_file(api, store_id, file_id)
    assert done["status"] == "completed"
    keys = vector_keys(store_id)
    chunks = len(keys)
    assert chunks > 6
    assert keys == sorted({f"{file_id}#{event['generation']}#{n}" for n in range(chunks)})
    ingestion.run(event, "request-2")  # once more, after it ended: nothing to do
    assert vector_keys(store_id) == keys
    store = retrieve(api, store_id)
    assert store["file_counts"] == {"in_progress": 0, "completed": 1, "failed": 0, "cancelled": 0, "total": 1}
    assert store["usage_bytes"] == done["usage_bytes"]


def test_a_hand_over_that_fails_ends_the_files_failed_at_once(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    ingestion.refuse = True
    single = add_file(api, store_id, new_file(api))
    assert (single["status"], single["last_error"]["code"]) == ("failed", "server_error")
    assert "could not be invoked" in single["last_error"]["message"]
    batch = api("POST", f"/vector_stores/{store_id}/file_batches", {"file_ids": [new_file(api), new_file(api)]})
    assert batch.status == 200, batch.body
    assert (batch.body["status"], batch.body["file_counts"]["failed"]) == ("failed", 2)
    created = new_store(api, {"file_ids": [new_file(api)]})
    assert (created["status"], created["file_counts"]["failed"]) == ("completed", 1)
    store = retrieve(api, store_id)
    assert (store["file_counts"]["failed"], store["file_counts"]["in_progress"]) == (3, 0)


def test_a_batch_whose_hand_over_fails_ends_its_files_failed(api: Api, ingestion: Ingestion) -> None:
    """Lambda refuses the batch's events: the function that made them ends the files itself, at once."""
    store_id = new_store(api)["id"]
    file_ids = [new_file(api, f"f{n}.txt", f"file {n}") for n in range(3)]
    ingestion.refuse = True
    batch = api("POST", f"/vector_stores/{store_id}/file_batches", {"file_ids": file_ids}).body
    assert (batch["status"], batch["file_counts"]["failed"]) == ("failed", 3)
    for file_id in file_ids:
        failed = store_file(api, store_id, file_id)
        assert (failed["status"], failed["last_error"]["code"]) == ("failed", "server_error")
    assert ingestion.queued == []


@pytest.mark.parametrize("fails", [False, True], ids=["ends", "fails"])
def test_a_store_deleted_and_purged_while_its_worker_writes_leaves_no_index(
    api: Api, ingestion: Ingestion, monkeypatch: pytest.MonkeyPatch, fails: bool
) -> None:
    """The store is deleted and its purge done between the worker's start and its index's creation: the worker
    makes the index again and writes to it (or fails to embed), finds its file gone at its end, and deletes
    what it made."""
    from handlers import ingest_worker
    from threads_api.index import s3vectors

    if fails:
        monkeypatch.setattr(ingest_worker, "EMBEDDER", FailingEmbedder(fail_at=0))
    store_id = new_store(api)["id"]
    add_file(api, store_id, new_file(api, "a.txt", "turbines"))
    create = s3vectors.create_index

    def purged_first(name: str, dimensions: int) -> None:
        assert api("DELETE", f"/vector_stores/{store_id}").status == 200
        api.stream.drain()
        create(name, dimensions)

    monkeypatch.setattr(s3vectors, "create_index", purged_first)
    ingestion.work()
    assert not has_index(store_id)
    assert parsed_texts(store_id) == []
    assert store_items(api, store_id) == []
