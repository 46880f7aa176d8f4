"""A streamed run searches inside whichever function answers it (template.yaml grants each the embeddings and
S3 Vectors' QueryVectors): create run and create thread and run with ``stream: true``, and a streamed
submit_tool_outputs whose model searches again after the function's output; each with and without text beside
the calls. Each under its function's role, so the grants are
exercised as the least-privilege check demands."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.contract.streams import assert_valid_events, events, names
from tests.handlers.conftest import Api
from tests.handlers.file_search_support import Library, library, read_run, reply, search_call, searched, searcher
from tests.handlers.runs_support import USAGE, Model, Runs, model, runs
from tests.handlers.vector_stores_support import ingestion
from threads_api.providers import ChatResult, ToolCall

__all__ = ["ingestion", "library", "model", "runs", "searcher"]  # fixtures

CITED = "The compressor 【0:0†warranty terms.txt】."


def _searched_step(stream: list[Any]) -> dict[str, Any]:
    return next(
        d
        for n, d in stream
        if n == "thread.run.step.completed" and d["type"] == "tool_calls"
        if d["step_details"]["tool_calls"][0]["type"] == "file_search"
    )


def _sunk(model: Model, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the function writes to its client's stream, as the streaming functions give it (``runs/streamed.py``
    answers the run in the request, its model ``model``)."""
    from threads_api.http.request import Request
    from threads_api.runs import streamed

    sent: list[str] = []
    monkeypatch.setattr(Request, "stream_sink", lambda self: sent.append)
    monkeypatch.setattr(streamed, "_provider", lambda: model)
    return sent


def _told(sent: list[str]) -> list[Any]:
    stream = events("".join(piece for piece in sent if not piece.startswith(":")))
    assert_valid_events(stream)
    assert names(stream)[-2:] == ["thread.run.completed", "done"]
    return stream


# The text a model may write beside its calls: with it, the round's records are written before the round
# (``tool_round``), in a transaction with a ConditionCheckItem that each function's role must allow.
BESIDE = [None, "Let me look that up."]


def _searching(query: str, beside: str | None) -> ChatResult:
    return dataclasses.replace(search_call(query), text=beside)


@pytest.mark.parametrize("case", [(r, b) for r in ("create thread and run", "create run") for b in BESIDE], ids=str)
def test_a_streamed_run_searches_in_its_own_function(
    api: Api,
    runs: Runs,
    model: Model,
    searcher: dict[str, Any],
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str | None],
) -> None:
    route, beside = case
    messages = [{"role": "user", "content": "?"}]
    body: dict[str, Any] = {"assistant_id": searcher["id"], "stream": True}
    if route == "create run":
        path = f"/threads/{api('POST', '/threads', {'messages': messages}).body['id']}/runs"
    else:
        path, body["thread"] = "/threads/runs", {"messages": messages}
    sent = _sunk(model, monkeypatch)
    model.replies = [_searching("warranty", beside), reply(CITED)]
    answer = api("POST", path, body)
    assert answer.status == 200, answer.body
    [call] = _searched_step(_told(sent))["step_details"]["tool_calls"]
    assert call["file_search"]["results"][0]["file_id"] == library.files["warranty terms.txt"]
    assert not runs.queued  # answered here, not handed to the worker


@pytest.mark.parametrize("beside", BESIDE, ids=["calls only", "text beside"])
def test_a_streamed_submit_searches_again_in_its_own_function(
    api: Api,
    runs: Runs,
    model: Model,
    searcher: dict[str, Any],
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
    beside: str | None,
) -> None:
    weather = ChatResult(None, [ToolCall("call_w", "get_weather", '{"city": "Paris"}')], "tool_calls", USAGE)
    thread_id, run = searched(api, runs, model, searcher, [weather])
    assert run["status"] == "requires_action"
    sent = _sunk(model, monkeypatch)
    model.replies = [_searching("fan", beside), reply(CITED)]
    outputs = {"tool_outputs": [{"tool_call_id": "call_w", "output": "18C"}], "stream": True}
    answer = api("POST", f"/threads/{thread_id}/runs/{run['id']}/submit_tool_outputs", outputs)
    assert answer.status == 200, answer.body
    assert _searched_step(_told(sent))["step_details"]["tool_calls"][0]["file_search"]["results"]
    assert not runs.queued
    assert read_run(api, thread_id, run["id"])["status"] == "completed"
