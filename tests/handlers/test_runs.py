"""Runs through the real handlers on moto: the API functions and the worker, each under its own IAM role, with
a scripted model in place of a provider. The worker's invocation is queued, and the test runs it (``work``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.schemas import assert_error, assert_valid
from tests.contract.streams import REPLY_EVENTS, assert_valid_events, events, names, reply_text
from tests.handlers.conftest import Api
from tests.handlers.runs_support import USAGE, Model, Runs, assistant, model, runs
from threads_api.domain import clock
from threads_api.providers import ChatResult, ProviderError, ToolCall

__all__ = ["assistant", "model", "runs"]  # fixtures


def _thread(api: Api, text: str = "What is the weather in Paris?") -> str:
    reply = api("POST", "/threads", {"messages": [{"role": "user", "content": text}]})
    return str(reply.body["id"])


def _waiting_for_a_tool(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any], arguments: str = "{}"
) -> tuple[str, str]:
    """A thread and its run, which the model answered with one call of get_weather (call_1): requires_action."""
    thread_id = _thread(api)
    model.replies = [ChatResult(None, [ToolCall("call_1", "get_weather", arguments)], "tool_calls", USAGE)]
    run_id = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).body["id"]
    runs.work()
    return thread_id, str(run_id)


def test_a_run_is_queued_then_completed_with_the_models_reply_as_a_message_of_the_thread(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    created = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]})
    assert created.status == 200
    assert created.body["status"] == "queued"
    assert created.body["usage"] is None
    assert_valid(created.body, "RunObject")
    assert runs.work() == 1
    run = api("GET", f"/threads/{thread_id}/runs/{created.body['id']}").body
    assert_valid(run, "RunObject")
    assert run["status"] == "completed"
    assert run["expires_at"] is None
    assert run["completed_at"] is not None
    assert run["usage"] == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    messages = api("GET", f"/threads/{thread_id}/messages").body["data"]
    reply = messages[0]
    assert [m["role"] for m in messages] == ["assistant", "user"]
    assert reply["content"][0]["text"]["value"] == "Hello!"
    assert (reply["run_id"], reply["assistant_id"], reply["status"]) == (run["id"], assistant["id"], "completed")
    by_run = api("GET", f"/threads/{thread_id}/messages?run_id={run['id']}").body["data"]
    assert [m["id"] for m in by_run] == [reply["id"]]
    steps = api("GET", f"/threads/{thread_id}/runs/{run['id']}/steps").body
    assert_valid(steps, "ListRunStepsResponse")
    (step,) = steps["data"]
    assert step["type"] == "message_creation"
    assert step["step_details"]["message_creation"]["message_id"] == reply["id"]
    assert api("GET", f"/threads/{thread_id}/runs/{run['id']}/steps/{step['id']}").body == step
    sent = model.requests[0]
    assert sent["model"] == "gpt-4o"
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["messages"][1] == {"role": "user", "content": "What is the weather in Paris?"}


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
    outputs = [{"tool_call_id": f"call_{n}", "output": "x" * 200_000} for n in (1, 2)]  # each within 256,000
    reply = api("POST", f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", {"tool_outputs": outputs})
    assert_error(reply.body, 400, contains="too large to store")
    assert reply.body["error"]["code"] == "run_too_large"
    assert api("GET", f"/threads/{thread_id}/runs/{run_id}").body["status"] == "requires_action"
    assert runs.queued == []


def test_a_run_whose_hand_over_was_lost_is_handed_over_again_when_a_retry_finds_the_thread_busy(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    """A create that wrote its run, then failed before asking the worker: the SDK's retry (no key) is a new
    run, refused with OpenAI's 400, and the first run is handed over rather than left queued to expire."""
    thread_id = _thread(api)
    first = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).body
    runs.queued.clear()  # the hand-over that never happened
    retry = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]})
    assert_error(retry.body, 400, contains=f"already has an active run {first['id']}")
    assert runs.work() == 1
    assert api("GET", f"/threads/{thread_id}/runs/{first['id']}").body["status"] == "completed"
    assert len(api("GET", f"/threads/{thread_id}/runs").body["data"]) == 1


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


