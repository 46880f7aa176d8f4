"""The use case that resumes a run: ``POST /threads/{thread_id}/runs/{run_id}/submit_tool_outputs``."""

from __future__ import annotations

from threads_api import store
from threads_api.domain import clock, lifecycle
from threads_api.domain.errors import Conflict, Unavailable
from threads_api.domain.records import JsonObject
from threads_api.runs import events, launch
from threads_api.runs.launch import Answer
from threads_api.wire.run_objects import run_object

ATTEMPTS = 5  # a cancel, or the worker, may save between our read and our write: read again


def submit_tool_outputs(
    project: str, thread_id: str, run_id: str, outputs: list[JsonObject], answer: Answer
) -> dict[str, object]:
    """The run, queued again with the outputs of every tool call it asked for, handed to the worker."""
    for _ in range(ATTEMPTS):
        run = store.get_run(project, thread_id, run_id)
        now = clock.now()
        if lifecycle.already_submitted(run, outputs):
            # A retry of a submit that landed: its run as it stands (even waiting again, for the outputs of the
            # model's next round of tools), or with stream, its events from there. A run still queued may never
            # have reached its worker (the first answer was lost before the hand-over): it is handed over
            # again, which is harmless if it had (a worker claims a run once).
            if lifecycle.current(run, now).status == "queued":
                return launch.started(project, run, answer, created=False)
            if answer.stream:
                return launch.followed(project, run, answer)
            return run_object(run, now)
        resumed = lifecycle.submit_tool_outputs(run, outputs, now)
        store.check_run_size(project, resumed)  # a 400 for outputs that leave the worker no room
        try:
            saved = store.save_run(project, resumed, hold_until=resumed.expires_at)
            break
        except Conflict:
            continue
    else:
        raise Unavailable("submit_tool_outputs")
    # The tool step these outputs completed comes first in a stream.
    done = [
        events.sse("thread.run.step.completed", s) for s, was in zip(saved.steps, run.steps, strict=True) if s != was
    ]
    return launch.started(project, saved, answer, created=False, prelude=done)
