"""What the vector store handlers call: a store created with its files, files added (one, a batch, or a
message's attachments), a batch cancelled, a file deleted with its vectors, a file's parsed text.

Adding files checks them all first (each a file of the project: a 404 names the first that is not), so a bad
id writes nothing; then the files' items and the store's counters are written in transactions, and the files
are handed to the ingestion worker. A file whose hand-over fails is failed at once (``server_error``): nothing
else would ever end it.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from threads_api.bucket import s3
from threads_api.domain import clock, ids
from threads_api.domain.errors import NotFound, invalid
from threads_api.domain.vector_stores import Chunking, FileBatch, LastError, VectorStore, VectorStoreFile
from threads_api.files.operations import object_key
from threads_api.index import s3vectors
from threads_api.store import file_batches, store_file_states, store_files
from threads_api.store import files as file_items
from threads_api.store import vector_stores as store_items
from threads_api.vector_stores import reads, starter

if TYPE_CHECKING:
    from threads_api.wire.vector_store_bodies import NewStoreFile, NewVectorStore

NOT_STARTED = LastError("server_error", "The file could not be ingested: the ingestion worker could not be invoked.")
FILES_PER_STORE = 10_000  # ours: a store's file list and batches are read whole; see docs/vector-stores.md


def parsed_key(project: str, store_id: str, file_id: str, gen: str) -> str:
    """Where a store's file's parsed text is kept (``content``), per generation, beside the files' bytes."""
    return f"{project}/vector_stores/{store_id}/{file_id}/{gen}.txt"


def vector_key(file_id: str, gen: str, n: int) -> str:
    return f"{file_id}#{gen}#{n}"


def create_store(project: str, new: NewVectorStore, store_id: str | None = None) -> VectorStore:
    """A new store, and its ``file_ids`` added (one chunking strategy for all)."""
    store = store_items.new_store(store_id or ids.new_id("vs_"), new.name or "", new.metadata, new.expires_after)
    store.description = new.description
    found = checked_files(project, new.file_ids)  # before anything is written: a bad id writes nothing
    stored = store_items.put_store(project, store)
    if new.file_ids:
        added = [store_files.new_store_file(stored.id, fid, found[fid], new.chunking, {}, None) for fid in new.file_ids]
        _ingest(project, stored.id, added)
        stored = store_items.get_store(project, stored.id)
    return stored


def add_file(project: str, store_id: str, new: NewStoreFile) -> VectorStoreFile:
    """Add one file (one in the store already is answered as it is)."""
    _room_for(project, store_items.get_store(project, store_id), [new.file_id])
    found = checked_files(project, [new.file_id])
    added = store_files.new_store_file(store_id, new.file_id, found[new.file_id], new.chunking, new.attributes, None)
    if not _ingest(project, store_id, [added]):
        return reads.get_file(project, store_id, new.file_id)  # in the store already: as it is
    return added  # as written (in progress), whatever the worker has done since, as OpenAI answers


def add_files(project: str, store_id: str, file_ids: list[str], chunking: Chunking) -> list[VectorStoreFile]:
    """Add files with no batch item (a message's attachments, into its thread's store): checked, written,
    handed over; those in the store already are left as they are. The files new to the store, as written."""
    store = store_items.get_store(project, store_id)
    _room_for(project, store, file_ids)
    found = checked_files(project, file_ids)
    added = [
        store_files.new_store_file(store_id, fid, found[fid], chunking, {}, None) for fid in dict.fromkeys(file_ids)
    ]
    return _ingest(project, store_id, added)


def add_batch(project: str, store_id: str, files: list[NewStoreFile], batch_id: str | None = None) -> FileBatch:
    """A batch of files: its item, then its files (a file in the store already joins the batch as it is)."""
    _room_for(project, store_items.get_store(project, store_id), [f.file_id for f in files])
    found = checked_files(project, [f.file_id for f in files])
    batch = FileBatch(id=batch_id or ids.new_id("vsfb_"), vector_store_id=store_id, created_at=clock.now())
    file_batches.put_batch(project, batch)  # False: a keyed retry; adding its files again is safe
    added = [
        store_files.new_store_file(store_id, f.file_id, found[f.file_id], f.chunking, f.attributes, batch.id)
        for f in files
    ]
    _ingest(project, store_id, added)
    return reads.get_batch(project, store_id, batch.id)


