"""file_search runs in the handler tests: a store of a small manual, ingested by the ingestion worker under its
role, an assistant that searches it (and has a function tool beside), and the scripted model's answers of a
search round: a call of ``file_search``, then a reply that cites what it was shown."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from tests.contract.schemas import assert_valid
from tests.handlers.conftest import Api
from tests.handlers.runs_support import USAGE, Model, Runs
from tests.handlers.vector_stores_support import Ingestion, ingested, new_store
from tests.samples import WEATHER
from threads_api.providers import ChatResult, ToolCall

MANUAL = {
    "warranty terms.txt": "The warranty covers the compressor and the fan for five years from the date of purchase.",
    "cleaning.txt": "Clean the filter every month with warm water. Never use bleach on the filter.",
    "install.md": "# Installation\n\nMount the unit on a north facing wall, away from the sun.",
}
QUESTION = "What does the warranty cover?"


@dataclass
class Library:
    """The manual's store and its files (name -> file id)."""

    store_id: str
    files: dict[str, str]


@pytest.fixture
def library(api: Api, ingestion: Ingestion) -> Library:
    store_id = new_store(api, {"name": "manual"})["id"]
    return Library(store_id, ingested(api, ingestion, store_id, MANUAL))


@pytest.fixture
def searcher(api: Api, runs: Runs, library: Library) -> dict[str, Any]:
    """An assistant with file_search over the manual's store, and get_weather."""
    return new_searcher(api, library.store_id)


def new_searcher(api: Api, store_id: str | None, **body: Any) -> dict[str, Any]:
    sent = {
        "model": "gpt-4o",
        "instructions": "Answer from the files.",
        "tools": [{"type": "file_search"}, WEATHER],
        **({"tool_resources": {"file_search": {"vector_store_ids": [store_id]}}} if store_id else {}),
        **body,
    }
    reply = api("POST", "/assistants", sent)
    assert reply.status == 200, reply.body
    assert_valid(reply.body, "AssistantObject")
    return dict(reply.body)


def search_call(*queries: str, call_id: str = "call_s") -> ChatResult:
    """The model's file_search call(s): one a query, in parallel."""
    calls = [
        ToolCall(f"{call_id}{n or ''}", "file_search", json.dumps({"query": query})) for n, query in enumerate(queries)
    ]
    return ChatResult(None, calls, "tool_calls", USAGE)


def reply(text: str) -> ChatResult:
    return ChatResult(text, [], "stop", USAGE)


def thread(api: Api, text: str = QUESTION, **body: Any) -> str:
    answer = api("POST", "/threads", {"messages": [{"role": "user", "content": text}], **body})
    assert answer.status == 200, answer.body
    return str(answer.body["id"])


def start(api: Api, thread_id: str, assistant: dict[str, Any], **body: Any) -> str:
    created = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant["id"], **body})
    assert created.status == 200, created.body
    return str(created.body["id"])


def searched(
    api: Api,
    runs: Runs,
    model: Model,
    assistant: dict[str, Any],
    answers: Sequence[ChatResult | BaseException],
    **body: Any,
) -> tuple[str, dict[str, Any]]:
    """A thread asking ``QUESTION``, its run of ``assistant`` worked with the model answering ``answers``: the
    thread's id and the run as read back (schema-checked)."""
    model.replies = list(answers)
    thread_id = thread(api)
    run_id = start(api, thread_id, assistant, **body)
    runs.work()
    return thread_id, read_run(api, thread_id, run_id)


def read_run(api: Api, thread_id: str, run_id: str) -> dict[str, Any]:
    answer = api("GET", f"/threads/{thread_id}/runs/{run_id}")
    assert answer.status == 200, answer.body
    assert_valid(answer.body, "RunObject")
    return dict(answer.body)


def steps(api: Api, thread_id: str, run_id: str, query: str = "") -> list[dict[str, Any]]:
    answer = api("GET", f"/threads/{thread_id}/runs/{run_id}/steps?order=asc{query}")
    assert answer.status == 200, answer.body
    assert_valid(answer.body, "ListRunStepsResponse")
    return list(answer.body["data"])


def last_reply(api: Api, thread_id: str) -> dict[str, Any]:
    answer = api("GET", f"/threads/{thread_id}/messages?limit=1")
    assert answer.status == 200, answer.body
    assert_valid(answer.body, "ListMessagesResponse")
    return dict(answer.body["data"][0])


def tool_messages(request: dict[str, Any]) -> list[str]:
    """The ``tool`` messages' contents of a request the model was sent."""
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]
