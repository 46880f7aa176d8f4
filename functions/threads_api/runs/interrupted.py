"""A run interrupted while the model answers, for the worker: the cancel it watches for (``cancelled``, its
provider's ``should_stop``), and the reply a stream was already told of, kept (``kept``).

A stream tells a reply as its text comes (``thread.message.created``, ``thread.run.step.created``, deltas).
Whatever then ends the run, what it told must exist: a run that fails, or is cancelled, before its reply is
written keeps the text so far as an ``incomplete`` message (``incomplete_details.reason`` ``run_failed`` or
``run_cancelled``, as OpenAI's), and the reply's step ends with the run (``failed``, ``cancelled``), both
written in the transaction that ends the run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from threads_api import store
from threads_api.domain import citations, clock, file_search, lifecycle
from threads_api.domain.errors import Conflict
from threads_api.domain.records import JsonObject, Message, Run
from threads_api.observability import logger
from threads_api.providers import ShouldStop
from threads_api.store.runs import load_run, run_version, save_run

STEP_ERROR_CODES = frozenset({"server_error", "rate_limit_exceeded"})  # OpenAI's, for a step's last_error
STEP_ERROR_MESSAGE = "The run failed before this step was complete."


def watch(saved: Callable[[], Run]) -> ShouldStop:
    """The provider's ``should_stop`` for the run the worker last saved (``saved()``): ``cancelled``."""
    return lambda: cancelled(saved())


def cancelled(run: Run) -> bool:
    """Whether ``run`` (as the worker last saved it) is being cancelled, or is gone: one small read of its
    version, and the run itself only when that moved. A read that fails says no (the worker goes on, and its
    next save finds out)."""
    try:
        if run_version(run.thread_id, run.id) == run.version:
            return False
        loaded = load_run(run.thread_id, run.id)
    except Exception:
        logger.exception("run not read for a cancel", extra={"run_id": run.id})
        return False
    return loaded is None or loaded[1].status == "cancelling"


def ended(project: str, run: Run, status: str, heard: str | None, **changes: Any) -> Run:
    """End ``run`` ``status`` (``changes`` as ``lifecycle.ended``'s) and release its thread, keeping the reply a
    stream was told of (``heard``, else the text so far saved on the run) while the run is within its
    ``expires_at``: past it (a cancel's bound), it reads ended already, and as of then. ``Conflict`` if the run
    changed meanwhile; any other failure to keep the reply ends the run without it."""
    now, told = clock.now(), heard or run.partial
    if told and (run.expires_at is None or now < run.expires_at):
        try:
            done, reply = kept(run, status, now, told, **changes)
            return store.save_reply(project, done, reply, release=True)
        except Conflict:
            raise
        except Exception:
            logger.exception("reply not kept", extra={"run_id": run.id})
    at = now if run.expires_at is None else min(now, run.expires_at)
    return save_run(project, lifecycle.ended(run, status, at, **changes), release=True)


def kept(run: Run, status: str, now: int, text: str, **changes: Any) -> tuple[Run, Message]:
    """``run`` ended ``status`` (``failed``, ``cancelled``; ``changes`` as ``lifecycle.ended``'s) with the reply
    a stream was told of: its step (the ids the stream told, ``lifecycle.reply_ids``) ended with the run, and
    its message, ``incomplete``, holding ``text``."""
    step_id, message_id = lifecycle.reply_ids(run)
    step = lifecycle.step(run, step_id, "message_creation", {"message_id": message_id}, now, None)
    step |= {"status": "in_progress", "completed_at": None}  # open: the run's end ends it
    error: JsonObject | None = changes.get("last_error")
    if status == "failed" and error is not None:
        code = error["code"] if error["code"] in STEP_ERROR_CODES else "server_error"
        step["last_error"] = {"code": code, "message": STEP_ERROR_MESSAGE}
    # Its complete citation markers annotated, as the stream told them (``cited``) and the whole reply would be.
    found = citations.annotations(text, file_search.sources(run.steps))
    content = [{"type": "text", "text": {"value": text, "annotations": found}}]
    reply = Message(message_id, run.thread_id, now, "assistant", content, [], {}, run.assistant_id, run.id)
    reply.status, reply.incomplete_details = "incomplete", {"reason": f"run_{status}"}
    ended = lifecycle.ended(dataclasses.replace(run, steps=[*run.steps, step]), status, now, **changes)
    return ended, reply
