"""A vector store's files: their items, and each change of status in one transaction with the store's counters.

A store's files (and its file batches, ``store.file_batches``) share a partition, ``vsfiles#<project>#<store>``;
a file's sort key is ``file#<file id>`` and its ``ok`` orders the store's files in the ``by_order`` index. Each
time a file is added, changes status or is deleted, one transaction writes the file's item (conditional on
the status it had: a retry, a cancel or a delete in between makes it fail, never count twice) and moves the
store's counters (conditional on the store: an ``ADD`` on a deleted store would write a ghost of it).

``gen`` is the ingestion's generation: a random token set when the file is added. Its vectors' keys carry it
(``<file id>#<gen>#<n>``), and the ingestion ends only if the item still has it, so a worker of an earlier
add (the file deleted and added again meanwhile) can neither mark nor be counted for the new one.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from threads_api.domain import clock, ids
from threads_api.domain.errors import NotFound, Unavailable
from threads_api.domain.records import Page
from threads_api.domain.vector_stores import Chunking, LastError, VectorStoreFile
from threads_api.store import dynamodb
from threads_api.store.paging import query_page
from threads_api.store.vector_stores import counters_update, store_key

if TYPE_CHECKING:
    from threads_api.store.items import Item

FILE_PREFIX = "file#"
CONTENTION = dynamodb.Backoff(attempts=5, base=0.02)
creation_order = ids.CreationOrder()  # per container: see ``ids.CreationOrder``


def partition(project: str, store_id: str) -> str:
    return f"vsfiles#{project}#{store_id}"


def file_key(project: str, store_id: str, file_id: str) -> Item:
    return {"pk": {"S": partition(project, store_id)}, "sk": {"S": f"{FILE_PREFIX}{file_id}"}}


def new_store_file(
    store_id: str, file_id: str, filename: str, chunking: Chunking, attributes: dict[str, Any], batch_id: str | None
) -> VectorStoreFile:
    return VectorStoreFile(
        id=file_id,
        vector_store_id=store_id,
        created_at=clock.now(),
        chunking=chunking,
        attributes=attributes,
        batch_id=batch_id,
        filename=filename,
    )


def file_item(project: str, file: VectorStoreFile, gen: str) -> Item:
    item: Item = {
        **file_key(project, file.vector_store_id, file.id),
        "ok": {"S": creation_order.next_key(clock.now_ms())},
        "created_at": {"N": str(file.created_at)},
        "status": {"S": file.status},
        "used_bytes": {"N": str(file.usage_bytes)},
        "max_tok": {"N": str(file.chunking.max_chunk_size_tokens)},
        "overlap": {"N": str(file.chunking.chunk_overlap_tokens)},
        "attrs": {"S": json.dumps(file.attributes, separators=(",", ":"))},
        "chunks": {"N": str(file.chunks)},
        "fname": {"S": file.filename},
        "gen": {"S": gen},
    }
    if file.batch_id is not None:
        item["in_batch"] = {"S": file.batch_id}
    return item


def file_from_item(item: Item) -> VectorStoreFile:
    error = LastError(item["err_code"]["S"], item["err_msg"]["S"]) if "err_code" in item else None
    return VectorStoreFile(
        id=item["sk"]["S"][len(FILE_PREFIX) :],
        vector_store_id=item["pk"]["S"].rsplit("#", 1)[1],
        created_at=int(item["created_at"]["N"]),
        status=item["status"]["S"],
        usage_bytes=int(item["used_bytes"]["N"]),
        chunking=Chunking(int(item["max_tok"]["N"]), int(item["overlap"]["N"])),
        attributes=json.loads(item["attrs"]["S"]),
        last_error=error,
        chunks=int(item["chunks"]["N"]),
        batch_id=item["in_batch"]["S"] if "in_batch" in item else None,
        filename=item["fname"]["S"],
        generation=item["gen"]["S"],
    )


def generation(item: Item) -> str:
    return item["gen"]["S"]


def add_files(project: str, files: list[VectorStoreFile]) -> list[tuple[VectorStoreFile, str]]:
    """Add files to one store, in transactions of at most 99 files and the store's counters. A file that is in
    the store already is left as it is (and, for a batch, joins it). Returns each new file with its ``gen``,
    for the ingestion. A store that is not there is a 404."""
    added: list[tuple[VectorStoreFile, str]] = []
    for start in range(0, len(files), 99):
        added += _add_some(project, files[start : start + 99])
    return added


def _add_some(project: str, files: list[VectorStoreFile]) -> list[tuple[VectorStoreFile, str]]:
    store_id = files[0].vector_store_id
    for _ in CONTENTION:
        present = {file_from_item(item).id: item for item in dynamodb.batch_get([key_of(project, f) for f in files])}
        new = [(f, secrets.token_hex(4)) for f in files if f.id not in present]
        joining = [f for f in files if f.id in present and f.batch_id and _batch_of(present[f.id]) != f.batch_id]
        actions: list[Any] = [_put(project, f, gen) for f, gen in new] + [_join(project, f) for f in joining]
        if not actions:
            return []
        if new:
            actions.append(counters_update(project, store_id, {"in_progress": len(new)}))
        else:
            actions.append({"ConditionCheck": {**_store_check(project, store_id)}})
        try:
            dynamodb.transact_write(actions)
            return new
        except ClientError as exc:
            if dynamodb.condition_failed(exc, len(actions) - 1):
                raise NotFound("vector store", store_id) from exc
            if not dynamodb.cancellation_reasons(exc):
                raise
    raise Unavailable("transact_write_items")  # files added and removed concurrently, again and again


def _batch_of(item: Item) -> str | None:
    return item["in_batch"]["S"] if "in_batch" in item else None


def key_of(project: str, file: VectorStoreFile) -> Item:
    return file_key(project, file.vector_store_id, file.id)


def _store_check(project: str, store_id: str) -> dict[str, Any]:
    return {
        "TableName": dynamodb.TABLE,
        "Key": store_key(project, store_id),
        "ConditionExpression": "attribute_exists(pk)",
    }


def _put(project: str, file: VectorStoreFile, gen: str) -> dict[str, Any]:
    item = file_item(project, file, gen)
    return {"Put": {"TableName": dynamodb.TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


def _join(project: str, file: VectorStoreFile) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": dynamodb.TABLE,
            "Key": key_of(project, file),
            "UpdateExpression": "SET in_batch = :b",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":b": {"S": str(file.batch_id)}},
        }
    }


def find_item(project: str, store_id: str, file_id: str) -> Item | None:
    return dynamodb.get_item(file_key(project, store_id, file_id))


def get_file(project: str, store_id: str, file_id: str) -> VectorStoreFile:
    item = find_item(project, store_id, file_id)
    if item is None:
        raise NotFound("file", file_id)
    return file_from_item(item)


def set_attributes(project: str, store_id: str, file_id: str, attributes: dict[str, Any]) -> VectorStoreFile:
    response = dynamodb.write_existing(
        "update_item",
        "file",
        file_id,
        Key=file_key(project, store_id, file_id),
        UpdateExpression="SET attrs = :a",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":a": {"S": json.dumps(attributes, separators=(",", ":"))}},
        ReturnValues="ALL_NEW",
    )
    return file_from_item(response["Attributes"])


def list_files(project: str, store_id: str, status: str | None, batch_id: str | None, page: Any) -> Page:
    """A store's files (or a batch's) in creation order, those of one ``status`` when given."""
    # A batch's item has no ``ok``: the index holds the store's files only.
    values: dict[str, Any] = {":p": {"S": partition(project, store_id)}}
    names: dict[str, str] = {}
    conditions = []
    if status is not None:
        conditions.append("#status = :status")
        values[":status"], names["#status"] = {"S": status}, "status"
    if batch_id is not None:
        conditions.append("in_batch = :batch")
        values[":batch"] = {"S": batch_id}
    cursor_id = page.after or page.before
    cursor = find_item(project, store_id, cursor_id) if cursor_id else None
    items, has_more, backwards = query_page(
        cursor,
        page.after,
        page.before,
        page.limit,
        page.order,
        sort_attr="ok",
        key_condition="pk = :p",
        IndexName="by_order",
        ExpressionAttributeValues=values,
        ConsistentRead=True,
        **({"FilterExpression": " AND ".join(conditions)} if conditions else {}),
        **({"ExpressionAttributeNames": names} if names else {}),
    )
    return Page([file_from_item(item) for item in items], has_more, backwards)


def get_many(project: str, store_id: str, file_ids: list[str]) -> dict[str, Item]:
    """The items of these files of a store (at most 100), by file id; those not there are left out."""
    if not file_ids:
        return {}
    found = dynamodb.batch_get([file_key(project, store_id, file_id) for file_id in file_ids])
    return {item["sk"]["S"][len(FILE_PREFIX) :]: item for item in found}
