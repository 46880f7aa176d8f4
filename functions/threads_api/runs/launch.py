"""Starting a run, shared by the three routes that do (create run, create thread and run, submit tool
outputs): hand it to the worker, then answer the run as queued, or with ``stream``, its events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from threads_api.domain import clock, lifecycle
from threads_api.domain.errors import Conflict
from threads_api.domain.records import Run
from threads_api.observability import logger
from threads_api.runs import events, starter
from threads_api.store.runs import get_run, save_run
from threads_api.wire.response_bodies import EventStream
from threads_api.wire.run_objects import run_object

NOT_STARTED = {
    "code": "server_error",
    "message": "The run could not be started: the worker could not be invoked.",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """How a request that starts or resumes a run is answered: the run as JSON, or with ``stream`` its events.
    ``time_left()``: the invocation's remaining seconds; ``sink``: where each event goes as it comes (the
    streaming functions' runtime, ``make serve``'s gateway; without one, the events are the response's body,
    all at once); ``request_id``: the request's, which a run answered here records as its worker;
    ``include_content``: a stream's file_search steps end with their results' excerpts (``include[]``)."""

    stream: bool
    time_left: Callable[[], float]
    sink: Callable[[str], None] | None = None
    request_id: str = ""
    include_content: bool = False

    def wait(self) -> float:
        """How long a stream may follow its run: the invocation's time where the answer streams; where it is
        buffered (no sink), within API Gateway's 29 s for a buffered answer."""
        if self.sink is not None:
            return self.time_left()
        return min(self.time_left(), events.STREAM_WAIT_SECONDS + 2)


def started(
    project: str, run: Run, answer: Answer, *, created: bool = True, prelude: list[str] | None = None
) -> dict[str, object]:
    """Hand ``run`` (written, queued) to the worker and answer for it: the run, or with ``stream`` its events.
    A keyed retry may find its run gone on already: only a run still queued is handed over (or failed)."""
    queued = run
    if answer.stream and answer.sink is not None and lifecycle.current(run, clock.now()).status == "queued":
        # The client's connection streams: the run is answered here, each piece of the reply as it comes.
        from threads_api.runs import streamed

        created_event = [events.sse("thread.run.created", run_object(run, clock.now()))] if created else []
        return streamed.answered_here(
            project,
            run,
            sink=answer.sink,
            time_left=answer.time_left,
            invocation=f"stream:{answer.request_id}",
            opening=[*(prelude or []), *created_event],
            include_content=answer.include_content,
        )
    if lifecycle.current(run, clock.now()).status == "queued" and not starter.start(run.thread_id, run.id):
        run = _fail(project, run)
    if not answer.stream:
        return run_object(run, clock.now())
    # From the run as written (queued): a run failed at once reads as such on the first look.
    follow = events.events(
        project,
        queued,
        created=created,
        prelude=prelude or [],
        time_left=answer.wait,
        include_content=answer.include_content,
    )
    return _streamed(follow, answer.sink)


def hand_over_if_queued(project: str, thread_id: str, run_id: str) -> None:
    """Hand ``run_id`` to the worker again if it is still queued: a run whose request failed after its
    write, before its hand-over, would otherwise hold its thread, queued, until it expires (a run already
    handed over is claimed once, so a second hand-over is harmless). Never raises: the caller answers."""
    try:
        run = get_run(project, thread_id, run_id)
        if lifecycle.current(run, clock.now()).status == "queued":
            starter.start(thread_id, run_id)
    except Exception:
        logger.exception("queued run not handed over again", extra={"run_id": run_id})


def followed(project: str, run: Run, answer: Answer) -> EventStream:
    """``stream: true`` for a run this request did not start (a retry whose first answer was lost): its
    events from where it stands until it stops."""
    follow = events.followed(project, run, time_left=answer.wait, include_content=answer.include_content)
    return _streamed(follow, answer.sink)


def _streamed(follow: Iterator[str], sink: Callable[[str], None] | None) -> EventStream:
    chunks = []
    for chunk in follow:
        chunks.append(chunk)
        if sink is not None:
            sink(chunk)
    return EventStream("".join(chunks))


def _fail(project: str, run: Run) -> Run:
    """The worker could not be asked: the run fails now rather than wait, queued, for its expiry. The run is
    written already, so nothing here may answer an error: at worst it is answered queued (and expires)."""
    try:
        ended = lifecycle.ended(run, "failed", clock.now(), last_error=NOT_STARTED)
        return save_run(project, ended, release=True)
    except Conflict:
        return _latest(project, run)  # the worker got it after all, and has moved it on
    except Exception:
        logger.exception("run not failed", extra={"run_id": run.id})
        return run


def _latest(project: str, run: Run) -> Run:
    try:
        return get_run(project, run.thread_id, run.id)
    except Exception:
        return run
