"""What the model is asked of a run with file_search: the tool offered as a function, then withheld after the
run's 8 searches; ``tool_choice`` as the model can take it; a search round rebuilt from its step and its
records (the calls as functions, the excerpts under their markers, a mixed step as one assistant message and
its tool messages in the calls' order). Every request is a valid ``CreateChatCompletionRequest``."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from tests.contract.schemas import assert_valid
from tests.unit.test_run_lifecycle import NOW, _assistant, _body
from threads_api.domain import file_search, lifecycle
from threads_api.domain.file_search import SearchRecord
from threads_api.domain.records import JsonObject, Message, Run
from threads_api.runs import chat

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
SEARCH = {"type": "file_search"}
QUESTION = Message(
    "msg_1",
    "thread_1",
    NOW,
    "user",
    [{"type": "text", "text": {"value": "What does the warranty cover?", "annotations": []}}],
    [],
    {},
)


def _run(tools: list[JsonObject], **given: Any) -> Run:
    return lifecycle.new_run("thread_1", _assistant(tools=tools), _body(**given), "run_1", NOW)


def _search_step(run: Run, index: int, calls: list[JsonObject]) -> JsonObject:
    step = lifecycle.step(run, f"step_{index}", "tool_calls", calls, NOW, None)
    return step | {"status": "completed", "completed_at": NOW}


def _found(call_id: str, results: list[tuple[str, str]]) -> JsonObject:
    shown = [{"file_id": f, "file_name": name, "score": 0.5} for f, name in results]
    return file_search.search_call(call_id, file_search.Options(), shown)


def _request(run: Run, searches: dict[tuple[str, int], SearchRecord] | None = None) -> JsonObject:
    body = chat.request(run, [QUESTION], {}, None, searches)
    assert_valid(body, "CreateChatCompletionRequest")
    return body


def _names(body: JsonObject) -> list[str]:
    return [t["function"]["name"] for t in body.get("tools") or []]


def test_file_search_is_offered_as_a_function_beside_the_runs_functions() -> None:
    body = _request(_run([WEATHER, SEARCH]))
    assert _names(body) == ["get_weather", "file_search"]
    assert body["tools"][1] == file_search.chat_tool()
    assert body["tool_choice"] == "auto"
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}  # no text added to the instructions


def test_after_eight_searches_the_tool_stays_for_the_history_and_alone_is_not_to_be_called() -> None:
    """Spent searches keep the tool in the request (a provider may refuse a history of tool calls without it:
    Bedrock's Converse does) with ``tool_choice: none`` when it is the only tool."""
    run = _run([SEARCH])
    steps = [_search_step(run, i, [_found(f"call_{i}", [])]) for i in range(file_search.SEARCH_CALLS_MAX)]
    records = {(f"step_{i}", 0): SearchRecord(json.dumps({"query": f"q{i}"}), ()) for i in range(8)}
    body = _request(dataclasses.replace(run, steps=steps[:7]), dict(list(records.items())[:7]))
    assert _names(body) == ["file_search"]
    body = _request(dataclasses.replace(run, steps=steps), records)
    assert _names(body) == ["file_search"]
    assert body["tool_choice"] == "none"
    with_weather = dataclasses.replace(_run([WEATHER, SEARCH]), steps=steps)
    weather_body = _request(with_weather, records)
    assert _names(weather_body) == ["get_weather", "file_search"]
    assert weather_body["tool_choice"] == "auto"


@pytest.mark.parametrize(
    ("given", "before", "after"),
    [
        ({"type": "file_search"}, {"type": "function", "function": {"name": "file_search"}}, "auto"),
        ("required", "required", "auto"),
        ({"type": "function", "function": {"name": "get_weather"}}, None, "auto"),
        ("none", "none", "none"),
        ("auto", "auto", "auto"),
    ],
)
def test_tool_choice_names_file_search_as_a_function_and_after_a_search_forces_nothing(
    given: Any, before: Any, after: Any
) -> None:
    run = _run([WEATHER, SEARCH], tool_choice=given)
    assert _request(run)["tool_choice"] == (given if before is None else before)
    searched = dataclasses.replace(run, steps=[_search_step(run, 0, [_found("call_0", [])])])
    records = {("step_0", 0): SearchRecord('{"query": "warranty"}', ())}
    assert _request(searched, records)["tool_choice"] == after


def test_a_mixed_round_is_one_assistant_message_and_its_tool_messages_in_the_calls_order() -> None:
    run = _run([WEATHER, SEARCH])
    function = {
        "id": "call_w",
        "type": "function",
        "function": {"name": "get_weather", "arguments": "{}", "output": "18C"},
    }
    first = _search_step(run, 0, [_found("call_a", [("file-1", "warranty terms.txt")])])
    mixed = _search_step(run, 1, [_found("call_b", [("file-2", "faq.md"), ("file-1", "warranty terms.txt")]), function])
    records = {
        ("step_0", 0): SearchRecord('{"query": "warranty"}', ("Parts are covered for two years.",)),
        ("step_1", 0): SearchRecord('{"queries": ["faq", "cover"]}', ("See the FAQ.", "Labour is covered too.")),
    }
    body = _request(dataclasses.replace(run, steps=[first, mixed]), records)
    messages = body["messages"][2:]  # after the system message and the question
    assert [m["role"] for m in messages] == ["assistant", "tool", "assistant", "tool", "tool"]
    assert messages[2]["tool_calls"] == [
        {
            "id": "call_b",
            "type": "function",
            "function": {"name": "file_search", "arguments": '{"queries": ["faq", "cover"]}'},
        },
        {"id": "call_w", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
    ]
    assert [m["tool_call_id"] for m in messages[3:]] == ["call_b", "call_w"]
    assert messages[4]["content"] == "18C"
    shown = messages[3]["content"]
    assert shown.startswith('file_search results for "faq", "cover" (2 excerpts, best first).')
    # Numbered across the run's searches: this is its second (1), its excerpts 0 and 1, in the results' order.
    assert (
        shown.index("【1:0†faq.md】 file file-2")
        < shown.index("See the FAQ.")
        < shown.index("【1:1†warranty terms.txt】")
    )
    assert "【0:0†warranty terms.txt】 file file-1" in messages[1]["content"]


def test_a_call_answered_without_excerpts_is_answered_the_same_when_rebuilt() -> None:
    run = _run([SEARCH])
    calls = [_found("call_a", []), _found("call_b", []), _found("call_c", [])]
    records = {
        ("step_0", 0): SearchRecord("not json", (file_search.BAD_ARGUMENTS,)),
        ("step_0", 1): SearchRecord('{"query": "x"}', (file_search.NO_STORES,)),
        ("step_0", 2): SearchRecord('{"query": "nothing here"}', ()),
    }
    body = _request(dataclasses.replace(run, steps=[_search_step(run, 0, calls)]), records)
    answers = [m["content"] for m in body["messages"] if m["role"] == "tool"]
    assert answers == [file_search.BAD_ARGUMENTS, file_search.NO_STORES, file_search.nothing_found(["nothing here"])]


def test_a_search_step_without_its_record_is_not_sent_half_rebuilt() -> None:
    run = _run([SEARCH])
    searched = dataclasses.replace(run, steps=[_search_step(run, 0, [_found("call_a", [])])])
    with pytest.raises(LookupError):
        chat.request(searched, [QUESTION], {}, None, {})
