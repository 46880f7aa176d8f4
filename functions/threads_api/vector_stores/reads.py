"""A store's files and batches as the API reads them, each ingestion stranded past its deadline ended first.

A worker that Lambda could not run to its end (killed three times: out of memory, a crash outside the
worker's own error handling) never ends its file. Lambda gives up on an event after its retries and an hour
of age at most (the function's ``EventInvokeConfig``), so a file still ``in_progress`` ``STRANDED_SECONDS``
after it was added has no worker left: whoever reads it ends it ``failed``, with the store's counters, in the
same conditional transaction a worker's end is (so a worker that did finish meanwhile wins).
"""

from __future__ import annotations

from threads_api.domain import clock
from threads_api.domain.records import Page, PageParams
from threads_api.domain.vector_stores import FileBatch, LastError, VectorStoreFile
from threads_api.store import file_batches, store_file_states, store_files
from threads_api.store import vector_stores as store_items

# An event is retried for at most an hour (MaximumEventAgeInSeconds), each attempt at most 15 minutes.
STRANDED_SECONDS = 2 * 3600
STRANDED = LastError("server_error", "The file's ingestion did not finish: its worker stopped without ending it.")


def settled(project: str, files: list[VectorStoreFile]) -> list[VectorStoreFile]:
    """``files``, those stranded in progress ended ``failed`` (as written, or as a worker's end left them)."""
    now = clock.now()
    for file in files:
        if file.status == "in_progress" and now - file.created_at > STRANDED_SECONDS:
            if store_file_states.finish(project, file, file.generation, "failed", error=STRANDED):
                file.status, file.last_error = "failed", STRANDED
            else:  # ended meanwhile: as it is now
                found = store_files.find_item(project, file.vector_store_id, file.id)
                if found is not None:
                    ended = store_files.file_from_item(found)
                    file.status, file.last_error, file.usage_bytes = ended.status, ended.last_error, ended.usage_bytes
    return files


def get_file(project: str, store_id: str, file_id: str) -> VectorStoreFile:
    store_items.get_store(project, store_id)
    return settled(project, [store_files.get_file(project, store_id, file_id)])[0]


def list_files(project: str, store_id: str, status: str | None, batch_id: str | None, page: PageParams) -> Page:
    """A store's files, or a batch's (the batch a 404 when it is not the store's)."""
    store_items.get_store(project, store_id)
    if batch_id is not None:
        file_batches.get_batch_item(project, store_id, batch_id)
    found = store_files.list_files(project, store_id, status, batch_id, page)
    # A file ended here no longer has the status a ``filter`` asked for: left out, as a later read would.
    found.items = [file for file in settled(project, found.items) if status is None or file.status == status]
    return found


def get_batch(project: str, store_id: str, batch_id: str) -> FileBatch:
    item = file_batches.get_batch_item(project, store_id, batch_id)
    return file_batches.batch_of(item, settled(project, file_batches.batch_files(project, store_id, batch_id)))
