"""Runs in the handler tests: a scripted model in place of a provider, and the worker's invocations queued
for the test to run (``Runs.work``), each under the worker's IAM role."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.handlers.conftest import Api
from tests.samples import WEATHER
from threads_api.providers import ChatResult, OnText, ShouldStop, ToolCall, Usage

USAGE = Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15)


class Model:
    """A scripted provider: answers from ``replies`` in turn (a ChatResult, or an exception raised)."""

    def __init__(self) -> None:
        self.replies: list[ChatResult | BaseException] = []
        self.requests: list[dict[str, Any]] = []
        self.streamed: list[bool] = []  # per request: whether it was asked as a stream

    def complete(
        self,
        request: dict[str, Any],
        *,
        deadline: float,
        stream: bool = False,
        on_text: OnText | None = None,
        should_stop: ShouldStop | None = None,
    ) -> ChatResult:
        self.requests.append(request)
        self.streamed.append(stream)
        reply = self.replies.pop(0) if self.replies else ChatResult("Hello!", [], "stop", USAGE)
        if isinstance(reply, BaseException):
            raise reply
        if on_text is not None and reply.text:  # a streamed answer: its text so far, a few characters at a time
            for end in range(3, len(reply.text), 3):
                on_text(reply.text[:end])
        return reply


class Runs:
    """The worker's side: invocations the API functions queued, and running them."""

    def __init__(self, api: Api, model: Model) -> None:
        self.api = api
        self.model = model
        self.queued: list[dict[str, Any]] = []
        self.immediate = False  # run the worker inside the invocation (for stream: true, which waits for it)
        self.refuse = False  # Lambda unreachable

    def invoke(self, **params: Any) -> dict[str, Any]:
        assert params["InvocationType"] == "Event"
        if self.refuse:
            raise ConnectionError("Lambda unreachable")
        self.queued.append(json.loads(params["Payload"]))
        if self.immediate:
            self.work()
        return {"StatusCode": 202}

    def work(self) -> int:
        """Run every queued invocation of the worker, under its own role; the count run."""
        done = 0
        while self.queued:
            self.run(self.queued.pop(0), str(uuid.uuid4()))
            done += 1
        return done

    @staticmethod
    def run(event: dict[str, Any], request_id: str) -> None:
        """One invocation of the worker, as Lambda makes it (a retry keeps its ``request_id``)."""
        from handlers import run_worker
        from infra.local.invoke import LocalContext
        from tests import least_privilege

        with least_privilege.running("RunWorkerFunction"):
            run_worker.handler(event, LocalContext("RunWorkerFunction", request_id, timeout_seconds=900))


@pytest.fixture
def model() -> Model:
    return Model()


@pytest.fixture
def runs(api: Api, model: Model, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runs]:
    from handlers import run_worker
    from threads_api.runs import starter

    worker = Runs(api, model)
    monkeypatch.setattr(starter, "_client", lambda: worker)
    monkeypatch.setattr(run_worker, "PROVIDER", model)
    yield worker


@pytest.fixture
def assistant(api: Api, runs: Runs) -> dict[str, Any]:
    reply = api("POST", "/assistants", {"model": "gpt-4o", "instructions": "Be brief.", "tools": [WEATHER]})
    assert reply.status == 200, reply.body
    return dict(reply.body)


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
