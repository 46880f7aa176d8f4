"""Streams that stream, deployed (the functions' own runtime, read as API Gateway reads it): each piece of the
reply reaches the client through the official SDK while the model is still writing, whole and in OpenAI's
order, and a stream lasts as long as its run; a client that goes away, a cancel, and a model that fails
mid-answer each leave the run ended, with one reply at most, and its thread free."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx2 as httpx
import openai
import pytest
from openai import AssistantEventHandler

from infra.ops.chat_server import ChatServer
from tests.contract.streams import assert_valid_events, events
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


class Timed(AssistantEventHandler):
    """The SDK's event handler, with the time each text delta arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.names: list[str] = []
        self.delta_times: list[float] = []

    def on_event(self, event: Any) -> None:
        self.names.append(event.event)

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.delta_times.append(time.monotonic())
        self.text += delta.value or ""


def _last_written(model: ChatServer, since: float) -> float:
    """When the model wrote its last chunk of an answer streamed since ``since``."""
    times = [at for at, _ in model.written if at >= since]
    assert times, "the model streamed nothing"
    return max(times)


def _live_client(server: Server) -> openai.OpenAI:
    """The official SDK as an application makes it: the suite's recording client reads each response whole
    before the SDK sees it, which would hide whether a stream streams."""
    return openai.OpenAI(base_url=server.base_url, api_key=server.key, max_retries=0)


def test_each_delta_reaches_the_sdk_while_the_model_is_still_writing(server: Server, model: ChatServer) -> None:
    client = _live_client(server)
    assistant = client.beta.assistants.create(model="gpt-4o")
    said = " ".join(WORDS)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": f"{said} [[pace:0.25]]"}])
    handler = Timed()
    started = time.monotonic()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=handler) as s:
        s.until_done()
    assert handler.text == f"echo: {said}"
    assert handler.delta_times, "no delta"
    # The first piece came while the model had most of its answer still to write (0.25 s a word).
    assert handler.delta_times[0] < _last_written(model, started) - 1.0
    assert len(handler.delta_times) >= len(WORDS) // 2, "the reply came in pieces, not at once"
    assert handler.names[-1] == "thread.run.completed"


def test_submit_tool_outputs_stream_streams_the_answer_after_the_tools(sdk: Any) -> None:
    client = sdk()
    assistant = client.beta.assistants.create(
        model="gpt-4o", tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    )
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "[[tool:get_weather {}]]"}])
    first = Timed()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=first) as s:
        s.until_done()
    run = first.current_run
    assert run is not None
    assert run.status == "requires_action"
    assert first.names[-1] == "thread.run.requires_action"
    assert run.required_action is not None
    call = run.required_action.submit_tool_outputs.tool_calls[0]
    second = Timed()
    with client.beta.threads.runs.submit_tool_outputs_stream(
        thread_id=thread.id,
        run_id=run.id,
        tool_outputs=[{"tool_call_id": call.id, "output": "sunny"}],
        event_handler=second,
    ) as s:
        s.until_done()
    assert second.text == "tool said: sunny"
    assert second.names[0] == "thread.run.step.completed"  # the tool step its outputs completed
    assert second.names[-1] == "thread.run.completed"


def _raw_stream(server: Server, path: str, body: dict[str, Any]) -> httpx.Response:
    client = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.key}"}, timeout=60)
    return client.send(client.build_request("POST", path, json=body), stream=True)


