"""Vector stores' items: create, read, modify, delete, a project's list; each one DynamoDB call.

A vector store is one item in its project's partition (``vstores#<project>``, ``vs#<id>``), so another
project's store is not found by construction. Its ``ok`` (``ids.CreationOrder``) orders a project's stores in
the ``by_order`` index. Its file counts and usage are counters (``n_in_progress`` …, ``used_bytes``) that move in
the same transaction as the file whose status changes (``store.store_files``), so they are always the sum of
its files. Deleting one deletes its item only, marked ``vstore``: the stream's REMOVE record of it drives the
cleanup of its files' items, its index and its parsed texts (``threads_api.vector_stores.purge``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from threads_api.domain import clock, ids
from threads_api.domain.errors import NotFound
from threads_api.domain.records import Page
from threads_api.domain.vector_stores import FILE_STATUSES, ExpiresAfter, FileCounts, VectorStore
from threads_api.store import dynamodb
from threads_api.store.items import removed_item
from threads_api.store.paging import order_page

if TYPE_CHECKING:
    from threads_api.store.items import Item

PARTITION_PREFIX = "vstores#"
STORE_PREFIX = "vs#"
ACTIVE_WRITE_SECONDS = 60  # last_active_at moves at most once a minute: a search is not a write each time
creation_order = ids.CreationOrder()  # per container: see ``ids.CreationOrder``


def store_key(project: str, store_id: str) -> Item:
    return {"pk": {"S": f"{PARTITION_PREFIX}{project}"}, "sk": {"S": f"{STORE_PREFIX}{store_id}"}}


def count_attr(status: str) -> str:
    return f"n_{status}"


def counters_update(project: str, store_id: str, moves: dict[str, int], usage: int = 0) -> dict[str, Any]:
    """The store's part of a transaction: its counters moved (``moves``: status -> +n/-n), its usage too."""
    names = {f"#{status}": count_attr(status) for status in moves}
    values = {f":{status}": {"N": str(n)} for status, n in moves.items()}
    adds = [f"#{status} :{status}" for status in moves]
    if usage:
        adds.append("used_bytes :usage")
        values[":usage"] = {"N": str(usage)}
    return {
        "Update": {
            "TableName": dynamodb.TABLE,
            "Key": store_key(project, store_id),
            "UpdateExpression": "ADD " + ", ".join(adds),
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def store_item(project: str, store: VectorStore, ok: str) -> Item:
    item: Item = {
        **store_key(project, store.id),
        "ok": {"S": ok},
        "vstore": {"BOOL": True},  # the stream's filter: a store's REMOVE record drives its cleanup
        "created_at": {"N": str(store.created_at)},
        "last_active": {"N": str(store.last_active_at)},
        "name": {"S": store.name},
        "meta": {"S": json.dumps(store.metadata, separators=(",", ":"))},
        "used_bytes": {"N": "0"},
        **{count_attr(status): {"N": "0"} for status in FILE_STATUSES},
    }
    if store.description is not None:
        item["desc"] = {"S": store.description}
    if store.expires_after is not None:
        item["exp_days"] = {"N": str(store.expires_after.days)}
    return item


def store_from_item(item: Item) -> VectorStore:
    counts = FileCounts(**{status: max(0, int(item[count_attr(status)]["N"])) for status in FILE_STATUSES})
    return VectorStore(
        id=item["sk"]["S"][len(STORE_PREFIX) :],
        created_at=int(item["created_at"]["N"]),
        name=item["name"]["S"],
        last_active_at=int(item["last_active"]["N"]),
        usage_bytes=max(0, int(item["used_bytes"]["N"])),
        file_counts=counts,
        metadata=json.loads(item["meta"]["S"]),
        expires_after=ExpiresAfter(int(item["exp_days"]["N"])) if "exp_days" in item else None,
        description=item["desc"]["S"] if "desc" in item else None,
    )


def new_store(store_id: str, name: str, metadata: dict[str, str], expires_after: ExpiresAfter | None) -> VectorStore:
    now = clock.now()
    return VectorStore(
        id=store_id, created_at=now, name=name, last_active_at=now, metadata=metadata, expires_after=expires_after
    )


def put_store(project: str, store: VectorStore) -> VectorStore:
    """Write a new store (conditional: none under its id). One there already is an earlier run of the same
    keyed request: that store is returned as it is."""
    try:
        dynamodb.call(
            "put_item",
            Item=store_item(project, store, creation_order.next_key(clock.now_ms())),
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        existing: Item | None = exc.response.get("Item")  # type: ignore[assignment]
        if dynamodb.error_code(exc) != "ConditionalCheckFailedException" or existing is None:
            raise
        return store_from_item(existing)
    return store


def find_store(project: str, store_id: str) -> VectorStore | None:
    item = dynamodb.get_item(store_key(project, store_id))
    return None if item is None else store_from_item(item)


def get_store(project: str, store_id: str) -> VectorStore:
    found = find_store(project, store_id)
    if found is None:
        raise NotFound("vector store", store_id)
    return found


def modify_store(
    project: str, store_id: str, name: str | None, metadata: dict[str, str] | None, expires: Any
) -> VectorStore:
    """Set what is given (``expires``: an ``ExpiresAfter``, None to remove it, ``...`` to leave it), in one
    conditional update; the store as it is now."""
    sets, removes, values, names = ["last_active = :now"], [], {":now": {"N": str(clock.now())}}, {}
    if name is not None:
        sets.append("#name = :name")
        values[":name"], names["#name"] = {"S": name}, "name"
    if metadata is not None:
        sets.append("meta = :meta")
        values[":meta"] = {"S": json.dumps(metadata, separators=(",", ":"))}
    if isinstance(expires, ExpiresAfter):
        sets.append("exp_days = :days")
        values[":days"] = {"N": str(expires.days)}
    elif expires is None:
        removes.append("exp_days")
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    response = dynamodb.write_existing(
        "update_item",
        "vector store",
        store_id,
        Key=store_key(project, store_id),
        UpdateExpression=expression,
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
        **({"ExpressionAttributeNames": names} if names else {}),
    )
    return store_from_item(response["Attributes"])


def touch(project: str, store: VectorStore) -> None:
    """Move ``last_active_at`` (the anchor of ``expires_after``) to now, unless it moved within a minute; a
    store deleted meanwhile is left deleted (the condition)."""
    now = clock.now()
    if now - store.last_active_at < ACTIVE_WRITE_SECONDS:
        return
    condition, values = "attribute_exists(pk)", {":now": {"N": str(now)}}
    if store.expires_after is not None:  # one expired meanwhile (a long run's later search) stays expired
        condition += " AND last_active > :cut"
        values[":cut"] = {"N": str(now - store.expires_after.days * 86_400)}
    try:
        dynamodb.call(
            "update_item",
            Key=store_key(project, store.id),
            UpdateExpression="SET last_active = :now",
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if dynamodb.error_code(exc) != "ConditionalCheckFailedException":
            raise


def delete_store(project: str, store_id: str) -> None:
    dynamodb.write_existing(
        "delete_item",
        "vector store",
        store_id,
        Key=store_key(project, store_id),
        ConditionExpression="attribute_exists(pk)",
    )


def list_stores(project: str, limit: int, order: str, after: str | None, before: str | None) -> Page:
    cursor_id = after or before
    cursor = dynamodb.get_item(store_key(project, cursor_id)) if cursor_id else None
    items, has_more, backwards = order_page(cursor, f"{PARTITION_PREFIX}{project}", limit, order, after, before)
    return Page([store_from_item(item) for item in items], has_more, backwards)


def removed_store(record: dict[str, Any]) -> tuple[str, str] | None:
    """The (project, store id) of a stream record of a store's item removed, or None for any other record."""
    removed = removed_item(record)
    if removed is None:
        return None
    pk, sk, old = removed
    return (pk.removeprefix(PARTITION_PREFIX), sk.removeprefix(STORE_PREFIX)) if "vstore" in old else None
