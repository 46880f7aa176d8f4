"""Tool resources as a request gives them, made into what an assistant or a thread stores: each
``vector_store_ids`` entry a store of the project (a 404 before anything is written), and the
``vector_stores`` helper (``[{file_ids, chunking_strategy, metadata}]``, never stored itself) made into a
new store whose id the object then names.

A store made for a request that then fails is deleted again (best effort) when the request is unkeyed: a
retry would make another. A keyed request's store has an id derived from the request's, so its retry finds
the same store, and it is kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from threads_api.domain import file_search, ids
from threads_api.domain.records import JsonObject
from threads_api.domain.vector_stores import ExpiresAfter
from threads_api.observability import logger
from threads_api.store import vector_stores as store_items

if TYPE_CHECKING:
    from threads_api.wire.request_bodies import ToolResources

# OpenAI's: a thread's store (a helper's, or its attachments') expires after 7 days without activity.
THREAD_EXPIRY = ExpiresAfter(file_search.THREAD_STORE_EXPIRY_DAYS)


def store_ids(resources: JsonObject) -> list[str]:
    """The vector store ids of stored tool resources (at most one)."""
    return list((resources.get("file_search") or {}).get("vector_store_ids") or [])


def naming(resources: JsonObject, store_id: str) -> JsonObject:
    """``resources`` whose file_search searches ``store_id`` (alone)."""
    return resources | {"file_search": {**(resources.get("file_search") or {}), "vector_store_ids": [store_id]}}


def keyed_store_id(object_id: str | None) -> str | None:
    """The id of a store a keyed request makes, derived from the id of what it creates (itself derived from
    the request's key): the same on a retry. None for an unkeyed request (any new id)."""
    if object_id is None:
        return None
    return ids.derived_id("vs_", hashlib.sha256(f"store of {object_id}".encode()).digest())


def resolved(project: str, resources: ToolResources | None, *, thread: bool, store_id: str | None) -> JsonObject:
    """The resources as stored: the ids checked, the helper's store made (``thread``: it expires after 7
    idle days) under ``store_id`` (None: a new id)."""
    if resources is None:
        return {}
    stored = resources.stored()
    for given in store_ids(stored):
        store_items.get_store(project, given)  # another project's store is not in this project's partition
    new = resources.new_store()
    if new is None:
        return stored
    from threads_api.vector_stores import operations  # only a request with a helper makes a store
    from threads_api.wire.vector_store_bodies import NewVectorStore

    file_ids, chunking, metadata = new
    expiry = THREAD_EXPIRY if thread else None
    made = operations.create_store(project, NewVectorStore("", None, metadata, expiry, file_ids, chunking), store_id)
    return naming(stored, made.id)


def made(resources: ToolResources | None, stored: JsonObject) -> list[str]:
    """The store ``resolved`` made for ``resources`` (as it returned them), if it made one."""
    return store_ids(stored) if resources is not None and resources.new_store() is not None else []


@contextmanager
def taken_back_on_failure(project: str, store_ids: list[str], *, keyed: bool) -> Iterator[None]:
    """The stores a request made are deleted if what follows fails and the request is unkeyed."""
    try:
        yield
    except Exception:
        if not keyed:
            take_back(project, store_ids)
        raise


def take_back(project: str, store_ids: list[str]) -> None:
    """Delete stores a failed request made (their files and vectors go with the store's purge); best effort:
    the error the client gets is the request's."""
    for store_id in store_ids:
        try:
            store_items.delete_store(project, store_id)
        except Exception:
            logger.exception("vector store not taken back", extra={"vector_store_id": store_id})
