"""The records of a run's file_search calls: what the model asked (its arguments) and the excerpts it was shown.

A call's record is an item of its own in the thread's runs partition, ``(<thread_id>#runs,
run#<run_id>#fs#<step_id>#<n>)``, n the call's position in its step (a model's call id may be 256 characters of
anything: a position keeps the key short). The run's item holds the step without the excerpts (its 200 KB
would hold few), so a step's ``results[*].content`` (``include[]``) and the conversation a later model call
rebuilds are read from here.

``prj`` (its project), ``args`` (the model's arguments, at most ``ARGUMENTS_MAX_CHARS``) and ``res`` (zlib of the
JSON list of the excerpts' texts, in the results' order, at most ``RESULTS_MAX_BYTES`` of UTF-8 before
compression): an item stays well under DynamoDB's 400 KB. No ``ok``: the ``by_order`` index (the runs' list) never
sees one. The thread's purge empties the partition, these with it.
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from threads_api.domain import limits
from threads_api.domain.errors import Conflict
from threads_api.domain.file_search import ARGUMENTS_MAX_CHARS, SearchRecord
from threads_api.domain.records import Run
from threads_api.store import dynamodb
from threads_api.store.items import item_size, utf8
from threads_api.store.run_items import RUN_PREFIX, run_key, runs_partition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from threads_api.store.items import Item

BATCH_GET_MAX_KEYS = 100  # DynamoDB's, a BatchGetItem
THREAD_LOCK_BYTES = 1_000  # the thread's lock update that a round's save may carry: its key and values, at most


def search_key(thread_id: str, run_id: str, step_id: str, n: int) -> Item:
    return {"pk": {"S": runs_partition(thread_id)}, "sk": {"S": f"{RUN_PREFIX}{run_id}#fs#{step_id}#{n}"}}


def search_item(project: str, run: Run, step_id: str, n: int, record: SearchRecord) -> Item:
    return {
        **search_key(run.thread_id, run.id, step_id, n),
        "prj": {"S": project},
        "args": {"S": record.arguments[:ARGUMENTS_MAX_CHARS]},
        "res": {"B": zlib.compress(utf8(list(record.texts)), 6)},
    }


def search_puts(
    project: str, run: Run, step_id: str, records: Mapping[int, SearchRecord]
) -> list[TransactWriteItemTypeDef] | None:
    """The puts of the step's records for the transaction that saves the round (the run's write, conditional
    on its version, is the check: a cancel or a purge leaves none), or None when they would not fit it beside
    the run's item and its thread's lock (a round of a hundred calls): then ``put_searches`` writes them first."""
    items = [search_item(project, run, step_id, n, record) for n, record in sorted(records.items())]
    room = limits.TRANSACTION_MAX_BYTES - limits.RUN_ITEM_MAX_BYTES - THREAD_LOCK_BYTES
    if len(items) + 2 > limits.TRANSACTION_MAX_ITEMS or sum(map(item_size, items)) > room:
        return None
    return [{"Put": {"TableName": dynamodb.TABLE, "Item": item}} for item in items]


def put_searches(project: str, run: Run, step_id: str, records: Mapping[int, SearchRecord]) -> None:
    """Write the records of the step's file_search calls (position in the step -> record): before the step is
    saved, so that a step never exists without them. Unconditional puts: the keys are derived from the step's
    id, which a retry of the round derives again, so a retry writes the same items; a set whose step is then not
    saved (a cancel came first) is referenced by nothing. Each transaction checks the run is still at the version
    the worker read (``Conflict`` if not): once the run moved on (cancelled, its thread deleted and purged), no
    record is written that nothing would ever delete. As few transactions as DynamoDB's bounds allow (usually
    one: a round's calls are few)."""
    batch: list[TransactWriteItemTypeDef] = []
    size = 0
    for n, record in sorted(records.items()):
        item = search_item(project, run, step_id, n, record)
        if batch and (
            len(batch) == limits.TRANSACTION_MAX_ITEMS - 1 or size + item_size(item) > limits.TRANSACTION_MAX_BYTES
        ):
            _write(run, batch)
            batch, size = [], 0
        batch.append({"Put": {"TableName": dynamodb.TABLE, "Item": item}})
        size += item_size(item)
    if batch:
        _write(run, batch)


def _write(run: Run, puts: list[TransactWriteItemTypeDef]) -> None:
    check: TransactWriteItemTypeDef = {
        "ConditionCheck": {
            "TableName": dynamodb.TABLE,
            "Key": run_key(run.thread_id, run.id),
            "ConditionExpression": "ver = :v",
            "ExpressionAttributeValues": {":v": {"N": str(run.version)}},
        }
    }
    try:
        dynamodb.transact_write([check, *puts], token=str(uuid.uuid4()))
    except ClientError as exc:
        if dynamodb.condition_failed(exc, 0):
            raise Conflict(run.id) from exc
        raise


def read_searches(project: str, run: Run, keys: list[tuple[str, int]]) -> dict[tuple[str, int], SearchRecord]:
    """The records of the run's calls at ``keys`` ((step id, position)) that exist and are ``project``'s, by key;
    one BatchGetItem a hundred keys."""
    found: dict[tuple[str, int], SearchRecord] = {}
    wanted = list(dict.fromkeys(keys))
    for start in range(0, len(wanted), BATCH_GET_MAX_KEYS):
        chunk = wanted[start : start + BATCH_GET_MAX_KEYS]
        by_sk = {search_key(run.thread_id, run.id, s, n)["sk"]["S"]: (s, n) for s, n in chunk}
        for item in dynamodb.batch_get([search_key(run.thread_id, run.id, s, n) for s, n in chunk]):
            key = by_sk.get(item["sk"]["S"])
            if key is None or item.get("prj", {}).get("S") != project:
                continue
            texts = json.loads(zlib.decompress(item["res"]["B"]))
            found[key] = SearchRecord(item["args"]["S"], tuple(texts))
    return found
