"""A run's steps as the client reads them (``steps.list``, ``steps.retrieve``, a stream's step events), and with
``include[]=step_details.tool_calls[*].file_search.results[*].content`` their file_search results' excerpts.

The steps live in the run's item; the excerpts do not (they would crowd it: ``store.run_searches``), so they
are read only when asked for, and only the calls of the steps shown: one ``BatchGetItem`` a page.
"""

from __future__ import annotations

from threads_api import store
from threads_api.domain import clock, file_search
from threads_api.domain.errors import NotFound
from threads_api.domain.records import JsonObject, Page, PageParams, Run
from threads_api.wire import run_objects


def step_page(project: str, thread_id: str, run_id: str, params: PageParams, include_content: bool) -> Page:
    run = store.get_run(project, thread_id, run_id)
    page = run_objects.step_page(run, params, clock.now())
    if include_content:
        page.items = with_content(project, run, page.items)
    return page


def run_step(project: str, thread_id: str, run_id: str, step_id: str, include_content: bool) -> JsonObject:
    run = store.get_run(project, thread_id, run_id)
    for step in run_objects.steps(run, clock.now()):
        if step["id"] == step_id:
            return with_content(project, run, [step])[0] if include_content else step
    raise NotFound("run step", step_id)


def with_content(project: str, run: Run, steps: list[JsonObject]) -> list[JsonObject]:
    """``steps`` with each file_search result's excerpt (``content``); no read when none searched."""
    keys = [(step_id, n) for step_id, n, _ in file_search.search_calls(steps)]
    if not keys:
        return steps
    from threads_api.store import run_searches  # only a read that asked for the excerpts needs them

    records = run_searches.read_searches(project, run, keys)
    return [run_objects.with_results_content(step, records) for step in steps]
