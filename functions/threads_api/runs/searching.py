"""A run's file_search calls, searched: which stores (the assistant's, snapshot at the run's creation, and the
thread's, read at its first search), the wait for the thread's store while a file is still ingesting, and each
call's search, its hits fitted to the run's prompt budget.

What the client must change fails the run ``invalid_prompt`` (a store deleted, another project's, or expired);
what a retry may cure fails it ``server_error`` (the embeddings provider): ``RunFailed``, which the worker turns
into the run's ``last_error``, its thread released. Never an HTTP error: this runs in the worker, or in a
streamed function after its 200.
"""

from __future__ import annotations

import time
from functools import cache
from typing import TYPE_CHECKING

from threads_api.domain import clock, file_search, lifecycle
from threads_api.domain.errors import RunFailed
from threads_api.domain.file_search import SearchRecord
from threads_api.domain.records import JsonObject, Run
from threads_api.domain.vector_stores import SearchRequest, VectorStore
from threads_api.embeddings import EmbeddingError
from threads_api.providers import Stopped
from threads_api.store import dynamodb, run_searches
from threads_api.store import vector_stores as store_items
from threads_api.store.items import thread_from_item, thread_key, visible_thread
from threads_api.vector_stores import search as vector_search

if TYPE_CHECKING:
    from threads_api.embeddings import Embedder
    from threads_api.providers import ShouldStop, ToolCall
    from threads_api.runs.progress import Memo
    from threads_api.store.items import Item

WAIT_POLL_SECONDS = 1.0  # the thread's store is read again this often while it ingests


@cache
def embedder() -> Embedder:
    """The embedder, built on a container's first search (a run that never searches never builds one)."""
    from threads_api import embeddings

    return embeddings.from_environment()


def stores(project: str, run: Run, memo: Memo, *, deadline: float, stop: ShouldStop) -> list[VectorStore]:
    """The stores the run's calls search, read once an invocation: the assistant's (or its override's) first,
    then the thread's, each checked, the thread's waited for while a file of it is still ingesting (at most
    ``STORE_WAIT_SECONDS``, never past ``deadline``; ``stop()`` ends the wait with ``Stopped``)."""
    if memo.stores is not None:
        return memo.stores
    ids = [str(i) for i in run.settings.get("vector_store_ids") or []][:1]
    keys = [thread_key(run.thread_id), *(store_items.store_key(project, i) for i in ids)]
    items = {(item["pk"]["S"], item["sk"]["S"]): item for item in dynamodb.batch_get(keys)}
    found = [items.get((k["pk"]["S"], k["sk"]["S"])) for k in keys]
    chosen = [_checked(store_id, item, "assistant") for store_id, item in zip(ids, found[1:], strict=True)]
    thread = found[0]
    thread_ids = _thread_store_ids(project, thread)
    for store_id in thread_ids[:1]:
        if store_id not in {s.id for s in chosen}:
            chosen.append(_waited(project, store_id, deadline=deadline, stop=stop))
    memo.stores = chosen
    return chosen


def _thread_store_ids(project: str, item: Item | None) -> list[str]:
    if not visible_thread(item, project):
        return []  # deleted under the run: its run goes with it
    resources = thread_from_item(item).tool_resources or {}
    return [str(i) for i in (resources.get("file_search") or {}).get("vector_store_ids") or []]


def _checked(store_id: str, item: Item | None, whose: str) -> VectorStore:
    if item is None:
        raise RunFailed(
            "invalid_prompt",
            f"The {whose}'s vector store {store_id} was not found: it was deleted, or belongs to another project. "
            f"Change the {whose}'s tool_resources.",
        )
    found = store_items.store_from_item(item)
    if found.status(clock.now()) == "expired":
        days = found.expires_after.days if found.expires_after is not None else 0
        raise RunFailed(
            "invalid_prompt",
            f"The {whose}'s vector store {store_id} expired ({days} day{'' if days == 1 else 's'} without activity) "
            "and can no longer be searched.",
        )
    return found


def _waited(project: str, store_id: str, *, deadline: float, stop: ShouldStop) -> VectorStore:
    """The thread's store, once no file of it is ingesting, or as it is when the wait's bound comes: what is
    completed is searched (a file still ingesting has no vectors yet)."""
    # The search itself keeps its time (the embedding, the index): the wait ends that much before the deadline.
    until = min(deadline - vector_search.EMBED_SECONDS, time.monotonic() + file_search.STORE_WAIT_SECONDS)
    while True:
        found = _checked(store_id, dynamodb.get_item(store_items.store_key(project, store_id)), "thread")
        if found.status(clock.now()) != "in_progress" or time.monotonic() + WAIT_POLL_SECONDS > until:
            return found
        if stop():
            raise Stopped(store_id)
        _pause()


def _pause() -> None:
    time.sleep(WAIT_POLL_SECONDS)


def search(
    project: str,
    run: Run,
    stores: list[VectorStore],
    call: ToolCall,
    number: int,
    *,
    room_chars: int | None,
    deadline: float,
) -> tuple[JsonObject, SearchRecord]:
    """The model's file_search ``call``, the run's ``number``-th (from 0): the step's call object (the results
    the model is shown, best first) and its record (its arguments, and their excerpts; or, for a call answered
    without any, that answer alone). ``room_chars``: the most excerpt text the prompt budget leaves it."""
    options = file_search.options(run.tools)
    assert options is not None  # a file_search call is one of a run that has the tool
    arguments = call.arguments[: file_search.ARGUMENTS_MAX_CHARS]
    call_id = lifecycle.tool_call_id(call.id)
    queries = file_search.query_of(arguments)
    answer = _without_search(number, queries, stores)
    if answer is not None or queries is None:
        answer = answer or file_search.BAD_ARGUMENTS
        return file_search.search_call(call_id, options, []), SearchRecord(arguments, (answer,))
    asked = SearchRequest(
        queries=queries,
        max_num_results=options.max_num_results,
        filters=None,
        ranker=options.ranker,
        score_threshold=options.score_threshold,
        rewrite_query=False,
    )
    try:
        hits = vector_search.search_many(project, stores, asked, embedder(), deadline=deadline)
    except EmbeddingError as exc:
        raise RunFailed(
            "server_error", f"The embeddings provider failed the search: {exc.message.rstrip('.')}."
        ) from exc
    shown = file_search.fitted(hits, room_chars)
    if hits and not shown:
        return file_search.search_call(call_id, options, []), SearchRecord(arguments, (file_search.no_room(queries),))
    results = file_search.results_of(shown)
    return file_search.search_call(call_id, options, results), SearchRecord(arguments, tuple(h.text for h in shown))


def _without_search(number: int, queries: list[str] | None, stores: list[VectorStore]) -> str | None:
    """The answer of a call that is not searched, or None for one that is."""
    if number >= file_search.SEARCH_CALLS_MAX:
        return file_search.NOT_AVAILABLE
    if queries is None:
        return file_search.BAD_ARGUMENTS
    if not stores:
        return file_search.NO_STORES
    return None


def records(project: str, run: Run, memo: Memo) -> dict[tuple[str, int], SearchRecord]:
    """The records of the run's file_search calls: those made in this invocation from memory, the others (a
    resumed run's) read once."""
    keys = [(step_id, n) for step_id, n, _ in file_search.search_calls(run.steps)]
    missing = [key for key in keys if key not in memo.records]
    if missing:
        memo.records |= run_searches.read_searches(project, run, missing)
    return memo.records
