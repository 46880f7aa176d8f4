"""A run's life, as OpenAI's statuses tell it: pure functions of a run and the time, no DynamoDB, no HTTP.

queued -> in_progress -> completed | requires_action | incomplete | failed; requires_action -> queued
(tool outputs submitted); queued | in_progress | requires_action -> cancelling -> cancelled; and any run not
ended by its ``expires_at`` is expired. Expiry is read from the clock (``current``) rather than written by a
sweeper: a run whose worker died is shown expired at ``expires_at``, and its thread's lock ends then too.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from threads_api.domain import citations, file_search, ids, limits
from threads_api.domain.errors import Refused
from threads_api.domain.records import Assistant, JsonObject, Message, Run

EXPIRY_SECONDS = 600  # OpenAI's: a run expires ten minutes after it was created (or, here, resumed)
# A run the worker is on, cancelled, is ``cancelling`` until the worker ends it (within a second or two), or
# until this many seconds have passed: then it reads cancelled, and its thread's lock has ended, whatever the
# worker does (gone, or waiting on a model call it cannot cut short).
CANCEL_SECONDS = 10
ENDED = frozenset({"completed", "failed", "cancelled", "expired", "incomplete"})
# Where a run waits for someone other than the worker: a stream ends here too.
STOPPED = ENDED | {"requires_action"}


def new_run(thread_id: str, assistant: Assistant, given: JsonObject, run_id: str | None, now: int) -> Run:
    """A queued run of ``assistant``, with what the request ``given`` sets (``run_bodies``' ``overrides()``;
    None keeps the assistant's setting or OpenAI's default)."""

    def pick(name: str, default: Any) -> Any:
        return given.get(name) if given.get(name) is not None else default

    # The stores its searches use, as they stand now: a change of the assistant during the run changes nothing.
    resources = pick("tool_resources", assistant.tool_resources) or {}

    settings = {
        "temperature": pick("temperature", assistant.temperature),
        "top_p": pick("top_p", assistant.top_p),
        "max_prompt_tokens": given.get("max_prompt_tokens"),
        "max_completion_tokens": given.get("max_completion_tokens"),
        "truncation_strategy": pick("truncation_strategy", {"type": "auto", "last_messages": None}),
        "tool_choice": pick("tool_choice", "auto"),
        "parallel_tool_calls": pick("parallel_tool_calls", True),
        "response_format": pick("response_format", assistant.response_format),
        "stream": bool(given.get("stream")),
        "vector_store_ids": list((resources.get("file_search") or {}).get("vector_store_ids") or []),
    }
    return Run(
        id=run_id or ids.new_id("run_"),
        thread_id=thread_id,
        assistant_id=assistant.id,
        created_at=now,
        status="queued",
        model=pick("model", assistant.model),
        instructions=pick("instructions", assistant.instructions or ""),
        additional_instructions=given.get("additional_instructions"),
        tools=pick("tools", assistant.tools),
        metadata=given.get("metadata") or {},
        expires_at=now + EXPIRY_SECONDS,
        settings=settings,
    )


# The largest of what the worker and a cancel give a run, for ``fullest``.
LONGEST_STATUS = "requires_action"
LONGEST_ERROR_CODE = "rate_limit_exceeded"  # of OpenAI's three: server_error, rate_limit_exceeded, invalid_prompt
LONGEST_INCOMPLETE_REASON = "max_completion_tokens"
LARGEST_TOKEN_COUNT = 10**16


def fullest(run: Run, now: int) -> Run:
    """An upper bound of what ``run`` may become before a request writes it again (and checks its size again):
    taken by a worker (its id as long as one is kept), given a reply step, then ended with every stamp, the
    longest last_error (each character as large as JSON makes one), usage, incomplete_details, and the longest
    status, all at once. No real run is all of these together, and none is larger, so a run stored with room
    for this one always has room for what its worker and a cancel write next. Not bounded here: the tool calls
    a model asks for (the worker checks those as it saves them), and the metadata (the store keeps room for
    its largest)."""
    usage = dict.fromkeys(("prompt_tokens", "completion_tokens", "total_tokens"), LARGEST_TOKEN_COUNT)
    error = {"code": LONGEST_ERROR_CODE, "message": "\x00" * limits.LAST_ERROR_MESSAGE_MAX_CHARS}
    taken = dataclasses.replace(run, started_at=now, worker="w" * limits.WORKER_ID_MAX_CHARS)
    step_id, message_id = reply_ids(taken)
    reply = step(taken, step_id, "message_creation", {"message_id": message_id}, now, usage)
    done = ended(taken, "cancelled", now)  # each open step stamped
    return dataclasses.replace(
        done,
        status=LONGEST_STATUS,
        steps=[*done.steps, reply],
        required_action=run.required_action,
        partial=run.partial,
        usage=usage,
        last_error=error,
        incomplete_details={"reason": LONGEST_INCOMPLETE_REASON},
        completed_at=now,
        failed_at=now,
        expires_at=now + EXPIRY_SECONDS,
    )


def current(run: Run, now: int) -> Run:
    """The run as it stands at ``now``: one not ended by its ``expires_at`` has expired (a cancelling one is
    cancelled: nothing works on it any more)."""
    if run.status in ENDED or run.expires_at is None or now < run.expires_at:
        return run
    if run.status == "cancelling":
        return ended(run, "cancelled", run.expires_at)
    return ended(run, "expired", run.expires_at)


def ended(run: Run, status: str, now: int, **changes: Any) -> Run:
    """``run`` ended with ``status``: its open steps end with it, nothing is required of anyone any more."""
    stamp = {"completed": "completed_at", "failed": "failed_at", "cancelled": "cancelled_at"}.get(status)
    step_status = {"completed": "completed", "incomplete": "completed"}.get(status, status)
    fields: dict[str, Any] = {
        "status": status,
        "required_action": None,
        "expires_at": None,
        "partial": None,
        "steps": [_step_ended(step, step_status, now) for step in run.steps],
        **changes,
    }
    if stamp:
        fields[stamp] = now
    if status == "expired":
        fields["expires_at"] = run.expires_at
    return dataclasses.replace(run, **fields)


def _step_ended(step: JsonObject, status: str, now: int) -> JsonObject:
    if step["status"] != "in_progress":
        return step
    stamp = {"completed": "completed_at", "failed": "failed_at", "cancelled": "cancelled_at", "expired": "expired_at"}
    return {**step, "status": status, stamp[status]: now}


def cancel(run: Run, now: int) -> tuple[Run, bool]:
    """Cancel a run: one the worker is on is ``cancelling`` (the worker ends it), with ``CANCEL_SECONDS`` left
    before it reads cancelled anyway (its ``expires_at``: the caller holds the thread's lock until then, no
    longer); one that is queued or waits for tool outputs is cancelled at once. Returns the run and whether it
    has ended (its lock to release)."""
    run = current(run, now)
    if run.status in ENDED or run.status == "cancelling":
        raise Refused(f"Cannot cancel run with status '{run.status}'.")
    if run.status == "in_progress":
        bound = now + CANCEL_SECONDS if run.expires_at is None else min(run.expires_at, now + CANCEL_SECONDS)
        return dataclasses.replace(run, status="cancelling", expires_at=bound), False
    return ended(run, "cancelled", now), True


def submit_tool_outputs(run: Run, outputs: list[JsonObject], now: int) -> Run:
    """The outputs of every tool call the run asked for, at once: the run is queued again, with a new
    ``expires_at`` (the worker has the same ten minutes again)."""
    run = current(run, now)
    if run.status != "requires_action" or run.required_action is None:
        raise Refused(f"Runs in status {run.status} do not accept tool outputs.", param="tool_outputs")
    asked = [call["id"] for call in run.required_action["submit_tool_outputs"]["tool_calls"]]
    given = {o["tool_call_id"]: o["output"] for o in outputs}
    if len(given) != len(outputs):
        raise Refused("Each tool_call_id may be given only once.", param="tool_outputs")
    missing = [call_id for call_id in asked if call_id not in given]
    unknown = [call_id for call_id in given if call_id not in asked]
    if missing or unknown:
        raise Refused(
            f"Expected tool outputs for call_ids {asked}, got {list(given)}.",
            param="tool_outputs",
        )
    steps = [_with_outputs(step, given, now) for step in run.steps]
    return dataclasses.replace(run, status="queued", required_action=None, steps=steps, expires_at=now + EXPIRY_SECONDS)


def already_submitted(run: Run, outputs: list[JsonObject]) -> bool:
    """Whether one of the run's tool rounds, completed, holds exactly these outputs: a retry of a submit whose
    answer was lost (the SDK retries without an Idempotency-Key), to be answered with the run, not a 400. Not
    only the last round: a late retry may come after the model asked for the next round of tools."""
    given = {o["tool_call_id"]: o["output"] for o in outputs}
    return any(
        s["step_details"]["type"] == "tool_calls"
        and s["status"] == "completed"
        and given == {c["id"]: c["function"]["output"] for c in s["step_details"]["tool_calls"] if _function(c)}
        for s in run.steps
        if any(_function(c) for c in s["step_details"].get("tool_calls") or ())
    )


def _function(call: JsonObject) -> bool:
    """A function call (answered by the client): a step's file_search calls hold their results already."""
    return bool(call.get("type") == "function")


