"""file_search in runs, end to end with the official SDK (in both local modes; every response checked against
OpenAI's schemas by the e2e fixture): the issue's snippet (a store on the assistant, a file attached to the
thread's message) searched and cited; the steps' results with and without their content; the stream with an
AssistantEventHandler; a thread's vector_stores helper on create_thread_and_run; a deleted store failing the run
with its last_error while the thread takes the next run. The scripted model (``infra/ops/chat_search.py``)
searches on ``[[search:…]]`` and cites on ``[[cite:…]]``: its requests show which excerpts reached it, in order."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import pytest
from openai import AssistantEventHandler

from infra.ops.chat_server import ChatServer
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"
WARRANTY = ("warranty terms.txt", "The warranty covers parts and labour for two years from the date of purchase.\n")
RETURNS = ("returns policy.md", "# Returns\n\nThe warranty does not cover returns: bring items back within 30 days.\n")
MARKER = re.compile(r"【(\d+):(\d+)†([^】]*)】")


def _store_with(client: Any, name: str, text: str) -> tuple[Any, Any]:
    """A vector store holding one file, ingested (the SDK's upload_and_poll)."""
    store = client.vector_stores.create(name="manual")
    done = client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=(name, io.BytesIO(text.encode())), poll_interval_ms=200
    )
    assert done.status == "completed", done
    return store, done


def _attached(client: Any, name: str, text: str) -> Any:
    return client.files.create(file=(name, io.BytesIO(text.encode())), purpose="assistants")


def _searching_assistant(client: Any, store_ids: list[str]) -> Any:
    return client.beta.assistants.create(
        model="m",
        instructions="Answer from the files.",
        tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": store_ids}},
    )


def _snippet_thread(client: Any, token: str, attachment: Any) -> Any:
    """The issue's thread: a question whose attachment is searched (the thread's store, made for it)."""
    content = f"What does the warranty cover? {token} [[search:warranty cover]] [[cite:0:0,0:1]]"
    attachments = [{"file_id": attachment.id, "tools": [{"type": "file_search"}]}]
    return client.beta.threads.create(messages=[{"role": "user", "content": content, "attachments": attachments}])


def _cited(message: Any) -> list[Any]:
    """The message's file_citation annotations, each checked against the text it spans."""
    text = message.content[0].text
    for annotation in text.annotations:
        assert annotation.type == "file_citation"
        assert text.value[annotation.start_index : annotation.end_index] == annotation.text
        assert MARKER.fullmatch(annotation.text), annotation.text
    return list(text.annotations)


def _requests_with(model: ChatServer, token: str) -> list[dict[str, Any]]:
    return [r.body for r in model.requests if token in str(r.body.get("messages"))]


def test_the_snippet_searches_both_stores_and_cites_their_files(sdk: Any, server: Server, model: ChatServer) -> None:
    client = sdk(server.mint(f"fs-{uuid.uuid4().hex[:8]}"))
    store, stored = _store_with(client, *WARRANTY)
    attachment = _attached(client, *RETURNS)
    assistant = _searching_assistant(client, [store.id])
    token = uuid.uuid4().hex
    thread = _snippet_thread(client, token, attachment)
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=200)
    assert run.status == "completed", run.last_error
    [reply] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    assert {a.file_citation.file_id for a in _cited(reply)} == {stored.id, attachment.id}
    # The thread's store, made for its attachment: named in its tool_resources, gone 7 days after its last use.
    [thread_store_id] = client.beta.threads.retrieve(thread.id).tool_resources.file_search.vector_store_ids
    expiry = client.vector_stores.retrieve(thread_store_id).expires_after
    assert (expiry.anchor, expiry.days) == ("last_active_at", 7)
    results = _search_step_results(client, thread.id, run.id)
    assert {r.file_id for r in results} == {stored.id, attachment.id}
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    _assert_the_model_read_the_results_in_order(_requests_with(model, token), results)


def _search_step_results(client: Any, thread_id: str, run_id: str) -> list[Any]:
    """The run's file_search call's results: with include[], each with its excerpt; without it, none has one."""
    steps = client.beta.threads.runs.steps.list(run_id=run_id, thread_id=thread_id, order="asc", include=[INCLUDE])
    assert [s.type for s in steps.data] == ["tool_calls", "message_creation"]
    [call] = steps.data[0].step_details.tool_calls
    assert call.type == "file_search"
    assert call.file_search.ranking_options.ranker in ("auto", "default_2024_08_21")
    for result in call.file_search.results:
        [part] = result.content
        assert part.type == "text"
        assert part.text.strip()
    plain = client.beta.threads.runs.steps.retrieve(step_id=steps.data[0].id, run_id=run_id, thread_id=thread_id)
    assert all(r.content is None for r in plain.step_details.tool_calls[0].file_search.results)
    return list(call.file_search.results)


