"""``stream: true``: the Assistants streaming events of a run, as server-sent events, in OpenAI's order.

A run's events from the run as stored: ``Follower`` turns each state of the run into the events of what
happened since the last: ``thread.run.created``, ``thread.run.queued``, ``thread.run.in_progress``, for each
step ``thread.run.step.created`` / ``in_progress`` (and for a reply ``thread.message.created`` / ``in_progress``
/ ``delta``... / ``completed``) / ``thread.run.step.completed``, then the run's last status, then ``done``. Its
states come from the run answered here as the model writes (``runs/streamed.py``), or, for a run another
invocation answers (a retried request), from reading the run (its version, then the run when it changed:
``followed``), with a keep-alive comment after ``KEEPALIVE_SECONDS`` without an event. Where nothing can stream
(no sink: the handler tests), the events are joined and a run still going after ``STREAM_WAIT_SECONDS`` ends
the stream without a final run event, within API Gateway's 29 s for a buffered answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from threads_api import store
from threads_api.domain import clock, file_search, lifecycle
from threads_api.domain.records import JsonObject, Run
from threads_api.observability import logger
from threads_api.runs import event_objects as shapes
from threads_api.runs.cited import CitedText
from threads_api.store.runs import get_run, run_version
from threads_api.wire import response_bodies
from threads_api.wire.run_objects import run_object

sse = shapes.sse  # the one writer of an event, as the other run modules call it (``events.sse``)

# A stream whose answer is buffered (no sink: Lambda's own runtime, a test) must fit API Gateway's 29 s: it
# waits this long at most (``launch``); one that streams goes on until its run stops.
STREAM_WAIT_SECONDS = 24.0
KEEPALIVE_SECONDS = 15.0  # under API Gateway's idle timeout of a stream (30 s edge-optimized, 5 min regional)
KEEPALIVE = ": keep-alive\n\n"  # a server-sent events comment, which clients skip
POLL_SECONDS = 0.1
SLOW_POLL_SECONDS = 0.5


def events(
    project: str,
    start: Run,
    *,
    created: bool,
    prelude: list[str],
    time_left: Callable[[], float],
    include_content: bool = False,
) -> Iterator[str]:
    """The events from ``start`` (the run as this request left it: queued) until it stops or the wait ends.

    ``created``: the request created the run (``thread.run.created`` first); otherwise it resumed it
    (submit_tool_outputs). ``prelude``: events before these (``thread.created``; a completed tool step).
    ``include_content``: a file_search step's end event carries its results' excerpts (``include[]``)."""
    now = clock.now()
    yield from prelude
    # As the run was then: a keyed request retried after its run ended finds that run, ended.
    queued = shapes.as_status(start, "queued", now) | ({"started_at": None} if created else {})
    if created:
        yield sse("thread.run.created", queued)
    yield sse("thread.run.queued", queued)
    yield from followed(project, start, time_left=time_left, include_content=include_content)


def followed(
    project: str,
    start: Run,
    *,
    time_left: Callable[[], float],
    follower: Follower | None = None,
    include_content: bool = False,
) -> Iterator[str]:
    """The events of ``start`` from where it stands (its steps so far are not told again) until it stops or
    the wait ends, then ``done``: also the stream of a retried request whose first answer was lost.
    ``follower``: what the stream has told already, when it told some (a run answered here, then followed)."""
    follower = follower or Follower(project, start, include_content)
    for run in _changes(project, start, time_left):
        if run is None:  # a quiet while: a comment keeps the connection (and API Gateway's idle timer) alive
            yield KEEPALIVE
        else:
            yield from follower.events(run)
    yield sse("done", "[DONE]")


def _changes(project: str, start: Run, time_left: Callable[[], float]) -> Iterator[Run | None]:
    """The run each time it changed, until it stops (or the wait's time is up, or a read fails); None after
    ``KEEPALIVE_SECONDS`` without a change."""
    started = time.monotonic()
    deadline = started + time_left() - 2
    run = start
    yield run
    told = time.monotonic()
    while lifecycle.current(run, clock.now()).status not in lifecycle.STOPPED:
        if time.monotonic() >= deadline:
            return
        if time.monotonic() - told >= KEEPALIVE_SECONDS:
            told = time.monotonic()
            yield None
        # Quick at first (a reply often takes a second or two), then every half second: a long run's
        # stream costs at most ~2 small reads a second (the run's version alone) and one read per change.
        time.sleep(POLL_SECONDS if time.monotonic() - started < 3 else SLOW_POLL_SECONDS)
        try:
            if run_version(start.thread_id, start.id) != run.version:
                run = get_run(project, start.thread_id, start.id)
                told = time.monotonic()
                yield run
        except Exception:  # the run is written: the stream ends with what is known rather than an error
            logger.exception("stream wait failed", extra={"run_id": start.id})
            return
    yield run  # it stopped: by a change already told, or by time (expired), which no write announces


class Follower:
    """What a stream has said of a run so far, and the events of what is new in the run as read next."""

    def __init__(self, project: str, start: Run, include_content: bool = False) -> None:
        self.project = project
        self.include_content = include_content
        self.in_progress = False
        self.cancelling = False
        self.told_steps = {s["id"] for s in start.steps}
        # Tool steps told in progress (a mixed round's, waiting for the function outputs): their end is told
        # when a later read shows it (the run failed, cancelled or expired meanwhile).
        self.open_steps: set[str] = set()
        self.open_reply: str | None = None  # the message id of a reply whose text is still coming
        self.cited = CitedText([])  # that reply's text, as sent in deltas
        self.stopped = False  # the run's last event (completed, failed, expired, requires_action...) was told

    def events(self, run: Run) -> Iterator[str]:
        now = clock.now()
        run = lifecycle.current(run, now)
        if not self.in_progress and run.status != "queued" and run.started_at is not None:
            self.in_progress = True
            yield sse("thread.run.in_progress", shapes.as_status(run, "in_progress", now))
        # The steps first: a reply being written now is the latest round's, after every step saved before it
        # (a follower that missed a search round's save tells that round's steps before the next reply).
        for step in run.steps:
            if step["id"] not in self.told_steps:
                self.told_steps.add(step["id"])
                yield from self._step_events(run, step)
            elif step["id"] in self.open_steps and step["status"] != "in_progress":
                self.open_steps.discard(step["id"])
                yield sse(f"thread.run.step.{step['status']}", self._shown(run, step))
        if run.partial is not None and run.status == "in_progress":
            yield from self._partial(run, now)
        if run.status == "cancelling" and not self.cancelling:
            self.cancelling = True
            yield sse("thread.run.cancelling", run_object(run, now))
        if run.status in lifecycle.STOPPED and not self.stopped:
            self.stopped = True  # told once: the run as last read may be told again when it stops by time
            yield sse(f"thread.run.{run.status}", run_object(run, now))

    def _partial(self, run: Run, now: int) -> Iterator[str]:
        """A reply being written: its step and message open, then each new piece of its text (a citation's
        marker whole, with its annotation)."""
        step_id, message_id = lifecycle.reply_ids(run)
        if self.open_reply != message_id:
            self.open_reply, self.cited = message_id, CitedText(file_search.sources(run.steps))
            step = lifecycle.step(run, step_id, "message_creation", {"message_id": message_id}, now, None)
            yield from self._opened_step(step | {"status": "in_progress", "completed_at": None})
            yield from shapes.opened_message(shapes.reply_object(run, message_id, now))
        piece = self.cited.delta(message_id, run.partial or "")
        if piece is not None:
            yield piece

    def _opened_step(self, step: JsonObject) -> Iterator[str]:
        opened = step | {"status": "in_progress", "usage": None, "last_error": None}
        opened |= dict.fromkeys(("completed_at", "failed_at", "cancelled_at", "expired_at"))
        yield sse("thread.run.step.created", opened)
        yield sse("thread.run.step.in_progress", opened)

    def _step_events(self, run: Run, step: JsonObject) -> Iterator[str]:
        details = step["step_details"]
        if details["type"] == "tool_calls":
            # The calls come in the delta, as OpenAI streams them: the SDK joins a delta's strings onto the
            # snapshot's, so calls already in the created step would come out doubled.
            yield from self._opened_step(step | {"step_details": {"type": "tool_calls", "tool_calls": []}})
            yield sse("thread.run.step.delta", shapes.tool_calls_delta(step))
            if step["status"] == "in_progress":
                self.open_steps.add(step["id"])
        else:
            message_id = details["message_creation"]["message_id"]
            if self.open_reply != message_id:
                yield from self._opened_step(step)
            try:
                yield from self._message_done(step["thread_id"], message_id)
            except Exception:  # gone (deleted) or unreadable now: the step's events go on without it
                logger.exception("stream message failed", extra={"run_id": step["run_id"]})
        if step["status"] != "in_progress":
            yield sse(f"thread.run.step.{step['status']}", self._shown(run, step))

    def _shown(self, run: Run, step: JsonObject) -> JsonObject:
        """A step as its end event shows it: with ``include``, its file_search results carry their excerpts
        (read from the calls' records; a step unreadable now is shown without them)."""
        if not self.include_content or step["step_details"]["type"] != "tool_calls":
            return step
        from threads_api.runs import steps  # only a stream that asked for the excerpts reads them

        try:
            return steps.with_content(self.project, run, [step])[0]
        except Exception:
            logger.exception("stream step content failed", extra={"run_id": run.id})
            return step

    def _message_done(self, thread_id: str, message_id: str) -> Iterator[str]:
        message = response_bodies.message_object(store.get_message(self.project, thread_id, message_id))
        if self.open_reply != message_id:
            yield from shapes.opened_message(message)
            yield sse("thread.message.delta", shapes.delta_object(message_id, shapes.delta_content(message["content"])))
        else:
            piece = self.cited.rest(message_id, message)
            if piece is not None:
                yield piece
        self.open_reply = None
        yield sse(f"thread.message.{message['status']}", message)
