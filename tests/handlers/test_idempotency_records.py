"""Idempotency-Key's records: a write that committed though its record failed is found, not written again; a
staged thread still being written is a 409; each record is its own partition; a large response is replayed
whole, even after the object changed, and one too large for a record is remembered by reference."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest

from infra.local.invoke import LocalContext
from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api


def _throttle_record_updates(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """DynamoDB throttles (past botocore's retries) the UpdateItem that marks an idempotency record done."""
    from botocore.exceptions import ClientError

    from threads_api import store

    real = store.client._make_api_call  # type: ignore[attr-defined]
    throttled: list[str] = []

    def call(operation: str, params: dict[str, Any]) -> Any:
        if operation == "UpdateItem" and params.get("Key", {}).get("pk", {}).get("S", "").startswith("idempotency#"):
            throttled.append(operation)
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, operation
            )
        return real(operation, params)

    monkeypatch.setattr(store.client, "_make_api_call", call)
    return throttled


@pytest.mark.parametrize("route", ["create-thread", "create-message", "create-thread-with-messages"])
def test_a_committed_write_whose_record_failed_is_a_success_and_a_retry_writes_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    """The write commits, then saving the idempotency record fails: the client gets the real success, and a
    retry with the key after the in-progress record expired (at the first invocation's deadline) finds the
    object that request created instead of writing another."""
    thread_id = api("POST", "/threads").body["id"]
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "create-thread": ("/threads", {"metadata": {"a": "b"}}),
        "create-thread-with-messages": ("/threads", {"messages": [{"role": "user", "content": "hi"}] * 3}),
        "create-message": (f"/threads/{thread_id}/messages", {"role": "user", "content": "exactly once"}),
    }
    path, body = cases[route]
    headers = {"Idempotency-Key": f"committed-{route}"}
    with monkeypatch.context() as patch:
        throttled = _throttle_record_updates(patch)
        # The first invocation is at its deadline: its in-progress record expires with it.
        patch.setattr(LocalContext, "get_remaining_time_in_millis", lambda self: 0)
        first = api("POST", path, body, headers=headers)
    assert throttled, "the record's update was not attempted"
    assert first.status == 200, first.body
    assert "retry-after" not in first.headers
    again = api("POST", path, body, headers=headers)
    assert again.status == 200, again.body
    assert again.body["id"] == first.body["id"]
    third = api("POST", path, body, headers=headers)  # now remembered: a replay
    assert third.status == 200
    assert third.headers["idempotent-replayed"] == "true"
    assert third.body["id"] == first.body["id"]
    if route == "create-message":
        messages = api("GET", f"/threads/{thread_id}/messages").body["data"]
        assert [m["id"] for m in messages] == [first.body["id"]]
        assert again.body == first.body
    else:
        threads = api("GET", "/threads?limit=100").body["data"]
        assert sorted(t["id"] for t in threads) == sorted([thread_id, first.body["id"]])
        assert again.body == first.body
        listed = api("GET", f"/threads/{first.body['id']}/messages?limit=100").body["data"]
        assert len(listed) == len(body.get("messages", []))


