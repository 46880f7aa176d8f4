"""A run's tool calls through the real handlers: the round trip (requires_action, then the outputs sent to the
model), bad or too large outputs refused with the run still waiting, and a submit retried after its hand-over
to the worker was lost."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.contract.schemas import assert_error, assert_valid
from tests.contract.streams import assert_valid_events, events, names
from tests.handlers.conftest import Api
from tests.handlers.runs_support import USAGE, Model, Runs, _thread, _waiting_for_a_tool, assistant, model, runs
from threads_api.providers import ChatResult, ToolCall

__all__ = ["assistant", "model", "runs"]  # fixtures


def test_the_tool_round_trip_waits_for_outputs_then_sends_them_to_the_model(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    thread_id, run_id = _waiting_for_a_tool(api, runs, model, assistant, '{"city": "Paris"}')
    waiting = api("GET", f"/threads/{thread_id}/runs/{run_id}").body
    assert_valid(waiting, "RunObject")
    assert waiting["status"] == "requires_action"
    (call,) = waiting["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert call == {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    resumed = api(
        "POST",
        f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
        {"tool_outputs": [{"tool_call_id": "call_1", "output": "18C"}]},
    )
    assert resumed.status == 200
    assert resumed.body["status"] == "queued"
    runs.work()
    done = api("GET", f"/threads/{thread_id}/runs/{run_id}").body
    assert done["status"] == "completed"
    assert done["usage"]["total_tokens"] == 30
    second = model.requests[1]["messages"]
    assert second[-2]["tool_calls"][0]["id"] == "call_1"
    assert second[-1] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "18C",
    }
    steps = api("GET", f"/threads/{thread_id}/runs/{run_id}/steps?order=asc").body["data"]
    assert [s["type"] for s in steps] == ["tool_calls", "message_creation"]
    assert steps[0]["step_details"]["tool_calls"][0]["function"]["output"] == "18C"


@pytest.mark.parametrize(
    ("outputs", "param", "contains"),
    [
        ([], "tool_outputs", "empty array"),
        ([{"tool_call_id": "call_1", "output": "x"}] * 129, "tool_outputs", "maximum length 128"),
        ([{"tool_call_id": "call_1", "output": "x" * 256_001}], "tool_outputs[0].output", "maximum length 256000"),
    ],
)
def test_bad_tool_outputs_are_400s_naming_the_field_and_leave_the_run_waiting(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any], outputs: list[Any], param: str, contains: str
) -> None:
    thread_id, run_id = _waiting_for_a_tool(api, runs, model, assistant)
    reply = api("POST", f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", {"tool_outputs": outputs})
    assert_error(reply.body, 400, param=param, contains=contains)
    assert api("GET", f"/threads/{thread_id}/runs/{run_id}").body["status"] == "requires_action"


def test_tool_outputs_too_large_for_the_runs_item_are_a_400_run_too_large_and_the_run_still_waits(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    calls = [ToolCall(f"call_{n}", "get_weather", "{}") for n in (1, 2)]
    model.replies = [ChatResult(None, calls, "tool_calls", USAGE)]
    run_id = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).body["id"]
    runs.work()
    # Each within 256,000 characters, and random: compressed (as large outputs are stored), two still pass
    # the run's 200,000 bytes.
    outputs = [{"tool_call_id": f"call_{n}", "output": secrets.token_urlsafe(150_000)} for n in (1, 2)]
    reply = api("POST", f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", {"tool_outputs": outputs})
    assert_error(reply.body, 400, contains="too large to store")
    assert reply.body["error"]["code"] == "run_too_large"
    assert api("GET", f"/threads/{thread_id}/runs/{run_id}").body["status"] == "requires_action"
    assert runs.queued == []


def test_a_retried_submit_whose_first_hand_over_was_lost_hands_the_run_over_again(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    """The outputs were saved, then the request failed before the worker was asked (its answer lost): the
    SDK's retry, without an Idempotency-Key, must not leave the run queued until it expires."""
    thread_id, run_id = _waiting_for_a_tool(api, runs, model, assistant)
    path = f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"
    body = {"tool_outputs": [{"tool_call_id": "call_1", "output": "18C"}]}
    assert api("POST", path, body).body["status"] == "queued"
    runs.queued.clear()  # the hand-over that never happened
    retried = api("POST", path, body)
    assert retried.status == 200
    assert retried.body["status"] == "queued"
    assert runs.work() == 1
    assert api("GET", f"/threads/{thread_id}/runs/{run_id}").body["status"] == "completed"
    assert runs.work() == 0
    assert len(model.requests) == 2  # and the retry asked the model once more, not twice


def test_a_retried_streamed_submit_answers_the_runs_events_from_where_it_stands(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    """The SDK's submit_tool_outputs_stream, retried after its first answer was lost, still gets a stream."""
    thread_id, run_id = _waiting_for_a_tool(api, runs, model, assistant)
    runs.immediate = True
    path = f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"
    body = {"tool_outputs": [{"tool_call_id": "call_1", "output": "18C"}], "stream": True}
    first = api("POST", path, body)
    retried = api("POST", path, body)
    assert retried.status == 200
    assert retried.headers["content-type"].startswith("text/event-stream")
    stream = events(retried.body)
    assert_valid_events(stream)
    assert stream[-2][0] == "thread.run.completed"
    assert stream[-2][1]["id"] == run_id
    assert names(events(first.body))[-2:] == ["thread.run.completed", "done"]
    assert len(model.requests) == 2  # the retry asked the model nothing
