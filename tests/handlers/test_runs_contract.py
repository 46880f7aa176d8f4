"""What a run promises, through the real handlers: what a stream announces exists whatever the ending (a reply
cut by a failure or a cancel is kept as an incomplete message, its step failed or cancelled); Idempotency-Key
on cancel and modify-run; a late retry of submit_tool_outputs answered with the run; replayed events telling
the run as it was at each event."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.contract.schemas import assert_error, assert_valid
from tests.contract.streams import assert_valid_events, events, names
from tests.handlers.conftest import Api
from tests.handlers.runs_support import USAGE, Model, Runs, _thread, _waiting_for_a_tool, assistant, model, runs
from threads_api.providers import ChatResult, ProviderError, ToolCall

__all__ = ["assistant", "model", "runs"]  # fixtures


def _stream_worked_meanwhile(api: Api, runs: Runs, path: str, body: dict[str, Any]) -> list[tuple[str, Any]]:
    """A streamed request, while the worker runs in another thread (as Lambda runs it): the stream follows
    the run as it goes, not only once it has stopped."""

    def work_when_handed_over() -> None:
        while not runs.queued:
            time.sleep(0.01)
        runs.work()

    worker = threading.Thread(target=work_when_handed_over)
    worker.start()
    reply = api("POST", path, body)
    worker.join(10)
    assert reply.status == 200, reply.body
    return events(reply.body)


@pytest.mark.parametrize(("ending", "reason"), [("failed", "run_failed"), ("cancelled", "run_cancelled")])
def test_a_reply_cut_short_by_a_failure_or_a_cancel_is_kept_as_the_stream_announced_it(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any], ending: str, reason: str
) -> None:
    thread_id = _thread(api)
    seen: dict[str, Any] = {}

    def cut_short(request: dict[str, Any], *, on_text: Any = None, **kwargs: Any) -> ChatResult:
        on_text("It is sun")
        time.sleep(0.4)  # the stream sees the text so far
        run_id = api("GET", f"/threads/{thread_id}/runs").body["data"][0]["id"]
        seen["steps"] = api("GET", f"/threads/{thread_id}/runs/{run_id}/steps").body["data"]
        if ending == "failed":
            raise ProviderError("server_error", "The model provider failed while answering.")
        assert api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel").body["status"] == "cancelling"
        on_text("It is sunny in")  # its save finds the run cancelled
        return ChatResult("It is sunny in Paris.", [], "stop", USAGE)

    model.complete = cut_short  # type: ignore[method-assign]
    body = {"assistant_id": assistant["id"], "stream": True}
    stream = _stream_worked_meanwhile(api, runs, f"/threads/{thread_id}/runs", body)
    assert_valid_events(stream)
    said = names(stream)
    assert said[-5:] == [
        "thread.message.delta",
        "thread.message.incomplete",
        f"thread.run.step.{ending}",
        f"thread.run.{ending}",
        "done",
    ]
    announced = {name: data for name, data in stream if name in ("thread.message.created", "thread.run.step.created")}
    run = stream[-2][1]
    message = api("GET", f"/threads/{thread_id}/messages/{announced['thread.message.created']['id']}")
    assert message.status == 200, message.body
    assert_valid(message.body, "MessageObject")
    assert message.body["status"] == "incomplete"
    assert message.body["incomplete_details"] == {"reason": reason}
    assert message.body["content"][0]["text"]["value"].startswith("It is sun")
    step_id = announced["thread.run.step.created"]["id"]
    step = api("GET", f"/threads/{thread_id}/runs/{run['id']}/steps/{step_id}")
    assert step.status == 200, step.body
    assert_valid(step.body, "RunStepObject")
    assert step.body["status"] == ending
    assert step.body[f"{ending}_at"] is not None
    assert [s["id"] for s in api("GET", f"/threads/{thread_id}/runs/{run['id']}/steps").body["data"]] == [step_id]
    # While the model answered, the step the stream announced was in the run's steps already.
    assert [(s["id"], s["status"]) for s in seen["steps"]] == [(step_id, "in_progress")]
    assert_valid(seen["steps"][0], "RunStepObject")
    replies = api("GET", f"/threads/{thread_id}/messages?run_id={run['id']}").body["data"]
    assert [m["id"] for m in replies] == [message.body["id"]]
    assert api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": "again"}).status == 200


def test_a_failure_before_any_text_writes_no_message(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    model.replies = [ProviderError("server_error", "The provider said no.")]
    runs.immediate = True
    reply = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"], "stream": True})
    stream = events(reply.body)
    assert names(stream)[-2:] == ["thread.run.failed", "done"]
    assert not any(name.startswith("thread.message") for name in names(stream))
    assert [m["role"] for m in api("GET", f"/threads/{thread_id}/messages").body["data"]] == ["user"]


def test_cancel_with_an_idempotency_key_twice_answers_the_first_cancel(
    api: Api, runs: Runs, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    run_id = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).body["id"]
    key = {"Idempotency-Key": "cancel-once"}
    first = api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel", headers=key)
    assert first.status == 200, first.body
    assert first.headers["idempotent-replayed"] == "false"
    again = api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel", headers=key)
    assert again.status == 200, again.body
    assert again.headers["idempotent-replayed"] == "true"
    assert again.body == first.body
    unkeyed = api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel")
    assert_error(unkeyed.body, 400, contains="Cannot cancel run with status 'cancelled'")


def test_a_keyed_cancel_that_is_refused_keeps_no_record_and_is_refused_again(
    api: Api, runs: Runs, assistant: dict[str, Any]
) -> None:
    """A keyed request that fails is not kept (its in-progress record is deleted): the same cancel, retried
    with its key, is refused again with the 400, never a 409 'in progress' nor a replay."""
    thread_id = _thread(api)
    run_id = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}).body["id"]
    assert api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel").status == 200
    key = {"Idempotency-Key": "cancel-refused"}
    for _ in range(2):
        refused = api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel", headers=key)
        assert_error(refused.body, 400, contains="Cannot cancel run with status 'cancelled'")


def test_modify_run_with_an_idempotency_key_runs_once_and_refuses_the_key_for_another_request(
    api: Api, runs: Runs, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    created_with = {"Idempotency-Key": "create-run"}
    run_id = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}, headers=created_with).body[
        "id"
    ]
    path = f"/threads/{thread_id}/runs/{run_id}"
    key = {"Idempotency-Key": "modify-once"}
    first = api("POST", path, {"metadata": {"k": "a"}}, headers=key)
    assert first.status == 200, first.body
    again = api("POST", path, {"metadata": {"k": "a"}}, headers=key)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.body == first.body
    other_body = api("POST", path, {"metadata": {"k": "b"}}, headers=key)
    assert_error(other_body.body, 400, param="Idempotency-Key", contains="already used")
    create_key_reused = api("POST", path, {"metadata": {"k": "c"}}, headers=created_with)
    assert_error(create_key_reused.body, 400, param="Idempotency-Key", contains="already used")
    cancel_key_reused = api("POST", f"{path}/cancel", headers=key)
    assert_error(cancel_key_reused.body, 400, param="Idempotency-Key", contains="already used")
    assert api("GET", path).body["metadata"] == {"k": "a"}
    assert api("GET", path).body["status"] == "queued"


def test_a_late_unkeyed_retry_of_a_submit_after_the_next_tool_round_is_answered_with_the_run(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    thread_id, run_id = _waiting_for_a_tool(api, runs, model, assistant)
    outputs = {"tool_outputs": [{"tool_call_id": "call_1", "output": "18C"}]}
    path = f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"
    assert api("POST", path, outputs).body["status"] == "queued"
    model.replies = [ChatResult(None, [ToolCall("call_2", "get_weather", "{}")], "tool_calls", USAGE)]
    runs.work()
    before = api("GET", f"/threads/{thread_id}/runs/{run_id}").body
    assert before["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"] == "call_2"
    asked = len(model.requests)

    late = api("POST", path, outputs)
    assert late.status == 200, late.body
    assert late.body == before
    assert runs.queued == []
    assert api("GET", f"/threads/{thread_id}/runs/{run_id}").body == before
    assert len(model.requests) == asked
    other = api("POST", path, {"tool_outputs": [{"tool_call_id": "call_1", "output": "other"}]})
    assert_error(other.body, 400, param="tool_outputs", contains="Expected tool outputs for call_ids ['call_2']")


def test_a_keyed_streaming_create_retried_after_the_run_ended_tells_each_event_as_the_run_was_then(
    api: Api, runs: Runs, assistant: dict[str, Any]
) -> None:
    thread_id = _thread(api)
    runs.immediate = True
    key = {"Idempotency-Key": "stream-once"}
    body = {"assistant_id": assistant["id"], "stream": True}
    first = events(api("POST", f"/threads/{thread_id}/runs", body, headers=key).body)
    assert names(first)[-2:] == ["thread.run.completed", "done"]
    retried = events(api("POST", f"/threads/{thread_id}/runs", body, headers=key).body)
    assert_valid_events(retried)
    statuses = {name: data["status"] for name, data in retried if name.startswith("thread.run.") and "step" not in name}
    assert statuses == {
        "thread.run.created": "queued",
        "thread.run.queued": "queued",
        "thread.run.in_progress": "in_progress",
        "thread.run.completed": "completed",
    }
    created = retried[0][1]
    assert created["id"] == first[0][1]["id"]
    assert [created[k] for k in ("started_at", "completed_at", "usage")] == [None, None, None]
    assert created["expires_at"] is not None
    assert len(api("GET", f"/threads/{thread_id}/runs").body["data"]) == 1
    runs.refuse = True  # the worker cannot be asked: a run that has ended is not failed for that
    again = events(api("POST", f"/threads/{thread_id}/runs", body, headers=key).body)
    assert names(again)[-2:] == ["thread.run.completed", "done"]
    assert api("GET", f"/threads/{thread_id}/runs/{created['id']}").body["status"] == "completed"


def test_a_keyed_streaming_create_refuses_its_key_for_another_request_and_streams_again_for_its_own(
    api: Api, runs: Runs, assistant: dict[str, Any]
) -> None:
    """The stream is not kept, but the key's request is: the same key on another route (or with another body)
    is a 400, while the same streamed request retried runs again and finds the run the first one made."""
    thread_id = _thread(api)
    runs.immediate = True
    key = {"Idempotency-Key": "stream-then-reuse"}
    body = {"assistant_id": assistant["id"], "stream": True}
    first = events(api("POST", f"/threads/{thread_id}/runs", body, headers=key).body)
    run_id = first[0][1]["id"]
    path = f"/threads/{thread_id}/runs/{run_id}"
    for method_path, reused_with in [
        (path, {"metadata": {"k": "v"}}),
        (f"{path}/cancel", None),
        (f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}),
    ]:
        refused = api("POST", method_path, reused_with, headers=key)
        assert refused.status == 400, refused.body
        assert_error(refused.body, 400, param="Idempotency-Key", contains="already used")
        assert refused.body["error"]["code"] == "idempotency_key_reused"
    again = events(api("POST", f"/threads/{thread_id}/runs", body, headers=key).body)
    assert names(again)[-2:] == ["thread.run.completed", "done"]
    assert again[0][1]["id"] == run_id
    assert [r["id"] for r in api("GET", f"/threads/{thread_id}/runs").body["data"]] == [run_id]
    assert api("GET", path).body["metadata"] == {}
