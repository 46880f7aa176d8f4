"""Large runs end to end, on the embedded DynamoDB through the local API (both deployed modes, every call
under its function's IAM role): instructions at their cap, a tool output at its maximum, and a reply near the
run item's bound, streamed and not. Each completes, and the thread takes its next run."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from infra.ops.chat_server import ChatServer, text
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e
INSTRUCTIONS_CAP = 256_000  # OpenAI's maximum for an assistant's instructions
TOOL_OUTPUT_MAX = 256_000  # limits.TOOL_OUTPUT_MAX_CHARS, as docs/api.md states it
REPLY = ("The reply goes on. " * 20_800)[:395_000]  # near a run item's bound, were it kept on the run


def _client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=server.key, max_retries=0, timeout=300)


def _ordinary_text(length: int) -> str:
    words = ["policy", "customer", "refund", "warranty", "invoice", "support", "order", "delivery"]
    return " ".join(words[(n * 7 + n // 3) % len(words)] for n in range(length // 6))[:length]


def _streamed_text(client: openai.OpenAI, thread_id: str, assistant_id: str) -> tuple[str, Any]:
    with client.beta.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id) as stream:
        stream.until_done()
        return "".join(
            part.text.value
            for message in stream.get_final_messages()
            for part in message.content
            if part.type == "text"
        ), stream.get_final_run()


@pytest.mark.parametrize("streamed", [False, True], ids=["polled", "streamed"])
def test_instructions_at_their_cap_complete_and_cancel(server: Server, streamed: bool) -> None:
    client = _client(server)
    assistant = client.beta.assistants.create(model="gpt-4o", instructions=_ordinary_text(INSTRUCTIONS_CAP))
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "hello"}])
    if streamed:
        said, run = _streamed_text(client, thread.id, assistant.id)
        assert said == "echo: hello"
    else:
        run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed", run.last_error
    # A run at the cap, cancelled while queued or working: a 200, never a 5xx.
    client.beta.threads.messages.create(thread.id, role="user", content="again [[slow:2]]")
    queued = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    cancelled = client.beta.threads.runs.cancel(queued.id, thread_id=thread.id)
    assert cancelled.status in ("cancelling", "cancelled")


@pytest.mark.parametrize("streamed", [False, True], ids=["polled", "streamed"])
def test_a_tool_output_at_its_maximum_completes_the_run(server: Server, streamed: bool) -> None:
    client = _client(server)
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    assistant = client.beta.assistants.create(model="gpt-4o", tools=[tool])  # type: ignore[list-item]
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "[[tool:lookup {}]]"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action"
    assert run.required_action is not None
    call = run.required_action.submit_tool_outputs.tool_calls[0]
    output = _ordinary_text(TOOL_OUTPUT_MAX)
    outputs = [{"tool_call_id": call.id, "output": output}]
    if streamed:
        with client.beta.threads.runs.submit_tool_outputs_stream(
            thread_id=thread.id,
            run_id=run.id,
            tool_outputs=outputs,  # type: ignore[arg-type]
        ) as stream:
            stream.until_done()
            run = stream.get_final_run()
    else:
        run = client.beta.threads.runs.submit_tool_outputs_and_poll(
            thread_id=thread.id,
            run_id=run.id,
            tool_outputs=outputs,  # type: ignore[arg-type]
        )
    assert run.status == "completed", run.last_error
    reply = client.beta.threads.messages.list(thread.id, run_id=run.id).data[0]
    assert reply.content[0].text.value == f"tool said: {output}"  # type: ignore[union-attr]


@pytest.mark.parametrize("streamed", [False, True], ids=["polled", "streamed"])
def test_a_reply_near_the_run_items_bound_completes_streamed_or_not(
    server: Server, model: ChatServer, streamed: bool
) -> None:
    client = _client(server)
    assistant = client.beta.assistants.create(model="gpt-4o")
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "a long answer, please"}])
    model.script(text(REPLY))
    if streamed:
        said, run = _streamed_text(client, thread.id, assistant.id)
        assert said == REPLY
    else:
        run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed", run.last_error
    reply = client.beta.threads.messages.list(thread.id, run_id=run.id).data[0]
    assert reply.content[0].text.value == REPLY  # type: ignore[union-attr]
    again = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert again.status == "completed", again.last_error
