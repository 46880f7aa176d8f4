"""S3 Vectors' metadata filters, checked and evaluated as the Amazon S3 User Guide's "Metadata filtering"
documents them, for the embedded S3 Vectors (``moto_s3vectors.py``). Standard library only.

The documented operators: ``$eq`` and ``$ne`` (a string, a number or a boolean), ``$gt``, ``$gte``, ``$lt``,
``$lte`` (a number), ``$in`` and ``$nin`` (a non-empty array of those), ``$exists`` (a boolean), ``$and`` and
``$or`` (a non-empty array of filters); a bare value is ``$eq``; ``$eq`` against an array of metadata values
holds when any of them equals. A filter on a non-filterable key is refused (400). Several keys of one object
must all hold, as several operators on one key (``{"year": {"$gte": 2020, "$lte": 2024}}``).

What the page leaves open, decided as MongoDB's operators (whose syntax it follows) decide it: ``$ne`` and
``$nin`` hold for a vector without the key; a comparison and ``$in``, like ``$eq``, hold when any value of an
array does; a boolean equals only a boolean (``true`` is not ``1``); ``{}`` selects every vector.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection
from typing import Any

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}
_MISSING = object()


class InvalidFilter(ValueError):
    """A filter S3 Vectors refuses (its ValidationException, 400)."""


def _primitive(value: Any) -> bool:
    return isinstance(value, str | int | float)  # bool is an int


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check(filter_: Any, non_filterable: Collection[str]) -> None:
    """Raise ``InvalidFilter`` unless ``filter_`` is a filter S3 Vectors takes on an index whose
    non-filterable keys are ``non_filterable``."""
    if not isinstance(filter_, dict):
        raise InvalidFilter("Invalid filter: a filter is a JSON object")
    for key, condition in filter_.items():
        if key in ("$and", "$or"):
            if not isinstance(condition, list) or not condition:
                raise InvalidFilter(f"Invalid filter: {key} takes a non-empty array of filters")
            for inner in condition:
                check(inner, non_filterable)
        elif key.startswith("$"):
            raise InvalidFilter(f"Invalid filter: unsupported operator {key} at the top level")
        elif key in non_filterable:
            raise InvalidFilter(f"Invalid filter: metadata key '{key}' is non-filterable")
        else:
            _check_condition(key, condition)


def _check_condition(key: str, condition: Any) -> None:
    if _primitive(condition):
        return
    if not isinstance(condition, dict) or not condition:
        raise InvalidFilter(f"Invalid filter for '{key}': a string, number, boolean or an object of operators")
    for op, argument in condition.items():
        if op in ("$eq", "$ne"):
            valid = _primitive(argument)
        elif op in _COMPARISONS:
            valid = _number(argument)
        elif op in ("$in", "$nin"):
            valid = isinstance(argument, list) and bool(argument) and all(_primitive(a) for a in argument)
        elif op == "$exists":
            valid = isinstance(argument, bool)
        else:
            raise InvalidFilter(f"Invalid filter for '{key}': unsupported operator {op}")
        if not valid:
            raise InvalidFilter(f"Invalid filter for '{key}': invalid operand of {op}: {argument!r}")


def matches(filter_: dict[str, Any], metadata: dict[str, Any]) -> bool:
    """Whether a vector with ``metadata`` is among those ``filter_`` (checked) selects."""
    for key, condition in filter_.items():
        if key == "$and":
            held = all(matches(inner, metadata) for inner in condition)
        elif key == "$or":
            held = any(matches(inner, metadata) for inner in condition)
        else:
            operators = condition if isinstance(condition, dict) else {"$eq": condition}
            value = metadata.get(key, _MISSING)
            held = all(_holds(op, argument, value) for op, argument in operators.items())
        if not held:
            return False
    return True


def _holds(op: str, argument: Any, value: Any) -> bool:
    if op == "$exists":
        return (value is not _MISSING) is bool(argument)
    if op == "$ne":
        return not _holds("$eq", argument, value)
    if op == "$nin":
        return not _holds("$in", argument, value)
    if value is _MISSING:
        return False
    values = value if isinstance(value, list) else [value]
    if op == "$eq":
        return any(_equal(v, argument) for v in values)
    if op == "$in":
        return any(_equal(v, a) for v in values for a in argument)
    compare = _COMPARISONS[op]
    return any(_number(v) and bool(compare(v, argument)) for v in values)


def _equal(value: Any, argument: Any) -> bool:
    if isinstance(value, bool) or isinstance(argument, bool):
        return isinstance(value, bool) and isinstance(argument, bool) and value == argument
    if _number(value) and _number(argument):
        return bool(value == argument)
    return type(value) is type(argument) and bool(value == argument)
