"""The file_search tool's pure parts (``domain.file_search``): its options, the function the model is offered,
the queries of a call, the excerpts fitted and numbered as the model reads them, the calls found in a run's
steps, and a step shown with its results' content (``run_objects.with_results_content``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.contract.schemas import assert_valid
from threads_api.domain import citations, file_search, lifecycle
from threads_api.domain.file_search import Options, SearchRecord
from threads_api.domain.records import JsonObject, Run
from threads_api.domain.vector_stores import SearchHit
from threads_api.wire.run_objects import with_results_content

NOW = 1_700_000_000
FUNCTION = {"type": "function", "function": {"name": "get_weather"}}


def _hit(n: int, text: str = "", score: float = 0.5, name: str = "") -> SearchHit:
    return SearchHit(f"file-{n}", name or f"doc {n}.txt", score, text or f"excerpt {n}", {})


def _run(tools: list[JsonObject], steps: list[JsonObject] | None = None) -> Run:
    return Run("run_1", "thread_1", "asst_1", NOW, "in_progress", "m", "", tools, {}, NOW + 600, {}, steps=steps or [])


def _step(run: Run, step_id: str, calls: list[JsonObject]) -> JsonObject:
    return {**lifecycle.step(run, step_id, "tool_calls", calls, NOW, None), "status": "completed", "completed_at": NOW}


def _search(call_id: str, files: list[str]) -> JsonObject:
    results = [{"file_id": f, "file_name": f"{f}.txt", "score": 0.5} for f in files]
    return file_search.search_call(call_id, Options(), results)


def _function(call_id: str) -> JsonObject:
    return {"id": call_id, "type": "function", "function": {"name": "f", "arguments": "{}", "output": None}}


def test_options_are_openais_defaults_or_the_tools_own() -> None:
    assert file_search.options([FUNCTION]) is None
    assert file_search.options([FUNCTION, {"type": "file_search"}]) == Options(20, "auto", 0.0)
    tuned = {"max_num_results": 5, "ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.4}}
    assert file_search.options([{"type": "file_search", "file_search": tuned}]) == Options(5, "default_2024_08_21", 0.4)


def test_the_function_offered_is_a_chat_completions_tool_taking_one_query() -> None:
    tool = file_search.chat_tool()
    assert_valid(tool, "ChatCompletionTool")
    assert tool["function"]["name"] == "file_search"
    assert tool["function"]["parameters"]["required"] == ["query"]
    assert "【0:1†report.pdf】" in tool["function"]["description"]


def test_the_tool_is_offered_until_eight_searches_were_made() -> None:
    assert not file_search.offered(_run([FUNCTION]))
    run = _run([{"type": "file_search"}])
    assert file_search.offered(run)
    steps = [_step(run, f"step_{n}", [_search(f"call_{n}", [])]) for n in range(file_search.SEARCH_CALLS_MAX - 1)]
    assert file_search.offered(dataclasses.replace(run, steps=steps))
    steps.append(_step(run, "step_last", [_function("call_f"), _search("call_last", [])]))
    assert not file_search.offered(dataclasses.replace(run, steps=steps))


@pytest.mark.parametrize(
    ("arguments", "queries"),
    [
        ('{"query": "warranty"}', ["warranty"]),
        ('{"queries": ["a", "b"]}', ["a", "b"]),
        ('{"query": "x", "extra": 1}', ["x"]),
        ('{"query": ""}', None),
        ('{"query": "  "}', None),
        ('{"query": 3}', None),
        ('{"queries": []}', None),
        ('{"queries": ["a", 1]}', None),
        ('{"queries": ' + str(["q"] * 11).replace("'", '"') + "}", None),
        ("{}", None),
        ('["query"]', None),
        ("not json", None),
        ("", None),
    ],
)
def test_the_queries_of_a_calls_arguments(arguments: str, queries: list[str] | None) -> None:
    assert file_search.query_of(arguments) == queries


def test_a_long_query_is_cut() -> None:
    (query,) = file_search.query_of('{"query": "' + "q" * 5000 + '"}') or []
    assert len(query) == file_search.QUERY_MAX_CHARS


def test_fitted_keeps_whole_excerpts_best_first_within_the_bytes_and_the_room() -> None:
    hits = [_hit(n, text="t" * 100) for n in range(5)]
    assert file_search.fitted(hits, None) == hits
    cost = 100 + len("doc 0.txt") + len("file-0") + file_search.HEADER_CHARS
    assert file_search.fitted(hits, 3 * cost) == hits[:3]
    assert file_search.fitted(hits, 3 * cost - 1) == hits[:2]
    assert file_search.fitted(hits, 0) == []
    big = [_hit(n, text="é" * 40_000) for n in range(3)]  # 80,000 bytes each
    assert file_search.fitted(big, None) == big[:2]
    assert file_search.fitted([_hit(0, text="x" * (file_search.RESULTS_MAX_BYTES + 1))], None) == []


def test_results_are_numbered_as_the_model_reads_them_and_cited_back() -> None:
    hits = [_hit(0, "Parts and labour: two years.", 0.83, "warranty terms.txt"), _hit(1, "Returns: 30 days.", 0.61)]
    results = file_search.results_of(hits)
    assert results[0] == {"file_id": "file-0", "file_name": "warranty terms.txt", "score": 0.83}
    text = file_search.results_text(2, ["what is covered"], results, [h.text for h in hits])
    assert text.splitlines()[0] == (
        'file_search results for "what is covered" (2 excerpts, best first). '
        "Cite an excerpt by its marker, e.g. 【2:0†warranty terms.txt】."
    )
    assert "\n\n【2:0†warranty terms.txt】 file file-0, score 0.83\nParts and labour: two years.\n\n" in text
    assert text.endswith("【2:1†doc 1.txt】 file file-1, score 0.61\nReturns: 30 days.")
    sources = [[], [], [r["file_id"] for r in results]]
    assert [a["file_citation"]["file_id"] for a in citations.annotations(text, sources)] == [
        "file-0",
        "file-0",
        "file-1",
    ]
    assert file_search.results_text(0, ["a", 'b "c"'], [], []) == (
        'file_search found nothing for "a", "b \\"c\\"" in the files searched.'
    )
    assert "1 excerpt," in file_search.results_text(0, ["q"], results[:1], ["x"])
    assert "max_prompt_tokens" in file_search.no_room(["q"])


def test_scores_are_kept_within_zero_and_one() -> None:
    assert [r["score"] for r in file_search.results_of([_hit(0, score=1.2), _hit(1, score=-0.1)])] == [1.0, 0.0]


def test_calls_and_their_sources_are_found_in_step_order() -> None:
    run = _run([{"type": "file_search"}])
    reply = lifecycle.step(run, "step_m", "message_creation", {"message_id": "msg_1"}, NOW, None)
    steps = [
        _step(run, "step_1", [_search("call_a", ["file-1", "file-2"])]),
        reply,
        _step(run, "step_2", [_function("call_f"), _search("call_b", []), _search("call_c", ["file-3"])]),
    ]
    assert [(s, n, c["id"]) for s, n, c in file_search.search_calls(steps)] == [
        ("step_1", 0, "call_a"),
        ("step_2", 1, "call_b"),
        ("step_2", 2, "call_c"),
    ]
    assert file_search.sources(steps) == [["file-1", "file-2"], [], ["file-3"]]
    for step in steps:
        assert_valid(step, "RunStepObject")


def test_a_step_shows_its_results_content_only_from_its_records() -> None:
    run = _run([{"type": "file_search"}])
    step = _step(
        run, "step_2", [_function("call_f"), _search("call_b", ["file-1", "file-2"]), _search("call_c", ["x"])]
    )
    records: dict[tuple[str, int], SearchRecord] = {("step_2", 1): SearchRecord('{"query": "q"}', ("one", "two"))}
    shown = with_results_content(step, records)
    assert_valid(shown, "RunStepObject")
    calls: list[Any] = shown["step_details"]["tool_calls"]
    assert calls[0] == step["step_details"]["tool_calls"][0]
    assert [r["content"] for r in calls[1]["file_search"]["results"]] == [
        [{"type": "text", "text": "one"}],
        [{"type": "text", "text": "two"}],
    ]
    assert calls[2] == step["step_details"]["tool_calls"][2]  # no record: no content
    assert "content" not in step["step_details"]["tool_calls"][1]["file_search"]["results"][0]  # not changed
    message = lifecycle.step(run, "step_m", "message_creation", {"message_id": "msg_1"}, NOW, None)
    assert with_results_content(message, records) is message
