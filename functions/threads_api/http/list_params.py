"""OpenAI's list parameters (``limit``, ``order``, ``after``, ``before``) and ids given in a query string,
read from a request's query: OpenAI's 400s for what they may not be."""

from __future__ import annotations

import re

from threads_api.domain import errors, limits
from threads_api.domain.errors import BadCursor
from threads_api.domain.file_search import INCLUDE_CONTENT
from threads_api.domain.ids import ID_PATTERN
from threads_api.domain.records import PageParams
from threads_api.domain.vector_stores import FILE_STATUSES

# ASCII only: ``\d`` and ``int()`` would take any Unicode digit (U+FF11, U+0663), ``str.strip()`` any space.
_LIMIT_PATTERN = re.compile(r"[+-]?[0-9]{1,10}")
_ASCII_SPACE = " \t\n\r\f\v"


def id_param(value: str, param: str) -> str:
    """An id given in the query (not a path or a cursor): 1 to 64 characters of [A-Za-z0-9_-], as in bodies."""
    if not ID_PATTERN.fullmatch(value):
        raise errors.invalid_id(param, limits.ID_MAX_CHARS)
    return value


def page_params(
    query: dict[str, str],
    cursor_prefix: str,
    max_limit: int = limits.LIST_MAX_LIMIT,
    default_limit: int = limits.LIST_DEFAULT_LIMIT,
) -> PageParams:
    """``limit`` 1..100 (20), ``order`` asc|desc (desc), ``after``/``before`` ids: OpenAI's list parameters
    (a list with other bounds for ``limit`` gives them)."""
    raw_limit = query.get("limit", str(default_limit)).strip(_ASCII_SPACE)
    if not _LIMIT_PATTERN.fullmatch(raw_limit):
        raise errors.invalid(
            "Invalid type for 'limit': expected an integer, but got a string instead.",
            param="limit",
            code="invalid_type",
        )
    limit = int(raw_limit)
    if not 1 <= limit <= max_limit:
        bound = "below minimum" if limit < 1 else "above maximum"
        expected = ">= 1" if limit < 1 else f"<= {max_limit}"
        raise errors.invalid(
            f"Invalid 'limit': integer {bound} value. Expected a value {expected}, but got {limit} instead.",
            param="limit",
            code=f"integer_{bound.replace(' ', '_')}_value",
        )
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise errors.invalid(
            f"Invalid value: {order!r}. Supported values are: 'asc' and 'desc'.", param="order", code="invalid_value"
        )
    cursors: dict[str, str | None] = {}
    for name in ("after", "before"):
        value = query.get(name) or None
        if value is not None and (not value.startswith(cursor_prefix) or not ID_PATTERN.fullmatch(value)):
            raise BadCursor(name, value)
        cursors[name] = value
    return PageParams(limit, order, cursors["after"], cursors["before"])


def purpose_param(query: dict[str, str]) -> str | None:
    """``files.list``'s ``purpose`` filter: one of the purposes a file may have (None: every file)."""
    purpose = query.get("purpose") or None
    if purpose is not None and purpose not in limits.FILE_PURPOSES:
        supported = ", ".join(f"'{p}'" for p in limits.FILE_PURPOSES)
        raise errors.invalid(
            f"Invalid value for 'purpose': {purpose[:64]!r}. Supported values are: {supported}.",
            param="purpose",
            code="invalid_value",
        )
    return purpose


def status_filter(query: dict[str, str]) -> str | None:
    """A vector store's files' ``filter``: one of the statuses a file may have (None: every file)."""
    status = query.get("filter") or None
    if status is not None and status not in FILE_STATUSES:
        supported = ", ".join(f"'{s}'" for s in FILE_STATUSES)
        raise errors.invalid(
            f"Invalid value for 'filter': {status[:64]!r}. Supported values are: {supported}.",
            param="filter",
            code="invalid_value",
        )
    return status


def include_param(query: dict[str, str]) -> bool:
    """Whether ``include[]`` asks for the file_search results' content (a run's steps, a streamed run's step
    events): its one value; any other is a 400. The SDK sends ``include[]``; ``include`` is taken too."""
    given = query.get("include[]", query.get("include")) or None
    if given is None:
        return False
    if given != INCLUDE_CONTENT:
        raise errors.invalid(
            f"Invalid value for 'include[]': {given[:128]!r}. Supported values are: '{INCLUDE_CONTENT}'.",
            param="include[]",
            code="invalid_value",
        )
    return True
