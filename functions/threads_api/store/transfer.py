"""Import and export: a project's threads (with their messages) and assistants, read page by page and
written under the ids they came with (``infra/ops/transfer.py`` is the command).

An imported thread is written whole or not at all, as ``create_thread`` writes one (``threads.write_new_thread``:
one transaction, or in stages behind a hidden thread item). Its messages keep the order they are given:
their order keys are ``order_key(thread's created_at, n)``, below any key an append makes later. A thread
is listed by its ``created_at`` (``gsk``), not by the time of its import, so a project's list keeps
OpenAI's order.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from threads_api import store
from threads_api.domain import clock, ids, limits
from threads_api.domain.errors import NotFound
from threads_api.domain.records import Assistant, Message, Thread
from threads_api.store import dynamodb
from threads_api.store.assistants import assistant_from_item, assistant_item, get_assistant, partition
from threads_api.store.items import (
    MESSAGE_PREFIX,
    item_size,
    message_items,
    stored_body_size,
    thread_from_item,
    thread_item,
    thread_key,
)
from threads_api.store.messages import messages_with_bodies
from threads_api.store.paging import every_page
from threads_api.store.threads import write_new_thread

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from threads_api.store.items import Item

# What ``find_thread`` finds under an id: nothing, a thread of another project (never said which), one still
# being written in stages, the hidden item of a staged write that stopped midway (past its expiry, waiting for
# DynamoDB's TTL, which may take days), or the project's own.
ABSENT, ELSEWHERE, PENDING, STALE, HERE = "absent", "elsewhere", "pending", "stale", "here"
# The most of messages' bodies an export holds at once (beyond a page of items): a few large messages.
BODIES_IN_MEMORY_BYTES = 2_000_000
THREADS_PAGE = 100


def listing_key(created_at: int, n: int) -> str:
    """A thread's or assistant's listing key from its ``created_at``: ``n`` (the import's count) keeps the
    order of those of one second as given, the random tail keeps keys distinct across imports."""
    return f"{ids.order_key(created_at * 1000, n)}{secrets.randbits(32):08x}"


# -- reading --------------------------------------------------------------------------------------------


def find_thread(project: str, thread_id: str) -> tuple[str, Thread | None]:
    item = dynamodb.get_item(thread_key(thread_id))
    if item is None:
        return ABSENT, None
    if item.get("prj", {}).get("S") != project:
        return ELSEWHERE, None
    if "pending" in item:
        return (STALE if int(item.get("expires_at", {}).get("N", "0")) <= clock.now() else PENDING), None
    return HERE, thread_from_item(item)


def clear_stale(thread_id: str) -> bool:
    """Remove the hidden item of a staged write that stopped midway, past its expiry (what its TTL would do,
    now; the stream's purge follows, and spares a thread written again meanwhile). Whether it was removed."""
    try:
        dynamodb.call(
            "delete_item",
            Key=thread_key(thread_id),
            ConditionExpression="attribute_exists(pending) AND expires_at <= :now",
            ExpressionAttributeValues={":now": {"N": str(clock.now())}},
        )
        return True
    except ClientError as exc:
        if dynamodb.error_code(exc) != "ConditionalCheckFailedException":
            raise
        return False


def thread_messages(thread_id: str) -> Iterator[list[Message]]:
    """A thread's messages in order, a batch at a time: a page of items (up to 1 MB) read, and its large
    messages' bodies fetched a few MB at a time, so memory stays bounded however long the thread is."""
    for page in every_page(
        IndexName="by_order",
        KeyConditionExpression="pk = :t",
        ExpressionAttributeValues={":t": {"S": thread_id}},
        ConsistentRead=True,
    ):
        batch: list[Item] = []
        size = 0
        for item in page:
            if not item["sk"]["S"].startswith(MESSAGE_PREFIX) or "role" not in item:
                continue
            if batch and size + stored_body_size(item) > BODIES_IN_MEMORY_BYTES:
                yield messages_with_bodies(batch)
                batch, size = [], 0
            batch.append(item)
            size += stored_body_size(item)
        if batch:
            yield messages_with_bodies(batch)


def project_threads(project: str) -> Iterator[Thread]:
    """A project's threads in their listing order, read ``THREADS_PAGE`` at a time from ``by_owner`` (a page
    of 1 MB would hold thousands, in memory while their messages are read)."""
    for page in every_page(
        IndexName="by_owner",
        KeyConditionExpression="gpk = :g",
        ExpressionAttributeValues={":g": {"S": f"threads#{project}"}},
        Limit=THREADS_PAGE,
    ):
        yield from (thread_from_item(item) for item in page)


def project_assistants(project: str) -> Iterator[Assistant]:
    """A project's assistants in creation order, page by page from ``by_order``."""
    for page in every_page(
        IndexName="by_order",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": partition(project)}},
    ):
        yield from (assistant_from_item(item) for item in page)


def find_assistant(project: str, assistant_id: str) -> Assistant | None:
    try:
        return get_assistant(project, assistant_id)
    except NotFound:
        return None


# -- writing --------------------------------------------------------------------------------------------


def import_thread(project: str, thread: Thread, messages: list[Message], n: int, *, replace: bool) -> None:
    """Write ``thread`` and ``messages`` (in their order) under their ids: a new thread whole or not at all;
    with ``replace``, over the project's own thread of that id (its other messages removed)."""
    item = thread_item(project, thread, listing_key(thread.created_at, n))
    base = thread.created_at * 1000
    items: list[Item] = []
    for seq, message in enumerate(messages):
        items.extend(message_items(thread.id, message, ids.order_key(base, seq)))
    if messages:
        item["last_ok"] = {"S": ids.order_key(base, len(messages) - 1)}
    if not replace:
        write_new_thread(item, items, keyed=False)
        return
    _replace_thread(project, item, items)


def _replace_thread(project: str, item: Item, items: list[Item]) -> None:
    """The project's thread rewritten in place: its messages put, the thread item put while it is still the
    project's and not being written, the messages it no longer has (and their parts) deleted. In one
    transaction when that fits in one (whole or not at all); else in batches, the thread item last but one,
    which ``--overwrite`` documents: a failure midway leaves a mix, and a re-run mends it."""
    thread_id = item["pk"]["S"]
    kept = {message["sk"]["S"] for message in items}
    stale: list[Item] = []
    for page in every_page(
        KeyConditionExpression="pk = :t AND begins_with(sk, :m)",
        ExpressionAttributeValues={":t": {"S": thread_id}, ":m": {"S": MESSAGE_PREFIX}},
        ProjectionExpression="pk, sk",
        ConsistentRead=True,
    ):
        stale += [key for key in page if key["sk"]["S"] not in kept]
    condition = "prj = :p AND attribute_not_exists(pending)"
    values: dict[str, Any] = {":p": {"S": project}}
    size = sum(map(item_size, [item, *items, *stale]))
    if 1 + len(items) + len(stale) <= limits.TRANSACTION_MAX_ITEMS and size <= limits.TRANSACTION_MAX_BYTES:
        writes: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": dynamodb.TABLE,
                    "Item": item,
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": values,
                }
            }
        ]
        writes += [{"Put": {"TableName": dynamodb.TABLE, "Item": message}} for message in items]
        writes += [{"Delete": {"TableName": dynamodb.TABLE, "Key": key}} for key in stale]
        dynamodb.transact_write(writes, token=str(uuid.uuid4()))
        return
    store.batch_write([{"PutRequest": {"Item": message}} for message in items])
    dynamodb.call("put_item", Item=item, ConditionExpression=condition, ExpressionAttributeValues=values)
    store.batch_write([{"DeleteRequest": {"Key": key}} for key in stale])


def import_assistant(project: str, assistant: Assistant, n: int, *, replace: bool) -> None:
    """Write ``assistant`` under its id (over the project's own with ``replace``); a race with another
    writer of that id is DynamoDB's ConditionalCheckFailed, raised as it is."""
    item = assistant_item(project, assistant, listing_key(assistant.created_at, n))
    condition = {} if replace else {"ConditionExpression": "attribute_not_exists(pk)"}
    dynamodb.call("put_item", Item=item, **condition)
