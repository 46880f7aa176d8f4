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

import threading
import time
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
    """The events, each to the client at once (``sink``); a comment after ``KEEPALIVE_SECONDS`` without one, while
    the model is silent (thinking, a Bedrock reply asked whole, a retry's wait), inside API Gateway's idle
    timeout. Writes come from the run's thread and the ticker's: one at a time. Nothing is kept: the client
    has each piece, and the answer's body is not read once it streams."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self.sink = sink
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._done = threading.Event()
        threading.Thread(target=self._tick, name="stream-keepalive", daemon=True).start()

    def send(self, pieces: Iterable[str]) -> None:
        for piece in pieces:
            with self._lock:
                self.sink(piece)
                self._last = time.monotonic()

    def close(self) -> None:
        self._done.set()

    def _tick(self) -> None:
        while not self._done.wait(1.0):
            if time.monotonic() - self._last >= events.KEEPALIVE_SECONDS:
                try:
                    self.send([events.KEEPALIVE])
                except Exception:  # a client gone: the run goes on regardless
                    return


def answered_here(
    project: str,
    run: Run,
    *,
    sink: Callable[[str], None],
    time_left: Callable[[], float],
    invocation: str,
    opening: list[str],
    include_content: bool = False,
) -> EventStream:
    """Run ``run`` (written, queued) here, its events to ``sink`` as they happen.

    ``invocation``: this request's id, recorded as the run's worker (no other invocation takes it up);
    ``opening``: the events before ``thread.run.queued`` (``thread.created``, a completed tool step,
    ``thread.run.created``); ``include_content``: the file_search steps' end events carry their excerpts."""
    out = _Out(sink)
    follower = events.Follower(project, run, include_content)
    try:
        _run_here(project, run, out, follower, time_left=time_left, invocation=invocation, opening=opening)
    finally:
        out.close()
    return EventStream("")  # every event went to the sink


def _run_here(
    project: str,
    run: Run,
    out: _Out,
    follower: events.Follower,
    *,
    time_left: Callable[[], float],
    invocation: str,
    opening: list[str],
) -> None:
    from threads_api.runs import worker  # only streamed runs need the worker's code here

    out.send([*opening, events.sse("thread.run.queued", run_object(run, clock.now()))])

    def observe(current: Run) -> None:
        out.send(follower.events(current))

    saved = worker.execute(run.thread_id, run.id, _provider(), time_left, invocation=invocation, observe=observe)
    if saved is not None:
        out.send(follower.events(saved))
        if lifecycle.current(saved, clock.now()).status in lifecycle.STOPPED:
            out.send([events.sse("done", "[DONE]")])
            return
    # Not claimed here (a retry of this request, or a cancel, came first), or not stopped yet: follow it.
    out.send(events.followed(project, saved or run, time_left=time_left, follower=follower))
