"""A vector store's file's changes of status (the ingestion's end, a batch's cancel) and its removal: each one
transaction of the file's item, conditional on the status it had, and the store's counters
(``store.vector_stores.counters_update``, conditional on the store). See ``store.store_files``."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from threads_api.domain.errors import NotFound, Unavailable
from threads_api.domain.vector_stores import LastError, VectorStoreFile
from threads_api.store import dynamodb
from threads_api.store.store_files import CONTENTION, file_from_item, file_key, find_item, generation, key_of
from threads_api.store.vector_stores import counters_update


def finish(
    project: str, file: VectorStoreFile, gen: str, status: str, chunks: int = 0, error: LastError | None = None
) -> bool:
    """End an ingestion (``in_progress`` to ``status``) with the store's counters, if the file is still the one
    this generation ingests and still in progress; False otherwise (cancelled, deleted, added again)."""
    sets = ["#status = :status", "used_bytes = :usage", "chunks = :chunks"]
    values = {
        ":status": {"S": status},
        ":usage": {"N": str(file.usage_bytes)},
        ":chunks": {"N": str(chunks)},
        ":gen": {"S": gen},
        ":ip": {"S": "in_progress"},
    }
    if error is not None:
        sets += ["err_code = :code", "err_msg = :msg"]
        values |= {":code": {"S": error.code}, ":msg": {"S": error.message}}
    update = {
        "Update": {
            "TableName": dynamodb.TABLE,
            "Key": key_of(project, file),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": "gen = :gen AND #status = :ip",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values,
        }
    }
    moves = {"in_progress": -1, status: 1}
    return _transact([update, counters_update(project, file.vector_store_id, moves, file.usage_bytes)])


def _transact(actions: list[Any]) -> bool:
    try:
        dynamodb.transact_write(actions)
    except ClientError as exc:
        if not any(code == "ConditionalCheckFailed" for code, _ in dynamodb.cancellation_reasons(exc)):
            raise
        return False
    return True


def remove(project: str, store_id: str, file_id: str) -> tuple[VectorStoreFile, str]:
    """Delete a file of a store with the store's counters (its status's, its usage); the file as it was and its
    generation, whose vectors are then to be deleted. One not there is a 404."""
    for _ in CONTENTION:
        item = find_item(project, store_id, file_id)
        if item is None:
            raise NotFound("file", file_id)
        file = file_from_item(item)
        delete: Any = {
            "Delete": {
                "TableName": dynamodb.TABLE,
                "Key": file_key(project, store_id, file_id),
                "ConditionExpression": "gen = :gen AND #status = :status",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":gen": {"S": generation(item)}, ":status": {"S": file.status}},
            }
        }
        try:
            counters: Any = counters_update(project, store_id, {file.status: -1}, -file.usage_bytes)
            dynamodb.transact_write([delete, counters])
            return file, generation(item)
        except ClientError as exc:
            if dynamodb.condition_failed(exc, 1):  # the store is deleted: its files go with it
                raise NotFound("vector store", store_id) from exc
            if not dynamodb.condition_failed(exc, 0):
                raise
    raise Unavailable("transact_write_items")  # its status changed under us, again and again


def cancel(project: str, file: VectorStoreFile) -> bool:
    """``in_progress`` to ``cancelled`` (a batch cancelled), with the store's counters; False if it ended first."""
    update = {
        "Update": {
            "TableName": dynamodb.TABLE,
            "Key": key_of(project, file),
            "UpdateExpression": "SET #status = :cancelled",
            "ConditionExpression": "#status = :ip",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":cancelled": {"S": "cancelled"}, ":ip": {"S": "in_progress"}},
        }
    }
    return _transact([update, counters_update(project, file.vector_store_id, {"in_progress": -1, "cancelled": 1})])
