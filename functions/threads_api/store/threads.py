"""Threads: create (with their first messages, all or nothing), read, modify, delete, and a project's list.

A project's threads are listed by ``gsk``, a key from ``ids.CreationOrder``: in creation order, strictly so
for the threads one container creates (even within one millisecond), and by millisecond across containers.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from threads_api import store
from threads_api.domain import clock, ids, limits
from threads_api.domain.errors import ActiveRun, InProgress, NotFound
from threads_api.domain.records import JsonObject, Message, Page, Thread
from threads_api.store import dynamodb
from threads_api.store.items import (
    dumps,
    item_size,
    message_items,
    thread_from_item,
    thread_item,
    thread_key,
    visible_thread,
)
from threads_api.store.paging import query_page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

    from threads_api.store.items import Item

PENDING_TTL_SECONDS = 3600
NEW_ITEM = "attribute_not_exists(pk)"
creation_order = ids.CreationOrder()  # per container: see ``ids.CreationOrder`` for what it guarantees


@dataclass(frozen=True, slots=True)
class _Found:
    """What a keyed creation finds under its id instead of writing: an earlier run's thread (None: gone since)."""

    item: Item | None


def create_thread(
    project: str,
    metadata: dict[str, str],
    tool_resources: JsonObject,
    messages: list[tuple[str, list[JsonObject], list[JsonObject], dict[str, str]]],
    thread_id: str | None = None,
) -> tuple[Thread, list[Message]]:
    """Write a thread and its first messages (role, content, attachments, metadata), all or nothing.

    ``thread_id`` is given by a request with an Idempotency-Key (derived from it): when a thread with that id
    exists already, that same request created it, and it is returned as it is (with no messages) instead of
    written again; one still being written in stages is ``InProgress``.
    """
    ms = clock.now_ms()
    created_at = ms // 1000
    thread = Thread(thread_id or ids.new_id("thread_"), created_at, metadata, tool_resources)
    item = thread_item(project, thread, creation_order.next_key(ms))
    created: list[Message] = []
    items: list[Item] = []
    for seq, (role, content, attachments, meta) in enumerate(messages):
        message = Message(ids.new_id("msg_"), thread.id, created_at, role, content, attachments, meta)
        created.append(message)
        items.extend(message_items(thread.id, message, ids.order_key(ms, seq)))
    if created:
        item["last_ok"] = {"S": ids.order_key(ms, len(created) - 1)}

    found = write_new_thread(item, items, keyed=thread_id is not None)
    if found is None:
        return thread, created
    return _created_before(project, found.item, thread.id), []


def write_new_thread(item: Item, items: list[Item], *, keyed: bool) -> _Found | None:
    """A new thread's item and its messages' ``items``, whole or not at all: one put, one transaction, or in
    stages behind a hidden thread item when they exceed a transaction (an import reuses it). None once written."""
    if not items:
        return _put_thread(item, keyed)
    if len(items) + 1 <= limits.TRANSACTION_MAX_ITEMS and sum(map(item_size, [item, *items])) <= (
        limits.TRANSACTION_MAX_BYTES
    ):
        return _transact_thread(item, items, keyed)
    return _create_in_stages(item, items, keyed)


def _put_thread(item: Item, keyed: bool) -> _Found | None:
    """A thread alone, in one conditional put; None once it is written."""
    try:
        dynamodb.call("put_item", Item=item, ConditionExpression=NEW_ITEM)
        return None
    except ClientError as exc:
        if dynamodb.error_code(exc) != "ConditionalCheckFailedException":
            raise  # as it is, and without a read
        existing = dynamodb.get_item(thread_key(item["pk"]["S"]))
        if existing is not None and existing.get("gsk") == item["gsk"]:
            return None  # botocore's retry of our put, which had landed (its answer lost): ours, by its gsk
        if not keyed:
            raise
        return _Found(existing)


def _transact_thread(item: Item, items: list[Item], keyed: bool) -> _Found | None:
    """A thread and its messages in one transaction; None once it is written."""
    writes: list[TransactWriteItemTypeDef] = [
        {"Put": {"TableName": dynamodb.TABLE, "Item": item, "ConditionExpression": NEW_ITEM}}
    ]
    writes += [{"Put": {"TableName": dynamodb.TABLE, "Item": message}} for message in items]
    try:
        dynamodb.transact_write(writes, token=str(uuid.uuid4()))
        return None
    except ClientError as exc:
        if not keyed or not dynamodb.condition_failed(exc, 0):
            raise
        return _Found(dynamodb.get_item(thread_key(item["pk"]["S"])))


def _create_in_stages(item: Item, items: list[Item], keyed: bool) -> _Found | None:
    """A thread too large for one transaction: a hidden thread item, its messages, then the reveal.

    Until the last step the thread item is ``pending`` (every read treats it as absent) and carries a TTL,
    so a crash at any step leaves nothing forever: the TTL removes the thread item and the stream's REMOVE
    record purges whatever messages were written. ``pending`` holds this write's own token (its listing
    key, unique): botocore's retry of a step that landed knows it as its own, and no step touches another
    write's hidden item. None once it is written.
    """
    key = thread_key(item["pk"]["S"])
    token = item["gsk"]
    hidden = {name: value for name, value in item.items() if name not in ("gpk", "gsk")}
    hidden["pending"] = token
    hidden["expires_at"] = {"N": str(int(time.time()) + PENDING_TTL_SECONDS)}
    try:
        dynamodb.call("put_item", Item=hidden, ConditionExpression=NEW_ITEM)
    except ClientError as exc:
        if dynamodb.error_code(exc) != "ConditionalCheckFailedException":
            raise
        existing = dynamodb.get_item(key)
        if existing is None or existing.get("pending") != token:  # not this write's own put, retried
            if keyed:
                return _Found(existing)
            raise
    try:
        # Through the package: a test's store.batch_write reaches it.
        store.batch_write([{"PutRequest": {"Item": message}} for message in items])
        _reveal(key, item)
    except Exception:
        _forget_hidden(key, token)
        raise
    return None


