"""How a run ends other than completed, through the real handlers: cancelled (queued, or while the model
answers), failed (the provider's error, no provider, a worker that cannot be asked, a thread given back),
incomplete (max_completion_tokens, max_prompt_tokens), expired; and a worker that died, taken up again."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.schemas import assert_error, assert_valid
from tests.handlers.conftest import Api
from tests.handlers.runs_support import USAGE, Model, Runs, _thread, _waiting_for_a_tool, assistant, model, runs
from threads_api.domain import clock
from threads_api.providers import ChatResult, ProviderError

__all__ = ["assistant", "model", "runs"]  # fixtures


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
