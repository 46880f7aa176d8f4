"""Runs: created with their thread's lock (one active run per thread), read, listed, and saved conditionally.

A thread's runs live in a partition of their own, ``<thread_id>#runs``, listed in creation order by the
``by_order`` index (``ok``): the thread's messages' partition stays messages only. A run holds its steps.

The lock: the thread item's ``active_run`` (the run's id) and ``active_until`` (its ``expires_at``). A run
is created only where no lock is held or the one held has expired, a message is added only then too (see
``messages.append_message``), and a run that ends releases the lock in the same transaction.

Every save is conditional on the version it read (``ver``): the worker, cancel and submit_tool_outputs
never overwrite each other, and a save that loses reads again (``Conflict``).
Its item, encoded and measured, is ``run_items``'.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from threads_api.domain import clock, ids, limits
from threads_api.domain.errors import ActiveRun, Conflict, NotFound, TooLarge, Unavailable
from threads_api.domain.records import Message, Page, Run
from threads_api.store import dynamodb, messages
from threads_api.store.items import dumps, item_size, message_items, thread_key, visible_thread
from threads_api.store.paging import thread_child, thread_page
from threads_api.store.run_items import check_run_size, run_from_item, run_item, run_key, runs_partition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from threads_api.store.items import Item

creation_order = ids.CreationOrder()


def _active_run_error(thread_id: str, old: Item | None, project: str) -> Exception:
    if not visible_thread(old, project):
        return NotFound("thread", thread_id)
    return ActiveRun(thread_id, old.get("active_run", {}).get("S", ""))


def create_run(project: str, run: Run, messages: list[Message] | None = None, *, keyed: bool = False) -> Run:
    """Write a run (queued) and take its thread's lock, with the run's ``additional_messages``, all or nothing.

    ``keyed``: the run's id was derived from an Idempotency-Key, so a run already under it was written by an
    earlier run of the same request, and is returned as it is.
    """
    check_run_size(project, run)
    thread_id = run.thread_id
    last_ok: str | None = None
    for _ in dynamodb.APPEND_CONTENTION:
        ms = clock.now_ms()
        try:
            dynamodb.transact_write(_creation(project, run, messages or [], ms, last_ok), token=str(uuid.uuid4()))
            return run
        except ClientError as exc:
            reasons = dynamodb.cancellation_reasons(exc)
            if not reasons:
                raise
            if dynamodb.condition_failed(exc, 1) and keyed:
                return get_run(project, thread_id, run.id)  # this request's run, from an earlier attempt
            if dynamodb.condition_failed(exc, 0):
                old = reasons[0][1] or dynamodb.get_item(thread_key(thread_id))
                holder = (old or {}).get("active_run", {}).get("S")
                if holder == run.id:
                    return run  # our own transaction, committed by an attempt whose answer was lost
                if not visible_thread(old, project) or (
                    holder and int(old.get("active_until", {}).get("N", "0")) > ms // 1000
                ):
                    raise _active_run_error(thread_id, old, project) from exc
                last_ok = old.get("last_ok", {}).get("S")  # a message came first: order after it
            elif all(code != "TransactionConflict" for code, _ in reasons):
                raise
    raise Unavailable("transact_write_items")


def _creation(
    project: str, run: Run, messages: list[Message], ms: int, last_ok: str | None
) -> list[TransactWriteItemTypeDef]:
    """The transaction that creates ``run``: the thread's lock taken (no other run active; with messages,
    their order keys after ``last_ok``), the run's put, and its messages' puts."""
    thread_id, now = run.thread_id, ms // 1000
    condition = (
        "prj = :p AND attribute_not_exists(pending) AND (attribute_not_exists(active_run) OR active_until <= :now)"
    )
    values: dict[str, Any] = {
        ":p": {"S": project},
        ":r": {"S": run.id},
        ":u": {"N": str(run.expires_at)},
        ":now": {"N": str(now)},
    }
    update = "SET active_run = :r, active_until = :u"
    items: list[Item] = []
    keys: list[str] = []
    for message in messages:
        keys.append(ids.next_order_key(ms, keys[-1] if keys else last_ok))
        message.created_at = now
        items.extend(message_items(thread_id, message, keys[-1]))
    if keys:  # the order protocol (``messages``): the first key after the thread's last, which becomes the last
        update += ", last_ok = :last"
        condition += " AND (attribute_not_exists(last_ok) OR last_ok < :first)"
        values |= {":first": {"S": keys[0]}, ":last": {"S": keys[-1]}}
    _fits_one_transaction(items)
    lock: TransactWriteItemTypeDef = {
        "Update": {
            "TableName": dynamodb.TABLE,
            "Key": thread_key(thread_id),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }
    put: TransactWriteItemTypeDef = {
        "Put": {
            "TableName": dynamodb.TABLE,
            "Item": run_item(project, run, creation_order.next_key(ms)),
            "ConditionExpression": "attribute_not_exists(sk)",
        }
    }
    puts: list[TransactWriteItemTypeDef] = [{"Put": {"TableName": dynamodb.TABLE, "Item": item}} for item in items]
    return [lock, put, *puts]


def _fits_one_transaction(items: list[Item]) -> None:
    """A run's additional_messages are written with it, all or nothing: they must fit one transaction."""
    size = sum(item_size(item) for item in items)
    too_many = len(items) + 2 > limits.TRANSACTION_MAX_ITEMS
    if items and (too_many or size > limits.TRANSACTION_MAX_BYTES - limits.RUN_ITEM_MAX_BYTES):
        raise TooLarge(
            f"additional_messages are too large to add with the run ({size} bytes stored): add them to the "
            "thread first, then create the run.",
            size=size,
            bound=limits.TRANSACTION_MAX_BYTES - limits.RUN_ITEM_MAX_BYTES,
            param="additional_messages",
            code="too_large",
        )


