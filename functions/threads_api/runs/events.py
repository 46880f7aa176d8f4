"""``stream: true``: the Assistants streaming events of a run, as server-sent events, in OpenAI's order.

The worker runs the run, as it does without a stream; the API function waits for the run to stop (ended, or
waiting for tool outputs) by reading it, then writes the events of what happened since the request began:
``thread.run.created``, ``thread.run.queued``, ``thread.run.in_progress``, for each step
``thread.run.step.created`` / ``in_progress`` (and for a reply ``thread.message.created`` / ``in_progress`` /
``delta`` / ``completed``) / ``thread.run.step.completed``, then the run's last status, then ``done``.

Lambda's managed Python runtime cannot stream a response, so the events reach the client together when the
run stops (a reply's text is one ``delta``). A run still going after ``STREAM_WAIT_SECONDS`` ends the stream
without a final run event: the client reads the run to follow it.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from threads_api import response_bodies, store
from threads_api.observability import logger
from threads_api.records import JsonObject, Run
from threads_api.run_objects import run_object
from threads_api.runs import lifecycle
from threads_api.store.runs import get_run, run_version

STREAM_WAIT_SECONDS = 24.0  # inside the stream functions' 28 s timeout (API Gateway gives up at 29 s)
POLL_SECONDS = 0.1
SLOW_POLL_SECONDS = 0.5


def sse(event: str, data: Any) -> str:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"event: {event}\ndata: {text}\n\n"


def wait(project: str, start: Run, time_left: Callable[[], float]) -> Run:
    """The run once it has stopped (or as it stands when the wait's time is up)."""
    started = time.monotonic()
    deadline = started + min(STREAM_WAIT_SECONDS, time_left() - 2)
    run = start
    while True:
        now = store.now_ms() // 1000
        if lifecycle.current(run, now).status in lifecycle.STOPPED or time.monotonic() >= deadline:
            return run
        # Quick at first (a reply often takes a second or two), then every half second: a long run's
        # stream costs at most ~2 reads a second, each of the run's version alone.
        time.sleep(POLL_SECONDS if time.monotonic() - started < 3 else SLOW_POLL_SECONDS)
        try:
            if run_version(start.thread_id, start.id) != run.version:
                run = get_run(project, start.thread_id, start.id)
        except Exception:  # the run is written: the stream ends with what is known rather than an error
            logger.exception("stream wait failed", extra={"run_id": start.id})
            return run


def stream(project: str, start: Run, final: Run, *, created: bool, prelude: list[str] | None = None) -> str:
    """The events from ``start`` (the run as this request left it: queued) to ``final``.

    ``created``: the request created the run (``thread.run.created`` first); otherwise it resumed it
    (submit_tool_outputs, whose ``prelude`` is the tool step it completed). ``prelude``: events before these
    (``thread.created`` for create-thread-and-run)."""
    now = store.now_ms() // 1000
    final = lifecycle.current(final, now)
    out = list(prelude or [])
    queued = run_object(start, now)
    if created:
        out.append(sse("thread.run.created", queued))
    out.append(sse("thread.run.queued", queued))
    if final.status != "queued" and final.started_at is not None:
        out.append(sse("thread.run.in_progress", _as(final, "in_progress", now)))
    seen = {s["id"] for s in start.steps}
    for step in final.steps:
        if step["id"] not in seen:
            out += list(_step_events(project, step))
    if final.status in lifecycle.STOPPED:
        out.append(sse(f"thread.run.{final.status}", run_object(final, now)))
    out.append(sse("done", "[DONE]"))
    return "".join(out)


def _as(run: Run, status: str, now: int) -> JsonObject:
    """The run as it was while ``status``: nothing of how it ended yet."""
    body = run_object(dataclasses.replace(run, status="queued"), now)
    return body | {
        "status": status,
        "required_action": None,
        "last_error": None,
        "completed_at": None,
        "failed_at": None,
        "cancelled_at": None,
        "incomplete_details": None,
        "usage": None,
    }


def _step_events(project: str, step: JsonObject) -> Iterator[str]:
    opened = step | {"status": "in_progress", "completed_at": None, "usage": None}
    details = step["step_details"]
    if details["type"] == "tool_calls":
        # The calls come in the delta, as OpenAI streams them: the SDK joins a delta's strings onto the
        # snapshot's, so calls already in the created step would come out doubled.
        calls = [{**c, "function": {**c["function"], "output": None}} for c in details["tool_calls"]]
        opened = opened | {"step_details": {"type": "tool_calls", "tool_calls": []}}
    yield sse("thread.run.step.created", opened)
    yield sse("thread.run.step.in_progress", opened)
    if details["type"] == "message_creation":
        try:
            yield from _message_events(project, step["thread_id"], details["message_creation"]["message_id"])
        except Exception:  # gone (deleted) or unreadable now: the step's events go on without it
            logger.exception("stream message failed", extra={"run_id": step["run_id"]})
    else:
        delta = [{"index": n, **call} for n, call in enumerate(calls)]
        yield sse(
            "thread.run.step.delta",
            {
                "id": step["id"],
                "object": "thread.run.step.delta",
                "delta": {"step_details": {"type": "tool_calls", "tool_calls": delta}},
            },
        )
    if step["status"] != "in_progress":
        yield sse(f"thread.run.step.{step['status']}", step)


def _message_events(project: str, thread_id: str, message_id: str) -> Iterator[str]:
    message = response_bodies.message_object(store.get_message(project, thread_id, message_id))
    opened = message | {"status": "in_progress", "content": [], "completed_at": None, "incomplete_at": None}
    opened["incomplete_details"] = None
    yield sse("thread.message.created", opened)
    yield sse("thread.message.in_progress", opened)
    content = [{"index": n, **part} for n, part in enumerate(message["content"])]
    yield sse(
        "thread.message.delta", {"id": message_id, "object": "thread.message.delta", "delta": {"content": content}}
    )
    yield sse(f"thread.message.{message['status']}", message)
