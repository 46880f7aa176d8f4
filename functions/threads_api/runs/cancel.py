"""The use case that cancels a run: ``POST /threads/{thread_id}/runs/{run_id}/cancel``."""

from __future__ import annotations

from threads_api import store
from threads_api.domain import clock, lifecycle
from threads_api.domain.errors import Conflict, Unavailable
from threads_api.domain.records import Run

ATTEMPTS = 5  # the worker may save between our read and our write: read again


def cancel_run(project: str, thread_id: str, run_id: str) -> Run:
    """The run cancelled (queued, or waiting for tool outputs), or ``cancelling`` (the worker ends it; its
    thread's lock now ends with its new ``expires_at``, a few seconds on, should the worker not)."""
    for _ in range(ATTEMPTS):
        cancelled, ended = lifecycle.cancel(store.get_run(project, thread_id, run_id), clock.now())
        try:
            return store.save_run(project, cancelled, release=ended, hold_until=None if ended else cancelled.expires_at)
        except Conflict:
            continue
    raise Unavailable("cancel_run")
