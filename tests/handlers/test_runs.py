"""Runs through the real handlers on moto: the API functions and the worker, each under its own IAM role, with
a scripted model in place of a provider. The worker's invocation is queued, and the test runs it (``work``).

Here: a run created and completed, one active run per thread, lists and metadata, a keyed create, bad bodies,
additional messages, and creations too large for one transaction."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.schemas import assert_error, assert_valid
from tests.handlers.conftest import Api
from tests.handlers.runs_support import Model, Runs, _thread, assistant, model, runs

__all__ = ["assistant", "model", "runs"]  # fixtures


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
