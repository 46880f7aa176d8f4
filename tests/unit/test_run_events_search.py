"""A stream's events for a run that searches (no DynamoDB: the reply's message and the calls' records come from
stubs): the search step's events in OpenAI's order, the reply's citations as annotation deltas whose indices
are the final message's, the excerpts only with ``include[]``, and a told tool step's later end."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.contract.streams import SEARCHED_REPLY_EVENTS, assert_valid_events, reply_text
from tests.unit.test_run_events import _parsed
from tests.unit.test_run_lifecycle import NOW, _assistant, _body
from threads_api import store
from threads_api.domain import citations, clock, file_search, lifecycle
from threads_api.domain.file_search import Options, SearchRecord
from threads_api.domain.records import JsonObject, Message, Run
from threads_api.runs import event_objects, events
from threads_api.runs.cited import CitedText

FILE = "file-warranty"
TEXT = "Parts are covered for two years 【0:0†warranty terms.txt】. Ask 【0:7†nowhere】 or 【0:1†faq.md】."
SEARCH_TOOLS = [{"type": "file_search"}]


def _search_step(run: Run, *, status: str = "completed") -> JsonObject:
    options = Options(file_search.DEFAULT_MAX_NUM_RESULTS, "auto", 0.0)
    results = [
        {"file_id": FILE, "file_name": "warranty terms.txt", "score": 0.83},
        {"file_id": "file-faq", "file_name": "faq.md", "score": 0.61},
    ]
    call = file_search.search_call("call_fs", options, results)
    step_id = lifecycle.derived_id("step_", run.id, len(run.steps))
    step = lifecycle.step(run, step_id, "tool_calls", [call], NOW, None)
    return step | ({"status": "completed", "completed_at": NOW} if status == "completed" else {})


@pytest.fixture
def working(monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setattr(clock, "now_ms", lambda: NOW * 1000)
    queued = lifecycle.new_run("thread_1", _assistant(tools=SEARCH_TOOLS), _body(stream=True), "run_1", NOW)
    return dataclasses.replace(queued, status="in_progress", started_at=NOW)


def _reply(run: Run, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The reply the run ends with, as the store gives it back (annotated as the worker saves it)."""
    step_id, message_id = lifecycle.reply_ids(run)
    annotations = citations.annotations(TEXT, file_search.sources(run.steps))
    content = [{"type": "text", "text": {"value": TEXT, "annotations": annotations}}]
    reply = Message(message_id, "thread_1", NOW, "assistant", content, [], {}, "asst_1", "run_1")
    monkeypatch.setattr(store, "get_message", lambda project, thread_id, mid: reply)
    return step_id, message_id


def _searched_stream(working: Run, monkeypatch: pytest.MonkeyPatch, follower: events.Follower) -> list[Any]:
    chunks = [*follower.events(working)]
    searched = dataclasses.replace(working, steps=[_search_step(working)], version=working.version + 1)
    chunks += follower.events(searched)
    step_id, message_id = _reply(searched, monkeypatch)
    words = TEXT.split(" ")  # a word per chunk, as the scripted model writes: markers split across chunks
    for n in range(1, len(words) + 1):
        chunks += follower.events(dataclasses.replace(searched, partial=" ".join(words[:n])))
    reply_step = lifecycle.step(searched, step_id, "message_creation", {"message_id": message_id}, NOW, None)
    ended = lifecycle.ended(dataclasses.replace(searched, steps=[*searched.steps, reply_step]), "completed", NOW)
    chunks += follower.events(ended)
    return [*_parsed(chunks), ("done", "[DONE]")]


