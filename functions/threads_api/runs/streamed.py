"""A streamed run answered where its client waits: the function that holds the client's connection runs the
run itself (``worker.execute``, the same claim, saves and ending as the run worker's) and sends each piece
of the model's reply as the model writes it, instead of handing the run to the worker and following it.

What the worker guarantees holds here too: the run is claimed once (a conditional write), every save is
conditional on the run's version (a cancel wins over the reply), tool calls leave the run
``requires_action`` (the stream ends there), and any failure ends the run with a ``last_error``. The reply's
text so far is still saved on the run as it comes, so a client that reads the run, or a retried request that
follows it, sees it too.

A client that goes away does not stop the run: the pieces it would have had are dropped, and the run ends
with one reply and releases its thread. A function that dies mid-run (killed, out of memory) leaves its run
``in_progress`` until its ``expires_at`` (at most ten minutes), when it reads expired and its thread is free:
no retry takes it up, as Lambda retries only asynchronous invocations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING

from threads_api.domain import clock, lifecycle
from threads_api.domain.records import Run
from threads_api.runs import events
from threads_api.wire.response_bodies import EventStream
from threads_api.wire.run_objects import run_object

if TYPE_CHECKING:
    from threads_api.providers import Provider


@cache
def _provider() -> Provider | None:
    """The model provider, built on the first streamed run of a container: the other requests never need it."""
    from threads_api import providers

    return providers.from_environment()


class _Out:
    """The events sent so far: each to the client at once (``sink``), all of them kept for the body."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self.sink = sink
        self.sent: list[str] = []

    def send(self, pieces: Iterable[str]) -> None:
        for piece in pieces:
            self.sent.append(piece)
            self.sink(piece)


def answered_here(
    project: str,
    run: Run,
    *,
    sink: Callable[[str], None],
    time_left: Callable[[], float],
    invocation: str,
    created: bool,
    prelude: list[str],
) -> EventStream:
    """Run ``run`` (written, queued) here, its events to ``sink`` as they happen; the whole stream returned.

    ``invocation``: this request's id, recorded as the run's worker (no other invocation takes it up)."""
    from threads_api.runs import worker  # only streamed runs need the worker's code here

    out = _Out(sink)
    queued = run_object(run, clock.now())
    out.send([*prelude, *([events.sse("thread.run.created", queued)] if created else [])])
    out.send([events.sse("thread.run.queued", queued)])
    follower = events.Follower(project, run)

    def observe(current: Run) -> None:
        out.send(follower.events(current))

    saved = worker.execute(run.thread_id, run.id, _provider(), time_left, invocation=invocation, observe=observe)
    if saved is not None:
        out.send(follower.events(saved))
        if lifecycle.current(saved, clock.now()).status in lifecycle.STOPPED:
            out.send([events.sse("done", "[DONE]")])
            return EventStream("".join(out.sent))
    # Not claimed here (a retry of this request, or a cancel, came first), or not stopped yet: follow it.
    out.send(events.followed(project, saved or run, time_left=time_left, follower=follower))
    return EventStream("".join(out.sent))
