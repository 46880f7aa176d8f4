"""A model's answer that calls tools, recorded: its file_search calls searched here, its function calls left to
the client.

The calls are one ``tool_calls`` step, in the model's order. A file_search call (the run has the tool, and the
call names it) is searched at once (``searching``): its record (arguments, excerpts, ``store.run_searches``)
is written in the transaction that saves the step with its results, conditional on the run's version (or
first, conditional too, when the round has a reply beside its calls, or more calls than that transaction
takes), with the run and the reply the model wrote beside the calls, if any. With file_search calls only,
the step is completed and the run stays ``in_progress``: the worker asks the model again in the same
invocation. With function calls too, the run waits for their outputs (``requires_action``, listing the
function calls only, as OpenAI did); their submission completes the step.
"""

from __future__ import annotations

import dataclasses

from threads_api.domain import clock, file_search, lifecycle
from threads_api.domain.file_search import SearchRecord
from threads_api.domain.records import JsonObject, Message, Run
from threads_api.domain.vector_stores import VectorStore
from threads_api.providers import ChatResult
from threads_api.runs import chat, interrupted, saving, searching
from threads_api.runs.progress import Progress
from threads_api.store import run_searches
from threads_api.store.run_items import check_run_size

# What a call adds to the prompt besides its excerpts (its tool message, its header), by estimate: kept out of
# the room the excerpts share.
CALL_OVERHEAD_CHARS = 400


def recorded(
    project: str, run: Run, result: ChatResult, progress: Progress, *, request: JsonObject, deadline: float
) -> Run | None:
    """Record ``result``'s tool calls (and the text beside them) on ``run``; ``request``: the request it answers.
    Returns the run as saved (``in_progress`` after a round of searches only), or None when nothing is written
    (past the run's expiry, or not this worker's run any more)."""
    if saving.too_late(run):
        return None
    if progress.heard is not None and result.text:  # a stream was told the text: should the search fail, it is
        progress.heard = result.text  # kept whole (its last piece may not have been told yet)
    now = clock.now()
    usage = dataclasses.asdict(result.usage) if result.usage else None
    total = lifecycle.add_usage(run.usage, usage)
    steps = list(run.steps)
    reply: Message | None = None
    if result.text:  # text beside the tool calls: the reply lands with the run's new state
        step_id, message_id = lifecycle.reply_ids(run)
        reply = Message(message_id, run.thread_id, now, "assistant", [], [], {}, run.assistant_id, run.id)
        steps.append(lifecycle.step(run, step_id, "message_creation", {"message_id": message_id}, now, None))
    step_id = lifecycle.derived_id("step_", run.id, len(steps))
    room = _room(run, total, request, result)
    calls, records = _calls(project, run, result, progress, room_chars=room, deadline=deadline)
    puts = run_searches.search_puts(project, run, step_id, records) if records and reply is None else None
    if records and puts is None:  # beside a reply, or too many for the round's transaction: written first
        run_searches.put_searches(project, run, step_id, records)
    progress.memo.records |= {(step_id, n): record for n, record in records.items()}
    step = lifecycle.step(run, step_id, "tool_calls", calls, now, usage)
    functions = [c for c in calls if c["type"] == "function"]
    if functions:
        asked = [
            {"id": c["id"], "type": "function", "function": {k: c["function"][k] for k in ("name", "arguments")}}
            for c in functions
        ]
        action = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": asked}}
        going = dataclasses.replace(
            run, status="requires_action", steps=[*steps, step], usage=total, required_action=action
        )
    else:
        step |= {"status": "completed", "completed_at": clock.now()}
        going = dataclasses.replace(run, steps=[*steps, step], usage=total)
    check_run_size(project, going)  # calls too large to keep, with room to end the run: it fails, saying so
    if reply is None:
        return saving.save(project, going, release=False, heard=progress.heard, extra=puts or ())
    sources = file_search.sources(run.steps)  # the searches the model had seen as it wrote the text
    saved = saving.with_reply(project, going, reply, result.text, release=False, sources=sources, heard=progress.heard)
    if saved is not None:
        content = [{"type": "text", "text": {"value": result.text, "annotations": []}}]
        progress.memo.replies[reply.id] = dataclasses.replace(reply, content=content)
    return saved


def _calls(
    project: str, run: Run, result: ChatResult, progress: Progress, *, room_chars: int | None, deadline: float
) -> tuple[list[JsonObject], dict[int, SearchRecord]]:
    """The step's calls, in the model's order, the file_search ones searched; and their records, by position."""
    searches = file_search.options(run.tools) is not None
    wanted = [n for n, c in enumerate(result.tool_calls) if searches and c.name == file_search.TOOL_NAME]
    first = len(file_search.search_calls(run.steps))
    stores: list[VectorStore] = []
    if any(_searched(first + k, result.tool_calls[n].arguments) for k, n in enumerate(wanted)):
        stop = interrupted.watch(lambda: progress.run)
        stores = searching.stores(project, run, progress.memo, deadline=deadline, stop=stop)
    share = None if room_chars is None or not wanted else room_chars // len(wanted)
    calls: list[JsonObject] = []
    records: dict[int, SearchRecord] = {}
    for n, call in enumerate(result.tool_calls):
        if n in wanted:
            number = first + wanted.index(n)
            found, records[n] = searching.search(
                project, run, stores, call, number, room_chars=share, deadline=deadline
            )
            calls.append(found)
        else:
            function = {"name": call.name, "arguments": call.arguments, "output": None}
            calls.append({"id": lifecycle.tool_call_id(call.id), "type": "function", "function": function})
    return calls, records


def _searched(number: int, arguments: str) -> bool:
    """Whether a file_search call is searched (not answered at once: no search left, arguments to fix)."""
    if number >= file_search.SEARCH_CALLS_MAX:
        return False
    return file_search.query_of(arguments[: file_search.ARGUMENTS_MAX_CHARS]) is not None


def _room(run: Run, total: JsonObject | None, request: JsonObject, result: ChatResult) -> int | None:
    """The characters of excerpts the round's calls may share within the run's ``max_prompt_tokens`` (None: no
    bound): what the next model call leaves, by the estimate that decides whether it is made (the run's prompt
    tokens so far, then the request just sent with the model's answer added)."""
    limit = run.settings.get("max_prompt_tokens")
    if limit is None:
        return None
    asked = [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in result.tool_calls
    ]
    answer = {"role": "assistant", "content": result.text, "tool_calls": asked}
    following = {**request, "messages": [*request["messages"], answer]}
    spent = int((total or {}).get("prompt_tokens", 0))
    tokens = int(limit) - spent - chat.estimated_prompt_tokens(following)
    overhead = CALL_OVERHEAD_CHARS * len(result.tool_calls)
    return max(0, tokens * chat.CHARS_PER_TOKEN - overhead)
