"""Queries page by page: a list's page behind a cursor, a page's body budget, and every page of a query."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from threads_api.domain import limits
from threads_api.domain.errors import BadCursor, NotFound
from threads_api.store import dynamodb
from threads_api.store.items import THREAD_SK, stored_body_size, thread_key, visible_thread

if TYPE_CHECKING:
    from threads_api.store.items import Item


def query_page(
    cursor: Item | None,
    after: str | None,
    before: str | None,
    limit: int,
    order: str,
    *,
    sort_attr: str,
    key_condition: str,
    **query: Any,
) -> tuple[list[Item], bool, bool]:
    """One page of an ordered query in ``order``: its items, whether more follow, and whether it was read
    backwards (a ``before`` page, away from its cursor). ``cursor`` is the item ``after`` or ``before``
    names, None where the caller found nothing it may page from (a 400 naming the parameter); the page starts
    past its ``sort_attr`` value. ``query`` holds the Query's other parameters (IndexName, and
    ExpressionAttributeValues for ``key_condition``)."""
    backwards = before is not None and after is None
    cursor_ok = None
    if after or before:
        if cursor is None:
            raise BadCursor("after" if after else "before", str(after or before))
        cursor_ok = cursor[sort_attr]["S"]
    forward = (order == "asc") != backwards
    condition = key_condition
    if cursor_ok is not None:
        condition += f" AND {sort_attr} {'>' if forward else '<'} :c"
        query["ExpressionAttributeValues"] = {**query["ExpressionAttributeValues"], ":c": {"S": cursor_ok}}
    items: list[Item] = []
    # A Query page stops at 1 MB; large messages can cut it short of the limit, so read on until full.
    while True:
        response = dynamodb.query(
            KeyConditionExpression=condition,
            ScanIndexForward=forward,
            Limit=limit + 1 - len(items),
            **query,
        )
        items.extend(response.get("Items", []))
        if len(items) > limit or "LastEvaluatedKey" not in response:
            break
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    has_more = len(items) > limit
    items = items[:limit]
    if backwards:
        items.reverse()
    return items, has_more, backwards


def thread_child(project: str, thread_id: str, key: Item | None) -> Item | None:
    """The item at ``key`` of a live thread of ``project`` (None where there is none), read with the thread
    in one BatchGetItem; a thread that is gone, or another project's, is a 404."""
    return thread_and_child(project, thread_id, key)[1]


def thread_and_child(project: str, thread_id: str, key: Item | None) -> tuple[Item, Item | None]:
    """``thread_child``, and the thread's item with it."""
    keys = [thread_key(thread_id)] + ([key] if key is not None else [])
    by_key = {(item["pk"]["S"], item["sk"]["S"]): item for item in dynamodb.batch_get(keys)}
    thread = by_key.get((thread_id, THREAD_SK))
    if not visible_thread(thread, project):
        raise NotFound("thread", thread_id)
    return thread, by_key.get((key["pk"]["S"], key["sk"]["S"])) if key is not None else None


def thread_page(  # noqa: PLR0913 - OpenAI's list parameters (limit, order, after, before) come as they are
    project: str,
    thread_id: str,
    cursor_key: Item | None,
    partition: str,
    limit: int,
    order: str,
    after: str | None,
    before: str | None,
) -> tuple[list[Item], bool, bool]:
    """A page of a thread's messages or runs (``partition``) in ``by_order`` order: one BatchGetItem (the
    thread, and the cursor's item ``cursor_key``), one strongly consistent Query. Returns the items, whether
    more follow, and whether the page was read backwards (a ``before`` page, away from its cursor)."""
    return order_page(thread_child(project, thread_id, cursor_key), partition, limit, order, after, before)


def order_page(
    cursor: Item | None,
    partition: str,
    limit: int,
    order: str,
    after: str | None,
    before: str | None,
) -> tuple[list[Item], bool, bool]:
    """A page of ``partition``'s items in ``by_order`` order (a thread's messages or runs: ``thread_page``; a
    project's assistants or vector stores), past ``cursor`` (the item ``after`` or ``before`` names: its
    ``ok``). A strongly consistent Query: what was just written is listed (an assistant created, then listed)."""
    return query_page(
        cursor,
        after,
        before,
        limit,
        order,
        sort_attr="ok",
        key_condition="pk = :t",
        IndexName="by_order",
        ExpressionAttributeValues={":t": {"S": partition}},
        ConsistentRead=True,  # a local index reads strongly: what was just written is listed
    )


def within_budget(items: list[Item], cursor_at_end: bool) -> tuple[list[Item], bool]:
    """Keep a page's stored bodies under ``LIST_PAGE_MAX_BODY_BYTES`` (at least one message), cutting the
    end farthest from the cursor; the caller reports has_more. A cheap first cut, before the parts of large
    messages are read: the exact fit to Lambda's response limit is ``response_bodies.list_object``'s."""
    ordered = items[::-1] if cursor_at_end else items
    kept: list[Item] = []
    total = 0
    for item in ordered:
        size = stored_body_size(item)
        if kept and total + size > limits.LIST_PAGE_MAX_BODY_BYTES:
            break
        kept.append(item)
        total += size
    trimmed = len(kept) < len(items)
    return (kept[::-1] if cursor_at_end else kept), trimmed


def every_page(**query: Any) -> Iterator[list[Item]]:
    """The items of a query, a page (up to 1 MB) at a time, to its end."""
    while True:
        page = dynamodb.query(**query)
        yield page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
