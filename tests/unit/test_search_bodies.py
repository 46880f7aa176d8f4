"""The body of a vector store search (``wire.search_bodies``): its queries, bounds and ranking options, and its
filters checked whole, however deep; each 400 names the field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.schemas import assert_valid
from tests.unit.test_vector_store_bodies import refused
from threads_api.domain import filters
from threads_api.wire import vector_store_bodies
from threads_api.wire.search_bodies import SearchRequest, search_request


def _filter(kind: str, key: Any, value: Any) -> dict[str, Any]:
    return {"type": kind, "key": key, "value": value}


def test_defaults() -> None:
    assert vector_store_bodies.search_request is search_request  # what the search handler imports
    assert search_request({"query": "what"}) == SearchRequest(["what"], 10, None, "auto", 0.0, False)
    assert search_request({"query": "q", "filters": None, "ranking_options": None}) == search_request({"query": "q"})


def test_everything_given() -> None:
    body = {
        "query": ["one", "two"],
        "max_num_results": 50,
        "rewrite_query": True,
        "ranking_options": {"ranker": "none", "score_threshold": 1},
        "filters": _filter("in", "year", [2023, "2024", 2.5]),
    }
    assert_valid(body, "VectorStoreSearchRequest")
    assert search_request(body) == SearchRequest(
        ["one", "two"], 50, _filter("in", "year", [2023, "2024", 2.5]), "none", 1, True
    )
    for ranker in ("auto", "default-2024-11-15"):
        assert search_request({"query": "q", "ranking_options": {"ranker": ranker}}).ranker == ranker
    assert search_request({"query": "q", "ranking_options": {"score_threshold": 0.5}}).score_threshold == 0.5
    assert search_request({"query": "q", "max_num_results": 1}).max_num_results == 1


def test_filters_come_back_as_sent_and_nest_to_any_depth() -> None:
    deep: dict[str, Any] = _filter("eq", "k", True)
    for level in range(20):
        deep = {"type": "and" if level % 2 else "or", "filters": [deep, _filter("ne", "n", level)]}
    request = search_request({"query": "q", "filters": deep})
    assert request.filters == deep
    assert filters.matches(deep, {"k": True, "n": -1})
    value_kinds = search_request({"query": "q", "filters": _filter("gte", "k", 3)}).filters
    assert value_kinds is not None
    assert type(value_kinds["value"]) is int  # kept as sent: 3, not 3.0
    for value in ("s", 2.5, False, 0):
        assert search_request({"query": "q", "filters": _filter("eq", "k", value)}).filters == _filter("eq", "k", value)


@pytest.mark.parametrize(
    ("body", "param", "contains"),
    [
        ({}, "query", "Missing required parameter: 'query'."),
        ({"query": ""}, "query", "empty string"),
        ({"query": []}, "query", "empty array"),
        ({"query": ["a", ""]}, "query[1]", "empty string"),
        ({"query": ["a", 1]}, "query[1]", "expected a string"),
        ({"query": 3}, "query", "expected a string or an array, but got an integer"),
        ({"query": None}, "query", "expected a string or an array, but got null"),
        ({"query": [f"q{i}" for i in range(11)]}, "query", "maximum length 10"),
        ({"query": "q", "max_num_results": 0}, "max_num_results", "Expected a value >= 1, but got 0"),
        ({"query": "q", "max_num_results": 51}, "max_num_results", "Expected a value <= 50, but got 51"),
        ({"query": "q", "max_num_results": 5.0}, "max_num_results", "expected an integer, but got a number"),
        ({"query": "q", "max_num_results": "5"}, "max_num_results", "expected an integer, but got a string"),
        ({"query": "q", "rewrite_query": "true"}, "rewrite_query", "expected a boolean, but got a string"),
        ({"query": "q", "rewrite_query": 1}, "rewrite_query", "expected a boolean"),
        ({"query": "q", "ranking_options": {"ranker": "best"}}, "ranking_options.ranker", "Supported values"),
        ({"query": "q", "ranking_options": {"score_threshold": 1.01}}, "ranking_options.score_threshold", "<= 1"),
        ({"query": "q", "ranking_options": {"score_threshold": -0.1}}, "ranking_options.score_threshold", ">= 0"),
        ({"query": "q", "ranking_options": {"score_threshold": "1"}}, "ranking_options.score_threshold", "a number"),
        ({"query": "q", "ranking_options": {"top": 1}}, "ranking_options.top", "Unrecognized"),
        ({"query": "q", "ranking_options": "auto"}, "ranking_options", "expected an object"),
        ({"query": "q", "vector_store_ids": ["vs_1"]}, "vector_store_ids", "Unrecognized"),
    ],
)
def test_search_refusals_name_the_field(body: dict[str, Any], param: str, contains: str) -> None:
    refused(search_request, body, param, contains)


@pytest.mark.parametrize(
    ("condition", "param", "contains"),
    [
        ("eq", "filters", "expected an object, but got a string"),
        ({"key": "k", "value": 1}, "filters.type", "Missing required parameter: 'filters.type'."),
        ({"type": "like", "key": "k", "value": 1}, "filters.type", "Supported values are: 'eq', 'ne'"),
        ({"type": 1, "key": "k", "value": 1}, "filters.type", "Supported values"),
        ({"type": "eq", "value": 1}, "filters.key", "Missing required parameter: 'filters.key'."),
        ({"type": "eq", "key": "k"}, "filters.value", "Missing required parameter: 'filters.value'."),
        (_filter("eq", 1, 1), "filters.key", "expected a string"),
        (_filter("eq", "k", None), "filters.value", "expected a string, a number or a boolean, but got null"),
        (_filter("eq", "k", [1]), "filters.value", "expected a string, a number or a boolean, but got an array"),
        (_filter("gt", "k", {"a": 1}), "filters.value", "but got an object"),
        (_filter("lt", "k", float("nan")), "filters.value", "expected a string, a number or a boolean"),
        (_filter("in", "k", 1), "filters.value", "expected an array, but got an integer"),
        (_filter("nin", "k", "a"), "filters.value", "expected an array, but got a string"),
        (_filter("in", "k", [1, True]), "filters.value[1]", "expected a string or a number, but got a boolean"),
        (_filter("in", "k", ["a", None]), "filters.value[1]", "expected a string or a number, but got null"),
        (_filter("eq", "k", 1) | {"extra": 1}, "filters.extra", "Unrecognized request argument supplied"),
        ({"type": "and"}, "filters.filters", "Missing required parameter: 'filters.filters'."),
        ({"type": "or", "filters": []}, "filters.filters", "empty array"),
        ({"type": "and", "filters": _filter("eq", "k", 1)}, "filters.filters", "expected an array"),
        ({"type": "and", "filters": [None]}, "filters.filters[0]", "expected an object, but got null"),
        ({"type": "and", "filters": [{"type": "xor"}]}, "filters.filters[0].type", "Supported values"),
        ({"type": "and", "filters": [_filter("eq", "a", 1)], "key": "k"}, "filters.key", "Unrecognized"),
        (
            {
                "type": "and",
                "filters": [_filter("eq", "a", 1), {"type": "or", "filters": [{"type": "gt", "key": "k"}]}],
            },
            "filters.filters[1].filters[0].value",
            "Missing required parameter: 'filters.filters[1].filters[0].value'.",
        ),
    ],
)
def test_filter_refusals_name_the_field(condition: Any, param: str, contains: str) -> None:
    refused(search_request, {"query": "q", "filters": condition}, param, contains)