def _with_outputs(step: JsonObject, given: dict[str, str], now: int) -> JsonObject:
    details = step["step_details"]
    if step["status"] != "in_progress" or details["type"] != "tool_calls":
        return step
    calls = [
        {**call, "function": {**call["function"], "output": given.get(call["id"], call["function"]["output"])}}
        if _function(call)
        else call
        for call in details["tool_calls"]
    ]
    return {**step, "status": "completed", "completed_at": now, "step_details": {**details, "tool_calls": calls}}


def step(run: Run, step_id: str, kind: str, details: Any, now: int, usage: JsonObject | None) -> JsonObject:
    """A run step, as OpenAI's object (a run's steps are stored as they are shown): a message_creation step
    is complete when made; a tool_calls step waits for its outputs."""
    done = kind == "message_creation"
    return {
        "id": step_id,
        "object": "thread.run.step",
        "created_at": now,
        "assistant_id": run.assistant_id,
        "thread_id": run.thread_id,
        "run_id": run.id,
        "type": kind,
        "status": "completed" if done else "in_progress",
        "step_details": {"type": kind, kind: details},
        "last_error": None,
        "expired_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": now if done else None,
        "metadata": {},
        "usage": usage,
    }


def derived_id(prefix: str, *parts: object) -> str:
    """An id that a retry of the same step derives again: a retried worker never writes a reply twice."""
    return ids.derived_id(prefix, hashlib.sha256(":".join(map(str, parts)).encode()).digest())


