"""Assistants: create, read, modify, delete, and a project's list; each one DynamoDB call (a list, one more
to read its cursor).

An assistant is one item in its project's partition (``assistants#<project>``, ``asst#<id>``), so the key of
the caller's project is part of every key: another project's assistant is not found by construction. Its
``ok`` is a key from ``ids.CreationOrder``, which the ``by_order`` local index sorts: a project's
assistants in creation order, strictly so for those one container creates.

The item's encoding comes first (pure functions); a large text or JSON value is stored zlib-compressed, and
each is bounded so that the whole item, with its copy in ``by_order``, always fits DynamoDB's 400 KB: a
modify can then be one UpdateItem, with no read to learn the size of the fields it keeps.
"""

from __future__ import annotations

import json
import zlib
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from threads_api.domain import clock, errors, ids
from threads_api.domain.errors import InProgress, NotFound
from threads_api.domain.records import Assistant, JsonObject, Page
from threads_api.store import dynamodb
from threads_api.store.items import dumps, utf8
from threads_api.store.paging import order_page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from threads_api.store.items import Item

ASSISTANT_PREFIX = "asst#"
EXISTS = "attribute_exists(pk)"
creation_order = ids.CreationOrder()  # per container: see ``ids.CreationOrder``

# Values up to this many bytes of JSON are stored as text (readable in the table), larger ones compressed.
PACK_ABOVE_BYTES = 1024
# What each packed value may take as stored. With the bounded fields (name, description, model, metadata: at
# most ~41 KB in 4-byte characters) the item stays under 204,800 bytes: 400 KB counting its by_order copy.
PACKED_MAX_BYTES = {"instructions": 110_000, "tools": 36_000, "response_format": 12_000}

# field -> (attribute, how it is stored): "s" text, "json" JSON text, "packed" JSON text or zlib, "float" a
# float's repr as text (DynamoDB's numbers stop at 1E-130, and OpenAI's top_p takes any double down to 5E-324).
ATTRIBUTES = {
    "model": ("model", "s"),
    "name": ("aname", "s"),
    "description": ("descr", "s"),
    "instructions": ("instr", "packed"),
    "tools": ("tools", "packed"),
    "tool_resources": ("tres", "json"),
    "metadata": ("meta", "json"),
    "temperature": ("temp", "float"),
    "top_p": ("top_p", "float"),
    "response_format": ("rfmt", "packed"),
}


def partition(project: str) -> str:
    return f"assistants#{project}"


def assistant_key(project: str, assistant_id: str) -> Item:
    return {"pk": {"S": partition(project)}, "sk": {"S": f"{ASSISTANT_PREFIX}{assistant_id}"}}


def encode(field: str, value: Any) -> AttributeValueTypeDef | None:
    """A field's stored attribute value; None for a null (the attribute is absent). A packed value over its
    bound is a 400 naming the field."""
    _, kind = ATTRIBUTES[field]
    if value is None:
        return None
    if kind == "s":
        return {"S": value}
    if kind == "json":
        return {"S": dumps(value)}
    if kind == "float":
        return {"S": repr(float(value))}
    data = utf8(value)
    if len(data) <= PACK_ABOVE_BYTES:
        return {"S": data.decode()}
    packed = zlib.compress(data, 6)
    if len(packed) > PACKED_MAX_BYTES[field]:
        raise errors.invalid(
            f"Invalid '{field}': too large to store. This deployment keeps an assistant in one DynamoDB item, "
            f"where '{field}' may take {PACKED_MAX_BYTES[field]} bytes compressed, but this one takes "
            f"{len(packed)}.",
            param=field,
            code="value_too_large",
        )
    return {"B": packed}


def decode(field: str, value: AttributeValueTypeDef | None) -> Any:
    _, kind = ATTRIBUTES[field]
    if value is None:
        return None
    if kind == "s":
        return value["S"]
    if kind == "float":
        return float(value["S"])
    if "B" in value:
        return json.loads(zlib.decompress(value["B"]))
    return json.loads(value["S"])


def assistant_item(project: str, assistant: Assistant, ok: str) -> Item:
    """An assistant's item, listed in its project's assistants under ``ok``."""
    item: Item = {
        **assistant_key(project, assistant.id),
        "ok": {"S": ok},
        "created_at": {"N": str(assistant.created_at)},
    }
    for field, (attribute, _) in ATTRIBUTES.items():
        value = encode(field, getattr(assistant, field))
        if value is not None:
            item[attribute] = value
    return item


