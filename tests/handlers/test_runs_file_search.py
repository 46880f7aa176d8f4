"""file_search in runs through the real handlers, the worker under its own role: a run searches its assistant's
store and completes in one invocation; its step (ranking options, results best first, no content unless
``include[]`` asks); the excerpts the model was sent, in order; the reply's annotations; a mixed round of a
search and a function; the prompt budget; the 8 searches and the loop's bound; a Lambda retry after a saved
round; the worker's DynamoDB calls. (The wait for the thread's store: test_runs_file_search_failures.py.)"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.contract.schemas import assert_error, assert_valid
from tests.handlers.conftest import Api
from tests.handlers.file_search_support import (
    QUESTION,
    Library,
    library,
    new_searcher,
    read_run,
    reply,
    search_call,
    searched,
    searcher,
    start,
    steps,
    thread,
    tool_messages,
)
from tests.handlers.runs_support import USAGE, Model, Runs, model, runs
from tests.handlers.vector_stores_support import ingestion
from threads_api.domain import file_search
from threads_api.providers import ChatResult, ToolCall

__all__ = ["ingestion", "library", "model", "runs", "searcher"]

INCLUDE = "&include[]=step_details.tool_calls[*].file_search.results[*].content"
CITED = "It covers the compressor 【0:0†warranty terms.txt】, not the filter 【0:7†nowhere】."


def test_a_run_searches_its_store_and_completes_with_its_citations_annotated(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    thread_id, run = searched(api, runs, model, searcher, [search_call("warranty compressor"), reply(CITED)])
    assert run["status"] == "completed"
    assert run["usage"]["total_tokens"] == 30  # both model calls
    assert len(model.requests) == 2  # one invocation: no requires_action, no second worker
    searching, answering = steps(api, thread_id, run["id"])
    assert (searching["type"], searching["status"], answering["type"]) == (
        "tool_calls",
        "completed",
        "message_creation",
    )
    (call,) = searching["step_details"]["tool_calls"]
    assert (call["id"], call["type"]) == ("call_s", "file_search")
    assert call["file_search"]["ranking_options"] == {"ranker": "auto", "score_threshold": 0.0}
    results = call["file_search"]["results"]
    assert results[0] == {
        "file_id": library.files["warranty terms.txt"],
        "file_name": "warranty terms.txt",
        "score": results[0]["score"],
    }
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert all("content" not in r for r in results)
    # What the model read: the excerpts under their markers, in the results' order.
    (shown,) = tool_messages(model.requests[1])
    positions = [shown.index(f"【0:{i}†{r['file_name']}】 file {r['file_id']}") for i, r in enumerate(results)]
    assert positions == sorted(positions)
    assert "The warranty covers the compressor" in shown
    assert model.requests[1]["messages"][-2]["tool_calls"][0]["function"]["name"] == "file_search"
    message = api("GET", f"/threads/{thread_id}/messages/{answering['step_details']['message_creation']['message_id']}")
    assert_valid(message.body, "MessageObject")
    text = message.body["content"][0]["text"]
    assert text["value"] == CITED
    (annotation,) = text["annotations"]  # the second marker names an excerpt never given: no annotation
    start_index = CITED.index("【0:0")
    assert annotation == {
        "type": "file_citation",
        "text": "【0:0†warranty terms.txt】",
        "file_citation": {"file_id": library.files["warranty terms.txt"]},
        "start_index": start_index,
        "end_index": start_index + len("【0:0†warranty terms.txt】"),
    }
    assert CITED[annotation["start_index"] : annotation["end_index"]] == annotation["text"]


def test_include_gives_the_results_content_on_steps_list_and_retrieve(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    thread_id, run = searched(api, runs, model, searcher, [search_call("warranty compressor"), reply("Yes.")])
    listed = steps(api, thread_id, run["id"], INCLUDE)[0]["step_details"]["tool_calls"][0]["file_search"]["results"]
    assert listed[0]["content"] == [{"type": "text", "text": library_text("warranty terms.txt")}]
    assert all(len(r["content"]) == 1 for r in listed)
    step_id = steps(api, thread_id, run["id"])[0]["id"]
    one = api("GET", f"/threads/{thread_id}/runs/{run['id']}/steps/{step_id}?{INCLUDE[1:]}")
    assert one.status == 200, one.body
    assert_valid(one.body, "RunStepObject")
    assert one.body["step_details"]["tool_calls"][0]["file_search"]["results"] == listed
    refused = api("GET", f"/threads/{thread_id}/runs/{run['id']}/steps?include[]=step_details.other")
    assert_error(refused.body, 400, param="include[]")


def library_text(name: str) -> str:
    from tests.handlers.file_search_support import MANUAL

    return MANUAL[name]


def test_a_search_beside_a_function_call_waits_for_the_function_only_and_submit_completes_the_step(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    both = ChatResult(
        "Let me look.",
        [ToolCall("call_w", "get_weather", '{"city": "Paris"}'), ToolCall("call_s", "file_search", '{"query": "fan"}')],
        "tool_calls",
        USAGE,
    )
    thread_id, run = searched(api, runs, model, searcher, [both, reply("Done 【0:0†warranty terms.txt】.")])
    assert run["status"] == "requires_action"
    assert [c["id"] for c in run["required_action"]["submit_tool_outputs"]["tool_calls"]] == ["call_w"]
    written, waiting = steps(api, thread_id, run["id"])
    assert (written["type"], waiting["status"]) == ("message_creation", "in_progress")
    weather, search = waiting["step_details"]["tool_calls"]
    assert (weather["function"]["output"], search["type"]) == (None, "file_search")
    assert search["file_search"]["results"]
    submitted = api(
        "POST",
        f"/threads/{thread_id}/runs/{run['id']}/submit_tool_outputs",
        {"tool_outputs": [{"tool_call_id": "call_w", "output": "18C"}]},
    )
    assert submitted.status == 200, submitted.body
    runs.work()
    done = read_run(api, thread_id, run["id"])
    assert done["status"] == "completed"
    ended = steps(api, thread_id, run["id"])
    assert [s["status"] for s in ended] == ["completed"] * 3
    assert ended[1]["step_details"]["tool_calls"][0]["function"]["output"] == "18C"
    assert ended[1]["step_details"]["tool_calls"][1]["file_search"] == search["file_search"]
    # The resumed worker read the search's record back: the round is sent whole, in the calls' order.
    sent = model.requests[1]["messages"]
    assert [m["role"] for m in sent[-4:]] == ["assistant", "assistant", "tool", "tool"]
    assert [c["function"]["name"] for c in sent[-3]["tool_calls"]] == ["get_weather", "file_search"]
    assert sent[-2]["content"] == "18C"
    assert sent[-1]["content"].startswith('file_search results for "fan"')
    answer = api("GET", f"/threads/{thread_id}/messages?limit=1").body["data"][0]["content"][0]["text"]
    assert answer["annotations"][0]["file_citation"]["file_id"] == search["file_search"]["results"][0]["file_id"]


def test_max_prompt_tokens_keeps_fewer_excerpts_and_the_run_still_completes(
    api: Api, runs: Runs, model: Model, library: Library
) -> None:
    alone = new_searcher(api, library.store_id, tools=[{"type": "file_search"}])
    shown: dict[int | None, int] = {}
    for limit in (None, 400, 256):
        body = {"max_prompt_tokens": limit} if limit else {}
        answers = [search_call("warranty compressor filter"), reply("Yes.")]
        thread_id, run = searched(api, runs, model, alone, answers, **body)
        assert run["status"] == "completed"
        results = steps(api, thread_id, run["id"])[0]["step_details"]["tool_calls"][0]["file_search"]["results"]
        shown[limit] = len(results)
        (told,) = tool_messages(model.requests[-1])
        assert told.count("【0:") == (len(results) + 1 if results else 0)  # the header's example, then each result
    assert shown[None] == len(library.files) > shown[400] > 0
    assert shown[256] == 0  # none fits: the model is told so, and answers without them
    assert told == file_search.no_room(["warranty compressor filter"])


def test_after_eight_searches_the_tool_stays_for_the_history_and_the_model_answers(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    rounds = [search_call(f"question {n}", call_id=f"call_{n}_") for n in range(file_search.SEARCH_CALLS_MAX)]
    thread_id, run = searched(api, runs, model, searcher, [*rounds, reply("Enough 【7:0†x】.")])
    assert run["status"] == "completed"
    assert [[t["function"]["name"] for t in r.get("tools", [])] for r in model.requests] == [
        ["get_weather", "file_search"]
    ] * 9  # the tool stays once spent: a history of its calls without it is refused by Bedrock's Converse
    assert len(steps(api, thread_id, run["id"])) == 9
    message = api("GET", f"/threads/{thread_id}/messages?limit=1").body["data"][0]["content"][0]["text"]
    assert len(message["annotations"]) == 1  # 【7:0†…】: the eighth search's first result


def test_a_model_that_keeps_calling_file_search_fails_the_run_at_the_loops_bound(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    rounds = [search_call("again", call_id=f"call_{n}_") for n in range(20)]
    thread_id, run = searched(api, runs, model, searcher, rounds)
    assert run["status"] == "failed"
    assert run["last_error"] == {
        "code": "server_error",
        "message": "The model kept calling file_search past its 8 searches.",
    }
    assert len(model.requests) == file_search.SEARCH_CALLS_MAX + 2
    assert tool_messages(model.requests[-1])[-1] == file_search.NOT_AVAILABLE
    assert api("POST", f"/threads/{thread_id}/runs", {"assistant_id": searcher["id"]}).status == 200  # released


class Died(BaseException):
    """The worker's invocation killed (out of memory, a timeout): nothing of ours catches it."""


