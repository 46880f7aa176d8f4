"""The embedded DynamoDB of the local API: moto's server in memory, the template's table, and a stream
poller that hands REMOVE records to the cleanup function as Lambda's event source mapping would."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from functools import cache
from typing import Any

import boto3

from infra import template

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_moto_lock = threading.Lock()


def serialize_moto() -> None:
    """Make moto's DynamoDB handle one request at a time, as a real table's requests are each atomic.

    moto's transactions deep-copy the table and race with concurrent writers (``dictionary changed size
    during iteration``); concurrent clients of the local API, and the race tests, need it serialized.
    """
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler, "_serialized", False):
        return
    call_action = DynamoHandler.call_action

    def serialized(self: Any) -> Any:
        with _moto_lock:
            return call_action(self)

    DynamoHandler.call_action = serialized  # type: ignore[method-assign]
    DynamoHandler.transact_write_items = _idempotent_transactions(DynamoHandler.transact_write_items)  # type: ignore[method-assign,assignment]
    DynamoHandler._serialized = True  # type: ignore[attr-defined]
    _undo_transactions_by_item()


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


def start_embedded(host: str = "127.0.0.1", port: int | None = None) -> str:
    """Start moto's DynamoDB server on a free loopback port (or ``host``:``port``, e.g. 0.0.0.0 for Docker's
    containers); return its endpoint URL on this machine."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per DynamoDB call is noise here
    serialize_moto()
    port = port or free_port()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return f"http://127.0.0.1:{port}"


def create_table(dynamodb: Any, table_name: str) -> None:
    """Create the template's table unless it is there already."""
    try:
        dynamodb.describe_table(TableName=table_name)
        return
    except dynamodb.exceptions.ResourceNotFoundException:
        pass
    dynamodb.create_table(**template.table_definition(table_name))
    dynamodb.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": template.ttl_attribute()},
    )


@cache
def client(endpoint: str | None, service: str = "dynamodb") -> Any:
    """One client per endpoint and service (building a boto3 client costs about 0.2 s of CPU)."""
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)  # type: ignore[call-overload]


class StreamPoller(threading.Thread):
    """Reads the table's stream and calls ``consume({"Records": [...]})`` with each batch, in order."""

    def __init__(
        self,
        endpoint: str | None,
        table_name: str,
        consume: Callable[[dict[str, Any]], Any],
        filters: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(daemon=True, name="stream-poller")
        self._streams = client(endpoint, "dynamodbstreams")
        self._arn = client(endpoint).describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._consume = consume
        self._filters = filters  # the event source mapping's FilterCriteria: None hands over every record
        self._stop = threading.Event()
        self._positions: dict[str, str] = {}  # shard id -> sequence number of the last record handed over

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once() > 0
            except Exception as exc:  # keep the local API serving; the next poll retries
                logging.getLogger("threads-api.stream").warning("stream poll failed: %r", exc)
                busy = False
            if not busy:
                self._stop.wait(0.25)

    def poll_once(self) -> int:
        """Hand every shard's next batch to ``consume``; return how many records were handed over.

        Each poll asks for a fresh iterator after the last record handed over: moto replaces a table's
        object (and its stream shard) when a transaction rolls back, which strands older iterators.
        """
        handed = 0
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            after = self._positions.get(shard_id)
            if after:
                iterator = self._streams.get_shard_iterator(
                    StreamArn=self._arn,
                    ShardId=shard_id,
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=after,
                )
            else:
                iterator = self._streams.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )
            page = self._streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)
            records = [_as_lambda_json(r) for r in page.get("Records", [])]
            if not records:
                continue
            wanted = [r for r in records if self._filters is None or any(matches(p, r) for p in self._filters)]
            if wanted:
                result = self._consume({"Records": wanted}) or {}
                if result.get("batchItemFailures"):
                    continue  # the same batch again on the next poll, as Lambda retries it
            handed += len(records)
            self._positions[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
        return handed

    def drain(self) -> int:
        """Poll until the stream has nothing new (tests drive the cleanup with this)."""
        total = 0
        while count := self.poll_once():
            total += count
        return total


def _as_lambda_json(record: Any) -> Any:
    """A stream record as Lambda delivers it: JSON only (timestamps as epoch seconds, binary as base64)."""
    import base64
    from datetime import datetime

    if isinstance(record, dict):
        return {k: _as_lambda_json(v) for k, v in record.items()}
    if isinstance(record, list):
        return [_as_lambda_json(v) for v in record]
    if isinstance(record, datetime):
        return int(record.timestamp())
    if isinstance(record, bytes):
        return base64.b64encode(record).decode()
    return record


def matches(pattern: Any, value: Any) -> bool:
    """Lambda's event filtering, for the pattern forms the template uses: nested objects, lists of allowed
    values, and ``{"exists": true|false}``."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(
            matches(sub, value.get(name)) if not _is_exists(sub) else _exists_ok(sub, name in value)
            for name, sub in pattern.items()
        )
    if isinstance(pattern, list):
        return any(
            _exists_ok(option, value is not None)
            if isinstance(option, dict) and "exists" in option
            else option == value
            for option in pattern
        )
    raise ValueError(f"unsupported filter pattern {pattern!r}")


def _is_exists(pattern: Any) -> bool:
    return isinstance(pattern, list) and len(pattern) == 1 and isinstance(pattern[0], dict) and "exists" in pattern[0]


def _exists_ok(pattern: Any, present: bool) -> bool:
    option = pattern[0] if isinstance(pattern, list) else pattern
    return bool(option["exists"]) == present
