"""What the handlers that write an assistant, a thread or a message call: the object written as before, once
its tool resources are resolved (``stores``) and its searched attachments' files are in its thread's store
(``attachments``). A body with neither takes exactly the old path: no extra read, no store code loaded.

``store_id``: the id of a store the request may make (derived from its Idempotency-Key), or None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from threads_api import store
from threads_api.domain import clock
from threads_api.domain.records import Assistant, JsonObject, Message, Thread
from threads_api.store import threads
from threads_api.tool_resources import attachments, stores

if TYPE_CHECKING:
    from threads_api.wire.assistant_bodies import AssistantIn, AssistantUpdate
    from threads_api.wire.request_bodies import CreateThreadIn, MessageIn, ModifyThreadIn, ToolResources


def create_assistant(project: str, body: AssistantIn, assistant_id: str | None, store_id: str | None) -> Assistant:
    fields = body.fields()
    if body.tool_resources is None:
        return store.create_assistant(project, fields, assistant_id=assistant_id)
    resources = stores.resolved(project, body.tool_resources, thread=False, store_id=store_id)
    made = stores.made(body.tool_resources, resources)
    with stores.taken_back_on_failure(project, made, keyed=store_id is not None):
        return store.create_assistant(project, fields | {"tool_resources": resources}, assistant_id=assistant_id)


def update_assistant(project: str, assistant_id: str, body: AssistantUpdate, store_id: str | None) -> Assistant:
    changes = body.changes()
    if "tool_resources" not in changes or body.tool_resources is None:
        return store.update_assistant(project, assistant_id, changes)
    resources = stores.resolved(project, body.tool_resources, thread=False, store_id=store_id)
    made = stores.made(body.tool_resources, resources)
    with stores.taken_back_on_failure(project, made, keyed=store_id is not None):
        return store.update_assistant(project, assistant_id, changes | {"tool_resources": resources})


def create_thread(project: str, body: CreateThreadIn, thread_id: str | None, store_id: str | None) -> Thread:
    messages = [message.as_new() for message in body.messages or []]
    resources, made = thread_resources(project, body.tool_resources, body.messages or [], store_id)
    with stores.taken_back_on_failure(project, made, keyed=store_id is not None):
        thread, _ = store.create_thread(project, body.metadata or {}, resources, messages, thread_id=thread_id)
    return thread


def update_thread(project: str, thread_id: str, body: ModifyThreadIn, store_id: str | None) -> Thread:
    sent = body.model_fields_set
    metadata = (body.metadata or {}) if "metadata" in sent else None
    if body.tool_resources is None:  # not sent (kept), or null (cleared)
        return store.update_thread(project, thread_id, metadata, {} if "tool_resources" in sent else None)
    resources = stores.resolved(project, body.tool_resources, thread=True, store_id=store_id)
    with stores.taken_back_on_failure(project, stores.made(body.tool_resources, resources), keyed=store_id is not None):
        return store.update_thread(project, thread_id, metadata, resources)


def append_message(
    project: str, thread_id: str, body: MessageIn, message_id: str | None, store_id: str | None
) -> Message:
    file_ids = attachments.searched_files([body])
    if file_ids:
        # Refused now if a run holds the thread: no file is added for a message the append would refuse.
        thread = threads.open_thread(project, thread_id, clock.now())
        attachments.add_to_thread(project, thread, file_ids, store_id)
    return store.append_message(project, thread_id, *body.as_new(), message_id=message_id)


def thread_resources(
    project: str, resources: ToolResources | None, messages: list[MessageIn], store_id: str | None
) -> tuple[JsonObject, list[str]]:
    """A new thread's resources as stored (ids checked, helper made, searched attachments' files added to its
    store), and the stores made for it (taken back by the caller if the thread is not written)."""
    file_ids = attachments.searched_files(messages)
    if resources is None and not file_ids:
        return {}, []
    stored = stores.resolved(project, resources, thread=True, store_id=store_id)
    made = stores.made(resources, stored)
    with stores.taken_back_on_failure(project, made, keyed=store_id is not None):
        stored, more = attachments.for_new_thread(project, stored, file_ids, store_id)
    return stored, made + more