def test_a_thread_holds_one_active_run_and_takes_no_message_while_it_is_active(
    api: Api, runs: Runs, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    run_id = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).body["id"]
    second = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]})
    assert_error(second.body, 400, contains=f"already has an active run {run_id}")
    message = api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": "more"})
    assert_error(message.body, 400, contains=f"while a run {run_id} is active")
    runs.work()
    assert api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": "more"}).status == 200
    assert api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).status == 200


def test_cancel_ends_a_queued_run_at_once_and_a_working_one_through_the_worker(
    api: Api, runs: Runs, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    run_id = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).body["id"]
    cancelled = api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel")
    assert cancelled.status == 200
    assert cancelled.body["status"] == "cancelled"
    runs.work()  # the worker finds nothing to do
    assert api("GET", f"/threads/{thread_id}/runs/{run_id}").body["status"] == "cancelled"
    assert api("GET", f"/threads/{thread_id}/messages").body["data"][0]["role"] == "user"  # no reply written
    again = api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel")
    assert_error(again.body, 400, contains="Cannot cancel run with status 'cancelled'")


def test_a_cancel_that_lands_while_the_model_answers_ends_the_run_cancelled(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    run_id = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).body["id"]
    answered = model.complete

    def cancelled_meanwhile(request: dict[str, Any], **kwargs: Any) -> ChatResult:
        assert api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel").body["status"] == "cancelling"
        return answered(request, **kwargs)

    model.complete = cancelled_meanwhile  # type: ignore[method-assign]
    runs.work()
    run = api("GET", f"/threads/{thread_id}/runs/{run_id}").body
    assert run["status"] == "cancelled"
    assert run["cancelled_at"] is not None
    assert api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).status == 200  # lock released


@pytest.mark.parametrize("code", ["rate_limit_exceeded", "server_error", "invalid_prompt"])
def test_a_provider_failure_fails_the_run_with_its_code(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any], code: str
) -> None:
    thread_id = _thread(api)
    model.replies = [ProviderError(code, "The provider said no.")]
    run_id = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).body["id"]
    runs.work()
    run = api("GET", f"/threads/{thread_id}/runs/{run_id}").body
    assert_valid(run, "RunObject")
    assert run["status"] == "failed"
    assert run["last_error"] == {"code": code, "message": "The provider said no."}
    assert api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": "again"}).status == 200


class _Died(BaseException):
    """The worker's process dying mid-call (out of memory, killed): nothing in it runs any more."""


def test_a_worker_that_died_is_taken_up_by_lambdas_retry_of_it_and_by_no_other_invocation(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    model.replies = [_Died(), ChatResult("Sunny.", [], "stop", USAGE)]
    run_id = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).body["id"]
    (event,) = runs.queued
    with pytest.raises(_Died):
        runs.run(event, "request-1")
    assert api("GET", f"/threads/{thread_id}/runs/{run_id}").body["status"] == "in_progress"

    runs.run(event, "request-2")  # another invocation of the same event (Lambda delivers at least once)
    assert len(model.requests) == 1
    assert api("GET", f"/threads/{thread_id}/runs/{run_id}").body["status"] == "in_progress"

    runs.run(event, "request-1")  # Lambda's retry of the one that died: same request id
    run = api("GET", f"/threads/{thread_id}/runs/{run_id}").body
    assert run["status"] == "completed"
    assert len(model.requests) == 2
    assert model.requests[0] == model.requests[1]  # the model is asked the same again
    replies = api("GET", f"/threads/{thread_id}/messages?run_id={run_id}").body["data"]
    assert [m["content"][0]["text"]["value"] for m in replies] == ["Sunny."]

    runs.run(event, "request-1")  # and once the run has ended, a late retry does nothing
    assert len(model.requests) == 2


