"""DynamoDB persistence: one table, every item of a thread in the thread's partition.

Items, by (pk, sk):
- thread   (thread_id, "thread"): prj (the project), created_at, meta, tools (JSON), last_ok (the newest message's
  order key), gpk/gsk (the ``by_owner`` index that lists a project's threads). A thread written in stages
  carries ``pending`` and a TTL until its last stage lands, and no gpk: nothing sees it before then.
- message  (thread_id, "msg#<id>"): ok (order key, sorted by the ``by_order`` local index), created_at,
  role, meta, and either body (the JSON of content and attachments) or parts (how many part items hold it).
- part     (thread_id, "msg#<id>#<n>"): data, a slice of the zlib-compressed body of a message too large
  for one item.
- api key  ("key#<sha256>", "key"): prj, prefix, created_at; gpk="keys" lists them.

Deleting a thread deletes its thread item only; the stream's REMOVE record drives ``purge_thread``.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from threads_api import limits
from threads_api.entities import JsonObject, Message, Page, Thread
from threads_api.errors import BadCursor, InProgress, InvalidText, NotFound, Unavailable
from threads_api.ids import new_id, next_order_key, order_key

Item = dict[str, Any]

TABLE = os.environ.get("TABLE_NAME", "threads-api")
# Bounded retries: 3 attempts of at most 1 s to connect and 3 s to read stay well inside the
# functions' 15 s timeout, itself well inside API Gateway's 29 s.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=1,
    read_timeout=3,
    max_pool_connections=32,
)
client = botocore.session.get_session().create_client("dynamodb", config=CLIENT_CONFIG)

THREAD_SK = "thread"
PENDING_TTL_SECONDS = 3600
_TRANSIENT = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
}
_TABLE_OPERATIONS = {"get_item", "put_item", "update_item", "delete_item", "query"}
_TRANSIENT_REASONS = {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded", "InternalServerError"}


def _call(operation: str, **kwargs: Any) -> Any:
    """One DynamoDB call; failures a retry may cure become ``Unavailable``."""
    if operation in _TABLE_OPERATIONS:
        kwargs["TableName"] = TABLE
    try:
        return getattr(client, operation)(**kwargs)
    except ClientError as exc:
        code = _error_code(exc)
        if code in _TRANSIENT or (
            code == "TransactionCanceledException"
            and any(reason.get("Code") in _TRANSIENT_REASONS for reason in _reasons(exc))
        ):
            raise Unavailable(operation) from exc
        raise
    except BotoCoreError as exc:  # timeouts, connection errors
        raise Unavailable(operation) from exc


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _reasons(exc: ClientError) -> list[dict[str, Any]]:
    return [dict(reason) for reason in exc.response.get("CancellationReasons", [])]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# -- encoding ---------------------------------------------------------------------------------------


def _utf8(value: Any) -> bytes:
    """The compact JSON of ``value`` as UTF-8; text with a lone surrogate is refused here, before any write."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError as exc:
        raise InvalidText from exc


def _dumps(value: Any) -> str:
    return _utf8(value).decode()


def _thread_key(thread_id: str) -> Item:
    return {"pk": {"S": thread_id}, "sk": {"S": THREAD_SK}}


def _message_key(thread_id: str, message_id: str) -> Item:
    return {"pk": {"S": thread_id}, "sk": {"S": f"msg#{message_id}"}}


def _part_key(thread_id: str, message_id: str, n: int) -> Item:
    return {"pk": {"S": thread_id}, "sk": {"S": f"msg#{message_id}#{n}"}}