def test_a_searched_run_streams_its_search_step_then_its_cited_reply(
    working: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = _searched_stream(working, monkeypatch, events.Follower("p", working))
    names = [name for name, _ in stream if name != "thread.message.delta"]
    assert names == SEARCHED_REPLY_EVENTS[2:]  # its follower starts at a run in progress: no created, no queued
    assert_valid_events(stream)
    created, delta, completed = stream[1][1], stream[3][1], stream[4][1]
    assert created["step_details"] == {"type": "tool_calls", "tool_calls": []}
    assert delta["delta"]["step_details"]["tool_calls"] == [
        {"index": 0, "id": "call_fs", "type": "file_search", "file_search": {}}
    ]
    results = completed["step_details"]["tool_calls"][0]["file_search"]["results"]
    assert [r["file_id"] for r in results] == [FILE, "file-faq"]
    assert all("content" not in r for r in results)  # no include[]: no excerpt, and no read of one
    assert reply_text(stream) == TEXT


def test_the_annotation_deltas_add_up_to_the_stored_message(working: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _searched_stream(working, monkeypatch, events.Follower("p", working))
    deltas = [d["delta"]["content"][0]["text"] for n, d in stream if n == "thread.message.delta"]
    assert all("【" not in d["value"] or "】" in d["value"] for d in deltas)  # a marker never split
    told = [a for d in deltas for a in d["annotations"]]
    final = next(d for n, d in stream if n == "thread.message.completed")["content"][0]["text"]["annotations"]
    assert [{k: v for k, v in a.items() if k != "index"} for a in told] == final
    assert [a["index"] for a in told] == [0, 1]
    assert [a["file_citation"]["file_id"] for a in told] == [FILE, "file-faq"]
    for a in told:
        assert TEXT[a["start_index"] : a["end_index"]] == a["text"]


def test_with_include_the_search_steps_end_carries_its_excerpts(working: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    from threads_api.store import run_searches

    asked: list[list[tuple[str, int]]] = []

    def read(project: str, run: Run, keys: list[tuple[str, int]]) -> dict[tuple[str, int], SearchRecord]:
        asked.append(keys)
        return {key: SearchRecord('{"query": "warranty"}', ("Two years.", "See the FAQ.")) for key in keys}

    monkeypatch.setattr(run_searches, "read_searches", read)
    stream = _searched_stream(working, monkeypatch, events.Follower("p", working, include_content=True))
    assert_valid_events(stream)
    completed = next(d for n, d in stream if n == "thread.run.step.completed" and d["type"] == "tool_calls")
    results = completed["step_details"]["tool_calls"][0]["file_search"]["results"]
    assert [r["content"] for r in results] == [
        [{"type": "text", "text": "Two years."}],
        [{"type": "text", "text": "See the FAQ."}],
    ]
    assert asked == [[(completed["id"], 0)]]  # one read, of the step told


def test_a_tool_step_told_in_progress_is_told_ended_when_the_run_fails(working: Run) -> None:
    follower = events.Follower("p", working)
    open_step = _search_step(working, status="in_progress")
    chunks = [*follower.events(dataclasses.replace(working, steps=[open_step]))]
    failed = lifecycle.ended(dataclasses.replace(working, steps=[open_step]), "failed", NOW)
    chunks += follower.events(failed)
    chunks += follower.events(failed)  # read again: nothing new
    stream = [*_parsed(chunks), ("done", "[DONE]")]
    assert [name for name, _ in stream] == [
        "thread.run.in_progress",
        "thread.run.step.created",
        "thread.run.step.in_progress",
        "thread.run.step.delta",
        "thread.run.step.failed",
        "thread.run.failed",
        "done",
    ]
    assert_valid_events(stream)


def test_every_chunking_of_a_cited_reply_gives_the_final_annotations() -> None:
    """For each way of cutting the text in two or three pieces, the deltas join to the text and their
    annotations (indices included) are the whole text's: none lost, none twice, none out of place."""
    sources = [[FILE, "file-faq"]]
    text = "A 【0:0†warranty terms.txt】 b 【 c 【1†faq.md】 d 😀【0:1†x】"
    final = [{"index": i, **a} for i, a in enumerate(citations.annotations(text, sources))]
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1, 3):
            cited, pieces, told = CitedText(sources), [], []
            for cut in (text[:i], text[:j], text):
                data = _delta_text(cited.delta("msg_1", cut))
                if data is not None:
                    pieces.append(data["value"])
                    told += data["annotations"]
            rest = _delta_text(
                cited.rest("msg_1", {"content": [{"type": "text", "text": {"value": text, "annotations": final}}]})
            )
            if rest is not None:
                pieces.append(rest["value"])
                told += rest["annotations"]
            assert "".join(pieces) == text, (i, j)
            assert told == final, (i, j)


def test_a_reply_never_streamed_in_pieces_comes_whole_with_indexed_annotations() -> None:
    annotation = {
        "type": "file_citation",
        "text": "【0:0†a】",
        "start_index": 2,
        "end_index": 9,
        "file_citation": {"file_id": FILE},
    }
    content = [{"type": "text", "text": {"value": "A 【0:0†a】", "annotations": [annotation]}}]
    assert event_objects.delta_content(content) == [
        {"index": 0, "type": "text", "text": {"value": "A 【0:0†a】", "annotations": [{"index": 0, **annotation}]}}
    ]


def _delta_text(event: str | None) -> Any:
    if event is None:
        return None
    return _parsed([event])[0][1]["delta"]["content"][0]["text"]  # type: ignore[index]


def test_a_follower_that_missed_the_search_rounds_save_tells_its_step_before_the_next_reply(
    working: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A follower reads the run now and then: it may first see the search step and the next round's reply
    being written together. The step is told first, then the reply, once (never the step's events after the
    reply's, nor the reply twice)."""
    follower = events.Follower("p", working)
    chunks = [*follower.events(working)]
    searched = dataclasses.replace(working, steps=[_search_step(working)], version=working.version + 1)
    step_id, message_id = _reply(searched, monkeypatch)
    chunks += follower.events(dataclasses.replace(searched, partial=TEXT[:20]))
    chunks += follower.events(dataclasses.replace(searched, partial=TEXT))
    reply_step = lifecycle.step(searched, step_id, "message_creation", {"message_id": message_id}, NOW, None)
    chunks += follower.events(
        lifecycle.ended(dataclasses.replace(searched, steps=[*searched.steps, reply_step]), "completed", NOW)
    )
    stream = [*_parsed(chunks), ("done", "[DONE]")]
    names = [name for name, _ in stream if name != "thread.message.delta"]
    assert names.index("thread.run.step.completed") < names.index("thread.message.created")
    assert names.count("thread.message.created") == 1
    assert_valid_events(stream)
    assert reply_text(stream) == TEXT
