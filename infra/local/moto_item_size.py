"""DynamoDB's item size rule in moto (applied by ``moto_patches.apply``): the item as a put or an update leaves
it is at most 400 KB, names and values counted, and in a table with local secondary indexes the 400 KB holds the
item and its entries in them (DynamoDB Developer Guide, "Constraints in Amazon DynamoDB", Items).
tests/deployed/test_local_dynamodb.py checks it against that rule, on the local API's moto and the handler
tests'."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

ITEM_MAX_BYTES = 400 * 1024  # DynamoDB's 400 KB (its KB is 1,024 bytes)
_writing = threading.local()  # the table of the put or update under way, whose item is checked whole


def apply() -> None:
    """DynamoDB's item size rule: the item as a put or an update leaves it is at most 400 KB, names and values
    counted, and in a table with local secondary indexes that 400 KB holds the item and its entries in them
    (DynamoDB Developer Guide, "Constraints in Amazon DynamoDB", Items).

    moto checks each attribute as it is set, counting the value it replaces on top of its replacement (a 250 KB
    value replaced by another is refused), against 405,000 bytes and no index; an update refused half-way
    keeps what it had already set. Here a put is checked before it is stored, and an update once every action
    has run, on the whole item; a refused update leaves the item as it was. Other items moto builds (copies,
    projections) are checked as the attribute set leaves them."""
    _checked_puts()
    _checked_updates()


def _checked_puts() -> None:
    """A put's item checked whole before it is stored; any other item moto builds, as each attribute leaves it."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.table import Table

    def set_attribute(self: Any, key: str, value: Any) -> None:
        if getattr(_writing, "table", None) is None:
            after = {**self, key: value}
            if sum(_attribute_size(name, v) for name, v in after.items()) > ITEM_MAX_BYTES:
                raise ItemSizeTooLarge
        dict.__setitem__(self, key, value)

    LimitedSizeDict.__setitem__ = set_attribute  # type: ignore[method-assign]

    put_item = Table.put_item

    def checked_put(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        attributes = {name: DynamoType(value) for name, value in item_attrs.items()}
        if _stored_size(self, attributes) > ITEM_MAX_BYTES:
            raise ItemSizeTooLarge
        with _checked_whole(self):
            return put_item(self, item_attrs, *args, **kwargs)

    Table.put_item = checked_put  # type: ignore[method-assign]


def _checked_updates() -> None:
    """An update's item checked whole once all its actions have run; refused, it is put back as it was."""
    import copy

    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.parsing.executors import UpdateExpressionExecutor

    update_item = DynamoDBBackend.update_item

    def update_in_table(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        with _checked_whole(self.get_table(table_name)):
            return update_item(self, table_name, *args, **kwargs)

    DynamoDBBackend.update_item = update_in_table  # type: ignore[method-assign]

    execute = UpdateExpressionExecutor.execute

    def execute_whole(self: Any, node: Any = None) -> None:
        table = getattr(_writing, "table", None)
        if node is not None or table is None:  # one action of an update's (or an update outside a table)
            execute(self, node)
            return
        attrs = self.item.attrs
        before = {name: copy.deepcopy(value) for name, value in attrs.items()}
        try:
            execute(self, node)
            if _stored_size(table, attrs) > ITEM_MAX_BYTES:
                raise ItemSizeTooLarge  # moto's update_item answers ItemSizeToUpdateTooLarge
        except Exception:
            dict.clear(attrs)
            dict.update(attrs, before)
            raise

    UpdateExpressionExecutor.execute = execute_whole  # type: ignore[method-assign]


@contextlib.contextmanager
def _checked_whole(table: Any) -> Iterator[None]:
    """Inside, ``table``'s items are checked whole (by the put or the update), not attribute by attribute."""
    outer = getattr(_writing, "table", None)
    _writing.table = table
    try:
        yield
    finally:
        _writing.table = outer


def _attribute_size(name: str, value: Any) -> int:
    size = value.size() if hasattr(value, "size") else len(str(value).encode())
    return len(name.encode()) + int(size)


def _stored_size(table: Any, attributes: dict[str, Any]) -> int:
    """The item's size, and that of its entry in each local secondary index that holds it (one that has the
    index's sort key): its keys and the attributes the index projects."""
    sizes = {name: _attribute_size(name, value) for name, value in attributes.items()}
    total = sum(sizes.values())
    for index in table.indexes:
        if not all(key in attributes for key in index.schema_key_attrs):
            continue
        projection = index.projection or {}
        kind = projection.get("ProjectionType", "ALL")
        if kind == "ALL":
            total += sum(sizes.values())
            continue
        kept = {*index.table_key_attrs, *index.schema_key_attrs}
        if kind == "INCLUDE":
            kept |= set(projection.get("NonKeyAttributes", []))
        total += sum(size for name, size in sizes.items() if name in kept)
    return total
