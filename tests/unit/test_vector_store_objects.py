"""The response objects of vector stores (``wire.vector_store_objects``), each valid against OpenAI's published
schema, and built from the records as OpenAI shows them."""

from __future__ import annotations

import json

import pytest

from tests.contract.schemas import assert_valid
from threads_api.domain.records import Page
from threads_api.domain.vector_stores import (
    Chunking,
    ExpiresAfter,
    FileBatch,
    FileCounts,
    LastError,
    SearchHit,
    VectorStore,
    VectorStoreFile,
)
from threads_api.wire import vector_store_objects as objects
from threads_api.wire.response_bodies import list_object

DAY = 86_400


def store(**changes: object) -> VectorStore:
    made = VectorStore(id="vs_1", created_at=100, name="docs", last_active_at=1_000, usage_bytes=12)
    for name, value in changes.items():
        setattr(made, name, value)
    return made


def test_a_store_without_expiry() -> None:
    body = objects.vector_store_object(store(metadata={"a": "b"}), now=5_000)
    assert_valid(body, "VectorStoreObject")
    assert body["status"] == "completed"
    assert body["expires_at"] is None
    assert "expires_after" not in body  # an object in the schema, never null
    assert body["file_counts"] == {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0}
    assert body["metadata"] == {"a": "b"}
    assert body["description"] is None


def test_a_store_with_expiry_expires_at_its_time() -> None:
    expiring = store(expires_after=ExpiresAfter(days=2), description="manuals")
    before = objects.vector_store_object(expiring, now=1_000 + 2 * DAY - 1)
    assert_valid(before, "VectorStoreObject")
    assert before["expires_after"] == {"anchor": "last_active_at", "days": 2}
    assert before["expires_at"] == 1_000 + 2 * DAY
    assert before["status"] == "completed"
    assert before["description"] == "manuals"
    after = objects.vector_store_object(expiring, now=1_000 + 2 * DAY)
    assert_valid(after, "VectorStoreObject")
    assert after["status"] == "expired"


def test_a_store_with_files_in_progress() -> None:
    body = objects.vector_store_object(store(file_counts=FileCounts(in_progress=1, completed=2, failed=1)), now=1)
    assert_valid(body, "VectorStoreObject")
    assert body["status"] == "in_progress"
    assert body["file_counts"]["total"] == 4


def test_a_list_of_stores() -> None:
    stores = [store(), store(id="vs_2", expires_after=ExpiresAfter(days=1))]
    page = list_object(Page(stores, has_more=True), lambda s: objects.vector_store_object(s, now=1))
    assert_valid(page, "ListVectorStoresResponse")
    assert (page["first_id"], page["last_id"], page["has_more"]) == ("vs_1", "vs_2", True)
    assert json.loads(page.text) == dict(page)
    empty = list_object(Page([], has_more=False), lambda s: objects.vector_store_object(s, now=1))
    assert_valid(empty, "ListVectorStoresResponse")


@pytest.mark.parametrize("status", ["in_progress", "completed", "cancelled", "failed"])
def test_a_store_file(status: str) -> None:
    error = LastError("unsupported_file", "We do not read .xyz files.") if status == "failed" else None
    file = VectorStoreFile(
        id="file-1",
        vector_store_id="vs_1",
        created_at=7,
        status=status,
        usage_bytes=99,
        chunking=Chunking(300, 100),
        attributes={"n": 3.0, "x": 2.5, "b": True, "s": "v"},
        last_error=error,
    )
    body = objects.vector_store_file_object(file)
    assert_valid(body, "VectorStoreFileObject")
    assert body["object"] == "vector_store.file"
    assert body["chunking_strategy"] == {
        "type": "static",
        "static": {"max_chunk_size_tokens": 300, "chunk_overlap_tokens": 100},
    }
    assert body["attributes"] == {"n": 3, "x": 2.5, "b": True, "s": "v"}
    assert type(body["attributes"]["n"]) is int  # an integral number as JSON gives it
    assert body["last_error"] == (None if error is None else {"code": "unsupported_file", "message": error.message})
    page = list_object(Page([file], has_more=False), objects.vector_store_file_object)
    assert_valid(page, "ListVectorStoreFilesResponse")


def test_a_default_store_file_chunks_auto_told_as_static() -> None:
    body = objects.vector_store_file_object(VectorStoreFile(id="file-1", vector_store_id="vs_1", created_at=1))
    assert_valid(body, "VectorStoreFileObject")
    assert body["chunking_strategy"]["static"] == {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}
    assert body["attributes"] == {}
    assert body["last_error"] is None


def test_a_file_batch() -> None:
    batch = FileBatch(id="vsfb_1", vector_store_id="vs_1", created_at=3, file_counts=FileCounts(completed=2, failed=1))
    body = objects.file_batch_object(batch)
    assert_valid(body, "VectorStoreFileBatchObject")
    assert body["object"] == "vector_store.files_batch"
    assert body["file_counts"]["total"] == 3


def test_deletions() -> None:
    store_deleted = objects.deleted_vector_store("vs_1")
    assert_valid(store_deleted, "DeleteVectorStoreResponse")
    assert store_deleted == {"id": "vs_1", "object": "vector_store.deleted", "deleted": True}
    file_deleted = objects.deleted_vector_store_file("file-1")
    assert_valid(file_deleted, "DeleteVectorStoreFileResponse")
    assert file_deleted == {"id": "file-1", "object": "vector_store.file.deleted", "deleted": True}


def test_a_search_results_page() -> None:
    hits = [
        SearchHit("file-1", "a.txt", 0.87, "the first chunk", {"year": 2024.0}),
        SearchHit("file-2", "b.md", 1.0000001, "rounded above one", {}),
        SearchHit("file-2", "b.md", -0.2, "opposite", {"draft": True}),
    ]
    body = objects.search_results_page(["what", "else"], hits)
    assert_valid(body, "VectorStoreSearchResultsPage")
    assert body["search_query"] == ["what", "else"]
    assert [item["score"] for item in body["data"]] == [0.87, 1.0, 0.0]
    assert body["data"][0] == {
        "file_id": "file-1",
        "filename": "a.txt",
        "score": 0.87,
        "attributes": {"year": 2024},
        "content": [{"type": "text", "text": "the first chunk"}],
    }
    assert (body["has_more"], body["next_page"]) == (False, None)
    empty = objects.search_results_page(["nothing"], [])
    assert_valid(empty, "VectorStoreSearchResultsPage")
    assert empty["data"] == []


def test_a_file_content_page() -> None:
    body = objects.file_content_page("Hello\nworld")
    assert_valid(body, "VectorStoreFileContentResponse")
    assert body == {
        "object": "vector_store.file_content.page",
        "data": [{"type": "text", "text": "Hello\nworld"}],
        "has_more": False,
        "next_page": None,
    }
    empty = objects.file_content_page("")
    assert_valid(empty, "VectorStoreFileContentResponse")
    assert empty["data"] == []
