"""Files' metadata: create, read, delete, and a project's list; each one DynamoDB call (a list, one more to
read its cursor). The bytes are in the stack's bucket (``threads_api/bucket``), never in the table.

A file is one item in its project's partition (``files#<project>``, ``file#<id>``), so the caller's project
is part of every key: another project's file is not found by construction. Its ``ok`` is a key from
``ids.CreationOrder``, which the ``by_order`` local index sorts: a project's files in creation order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from threads_api.domain import clock, ids
from threads_api.domain.errors import InProgress, NotFound
from threads_api.domain.records import File, Page
from threads_api.store import dynamodb
from threads_api.store.paging import query_page

if TYPE_CHECKING:
    from threads_api.store.items import Item

FILE_PREFIX = "file#"
EXISTS = "attribute_exists(pk)"
creation_order = ids.CreationOrder()  # per container: see ``ids.CreationOrder``


def partition(project: str) -> str:
    return f"files#{project}"


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


def put_file(project: str, file: File) -> File:
    """Write a new file's item in one conditional put (no item under its id yet), and return the file stored.

    An item already under its id was written by an earlier run of the same request (botocore's retry of a
    put that landed, or a request with an Idempotency-Key, whose id is derived from it): that file is returned
    as it is. One written and deleted since is ``InProgress`` (a retry writes it anew)."""
    item = file_item(project, file, creation_order.next_key(clock.now_ms()))
    try:
        dynamodb.call("put_item", Item=item, ConditionExpression="attribute_not_exists(pk)")
        return file
    except ClientError as exc:
        if dynamodb.error_code(exc) != "ConditionalCheckFailedException":
            raise
        existing = find_file(project, file.id)
        if existing is None:
            raise InProgress(file.id) from exc
        return existing


def find_file(project: str, file_id: str) -> File | None:
    item = dynamodb.get_item(file_key(project, file_id))
    return None if item is None else file_from_item(item)


def get_file(project: str, file_id: str) -> File:
    found = find_file(project, file_id)
    if found is None:
        raise NotFound("file", file_id)
    return found


def delete_file(project: str, file_id: str) -> None:
    """Delete a file's item (conditional: a file that is not there, or another project's, is a 404)."""
    dynamodb.write_existing("delete_item", "file", file_id, Key=file_key(project, file_id), ConditionExpression=EXISTS)


def list_files(project: str, purpose: str | None, limit: int, order: str, after: str | None) -> Page:
    """A project's files from the ``by_order`` index, those of one ``purpose`` when given (a filter: a page
    reads past the files of other purposes)."""
    values: dict[str, dict[str, str]] = {":p": {"S": partition(project)}}
    filtered = {}
    if purpose is not None:
        values[":purpose"] = {"S": purpose}
        filtered = {"FilterExpression": "#purpose = :purpose", "ExpressionAttributeNames": {"#purpose": "purpose"}}
    items, has_more, backwards = query_page(
        dynamodb.get_item(file_key(project, after)) if after else None,
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
