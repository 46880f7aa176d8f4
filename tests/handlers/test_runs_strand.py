"""Runs that never strand, through the real handlers on moto: whatever a worker meets, its claim included, the
run ends with a ``last_error`` and its thread is released; every tool call handed out can be answered. The
embedded DynamoDB sizes items as DynamoDB does. Runs at the size limits: test_runs_sizes.py."""

from __future__ import annotations

import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.contract.streams import events
from tests.deployed.test_local_dynamodb import assert_item_size_rule
from tests.handlers.conftest import Api
from tests.handlers.runs_support import USAGE, Model, Runs, assistant, model, runs
from threads_api.domain.records import Run
from threads_api.providers import ChatResult, ToolCall

__all__ = ["assistant", "model", "runs"]  # fixtures

PROJECT = "alpha"  # the default key's


def _thread(api: Api, text: str = "What is the weather in Paris?") -> str:
    reply = api("POST", "/threads", {"messages": [{"role": "user", "content": text}]})
    return str(reply.body["id"])


def _run(api: Api, thread_id: str, body: dict[str, Any]) -> str:
    """A new run's id (with ``stream``, from its first event: the stream ends at once, the run still queued,
    where the test's worker has not run yet)."""
    reply = api("POST", f"/threads/{thread_id}/runs", body)
    assert reply.status == 200, reply.body
    if body.get("stream") and not isinstance(reply.body, dict):
        name, created = events(reply.body)[0]
        assert name == "thread.run.created"
        return str(created["id"])
    return str(reply.body["id"])


def _get(api: Api, thread_id: str, run_id: str) -> dict[str, Any]:
    return dict(api("GET", f"/threads/{thread_id}/runs/{run_id}").body)


# -- 1. the embedded DynamoDB's item size ------------------------------------------------------------------------


def test_the_handler_tests_moto_checks_an_items_size_as_dynamodb_does(dynamodb: Any) -> None:
    """The same rule as the local API's moto (tests/deployed/test_local_dynamodb.py): the item as the write leaves
    it, its local index entry included; a replaced value is not counted twice."""
    assert_item_size_rule(dynamodb, os.environ["TABLE_NAME"])


# -- 2. a claim that fails ---------------------------------------------------------------------------------------


def test_a_claim_that_fails_on_a_store_error_fails_the_run_at_once_and_releases_its_thread(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from threads_api.runs import claim
    from threads_api.store.runs import save_run as save

    thread_id = _thread(api)
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"]})
    failures: list[str] = []

    def fails_once(*args: Any, **kwargs: Any) -> Run:
        if not failures:
            failures.append("claim")
            error = {"Error": {"Code": "ValidationException", "Message": "Item size has exceeded the maximum"}}
            raise ClientError(error, "TransactWriteItems")  # type: ignore[arg-type]
        return save(*args, **kwargs)

    monkeypatch.setattr(claim, "save_run", fails_once)
    runs.work()
    run = _get(api, thread_id, run_id)
    assert (run["status"], run["last_error"]["code"]) == ("failed", "server_error")
    assert run["failed_at"] is not None
    assert model.requests == []  # the model was never asked
    assert _run(api, thread_id, {"assistant_id": assistant["id"]})  # the thread is free


def test_a_claim_whose_failure_cannot_be_recorded_either_is_logged_and_the_worker_returns(
    api: Api, runs: Runs, assistant: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from threads_api.runs import claim

    thread_id = _thread(api)
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"]})

    def fails(*args: Any, **kwargs: Any) -> Run:
        raise ConnectionError("the store is gone")

    monkeypatch.setattr(claim, "save_run", fails)
    runs.work()  # no exception out of the worker
    assert _get(api, thread_id, run_id)["status"] == "queued"  # it expires at its expires_at
    assert {"run not claimed", "run not failed"} <= {r.getMessage() for r in caplog.records}


# -- 6. a tool call id longer than 64 characters -----------------------------------------------------------------


@pytest.mark.parametrize("length", [100, 256])
def test_a_long_tool_call_id_is_handed_out_as_given_and_answered(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any], length: int
) -> None:
    call_id = ("call_" + "x" * length)[:length]
    thread_id = _thread(api)
    model.replies = [ChatResult(None, [ToolCall(call_id, "get_weather", "{}")], "tool_calls", USAGE)]
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"]})
    runs.work()
    (asked,) = _get(api, thread_id, run_id)["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert asked["id"] == call_id
    path = f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"
    submitted = api("POST", path, {"tool_outputs": [{"tool_call_id": call_id, "output": "18C"}]})
    assert submitted.status == 200, submitted.body
    runs.work()
    assert _get(api, thread_id, run_id)["status"] == "completed"
    assert model.requests[1]["messages"][-1] == {"role": "tool", "tool_call_id": call_id, "content": "18C"}


def test_a_tool_call_id_longer_than_any_answer_may_name_is_handed_out_as_a_short_one_and_answered(
    api: Api, runs: Runs, model: Model, assistant: dict[str, Any]
) -> None:
    call_id = "call_" + "y" * 5_000
    thread_id = _thread(api)
    model.replies = [ChatResult(None, [ToolCall(call_id, "get_weather", "{}")], "tool_calls", USAGE)]
    run_id = _run(api, thread_id, {"assistant_id": assistant["id"]})
    runs.work()
    (asked,) = _get(api, thread_id, run_id)["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert asked["id"].startswith("call_")
    assert len(asked["id"]) <= 64
    path = f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"
    submitted = api("POST", path, {"tool_outputs": [{"tool_call_id": asked["id"], "output": "18C"}]})
    assert submitted.status == 200, submitted.body
    runs.work()
    assert _get(api, thread_id, run_id)["status"] == "completed"
    sent = model.requests[1]["messages"]
    assert sent[-2]["tool_calls"][0]["id"] == sent[-1]["tool_call_id"] == asked["id"]