def test_a_retry_that_finds_its_staged_thread_still_being_written_is_409(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread too large for one transaction is written in stages under a hidden item. A retry with the key
    that runs while the first run is still writing (its in-progress record expired) finds that hidden item:
    a 409 to retry later, never a success for a thread that is not whole yet, and nothing written twice."""
    from threads_api import store
    from threads_api.domain import limits

    monkeypatch.setattr(limits, "TRANSACTION_MAX_BYTES", 1_000)
    monkeypatch.setattr(LocalContext, "get_remaining_time_in_millis", lambda self: 0)
    entered, release = threading.Event(), threading.Event()
    real = store.batch_write

    def slow(requests: list[Any]) -> None:
        entered.set()
        release.wait(10)
        real(requests)

    monkeypatch.setattr(store, "batch_write", slow)
    body = {"messages": [{"role": "user", "content": f"{n} " + "x" * 500} for n in range(20)]}
    headers = {"Idempotency-Key": "staged"}
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(api("POST", "/threads", body, headers=headers)))
    worker.start()
    assert entered.wait(10)
    retry = api("POST", "/threads", body, headers=headers)
    release.set()
    worker.join()
    assert retry.status == 409, retry.body
    assert retry.headers["retry-after"] == "1"
    assert_error(retry.body, 409, param="Idempotency-Key")
    assert results[0].status == 200
    again = api("POST", "/threads", body, headers=headers)
    assert again.status == 200
    assert again.body["id"] == results[0].body["id"]
    assert [t["id"] for t in api("GET", "/threads").body["data"]] == [results[0].body["id"]]
    listed = api("GET", f"/threads/{results[0].body['id']}/messages?limit=100&order=asc").body["data"]
    assert [m["content"][0]["text"]["value"] for m in listed] == [m["content"] for m in body["messages"]]


def test_records_have_partitions_of_their_own_through_powertools_private_hook(api: Api, dynamodb: Any) -> None:
    """Each record is its own partition (pk "idempotency#request#<hash>", sk "idempotency") only because
    ``idempotency.Runner`` overrides Powertools' private ``DynamoDBPersistenceLayer._get_key``. An upgrade that
    renames the hook, changes its signature or stops reading, writing, updating or deleting records through it
    would silently put every record back under one partition: this test fails instead."""
    import hashlib
    import inspect

    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from threads_api import store
    from threads_api.http import idempotency

    hook = vars(DynamoDBPersistenceLayer).get("_get_key")
    assert hook is not None, "Powertools' DynamoDBPersistenceLayer._get_key is gone"
    assert list(inspect.signature(hook).parameters) == ["self", "idempotency_key"]
    ours = type(idempotency.runner().persistence)._get_key
    assert ours is not hook
    assert list(inspect.signature(ours).parameters) == list(inspect.signature(hook).parameters)

    headers = {"Idempotency-Key": "own-partition"}
    first = api("POST", "/threads", {}, headers=headers)  # reads, writes, then updates its record
    again = api("POST", "/threads", {}, headers=headers)  # reads it
    assert (first.status, again.status, again.headers["idempotent-replayed"]) == (200, 200, "true")
    failed = api("POST", "/threads", {"metadata": "bad"}, headers={"Idempotency-Key": "failed"})  # deletes it
    assert failed.status == 400

    items = dynamodb.scan(TableName=store.TABLE)["Items"]
    records = [item for item in items if item["pk"]["S"].startswith("idempotency#")]
    # Powertools' hash of the key's data: were it to change, a deployment would not find the records in flight.
    digest = hashlib.sha256(json.dumps(["alpha", "own-partition"]).encode()).hexdigest()
    assert [(r["pk"]["S"], r["sk"]["S"], r["status"]["S"]) for r in records] == [
        (f"idempotency#{idempotency.RECORD_PREFIX}#{digest}", "idempotency", "COMPLETED")
    ]


def _record_items() -> list[dict[str, Any]]:
    from threads_api import store

    items = boto3.client("dynamodb").scan(TableName=store.TABLE)["Items"]
    return [item for item in items if item["pk"]["S"].startswith("idempotency#")]


def _prose(chars: int) -> str:
    import random

    rng = random.Random(3)
    words = ("the", "of", "and", "a", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are", "as")
    return " ".join(rng.choice(words) for _ in range(chars // 3))[:chars]


@pytest.mark.parametrize("text", ["漢" * 200_000, _prose(256_000)], ids=["1.2MB-escaped", "256000-of-prose"])
def test_a_large_replay_is_the_first_response_even_after_a_modify_and_a_delete(api: Api, text: str) -> None:
    """A replay is the first response, whole: not the message as it is later (modified, or deleted)."""
    from threads_api import store

    thread_id = api("POST", "/threads").body["id"]
    headers = {"Idempotency-Key": "big"}
    body = {"role": "user", "content": text, "metadata": {"v": "first"}}
    first = api("POST", f"/threads/{thread_id}/messages", body, headers=headers)
    assert first.status == 200
    assert all(store.item_size(item) <= 400 * 1024 for item in _record_items())  # one record item, DynamoDB's limit
    message_path = f"/threads/{thread_id}/messages/{first.body['id']}"
    assert api("POST", message_path, {"metadata": {"v": "second"}}).status == 200
    modified = api("POST", f"/threads/{thread_id}/messages", body, headers=headers)
    assert modified.status == 200
    assert modified.headers["idempotent-replayed"] == "true"
    assert modified.body == first.body
    assert api("DELETE", message_path).status == 200
    deleted = api("POST", f"/threads/{thread_id}/messages", body, headers=headers)
    assert deleted.status == 200
    assert deleted.headers["idempotent-replayed"] == "true"
    assert deleted.body == first.body
    assert api("GET", f"/threads/{thread_id}/messages").body["data"] == []


def test_a_large_thread_response_is_replayed_whole(api: Api) -> None:
    metadata = {f"{n:02d}" + "😀" * 62: "😀" * 512 for n in range(16)}  # 12 characters each once ASCII-escaped
    headers = {"Idempotency-Key": "big-thread"}
    first = api("POST", "/threads", {"metadata": metadata}, headers=headers)
    assert first.status == 200
    thread_path = f"/threads/{first.body['id']}"
    assert api("POST", thread_path, {"metadata": {"v": "second"}}).status == 200
    again = api("POST", "/threads", {"metadata": metadata}, headers=headers)
    assert again.status == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.body == first.body


def test_an_incompressible_message_too_large_for_a_record_is_remembered_by_reference(api: Api) -> None:
    """The one case a record cannot hold: near 256,000 random four-byte characters, about 1 MB even compressed.
    It is remembered by its ids and read again on replay (the idempotency module's docstring says so)."""
    import random

    rng = random.Random(5)
    text = "".join(chr(rng.randrange(0x10000, 0x10FFFF)) for _ in range(250_000))
    thread_id = api("POST", "/threads").body["id"]
    headers = {"Idempotency-Key": "incompressible"}
    first = api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": text}, headers=headers)
    again = api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": text}, headers=headers)
    assert first.status == again.status == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.body == first.body
    assert len(api("GET", f"/threads/{thread_id}/messages").body["data"]) == 1
    assert first.body["id"] in json.dumps([item.get("data") for item in _record_items()])
