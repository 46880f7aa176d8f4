"""Messages: append (the order protocol), read, modify, delete, and a thread's list.

The order protocol: every message has an order key ``ok`` (``ids.next_order_key``), and an append is one
transaction that puts the message and advances its thread's ``last_ok`` under the condition
``last_ok < ok``. Order keys so strictly increase per thread, whatever the clocks of concurrent writers,
and an append to a thread deleted meanwhile fails its condition: no message outlives its thread.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from threads_api.domain import clock, ids
from threads_api.domain.errors import ActiveRun, Conflict, NotFound, Unavailable
from threads_api.domain.records import JsonObject, Message, Page
from threads_api.store import dynamodb
from threads_api.store.items import (
    dumps,
    message_from_item,
    message_items,
    message_key,
    part_keys,
    thread_key,
    visible_thread,
)
from threads_api.store.paging import thread_child, thread_page, within_budget

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from threads_api.store.items import Item

_BATCH_GET_MAX_KEYS = 100


def append_message(
    project: str,
    thread_id: str,
    role: str,
    content: list[JsonObject],
    attachments: list[JsonObject],
    metadata: dict[str, str],
    message_id: str | None = None,
) -> Message:
    """Append a caller's message in one transaction that also advances the thread's ``last_ok`` (the order
    protocol). While a run holds the thread (``active_run``, until ``active_until``) it is ``ActiveRun``.

    The message's put is conditional too (no message under its id yet): ``message_id`` is given by a request
    with an Idempotency-Key (derived from it), and a message already under it was written by an earlier run
    of that same request, so it is returned as it is instead of written again.
    """
    new = Message(message_id or ids.new_id("msg_"), thread_id, 0, role, content, attachments, metadata)
    return append(project, new)


def append(
    project: str, new: Message, *, run_write: TransactWriteItemTypeDef | None = None, release: bool = False
) -> Message:
    """Append ``new`` (its ``created_at`` is set here, from the clock of the attempt that lands).

    A run's reply (``new.run_id`` set) may be appended while its own run holds the thread: it lands in the
    same transaction as its run's save (``run_write``, conditional on the run's version: ``Conflict`` if the
    run changed), and with ``release`` the thread's lock is released with them (``runs.save_reply``)."""
    last_ok: str | None = None
    thread_id, message_id = new.thread_id, new.id
    for _ in dynamodb.APPEND_CONTENTION:
        ms = clock.now_ms()
        ok = ids.next_order_key(ms, last_ok)
        message = dataclasses.replace(new, created_at=ms // 1000)
        writes = _appending(project, message, ok, ms // 1000, run_write=run_write, release=release)
        try:
            # The token makes botocore's own retry of a transaction that did commit a success, not a failure.
            dynamodb.transact_write(writes, token=str(uuid.uuid4()))
            return message
        except ClientError as exc:
            reasons = dynamodb.cancellation_reasons(exc)  # [(code, item)]: the thread's update, the message's put
            if not reasons:
                raise
            if run_write is not None and dynamodb.condition_failed(exc, 2):
                raise Conflict(message.run_id or "") from exc
            if dynamodb.condition_failed(exc, 0):
                old = reasons[0][1] or dynamodb.get_item(thread_key(thread_id))
                if not visible_thread(old, project):
                    raise NotFound("thread", thread_id) from exc
                last_ok = old.get("last_ok", {}).get("S")
                if last_ok == ok:  # our own write, committed by an attempt whose answer was lost
                    return message
                _refuse_while_run_active(old, thread_id, message.run_id, ms // 1000)
            if dynamodb.condition_failed(exc, 1):
                # This request's message, written by an earlier run of it (its Idempotency-Key's id).
                existing = reasons[1][1] or dynamodb.get_item(message_key(thread_id, message_id))
                if existing is not None:
                    return messages_with_bodies([existing])[0]
            elif not dynamodb.condition_failed(exc, 0) and all(code != "TransactionConflict" for code, _ in reasons):
                raise  # not something a retry can cure
            # A concurrent append (conflict) or a stale last_ok: go again, after a backoff.
    raise Unavailable("transact_write_items")


def _appending(
    project: str,
    message: Message,
    ok: str,
    now: int,
    *,
    run_write: TransactWriteItemTypeDef | None,
    release: bool,
) -> list[TransactWriteItemTypeDef]:
    """The transaction that appends ``message`` under order key ``ok``: the thread's ``last_ok`` advanced
    (index 0; not while another run holds it), the message's put (index 1), its run's save (index 2, when
    given), then the message's parts."""
    item, *parts = message_items(message.thread_id, message, ok)
    writes: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": dynamodb.TABLE,
                "Key": thread_key(message.thread_id),
                "UpdateExpression": "SET last_ok = :k" + (" REMOVE active_run, active_until" if release else ""),
                "ConditionExpression": "prj = :p AND attribute_not_exists(pending) "
                "AND (attribute_not_exists(last_ok) OR last_ok < :k) "
                "AND (attribute_not_exists(active_run) OR active_until <= :now OR active_run = :run)",
                "ExpressionAttributeValues": {
                    ":p": {"S": project},
                    ":k": {"S": ok},
                    ":now": {"N": str(now)},
                    ":run": {"S": message.run_id or "-"},
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        {
            "Put": {
                "TableName": dynamodb.TABLE,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(sk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    ]
    if run_write is not None:
        writes.append(run_write)
    return writes + [{"Put": {"TableName": dynamodb.TABLE, "Item": part}} for part in parts]


def _refuse_while_run_active(thread: Item, thread_id: str, run_id: str | None, now: int) -> None:
    active = thread.get("active_run", {}).get("S")
    if active and active != run_id and int(thread.get("active_until", {}).get("N", "0")) > now:
        raise ActiveRun(thread_id, active, adding_messages=True)


def messages_with_bodies(items: list[Item]) -> list[Message]:
    """Messages from their items, fetching the parts of the (rare) large ones in one more round trip."""
    keys = part_keys(items)
    parts: dict[str, bytes] = {}
    for start in range(0, len(keys), _BATCH_GET_MAX_KEYS):
        for part in dynamodb.batch_get(keys[start : start + _BATCH_GET_MAX_KEYS]):
            parts[part["sk"]["S"]] = part["data"]["B"]
    return [message_from_item(item, parts) for item in items]


def get_message(project: str, thread_id: str, message_id: str) -> Message:
    item = thread_child(project, thread_id, message_key(thread_id, message_id))
    if item is None:
        raise NotFound("message", message_id)
    return messages_with_bodies([item])[0]


def messages_by_id(thread_id: str, message_ids: list[str]) -> list[Message]:
    """The messages of a thread with these ids (those that still exist), in the thread's order: a run's
    replies, for a list of messages filtered by ``run_id``."""
    items = []
    for start in range(0, len(message_ids), _BATCH_GET_MAX_KEYS):
        items += dynamodb.batch_get(
            [message_key(thread_id, m) for m in message_ids[start : start + _BATCH_GET_MAX_KEYS]]
        )
    return messages_with_bodies(sorted(items, key=lambda item: item["ok"]["S"]))


def _write_message_if_thread(project: str, thread_id: str, message_id: str, write: TransactWriteItemTypeDef) -> None:
    """A conditional write to a message, in a transaction with a check that its thread is the caller's."""
    check: TransactWriteItemTypeDef = {
        "ConditionCheck": {
            "TableName": dynamodb.TABLE,
            "Key": thread_key(thread_id),
            "ConditionExpression": "prj = :p AND attribute_not_exists(pending)",
            "ExpressionAttributeValues": {":p": {"S": project}},
        }
    }
    try:
        dynamodb.transact_write([check, write])
    except ClientError as exc:
        if dynamodb.error_code(exc) != "TransactionCanceledException":
            raise
        if dynamodb.condition_failed(exc, 0):
            raise NotFound("thread", thread_id) from exc
        if dynamodb.condition_failed(exc, 1):
            raise NotFound("message", message_id) from exc
        raise Unavailable("transact_write_items") from exc


def update_message_metadata(project: str, thread_id: str, message_id: str, metadata: dict[str, str]) -> Message:
    update: TransactWriteItemTypeDef = {
        "Update": {
            "TableName": dynamodb.TABLE,
            "Key": message_key(thread_id, message_id),
            "UpdateExpression": "SET meta = :m",
            "ConditionExpression": "attribute_exists(sk)",
            "ExpressionAttributeValues": {":m": {"S": dumps(metadata)}},
        }
    }
    _write_message_if_thread(project, thread_id, message_id, update)
    item = dynamodb.get_item(message_key(thread_id, message_id))
    if item is None:  # deleted between the two calls
        raise NotFound("message", message_id)
    return messages_with_bodies([item])[0]


def delete_message(project: str, thread_id: str, message_id: str) -> None:
    """Delete a message; the parts of a large one go with the stream-driven cleanup."""
    delete: TransactWriteItemTypeDef = {
        "Delete": {
            "TableName": dynamodb.TABLE,
            "Key": message_key(thread_id, message_id),
            "ConditionExpression": "attribute_exists(sk)",
        }
    }
    _write_message_if_thread(project, thread_id, message_id, delete)


def list_messages(project: str, thread_id: str, limit: int, order: str, after: str | None, before: str | None) -> Page:
    """A page of a thread's messages: one BatchGetItem (thread and cursor), one Query of ``by_order``."""
    cursor = after or before
    cursor_key = message_key(thread_id, cursor) if cursor is not None else None
    items, has_more, backwards = thread_page(project, thread_id, cursor_key, thread_id, limit, order, after, before)
    items, trimmed = within_budget(items, cursor_at_end=backwards)
    return Page(messages_with_bodies(items), has_more or trimmed, backwards)
