"""A vector store's file batches: an item each in the store's files' partition (``batch#<id>``, no ``ok``, so
the ``by_order`` index lists files only). A batch's counts are not kept: they are read from its files (each
file item names its batch, ``in_batch``), so they cannot drift from them; a batch has at most 2,000 files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from threads_api.domain.errors import NotFound
from threads_api.domain.vector_stores import FileBatch, VectorStoreFile, batch_status, counts_of
from threads_api.store import dynamodb
from threads_api.store.paging import every_page
from threads_api.store.store_files import file_from_item, partition

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


def batch_of(item: Item, files: list[VectorStoreFile]) -> FileBatch:
    """A batch from its item and its files (its counts and status are theirs)."""
    counts = counts_of([file.status for file in files])
    return FileBatch(
        id=item["sk"]["S"].removeprefix(BATCH_PREFIX),
        vector_store_id=item["pk"]["S"].rsplit("#", 1)[1],
        created_at=int(item["created_at"]["N"]),
        status=batch_status(counts, "cancelled" in item),
        file_counts=counts,
    )


def batch_files(project: str, store_id: str, batch_id: str) -> list[VectorStoreFile]:
    """The batch's files (one Query of the store's files, filtered: at most 2,000 of at most 10,000)."""
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :p",
        "FilterExpression": "in_batch = :b",
        "ExpressionAttributeValues": {":p": {"S": partition(project, store_id)}, ":b": {"S": batch_id}},
        "ConsistentRead": True,
    }
    return [file_from_item(item) for page in every_page(**query) for item in page]


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
