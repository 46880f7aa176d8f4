"""The DynamoDB client: the one path every call takes, its error mapping, and the store's own retries.

botocore retries a failed call itself (standard mode, 3 attempts). What it cannot retry, the store does
here, with one backoff: the keys and items a batch leaves unprocessed. ``call`` turns what a later retry
may cure (throttling, a timeout) into ``Unavailable``, the API's 503; every other error passes unchanged.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from threads_api.domain import limits
from threads_api.domain.errors import Unavailable

# The OS's randomness, not the module's generator: restored SnapStart snapshots share the generator's state, so
# their jitter would be the same sequence on every container.
_JITTER = random.SystemRandom()

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import (
        BatchGetItemOutputTypeDef,
        BatchWriteItemOutputTypeDef,
        GetItemOutputTypeDef,
        QueryOutputTypeDef,
        TransactWriteItemTypeDef,
        WriteRequestTypeDef,
    )

    from threads_api.store.items import Item


def _table_name() -> str:
    """The table every call goes to, from the function's environment (the template sets it). Without it the
    function fails at its first import with a sentence, rather than read and write a table by a guessed name."""
    name = os.environ.get("TABLE_NAME", "").strip()
    if not name:
        raise RuntimeError(
            "TABLE_NAME is not set: the store needs the name of its DynamoDB table (template.yaml sets it for "
            "every function; make serve and the tests set it for theirs)."
        )
    return name


TABLE = _table_name()
# Bounded retries: 3 attempts of at most 1 s to connect and 3 s to read stay well inside the
# functions' 15 s timeout, itself well inside API Gateway's 29 s.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=1,
    read_timeout=3,
    max_pool_connections=32,
)
client = botocore.session.get_session().create_client("dynamodb", config=CLIENT_CONFIG)

_TRANSIENT = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
}
_TRANSIENT_REASONS = {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded", "InternalServerError"}
_TABLE_OPERATIONS = {"get_item", "put_item", "update_item", "delete_item", "query"}


def call(operation: str, **kwargs: Any) -> Any:
    """One DynamoDB call (on ``TABLE`` for a table operation); failures a retry may cure become ``Unavailable``."""
    if operation in _TABLE_OPERATIONS:
        kwargs["TableName"] = TABLE
    try:
        return getattr(client, operation)(**kwargs)
    except ClientError as exc:
        if error_code(exc) in _TRANSIENT or any(code in _TRANSIENT_REASONS for code, _ in cancellation_reasons(exc)):
            raise Unavailable(operation) from exc
        raise
    except BotoCoreError as exc:  # timeouts, connection errors
        raise Unavailable(operation) from exc


def write_existing(operation: str, kind: str, object_id: str, **kwargs: Any) -> Any:
    """A write conditional on the object being there (and this project's): a failed condition is its 404,
    never a resurrection."""
    from threads_api.domain.errors import NotFound

    try:
        return call(operation, **kwargs)
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            raise NotFound(kind, object_id) from exc
        raise


def old_item(exc: ClientError, missing: Exception) -> Item:
    """The item a write's failed condition returned (``ReturnValuesOnConditionCheckFailure="ALL_OLD"``): how
    the caller finds what is there without a read. None there (deleted since, or never written) raises
    ``missing``; any other error is raised as it is."""
    if error_code(exc) != "ConditionalCheckFailedException":
        raise exc
    item: Item | None = exc.response.get("Item")  # type: ignore[assignment]
    if item is None:
        raise missing from exc
    return item


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def cancellation_reasons(exc: ClientError) -> list[tuple[str, Item | None]]:
    """Why a transaction was cancelled: per action, in order, its code ("None" for an action that did not fail)
    and, for an action that asked for it (ReturnValuesOnConditionCheckFailure), the item as it was.
    Empty for any other error."""
    if error_code(exc) != "TransactionCanceledException":
        return []
    reasons: list[dict[str, Any]] = [dict(reason) for reason in exc.response.get("CancellationReasons", [])]
    return [(str(reason.get("Code", "")), reason.get("Item")) for reason in reasons]


def condition_failed(exc: ClientError, index: int) -> bool:
    """Whether a cancelled transaction's ``index``-th action failed its condition."""
    reasons = cancellation_reasons(exc)
    return len(reasons) > index and reasons[index][0] == "ConditionalCheckFailed"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Attempts at something a moment may cure, with full-jitter exponential waits between them.

    ``for attempt in Backoff(n, base): ...`` yields 0 to n-1 and, before each attempt but the first, sleeps
    a random time up to ``base * 2**(attempt - 1)`` seconds, never more than ``cap``; the loop's ``return``
    or ``break`` ends it, and falling out of it means every attempt failed.
    """

    attempts: int
    base: float
    cap: float = 2.0

    def __iter__(self) -> Iterator[int]:
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(_JITTER.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1))))
            yield attempt


# The longest waits in all: 1.55 s for a batch read, 9.15 s for a batch of 25 writes, 1.27 s for an append
# (the functions have 15 s).
UNPROCESSED_READS = Backoff(attempts=6, base=0.05)
UNPROCESSED_WRITES = Backoff(attempts=10, base=0.05)
APPEND_CONTENTION = Backoff(attempts=8, base=0.01)


# -- the calls, typed -------------------------------------------------------------------------------------


def get_item(key: Item) -> Item | None:
    """A strongly consistent read of one item."""
    response: GetItemOutputTypeDef = call("get_item", Key=key, ConsistentRead=True)
    return response.get("Item")


def query(**params: Any) -> QueryOutputTypeDef:
    response: QueryOutputTypeDef = call("query", **params)
    return response


def transact_write(actions: Sequence[TransactWriteItemTypeDef], token: str | None = None) -> None:
    """One transaction; ``token`` (ClientRequestToken) makes botocore's retry of one that did commit a success."""
    call("transact_write_items", TransactItems=actions, **({"ClientRequestToken": token} if token else {}))


def batch_get(keys: list[Item]) -> list[Item]:
    """Strongly consistent BatchGetItem of up to 100 keys, retrying unprocessed keys."""
    found: list[Item] = []
    request: dict[str, Any] = {TABLE: {"Keys": keys, "ConsistentRead": True}}
    for _ in UNPROCESSED_READS:
        response: BatchGetItemOutputTypeDef = call("batch_get_item", RequestItems=request)
        found.extend(response.get("Responses", {}).get(TABLE, []))
        request = dict(response.get("UnprocessedKeys") or {})
        if not request:
            return found
    raise Unavailable("batch_get_item")


def batch_write(requests: Sequence[WriteRequestTypeDef]) -> None:
    """BatchWriteItem in chunks of 25, retrying unprocessed items."""
    for start in range(0, len(requests), limits.BATCH_WRITE_MAX_ITEMS):
        pending: dict[str, Any] = {TABLE: requests[start : start + limits.BATCH_WRITE_MAX_ITEMS]}
        for _ in UNPROCESSED_WRITES:
            response: BatchWriteItemOutputTypeDef = call("batch_write_item", RequestItems=pending)
            pending = dict(response.get("UnprocessedItems") or {})
            if not pending:
                break
        else:
            raise Unavailable("batch_write_item")
