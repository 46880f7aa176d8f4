"""Attachments that ``file_search`` searches: their files go into their thread's vector store, at the request
that writes the message (``messages.create``, a new thread's messages, a run's ``additional_messages``).

The thread's store is the one its ``tool_resources.file_search`` names, if it exists and has not expired;
otherwise a new one (7 days idle, OpenAI's), which the thread is then made to name by a conditional update of
its resources as read: of two first attachments at once, one store wins, the other (still empty: files are
added after the update) is deleted and its files go to the winner's. A message that a run holding the thread
would refuse adds no file (``store.threads.open_thread``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from threads_api.domain import clock
from threads_api.domain.errors import ActiveRun, Unavailable
from threads_api.domain.records import JsonObject, Thread
from threads_api.domain.vector_stores import Chunking, VectorStore
from threads_api.store import threads
from threads_api.store import vector_stores as store_items
from threads_api.tool_resources import stores

if TYPE_CHECKING:
    from threads_api.wire.request_bodies import MessageIn

RACES = 3  # another first attachment won: read the thread again and add to its store


def searched_files(messages: list[MessageIn]) -> list[str]:
    """The files attached for ``file_search`` in ``messages``, each once, in order."""
    found = [
        attachment.file_id
        for message in messages
        for attachment in message.attachments or []
        if any(tool.type == "file_search" for tool in attachment.tools)
    ]
    return list(dict.fromkeys(found))


def for_new_thread(
    project: str, resources: JsonObject, file_ids: list[str], store_id: str | None
) -> tuple[JsonObject, list[str]]:
    """A thread about to be written: its resources (as resolved) once its attachments' files are in its store,
    and the stores made here (none, or the new thread store)."""
    if not file_ids:
        return resources, []
    from threads_api.vector_stores import operations  # lazily: messages without such files never need it

    current = _usable(project, stores.store_ids(resources))
    if current is not None:
        operations.add_files(project, current, file_ids, Chunking())
        return resources, []
    made = _new_store(project, file_ids, store_id)
    return stores.naming(resources, made.id), [made.id]


def add_to_thread(project: str, thread: Thread, file_ids: list[str], store_id: str | None) -> None:
    """Add ``file_ids`` (checked: a 404 names the first not the project's) to ``thread``'s store, made if it
    has none that can be searched."""
    from threads_api.vector_stores import operations

    for _ in range(RACES):
        current = _usable(project, stores.store_ids(thread.tool_resources))
        if current is not None:
            operations.add_files(project, current, file_ids, Chunking())
            return
        operations.checked_files(project, file_ids)  # before a store is made: a bad id writes nothing
        made = _new_store(project, [], store_id)
        named = stores.naming(thread.tool_resources, made.id)
        if threads.set_tool_resources(project, thread.id, thread.tool_resources, named) is not None:
            operations.add_files(project, made.id, file_ids, Chunking())
            return
        stores.take_back(project, [made.id])  # another request named its store first: ours is empty
        thread = threads.get_thread(project, thread.id)
    raise Unavailable("thread tool_resources")


def add_for_run(project: str, thread_id: str, messages: list[MessageIn], store_id: str | None) -> None:
    """A run's ``additional_messages``: their searched files into the thread's store, unless a run holds the
    thread (then the run is refused, as it would be without them, and no file is added)."""
    file_ids = searched_files(messages)
    if not file_ids:
        return
    try:
        thread = threads.open_thread(project, thread_id, clock.now())
    except ActiveRun as busy:
        raise ActiveRun(thread_id, busy.run_id) from None  # the run's refusal, not a message's
    add_to_thread(project, thread, file_ids, store_id)


def _usable(project: str, store_ids: list[str]) -> str | None:
    """The thread's store if it can take files (there, not expired), else None."""
    if not store_ids:
        return None
    found = store_items.find_store(project, store_ids[0])
    if found is None or found.status(clock.now()) == "expired":
        return None
    return found.id


def _new_store(project: str, file_ids: list[str], store_id: str | None) -> VectorStore:
    from threads_api.vector_stores import operations
    from threads_api.wire.vector_store_bodies import NewVectorStore

    new = NewVectorStore("", None, {}, stores.THREAD_EXPIRY, file_ids, Chunking())
    return operations.create_store(project, new, store_id)
