"""The scripted model's file_search markers (infra/ops/chat_search.py): searches called round by round, parallel
calls, the answer that cites the excerpts the tool messages gave (its markers resolve as the run's annotations
resolve them), the search of a marker-less message when the request offers file_search, and a streamed answer
that splits a marker across chunks."""

from __future__ import annotations

import json
from typing import Any

from infra.ops.chat_search import offered, search_reply
from infra.ops.chat_server import ChatServer
from tests.unit.provider_support import provider, soon
from threads_api.domain import citations, file_search
from threads_api.providers import ToolCall

FILES = {"file-warranty": "warranty terms.txt", "file-faq": "faq.md"}
EXCERPTS = {
    "file-warranty": "Parts and labour are covered for two years from the date of purchase, anywhere.",
    "file-faq": "Returns are accepted within thirty days with the receipt.",
}
TOOLS = [file_search.chat_tool()]


def _results(number: int, query: str, file_ids: list[str]) -> str:
    """The tool message the worker writes for a call (the domain's own text)."""
    results = [{"file_id": f, "file_name": FILES[f], "score": 0.9 - n / 10} for n, f in enumerate(file_ids)]
    return file_search.results_text(number, [query], results, [EXCERPTS[f] for f in file_ids])


def _answered(messages: list[dict[str, Any]], calls: list[ToolCall], found: list[list[str]]) -> list[dict[str, Any]]:
    """The conversation after a round: the assistant's calls, then one tool message each (numbered on)."""
    number = sum(1 for m in messages if m["role"] == "tool")
    made = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in calls]
    tools = [
        {"role": "tool", "tool_call_id": c.id, "content": _results(number + n, json.loads(c.arguments)["query"], f)}
        for n, (c, f) in enumerate(zip(calls, found, strict=True))
    ]
    return [*messages, {"role": "assistant", "content": None, "tool_calls": made}, *tools]


def _ask(server: ChatServer, messages: list[dict[str, Any]], **extra: Any) -> Any:
    return provider(server).complete({"model": "m", "messages": messages, "tools": TOOLS, **extra}, deadline=soon())


def test_a_search_marker_calls_file_search_then_the_answer_cites_the_first_excerpt(server: ChatServer) -> None:
    asked = [{"role": "user", "content": "What is covered? [[search:warranty coverage]]"}]
    result = _ask(server, asked)
    [call] = result.tool_calls
    assert (call.name, json.loads(call.arguments)) == ("file_search", {"query": "warranty coverage"})
    answer = _ask(server, _answered(asked, [call], [["file-warranty", "file-faq"]])).text
    assert answer == "From the files: Parts and labour are covered for two years 【0:0†warranty terms.txt】."
    [annotation] = citations.annotations(answer, [["file-warranty", "file-faq"]])
    assert annotation["file_citation"] == {"file_id": "file-warranty"}
    assert answer[annotation["start_index"] : annotation["end_index"]] == "【0:0†warranty terms.txt】"


def test_rounds_in_order_parallel_calls_and_the_first_excerpt_of_each_round(server: ChatServer) -> None:
    asked = [{"role": "user", "content": "[[search:warranty || returns]] [[search:receipt]] Tell me"}]
    first = _ask(server, asked).tool_calls
    assert [json.loads(c.arguments)["query"] for c in first] == ["warranty", "returns"]
    conversation = _answered(asked, first, [["file-warranty"], ["file-faq"]])
    [second] = _ask(server, conversation).tool_calls
    assert json.loads(second.arguments) == {"query": "receipt"}
    conversation = _answered(conversation, [second], [["file-faq", "file-warranty"]])
    answer = _ask(server, conversation).text
    assert answer == (
        "From the files: Parts and labour are covered for two years 【0:0†warranty terms.txt】. "
        "Returns are accepted within thirty days with the 【2:0†faq.md】."
    )


def test_a_cite_marker_copies_the_markers_given_and_writes_one_never_given(server: ChatServer) -> None:
    asked = [{"role": "user", "content": "[[search:terms]] [[cite:0:1,7:3]] Which?"}]
    [call] = _ask(server, asked).tool_calls
    answer = _ask(server, _answered(asked, [call], [["file-warranty", "file-faq"]])).text
    assert answer == (
        "From the files: Returns are accepted within thirty days with the 【0:1†faq.md】. "
        "an unknown source 【7:3†source】."
    )
    sources = [["file-warranty", "file-faq"]]
    assert [a["file_citation"]["file_id"] for a in citations.annotations(answer, sources)] == ["file-faq"]


