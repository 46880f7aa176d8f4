"""What the assistant operations refuse, through the real handlers: each a 400 naming the field, and nothing
written or changed (bad bodies, bad list parameters, instructions too large, a schema nested too deeply)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.schemas import assert_error
from tests.handlers.assistants_support import _create, _listed
from tests.handlers.conftest import Api
from tests.samples import WEATHER


@pytest.mark.parametrize(
    ("query", "param"),
    [("?after=asst_nosuchassistant", "after"), ("?before=thread_abc", "before"), ("?limit=0", "limit")],
)
def test_bad_list_parameters_are_400_naming_them(api: Api, query: str, param: str) -> None:
    reply = api("GET", f"/assistants{query}")
    assert reply.status == 400
    assert_error(reply.body, 400, param=param)


UNSUPPORTED = "Only 'function' and 'file_search' tools are supported"
SEARCH = {"type": "file_search"}


@pytest.mark.parametrize(
    ("body", "param", "contains"),
    [
        ({}, "model", "Missing required parameter: 'model'."),
        ({"model": None}, "model", "expected a string, but got null"),
        ({"model": ""}, "model", "empty string"),
        ({"model": "m", "foo": 1}, "foo", "Unrecognized request argument supplied: foo"),
        ({"model": "m", "name": "n" * 257}, "name", "maximum length 256, but got a string with length 257"),
        ({"model": "m" * 257}, "model", "maximum length 256, but got a string with length 257"),
        ({"model": "m", "description": "d" * 513}, "description", "maximum length 512"),
        ({"model": "m", "instructions": "i" * 256_001}, "instructions", "maximum length 256000"),
        ({"model": "m", "temperature": 2.5}, "temperature", "decimal above maximum value. Expected a value <= 2"),
        ({"model": "m", "temperature": -1}, "temperature", "decimal below minimum value. Expected a value >= 0"),
        ({"model": "m", "temperature": "1"}, "temperature", "expected a number, but got a string"),
        ({"model": "m", "top_p": 1.1}, "top_p", "Expected a value <= 1, but got 1.1 instead."),
        ({"model": "m", "metadata": {str(i): "v" for i in range(17)}}, "metadata", "at most 16 properties"),
        ({"model": "m", "metadata": {"k" * 65: "v"}}, "metadata", "key too long"),
        ({"model": "m", "metadata": {"k": "v" * 513}}, "metadata", "maximum length 512"),
        ({"model": "m", "metadata": {"k": 1}}, "metadata.k", "expected a string"),
        ({"model": "m", "tools": [{"type": "code_interpreter"}]}, "tools[0].type", UNSUPPORTED),
        ({"model": "m", "tools": [WEATHER, SEARCH, SEARCH]}, "tools[2].type", "at most one file_search tool"),
        (
            {"model": "m", "tools": [SEARCH, {"type": "function", "function": {"name": "file_search"}}]},
            "tools[1].function.name",
            "may not be named 'file_search'",
        ),
        (
            {"model": "m", "tools": [WEATHER, {"type": "file_search", "file_search": {"max_num_results": 51}}]},
            "tools[1].file_search.max_num_results",
            "Expected a value <= 50, but got 51",
        ),
        (
            {"model": "m", "tools": [{"type": "file_search", "file_search": {"max_num_results": 0}}]},
            "tools[0].file_search.max_num_results",
            "Expected a value >= 1, but got 0",
        ),
        (
            {"model": "m", "tools": [{"type": "file_search", "file_search": {"ranking_options": {}}}]},
            "tools[0].file_search.ranking_options.score_threshold",
            "Missing required parameter",
        ),
        (
            {
                "model": "m",
                "tools": [{"type": "file_search", "file_search": {"ranking_options": {"score_threshold": 2}}}],
            },
            "tools[0].file_search.ranking_options.score_threshold",
            "Expected a value <= 1",
        ),
        (
            {
                "model": "m",
                "tools": [
                    {
                        "type": "file_search",
                        "file_search": {"ranking_options": {"ranker": "best", "score_threshold": 0}},
                    }
                ],
            },
            "tools[0].file_search.ranking_options.ranker",
            "Invalid value: 'best'",
        ),
        (
            {"model": "m", "tools": [{"type": "file_search", "vector_store_ids": []}]},
            "tools[0].vector_store_ids",
            "Unrecognized",
        ),
        ({"model": "m", "tools": [{"type": "web_search"}]}, "tools[0].type", "Invalid value: 'web_search'"),
        ({"model": "m", "tools": [{"type": "function"}]}, "tools[0].function", "Missing required parameter"),
        ({"model": "m", "tools": [{"function": {"name": "f"}}]}, "tools[0].type", "Missing required parameter"),
        ({"model": "m", "tools": [WEATHER] * 129}, "tools", "maximum length 128"),
        ({"model": "m", "tools": "x"}, "tools", "expected an array"),
        (
            {"model": "m", "tools": [{"type": "function", "function": {"name": "get weather"}}]},
            "tools[0].function.name",
            "an id of 1 to 64 characters",
        ),
        (
            {"model": "m", "tools": [{"type": "function", "function": {"name": "f" * 65}}]},
            "tools[0].function.name",
            "Invalid 'tools[0].function.name'",
        ),
        (
            {"model": "m", "tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]},
            "tools[0].function.parameters",
            "expected an object",
        ),
        ({"model": "m", "response_format": "json"}, "response_format", "Invalid value: 'json'"),
        ({"model": "m", "response_format": 5}, "response_format", "expected an object, but got an integer"),
        ({"model": "m", "response_format": {"type": "xml"}}, "response_format.type", "Invalid value: 'xml'"),
        ({"model": "m", "response_format": {"type": ["text"]}}, "response_format.type", "Invalid value: ['text']"),
        ({"model": "m", "response_format": {}}, "response_format.type", "Missing required parameter"),
        (
            {"model": "m", "response_format": {"type": "json_schema"}},
            "response_format.json_schema",
            "Missing required parameter",
        ),
        (
            {"model": "m", "response_format": {"type": "json_schema", "json_schema": {"name": "a b"}}},
            "response_format.json_schema.name",
            "an id of 1 to 64 characters",
        ),
        (
            {"model": "m", "tool_resources": {"file_search": {"vector_store_ids": ["a", "b"]}}},
            "tool_resources.file_search.vector_store_ids",
            "maximum length 1",
        ),
        ({"model": "m", "reasoning_effort": "extreme"}, "reasoning_effort", "Invalid value: 'extreme'"),
    ],
)
def test_bad_create_is_a_400_naming_the_field_and_writes_nothing(
    api: Api, body: dict[str, Any], param: str, contains: str
) -> None:
    reply = api("POST", "/assistants", body)
    assert reply.status == 400, reply.body
    assert_error(reply.body, 400, param=param, contains=contains)
    assert reply.headers["x-should-retry"] == "false"
    assert _listed(api)["data"] == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": None}, "model"),
        ({"tools": None}, "tools"),
        ({"tools": [{"type": "code_interpreter"}]}, "tools[0].type"),
        ({"tools": [SEARCH, SEARCH]}, "tools[1].type"),
        ({"temperature": 3}, "temperature"),
        ({"name": "n" * 257}, "name"),
        ({"metadata": {"k": "v" * 513}}, "metadata"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_modify_is_a_400_naming_the_field_and_changes_nothing(api: Api, body: dict[str, Any], param: str) -> None:
    created = _create(api, tools=[WEATHER])
    reply = api("POST", f"/assistants/{created['id']}", body)
    assert reply.status == 400, reply.body
    assert_error(reply.body, 400, param=param)
    assert api("GET", f"/assistants/{created['id']}").body == created


def test_file_search_tools_are_kept_as_given_beside_functions(api: Api) -> None:
    """The tool alone, and with its options (OpenAI's ranker names, a threshold within [0, 1]); a function named
    file_search is an ordinary function when the tool is not there."""
    tuned = {
        "type": "file_search",
        "file_search": {
            "max_num_results": 5,
            "ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.4},
        },
    }
    assert _create(api, tools=[WEATHER, SEARCH])["tools"] == [WEATHER, SEARCH]
    assert _create(api, tools=[tuned])["tools"] == [tuned]
    defaulted = _create(
        api, tools=[{"type": "file_search", "file_search": {"ranking_options": {"score_threshold": 0}}}]
    )
    assert defaulted["tools"][0]["file_search"]["ranking_options"] == {"ranker": "auto", "score_threshold": 0}
    named = {"type": "function", "function": {"name": "file_search"}}
    assert _create(api, tools=[named])["tools"] == [named]
    changed = api("POST", f"/assistants/{_create(api)['id']}", {"tools": [SEARCH]})
    assert changed.status == 200, changed.body
    assert changed.body["tools"] == [SEARCH]


def test_instructions_too_large_to_store_compressed_are_a_400_naming_them(api: Api) -> None:
    """Random text barely compresses: 256,000 characters of it cannot fit the assistant's one item."""
    import random

    rng = random.Random(7)
    noise = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(256_000))
    reply = api("POST", "/assistants", {"model": "m", "instructions": noise})
    assert reply.status == 400
    assert_error(reply.body, 400, param="instructions", contains="too large to store")
    created = _create(api)
    modify = api("POST", f"/assistants/{created['id']}", {"instructions": noise})
    assert modify.status == 400
    assert_error(modify.body, 400, param="instructions", contains="too large to store")
    assert [a["id"] for a in _listed(api)["data"]] == [created["id"]]


def test_a_function_whose_schema_nests_deeply_is_kept_and_one_too_deep_names_tools(api: Api) -> None:
    """Tools start five levels down, and each nested property takes two more: 20 nested objects fit."""

    def schema(levels: int) -> dict[str, Any]:
        inner: dict[str, Any] = {"type": "string", "enum": ["cm", "in"]}
        for n in range(levels):
            inner = {"type": "object", "properties": {f"p{n}": inner}}
        return inner

    deep = {"type": "function", "function": {"name": "place_order", "parameters": schema(20)}}
    created = _create(api, tools=[deep])
    assert created["tools"] == [deep]
    too_deep = {"type": "function", "function": {"name": "place_order", "parameters": schema(40)}}
    reply = api("POST", "/assistants", {"model": "gpt-4o", "tools": [too_deep]})
    assert_error(reply.body, 400, param="tools", contains="nested too deeply")
