"""The run worker: takes a queued run, asks the model once, and records what came back.

One model call per invocation: a reply completes the run (or leaves it incomplete), tool calls leave it
waiting for their outputs (``requires_action``), and the API function that takes those outputs starts the
worker again. Every write is conditional on the run's version, so a cancel, or a second worker, is never
overwritten: a worker that loses reads the run again and, if it was cancelled, ends it as cancelled.

A worker that fails on an error, its claim included, fails the run at once, with a ``last_error`` (its thread
is released); if even that write fails, it is logged. One that dies without a word (out of memory, killed) is
retried by Lambda under the same request id, and that retry takes the run up again (``Run.worker``): the model
is asked anew. If no retry gets through, the run stays ``in_progress`` until its ``expires_at``, when it reads
as expired and its thread's lock ends: nothing is stuck for longer. No result is written once the run's
``expires_at`` has passed: a run seen expired stays expired.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any

from threads_api import store
from threads_api.domain import clock, lifecycle
from threads_api.domain.errors import Conflict, TooLarge
from threads_api.domain.records import JsonObject, Message, Run
from threads_api.observability import logger
from threads_api.providers import ChatResult, Provider, ProviderError, Stopped
from threads_api.runs import chat, claim, interrupted
from threads_api.store.run_items import check_run_size, metadata_room, stored_size
from threads_api.store.runs import load_run, save_run

PROGRESS_SECONDS = 0.25  # how often a streamed reply's text so far is saved (a write each time), at most
# The write units a second those saves may take: each rewrites the run's item (1 unit a KB), and one
# partition takes 1,000 a second, so a run with vast instructions or tools saves its text less often.
PROGRESS_WRITE_UNITS_PER_SECOND = 100
EXPIRY_MARGIN_SECONDS = 2  # the model's time ends this long before the run's expires_at: time to write
HISTORY_MAX_MESSAGES = 1000  # the newest of a thread's messages that a run reads
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
    progress = _Progress(project, run, observe)  # progress.run: the run as last saved (a stream's saves move it on)
    progress.tell(run)
    try:
        return _answer(project, run, provider, time_left, progress)
    except (Conflict, Stopped):  # cancelled while the model was answering (a save, or the provider's watch)
        return _cancelled_meanwhile(project, progress.run, progress.heard)
    except Exception as exc:  # the provider's, ours, or the store's: the run fails now rather than at its expiry
        if not isinstance(exc, ProviderError):
            logger.exception("run failed", extra={"run_id": run.id, "error_type": type(exc).__name__})
        return _fail(project, progress.run, claim.last_error(exc), progress.heard)


def _answer(project: str, run: Run, provider: Provider | None, time_left: Any, progress: _Progress) -> Run | None:
    """Ask the model once about the claimed ``run``, and record what it said."""
    if provider is None:
        return _finish(project, run, "failed", last_error={"code": "server_error", "message": NO_PROVIDER})
    left = min(time_left() - 5, (run.expires_at or _now()) - _now() - EXPIRY_MARGIN_SECONDS)
    history, replies = _history(project, run)
    budget = _completion_budget(run)
    if budget is not None and budget <= 0:
        return _finish(project, run, "incomplete", incomplete_details={"reason": "max_completion_tokens"})
    request = chat.request(run, history, replies, budget)
    if _over_prompt_budget(run, request):
        return _finish(project, run, "incomplete", incomplete_details={"reason": "max_prompt_tokens"})
    deadline = time.monotonic() + left
    stop = interrupted.watch(lambda: progress.run)  # no model call starts once the run is cancelling
    if run.settings.get("stream") or progress.observed:  # a client streams: the text is kept as it comes
        result = provider.complete(request, deadline=deadline, stream=True, on_text=progress.text, should_stop=stop)
    else:
        result = provider.complete(request, deadline=deadline, should_stop=stop)
    return _record(project, dataclasses.replace(progress.run, partial=None), result)


def _fail(project: str, run: Run, error: JsonObject, heard: str | None = None) -> Run | None:
    """Fail ``run`` now, with ``error``, and release its thread; if even that fails (the store is failing), it
    is logged, and the run expires at its expires_at. ``heard``: the reply's text so far (``interrupted``)."""
    try:
        if heard and not _too_late(run):
            return interrupted.ended(project, run, "failed", heard, last_error=error)
        return _finish(project, run, "failed", last_error=error)
    except Conflict:
        return _cancelled_meanwhile(project, run, heard)
    except Exception:
        logger.exception("run not failed", extra={"run_id": run.id})
        return None


