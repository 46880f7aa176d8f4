"""What the embedded DynamoDB changes in moto, so that it keeps DynamoDB's promises and stays fast: one call
at a time, transactions idempotent on their ``ClientRequestToken``, a failed transaction rolled back item by
item, AttributeValues serialized directly, and an item's size checked as DynamoDB does: on the item a write
leaves (its local index entries included). ``apply()`` is idempotent. tests/deployed/test_local_dynamodb.py
checks the patched moto against DynamoDB's documented behaviour (its docstring names the documents), not against
DynamoDB itself: the transactions' tokens, their rollback, the AttributeValues and the item size; one call at
a time is what the concurrent tests of tests/handlers rely on. The vector bucket's S3 Vectors is patched in
``moto_s3vectors.py`` (QueryVectors, and the documented limits), from here too."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from infra.local import moto_item_size, moto_s3vectors

_moto_lock = threading.Lock()


def apply() -> None:
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    moto_s3vectors.apply()  # the vector bucket's S3 Vectors, on the same moto (its own module, its own guard)
    if getattr(DynamoHandler, "_patched", False):
        return
    DynamoHandler._patched = True  # type: ignore[attr-defined]
    _one_call_at_a_time(DynamoHandler)
    _one_call_at_a_time(DynamoDBStreamsHandler)  # a stream read never sees a transaction half-done
    DynamoHandler.transact_write_items = _idempotent_transactions(DynamoHandler.transact_write_items)  # type: ignore[method-assign,assignment]
    _undo_transactions_by_item()
    _attribute_values_serialized_directly()
    moto_item_size.apply()


def _one_call_at_a_time(handler: Any) -> None:
    """Make moto's DynamoDB handle one request at a time, as a real table's requests are each atomic.

    moto's transactions race with concurrent writers (``dictionary changed size during iteration``);
    concurrent clients of the local API, and the race tests, need it serialized."""
    call_action = handler.call_action

    def serialized(self: Any) -> Any:
        with _moto_lock:
            return call_action(self)

    handler.call_action = serialized


_undoing = threading.local()


def _undo_transactions_by_item() -> None:
    """Roll a failed transaction back item by item instead of through moto's copy of the whole table.

    moto deep-copies the table once per item of every transaction, so that it can put the copy back if one
    fails: on the handler tests that was an eighth of all their time, and it grows with the table. Here the
    items the transaction names (at most 100) are copied instead, and the stream records it added are
    dropped; moto's own copies become the table itself, so its rollback is a no-op. The outcome is the same:
    every item as it was, no stream record (tests/deployed/test_local_dynamodb.py checks both)."""
    import copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    real_deepcopy = copy.deepcopy

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Table) and getattr(_undoing, "active", False):
            return value
        return real_deepcopy(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy)  # type: ignore[assignment,attr-defined]
    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        try:
            undo = _before(self, transact_items)
        except Exception:  # what moto refuses, moto answers (with its own rollback)
            return transact(self, transact_items)
        _undoing.active = True
        try:
            return transact(self, transact_items)
        except Exception:
            for restore in undo:
                restore()
            raise
        finally:
            _undoing.active = False

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _before(backend: Any, transact_items: list[dict[str, Any]]) -> list[Callable[[], None]]:
    """How to put back each item a transaction names, and its tables' streams, as they are now."""
    import copy

    undo: list[Callable[[], None]] = []
    for entry in transact_items:
        (operation,) = entry.values()
        table = backend.get_table(operation["TableName"])
        hash_key, range_key = backend.get_keys_value(table, operation.get("Key") or operation["Item"])
        old = table.get_item(hash_key, range_key)
        undo.append(_put_back(table, hash_key, range_key, copy.deepcopy(old)))
        if table.stream_shard is not None:
            undo.append(_truncate(table.stream_shard, len(table.stream_shard.items)))
    undo.reverse()  # the first item's state is the one that stays, when an item is named twice
    return undo


def _put_back(table: Any, hash_key: Any, range_key: Any, old: Any) -> Callable[[], None]:
    def restore() -> None:
        partition = table.items[hash_key] if range_key is not None else table.items
        key = range_key if range_key is not None else hash_key
        if old is None:
            partition.pop(key, None)
            if range_key is not None and not partition:
                del table.items[hash_key]  # as moto's copy of the table had it: no empty partition left
        else:
            partition[key] = old

    return restore


def _truncate(shard: Any, length: int) -> Callable[[], None]:
    def restore() -> None:
        del shard.items[length:]

    return restore


def _idempotent_transactions(transact: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """DynamoDB's ``ClientRequestToken``, which moto ignores: the same token with the same items answers the
    first success again instead of running the transaction twice. Without it, botocore's retry of a
    transaction whose answer was lost (a read timeout on a busy machine) fails its own conditions here,
    where DynamoDB would answer success. Calls are serialized (above), so a plain dict is safe."""
    import hashlib
    import json

    seen: dict[str, tuple[str, Any]] = {}

    def idempotent(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return transact(self)
        items = json.dumps(self.body["TransactItems"], sort_keys=True, default=repr)  # binary values are bytes
        digest = hashlib.sha256(items.encode()).hexdigest()
        if token in seen and seen[token][0] == digest:
            return seen[token][1]
        response = transact(self)
        if len(seen) > 10_000:  # DynamoDB remembers a token for 10 minutes; a bound is enough here
            seen.clear()
        seen[token] = (digest, response)
        return response

    return idempotent


def _attribute_values_serialized_directly() -> None:
    """Serialize DynamoDB's AttributeValues (an item's every attribute, nested ones included) directly.

    moto's generic serializer looks up each of AttributeValue's ten members, under several spellings, for
    every attribute it answers: a quarter of the handler tests' time. An AttributeValue needs only its one
    member copied, binary ones in base64 as moto writes them (test_local_dynamodb.py reads an item of every
    type back as written). Other services' structures named AttributeValue are left to moto."""
    from moto.core.serialize import BaseJSONSerializer

    structure = BaseJSONSerializer._serialize_type_structure
    services = {"dynamodb", "dynamodbstreams"}

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            shape.name == "AttributeValue"
            and key
            and isinstance(value, dict)
            and self.operation_model.service_model.service_name in services
        ):
            serialized[self.get_serialized_name(shape, key)] = attribute_value(self, value)
        else:
            structure(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]


def attribute_value(serializer: Any, value: dict[str, Any]) -> dict[str, Any]:
    """What moto's generic serializer makes of the AttributeValue ``value``, made directly."""
    wire: dict[str, Any] = {}
    for kind, inner in value.items():
        if inner is None:
            continue
        if kind in ("S", "N"):
            wire[kind] = inner if inner in ({}, []) else str(inner)
        elif kind in ("SS", "NS"):
            wire[kind] = [str(member) for member in inner]
        elif kind == "B":
            wire[kind] = serializer._base64(inner)
        elif kind == "BS":
            wire[kind] = [serializer._base64(member) for member in inner]
        elif kind == "M":
            wire[kind] = {name: attribute_value(serializer, member) for name, member in inner.items()}
        elif kind == "L":
            wire[kind] = [attribute_value(serializer, member) for member in inner]
        elif kind in ("NULL", "BOOL"):
            wire[kind] = inner
    return wire