def test_a_search_that_found_nothing_is_answered_so(server: ChatServer) -> None:
    asked = [{"role": "user", "content": "[[search:nothing here]]"}]
    [call] = _ask(server, asked).tool_calls
    assert _ask(server, _answered(asked, [call], [[]])).text == "From the files: nothing found."


def test_without_markers_a_request_offering_file_search_searches_the_users_text(server: ChatServer) -> None:
    asked = [{"role": "user", "content": "What does the warranty cover?"}]
    [call] = _ask(server, asked).tool_calls
    assert json.loads(call.arguments) == {"query": "What does the warranty cover?"}
    assert "【0:0†warranty terms.txt】" in _ask(server, _answered(asked, [call], [["file-warranty"]])).text
    # Not offered: the echo, as before. Another marker: it keeps its meaning.
    plain = provider(server).complete({"model": "m", "messages": asked}, deadline=soon())
    assert plain.text == "echo: What does the warranty cover?"
    [other] = _ask(server, [{"role": "user", "content": "Now? [[tool:get_time]]"}]).tool_calls
    assert other.name == "get_time"


def test_search_and_tool_markers_make_one_mixed_round_answered_with_both(server: ChatServer) -> None:
    asked = [{"role": "user", "content": "[[search:warranty]] [[tool:get_time]] When?"}]
    search, function = _ask(server, asked).tool_calls
    assert (search.name, function.name) == ("file_search", "get_time")
    conversation = _answered(asked, [search], [["file-warranty"]])
    conversation[-2]["tool_calls"].append(
        {"id": function.id, "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
    )
    conversation.append({"role": "tool", "tool_call_id": function.id, "content": "noon"})
    answer = _ask(server, conversation).text
    assert answer.startswith("tool said: noon\nFrom the files: Parts and labour")
    assert answer.endswith("【0:0†warranty terms.txt】.")


def test_a_streamed_answer_splits_a_marker_across_chunks(server: ChatServer) -> None:
    """A word a chunk: the label's space splits the marker, so a stream's held-back text is exercised."""
    asked = [{"role": "user", "content": "[[search:warranty]] Covered?"}]
    [call] = _ask(server, asked).tool_calls
    seen: list[str] = []
    request = {"model": "m", "messages": _answered(asked, [call], [["file-warranty"]]), "tools": TOOLS, "stream": True}
    result = provider(server).complete(request, deadline=soon(), stream=True, on_text=seen.append)
    assert (result.text or "").endswith("【0:0†warranty terms.txt】.")
    assert any(s.endswith("【0:0†warranty") for s in seen)  # a chunk ends inside the marker
    assert seen[-1] == result.text


def test_the_rules_that_decide_when_the_markers_answer() -> None:
    assert offered(TOOLS)
    assert not offered([])
    assert not offered(None)
    assert not offered([{"type": "function", "function": {"name": "get_time"}}])
    assert search_reply([{"role": "user", "content": "hi"}], offered=False) is None
    # The conversation ends with a function's output, or with an assistant's message: not a search round.
    function_round: list[dict[str, Any]] = [
        {"role": "user", "content": "[[search:x]]"},
        {"role": "assistant", "content": None, "tool_calls": [_function_call("c1", "get_time")]},
        {"role": "tool", "tool_call_id": "c1", "content": "noon"},
    ]
    assert search_reply(function_round, offered=True) is None
    assert search_reply([*function_round[:1], {"role": "assistant", "content": "hi"}], offered=True) is None
    # Not offered, the first round is not called; once searching, the markers are followed even when the tool is
    # no longer offered (the run's bound is then the test).
    assert search_reply([{"role": "user", "content": "[[search:x]]"}], offered=False) is None
    searching: list[dict[str, Any]] = [
        {"role": "user", "content": "[[search:x]] [[search:y]]"},
        {"role": "assistant", "content": None, "tool_calls": [_function_call("c1", "file_search")]},
        {"role": "tool", "tool_call_id": "c1", "content": "file_search found nothing."},
    ]
    reply = search_reply(searching, offered=False)
    assert reply is not None
    assert [(name, json.loads(arguments)) for name, arguments in reply.tool_calls] == [("file_search", {"query": "y"})]


def _function_call(call_id: str, name: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": "{}"}}


def test_the_markers_are_left_out_of_the_echo(server: ChatServer) -> None:
    messages = [{"role": "user", "content": "Hi [[search:x]] [[cite:0:0]]"}, {"role": "assistant", "content": "a"}]
    messages.append({"role": "user", "content": "Again [[cite:0:0]]"})
    assert provider(server).complete({"model": "m", "messages": messages}, deadline=soon()).text == "echo: Again"