def tool_call_id(given: str) -> str:
    """The id a model's tool call is handed out by (and answered by, in submit_tool_outputs): the model's own,
    if 1 to ``TOOL_CALL_ID_MAX_CHARS`` characters; otherwise one derived from it, the same each time (the model
    is then sent that one too, in its call and in the tool's answer)."""
    if 0 < len(given) <= limits.TOOL_CALL_ID_MAX_CHARS:
        return given
    return derived_id("call_", given)


def reply_ids(run: Run) -> tuple[str, str]:
    """(step id, message id) of the reply the run's next step writes: the worker's, and a stream's while the
    reply is still being written."""
    return derived_id("step_", run.id, len(run.steps)), derived_id("msg_", run.id, len(run.steps), "message")


def writing(run: Run, now: int) -> tuple[JsonObject, Message] | None:
    """The reply a streamed run is writing (its text so far on the run, ``partial``), as reads show it before
    the run's end writes it: its step, open, and its message, ``in_progress``, holding the text so far, under the
    ids the stream announced (``reply_ids``). A run that reads ended without having written it (expired, or
    cancelled past its bound: its worker gone) shows them ended with it: the message ``incomplete``
    (``run_expired``, ``run_cancelled``), the step ``expired`` or ``cancelled``. None when no reply is written."""
    if run.partial is None or run.status in ENDED:
        return None
    step_id, message_id = reply_ids(run)
    # This round's start: the run's, or the end of its last step (the tool outputs that queued it again).
    since = max([run.started_at or run.created_at, *(s.get("completed_at") or s["created_at"] for s in run.steps)])
    opened = step(run, step_id, "message_creation", {"message_id": message_id}, since, None)
    opened |= {"status": "in_progress", "completed_at": None}
    cited = citations.annotations(run.partial, file_search.sources(run.steps))
    content = [{"type": "text", "text": {"value": run.partial, "annotations": cited}}]
    message = Message(message_id, run.thread_id, since, "assistant", content, [], {}, run.assistant_id, run.id)
    message.status = "in_progress"
    read = current(dataclasses.replace(run, steps=[*run.steps, opened]), now)
    if read.status in ENDED:
        opened = read.steps[-1]
        message.status, message.incomplete_details = "incomplete", {"reason": f"run_{read.status}"}
    return opened, message


def add_usage(total: JsonObject | None, usage: JsonObject | None) -> JsonObject | None:
    if usage is None:
        return total
    if total is None:
        return dict(usage)
    return {
        name: total.get(name, 0) + usage.get(name, 0) for name in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