def test_without_a_provider_a_run_fails_at_once_saying_how_to_configure_one(
    api: Api, runs: Runs, assistant: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers import run_worker

    monkeypatch.setattr(run_worker, "PROVIDER", None)
    thread_id = _thread(api)
    run_id = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).body["id"]
    runs.work()
    error = api("GET", f"/threads/{thread_id}/runs/{run_id}").body["last_error"]
    assert error["code"] == "server_error"
    assert "MODEL_BASE_URL" in error["message"]


def test_a_run_the_worker_cannot_be_asked_for_is_answered_failed_not_as_an_error(
    api: Api, runs: Runs, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    runs.refuse = True
    created = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]})
    assert created.status == 200
    assert created.body["status"] == "failed"
    assert "could not be started" in created.body["last_error"]["message"]
    runs.refuse = False
    assert api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).status == 200


def test_a_reply_cut_by_max_completion_tokens_leaves_the_run_and_its_message_incomplete(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    model.replies = [ChatResult("It is", [], "length", USAGE)]
    body = {"assistant_id": assistant["id"], "max_completion_tokens": 256}
    run_id = api("POST", f"/threads/{thread_id}/runs", body).body["id"]
    runs.work()
    run = api("GET", f"/threads/{thread_id}/runs/{run_id}").body
    assert run["status"] == "incomplete"
    assert run["incomplete_details"] == {"reason": "max_completion_tokens"}
    assert model.requests[0]["max_completion_tokens"] == 256
    reply = api("GET", f"/threads/{thread_id}/messages").body["data"][0]
    assert_valid(reply, "MessageObject")
    assert reply["status"] == "incomplete"
    assert reply["incomplete_at"] is not None
    assert reply["completed_at"] is None


def test_a_prompt_over_max_prompt_tokens_even_truncated_ends_the_run_incomplete_without_asking_the_model(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api, "word " * 2000)  # ~2,500 tokens by estimate, in its last (only) message
    body = {"assistant_id": assistant["id"], "max_prompt_tokens": 256}
    run_id = api("POST", f"/threads/{thread_id}/runs", body).body["id"]
    runs.work()
    run = api("GET", f"/threads/{thread_id}/runs/{run_id}").body
    assert_valid(run, "RunObject")
    assert run["status"] == "incomplete"
    assert run["incomplete_details"] == {"reason": "max_prompt_tokens"}
    assert model.requests == []
    assert api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": "shorter"}).status == 200
    fits = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"], "max_prompt_tokens": 5000})
    runs.work()
    assert api("GET", f"/threads/{thread_id}/runs/{fits.body['id']}").body["status"] == "completed"


def test_a_run_waiting_past_expires_at_reads_expired_and_no_longer_holds_its_thread(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:

    thread_id, run_id = _waiting_for_a_tool(api, runs, model, assistant)
    then = clock.now_ms()
    monkeypatch.setattr(clock, "now_ms", lambda: then + 601_000)
    run = api("GET", f"/threads/{thread_id}/runs/{run_id}").body
    assert run["status"] == "expired"
    assert run["required_action"] is None
    outputs = {"tool_outputs": [{"tool_call_id": "call_1", "output": "x"}]}
    late = api("POST", f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", outputs)
    assert_error(late.body, 400, contains="Runs in status expired do not accept tool outputs")
    assert api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": "hello?"}).status == 200


def test_stream_answers_the_runs_events_in_openais_order(api: Api, runs: Runs, assistant: dict[str, Any]) -> None:
    thread_id = _thread(api)
    runs.immediate = True
    reply = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"], "stream": True})
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    stream = events(reply.body)
    assert names(stream) == REPLY_EVENTS
    assert reply_text(stream) == "Hello!"
    assert_valid_events(stream)
    assert [stream[0][1]["status"], stream[2][1]["status"], stream[-2][1]["status"]] == [
        "queued",
        "in_progress",
        "completed",
    ]


def test_create_thread_and_run_makes_both_and_streams_thread_created_first(
    api: Api, runs: Runs, assistant: dict[str, Any]
) -> None:
    body = {"assistant_id": assistant["id"], "thread": {"messages": [{"role": "user", "content": "Hi"}]}}
    created = api("POST", "/threads/runs", body)
    assert created.status == 200
    assert created.body["status"] == "queued"
    runs.work()
    thread_id = created.body["thread_id"]
    assert [m["role"] for m in api("GET", f"/threads/{thread_id}/messages").body["data"]] == ["assistant", "user"]
    runs.immediate = True
    streamed = api("POST", "/threads/runs", body | {"stream": True})
    seen = names(events(streamed.body))
    assert seen[:3] == ["thread.created", "thread.run.created", "thread.run.queued"]
    assert seen[-2:] == ["thread.run.completed", "done"]


def test_runs_are_listed_by_creation_with_cursors_and_their_metadata_can_be_changed(
    api: Api, runs: Runs, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    made = []
    for n in range(3):
        made.append(
            api(
                "POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"], "metadata": {"n": str(n)}}
            ).body["id"]
        )
        runs.work()
    listed = api("GET", f"/threads/{thread_id}/runs?limit=2").body
    assert_valid(listed, "ListRunsResponse")
    assert [r["id"] for r in listed["data"]] == made[:0:-1]
    assert listed["has_more"]
    rest = api("GET", f"/threads/{thread_id}/runs?limit=2&after={listed['last_id']}").body
    assert [r["id"] for r in rest["data"]] == [made[0]]
    assert not rest["has_more"]
    changed = api("POST", f"/threads/{thread_id}/runs/{made[0]}", {"metadata": {"k": "v"}}).body
    assert changed["metadata"] == {"k": "v"}
    assert changed["status"] == "completed"
    assert api("GET", f"/threads/{thread_id}/runs/{made[0]}").body["metadata"] == {"k": "v"}


def test_a_keyed_run_create_replays_the_same_run_and_writes_one(
    api: Api, runs: Runs, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    key = {"Idempotency-Key": "run-once"}
    first = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}, headers=key)
    again = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}, headers=key)
    assert first.body["id"] == again.body["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(api("GET", f"/threads/{thread_id}/runs").body["data"]) == 1
    assert len(runs.queued) == 1


@pytest.mark.parametrize(
    ("body", "param", "contains"),
    [
        ({"assistant_id": "asst_x", "tools": [{"type": "code_interpreter"}]}, "tools[0].type", "not supported"),
        (
            {"assistant_id": "asst_x", "truncation_strategy": {"type": "last_messages"}},
            "truncation_strategy",
            "last_messages",
        ),
        ({"assistant_id": "asst_x", "max_completion_tokens": 10}, "max_completion_tokens", ""),
        ({"assistant_id": "asst_x", "temperature": 3}, "temperature", ""),
        ({}, "assistant_id", "Missing required parameter"),
        ({"assistant_id": "asst_x", "tool_choice": "sometimes"}, "tool_choice", "'auto'"),
        ({"assistant_id": "asst_x", "tool_choice": {"type": "function"}}, "tool_choice.function", "Missing"),
        (
            {"assistant_id": "asst_x", "tool_choice": {"type": "function", "function": {"name": 1}}},
            "tool_choice.function.name",
            "expected a string",
        ),
    ],
)
def test_bad_run_bodies_are_400s_naming_the_field_and_write_nothing(
    api: Api, runs: Runs, body: dict[str, Any], param: str, contains: str
) -> None:
    thread_id = _thread(api)
    reply = api("POST", f"/threads/{thread_id}/runs", body)
    assert_error(reply.body, 400, param=param, contains=contains)
    assert api("GET", f"/threads/{thread_id}/runs").body["data"] == []
    assert runs.queued == []


def test_create_thread_and_run_with_a_thread_too_large_for_one_transaction_writes_it_in_stages(
    api: Api, runs: Runs, assistant: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.handlers.conftest import limit_checks
    from threads_api.domain import limits

    monkeypatch.setattr(limits, "TRANSACTION_MAX_BYTES", 1_000)
    limit_checks.clear()
    texts = [f"{i} " + "x" * 500 for i in range(8)]
    body = {"assistant_id": assistant["id"], "thread": {"messages": [{"role": "user", "content": t} for t in texts]}}
    created = api("POST", "/threads/runs", body)
    assert created.status == 200, created.body
    assert created.body["status"] == "queued", created.body
    assert "BatchWriteItem" in limit_checks  # the thread's messages went in stages
    runs.work()
    thread_id = created.body["thread_id"]
    assert api("GET", f"/threads/{thread_id}/runs/{created.body['id']}").body["status"] == "completed"
    listed = api("GET", f"/threads/{thread_id}/messages?order=asc&limit=100").body["data"]
    assert [m["content"][0]["text"]["value"] for m in listed] == [*texts, "Hello!"]


def test_additional_messages_too_large_for_one_transaction_are_a_400_and_write_nothing(
    api: Api, runs: Runs, assistant: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from threads_api.domain import limits

    thread_id = _thread(api)
    monkeypatch.setattr(limits, "TRANSACTION_MAX_BYTES", limits.RUN_ITEM_MAX_BYTES + 1_000)
    extra = [{"role": "user", "content": "y" * 400} for _ in range(4)]
    reply = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"], "additional_messages": extra})
    assert reply.status == 400
    assert_error(reply.body, 400, param="additional_messages", contains="add them to the thread first")
    assert api("GET", f"/threads/{thread_id}/runs").body["data"] == []
    assert runs.queued == []
    assert len(api("GET", f"/threads/{thread_id}/messages").body["data"]) == 1


def test_additional_messages_join_the_thread_with_the_run_and_reach_the_model_with_its_instructions(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    body = {
        "assistant_id": assistant["id"],
        "instructions": "Answer in French.",
        "additional_instructions": "Be polite.",
        "additional_messages": [{"role": "user", "content": "And tomorrow?"}],
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "tool_choice": "none",
    }
    run = api("POST", f"/threads/{thread_id}/runs", body).body
    assert (run["model"], run["instructions"], run["temperature"], run["tool_choice"]) == (
        "gpt-4o-mini",
        "Answer in French.",
        0.2,
        "none",
    )
    runs.work()
    sent = model.requests[0]
    assert sent["messages"][0] == {"role": "system", "content": "Answer in French.\n\nBe polite."}
    assert [m["content"] for m in sent["messages"][1:]] == ["What is the weather in Paris?", "And tomorrow?"]
    assert (sent["model"], sent["temperature"], sent["tool_choice"]) == ("gpt-4o-mini", 0.2, "none")
    roles = [m["role"] for m in api("GET", f"/threads/{thread_id}/messages?order=asc").body["data"]]
    assert roles == ["user", "user", "assistant"]


def test_a_stream_whose_run_goes_on_past_the_wait_ends_without_a_final_run_event(
    api: Api, runs: Runs, assistant: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from threads_api.runs import events as run_events

    monkeypatch.setattr(run_events, "STREAM_WAIT_SECONDS", 0.3)  # the worker is never run here: the run stays queued
    thread_id = _thread(api)
    reply = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"], "stream": True})
    stream = events(reply.body)
    assert [name for name, _ in stream] == ["thread.run.created", "thread.run.queued", "done"]
    assert_valid_events(stream)
    run_id = stream[0][1]["id"]
    runs.work()  # the run goes on, and completes: the client follows it by reading it
    assert api("GET", f"/threads/{thread_id}/runs/{run_id}").body["status"] == "completed"


def test_create_thread_and_run_whose_run_fails_takes_its_thread_back(
    api: Api, runs: Runs, assistant: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Idempotency-Key: the SDK's retry of the 503 would make a second thread, so the first is deleted."""
    from threads_api import store
    from threads_api.domain.errors import Unavailable

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise Unavailable("transact_write_items")

    monkeypatch.setattr(store, "create_run", unavailable)
    body = {"assistant_id": assistant["id"], "thread": {"messages": [{"role": "user", "content": "Hi"}]}}
    reply = api("POST", "/threads/runs", body)
    assert reply.status == 503
    assert api("GET", "/threads").body["data"] == []
    assert runs.queued == []
