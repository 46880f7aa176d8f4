"""The worker's claim of a run (``in_progress``, with the invocation's id), and the failure of a run whose claim
failed or whose worker met an error: its ``last_error``, and its end at once, its thread released."""

from __future__ import annotations

import dataclasses
import hashlib

from threads_api.domain import clock, ids, lifecycle, limits
from threads_api.domain.errors import Conflict, RunFailed, TooLarge
from threads_api.domain.records import JsonObject, Run
from threads_api.observability import logger
from threads_api.providers import ProviderError
from threads_api.store.runs import load_run, save_run

INTERNAL_ERROR = {"code": "server_error", "message": "The run failed on an internal error."}


def claim(thread_id: str, run_id: str, invocation: str | None) -> tuple[str, Run] | None:
    """Take a queued run (``in_progress``), or take back the one this invocation took before it died; None
    when it is gone, ended, or another invocation's."""
    for _ in range(3):
        loaded = load_run(thread_id, run_id)
        if loaded is None:
            return None
        project, run = loaded
        now = clock.now()
        status = lifecycle.current(run, now).status
        if status == "queued":
            claimed = dataclasses.replace(
                run, status="in_progress", started_at=run.started_at or now, worker=worker_id(invocation)
            )
        elif status == "in_progress" and invocation is not None and run.worker == worker_id(invocation):
            # Lambda's retry of this very invocation, which died without a word: nothing it did was kept but
            # its streamed text so far, which starts again with the model's new answer.
            logger.warning("run taken up again after its worker died", extra={"run_id": run.id})
            claimed = dataclasses.replace(run, partial=None)
        else:
            return None  # ended, expired, or another invocation's
        try:
            return project, save_run(project, claimed)
        except Conflict:
            continue  # cancelled, or claimed, meanwhile: read it again
    return None


def fail_unclaimed(thread_id: str, run_id: str, worker: str | None, error: JsonObject) -> Run | None:
    """The claim failed on an error: the run, still queued (or this invocation's, if its claim landed after
    all), fails now with ``error`` and its thread is released. If even that fails, it is logged."""
    try:
        for _ in range(3):
            loaded = load_run(thread_id, run_id)
            if loaded is None:
                return None
            project, run = loaded
            status = lifecycle.current(run, clock.now()).status
            if status != "queued" and not (status == "in_progress" and worker is not None and run.worker == worker):
                return None  # ended, expired, or another invocation's
            try:
                return save_run(project, lifecycle.ended(run, "failed", clock.now(), last_error=error), release=True)
            except Conflict:
                continue  # cancelled, or claimed, meanwhile: read it again
    except Exception:
        logger.exception("run not failed", extra={"run_id": run_id})
    return None


def worker_id(invocation: str | None) -> str | None:
    """The invocation's id as a run keeps it (``Run.worker``): as it is, if an id of at most
    ``WORKER_ID_MAX_CHARS`` characters of [A-Za-z0-9_-] (Lambda's request ids are), otherwise its SHA-256."""
    if invocation is None or (ids.ID_PATTERN.fullmatch(invocation) and len(invocation) <= limits.WORKER_ID_MAX_CHARS):
        return invocation
    return hashlib.sha256(invocation.encode("utf-8", "surrogatepass")).hexdigest()


def last_error(exc: Exception) -> JsonObject:
    """The ``last_error`` of a run that ``exc`` failed: the provider's code and words; the store's refusal of a
    run grown too large (the model's tool calls), in its words; a reason the worker gives (``RunFailed``: a
    vector store gone, the embeddings provider failing), in its words; anything else an internal error (the log
    has it). Its message is cut to ``LAST_ERROR_MESSAGE_MAX_CHARS``: the run keeps room for no more."""
    if isinstance(exc, ProviderError | RunFailed):
        code, message = exc.code, exc.message
    elif isinstance(exc, TooLarge):
        code, message = "server_error", exc.message
    else:
        return dict(INTERNAL_ERROR)
    most = limits.LAST_ERROR_MESSAGE_MAX_CHARS
    return {"code": code, "message": message if len(message) <= most else message[: most - 1] + "…"}
