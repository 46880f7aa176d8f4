"""A run's life with file_search steps (``domain.lifecycle``): the stores a new run snapshots, tool outputs for
a step that mixes file_search and function calls, a submit's retry recognised, the step ended with its run, and
the reply being written annotated as the final message will be."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.contract.schemas import assert_valid
from threads_api.domain import file_search, lifecycle
from threads_api.domain.errors import Refused
from threads_api.domain.file_search import Options
from threads_api.domain.records import Assistant, JsonObject, Run
from threads_api.wire.request_bodies import parse
from threads_api.wire.run_bodies import RunIn, ThreadAndRunIn

NOW = 1_700_000_000
STORES = {"file_search": {"vector_store_ids": ["vs_assistant"]}}


def _assistant(**changes: Any) -> Assistant:
    base = Assistant(
        "asst_1", NOW, "gpt-4o", None, None, "Be brief.", [{"type": "file_search"}], STORES, {}, None, None, "auto"
    )
    return dataclasses.replace(base, **changes)


def _given(model: Any = RunIn, **body: Any) -> JsonObject:
    given: JsonObject = parse(model, {"assistant_id": "asst_1", **body}).overrides()
    return given


def test_a_new_run_keeps_the_assistants_stores_or_the_thread_and_runs_override() -> None:
    assert lifecycle.new_run("thread_1", _assistant(), _given(), None, NOW).settings["vector_store_ids"] == [
        "vs_assistant"
    ]
    bare = _assistant(tool_resources={})
    assert lifecycle.new_run("thread_1", bare, _given(), None, NOW).settings["vector_store_ids"] == []
    other = _given(ThreadAndRunIn, tool_resources={"file_search": {"vector_store_ids": ["vs_run"]}})
    assert lifecycle.new_run("thread_1", _assistant(), other, None, NOW).settings["vector_store_ids"] == ["vs_run"]
    none = _given(ThreadAndRunIn, tool_resources={"file_search": {"vector_store_ids": []}})
    assert lifecycle.new_run("thread_1", _assistant(), none, None, NOW).settings["vector_store_ids"] == []
    kept = _given(ThreadAndRunIn)
    assert lifecycle.new_run("thread_1", _assistant(), kept, None, NOW).settings["vector_store_ids"] == ["vs_assistant"]


def test_a_runs_stores_are_a_snapshot() -> None:
    assistant = _assistant()
    run = lifecycle.new_run("thread_1", assistant, _given(), None, NOW)
    assistant.tool_resources["file_search"]["vector_store_ids"].append("vs_later")
    assert run.settings["vector_store_ids"] == ["vs_assistant"]


def _search(call_id: str) -> JsonObject:
    results = [{"file_id": "file-1", "file_name": "a.txt", "score": 0.9}]
    return file_search.search_call(call_id, Options(), results)


def _function(call_id: str) -> JsonObject:
    return {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": "{}", "output": None}}


def _mixed() -> Run:
    """A run waiting for its function call, beside a file_search call that has its results already."""
    run = lifecycle.new_run("thread_1", _assistant(), _given(), "run_1", NOW)
    run = dataclasses.replace(run, status="in_progress", started_at=NOW)
    step = lifecycle.step(run, "step_1", "tool_calls", [_search("call_s"), _function("call_f")], NOW, None)
    asked = [{"id": "call_f", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]
    action = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": asked}}
    return dataclasses.replace(run, status="requires_action", steps=[step], required_action=action)


def test_outputs_answer_the_function_calls_and_leave_the_search_as_it_was() -> None:
    waiting = _mixed()
    assert_valid(waiting.steps[0], "RunStepObject")
    with pytest.raises(Refused, match=r"Expected tool outputs for call_ids \['call_f'\]"):
        lifecycle.submit_tool_outputs(waiting, [{"tool_call_id": "call_s", "output": "x"}], NOW)
    resumed = lifecycle.submit_tool_outputs(waiting, [{"tool_call_id": "call_f", "output": "sunny"}], NOW + 5)
    assert resumed.status == "queued"
    step = resumed.steps[0]
    assert (step["status"], step["completed_at"]) == ("completed", NOW + 5)
    search, function = step["step_details"]["tool_calls"]
    assert search == _search("call_s")
    assert function["function"]["output"] == "sunny"
    assert_valid(step, "RunStepObject")


def test_a_retried_submit_is_recognised_by_its_function_outputs_only() -> None:
    done = lifecycle.submit_tool_outputs(_mixed(), [{"tool_call_id": "call_f", "output": "sunny"}], NOW + 5)
    assert lifecycle.already_submitted(done, [{"tool_call_id": "call_f", "output": "sunny"}])
    assert not lifecycle.already_submitted(done, [{"tool_call_id": "call_f", "output": "rain"}])
    assert not lifecycle.already_submitted(_mixed(), [{"tool_call_id": "call_f", "output": "sunny"}])
    # A step of searches only has no outputs to match: an empty submit is not its retry.
    run = lifecycle.new_run("thread_1", _assistant(), _given(), "run_1", NOW)
    searched = {**lifecycle.step(run, "step_1", "tool_calls", [_search("call_s")], NOW, None), "status": "completed"}
    assert not lifecycle.already_submitted(dataclasses.replace(run, steps=[searched]), [])


@pytest.mark.parametrize(("status", "stamp"), [("failed", "failed_at"), ("cancelled", "cancelled_at")])
def test_a_mixed_step_ends_with_its_run(status: str, stamp: str) -> None:
    ended = lifecycle.ended(_mixed(), status, NOW + 9)
    step = ended.steps[0]
    assert (step["status"], step[stamp]) == (status, NOW + 9)
    assert step["step_details"]["tool_calls"][0] == _search("call_s")
    assert ended.required_action is None


def test_the_reply_being_written_is_annotated_as_the_final_message_will_be() -> None:
    run = lifecycle.new_run("thread_1", _assistant(), _given(), "run_1", NOW)
    run = dataclasses.replace(run, status="in_progress", started_at=NOW)
    step = {**lifecycle.step(run, "step_1", "tool_calls", [_search("call_s")], NOW, None), "status": "completed"}
    text = "Two years【0:0†a.txt】, not【0:5†b】 and 【0:0†a"
    writing = lifecycle.writing(dataclasses.replace(run, steps=[step], partial=text), NOW + 1)
    assert writing is not None
    _, message = writing
    (annotation,) = message.content[0]["text"]["annotations"]
    assert annotation["file_citation"] == {"file_id": "file-1"}
    assert text[annotation["start_index"] : annotation["end_index"]] == "【0:0†a.txt】"
    assert_valid(message.content[0], "MessageContentTextObject")