def _assert_the_model_read_the_results_in_order(requests: list[dict[str, Any]], results: list[Any]) -> None:
    """The model's second request holds the call's results as one tool message, in the step's order, each
    excerpt under its marker; the first request offered the tool."""
    first, second = requests
    assert any(t["function"]["name"] == "file_search" for t in first["tools"])
    [tool_message] = [m for m in second["messages"] if m["role"] == "tool"]
    heads = [m for m in MARKER.finditer(tool_message["content"]) if tool_message["content"][m.start() - 1] == "\n"]
    assert [(int(h.group(1)), int(h.group(2))) for h in heads] == [(0, r) for r in range(len(results))]
    for head, result in zip(heads, results, strict=True):
        assert head.group(3) == result.file_name
        assert result.content[0].text.strip()[:40] in tool_message["content"][head.end() :]


class Recorder(AssistantEventHandler):
    """What an SDK user's handler sees of a searched run's stream."""

    def __init__(self) -> None:
        super().__init__()
        self.created: list[str] = []
        self.done: list[Any] = []
        self.steps: list[Any] = []
        self.annotations: list[Any] = []

    def on_tool_call_created(self, tool_call: Any) -> None:
        self.created.append(tool_call.type)

    def on_tool_call_done(self, tool_call: Any) -> None:
        self.done.append(tool_call)

    def on_run_step_done(self, run_step: Any) -> None:
        self.steps.append(run_step)

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.annotations += delta.annotations or []


def test_a_streamed_search_tells_the_call_then_the_cited_text(sdk: Any, server: Server) -> None:
    client = sdk(server.mint(f"fs-{uuid.uuid4().hex[:8]}"))
    store, stored = _store_with(client, *WARRANTY)
    assistant = _searching_assistant(client, [store.id])
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Covered? [[search:warranty]]"}])
    handler = Recorder()
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=handler, include=[INCLUDE]
    ) as stream:
        stream.until_done()
        [final] = stream.get_final_messages()
        run = stream.get_final_run()
    assert run.status == "completed", run.last_error
    assert handler.created == ["file_search"]
    # The SDK tells a call done at each step's end and the run's (its last tool call is never cleared).
    assert {(c.type, c.id) for c in handler.done} == {("file_search", handler.done[0].id)}
    assert [s.type for s in handler.steps] == ["tool_calls", "message_creation"]
    [call] = handler.steps[0].step_details.tool_calls
    assert call.id == handler.done[0].id
    assert [r.file_id for r in call.file_search.results] == [stored.id]
    assert call.file_search.results[0].content[0].text.startswith("The warranty covers")  # include[] asked
    assert [(a.index, a.file_citation.file_id) for a in handler.annotations] == [(0, stored.id)]
    stored_message = client.beta.threads.messages.retrieve(final.id, thread_id=thread.id)
    assert final.content[0].text.value == stored_message.content[0].text.value
    assert [a.model_dump() for a in final.content[0].text.annotations] == [
        a.model_dump() for a in _cited(stored_message)
    ]


def test_create_thread_and_run_with_a_vector_stores_helper(sdk: Any, server: Server) -> None:
    client = sdk(server.mint(f"fs-{uuid.uuid4().hex[:8]}"))
    helped = _attached(client, *RETURNS)
    assistant = _searching_assistant(client, [])
    thread = {
        "messages": [{"role": "user", "content": "Returns? [[search:returns within days]]"}],
        "tool_resources": {"file_search": {"vector_stores": [{"file_ids": [helped.id]}]}},
    }
    run = client.beta.threads.create_and_run_poll(assistant_id=assistant.id, thread=thread, poll_interval_ms=200)
    assert run.status == "completed", run.last_error
    [store_id] = client.beta.threads.retrieve(run.thread_id).tool_resources.file_search.vector_store_ids
    assert [f.id for f in client.vector_stores.files.list(vector_store_id=store_id)] == [helped.id]
    [reply] = client.beta.threads.messages.list(thread_id=run.thread_id, run_id=run.id).data
    assert [a.file_citation.file_id for a in _cited(reply)] == [helped.id]


def test_a_deleted_store_fails_the_run_and_the_thread_takes_the_next(sdk: Any, server: Server) -> None:
    client = sdk(server.mint(f"fs-{uuid.uuid4().hex[:8]}"))
    store, _ = _store_with(client, *WARRANTY)
    assistant = _searching_assistant(client, [store.id])
    client.vector_stores.delete(store.id)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Covered? [[search:warranty]]"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=200)
    assert run.status == "failed"
    assert run.last_error.code == "invalid_prompt"
    assert store.id in run.last_error.message
    assert "tool_resources" in run.last_error.message
    plain = client.beta.assistants.create(model="m")
    again = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=plain.id, poll_interval_ms=200)
    assert again.status == "completed", again.last_error
