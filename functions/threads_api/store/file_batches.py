"""A vector store's file batches: an item each in the store's files' partition (``batch#<id>``, no ``ok``, so
the ``by_order`` index lists files only). A batch's counts are not kept: they are read from its files (each
file item names its batch), so they cannot drift from them; a batch has at most 2,000 files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from threads_api.domain.errors import NotFound
from threads_api.domain.vector_stores import FileBatch, batch_status, counts_of
from threads_api.store import dynamodb
from threads_api.store.paging import every_page
from threads_api.store.store_files import partition

if TYPE_CHECKING:
    from threads_api.store.items import Item

BATCH_PREFIX = "batch#"


def batch_key(project: str, store_id: str, batch_id: str) -> Item:
    return {"pk": {"S": partition(project, store_id)}, "sk": {"S": f"{BATCH_PREFIX}{batch_id}"}}


def put_batch(project: str, batch: FileBatch) -> bool:
    """Write a new batch; False if one is under its id already (an earlier run of the same keyed request)."""
    item = {**batch_key(project, batch.vector_store_id, batch.id), "created_at": {"N": str(batch.created_at)}}
    try:
        dynamodb.call("put_item", Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as exc:
        if dynamodb.error_code(exc) != "ConditionalCheckFailedException":
            raise
        return False
    return True


def get_batch_item(project: str, store_id: str, batch_id: str) -> Item:
    item = dynamodb.get_item(batch_key(project, store_id, batch_id))
    if item is None:
        raise NotFound("file batch", batch_id)
    return item


def get_batch(project: str, store_id: str, batch_id: str) -> FileBatch:
    """The batch with its counts and status, from its files' items."""
    item = get_batch_item(project, store_id, batch_id)
    statuses = batch_file_statuses(project, store_id, batch_id)
    counts = counts_of(list(statuses.values()))
    cancelled = "cancelled" in item
    return FileBatch(
        id=batch_id,
        vector_store_id=store_id,
        created_at=int(item["created_at"]["N"]),
        status=batch_status(counts, cancelled),
        file_counts=counts,
    )


def batch_file_statuses(project: str, store_id: str, batch_id: str) -> dict[str, str]:
    """file id -> status, for the batch's files (one Query of the store's files, filtered)."""
    found: dict[str, str] = {}
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :p",
        "FilterExpression": "in_batch = :b",
        "ProjectionExpression": "sk, #status",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":p": {"S": partition(project, store_id)}, ":b": {"S": batch_id}},
        "ConsistentRead": True,
    }
    for page in every_page(**query):
        for item in page:
            found[item["sk"]["S"].removeprefix("file#")] = item["status"]["S"]
    return found


def mark_cancelled(project: str, store_id: str, batch_id: str) -> None:
    dynamodb.write_existing(
        "update_item",
        "file batch",
        batch_id,
        Key=batch_key(project, store_id, batch_id),
        UpdateExpression="SET cancelled = :t",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":t": {"BOOL": True}},
    )