def get_run(project: str, thread_id: str, run_id: str) -> Run:
    """A run of a live thread of ``project`` (one round trip: the thread and the run together)."""
    item = thread_child(project, thread_id, run_key(thread_id, run_id))
    if item is None or item.get("prj", {}).get("S") != project:
        raise NotFound("run", run_id)
    return run_from_item(item)


def run_version(thread_id: str, run_id: str) -> int | None:
    """The run's version alone (a stream's poll: one small read instead of the whole run)."""
    response = dynamodb.call(
        "get_item", Key=run_key(thread_id, run_id), ProjectionExpression="ver", ConsistentRead=True
    )
    item = response.get("Item")
    return int(item["ver"]["N"]) if item else None


def load_run(thread_id: str, run_id: str) -> tuple[str, Run] | None:
    """The worker's read: the run and its project, or None when it is gone (its thread deleted)."""
    item = dynamodb.get_item(run_key(thread_id, run_id))
    if item is None:
        return None
    return item["prj"]["S"], run_from_item(item)


def list_runs(project: str, thread_id: str, limit: int, order: str, after: str | None, before: str | None) -> Page:
    cursor = after or before
    cursor_key = run_key(thread_id, cursor) if cursor else None
    partition = runs_partition(thread_id)
    items, has_more, backwards = thread_page(project, thread_id, cursor_key, partition, limit, order, after, before)
    return Page([run_from_item(item) for item in items], has_more, backwards)


def run_write(project: str, run: Run, *, headroom: int = 0) -> tuple[TransactWriteItemTypeDef, Run]:
    """The write that saves ``run`` over the version it was read at, for a transaction, and the run saved."""
    saved = dataclasses.replace(run, version=run.version + 1)
    item = run_item(project, saved, "", headroom=headroom)
    update: TransactWriteItemTypeDef = {
        "Update": {
            "TableName": dynamodb.TABLE,
            "Key": run_key(run.thread_id, run.id),
            "UpdateExpression": "SET st = :st, ver = :new, body = :b, pack = :k, outs = :o",
            "ConditionExpression": "ver = :old",
            "ExpressionAttributeValues": {
                ":st": item["st"],
                ":new": item["ver"],
                ":b": item["body"],
                ":k": item["pack"],  # as it was (a run stored before pack existed gets it now)
                ":o": item["outs"],
                ":old": {"N": str(run.version)},
            },
        }
    }
    return update, saved


def save_reply(project: str, run: Run, reply: Message, *, release: bool) -> Run:
    """Append the run's ``reply`` and save ``run`` in one transaction: both land, or neither (``Conflict``:
    the run changed, a cancel came first, and the reply is not written). ``release``: the run has ended, and
    its thread's lock goes with the same transaction. Returns the run as saved."""
    write, saved = run_write(project, run)
    messages.append(project, reply, run_write=write, release=release)
    return saved


def save_run(
    project: str,
    run: Run,
    *,
    release: bool = False,
    hold_until: int | None = None,
    headroom: int = 0,
    extra: Sequence[TransactWriteItemTypeDef] = (),
) -> Run:
    """Write ``run`` over the version it was read at (``Conflict`` if another writer saved first).

    ``release``: the run has ended, so its thread's lock is released in the same transaction (when the
    lock is still this run's). ``hold_until``: the run goes on, and its lock now lasts until then.
    ``headroom``: bytes its item must leave free besides (``TooLarge``, and nothing written, if it does not).
    ``extra``: writes that land with the run's, or not at all (a search round's records).
    """
    update, saved = run_write(project, run, headroom=headroom)
    writes = [update]
    if release or hold_until is not None:
        lock: dict[str, Any] = {
            "TableName": dynamodb.TABLE,
            "Key": thread_key(run.thread_id),
            "ConditionExpression": "active_run = :r",
            "ExpressionAttributeValues": {":r": {"S": run.id}},
        }
        if release:
            lock["UpdateExpression"] = "REMOVE active_run, active_until"
        else:
            lock["UpdateExpression"] = "SET active_until = :u"
            lock["ExpressionAttributeValues"][":u"] = {"N": str(hold_until)}
        writes.append({"Update": lock})  # type: ignore[typeddict-item]
    token = str(uuid.uuid4())
    try:
        dynamodb.transact_write([*writes, *extra], token=token)
    except ClientError as exc:
        if dynamodb.condition_failed(exc, 0):
            raise Conflict(run.id) from exc
        if not dynamodb.condition_failed(exc, 1) or not release:
            raise  # a run that goes on without its lock (another run took the thread) must not go on
        # Ending, and the lock is not this run's any more (it expired and another run took it, or the thread
        # is gone): the run's own record is still written.
        dynamodb.transact_write([writes[0], *extra], token=f"{token}-run")
    return saved


def update_run_metadata(project: str, thread_id: str, run_id: str, metadata: dict[str, str]) -> Run:
    get_run(project, thread_id, run_id)  # the thread must still be there, and the run this project's
    response = dynamodb.write_existing(
        "update_item",
        "run",
        run_id,
        Key=run_key(thread_id, run_id),
        UpdateExpression="SET meta = :m",
        ConditionExpression="prj = :p",
        ExpressionAttributeValues={":m": {"S": dumps(metadata)}, ":p": {"S": project}},
        ReturnValues="ALL_NEW",
    )
    return run_from_item(response["Attributes"])
