"""Files' metadata: create, read, delete, and a project's list; each one DynamoDB call (a list, one more to
read its cursor). The bytes are in the stack's bucket (``threads_api/bucket``), never in the table.

A file is one item in its project's partition (``files#<project>``, ``file#<id>``), so the caller's project
is part of every key: another project's file is not found by construction. Its ``ok`` is a key from
``ids.CreationOrder``, which the ``by_order`` local index sorts: a project's files in creation order.

A new file's item is written ``pending`` before its bytes (``put_pending``), with a TTL (``expires_at``, the
table's TTL attribute) and its order key kept aside (``pok``, not ``ok``: the index has no entry for it), so
every read treats it as absent; ``mark_processed`` shows it once the bytes are stored (``ok`` from ``pok``).
An upload that never gets there leaves an item that DynamoDB's TTL removes, and the stream's REMOVE record
of it (``removed_pending``) drives the deletion of its object (``threads_api.files.operations.after_removal``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from threads_api.domain import clock, ids
from threads_api.domain.errors import InProgress, NotFound
from threads_api.domain.records import File, Page
from threads_api.store import dynamodb
from threads_api.store.items import removed_item
from threads_api.store.paging import query_page

if TYPE_CHECKING:
    from threads_api.store.items import Item

FILE_PREFIX = "file#"
PARTITION_PREFIX = "files#"
SHOWN = "attribute_exists(pk) AND attribute_not_exists(pending)"  # a file, not an upload still under way
PENDING_TTL_SECONDS = 3600  # an upload's item until its bytes are stored: far past a function's 15 minutes
creation_order = ids.CreationOrder()  # per container: see ``ids.CreationOrder``


def partition(project: str) -> str:
    return f"{PARTITION_PREFIX}{project}"


def file_key(project: str, file_id: str) -> Item:
    return {"pk": {"S": partition(project)}, "sk": {"S": f"{FILE_PREFIX}{file_id}"}}


def file_item(project: str, file: File, ok: str) -> Item:
    return {
        **file_key(project, file.id),
        "ok": {"S": ok},
        "created_at": {"N": str(file.created_at)},
        "size": {"N": str(file.bytes)},
        "fname": {"S": file.filename},
        "purpose": {"S": file.purpose},
        "status": {"S": file.status},
    }


def file_from_item(item: Item) -> File:
    return File(
        id=item["sk"]["S"][len(FILE_PREFIX) :],
        created_at=int(item["created_at"]["N"]),
        bytes=int(item["size"]["N"]),
        filename=item["fname"]["S"],
        purpose=item["purpose"]["S"],
        status=item["status"]["S"],
    )


def new_file(file_id: str, size: int, filename: str, purpose: str) -> File:
    """A file as it will be written (its creation time now)."""
    return File(id=file_id, created_at=clock.now_ms() // 1000, bytes=size, filename=filename, purpose=purpose)


def put_pending(project: str, file: File) -> File | None:
    """Write a new file's item, pending, before its bytes: one conditional put (no item under its id yet).
    None: go on, store the bytes, then ``mark_processed``.

    An item already under its id was written by an earlier run of the same request (botocore's retry of a
    put that landed, or a request with an Idempotency-Key, whose id is derived from it): a file is returned as
    it is (its bytes are stored); a pending one (a run stopped before its end) is None too: this run finishes
    it. The failed condition returns that item, so this costs no read."""
    item = file_item(project, file, creation_order.next_key(clock.now_ms()))
    item["pok"] = item.pop("ok")
    item["pending"] = {"BOOL": True}
    item["expires_at"] = {"N": str(int(time.time()) + PENDING_TTL_SECONDS)}
    try:
        dynamodb.call(
            "put_item",
            Item=item,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        return None
    except ClientError as exc:
        existing = dynamodb.old_item(exc, InProgress(file.id))  # none there: written and deleted since
        return None if "pending" in existing else file_from_item(existing)


def mark_processed(project: str, file_id: str) -> File:
    """Show a pending file whose bytes are stored (its order key copied into ``ok``, ``pending`` and the TTL removed),
    in one conditional update; the file, as stored. One shown already (a concurrent run of the same request)
    is that file; one gone (its TTL expired) is ``InProgress``: a retry writes it anew."""
    try:
        response = dynamodb.call(
            "update_item",
            Key=file_key(project, file_id),
            # pok stays: an attribute both read and removed by one expression is a risk DynamoDB need not take.
            UpdateExpression="SET ok = pok REMOVE pending, expires_at",
            ConditionExpression="attribute_exists(pending)",
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        return file_from_item(dynamodb.old_item(exc, InProgress(file_id)))
    return file_from_item(response["Attributes"])


def find_item(project: str, file_id: str) -> Item | None:
    """The item under a file's id, pending or not."""
    return dynamodb.get_item(file_key(project, file_id))


def find_file(project: str, file_id: str) -> File | None:
    """A file of the project; a pending one (its upload under way, or stopped) is none."""
    item = find_item(project, file_id)
    return None if item is None or "pending" in item else file_from_item(item)


def find_files(project: str, file_ids: list[str]) -> dict[str, File]:
    """The files of the project among ``file_ids``, by id, in BatchGetItems of 100 (pending ones left out)."""
    found: dict[str, File] = {}
    for start in range(0, len(file_ids), 100):
        for item in dynamodb.batch_get([file_key(project, fid) for fid in file_ids[start : start + 100]]):
            if "pending" not in item:
                file = file_from_item(item)
                found[file.id] = file
    return found


def get_file(project: str, file_id: str) -> File:
    found = find_file(project, file_id)
    if found is None:
        raise NotFound("file", file_id)
    return found


def delete_file(project: str, file_id: str) -> None:
    """Delete a file's item (conditional: a file that is not there, pending, or another project's, is a 404)."""
    dynamodb.write_existing("delete_item", "file", file_id, Key=file_key(project, file_id), ConditionExpression=SHOWN)


def list_files(project: str, purpose: str | None, limit: int, order: str, after: str | None) -> Page:
    """A project's files from the ``by_order`` index, those of one ``purpose`` when given (a filter: a page
    reads past the files of other purposes)."""
    values: dict[str, dict[str, str]] = {":p": {"S": partition(project)}}
    filtered = {}
    if purpose is not None:
        values[":purpose"] = {"S": purpose}
        filtered = {"FilterExpression": "#purpose = :purpose", "ExpressionAttributeNames": {"#purpose": "purpose"}}
    cursor = find_item(project, after) if after else None
    items, has_more, backwards = query_page(
        None if cursor is None or "pending" in cursor else cursor,
        after,
        None,
        limit,
        order,
        sort_attr="ok",
        key_condition="pk = :p",
        IndexName="by_order",
        ExpressionAttributeValues=values,
        ConsistentRead=True,
        **filtered,
    )
    return Page([file_from_item(item) for item in items], has_more, backwards)


def removed_pending(record: dict[str, Any]) -> tuple[str, str] | None:
    """The (project, file id) of a stream record of a pending file's item removed (its TTL expired, so its
    upload never finished), or None for any other record."""
    removed = removed_item(record)
    if removed is None:
        return None
    pk, sk, old = removed
    if "pending" not in old or not (pk.startswith(PARTITION_PREFIX) and sk.startswith(FILE_PREFIX)):
        return None
    return pk.removeprefix(PARTITION_PREFIX), sk.removeprefix(FILE_PREFIX)
