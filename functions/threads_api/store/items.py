"""The table's items, encoded and decoded: pure functions, no DynamoDB call.

Items, by (pk, sk):
- thread   (thread_id, "thread"): prj (the project), created_at, meta, tools (JSON), last_ok (the newest message's
  order key), gpk/gsk (the ``by_owner`` index that lists a project's threads). A thread written in stages
  carries ``pending`` and a TTL until its last stage lands, and no gpk: nothing sees it before then.
- message  (thread_id, "msg#<id>"): ok (order key, sorted by the ``by_order`` local index), created_at,
  role, meta, and either body (the JSON of content and attachments) or parts (how many part items hold it).
  A run's reply also has run, asst (its assistant) and, when cut short, mstatus (status and details, JSON).
- part     (thread_id, "msg#<id>#<n>"): data, a slice of the zlib-compressed body of a message too large
  for one item.
- api key  ("key#<sha256>", "key"): prj, prefix, created_at; gpk="keys" lists them (``api_keys``).
- assistant ("assistants#<project>", "asst#<id>"): ok (creation order, sorted by ``by_order``), created_at,
  model, aname, descr, instr, tools, tres (tool resources, JSON), meta, temp, top_p, rfmt (response format);
  a null field is an absent attribute; instr, tools and rfmt are JSON, zlib-compressed (B) past 1 KB.
  Encoded in ``assistants``.
"""

from __future__ import annotations

import json
import zlib
from typing import TYPE_CHECKING, Any, TypeGuard

from threads_api.domain import limits
from threads_api.domain.errors import InvalidText
from threads_api.domain.records import Message, Thread

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# An item as DynamoDB's wire format has it: {"name": {"S": "..."}}; the type exists only for the checker.
type Item = dict[str, AttributeValueTypeDef]

THREAD_SK = "thread"
MESSAGE_PREFIX = "msg#"


def removed_item(record: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """The (pk, sk, old image) of a stream record of an item removed (a delete, or its TTL expired), or None for
    any other record: what each cleanup reads first to tell whether the item was one of its own."""
    if record.get("eventName") != "REMOVE":
        return None
    change = record.get("dynamodb") or {}
    keys = change.get("Keys") or {}
    return keys.get("pk", {}).get("S", ""), keys.get("sk", {}).get("S", ""), change.get("OldImage") or {}


def utf8(value: Any) -> bytes:
    """The compact JSON of ``value`` as UTF-8; text with a lone surrogate is refused here, before any write."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError as exc:
        raise InvalidText from exc


def dumps(value: Any) -> str:
    return utf8(value).decode()


def thread_key(thread_id: str) -> Item:
    return {"pk": {"S": thread_id}, "sk": {"S": THREAD_SK}}


def message_key(thread_id: str, message_id: str) -> Item:
    return {"pk": {"S": thread_id}, "sk": {"S": f"{MESSAGE_PREFIX}{message_id}"}}


def part_key(thread_id: str, message_id: str, n: int) -> Item:
    return {"pk": {"S": thread_id}, "sk": {"S": f"{MESSAGE_PREFIX}{message_id}#{n}"}}


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


# -- threads --------------------------------------------------------------------------------------------


def thread_item(project: str, thread: Thread, gsk: str) -> Item:
    """A thread's item, listed in its project's threads under ``gsk``."""
    return {
        **thread_key(thread.id),
        "prj": {"S": project},
        "created_at": {"N": str(thread.created_at)},
        "meta": {"S": dumps(thread.metadata)},
        "tools": {"S": dumps(thread.tool_resources)},
        "gpk": {"S": f"threads#{project}"},
        "gsk": {"S": gsk},
    }


def thread_from_item(item: Item) -> Thread:
    return Thread(
        id=item["pk"]["S"],
        created_at=int(item["created_at"]["N"]),
        metadata=json.loads(item["meta"]["S"]),
        tool_resources=json.loads(item["tools"]["S"]),
    )


def visible_thread(item: Item | None, project: str) -> TypeGuard[Item]:
    """Whether ``item`` is a thread of ``project`` that is whole (not still being written in stages)."""
    return item is not None and item.get("prj", {}).get("S") == project and "pending" not in item


# -- messages -------------------------------------------------------------------------------------------


def message_items(thread_id: str, message: Message, ok: str) -> list[Item]:
    """The message item, and the part items that hold its body when it is too large for one item."""
    body = utf8({"content": message.content, "attachments": message.attachments})
    item: Item = {
        **message_key(thread_id, message.id),
        "ok": {"S": ok},
        "created_at": {"N": str(message.created_at)},
        "role": {"S": message.role},
        "meta": {"S": dumps(message.metadata)},
    }
    if message.assistant_id is not None or message.run_id is not None:  # who wrote it (an import may give one)
        item["asst"] = {"S": message.assistant_id or ""}
    if message.run_id is not None:  # a run's reply: and whether it was cut short
        item["run"] = {"S": message.run_id}
        if message.status != "completed":
            item["mstatus"] = {"S": dumps({"status": message.status, "details": message.incomplete_details})}
    if len(body) <= limits.ITEM_BODY_INLINE_BYTES:
        item["body"] = {"S": body.decode()}
        return [item]
    packed = zlib.compress(body, 6)
    slices = [packed[i : i + limits.ITEM_PART_BYTES] for i in range(0, len(packed), limits.ITEM_PART_BYTES)]
    item["parts"] = {"N": str(len(slices))}
    parts: list[Item] = [
        {**part_key(thread_id, message.id, n), "data": {"B": data}} for n, data in enumerate(slices, 1)
    ]
    return [item, *parts]


def part_keys(items: list[Item]) -> list[Item]:
    """The keys of the part items that hold the bodies of the (large) messages among ``items``."""
    return [
        part_key(item["pk"]["S"], item["sk"]["S"][len(MESSAGE_PREFIX) :], n)
        for item in items
        if "parts" in item
        for n in range(1, int(item["parts"]["N"]) + 1)
    ]


def message_from_item(item: Item, parts: dict[str, bytes] | None = None) -> Message:
    """A message from its item and, for a large one, its part items' data (``parts``, by their sk)."""
    if "body" in item:
        body = json.loads(item["body"]["S"])
    else:
        sk = item["sk"]["S"]
        data = [(parts or {})[f"{sk}#{n}"] for n in range(1, int(item["parts"]["N"]) + 1)]
        body = json.loads(zlib.decompress(b"".join(data)))
    return Message(
        id=item["sk"]["S"][len(MESSAGE_PREFIX) :],
        thread_id=item["pk"]["S"],
        created_at=int(item["created_at"]["N"]),
        role=item["role"]["S"],
        content=body["content"],
        attachments=body["attachments"],
        metadata=json.loads(item["meta"]["S"]),
        **_reply_fields(item),
    )


def _reply_fields(item: Item) -> dict[str, Any]:
    fields: dict[str, Any] = {"assistant_id": item["asst"]["S"] or None} if "asst" in item else {}
    if "run" not in item:
        return fields
    fields["run_id"] = item["run"]["S"]
    if "mstatus" in item:
        status = json.loads(item["mstatus"]["S"])
        fields |= {"status": status["status"], "incomplete_details": status["details"]}
    return fields


def stored_body_size(item: Item) -> int:
    """About how many bytes a message item's body takes as stored (a large one's parts: at most this)."""
    return len(item["body"]["S"]) if "body" in item else int(item["parts"]["N"]) * limits.ITEM_PART_BYTES
