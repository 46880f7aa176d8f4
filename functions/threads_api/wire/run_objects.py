"""The OpenAI objects of runs and run steps, built from run records as they stand at a given time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from threads_api.domain import file_search, lifecycle
from threads_api.domain.file_search import SearchRecord
from threads_api.domain.records import JsonObject, Page, Run, page_of


def run_object(run: Run, now: int) -> dict[str, Any]:
    run = lifecycle.current(run, now)
    settings = run.settings
    return {
        "id": run.id,
        "object": "thread.run",
        "created_at": run.created_at,
        "thread_id": run.thread_id,
        "assistant_id": run.assistant_id,
        "status": run.status,
        "required_action": run.required_action,
        "last_error": run.last_error,
        "expires_at": run.expires_at,
        "started_at": run.started_at,
        "cancelled_at": run.cancelled_at,
        "failed_at": run.failed_at,
        "completed_at": run.completed_at,
        "incomplete_details": run.incomplete_details,
        "model": run.model,
        "instructions": run.instructions,
        "tools": run.tools,
        "metadata": run.metadata,
        "usage": run.usage if run.status in lifecycle.ENDED else None,
        "temperature": settings.get("temperature"),
        "top_p": settings.get("top_p"),
        "max_prompt_tokens": settings.get("max_prompt_tokens"),
        "max_completion_tokens": settings.get("max_completion_tokens"),
        "truncation_strategy": settings.get("truncation_strategy"),
        "tool_choice": settings.get("tool_choice"),
        "parallel_tool_calls": settings.get("parallel_tool_calls", True),
        "response_format": settings.get("response_format", "auto"),
    }


def steps(run: Run, now: int) -> list[JsonObject]:
    """The run's steps, oldest first, as they stand at ``now`` (a step of an expired run has expired); while a
    streamed reply is being written (its text so far on the run), its step too, in progress, as the stream
    told it (the worker writes it with the reply, under the same id, however the run ends), or ended with a
    run that reads ended without having written it (``lifecycle.writing``)."""
    writing = lifecycle.writing(run, now)
    run = lifecycle.current(run, now)
    return run.steps if writing is None else [*run.steps, writing[0]]


def step_page(run: Run, params: Any, now: int) -> Page:
    """A page of the run's steps: they are few and all in the run's record, so the page is cut here."""
    return page_of(steps(run, now), lambda step: str(step["id"]), params)


def with_results_content(step: JsonObject, records: Mapping[tuple[str, int], SearchRecord]) -> JsonObject:
    """The step with each file_search result's excerpt (``include[]=...results[*].content``), read from its call's
    record (keyed by the step's id and the call's position); a call whose record is missing is left without."""
    details = step["step_details"]
    if details["type"] != "tool_calls":
        return step
    calls = [_with_content(call, records.get((step["id"], n))) for n, call in enumerate(details["tool_calls"])]
    return {**step, "step_details": {**details, "tool_calls": calls}}


def _with_content(call: JsonObject, record: SearchRecord | None) -> JsonObject:
    if call.get("type") != file_search.TOOL_NAME or record is None:
        return call
    found = call[file_search.TOOL_NAME]
    results = [
        {**result, "content": [{"type": "text", "text": text}]}
        for result, text in zip(found.get("results") or [], record.texts, strict=False)
    ]
    return {**call, file_search.TOOL_NAME: {**found, "results": results}}