class _Progress:
    """The reply's text so far, saved on the run (``partial``) for the streams that read it: at most every
    ``PROGRESS_SECONDS``, and no more write units a second than ``PROGRESS_WRITE_UNITS_PER_SECOND``. A save
    that finds the run changed (cancelled) raises ``Conflict``: the model's answer is abandoned.

    The text is saved while the run's item holds it with room left for the largest metadata (a modify may
    come meanwhile); past that, no more: the reply's message carries the whole text, and a stream sends the
    rest from it once the run has ended (``events``)."""

    def __init__(self, project: str, run: Run, observe: Callable[[Run], None] | None = None) -> None:
        self.project = project
        self.run = run
        self._observe = observe
        self._saved_at = 0.0
        self._full = False  # the text so far no longer fits the run's item: it is saved no more
        self.heard: str | None = None  # the reply's text so far, all of it (a stream may have been told it)

    @cached_property
    def _base_bytes(self) -> int:
        return stored_size(self.project, dataclasses.replace(self.run, partial=None))

    def interval(self, so_far: str) -> float:
        """Seconds between two saves of the run with ``so_far`` as its text."""
        units = (self._base_bytes + len(so_far.encode())) / 1024
        return max(PROGRESS_SECONDS, units / PROGRESS_WRITE_UNITS_PER_SECOND)

    @property
    def observed(self) -> bool:
        return self._observe is not None

    def tell(self, run: Run) -> None:
        """The observer, told ``run``; whatever it does wrong (a client gone), the run goes on."""
        if self._observe is None:
            return
        try:
            self._observe(run)
        except Exception:
            logger.exception("stream observer failed", extra={"run_id": run.id})
            self._observe = None

    def text(self, so_far: str) -> None:
        self.heard = so_far
        self.tell(dataclasses.replace(self.run, partial=so_far))
        since = time.monotonic() - self._saved_at
        if self._full or since < PROGRESS_SECONDS or since < self.interval(so_far):
            return
        try:
            saving = dataclasses.replace(self.run, partial=so_far)
            self.run = save_run(self.project, saving, headroom=metadata_room(self.run))
        except TooLarge:  # nothing was written
            self._full = True
            return
        self._saved_at = time.monotonic()


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
    """What the model answered: tool calls leave the run waiting for their outputs; a reply (with no tool
    call) ends it, written in one transaction with the run's new state and the release of its thread."""
    if _too_late(run):
        return None
    now = _now()
    usage = dataclasses.asdict(result.usage) if result.usage else None
    total = lifecycle.add_usage(run.usage, usage)
    steps = list(run.steps)
    reply: Message | None = None
    if result.text or not result.tool_calls:
        step_id, message_id = lifecycle.reply_ids(run)
        reply = Message(message_id, run.thread_id, now, "assistant", [], [], {}, run.assistant_id, run.id)
        if result.finish_reason == "length" and not result.tool_calls:
            reply.status, reply.incomplete_details = "incomplete", {"reason": "max_tokens"}
        step_usage = None if result.tool_calls else usage
        steps.append(lifecycle.step(run, step_id, "message_creation", {"message_id": message_id}, now, step_usage))
    if result.tool_calls:
        calls: list[JsonObject] = [
            {
                "id": lifecycle.tool_call_id(c.id),
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments, "output": None},
            }
            for c in result.tool_calls
        ]
        step_id = lifecycle.derived_id("step_", run.id, len(steps))
        steps.append(lifecycle.step(run, step_id, "tool_calls", calls, now, usage))
        asked = [
            {"id": c["id"], "type": "function", "function": {k: c["function"][k] for k in ("name", "arguments")}}
            for c in calls
        ]
        action = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": asked}}
        waiting = dataclasses.replace(run, status="requires_action", steps=steps, usage=total, required_action=action)
        check_run_size(project, waiting)  # calls too large to keep, with room to end the run: it fails, saying so
        if reply is not None:  # text beside the tool calls: the reply lands with the run's new state
            return _with_reply(project, waiting, reply, result.text, release=False)
        return _save(project, waiting, release=False)
    assert reply is not None
    if reply.status == "incomplete":
        ended = lifecycle.ended(
            run, "incomplete", now, steps=steps, usage=total, incomplete_details={"reason": "max_completion_tokens"}
        )
    else:
        ended = lifecycle.ended(run, "completed", now, steps=steps, usage=total)
    return _with_reply(project, ended, reply, result.text, release=True)


def _with_reply(project: str, run: Run, reply: Message, text: str | None, *, release: bool) -> Run | None:
    """Append the run's reply and save the run in one transaction: both land, or neither (a cancel that
    came first wins, and the reply is not written)."""
    content = [{"type": "text", "text": {"value": text or "", "annotations": []}}]
    reply = dataclasses.replace(reply, content=content)
    try:
        return store.save_reply(project, run, reply, release=release)
    except Conflict:
        return _cancelled_meanwhile(project, run)


def _finish(project: str, run: Run, status: str, **changes: Any) -> Run | None:
    if _too_late(run):
        return None
    return _save(project, lifecycle.ended(run, status, _now(), **changes), release=True)


def _too_late(run: Run) -> bool:
    """Past the (claimed) run's expires_at it reads as expired: the worker writes nothing to change that."""
    return run.expires_at is not None and _now() >= run.expires_at


def _save(project: str, run: Run, *, release: bool) -> Run | None:
    """Save what the worker did; if the run was cancelled meanwhile, end it as cancelled instead."""
    try:
        return save_run(project, run, release=release)
    except Conflict:
        return _cancelled_meanwhile(project, run)


def _cancelled_meanwhile(project: str, run: Run, heard: str | None = None) -> Run | None:
    """The run changed under the worker: if it is being cancelled, the worker ends it as cancelled, with the
    usage it spent (what the model said is not kept, but for a reply a stream was told of: ``interrupted``);
    otherwise it is not this worker's any more."""
    loaded = load_run(run.thread_id, run.id)
    if loaded is None or loaded[1].status != "cancelling":
        return None  # gone, or someone else's run now (a retried worker's): theirs to finish
    try:
        return interrupted.ended(project, dataclasses.replace(loaded[1], usage=run.usage), "cancelled", heard)
    except Conflict:
        return None
