"""The run worker: takes a queued run, asks the model, and records what came back.

One model call per invocation, or one per search round when the model searches: a reply completes the run (or
leaves it incomplete), function calls leave it waiting for their outputs (``requires_action``), and the API
function that takes those outputs starts the worker again. file_search calls are searched here
(``tool_round``), their round saved, and the model asked again in the same invocation, at most
``SEARCH_CALLS_MAX + 2`` times; each model call's result is saved before the next. Every write is conditional
on the run's version, so a cancel, or a second worker, is never overwritten: a worker that loses reads the run
again and, if it was cancelled, ends it as cancelled.

A worker that fails on an error, its claim included, fails the run at once, with a ``last_error`` (its thread
is released); if even that write fails, it is logged. One that dies without a word (out of memory, killed) is
retried by Lambda under the same request id, and that retry takes the run up again (``Run.worker``): the model
is asked anew, from the last round saved. If no retry gets through, the run stays ``in_progress`` until its
``expires_at``, when it reads as expired and its thread's lock ends: nothing is stuck for longer. No result is
written once the run's ``expires_at`` has passed: a run seen expired stays expired.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from threads_api import store
from threads_api.domain import clock, file_search, lifecycle
from threads_api.domain.errors import Conflict, RunFailed
from threads_api.domain.records import JsonObject, Message, Run
from threads_api.observability import logger
from threads_api.providers import ChatResult, Provider, ProviderError, Stopped
from threads_api.runs import chat, claim, interrupted, saving
from threads_api.runs.progress import Progress

EXPIRY_MARGIN_SECONDS = 2  # the model's time ends this long before the run's expires_at: time to write
HISTORY_MAX_MESSAGES = 1000  # the newest of a thread's messages that a run reads
LOOPING = f"The model kept calling file_search past its {file_search.SEARCH_CALLS_MAX} searches."
NO_PROVIDER = (
    "No model provider is configured for this deployment: set the ModelProvider and ModelBaseUrl parameters "
    "(MODEL_BASE_URL for make serve)."
)


def _now() -> int:
    return clock.now()


def execute(
    thread_id: str,
    run_id: str,
    provider: Provider | None,
    time_left: Any,
    invocation: str | None = None,
    observe: Callable[[Run], None] | None = None,
) -> Run | None:
    """Run one step of ``run_id``; ``time_left()`` is the invocation's remaining seconds, ``invocation`` its
    Lambda request id (which Lambda's retries of it keep). Returns the run as saved, or None when there was
    nothing to do (gone, ended, or another invocation's). Raises nothing: whatever fails, the claim included,
    fails the run with a ``last_error``. ``observe``: told the run as claimed, then with each piece of a
    streamed reply (its text so far in ``partial``), as it comes (``runs/streamed.py``)."""
    try:
        claimed = claim.claim(thread_id, run_id, invocation)
    except Exception as exc:  # the store's, or ours: the run fails now rather than wait, queued, for its expiry
        logger.exception("run not claimed", extra={"run_id": run_id, "error_type": type(exc).__name__})
        return claim.fail_unclaimed(thread_id, run_id, claim.worker_id(invocation), claim.last_error(exc))
    if claimed is None:
        return None
    project, run = claimed
    progress = Progress(project, run, observe)  # progress.run: the run as last saved (a stream's saves move it on)
    progress.tell(run)
    try:
        for _ in range(file_search.SEARCH_CALLS_MAX + 2):
            saved = _answer(project, progress.run, provider, time_left, progress)
            if saved is None or saved.status != "in_progress":
                return saved  # a reply, requires_action, an end, or nothing to write
            progress.tell(saved)  # a search round, saved: a stream tells its step now that it exists
            progress.next_round(saved)  # and the model is asked again, here
        raise RunFailed("server_error", LOOPING)
    except (Conflict, Stopped):  # cancelled while the model was answering (a save, or the provider's watch)
        return saving.cancelled_meanwhile(project, progress.run, progress.heard)
    except Exception as exc:  # the provider's, ours, or the store's: the run fails now rather than at its expiry
        if not isinstance(exc, ProviderError | RunFailed):
            logger.exception("run failed", extra={"run_id": run.id, "error_type": type(exc).__name__})
        return _fail(project, progress.run, claim.last_error(exc), progress.heard)


def _answer(project: str, run: Run, provider: Provider | None, time_left: Any, progress: Progress) -> Run | None:
    """Ask the model once about the claimed ``run``, and record what it said."""
    if provider is None:
        return saving.finish(project, run, "failed", last_error={"code": "server_error", "message": NO_PROVIDER})
    left = min(time_left() - 5, (run.expires_at or _now()) - _now() - EXPIRY_MARGIN_SECONDS)
    memo = progress.memo
    if memo.history is None:  # read once an invocation: the thread takes no message while the run holds it
        memo.history, memo.replies = _history(project, run)
    budget = _completion_budget(run)
    if budget is not None and budget <= 0:
        return saving.finish(project, run, "incomplete", incomplete_details={"reason": "max_completion_tokens"})
    searches = None
    if file_search.search_calls(run.steps):
        from threads_api.runs import searching  # a run that never searched loads none of it

        searches = searching.records(project, run, memo)
    request = chat.request(run, memo.history, memo.replies, budget, searches)
    if _over_prompt_budget(run, request):
        return saving.finish(project, run, "incomplete", incomplete_details={"reason": "max_prompt_tokens"})
    deadline = time.monotonic() + left
    stop = interrupted.watch(lambda: progress.run)  # no model call starts once the run is cancelling
    if run.settings.get("stream") or progress.observed:  # a client streams: the text is kept as it comes
        result = provider.complete(request, deadline=deadline, stream=True, on_text=progress.text, should_stop=stop)
    else:
        result = provider.complete(request, deadline=deadline, should_stop=stop)
    answered = dataclasses.replace(progress.run, partial=None)
    if result.tool_calls:
        from threads_api.runs import tool_round  # a run whose model calls no tool loads none of it

        return tool_round.recorded(project, answered, result, progress, request=request, deadline=deadline)
    return _record(project, answered, result)


def _fail(project: str, run: Run, error: JsonObject, heard: str | None = None) -> Run | None:
    """Fail ``run`` now, with ``error``, and release its thread; if even that fails (the store is failing), it
    is logged, and the run expires at its expires_at. ``heard``: the reply's text so far (``interrupted``)."""
    try:
        if heard and not saving.too_late(run):
            return interrupted.ended(project, run, "failed", heard, last_error=error)
        return saving.finish(project, run, "failed", last_error=error)
    except Conflict:
        return saving.cancelled_meanwhile(project, run, heard)
    except Exception:
        logger.exception("run not failed", extra={"run_id": run.id})
        return None


def _history(project: str, run: Run) -> tuple[list[Message], dict[str, Message]]:
    """The thread's newest messages, oldest first, and this run's own replies apart (by id)."""
    last = (run.settings.get("truncation_strategy") or {}).get("last_messages")
    # This run's own replies are read too (they come back in the order of its steps), hence the steps' count.
    limit = min(int(last) + len(run.steps), HISTORY_MAX_MESSAGES) if last else HISTORY_MAX_MESSAGES
    newest: list[Message] = []
    after: str | None = None
    while len(newest) < limit:
        page = store.list_messages(project, run.thread_id, min(100, limit - len(newest)), "desc", after, None)
        newest += page.items
        if not page.has_more or not page.items:
            break
        after = page.items[-1].id
    replies = {m.id: m for m in newest if m.run_id == run.id}
    history = [m for m in reversed(newest) if m.run_id != run.id]
    return (history[-int(last) :] if last else history), replies


def _over_prompt_budget(run: Run, request: JsonObject) -> bool:
    """Whether this call would take the run past its ``max_prompt_tokens``, over all its calls: even the
    truncated history (the last message at least) does not fit, by estimate. OpenAI ends such a run
    ``incomplete``; here the model is not asked."""
    limit = run.settings.get("max_prompt_tokens")
    if limit is None:
        return False
    spent = int((run.usage or {}).get("prompt_tokens", 0))
    return spent + chat.estimated_prompt_tokens(request) > int(limit)


def _completion_budget(run: Run) -> int | None:
    limit = run.settings.get("max_completion_tokens")
    if limit is None:
        return None
    return int(limit) - int((run.usage or {}).get("completion_tokens", 0))


def _record(project: str, run: Run, result: ChatResult) -> Run | None:
    """The model's reply (no tool call): it ends the run, written in one transaction with the run's new state and
    the release of its thread."""
    if saving.too_late(run):
        return None
    now = _now()
    usage = dataclasses.asdict(result.usage) if result.usage else None
    total = lifecycle.add_usage(run.usage, usage)
    step_id, message_id = lifecycle.reply_ids(run)
    reply = Message(message_id, run.thread_id, now, "assistant", [], [], {}, run.assistant_id, run.id)
    steps = [*run.steps, lifecycle.step(run, step_id, "message_creation", {"message_id": message_id}, now, usage)]
    if result.finish_reason == "length":
        reply.status, reply.incomplete_details = "incomplete", {"reason": "max_tokens"}
        ended = lifecycle.ended(
            run, "incomplete", now, steps=steps, usage=total, incomplete_details={"reason": "max_completion_tokens"}
        )
    else:
        ended = lifecycle.ended(run, "completed", now, steps=steps, usage=total)
    return saving.with_reply(project, ended, reply, result.text, release=True)
