"""What a deleted vector store leaves, removed by the stream-driven cleanup function: its index (every vector
at once), its files' and batches' items, and its files' parsed texts. Deleting a store deletes its item only
(one write: the 404 is immediate); the stream's REMOVE record of it (``store.vector_stores.removed_store``)
brings the rest here. Each step is safe to run again: Lambda retries a failed record."""

from __future__ import annotations

from typing import Any

from threads_api.bucket import s3
from threads_api.files import operations as files
from threads_api.index import s3vectors
from threads_api.observability import logger
from threads_api.store import dynamodb, store_files
from threads_api.store import vector_stores as store_items
from threads_api.store.paging import every_page
from threads_api.vector_stores.operations import parsed_key


def purge_store(project: str, store_id: str) -> int:
    """Delete a deleted store's index, then its partition's items and parsed texts; returns the items' count."""
    s3vectors.delete_index(s3vectors.index_name(store_id))
    count = 0
    for page in every_page(
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": store_files.partition(project, store_id)}},
        ProjectionExpression="pk, sk, gen",
        ConsistentRead=True,
    ):
        for item in page:
            if "gen" in item:
                file_id = item["sk"]["S"].removeprefix(store_files.FILE_PREFIX)
                s3.delete_object(parsed_key(project, store_id, file_id, item["gen"]["S"]))
        dynamodb.batch_write([{"DeleteRequest": {"Key": {"pk": i["pk"], "sk": i["sk"]}}} for i in page])
        count += len(page)
    return count


def after_removal(record: dict[str, Any]) -> None:
    """The cleanup function's work for one stream record: a deleted store's purge, or the files' (and
    threads') clean-up for any other record."""
    removed = store_items.removed_store(record)
    if removed is None:
        files.after_removal(record)
        return
    count = purge_store(*removed)
    logger.info("vector store purged", extra={"vector_store_id": removed[1], "items": count})
