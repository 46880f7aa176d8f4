"""The response objects of vector stores, their files and file batches, a search's results and a file's
parsed content, built from the domain's records (OpenAI's ``VectorStoreObject``, ``VectorStoreFileObject``,
``VectorStoreFileBatchObject``, ``DeleteVectorStoreResponse``, ``DeleteVectorStoreFileResponse``,
``VectorStoreSearchResultsPage``, ``VectorStoreFileContentResponse``). Lists of stores and of files are
``response_bodies.list_object`` of these."""

from __future__ import annotations

from typing import Any

from threads_api.domain.vector_stores import (
    Attributes,
    FileBatch,
    SearchHit,
    VectorStore,
    VectorStoreFile,
    as_json,
)


def _attributes(attributes: Attributes) -> dict[str, Any]:
    return {key: as_json(value) for key, value in attributes.items()}


def vector_store_object(store: VectorStore, now: int) -> dict[str, Any]:
    """The store as it is at ``now`` (its status: ``expired`` past ``expires_at``)."""
    body: dict[str, Any] = {
        "id": store.id,
        "object": "vector_store",
        "created_at": store.created_at,
        "name": store.name,
        "description": store.description,  # not in OpenAI's published object; it takes one at creation
        "usage_bytes": store.usage_bytes,
        "file_counts": store.file_counts.as_dict(),
        "status": store.status(now),
        "expires_at": store.expires_at,
        "last_active_at": store.last_active_at,
        "metadata": store.metadata,
    }
    if store.expires_after is not None:  # the schema's expires_after is an object, never null: absent when none
        body["expires_after"] = {"anchor": store.expires_after.anchor, "days": store.expires_after.days}
    return body


def vector_store_file_object(file: VectorStoreFile) -> dict[str, Any]:
    error = file.last_error
    return {
        "id": file.id,
        "object": "vector_store.file",
        "usage_bytes": file.usage_bytes,
        "created_at": file.created_at,
        "vector_store_id": file.vector_store_id,
        "status": file.status,
        "last_error": None if error is None else {"code": error.code, "message": error.message},
        "chunking_strategy": {
            "type": "static",
            "static": {
                "max_chunk_size_tokens": file.chunking.max_chunk_size_tokens,
                "chunk_overlap_tokens": file.chunking.chunk_overlap_tokens,
            },
        },
        "attributes": _attributes(file.attributes),
    }


def file_batch_object(batch: FileBatch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "object": "vector_store.files_batch",  # the schema's enum (its description says file_batch)
        "created_at": batch.created_at,
        "vector_store_id": batch.vector_store_id,
        "status": batch.status,
        "file_counts": batch.file_counts.as_dict(),
    }


def deleted_vector_store(store_id: str) -> dict[str, Any]:
    return {"id": store_id, "object": "vector_store.deleted", "deleted": True}


def deleted_vector_store_file(file_id: str) -> dict[str, Any]:
    return {"id": file_id, "object": "vector_store.file.deleted", "deleted": True}


def search_result(hit: SearchHit) -> dict[str, Any]:
    return {
        "file_id": hit.file_id,
        "filename": hit.filename,
        "score": min(max(hit.score, 0.0), 1.0),  # the schema's bounds, whatever rounding gave
        "attributes": _attributes(hit.attributes),
        "content": [{"type": "text", "text": hit.text}],
    }


def search_results_page(queries: list[str], hits: list[SearchHit]) -> dict[str, Any]:
    """One page holds every result (at most ``max_num_results``): nothing more to fetch."""
    return {
        "object": "vector_store.search_results.page",
        "search_query": queries,
        "data": [search_result(hit) for hit in hits],
        "has_more": False,
        "next_page": None,
    }


def file_content_page(text: str) -> dict[str, Any]:
    """A file's parsed text, whole, as one text part (none while there is no text yet)."""
    return {
        "object": "vector_store.file_content.page",
        "data": [{"type": "text", "text": text}] if text else [],
        "has_more": False,
        "next_page": None,
    }
