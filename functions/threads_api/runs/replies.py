"""The messages a run wrote (``GET /threads/{thread_id}/messages?run_id=``)."""

from __future__ import annotations

from threads_api import store
from threads_api.domain import clock, lifecycle
from threads_api.domain.errors import NotFound
from threads_api.domain.records import Page, PageParams, page_of


def run_replies(project: str, thread_id: str, run_id: str, page: PageParams) -> Page:
    """The messages a run wrote (its message_creation steps), and the one it is writing: few, so the page is
    cut here."""
    try:
        run = store.get_run(project, thread_id, run_id)
    except NotFound as exc:
        if exc.kind == "thread":
            raise
        return Page([], False)  # no such run of this thread: nothing it wrote
    ids = [s["step_details"]["message_creation"]["message_id"] for s in run.steps if s["type"] == "message_creation"]
    replies = store.messages_by_id(thread_id, ids)
    writing = lifecycle.writing(run, clock.now())  # the reply it is writing, its newest (store.writing)
    if writing is not None and writing[1].id not in {message.id for message in replies}:
        replies.append(writing[1])
    return page_of(replies, lambda message: message.id, page)