def item_size(item: Item) -> int:
    """An item's size as DynamoDB counts it (names and values), rounded up for numbers."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if "S" in value:
            size += len(value["S"].encode())
        elif "B" in value:
            size += len(value["B"])
        else:
            size += 22
    return size


def _message_items(thread_id: str, message: Message, ok: str) -> list[Item]:
    """The message item, and the part items that hold its body when it is too large for one item."""
    body = _utf8({"content": message.content, "attachments": message.attachments})
    item: Item = {
        **_message_key(thread_id, message.id),
        "ok": {"S": ok},
        "created_at": {"N": str(message.created_at)},
        "role": {"S": message.role},
        "meta": {"S": _dumps(message.metadata)},
    }
    if len(body) <= limits.ITEM_BODY_INLINE_BYTES:
        item["body"] = {"S": body.decode()}
        return [item]
    packed = zlib.compress(body, 6)
    slices = [packed[i : i + limits.ITEM_PART_BYTES] for i in range(0, len(packed), limits.ITEM_PART_BYTES)]
    item["parts"] = {"N": str(len(slices))}
    parts = [{**_part_key(thread_id, message.id, n), "data": {"B": data}} for n, data in enumerate(slices, 1)]
    return [item, *parts]


def _thread_from_item(item: Item) -> Thread:
    return Thread(
        id=item["pk"]["S"],
        created_at=int(item["created_at"]["N"]),
        metadata=json.loads(item["meta"]["S"]),
        tool_resources=json.loads(item["tools"]["S"]),
    )


def _visible_thread(item: Item | None, project: str) -> bool:
    return item is not None and item.get("prj", {}).get("S") == project and "pending" not in item


def _message_from_item(item: Item, parts: list[bytes] | None = None) -> Message:
    body = json.loads(item["body"]["S"]) if "body" in item else json.loads(zlib.decompress(b"".join(parts or [])))
    return Message(
        id=item["sk"]["S"][4:],
        thread_id=item["pk"]["S"],
        created_at=int(item["created_at"]["N"]),
        role=item["role"]["S"],
        content=body["content"],
        attachments=body["attachments"],
        metadata=json.loads(item["meta"]["S"]),
    )


def _batch_get(keys: list[Item]) -> list[Item]:
    """Strongly consistent BatchGetItem, retrying unprocessed keys."""
    found: list[Item] = []
    request: dict[str, Any] = {TABLE: {"Keys": keys, "ConsistentRead": True}}
    for attempt in range(6):
        response = _call("batch_get_item", RequestItems=request)
        found.extend(response.get("Responses", {}).get(TABLE, []))
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return found
        time.sleep(random.uniform(0, 0.05 * 2**attempt))
    raise Unavailable("batch_get_item")


def _messages_with_bodies(items: list[Item]) -> list[Message]:
    """Messages from their items, fetching the parts of the (rare) large ones in one more round trip."""
    part_keys = [
        _part_key(item["pk"]["S"], item["sk"]["S"][4:], n)
        for item in items
        if "parts" in item
        for n in range(1, int(item["parts"]["N"]) + 1)
    ]
    parts: dict[str, bytes] = {}
    for start in range(0, len(part_keys), 100):
        for part in _batch_get(part_keys[start : start + 100]):
            parts[part["sk"]["S"]] = part["data"]["B"]
    messages = []
    for item in items:
        if "parts" in item:
            sk = item["sk"]["S"]
            data = [parts[f"{sk}#{n}"] for n in range(1, int(item["parts"]["N"]) + 1)]
            messages.append(_message_from_item(item, data))
        else:
            messages.append(_message_from_item(item))
    return messages


# -- threads ----------------------------------------------------------------------------------------


def create_thread(
    project: str,
    metadata: dict[str, str],
    tool_resources: JsonObject,
    messages: list[tuple[str, list[JsonObject], list[JsonObject], dict[str, str]]],
    thread_id: str | None = None,
) -> tuple[Thread, list[Message]]:
    """Write a thread and its first messages (role, content, attachments, metadata), all or nothing.

    ``thread_id`` is given by a request with an Idempotency-Key (derived from it): when a thread with that id
    exists already, that same request created it, and it is returned as it is (with no messages) instead of
    written again; one still being written in stages is ``InProgress``.
    """
    ms = now_ms()
    created_at = ms // 1000
    thread = Thread(thread_id or new_id("thread_"), created_at, metadata, tool_resources)
    thread_item: Item = {
        **_thread_key(thread.id),
        "prj": {"S": project},
        "created_at": {"N": str(created_at)},
        "meta": {"S": _dumps(metadata)},
        "tools": {"S": _dumps(tool_resources)},
        "gpk": {"S": f"threads#{project}"},
        "gsk": {"S": order_key(ms, random.getrandbits(32))},
    }
    created: list[Message] = []
    message_items: list[Item] = []
    for seq, (role, content, attachments, meta) in enumerate(messages):
        message = Message(new_id("msg_"), thread.id, created_at, role, content, attachments, meta)
        created.append(message)
        message_items.extend(_message_items(thread.id, message, order_key(ms, seq)))
    if created:
        thread_item["last_ok"] = {"S": order_key(ms, len(created) - 1)}

    new_thread = "attribute_not_exists(pk)"
    if not message_items:
        try:
            _call("put_item", Item=thread_item, ConditionExpression=new_thread)
        except ClientError as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":
                raise
            # A retry by botocore of a put that did land finds the item: ours if it has our random gsk.
            existing = _call("get_item", Key=_thread_key(thread.id), ConsistentRead=True).get("Item")
            if existing is None or existing.get("gsk") != thread_item["gsk"]:
                if thread_id is None:
                    raise
                return _created_before(project, existing, thread.id), []
    elif (
        len(message_items) + 1 <= limits.TRANSACTION_MAX_ITEMS
        and item_size(thread_item) + sum(map(item_size, message_items)) <= limits.TRANSACTION_MAX_BYTES
    ):
        writes = [{"Put": {"TableName": TABLE, "Item": thread_item, "ConditionExpression": new_thread}}]
        writes += [{"Put": {"TableName": TABLE, "Item": item}} for item in message_items]
        try:
            _call("transact_write_items", TransactItems=writes, ClientRequestToken=str(uuid.uuid4()))
        except ClientError as exc:
            if thread_id is None or not _condition_failed(exc, 0):
                raise
            existing = _call("get_item", Key=_thread_key(thread.id), ConsistentRead=True).get("Item")
            return _created_before(project, existing, thread.id), []
    elif not _create_in_stages(thread_item, message_items, exists_ok=thread_id is not None):
        existing = _call("get_item", Key=_thread_key(thread.id), ConsistentRead=True).get("Item")
        return _created_before(project, existing, thread.id), []
    return thread, created


def _condition_failed(exc: ClientError, index: int) -> bool:
    """Whether a cancelled transaction's ``index``-th action failed its condition."""
    codes = [reason.get("Code") for reason in _reasons(exc)]
    return (
        _error_code(exc) == "TransactionCanceledException"
        and len(codes) > index
        and codes[index] == "ConditionalCheckFailed"
    )


