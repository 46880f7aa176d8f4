"""The body of a vector store search (OpenAI's ``VectorStoreSearchRequest``), its attribute filters checked whole
(what ``domain.filters.matches`` then evaluates), validated like every body here (``request_bodies``: strict,
unknown fields refused, OpenAI's 400s naming the field)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

# The request as the searches take it lives in the domain (the worker builds one without pydantic).
from threads_api.domain.vector_stores import SearchRequest as SearchRequest  # noqa: PLC0414
from threads_api.wire.assistant_bodies import _a_number, _between
from threads_api.wire.request_bodies import _Body, parse
from threads_api.wire.vector_store_fields import Flag, integer, tagged

SEARCH_MAX_RESULTS = 50  # OpenAI's
SEARCH_MAX_QUERIES = 10  # ours: each query is embedded within the one request's time


def _a_scalar(value: Any) -> Any:
    if isinstance(value, str | bool) or (isinstance(value, int | float) and math.isfinite(value)):
        return value
    # request_bodies' 400 names the type from the error's kind: "expected a string, a number or a boolean"
    raise PydanticCustomError("a_string,_a_number_or_a_boolean_type", "Input should be a string, number or boolean")


def _a_member(value: Any) -> Any:
    if isinstance(value, bool) or not (
        isinstance(value, str) or (isinstance(value, int | float) and math.isfinite(value))
    ):
        raise PydanticCustomError("a_string_or_a_number_type", "Input should be a string or a number")
    return value


class ComparisonFilter(_Body):
    """``ComparisonFilter`` with one value."""

    type: Literal["eq", "ne", "gt", "gte", "lt", "lte"]
    key: str
    value: Annotated[str | bool | int | float, BeforeValidator(_a_scalar)]


class MembershipFilter(_Body):
    """``ComparisonFilter`` of ``in``/``nin``: its value is an array of strings and numbers."""

    type: Literal["in", "nin"]
    key: str
    value: list[Annotated[str | int | float, BeforeValidator(_a_member)]]


class CompoundFilter(_Body):
    type: Literal["and", "or"]
    filters: Annotated[list[Filter], Field(min_length=1)]


class _FilterType(_Body, extra="allow"):
    type: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "and", "or"]


_FILTERS: dict[str, type[_Body]] = {
    **dict.fromkeys(("eq", "ne", "gt", "gte", "lt", "lte"), ComparisonFilter),
    **dict.fromkeys(("in", "nin"), MembershipFilter),
    **dict.fromkeys(("and", "or"), CompoundFilter),
}
Filter = Annotated[ComparisonFilter | MembershipFilter | CompoundFilter, tagged(_FILTERS, _FilterType)]
CompoundFilter.model_rebuild()


def _query_list(value: Any) -> Any:
    if isinstance(value, str):
        if not value:
            raise PydanticCustomError("empty_string", "empty string. Expected a non-empty string.")
        return [value]
    if not isinstance(value, list):
        raise PydanticCustomError("a_string_or_an_array_type", "Input should be a string or an array")
    return value


_QUERY = {"type": "string", "minLength": 1}
_QUERY_SCHEMA = {"anyOf": [_QUERY, {"type": "array", "items": _QUERY, "minItems": 1, "maxItems": SEARCH_MAX_QUERIES}]}


class RankingOptions(_Body):
    ranker: Literal["none", "auto", "default-2024-11-15"] = "auto"
    score_threshold: Annotated[float, BeforeValidator(_a_number), AfterValidator(_between(0, 1))] = 0.0


class VectorStoreSearchRequest(_Body):
    query: Annotated[
        list[Annotated[str, Field(min_length=1)]],
        Field(min_length=1, max_length=SEARCH_MAX_QUERIES),
        BeforeValidator(_query_list),
        WithJsonSchema(_QUERY_SCHEMA),
    ]
    rewrite_query: Flag = False
    max_num_results: Annotated[int, *integer(1, SEARCH_MAX_RESULTS)] = 10
    filters: Filter | None = None
    ranking_options: RankingOptions | None = None


def search_request(body: dict[str, Any]) -> SearchRequest:
    request = parse(VectorStoreSearchRequest, body)
    ranking = request.ranking_options or RankingOptions()
    return SearchRequest(
        queries=request.query,
        max_num_results=request.max_num_results,
        filters=request.filters.model_dump() if request.filters is not None else None,
        ranker=ranking.ranker,
        score_threshold=ranking.score_threshold,
        rewrite_query=request.rewrite_query,
    )