def test_a_lambda_retry_after_a_saved_round_resumes_from_it_without_a_second_step(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    model.replies = [search_call("warranty compressor"), Died()]
    thread_id = thread(api)
    run_id = start(api, thread_id, searcher)
    (event,) = runs.queued
    runs.queued.clear()
    with pytest.raises(Died):
        runs.run(event, "request-1")
    assert read_run(api, thread_id, run_id)["status"] == "in_progress"
    model.replies = [reply("It covers the compressor 【0:0†warranty terms.txt】.")]
    runs.run(event, "request-1")  # Lambda's retry: the same request id
    done = read_run(api, thread_id, run_id)
    assert done["status"] == "completed"
    assert [s["type"] for s in steps(api, thread_id, run_id)] == ["tool_calls", "message_creation"]
    assert tool_messages(model.requests[-1]) == tool_messages(model.requests[1])  # the round read back whole
    assert len(model.requests) == 3


def test_a_message_beside_a_search_is_kept_and_sent_back_before_the_round(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    beside = ChatResult("Looking it up.", search_call("warranty").tool_calls, "tool_calls", USAGE)
    thread_id, run = searched(api, runs, model, searcher, [beside, reply("Five years.")])
    assert run["status"] == "completed"
    assert [s["type"] for s in steps(api, thread_id, run["id"])] == [
        "message_creation",
        "tool_calls",
        "message_creation",
    ]
    sent = model.requests[1]["messages"]
    assert sent[-3] == {"role": "assistant", "content": "Looking it up."}
    assert [m["role"] for m in sent[-2:]] == ["assistant", "tool"]
    texts = [
        m["content"][0]["text"]["value"] for m in api("GET", f"/threads/{thread_id}/messages?order=asc").body["data"]
    ]
    assert texts == [QUESTION, "Looking it up.", "Five years."]


def test_a_call_with_bad_arguments_is_answered_and_counted_and_the_model_goes_on(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    bad = ChatResult(None, [ToolCall("call_b", "file_search", json.dumps({"q": 1}))], "tool_calls", USAGE)
    thread_id, run = searched(api, runs, model, searcher, [bad, reply("Sorry.")])
    assert run["status"] == "completed"
    assert tool_messages(model.requests[1]) == [file_search.BAD_ARGUMENTS]
    (call,) = steps(api, thread_id, run["id"])[0]["step_details"]["tool_calls"]
    assert call["file_search"]["results"] == []


def _worker_calls(runs: Runs) -> Counter[str]:
    """The DynamoDB operations of the worker's invocations now queued."""
    from threads_api import store

    made: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        made[model.name] += 1

    store.client.meta.events.register("before-call.dynamodb", count)
    try:
        runs.work()
    finally:
        store.client.meta.events.unregister("before-call.dynamodb", count)
    return made


def test_a_search_round_costs_the_worker_three_dynamodb_calls_more_than_a_plain_run(
    api: Api, runs: Runs, model: Model, searcher: dict[str, Any], library: Library
) -> None:
    """The stores (the thread and the assistant's store, one BatchGetItem), the hits' files (one BatchGetItem),
    and the round's save with the call's record (one transaction): nothing else (bench/run_search.py times it)."""
    model.replies = [reply("Hello.")]
    start(api, thread(api), searcher)
    plain = _worker_calls(runs)
    model.replies = [search_call("warranty"), reply("Five years.")]
    start(api, thread(api), searcher)
    searching = _worker_calls(runs)
    assert searching - plain == Counter({"BatchGetItem": 2, "TransactWriteItems": 1})
    assert plain - searching == Counter()