def _created_before(project: str, item: Item | None, thread_id: str) -> Thread:
    """The thread a keyed creation finds under its id: written by an earlier run of the same request."""
    if item is not None and _visible_thread(item, project):
        return _thread_from_item(item)
    # Still being written in stages (or, in a rare race, just gone): a retry will know.
    raise InProgress(thread_id)


def _create_in_stages(thread_item: Item, message_items: list[Item], exists_ok: bool = False) -> bool:
    """A thread too large for one transaction: a hidden thread item, its messages, then the reveal.

    Until the last step the thread item is ``pending`` (every read treats it as absent) and carries a TTL,
    so a crash at any step leaves nothing forever: the TTL removes the thread item and the stream's REMOVE
    record purges whatever messages were written. With ``exists_ok``, a thread item already under this id
    means nothing is written and False is returned.
    """
    hidden = {k: v for k, v in thread_item.items() if k not in ("gpk", "gsk")}
    hidden["pending"] = {"BOOL": True}
    hidden["expires_at"] = {"N": str(int(time.time()) + PENDING_TTL_SECONDS)}
    try:
        _call("put_item", Item=hidden, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as exc:
        if exists_ok and _error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    try:
        batch_write([{"PutRequest": {"Item": item}} for item in message_items])
        _call(
            "update_item",
            Key=_thread_key(thread_item["pk"]["S"]),
            UpdateExpression="SET gpk = :gpk, gsk = :gsk REMOVE pending, expires_at",
            ConditionExpression="attribute_exists(pending)",
            ExpressionAttributeValues={":gpk": thread_item["gpk"], ":gsk": thread_item["gsk"]},
        )
    except Exception:
        # Best effort: removing the hidden thread now starts the purge at once instead of at TTL.
        try:
            _call("delete_item", Key=_thread_key(thread_item["pk"]["S"]))
        finally:
            raise
    return True


def get_thread(project: str, thread_id: str) -> Thread:
    item = _call("get_item", Key=_thread_key(thread_id), ConsistentRead=True).get("Item")
    if not _visible_thread(item, project):
        raise NotFound("thread", thread_id)
    return _thread_from_item(item)


def update_thread(
    project: str, thread_id: str, metadata: dict[str, str] | None, tool_resources: JsonObject | None
) -> Thread:
    """Replace what is given (None keeps the stored value) in one conditional write: never resurrects."""
    sets, values = [], {":p": {"S": project}}
    if metadata is not None:
        sets.append("meta = :m")
        values[":m"] = {"S": _dumps(metadata)}
    if tool_resources is not None:
        sets.append("tools = :t")
        values[":t"] = {"S": _dumps(tool_resources)}
    if not sets:
        return get_thread(project, thread_id)
    try:
        item = _call(
            "update_item",
            Key=_thread_key(thread_id),
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="prj = :p AND attribute_not_exists(pending)",
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except ClientError as exc:
        if _error_code(exc) == "ConditionalCheckFailedException":
            raise NotFound("thread", thread_id) from exc
        raise
    return _thread_from_item(item)


def delete_thread(project: str, thread_id: str) -> None:
    """Delete the thread item; its messages go with the stream-driven purge."""
    try:
        _call(
            "delete_item",
            Key=_thread_key(thread_id),
            ConditionExpression="prj = :p AND attribute_not_exists(pending)",
            ExpressionAttributeValues={":p": {"S": project}},
        )
    except ClientError as exc:
        if _error_code(exc) == "ConditionalCheckFailedException":
            raise NotFound("thread", thread_id) from exc
        raise


def _query_page(
    cursor_ok: str | None,
    limit: int,
    order: str,
    before: bool,
    **query: Any,
) -> tuple[list[Item], bool]:
    """One page of an ordered query: ``order`` is the list's order; a ``before`` page reads backwards."""
    forward = (order == "asc") != before
    sort_attr = query.pop("sort_attr")
    condition = query.pop("KeyConditionExpression")
    if cursor_ok is not None:
        condition += f" AND {sort_attr} {'>' if forward else '<'} :c"
        query["ExpressionAttributeValues"][":c"] = {"S": cursor_ok}
    items: list[Item] = []
    # A Query page stops at 1 MB; large messages can cut it short of the limit, so read on until full.
    while True:
        response = _call(
            "query",
            KeyConditionExpression=condition,
            ScanIndexForward=forward,
            Limit=limit + 1 - len(items),
            **query,
        )
        items.extend(response.get("Items", []))
        if len(items) > limit or "LastEvaluatedKey" not in response:
            break
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    has_more = len(items) > limit
    items = items[:limit]
    if before:
        items.reverse()
    return items, has_more


def list_threads(project: str, limit: int, order: str, after: str | None, before: str | None) -> Page:
    """A project's threads from the ``by_owner`` index: cost follows the page, not the table."""
    cursor_ok = None
    cursor = after or before
    if cursor is not None:
        item = _call("get_item", Key=_thread_key(cursor), ConsistentRead=True).get("Item")
        if not _visible_thread(item, project) or "gsk" not in item:
            raise BadCursor("after" if after else "before", cursor)
        cursor_ok = item["gsk"]["S"]
    backwards = before is not None and after is None
    items, has_more = _query_page(
        cursor_ok,
        limit,
        order,
        backwards,
        IndexName="by_owner",
        sort_attr="gsk",
        KeyConditionExpression="gpk = :g",
        ExpressionAttributeValues={":g": {"S": f"threads#{project}"}},
    )
    return Page([_thread_from_item(item) for item in items], has_more, backwards)


# -- messages ---------------------------------------------------------------------------------------


def append_message(
    project: str,
    thread_id: str,
    role: str,
    content: list[JsonObject],
    attachments: list[JsonObject],
    metadata: dict[str, str],
    message_id: str | None = None,
) -> Message:
    """Append a message in one transaction that also advances the thread's ``last_ok``.

    The condition ``last_ok < :k`` makes order keys strictly increase per thread, whatever the clocks of
    concurrent writers; and a thread deleted meanwhile fails the condition, so no message outlives it.
    The message's put is conditional too (no message under its id yet): ``message_id`` is given by a request
    with an Idempotency-Key (derived from it), and a message already under it was written by an earlier run
    of that same request, so it is returned as it is instead of written again.
    """
    last_ok: str | None = None
    message_id = message_id or new_id("msg_")
    for attempt in range(8):
        ms = now_ms()
        ok = next_order_key(ms, last_ok)
        message = Message(message_id, thread_id, ms // 1000, role, content, attachments, metadata)
        writes: list[Item] = [
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": _thread_key(thread_id),
                    "UpdateExpression": "SET last_ok = :k",
                    "ConditionExpression": "prj = :p AND attribute_not_exists(pending) "
                    "AND (attribute_not_exists(last_ok) OR last_ok < :k)",
                    "ExpressionAttributeValues": {":p": {"S": project}, ":k": {"S": ok}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        ]
        message_item, *parts = _message_items(thread_id, message, ok)
        writes.append(
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": message_item,
                    "ConditionExpression": "attribute_not_exists(sk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        )
        writes += [{"Put": {"TableName": TABLE, "Item": item}} for item in parts]
        try:
            # The token makes botocore's own retry of a transaction that did commit a success, not a failure.
            _call("transact_write_items", TransactItems=writes, ClientRequestToken=str(uuid.uuid4()))
            return message
        except ClientError as exc:
            if _error_code(exc) != "TransactionCanceledException":
                raise
            reasons = _reasons(exc)
            codes = [r.get("Code") for r in reasons]
            if codes and codes[0] == "ConditionalCheckFailed":
                old = reasons[0].get("Item") or _call("get_item", Key=_thread_key(thread_id), ConsistentRead=True).get(
                    "Item"
                )
                if not _visible_thread(old, project):
                    raise NotFound("thread", thread_id) from exc
                last_ok = old.get("last_ok", {}).get("S")
                if last_ok == ok:  # our own write, committed by an attempt whose answer was lost
                    return message
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                # This request's message, written by an earlier run of it (its Idempotency-Key's id).
                existing = reasons[1].get("Item") or _call(
                    "get_item", Key=_message_key(thread_id, message_id), ConsistentRead=True
                ).get("Item")
                if existing is not None:
                    return _messages_with_bodies([existing])[0]
            elif (not codes or codes[0] != "ConditionalCheckFailed") and "TransactionConflict" not in codes:
                raise  # not something a retry can cure
            # A concurrent append (conflict) or a stale last_ok: go again, with jitter.
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise Unavailable("transact_write_items")


def get_message(project: str, thread_id: str, message_id: str) -> Message:
    items = _batch_get([_thread_key(thread_id), _message_key(thread_id, message_id)])
    by_sk = {item["sk"]["S"]: item for item in items}
    if not _visible_thread(by_sk.get(THREAD_SK), project):
        raise NotFound("thread", thread_id)
    item = by_sk.get(f"msg#{message_id}")
    if item is None:
        raise NotFound("message", message_id)
    return _messages_with_bodies([item])[0]


def _write_message_if_thread(project: str, thread_id: str, message_id: str, write: Item) -> None:
    """A conditional write to a message, in a transaction with a check that its thread is the caller's."""
    check = {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": _thread_key(thread_id),
            "ConditionExpression": "prj = :p AND attribute_not_exists(pending)",
            "ExpressionAttributeValues": {":p": {"S": project}},
        }
    }
    try:
        _call("transact_write_items", TransactItems=[check, write])
    except ClientError as exc:
        if _error_code(exc) != "TransactionCanceledException":
            raise
        codes = [r.get("Code") for r in _reasons(exc)]
        if codes and codes[0] == "ConditionalCheckFailed":
            raise NotFound("thread", thread_id) from exc
        if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
            raise NotFound("message", message_id) from exc
        raise Unavailable("transact_write_items") from exc


def update_message_metadata(project: str, thread_id: str, message_id: str, metadata: dict[str, str]) -> Message:
    update = {
        "Update": {
            "TableName": TABLE,
            "Key": _message_key(thread_id, message_id),
            "UpdateExpression": "SET meta = :m",
            "ConditionExpression": "attribute_exists(sk)",
            "ExpressionAttributeValues": {":m": {"S": _dumps(metadata)}},
        }
    }
    _write_message_if_thread(project, thread_id, message_id, update)
    item = _call("get_item", Key=_message_key(thread_id, message_id), ConsistentRead=True).get("Item")
    if item is None:  # deleted between the two calls
        raise NotFound("message", message_id)
    return _messages_with_bodies([item])[0]


def delete_message(project: str, thread_id: str, message_id: str) -> None:
    """Delete a message; the parts of a large one go with the stream-driven cleanup."""
    delete = {
        "Delete": {
            "TableName": TABLE,
            "Key": _message_key(thread_id, message_id),
            "ConditionExpression": "attribute_exists(sk)",
        }
    }
    _write_message_if_thread(project, thread_id, message_id, delete)


def list_messages(project: str, thread_id: str, limit: int, order: str, after: str | None, before: str | None) -> Page:
    """A page of a thread's messages: one BatchGetItem (thread and cursor), one Query of ``by_order``."""
    cursor = after or before
    keys = [_thread_key(thread_id)]
    if cursor is not None:
        keys.append(_message_key(thread_id, cursor))
    by_sk = {item["sk"]["S"]: item for item in _batch_get(keys)}
    if not _visible_thread(by_sk.get(THREAD_SK), project):
        raise NotFound("thread", thread_id)
    backwards = before is not None and after is None  # a ``before`` page reads away from the cursor
    cursor_ok = None
    if cursor is not None:
        cursor_item = by_sk.get(f"msg#{cursor}")
        if cursor_item is None:
            raise BadCursor("after" if after else "before", cursor)
        cursor_ok = cursor_item["ok"]["S"]
    items, has_more = _query_page(
        cursor_ok,
        limit,
        order,
        backwards,
        IndexName="by_order",
        sort_attr="ok",
        KeyConditionExpression="pk = :t",
        ExpressionAttributeValues={":t": {"S": thread_id}},
        ConsistentRead=True,
    )
    items, trimmed = _within_budget(items, cursor_at_end=backwards)
    return Page(_messages_with_bodies(items), has_more or trimmed, backwards)


def _within_budget(items: list[Item], cursor_at_end: bool) -> tuple[list[Item], bool]:
    """Keep a page's stored bodies under ``LIST_PAGE_MAX_BODY_BYTES`` (at least one message), cutting the
    end farthest from the cursor; the caller reports has_more. A cheap first cut, before the parts of large
    messages are read: the exact fit to Lambda's response limit is ``objects.list_object``'s."""
    ordered = items[::-1] if cursor_at_end else items
    kept: list[Item] = []
    total = 0
    for item in ordered:
        size = len(item["body"]["S"]) if "body" in item else int(item["parts"]["N"]) * limits.ITEM_PART_BYTES
        if kept and total + size > limits.LIST_PAGE_MAX_BODY_BYTES:
            break
        kept.append(item)
        total += size
    trimmed = len(kept) < len(items)
    return (kept[::-1] if cursor_at_end else kept), trimmed


# -- cleanup ----------------------------------------------------------------------------------------


def batch_write(requests: list[Item]) -> None:
    """BatchWriteItem in chunks of 25, retrying unprocessed items with backoff."""
    for start in range(0, len(requests), limits.BATCH_WRITE_MAX_ITEMS):
        pending: dict[str, Any] = {TABLE: requests[start : start + limits.BATCH_WRITE_MAX_ITEMS]}
        for attempt in range(10):
            pending = _call("batch_write_item", RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
        else:
            raise Unavailable("batch_write_item")


def _partition_keys(thread_id: str) -> Iterator[list[Item]]:
    start: Item | None = None
    while True:
        page = _call(
            "query",
            KeyConditionExpression="pk = :t",
            ExpressionAttributeValues={":t": {"S": thread_id}},
            ProjectionExpression="pk, sk",
            ConsistentRead=True,  # a message committed just before the delete must not be missed
            **({"ExclusiveStartKey": start} if start else {}),
        )
        yield page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def purge_thread(thread_id: str) -> int:
    """Delete every item left in a deleted thread's partition; safe to run again. Returns the count."""
    count = 0
    for page in _partition_keys(thread_id):
        keys = [key for key in page if key["sk"]["S"] != THREAD_SK]  # a live thread item is not ours
        batch_write([{"DeleteRequest": {"Key": key}} for key in keys])
        count += len(keys)
    return count


def delete_message_parts(thread_id: str, message_id: str, parts: int) -> None:
    batch_write([{"DeleteRequest": {"Key": _part_key(thread_id, message_id, n)}} for n in range(1, parts + 1)])


# -- api keys ---------------------------------------------------------------------------------------


def put_key(key_hash: str, project: str, prefix: str) -> None:
    created_at = int(time.time())
    _call(
        "put_item",
        Item={
            "pk": {"S": f"key#{key_hash}"},
            "sk": {"S": "key"},
            "prj": {"S": project},
            "prefix": {"S": prefix},
            "created_at": {"N": str(created_at)},
            "gpk": {"S": "keys"},
            "gsk": {"S": f"{created_at:012d}#{key_hash}"},
        },
        ConditionExpression="attribute_not_exists(pk)",
    )


def get_key_project(key_hash: str) -> str | None:
    # Consistent: a revoked key must fail at once on a container that has not cached it.
    item = _call("get_item", Key={"pk": {"S": f"key#{key_hash}"}, "sk": {"S": "key"}}, ConsistentRead=True).get("Item")
    return None if item is None else str(item["prj"]["S"])


def delete_key(key_hash: str) -> bool:
    response = _call("delete_item", Key={"pk": {"S": f"key#{key_hash}"}, "sk": {"S": "key"}}, ReturnValues="ALL_OLD")
    return "Attributes" in response


def list_keys() -> list[dict[str, Any]]:
    keys, start = [], None
    while True:
        page = _call(
            "query",
            IndexName="by_owner",
            KeyConditionExpression="gpk = :g",
            ExpressionAttributeValues={":g": {"S": "keys"}},
            **({"ExclusiveStartKey": start} if start else {}),
        )
        for item in page.get("Items", []):
            keys.append(
                {
                    "id": item["pk"]["S"][4:],
                    "project": item["prj"]["S"],
                    "prefix": item["prefix"]["S"],
                    "created_at": int(item["created_at"]["N"]),
                }
            )
        start = page.get("LastEvaluatedKey")
        if not start:
            return keys
