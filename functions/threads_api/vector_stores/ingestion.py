"""The ingestion of one file of a vector store: read its bytes, parse them, chunk the text in tokens, embed the
chunks in batches, write the vectors to the store's index, then mark the file ``completed``.

Every step can fail, the first included, and whatever fails ends the file: ``failed`` with a ``last_error``
(``unsupported_file`` or ``invalid_file`` for the file's own fault, ``server_error`` otherwise), its vectors
and parsed text deleted. The end is one conditional transaction (``store_files.finish``): a file cancelled,
deleted or added again meanwhile is not marked, and what this worker wrote is deleted instead. A worker
killed outright (out of memory, its time) is run again by Lambda's retry with the same event: the vector keys
(``<file id>#<gen>#<n>``) are the same, so its vectors are overwritten, never written twice. Before each
batch the worker checks its time, and ends the file ``failed`` while it still can.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from threads_api.bucket import s3
from threads_api.domain.vector_stores import LastError, VectorStoreFile
from threads_api.index import s3vectors
from threads_api.ingest import chunking, parsing
from threads_api.observability import logger
from threads_api.store import store_file_states, store_files
from threads_api.store import vector_stores as store_items
from threads_api.vector_stores import operations

if TYPE_CHECKING:
    from threads_api.embeddings import Embedder

EMBED_BATCH = 64  # chunks per embedding request and per PutVectors
RESERVE_SECONDS = 20.0  # kept to end the file (a transaction, deletions) once the work cannot finish
METADATA_TEXT_MAX_BYTES = 30_000  # S3 Vectors takes 40 KB of metadata per vector; the file id takes the rest
GONE = LastError("invalid_file", "The file was deleted before it could be ingested.")


class OutOfTime(Exception):
    pass


@dataclass(slots=True)
class Work:
    """One file's ingestion: what it is for, and how many chunks it planned (what a failure deletes: the same
    file and chunking always make the same chunks, so an earlier attempt's vectors are among them)."""

    project: str
    file: VectorStoreFile
    gen: str
    planned: int = 0


def on_event(event: dict[str, Any], embedder: Embedder, seconds_left: Callable[[], float]) -> None:
    """The worker's event (``starter.event``): one file of a store, and the generation of it to ingest."""
    project, store_id = str(event["project"]), str(event["vector_store_id"])
    ingest(project, store_id, str(event["file_id"]), str(event["generation"]), embedder, seconds_left)


def ingest(
    project: str, store_id: str, file_id: str, gen: str, embedder: Embedder, seconds_left: Callable[[], float]
) -> None:
    """Ingest one file of a store, if it is still the one this event names (its generation, in progress)."""
    item = store_files.find_item(project, store_id, file_id)
    if item is None or store_files.generation(item) != gen or item["status"]["S"] != "in_progress":
        return  # deleted, added again, cancelled or ended: not this event's to do
    work = Work(project, store_files.file_from_item(item), gen)
    try:
        _ingest(work, embedder, seconds_left)
    except parsing.FileRejected as exc:
        _fail(work, LastError(exc.code, exc.message))
    except OutOfTime:
        _fail(work, LastError("server_error", "The file's ingestion ran out of time."))
    except Exception as exc:
        logger.exception("ingestion failed", extra={"vector_store_id": store_id, "file_id": file_id})
        _fail(work, LastError("server_error", _server_error(exc)))


def _ingest(work: Work, embedder: Embedder, seconds_left: Callable[[], float]) -> None:
    project, file, gen = work.project, work.file, work.gen
    data = operations.file_bytes(project, file.id)
    if data is None:
        raise parsing.FileRejected(GONE.code, GONE.message)
    text = parsing.extract_text(file.filename, data)
    pieces = chunking.chunk(text, file.chunking)
    work.planned = len(pieces)
    if not pieces:
        raise parsing.FileRejected("invalid_file", "The file has no text to index.")
    s3.put_object(operations.parsed_key(project, file.vector_store_id, file.id, gen), text.encode())
    index = s3vectors.index_name(file.vector_store_id)
    s3vectors.create_index(index, embedder.dimensions)
    usage = 0
    for start in range(0, len(pieces), EMBED_BATCH):
        if seconds_left() < RESERVE_SECONDS:
            raise OutOfTime
        batch = pieces[start : start + EMBED_BATCH]
        vectors = embedder.embed(batch, deadline=time.monotonic() + seconds_left() - RESERVE_SECONDS)
        numbered = enumerate(zip(batch, vectors, strict=True), start)
        s3vectors.put_vectors(index, [_vector(file.id, gen, n, piece, vector) for n, (piece, vector) in numbered])
        usage += sum(len(piece.encode()) for piece in batch) + 4 * embedder.dimensions * len(batch)
    file.usage_bytes = usage
    if not store_file_states.finish(project, file, gen, "completed", chunks=len(pieces)):
        operations.remove_ingested(project, file.vector_store_id, file.id, gen, len(pieces))
        _drop_index_if_deleted(project, file.vector_store_id)


def _drop_index_if_deleted(project: str, store_id: str) -> None:
    """A file that could not be ended may be a deleted store's: the index this worker's create_index made
    again after the store's purge is deleted too (there is none: deleted already)."""
    if store_items.find_store(project, store_id) is None:
        s3vectors.delete_index(s3vectors.index_name(store_id))


def _vector(file_id: str, gen: str, n: int, text: str, data: list[float]) -> s3vectors.Vector:
    stored = text.encode()[:METADATA_TEXT_MAX_BYTES].decode(errors="ignore")
    metadata = {"file_id": file_id, "text": stored}
    return s3vectors.Vector(key=operations.vector_key(file_id, gen, n), data=data, metadata=metadata)


def _fail(work: Work, error: LastError) -> None:
    """End the file ``failed`` (unless it was cancelled, deleted or added again meanwhile), then delete what it,
    or an earlier attempt, wrote."""
    file = work.file
    file.usage_bytes = 0
    ended = store_file_states.finish(work.project, file, work.gen, "failed", error=error)
    try:
        operations.remove_ingested(work.project, file.vector_store_id, file.id, work.gen, work.planned)
        if not ended:
            _drop_index_if_deleted(work.project, file.vector_store_id)
    except Exception:  # the file is ended; what is left has a generation search no longer accepts
        logger.exception("ingestion clean-up failed", extra={"file_id": file.id})


def _server_error(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"The file could not be ingested: {message}"[:500]
