"""The bodies that carry file_search (``wire``): the tool and its options on assistants and runs, a run's
``tool_choice`` naming it, the ``vector_stores`` helper of ``tool_resources`` (OpenAI's oneOf, its bounds), a
create-thread-and-run's resources for its run, and the ``include[]`` query parameter. Each 400 names the field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.schemas import assert_valid
from tests.unit.test_vector_store_bodies import refused, static
from threads_api.domain import errors
from threads_api.domain.vector_stores import Chunking
from threads_api.http.list_params import include_param
from threads_api.wire.assistant_bodies import AssistantIn
from threads_api.wire.request_bodies import CreateThreadIn, ModifyThreadIn, parse
from threads_api.wire.run_bodies import RunIn, ThreadAndRunIn

SEARCH = {"type": "file_search"}
WEATHER = {"type": "function", "function": {"name": "get_weather"}}
CONTENT = "step_details.tool_calls[*].file_search.results[*].content"


def _assistant(body: dict[str, Any]) -> Any:
    return parse(AssistantIn, {"model": "m", **body}).fields()


def _run(body: dict[str, Any]) -> Any:
    return parse(RunIn, {"assistant_id": "asst_1", **body}).overrides()


def _thread_and_run(body: dict[str, Any]) -> Any:
    return parse(ThreadAndRunIn, {"assistant_id": "asst_1", **body})


def _tools(*tools: Any) -> dict[str, Any]:
    return {"tools": list(tools)}


def _options(**options: Any) -> dict[str, Any]:
    return {"type": "file_search", "file_search": options}


def test_the_tool_is_kept_as_sent_on_assistants_and_runs() -> None:
    tuned = _options(max_num_results=50, ranking_options={"ranker": "default_2024_08_21", "score_threshold": 1})
    for read in (_assistant, _run):
        assert read(_tools(WEATHER, SEARCH))["tools"] == [WEATHER, SEARCH]
        assert read(_tools(tuned))["tools"] == [tuned]
    assert _run(_tools(_options(max_num_results=1)))["tools"] == [_options(max_num_results=1)]
    assert _assistant(_tools(_options()))["tools"] == [_options()]
    defaulted = _run(_tools(_options(ranking_options={"score_threshold": 0.5})))["tools"][0]
    assert defaulted["file_search"]["ranking_options"] == {"ranker": "auto", "score_threshold": 0.5}
    assert_valid({"type": "file_search", **defaulted}, "AssistantToolsFileSearch")


@pytest.mark.parametrize("read", [_assistant, _run])
@pytest.mark.parametrize(
    ("tools", "param", "contains"),
    [
        ([_options(max_num_results=0)], "tools[0].file_search.max_num_results", "Expected a value >= 1"),
        ([_options(max_num_results=51)], "tools[0].file_search.max_num_results", "Expected a value <= 50"),
        ([_options(max_num_results=5.0)], "tools[0].file_search.max_num_results", "expected an integer"),
        ([_options(max_num_results=True)], "tools[0].file_search.max_num_results", "expected an integer"),
        ([_options(ranking_options={})], "tools[0].file_search.ranking_options.score_threshold", "Missing required"),
        (
            [_options(ranking_options={"score_threshold": -0.1})],
            "tools[0].file_search.ranking_options.score_threshold",
            "Expected a value >= 0",
        ),
        (
            [_options(ranking_options={"score_threshold": "0.5"})],
            "tools[0].file_search.ranking_options.score_threshold",
            "expected a number",
        ),
        (
            [_options(ranking_options={"ranker": "default-2024-11-15", "score_threshold": 0})],
            "tools[0].file_search.ranking_options.ranker",
            "Supported values are: 'auto' or 'default_2024_08_21'",
        ),
        ([_options(vector_store_ids=["vs_1"])], "tools[0].file_search.vector_store_ids", "Unrecognized"),
        ([{"type": "file_search", "file_search": []}], "tools[0].file_search", "expected an object"),
        ([SEARCH, WEATHER, SEARCH], "tools[2].type", "at most one file_search tool"),
        (
            [WEATHER, {"type": "function", "function": {"name": "file_search"}}, SEARCH],
            "tools[1].function.name",
            "may not be named 'file_search'",
        ),
        (
            [{"type": "code_interpreter"}],
            "tools[0].type",
            "'code_interpreter' tools are not supported by this deployment: it has no sandbox to execute code in. "
            "Only 'function' and 'file_search' tools are supported",
        ),
        ([{"type": "retrieval"}], "tools[0].type", "Supported values are: 'function' or 'file_search'"),
        ([{}], "tools[0].type", "Missing required parameter"),
    ],
)
def test_bad_tools_are_400s_naming_the_field(read: Any, tools: list[Any], param: str, contains: str) -> None:
    refused(read, _tools(*tools), param, contains)


def test_a_function_named_file_search_is_an_ordinary_function_without_the_tool() -> None:
    named = {"type": "function", "function": {"name": "file_search"}}
    assert _assistant(_tools(named))["tools"] == [named]


def test_tool_choice_may_name_file_search() -> None:
    assert _run({"tool_choice": SEARCH})["tool_choice"] == SEARCH
    assert_valid(SEARCH, "AssistantsNamedToolChoice")
    named = {"type": "function", "function": {"name": "get_weather"}}
    assert _run({"tool_choice": named})["tool_choice"] == named
    assert _run({"tool_choice": "required"})["tool_choice"] == "required"
    refused(_run, {"tool_choice": {"type": "function"}}, "tool_choice.function", "Missing required parameter")
    refused(_run, {"tool_choice": {"type": "code_interpreter"}}, "tool_choice.type", "Invalid value")
    refused(_run, {"tool_choice": {}}, "tool_choice.type", "Missing required parameter")
    refused(_run, {"tool_choice": {"type": "file_search", "function": {"name": "x"}}}, "tool_choice.function")
    refused(_run, {"tool_choice": "file_search"}, "tool_choice", "Invalid value")


def _resources(file_search: Any) -> dict[str, Any]:
    return {"tool_resources": {"file_search": file_search}}


def test_the_vector_stores_helper_is_read_and_never_stored() -> None:
    helper = {"file_ids": ["file-1", "file-2", "file-1"], "chunking_strategy": static(200, 50), "metadata": {"k": "v"}}
    thread = parse(CreateThreadIn, _resources({"vector_stores": [helper]}))
    assert thread.tool_resources is not None
    assert thread.tool_resources.new_store() == (["file-1", "file-2"], Chunking(200, 50), {"k": "v"})
    assert thread.tool_resources.stored() == {"file_search": {}}
    bare = parse(ModifyThreadIn, _resources({"vector_stores": [{}]})).tool_resources
    assert bare is not None
    assert bare.new_store() == ([], Chunking(), {})
    by_id = parse(AssistantIn, {"model": "m", **_resources({"vector_store_ids": ["vs_1"]})}).tool_resources
    assert by_id is not None
    assert by_id.new_store() is None
    assert by_id.stored() == {"file_search": {"vector_store_ids": ["vs_1"]}}
    assert parse(CreateThreadIn, {"tool_resources": {"code_interpreter": {}}}).tool_resources.new_store() is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("file_search", "param", "contains"),
    [
        ({"vector_store_ids": ["vs_1"], "vector_stores": [{}]}, "tool_resources.file_search", "not both"),
        ({"vector_stores": [{}, {}]}, "tool_resources.file_search.vector_stores", "maximum length 1"),
        (
            {"vector_stores": [{"file_ids": [f"file-{n}" for n in range(501)]}]},
            "tool_resources.file_search.vector_stores[0].file_ids",
            "maximum length 500",
        ),
        (
            {"vector_stores": [{"file_ids": ["a/b"]}]},
            "tool_resources.file_search.vector_stores[0].file_ids[0]",
            "an id of 1 to 64 characters",
        ),
        (
            {"vector_stores": [{"chunking_strategy": static(100, 60)}]},
            "tool_resources.file_search.vector_stores[0].chunking_strategy.static.chunk_overlap_tokens",
            "Expected a value <= 50",
        ),
        (
            {"vector_stores": [{"chunking_strategy": {"type": "other"}}]},
            "tool_resources.file_search.vector_stores[0].chunking_strategy.type",
            "Invalid value",
        ),
        (
            {"vector_stores": [{"metadata": {"k": 1}}]},
            "tool_resources.file_search.vector_stores[0].metadata.k",
            "expected a string",
        ),
        ({"vector_stores": [{"name": "x"}]}, "tool_resources.file_search.vector_stores[0].name", "Unrecognized"),
        ({"vector_stores": "x"}, "tool_resources.file_search.vector_stores", "expected an array"),
    ],
)
def test_bad_helpers_are_400s_naming_the_field(file_search: Any, param: str, contains: str) -> None:
    for model in (CreateThreadIn, ModifyThreadIn):
        refused(lambda body, m=model: parse(m, body), _resources(file_search), param, contains)  # type: ignore[misc]
    refused(_assistant, _resources(file_search), param, contains)
    refused(_thread_and_run, _resources(file_search), param, contains)


def test_a_thread_and_runs_resources_are_its_runs_the_helper_left_out() -> None:
    assert "tool_resources" not in _run({})
    assert _thread_and_run({}).overrides()["tool_resources"] is None
    given = _resources({"vector_store_ids": ["vs_1"]})
    assert _thread_and_run(given).overrides()["tool_resources"] == {"file_search": {"vector_store_ids": ["vs_1"]}}
    helper = _thread_and_run(_resources({"vector_stores": [{"file_ids": ["file-1"]}]}))
    assert helper.overrides()["tool_resources"] == {"file_search": {}}
    assert helper.tool_resources is not None
    assert helper.tool_resources.new_store() == (["file-1"], Chunking(), {})


@pytest.mark.parametrize(
    ("query", "wanted"),
    [({}, False), ({"include[]": ""}, False), ({"include[]": CONTENT}, True), ({"include": CONTENT}, True)],
)
def test_include_asks_for_the_results_content(query: dict[str, str], wanted: bool) -> None:
    assert include_param(query) is wanted


@pytest.mark.parametrize("value", ["step_details", "file_search_call.results", CONTENT.upper(), CONTENT + " "])
def test_include_of_anything_else_is_a_400_naming_it(value: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        include_param({"include[]": value})
    assert (caught.value.param, caught.value.code) == ("include[]", "invalid_value")
    assert CONTENT in caught.value.message
