"""The use cases that create a run: on a thread (``POST /threads/{thread_id}/runs``), and with a new thread
(``POST /threads/runs``). Each writes nothing when it fails: an unknown assistant or a run too large to store
is refused before the thread is written, and a thread whose run then fails is taken back (with the stores
made for it). Files attached for ``file_search`` go into the thread's store before the run is written."""

from __future__ import annotations

from threads_api import store
from threads_api.domain import clock, ids, lifecycle
from threads_api.domain.errors import ActiveRun
from threads_api.domain.records import JsonObject, Message, Thread
from threads_api.observability import logger
from threads_api.runs import events, launch
from threads_api.runs.launch import Answer
from threads_api.tool_resources import attachments, stores, writes
from threads_api.wire import response_bodies
from threads_api.wire.request_bodies import CreateThreadIn
from threads_api.wire.run_bodies import RunIn, ThreadAndRunIn


def create_run(project: str, thread_id: str, body: RunIn, run_id: str | None, answer: Answer) -> dict[str, object]:
    """``run_id``: derived from an Idempotency-Key (a retry finds the run its first attempt wrote), or None."""
    assistant = store.get_assistant(project, body.assistant_id)
    now = clock.now()
    run = lifecycle.new_run(thread_id, assistant, body.overrides(), run_id, now)
    messages = [Message(ids.new_id("msg_"), thread_id, now, *m.as_new()) for m in body.additional_messages or []]
    store.check_run_size(project, run)  # before the attachments' files: a run too large to store writes nothing
    try:
        # Searched attachments' files into the thread's store first: the run's first search finds them.
        store_id = stores.keyed_store_id(run_id)
        attachments.add_for_run(project, thread_id, body.additional_messages or [], store_id)
        run = store.create_run(project, run, messages, keyed=run_id is not None)
    except ActiveRun as busy:  # perhaps this request's own run, if its first attempt failed after writing
        launch.hand_over_if_queued(project, thread_id, busy.run_id)
        raise
    return launch.started(project, run, answer)


def create_thread_and_run(
    project: str, body: ThreadAndRunIn, thread_id: str | None, run_id: str | None, answer: Answer
) -> dict[str, object]:
    """``thread_id`` and ``run_id``: derived from an Idempotency-Key, or None for new ones. The stores the
    request makes (the thread's helper or attachments' store, the override's helper) are taken back with the
    thread if the run cannot be written (unkeyed: a retry would make others)."""
    assistant = store.get_assistant(project, body.assistant_id)  # before the thread: a 404 writes nothing
    keyed = run_id is not None
    thread_id = thread_id or ids.new_id("thread_")
    overrides, made = _overrides(project, body, run_id)
    with stores.taken_back_on_failure(project, made, keyed=keyed):
        run = lifecycle.new_run(thread_id, assistant, overrides, run_id, clock.now())
        store.check_run_size(project, run)  # before the thread: a run too large to store writes nothing
        thread = _thread(project, body.thread, thread_id, made, keyed=keyed)
        try:
            run = store.create_run(project, run, keyed=keyed)
        except Exception:
            if not keyed:  # unkeyed, a retry would make another thread: this one is taken back first
                _take_back(project, thread.id)
            raise
    prelude = [events.sse("thread.created", response_bodies.thread_object(thread))]
    return launch.started(project, run, answer, prelude=prelude)


def _overrides(project: str, body: ThreadAndRunIn, run_id: str | None) -> tuple[JsonObject, list[str]]:
    """The run's settings from the body, the override's ``tool_resources`` resolved (ids checked, a helper's
    store made: it expires as a thread's, being this one run's); the stores made."""
    overrides = body.overrides()
    if body.tool_resources is None:
        return overrides, []
    resources = stores.resolved(project, body.tool_resources, thread=True, store_id=stores.keyed_store_id(run_id))
    return overrides | {"tool_resources": resources}, stores.made(body.tool_resources, resources)


def _thread(project: str, given: CreateThreadIn | None, thread_id: str, made: list[str], *, keyed: bool) -> Thread:
    """The new thread written, its resources resolved (the stores made for it added to ``made``)."""
    messages = (given.messages or []) if given else []
    store_id = stores.keyed_store_id(thread_id) if keyed else None
    resources, more = writes.thread_resources(project, given.tool_resources if given else None, messages, store_id)
    made += more
    thread, _ = store.create_thread(
        project,
        (given.metadata if given else None) or {},
        resources,
        [m.as_new() for m in messages],
        thread_id=thread_id,
    )
    return thread


def _take_back(project: str, thread_id: str) -> None:
    """Delete the thread a failed request made (its messages go with the purge), so that the request wrote
    nothing; if that fails too, the error the client gets is still the run's."""
    try:
        store.delete_thread(project, thread_id)
    except Exception:
        logger.exception("thread not taken back", extra={"thread_id": thread_id})
