"""Attribute filters evaluated on a file's attributes (``domain.filters``): comparisons of one kind of value
with the same kind, a missing key, and compound filters nested."""

from __future__ import annotations

from typing import Any

import pytest

from threads_api.domain.filters import matches
from threads_api.domain.vector_stores import Attributes

FILE: Attributes = {"region": "eu", "year": 2024, "score": 2.5, "draft": False, "name": "b"}


def cmp(kind: str, key: str, value: Any) -> dict[str, Any]:
    return {"type": kind, "key": key, "value": value}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (cmp("eq", "region", "eu"), True),
        (cmp("eq", "region", "us"), False),
        (cmp("ne", "region", "us"), True),
        (cmp("ne", "region", "eu"), False),
        (cmp("eq", "year", 2024.0), True),  # numbers by value
        (cmp("eq", "year", "2024"), False),  # a string is not a number
        (cmp("ne", "year", "2024"), True),
        (cmp("eq", "draft", False), True),
        (cmp("eq", "draft", 0), False),  # a boolean is not a number
        (cmp("eq", "year", True), False),
        (cmp("gt", "year", 2023), True),
        (cmp("gt", "year", 2024), False),
        (cmp("gte", "year", 2024), True),
        (cmp("lt", "score", 3), True),
        (cmp("lt", "score", 2.5), False),
        (cmp("lte", "score", 2.5), True),
        (cmp("gt", "name", "a"), True),  # strings by code point
        (cmp("lt", "name", "B"), False),
        (cmp("gte", "name", "b"), True),
        (cmp("gt", "year", "2000"), False),  # between kinds: no order
        (cmp("lt", "name", 5), False),
        (cmp("gte", "draft", False), False),  # booleans: no order
        (cmp("lte", "year", True), False),
        (cmp("in", "region", ["us", "eu"]), True),
        (cmp("in", "region", ["us"]), False),
        (cmp("in", "year", ["2024", 2024.0]), True),
        (cmp("in", "year", ["2024"]), False),
        (cmp("in", "draft", [0]), False),
        (cmp("in", "region", []), False),
        (cmp("nin", "region", ["us"]), True),
        (cmp("nin", "region", ["eu", "us"]), False),
        (cmp("nin", "region", []), True),
    ],
)
def test_comparisons(condition: dict[str, Any], expected: bool) -> None:
    assert matches(condition, FILE) is expected


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("eq", "x", False),
        ("ne", "x", True),
        ("gt", 0, False),
        ("gte", 0, False),
        ("lt", 0, False),
        ("lte", 0, False),
        ("in", ["x"], False),
        ("nin", ["x"], True),
    ],
)
def test_a_missing_key_passes_only_ne_and_nin(kind: str, value: Any, expected: bool) -> None:
    assert matches(cmp(kind, "absent", value), FILE) is expected
    assert matches(cmp(kind, "absent", value), {}) is expected


def test_ne_and_nin_are_the_negations_of_eq_and_in() -> None:
    values: list[Any] = ["eu", "us", 2024, 2024.0, "2024", True, False, 0, 2.5]
    for key in [*FILE, "absent"]:
        for value in values:
            assert matches(cmp("ne", key, value), FILE) is not matches(cmp("eq", key, value), FILE)
            assert matches(cmp("nin", key, [value]), FILE) is not matches(cmp("in", key, [value]), FILE)


def test_compound_filters() -> None:
    eu, us, recent = cmp("eq", "region", "eu"), cmp("eq", "region", "us"), cmp("gte", "year", 2024)
    assert matches({"type": "and", "filters": [eu, recent]}, FILE)
    assert not matches({"type": "and", "filters": [us, recent]}, FILE)
    assert matches({"type": "or", "filters": [us, recent]}, FILE)
    assert not matches({"type": "or", "filters": [us, cmp("lt", "year", 2000)]}, FILE)
    nested = {"type": "and", "filters": [{"type": "or", "filters": [us, eu]}, {"type": "or", "filters": [us, recent]}]}
    assert matches(nested, FILE)
    assert not matches(nested, FILE | {"year": 1999})
    assert matches({"type": "and", "filters": []}, FILE)
    assert not matches({"type": "or", "filters": []}, FILE)


def test_deep_nesting() -> None:
    condition: dict[str, Any] = cmp("eq", "region", "eu")
    for level in range(64):
        condition = {"type": "and" if level % 2 else "or", "filters": [condition]}
    assert matches(condition, FILE)
    assert not matches(condition, {})
