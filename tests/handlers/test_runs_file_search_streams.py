"""Searched runs with ``stream: true`` through the real handlers (the buffered answer, and a sink as ``make serve``
and the streaming functions give): the events in OpenAI's order (the search step's, then the cited reply's),
every event schema-valid, the citations as annotation deltas that add up to the stored message, and the
results' excerpts on the search step's end only with ``include[]``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.streams import SEARCHED_REPLY_EVENTS, assert_valid_events, events, names, reply_text
from tests.handlers.conftest import Api
from tests.handlers.file_search_support import Library, library, reply, search_call, searcher, thread
from tests.handlers.runs_support import Model, Runs, model, runs
from tests.handlers.vector_stores_support import ingestion

__all__ = ["ingestion", "library", "model", "runs", "searcher"]  # fixtures

INCLUDE = "include[]=step_details.tool_calls[*].file_search.results[*].content"
CITED = "It covers the compressor 【0:0†warranty terms.txt】, not the filter 【0:7†nowhere】."


def _streamed(api: Api, model: Model, assistant: dict[str, Any], query: str = "") -> tuple[str, list[Any]]:
    model.replies = [search_call("warranty"), reply(CITED)]
    thread_id = thread(api)
    answer = api("POST", f"/threads/{thread_id}/runs{query}", {"assistant_id": assistant["id"], "stream": True})
    assert answer.status == 200, answer.body
    return thread_id, events(answer.body)


def _check(api: Api, thread_id: str, stream: list[Any]) -> dict[str, Any]:
    """The stream against the run as stored: its order, its schemas, its text and annotations; the search
    step's end event."""
    assert [n for n in names(stream) if n != "thread.message.delta"] == SEARCHED_REPLY_EVENTS
    assert_valid_events(stream)
    assert reply_text(stream) == CITED
    search = next(d for n, d in stream if n == "thread.run.step.completed" and d["type"] == "tool_calls")
    delta = next(d for n, d in stream if n == "thread.run.step.delta")
    assert delta["delta"]["step_details"]["tool_calls"] == [
        {"index": 0, "id": search["step_details"]["tool_calls"][0]["id"], "type": "file_search", "file_search": {}}
    ]
    stored = api("GET", f"/threads/{thread_id}/messages?limit=1").body["data"][0]["content"][0]["text"]
    told = [
        a for n, d in stream if n == "thread.message.delta" for a in d["delta"]["content"][0]["text"]["annotations"]
    ]
    assert [{k: v for k, v in a.items() if k != "index"} for a in told] == stored["annotations"]
    assert [a["index"] for a in told] == list(range(len(told)))
    first = search["step_details"]["tool_calls"][0]["file_search"]["results"][0]["file_id"]
    assert [a["file_citation"]["file_id"] for a in told] == [first]  # 【0:7†…】 names nothing: unannotated
    return dict(search)


def test_a_searched_run_streams_its_search_step_then_its_cited_reply(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    runs.immediate = True
    thread_id, stream = _streamed(api, model, searcher)
    search = _check(api, thread_id, stream)
    results = search["step_details"]["tool_calls"][0]["file_search"]["results"]
    assert results
    assert all("content" not in r for r in results)


def test_with_include_the_search_steps_end_carries_the_excerpts(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    runs.immediate = True
    thread_id, stream = _streamed(api, model, searcher, f"?{INCLUDE}")
    search = _check(api, thread_id, stream)
    results = search["step_details"]["tool_calls"][0]["file_search"]["results"]
    assert all(r["content"][0]["type"] == "text" and r["content"][0]["text"] for r in results)
    listed = api("GET", f"/threads/{thread_id}/runs/{search['run_id']}/steps/{search['id']}?{INCLUDE}").body
    assert listed == search


def test_an_unknown_include_is_a_400_that_starts_no_run(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    thread_id = thread(api)
    answer = api("POST", f"/threads/{thread_id}/runs?include[]=step_details", {"assistant_id": searcher["id"]})
    assert answer.status == 400
    assert answer.body["error"]["param"] == "include[]"
    assert api("GET", f"/threads/{thread_id}/runs").body["data"] == []


def test_a_stream_to_a_sink_sends_the_same_events_as_they_come(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run answered where its client waits (``runs/streamed.py``): the worker's loop runs in the request."""
    from threads_api.http.request import Request
    from threads_api.runs import streamed

    sent: list[str] = []
    monkeypatch.setattr(Request, "stream_sink", lambda self: sent.append)
    monkeypatch.setattr(streamed, "_provider", lambda: model)
    thread_id, _ = _streamed(api, model, searcher, f"?{INCLUDE}")
    stream = events("".join(piece for piece in sent if not piece.startswith(":")))
    search = _check(api, thread_id, stream)
    assert all("content" in r for r in search["step_details"]["tool_calls"][0]["file_search"]["results"])
    assert runs.queued == []  # nothing was handed to the worker