def assistant_from_item(item: Item) -> Assistant:
    values = {field: decode(field, item.get(attribute)) for field, (attribute, _) in ATTRIBUTES.items()}
    return Assistant(
        id=item["sk"]["S"][len(ASSISTANT_PREFIX) :],
        created_at=int(item["created_at"]["N"]),
        **values,
    )


def update_expression(changes: JsonObject) -> tuple[str, dict[str, str], dict[str, AttributeValueTypeDef]]:
    """The UpdateExpression, names and values that write ``changes`` (field -> value; None removes it)."""
    sets, removes = [], []
    names: dict[str, str] = {}
    values: dict[str, AttributeValueTypeDef] = {}
    for n, (field, value) in enumerate(changes.items()):
        names[f"#a{n}"] = ATTRIBUTES[field][0]
        encoded = encode(field, value)
        if encoded is None:
            removes.append(f"#a{n}")
        else:
            sets.append(f"#a{n} = :v{n}")
            values[f":v{n}"] = encoded
    expression = " ".join(
        part
        for part in ("SET " + ", ".join(sets) if sets else "", "REMOVE " + ", ".join(removes) if removes else "")
        if part
    )
    return expression, names, values


# -- the calls ---------------------------------------------------------------------------------------------


def create_assistant(project: str, assistant_fields: JsonObject, assistant_id: str | None = None) -> Assistant:
    """Write a new assistant in one conditional put (no item under its id yet).

    ``assistant_id`` is given by a request with an Idempotency-Key (derived from it): an assistant already
    under that id was written by an earlier run of that same request, and is returned as it is.
    """
    ms = clock.now_ms()
    assistant = Assistant(id=assistant_id or ids.new_id("asst_"), created_at=ms // 1000, **assistant_fields)
    item = assistant_item(project, assistant, creation_order.next_key(ms))
    try:
        dynamodb.call("put_item", Item=item, ConditionExpression="attribute_not_exists(pk)")
        return assistant
    except ClientError as exc:
        if dynamodb.error_code(exc) != "ConditionalCheckFailedException":
            raise
        existing = dynamodb.get_item(assistant_key(project, assistant.id))
        if existing is not None and existing.get("ok") == item["ok"]:
            return assistant  # botocore's retry of our put, which had landed (its answer lost): ours, by its ok
        if assistant_id is None:
            raise
        if existing is None:
            raise InProgress(assistant.id) from exc  # written and deleted since: a retry writes it anew
        return assistant_from_item(existing)


def get_assistant(project: str, assistant_id: str) -> Assistant:
    item = dynamodb.get_item(assistant_key(project, assistant_id))
    if item is None:
        raise NotFound("assistant", assistant_id)
    return assistant_from_item(item)


def update_assistant(project: str, assistant_id: str, changes: JsonObject) -> Assistant:
    """Write the fields sent (None clears one) in one conditional write: never resurrects a deleted one."""
    if not changes:
        return get_assistant(project, assistant_id)
    expression, names, values = update_expression(changes)
    item = dynamodb.write_existing(
        "update_item",
        "assistant",
        assistant_id,
        Key=assistant_key(project, assistant_id),
        UpdateExpression=expression,
        ConditionExpression=EXISTS,
        ExpressionAttributeNames=names,
        **({"ExpressionAttributeValues": values} if values else {}),
        ReturnValues="ALL_NEW",
    )["Attributes"]
    return assistant_from_item(item)


def delete_assistant(project: str, assistant_id: str) -> None:
    key = assistant_key(project, assistant_id)
    dynamodb.write_existing("delete_item", "assistant", assistant_id, Key=key, ConditionExpression=EXISTS)


def list_assistants(project: str, limit: int, order: str, after: str | None, before: str | None) -> Page:
    """A project's assistants from the ``by_order`` index: cost follows the page, not the project."""
    cursor = after or before
    cursor_item = dynamodb.get_item(assistant_key(project, cursor)) if cursor else None
    items, has_more, backwards = order_page(cursor_item, partition(project), limit, order, after, before)
    return Page([assistant_from_item(item) for item in items], has_more, backwards)
