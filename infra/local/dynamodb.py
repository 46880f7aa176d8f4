"""The embedded DynamoDB of the local API: moto's server in memory, the template's table (and on the same moto,
the files bucket and the vector bucket), and a stream poller that hands REMOVE records to the cleanup function
as Lambda's event source mapping would."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from functools import cache, cached_property
from typing import Any

import boto3

from infra import template
from infra.local import moto_patches

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_embedded(host: str = "127.0.0.1", port: int | None = None) -> str:
    """Start moto's DynamoDB server on a free loopback port (or ``host``:``port``, e.g. 0.0.0.0 for Docker's
    containers); return its endpoint URL on this machine."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per DynamoDB call is noise here
    moto_patches.apply()
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


def create_bucket(s3: Any, bucket: str) -> None:
    """Create the files bucket unless it is there already (in us-east-1: no location constraint)."""
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=bucket)


def create_vector_bucket(s3vectors: Any, bucket: str) -> None:
    """Create the vector bucket (S3 Vectors) unless it is there already."""
    try:
        s3vectors.get_vector_bucket(vectorBucketName=bucket)
    except s3vectors.exceptions.NotFoundException:
        s3vectors.create_vector_bucket(vectorBucketName=bucket)


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
        self._table = client(endpoint), table_name
        self._consume = consume
        self._filters = filters  # the event source mapping's FilterCriteria: None hands over every record
        self._stop = threading.Event()
        self._positions: dict[str, str] = {}  # shard id -> sequence number of the last record handed over

    @cached_property
    def _arn(self) -> str:
        """The stream's ARN, looked up at the first poll (a poller that is never polled costs no call)."""
        dynamodb, table_name = self._table
        return str(dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"])

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

        Each poll asks for a fresh iterator after the last record handed over, so that nothing depends on
        an iterator outliving the records it was made over (a failed transaction's are taken back).
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
