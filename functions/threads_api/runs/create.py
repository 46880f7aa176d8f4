"""The use cases that create a run: on a thread (``POST /threads/{thread_id}/runs``), and with a new thread
(``POST /threads/runs``). Each writes nothing when it fails: an unknown assistant or a run too large to store
is refused before the thread is written, and a thread whose run then fails is taken back."""

from __future__ import annotations

from threads_api import store
from threads_api.domain import clock, ids, lifecycle
from threads_api.domain.errors import ActiveRun
from threads_api.domain.records import Message
from threads_api.observability import logger
from threads_api.runs import events, launch
from threads_api.runs.launch import Answer
from threads_api.wire import response_bodies
from threads_api.wire.run_bodies import RunIn, ThreadAndRunIn


def create_run(project: str, thread_id: str, body: RunIn, run_id: str | None, answer: Answer) -> dict[str, object]:
    """``run_id``: derived from an Idempotency-Key (a retry finds the run its first attempt wrote), or None."""
    assistant = store.get_assistant(project, body.assistant_id)
    now = clock.now()
    run = lifecycle.new_run(thread_id, assistant, body.overrides(), run_id, now)
    messages = [Message(ids.new_id("msg_"), thread_id, now, *m.as_new()) for m in body.additional_messages or []]
    try:
        run = store.create_run(project, run, messages, keyed=run_id is not None)
    except ActiveRun as busy:  # perhaps this request's own run, if its first attempt failed after writing
        launch.hand_over_if_queued(project, thread_id, busy.run_id)
        raise
    return launch.started(project, run, answer)


def create_thread_and_run(
    project: str, body: ThreadAndRunIn, thread_id: str | None, run_id: str | None, answer: Answer
) -> dict[str, object]:
    """``thread_id`` and ``run_id``: derived from an Idempotency-Key, or None for new ones."""
    assistant = store.get_assistant(project, body.assistant_id)  # before the thread: a 404 writes nothing
    given = body.thread
    thread_id = thread_id or ids.new_id("thread_")
    run = lifecycle.new_run(thread_id, assistant, body.overrides(), run_id, clock.now())
    store.check_run_size(project, run)  # before the thread: a run too large to store writes nothing
    thread, _ = store.create_thread(
        project,
        (given.metadata if given else None) or {},
        given.tool_resources.stored() if given and given.tool_resources else {},
        [m.as_new() for m in (given.messages or [])] if given else [],
        thread_id=thread_id,
    )
    try:
        run = store.create_run(project, run, keyed=run_id is not None)
    except Exception:
        if run_id is None:  # unkeyed, a retry would make another thread: this one is taken back first
            _take_back(project, thread.id)
        raise
    prelude = [events.sse("thread.created", response_bodies.thread_object(thread))]
    return launch.started(project, run, answer, prelude=prelude)


def _take_back(project: str, thread_id: str) -> None:
    """Delete the thread a failed request made (its messages go with the purge), so that the request wrote
    nothing; if that fails too, the error the client gets is still the run's."""
    try:
        store.delete_thread(project, thread_id)
    except Exception:
        logger.exception("thread not taken back", extra={"thread_id": thread_id})
