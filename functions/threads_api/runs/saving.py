"""The worker's writes of a run it holds, shared by the worker's rounds (``worker``) and its tool calls
(``tool_round``): each conditional on the run's version, and a run changed meanwhile (a cancel came first) ended
as cancelled instead. No result is written once the run's ``expires_at`` has passed: a run seen expired stays
expired."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from threads_api import store
from threads_api.domain import citations, clock, file_search, lifecycle
from threads_api.domain.errors import Conflict
from threads_api.domain.records import Message, Run
from threads_api.runs import interrupted
from threads_api.store.runs import load_run, save_run

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


def save(
    project: str, run: Run, *, release: bool, heard: str | None = None, extra: Sequence[TransactWriteItemTypeDef] = ()
) -> Run | None:
    """Save what the worker did (with ``extra``, writes that land with it or not at all); if the run was
    cancelled meanwhile, end it as cancelled instead (with the reply a stream was told, ``heard``, kept)."""
    try:
        return save_run(project, run, release=release, extra=extra)
    except Conflict:
        return cancelled_meanwhile(project, run, heard)


def with_reply(
    project: str,
    run: Run,
    reply: Message,
    text: str | None,
    *,
    release: bool,
    sources: list[list[str]] | None = None,
    heard: str | None = None,
) -> Run | None:
    """Append the run's reply and save the run in one transaction: both land, or neither (a cancel that
    came first wins, and the reply is not written). The reply's citation markers are annotated against
    ``sources`` (the results of the searches the model had seen as it wrote it; by default, the run's)."""
    value = text or ""
    found = file_search.sources(run.steps) if sources is None else sources
    content = [{"type": "text", "text": {"value": value, "annotations": citations.annotations(value, found)}}]
    reply = dataclasses.replace(reply, content=content)
    try:
        return store.save_reply(project, run, reply, release=release)
    except Conflict:  # cancelled meanwhile: the text a stream was told (``heard``) is kept as interrupted
        return cancelled_meanwhile(project, run, heard)


def finish(project: str, run: Run, status: str, **changes: Any) -> Run | None:
    if too_late(run):
        return None
    return save(project, lifecycle.ended(run, status, clock.now(), **changes), release=True)


def too_late(run: Run) -> bool:
    """Past the (claimed) run's expires_at it reads as expired: the worker writes nothing to change that."""
    return run.expires_at is not None and clock.now() >= run.expires_at


def cancelled_meanwhile(project: str, run: Run, heard: str | None = None) -> Run | None:
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
