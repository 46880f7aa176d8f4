"""Runs through the official openai SDK, as a user's code calls them, against the local API whose worker asks
a local Chat Completions server (``infra/ops/chat_server.py``: markers in the user's message script it)."""

from __future__ import annotations

import json
import uuid
import warnings
from typing import Any

import httpx2 as httpx
import openai
import pytest
from openai import AssistantEventHandler

from infra.ops.chat_server import ChatServer
from tests.contract.streams import REPLY_EVENTS, events, names, reply_text
from tests.e2e.conftest import Server
from tests.samples import WEATHER

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
warnings.filterwarnings("ignore", category=DeprecationWarning)

POLL_MS = 100
# How long the worker may take to ask the model for a run's answer (a deployed mode's worker may start cold on
# a slow machine): a bound that only a failure reaches, the test goes on as soon as the model is asked.
HELD_WITHIN_SECONDS = 120


def _assistant(client: Any) -> Any:
    return client.beta.assistants.create(model="gpt-4o-mini", instructions="You are terse.", tools=[WEATHER])


def test_create_and_poll_completes_with_the_models_reply_in_the_thread(sdk: Any, model: ChatServer) -> None:
    client = sdk()
    assistant = _assistant(client)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hello there"}])
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=POLL_MS
    )
    assert run.status == "completed"
    assert run.usage is not None
    assert run.usage.total_tokens > 0
    reply = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    assert [m.content[0].text.value for m in reply] == ["echo: Hello there"]
    assert reply[0].assistant_id == assistant.id
    assert reply[0].run_id == run.id
    (step,) = client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data
    assert step.type == "message_creation"
    assert step.step_details.message_creation.message_id == reply[0].id
    sent = [r for r in model.requests if any("Hello there" in str(m.get("content")) for m in r.body["messages"])]
    assert sent[-1].body["model"] == "gpt-4o-mini"
    assert sent[-1].body["messages"][0] == {"role": "system", "content": "You are terse."}


def test_the_tool_round_trip_of_the_assistants_era_works_unchanged(sdk: Any) -> None:
    client = sdk()
    assistant = _assistant(client)
    thread = client.beta.threads.create()
    client.beta.threads.messages.create(
        thread.id, role="user", content='Weather? [[tool:get_weather {"city": "Paris"}]]'
    )
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=POLL_MS
    )
    assert run.status == "requires_action"
    assert run.required_action is not None
    (call,) = run.required_action.submit_tool_outputs.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id,
        thread_id=thread.id,
        tool_outputs=[{"tool_call_id": call.id, "output": "18C"}],
        poll_interval_ms=POLL_MS,
    )
    assert run.status == "completed"
    messages = client.beta.threads.messages.list(thread_id=thread.id, order="asc").data
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].content[0].text.value == "tool said: 18C"
    steps = client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data
    assert [s.type for s in steps] == ["tool_calls", "message_creation"]
    assert steps[0].step_details.tool_calls[0].function.output == "18C"


class Collector(AssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.events: list[str] = []
        self.tool_calls: list[Any] = []

    def on_event(self, event: Any) -> None:
        self.events.append(event.event)

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.text += delta.value or ""


def test_streaming_with_an_event_handler(sdk: Any) -> None:
    """A run streamed to the SDK's event handler (a tool round streamed, submit_tool_outputs_stream, is
    tests/e2e/test_streaming.py's)."""
    client = sdk()
    assistant = _assistant(client)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Stream me"}])
    handler = Collector()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=handler) as s:
        s.until_done()
    assert handler.text == "echo: Stream me"
    assert handler.events[:3] == ["thread.run.created", "thread.run.queued", "thread.run.in_progress"]
    assert handler.events[-1] == "thread.run.completed"
    assert handler.current_run is not None
    assert handler.current_run.status == "completed"


def test_create_thread_and_run_then_poll(sdk: Any) -> None:
    client = sdk()
    assistant = _assistant(client)
    run = client.beta.threads.create_and_run_poll(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": "New thread"}]},
        poll_interval_ms=POLL_MS,
    )
    assert run.status == "completed"
    (reply, question) = client.beta.threads.messages.list(thread_id=run.thread_id).data
    assert reply.content[0].text.value == "echo: New thread"
    assert question.role == "user"