def _wait_ended(client: Any, thread_id: str, run_id: str, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        run = client.beta.threads.runs.retrieve(run_id, thread_id=thread_id)
        if run.status in ("completed", "failed", "cancelled", "expired", "incomplete", "requires_action"):
            return run
        assert time.monotonic() < deadline, f"the run is still {run.status}"
        time.sleep(0.2)


def test_a_client_that_goes_away_mid_stream_leaves_a_run_that_completes_with_one_reply(
    sdk: Any, server: Server
) -> None:
    client = sdk()
    assistant = client.beta.assistants.create(model="gpt-4o")
    thread = client.beta.threads.create(messages=[{"role": "user", "content": f"{' '.join(WORDS)} [[pace:0.2]]"}])
    response = _raw_stream(server, f"/threads/{thread.id}/runs", {"assistant_id": assistant.id, "stream": True})
    text = ""
    for piece in response.iter_text():
        text += piece
        if "thread.message.delta" in text:
            break  # the client goes away with most of the reply still to come
    response.close()
    run_id = events(text.split("event: thread.message.delta")[0])[0][1]["id"]
    run = _wait_ended(client, thread.id, run_id)
    assert run.status == "completed"
    replies = [m for m in client.beta.threads.messages.list(thread.id).data if m.role == "assistant"]
    assert len(replies) == 1
    assert replies[0].content[0].text.value == f"echo: {' '.join(WORDS)}"
    # The thread is free: it takes a new run.
    again = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert again.status == "completed"


def test_a_cancel_during_a_stream_ends_the_stream_with_the_run_cancelled(sdk: Any, server: Server) -> None:
    client = sdk()
    assistant = client.beta.assistants.create(model="gpt-4o")
    thread = client.beta.threads.create(messages=[{"role": "user", "content": f"{' '.join(WORDS)} [[pace:0.5]]"}])
    response = _raw_stream(server, f"/threads/{thread.id}/runs", {"assistant_id": assistant.id, "stream": True})
    text, cancelled = "", False
    for piece in response.iter_text():
        text += piece
        if not cancelled and "thread.message.delta" in text:
            run_id = events(text.split("event: thread.message.delta")[0])[0][1]["id"]
            client.beta.threads.runs.cancel(run_id, thread_id=thread.id)
            cancelled = True
    stream = events(text)
    assert_valid_events(stream)
    assert [name for name, _ in stream][-2:] == ["thread.run.cancelled", "done"]
    assert client.beta.threads.runs.retrieve(run_id, thread_id=thread.id).status == "cancelled"


@pytest.mark.slow
def test_a_stream_longer_than_api_gateways_29_seconds_arrives_whole(server: Server) -> None:
    """A buffered answer ends at API Gateway's 29 s; a streamed one goes on (here 31 s of answer)."""
    client = _live_client(server)
    assistant = client.beta.assistants.create(model="gpt-4o")
    words = [f"w{n}-{uuid.uuid4().hex[:4]}" for n in range(31)]
    thread = client.beta.threads.create(messages=[{"role": "user", "content": f"{' '.join(words)} [[pace:1]]"}])
    handler = Timed()
    started = time.monotonic()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=handler) as s:
        s.until_done()
    assert time.monotonic() - started > 30
    assert handler.text == f"echo: {' '.join(words)}"
    assert handler.names[-1] == "thread.run.completed"


@pytest.mark.slow
def test_a_model_silent_past_api_gateways_idle_timeout_keeps_the_stream_alive(sdk: Any, server: Server) -> None:
    """The model says nothing for 35 s (the edge-optimized endpoint's idle timeout is 30 s): keep-alive
    comments hold the stream open, and the answer arrives whole after them."""
    client = sdk()
    assistant = client.beta.assistants.create(model="gpt-4o")
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "thinking [[slow:35]]"}])
    response = _raw_stream(server, f"/threads/{thread.id}/runs", {"assistant_id": assistant.id, "stream": True})
    text = "".join(response.iter_text())
    response.close()
    assert ": keep-alive" in text
    stream = events(text)
    assert_valid_events(stream)
    assert [name for name, _ in stream][-2:] == ["thread.run.completed", "done"]


def test_create_and_run_stream_streams_a_new_threads_reply(server: Server, model: ChatServer) -> None:
    """``threads.create_and_run_stream``: the thread, then its run's events, each delta as the model writes."""
    client = _live_client(server)
    assistant = client.beta.assistants.create(model="gpt-4o")
    said = " ".join(WORDS)
    handler = Timed()
    started = time.monotonic()
    with client.beta.threads.create_and_run_stream(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": f"{said} [[pace:0.25]]"}]},
        event_handler=handler,
    ) as stream:
        stream.until_done()
    assert handler.text == f"echo: {said}"
    assert handler.delta_times[0] < _last_written(model, started) - 1.0
    assert handler.names[0] == "thread.created"
    assert handler.names[-1] == "thread.run.completed"
