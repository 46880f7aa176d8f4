"""The store's one path to DynamoDB, without DynamoDB: error mapping, the cancellation parser, the backoff."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from threads_api import store
from threads_api.domain.errors import Unavailable
from threads_api.store import dynamodb

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def _cancelled(*reasons: dict[str, Any]) -> ClientError:
    response: Any = {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": list(reasons)}
    return ClientError(response, "TransactWriteItems")


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "PutItem")


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff's waits, each the longest it may be (its jitter's upper bound), and none really slept."""
    waits: list[float] = []
    monkeypatch.setattr("threads_api.store.dynamodb._JITTER.uniform", lambda low, high: high)
    monkeypatch.setattr("threads_api.store.dynamodb.time.sleep", waits.append)
    return waits


def test_the_cancellation_parser_reads_each_actions_code_and_item() -> None:
    old = {"pk": {"S": "thread_x"}, "last_ok": {"S": "0" * 20}}
    exc = _cancelled({"Code": "ConditionalCheckFailed", "Item": old, "Message": "m"}, {"Code": "None"})
    assert dynamodb.cancellation_reasons(exc) == [("ConditionalCheckFailed", old), ("None", None)]
    assert dynamodb.condition_failed(exc, 0)
    assert not dynamodb.condition_failed(exc, 1)
    assert not dynamodb.condition_failed(exc, 2)  # no such action
    assert dynamodb.cancellation_reasons(_error("ConditionalCheckFailedException")) == []
    assert not dynamodb.condition_failed(_error("ConditionalCheckFailedException"), 0)


@pytest.mark.parametrize(
    ("fault", "unavailable"),
    [
        (_error("ThrottlingException"), True),
        (_error("ProvisionedThroughputExceededException"), True),
        (_error("InternalServerError"), True),
        (_cancelled({"Code": "None"}, {"Code": "ThrottlingError"}), True),
        (ReadTimeoutError(endpoint_url="https://dynamodb"), True),
        (_error("ValidationException"), False),
        (_error("ConditionalCheckFailedException"), False),
        (_cancelled({"Code": "ConditionalCheckFailed"}, {"Code": "None"}), False),
    ],
    ids=[
        "throttling",
        "throughput",
        "internal",
        "throttled-transaction",
        "timeout",
        "validation",
        "condition",
        "failed-transaction",
    ],
)
def test_call_maps_what_a_retry_may_cure_to_unavailable_and_passes_the_rest_unchanged(
    monkeypatch: pytest.MonkeyPatch, fault: Exception, unavailable: bool
) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    def fail(operation: str, params: dict[str, Any]) -> Any:
        sent.append((operation, params))
        raise fault

    monkeypatch.setattr(store.client, "_make_api_call", fail)
    with pytest.raises(Unavailable if unavailable else type(fault)) as raised:
        dynamodb.call("get_item", Key={"pk": {"S": "x"}, "sk": {"S": "y"}})
    if unavailable:
        assert isinstance(raised.value, Unavailable)
        assert raised.value.__cause__ is fault
    else:
        assert raised.value is fault
    assert sent == [("GetItem", {"Key": {"pk": {"S": "x"}, "sk": {"S": "y"}}, "TableName": store.TABLE})]


def test_the_backoff_waits_between_attempts_doubling_up_to_its_cap(sleeps: list[float]) -> None:
    assert list(dynamodb.Backoff(attempts=5, base=0.1, cap=0.5)) == [0, 1, 2, 3, 4]
    assert sleeps == [0.1, 0.2, 0.4, 0.5]  # none before the first attempt, none after the last
    sleeps.clear()
    for attempt in dynamodb.Backoff(attempts=5, base=0.1):
        if attempt == 1:
            break
    assert sleeps == [0.1]


def test_batch_get_retries_unprocessed_keys_then_gives_up(monkeypatch: pytest.MonkeyPatch, sleeps: list[float]) -> None:
    key: Any = {"pk": {"S": "thread_x"}, "sk": {"S": "thread"}}
    answers = [
        {"Responses": {store.TABLE: [{"n": {"N": "1"}}]}, "UnprocessedKeys": {store.TABLE: {"Keys": [key]}}},
        {"Responses": {store.TABLE: [{"n": {"N": "2"}}]}},
    ]
    monkeypatch.setattr(dynamodb, "call", lambda operation, **params: answers.pop(0))
    assert dynamodb.batch_get([key, key]) == [{"n": {"N": "1"}}, {"n": {"N": "2"}}]
    assert len(sleeps) == 1

    sleeps.clear()
    calls: list[Any] = []
    never = {"Responses": {}, "UnprocessedKeys": {store.TABLE: {"Keys": [key]}}}

    def never_done(operation: str, **params: Any) -> Any:
        calls.append(params)
        return never

    monkeypatch.setattr(dynamodb, "call", never_done)
    with pytest.raises(Unavailable):
        dynamodb.batch_get([key])
    assert len(calls) == dynamodb.UNPROCESSED_READS.attempts
    assert len(sleeps) == len(calls) - 1


def test_batch_write_sends_chunks_of_25_and_retries_only_what_was_left(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    requests: list[Any] = [{"DeleteRequest": {"Key": {"pk": {"S": f"p{n}"}}}} for n in range(30)]
    sent: list[list[Any]] = []

    def write(operation: str, RequestItems: dict[str, Any]) -> Any:
        sent.append(RequestItems[store.TABLE])
        left = RequestItems[store.TABLE][:1] if len(sent) == 1 else []
        return {"UnprocessedItems": {store.TABLE: left} if left else {}}

    monkeypatch.setattr(dynamodb, "call", write)
    dynamodb.batch_write(requests)
    assert sent == [requests[:25], requests[:1], requests[25:]]
    assert len(sleeps) == 1

    sent.clear()

    def nothing_written(operation: str, RequestItems: dict[str, Any]) -> Any:
        sent.append([])
        return {"UnprocessedItems": RequestItems}

    monkeypatch.setattr(dynamodb, "call", nothing_written)
    with pytest.raises(Unavailable):
        dynamodb.batch_write(requests[:1])
    assert len(sent) == dynamodb.UNPROCESSED_WRITES.attempts


def test_the_store_refuses_to_start_without_its_table_name() -> None:
    """No table name guessed: a function without TABLE_NAME fails at import, with a sentence that says so."""
    env = {k: v for k, v in os.environ.items() if k != "TABLE_NAME"}
    code = "import threads_api.store"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=FUNCTIONS, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    assert "TABLE_NAME is not set" in done.stderr