def _reveal(key: Item, item: Item) -> None:
    """The last stage: the thread shown. A retry of a reveal that landed (botocore's, its answer lost) finds
    the thread shown already, with this write's listing key: that is this write's, done."""
    try:
        dynamodb.call(
            "update_item",
            Key=key,
            UpdateExpression="SET gpk = :gpk, gsk = :gsk REMOVE pending, expires_at",
            ConditionExpression="pending = :gsk",
            ExpressionAttributeValues={":gpk": item["gpk"], ":gsk": item["gsk"]},
        )
    except ClientError as exc:
        if dynamodb.error_code(exc) != "ConditionalCheckFailedException":
            raise
        shown = dynamodb.get_item(key)
        if shown is None or "pending" in shown or shown.get("gsk") != item["gsk"]:
            raise


def _forget_hidden(key: Item, token: AttributeValueTypeDef) -> None:
    """Best effort, after a failed stage: the hidden thread item removed now starts the purge of what was
    written at once instead of at its TTL. Only this write's, while hidden: a shown thread is never removed."""
    with contextlib.suppress(ClientError):  # else the TTL removes it, and the purge follows
        dynamodb.call(
            "delete_item", Key=key, ConditionExpression="pending = :w", ExpressionAttributeValues={":w": token}
        )


def _created_before(project: str, item: Item | None, thread_id: str) -> Thread:
    """The thread a keyed creation finds under its id: written by an earlier run of the same request."""
    if visible_thread(item, project):
        return thread_from_item(item)
    # Still being written in stages (or, in a rare race, just gone): a retry will know.
    raise InProgress(thread_id)


def get_thread(project: str, thread_id: str) -> Thread:
    item = dynamodb.get_item(thread_key(thread_id))
    if not visible_thread(item, project):
        raise NotFound("thread", thread_id)
    return thread_from_item(item)


def open_thread(project: str, thread_id: str, now: int) -> Thread:
    """The thread, for a request about to add messages to it: ``ActiveRun`` (adding messages) while a run
    holds it, so that nothing the message brings (its files in the thread's store) is written for a message
    the append would refuse; 404 as ``get_thread``."""
    item = dynamodb.get_item(thread_key(thread_id))
    if not visible_thread(item, project):
        raise NotFound("thread", thread_id)
    active = item.get("active_run", {}).get("S")
    if active and int(item.get("active_until", {}).get("N", "0")) > now:
        raise ActiveRun(thread_id, active, adding_messages=True)
    return thread_from_item(item)


def set_tool_resources(project: str, thread_id: str, old: JsonObject, new: JsonObject) -> Thread | None:
    """Replace the thread's tool resources with ``new`` if they are still ``old`` (as read): the thread, or
    None when another write changed them first (two first attachments at once: one store wins)."""
    try:
        item = dynamodb.call(
            "update_item",
            Key=thread_key(thread_id),
            UpdateExpression="SET tools = :t",
            ConditionExpression="prj = :p AND attribute_not_exists(pending) AND tools = :old",
            ExpressionAttributeValues={
                ":p": {"S": project},
                ":t": {"S": dumps(new)},
                ":old": {"S": dumps(old)},
            },
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )["Attributes"]
    except ClientError as exc:
        if dynamodb.error_code(exc) != "ConditionalCheckFailedException":
            raise
        if not visible_thread(exc.response.get("Item"), project):  # type: ignore[arg-type]
            raise NotFound("thread", thread_id) from exc
        return None
    return thread_from_item(item)


def update_thread(
    project: str, thread_id: str, metadata: dict[str, str] | None, tool_resources: JsonObject | None
) -> Thread:
    """Replace what is given (None keeps the stored value) in one conditional write: never resurrects."""
    sets, values = [], {":p": {"S": project}}
    if metadata is not None:
        sets.append("meta = :m")
        values[":m"] = {"S": dumps(metadata)}
    if tool_resources is not None:
        sets.append("tools = :t")
        values[":t"] = {"S": dumps(tool_resources)}
    if not sets:
        return get_thread(project, thread_id)
    item = dynamodb.write_existing(
        "update_item",
        "thread",
        thread_id,
        Key=thread_key(thread_id),
        UpdateExpression="SET " + ", ".join(sets),
        ConditionExpression="prj = :p AND attribute_not_exists(pending)",
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
    )["Attributes"]
    return thread_from_item(item)


def delete_thread(project: str, thread_id: str) -> None:
    """Delete the thread item; its messages go with the stream-driven purge."""
    dynamodb.write_existing(
        "delete_item",
        "thread",
        thread_id,
        Key=thread_key(thread_id),
        ConditionExpression="prj = :p AND attribute_not_exists(pending)",
        ExpressionAttributeValues={":p": {"S": project}},
    )


def list_threads(project: str, limit: int, order: str, after: str | None, before: str | None) -> Page:
    """A project's threads from the ``by_owner`` index: cost follows the page, not the table."""
    cursor = after or before
    item = dynamodb.get_item(thread_key(cursor)) if cursor else None
    if item is not None and (not visible_thread(item, project) or "gsk" not in item):
        item = None  # another project's, deleted, or not yet listed: no cursor to page from
    items, has_more, backwards = query_page(
        item,
        after,
        before,
        limit,
        order,
        sort_attr="gsk",
        key_condition="gpk = :g",
        IndexName="by_owner",
        ExpressionAttributeValues={":g": {"S": f"threads#{project}"}},
    )
    return Page([thread_from_item(item) for item in items], has_more, backwards)