def test_cancel_stops_a_run_whose_model_is_still_answering(sdk: Any, model: ChatServer) -> None:
    """The model's answer is held (the chat server's ``[[hold:NAME]]``) until the cancel has landed, however
    slow the machine: no race with a fixed delay. tests/handlers/test_runs.py has its in-process twin."""
    client = sdk()
    assistant = _assistant(client)
    gate = f"cancel-{uuid.uuid4().hex}"
    thread = client.beta.threads.create(messages=[{"role": "user", "content": f"Take your time [[hold:{gate}]]"}])
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    try:
        assert model.wait_held(gate, HELD_WITHIN_SECONDS), "the worker never asked the model"
        run = client.beta.threads.runs.retrieve(run.id, thread_id=thread.id)
        assert run.status == "in_progress"
        assert client.beta.threads.runs.cancel(run.id, thread_id=thread.id).status == "cancelling"
    finally:
        model.release(gate)  # the model answers now: the worker finds the run cancelled
    run = client.beta.threads.runs.poll(run.id, thread_id=thread.id, poll_interval_ms=POLL_MS)
    assert run.status == "cancelled"
    assert run.cancelled_at is not None
    # The lock is released: the thread takes messages and runs again.
    client.beta.threads.messages.create(thread.id, role="user", content="Still there?")
    again = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=POLL_MS
    )
    assert again.status == "completed"


@pytest.mark.parametrize(
    ("marker", "code"),
    [("[[error:429]]", "rate_limit_exceeded"), ("[[error:500]]", "server_error"), ("[[error:400]]", "invalid_prompt")],
)
def test_a_provider_that_keeps_failing_fails_the_run_with_openais_code(sdk: Any, marker: str, code: str) -> None:
    client = sdk()
    assistant = _assistant(client)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": f"Fail {marker}"}])
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=POLL_MS
    )
    assert run.status == "failed"
    assert run.last_error is not None
    assert run.last_error.code == code


def test_a_provider_that_recovers_after_two_429s_completes_the_run(sdk: Any) -> None:
    client = sdk()
    assistant = _assistant(client)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Busy [[error:429*2]]"}])
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=POLL_MS
    )
    assert run.status == "completed"
    assert client.beta.threads.messages.list(thread_id=thread.id).data[0].content[0].text.value == "echo: Busy"


def test_one_active_run_per_thread_with_openais_400s(sdk: Any, model: ChatServer) -> None:
    """The run stays active (its model's answer held by ``[[hold:NAME]]``) until both refusals were seen, however
    slow the machine. tests/handlers/test_runs.py has its in-process twin."""
    client = sdk()
    assistant = _assistant(client)
    gate = f"active-{uuid.uuid4().hex}"
    thread = client.beta.threads.create(messages=[{"role": "user", "content": f"Slowly [[hold:{gate}]]"}])
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    try:
        with pytest.raises(openai.BadRequestError) as refused:
            client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
        with pytest.raises(openai.BadRequestError) as busy:
            client.beta.threads.messages.create(thread.id, role="user", content="hello?")
    finally:
        model.release(gate)
    assert refused.value.status_code == 400
    assert f"already has an active run {run.id}" in str(refused.value)
    assert busy.value.status_code == 400
    assert "while a run" in str(busy.value)
    assert client.beta.threads.runs.poll(run.id, thread_id=thread.id, poll_interval_ms=POLL_MS).status == "completed"


def test_a_raw_stream_request_answers_event_stream_in_openais_order(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.key}", "OpenAI-Beta": "assistants=v2"}
    assistant = httpx.post(f"{server.base_url}/assistants", json={"model": "m"}, headers=headers).json()
    thread = httpx.post(
        f"{server.base_url}/threads", json={"messages": [{"role": "user", "content": "raw"}]}, headers=headers
    ).json()
    response = httpx.post(
        f"{server.base_url}/threads/{thread['id']}/runs",
        json={"assistant_id": assistant["id"], "stream": True},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    stream = events(response.text)
    assert names(stream) == REPLY_EVENTS
    assert reply_text(stream) == "echo: raw"
