"""OpenAI's attribute filters of a vector store search, evaluated on a file's attributes.

A filter is the JSON the search request gave, once ``wire.search_bodies`` has checked its shape: a
``ComparisonFilter`` (``{"type": "eq", "key": ..., "value": ...}``, types eq ne gt gte lt lte in nin) or a
``CompoundFilter`` (``{"type": "and" | "or", "filters": [...]}``, nested to any depth).

The rules, where OpenAI documents none:
- Values compare only with values of their own kind: a number with a number (``1`` equals ``1.0``), a string
  with a string, a boolean with a boolean (``true`` is not ``1``). A value of another kind is not equal.
- ``gt``/``gte``/``lt``/``lte`` order numbers by value and strings by code point; between kinds, or on
  booleans, they are false.
- A file without the key: every comparison is false except ``ne`` and ``nin``, which are true (its value is
  not the one given, nor among them), so that ``ne`` is always the negation of ``eq`` and ``nin`` of ``in``.
- ``and`` of no filters is true, ``or`` of none false (the request's check refuses an empty list anyway).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin")
COMPOUNDS = ("and", "or")
_ABSENT = object()


def matches(condition: Mapping[str, Any], attributes: Mapping[str, str | float | bool]) -> bool:
    """Whether a file with these ``attributes`` passes the filter ``condition``."""
    kind = condition["type"]
    if kind == "and":
        return all(matches(inner, attributes) for inner in condition["filters"])
    if kind == "or":
        return any(matches(inner, attributes) for inner in condition["filters"])
    return _compare(kind, attributes.get(condition["key"], _ABSENT), condition["value"])


def _compare(kind: str, have: Any, value: Any) -> bool:
    if have is _ABSENT:
        return kind in ("ne", "nin")
    if kind == "eq":
        return _same(have, value)
    if kind == "ne":
        return not _same(have, value)
    if kind == "in":
        return any(_same(have, item) for item in value)
    if kind == "nin":
        return not any(_same(have, item) for item in value)
    if not _ordered(have, value):
        return False
    if kind == "gt":
        return bool(have > value)
    if kind == "gte":
        return bool(have >= value)
    if kind == "lt":
        return bool(have < value)
    if kind == "lte":
        return bool(have <= value)
    raise ValueError(f"not a filter type: {kind!r}")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    """Equal and of one kind (Python's own ``==`` takes ``True`` for ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _number(a) and _number(b):
        return bool(a == b)
    return isinstance(a, str) and isinstance(b, str) and a == b


def _ordered(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` have an order between them: two numbers, or two strings."""
    return (_number(a) and _number(b)) or (isinstance(a, str) and isinstance(b, str))