def checked_files(project: str, file_ids: list[str]) -> dict[str, str]:
    """file id -> filename, for files of the project (a 404 names the first that is not)."""
    unique = list(dict.fromkeys(file_ids))
    found = file_items.find_files(project, unique)
    missing = next((file_id for file_id in unique if file_id not in found), None)
    if missing is not None:
        raise NotFound("file", missing)
    return {file_id: file.filename for file_id, file in found.items()}


def _room_for(project: str, store: VectorStore, file_ids: list[str]) -> None:
    """A 400 if the files not in the store yet would take it past ``FILES_PER_STORE`` (those in it already
    are answered as they are, full store or not)."""
    if store.file_counts.total + len(file_ids) <= FILES_PER_STORE:
        return  # the common case: no read of which are in the store already
    unique = list(dict.fromkeys(file_ids))
    present: set[str] = set()
    for start in range(0, len(unique), 100):
        present |= set(store_files.get_many(project, store.id, unique[start : start + 100]))
    if store.file_counts.total + len(set(unique) - present) > FILES_PER_STORE:
        raise invalid(
            f"Vector store {store.id} holds {store.file_counts.total} files; a store holds at most {FILES_PER_STORE}.",
            param="file_ids",
        )


def _ingest(project: str, store_id: str, files: list[VectorStoreFile]) -> list[VectorStoreFile]:
    """Write the files new to the store and hand them to the worker; those new, as written (a hand-over
    refused: failed)."""
    unique = list({f.id: f for f in files}.values())
    new = store_files.add_files(project, unique)
    unstarted = set(starter.start(project, store_id, [(f.id, gen) for f, gen in new]))
    fail_unstarted(project, store_id, list(unstarted))
    for file, gen in new:
        file.generation = gen
        if (file.id, gen) in unstarted:
            file.status, file.last_error = "failed", NOT_STARTED
    return [file for file, _ in new]


def fail_unstarted(project: str, store_id: str, files: list[tuple[str, str]]) -> None:
    """End the files (id, generation) that could not be handed to the worker: nothing else would end them."""
    for file_id, gen in files:
        unstarted = VectorStoreFile(id=file_id, vector_store_id=store_id, created_at=0)
        store_file_states.finish(project, unstarted, gen, "failed", error=NOT_STARTED)


def cancel_batch(project: str, store_id: str, batch_id: str) -> FileBatch:
    """Cancel a batch: its files still in progress end ``cancelled`` (their workers then stop and clean up)."""
    store_items.get_store(project, store_id)
    file_batches.mark_cancelled(project, store_id, batch_id)
    for file in file_batches.batch_files(project, store_id, batch_id):
        if file.status == "in_progress":
            store_file_states.cancel(project, file)
    return reads.get_batch(project, store_id, batch_id)


def delete_file(project: str, store_id: str, file_id: str) -> None:
    """Remove a file from a store: its item (and the store's counters), then its vectors and parsed text. A
    worker still ingesting it finds it gone at its end and deletes what it wrote."""
    store_items.get_store(project, store_id)
    file, gen = store_file_states.remove(project, store_id, file_id)
    remove_ingested(project, store_id, file_id, gen, file.chunks)


def remove_ingested(project: str, store_id: str, file_id: str, gen: str, chunks: int) -> None:
    """Delete a file's vectors (keys from its chunk count) and its parsed text; each step safe to repeat."""
    if chunks:
        with contextlib.suppress(NotFound):  # the store's index is gone already: so are the vectors
            s3vectors.delete_vectors(
                s3vectors.index_name(store_id), [vector_key(file_id, gen, n) for n in range(chunks)]
            )
    s3.delete_object(parsed_key(project, store_id, file_id, gen))


def file_content(project: str, store_id: str, file_id: str) -> str:
    """A store's file's parsed text (empty until its ingestion has parsed it)."""
    store_items.get_store(project, store_id)
    item = store_files.find_item(project, store_id, file_id)
    if item is None:
        raise NotFound("file", file_id)
    if item["status"]["S"] != "completed":  # no parsed text is kept but a completed file's (S3 answers a
        return ""  # missing key 403 to a role without s3:ListBucket: never asked for one that is not there)
    data = s3.get_object(parsed_key(project, store_id, file_id, store_files.generation(item)))
    return "" if data is None else data.decode()


def file_bytes(project: str, file_id: str) -> bytes | None:
    """The bytes of a file of the project (None: deleted since it was added). The item first: S3 answers a
    missing key 403, not 404, to a role without s3:ListBucket."""
    if file_items.find_file(project, file_id) is None:
        return None
    return s3.get_object(object_key(project, file_id))
