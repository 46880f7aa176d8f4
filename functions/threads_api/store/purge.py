"""What a deletion leaves behind, removed by the stream-driven cleanup: a thread's partition, a message's parts.

Deleting a thread deletes its thread item only; the stream's REMOVE record drives ``purge_thread``, which
empties both of the thread's partitions: its messages' and its runs' (``<thread_id>#runs``). (The object of a
file whose upload never finished is the bucket's: ``threads_api.files.operations.after_removal``.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from threads_api import store
from threads_api.observability import logger, metrics
from threads_api.store import dynamodb
from threads_api.store.items import THREAD_SK, part_key, removed_item, thread_key
from threads_api.store.paging import every_page


def purge_thread(thread_id: str) -> int:
    """Delete every item left in a deleted thread's partition; safe to run again. Returns the count.

    Nothing, when a thread is under the id again by then (an import of the same thread, written before the
    stream's record of the delete came): its messages are in the same partition, under the same keys, and
    a purge would empty the thread it wrote. What the deleted thread had and the new one does not stays."""
    if dynamodb.get_item(thread_key(thread_id)) is not None:
        return 0
    count = 0
    for partition in (thread_id, f"{thread_id}#runs"):
        for page in every_page(
            KeyConditionExpression="pk = :t",
            ExpressionAttributeValues={":t": {"S": partition}},
            ProjectionExpression="pk, sk",
            ConsistentRead=True,  # a message committed just before the delete must not be missed
        ):
            keys = [key for key in page if key["sk"]["S"] != THREAD_SK]  # a live thread item is not ours
            store.batch_write([{"DeleteRequest": {"Key": key}} for key in keys])  # through the package
            count += len(keys)
    return count


def delete_message_parts(thread_id: str, message_id: str, parts: int) -> None:
    store.batch_write([{"DeleteRequest": {"Key": part_key(thread_id, message_id, n)}} for n in range(1, parts + 1)])


def after_removal(record: dict[str, Any]) -> None:
    """What a stream record of a REMOVE leaves to clean: a thread's partition, or a large message's parts
    (anything else is nothing to do). Idempotent: Lambda retries a failed record."""
    removed = removed_item(record)
    if removed is None:
        return
    thread_id, sk, old = removed
    if sk == THREAD_SK:
        purged = purge_thread(thread_id)
        metrics.add_metric(name="ItemsPurged", unit="Count", value=purged)
        logger.info("thread purged", extra={"thread_id": thread_id, "items": purged})
    elif sk.startswith("msg#") and "parts" in old:
        delete_message_parts(thread_id, sk[4:], int(old["parts"]["N"]))


def after_removals(
    records: list[dict[str, Any]], after: Callable[[dict[str, Any]], None] = after_removal
) -> str | None:
    """``after`` (``after_removal``, or a caller's that does more) for each record in order; the sequence number
    of the first that failed (None: all done), so that Lambda retries from it on and the records before it are
    not done again."""
    for record in records:
        try:
            after(record)
        except Exception as exc:
            logger.error("cleanup failed", extra={"error_type": type(exc).__name__})
            return str(record["dynamodb"]["SequenceNumber"])
    return None
