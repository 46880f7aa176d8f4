"""Idempotency-Key: a retried POST returns the first response and writes nothing new."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from infra.local.invoke import LocalContext
from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api


def _count_threads(api: Api) -> int:
    return len(api("GET", "/threads?limit=100").body["data"])


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/threads", {"messages": [{"role": "user", "content": "once"}], "metadata": {"a": "b"}}),
        ("/threads/{thread}/messages", {"role": "user", "content": "once"}),
        ("/threads/{thread}", {"metadata": {"x": "y"}}),
        ("/threads/{thread}/messages/{message}", {"metadata": {"x": "y"}}),
    ],
    ids=["create-thread", "create-message", "modify-thread", "modify-message"],
)
def test_same_key_same_request_replays_the_first_response(api: Api, path: str, body: dict[str, Any]) -> None:
    thread = api("POST", "/threads", {"messages": [{"role": "user", "content": "seed"}]}).body
    message = api("GET", f"/threads/{thread['id']}/messages").body["data"][0]
    path = path.format(thread=thread["id"], message=message["id"])
    headers = {"Idempotency-Key": "retry-1"}
    first = api("POST", path, body, headers=headers)
    assert first.status == 200 and first.headers["idempotent-replayed"] == "false"
    threads, messages = _count_threads(api), len(api("GET", f"/threads/{thread['id']}/messages").body["data"])
    again = api("POST", path, body, headers=headers)
    assert again.status == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.body == first.body
    assert _count_threads(api) == threads
    assert len(api("GET", f"/threads/{thread['id']}/messages").body["data"]) == messages


def test_same_key_other_body_is_400(api: Api) -> None:
    headers = {"Idempotency-Key": "k"}
    assert api("POST", "/threads", {"metadata": {"a": "1"}}, headers=headers).status == 200
    reused = api("POST", "/threads", {"metadata": {"a": "2"}}, headers=headers)
    assert reused.status == 400
    assert_error(reused.body, 400, param="Idempotency-Key", contains="already used")  # type differs on purpose
    assert _count_threads(api) == 1


def test_keys_are_scoped_to_the_project(api: Api) -> None:
    headers = {"Idempotency-Key": "shared"}
    mine = api("POST", "/threads", {}, headers=headers)
    theirs = api("POST", "/threads", {}, headers=headers, key=api.other_key)
    assert mine.status == theirs.status == 200
    assert mine.body["id"] != theirs.body["id"]


def test_a_failed_request_is_not_remembered(api: Api) -> None:
    headers = {"Idempotency-Key": "fix-and-retry"}
    assert api("POST", "/threads", {"metadata": "bad"}, headers=headers).status == 400
    # The same key with the same (bad) body fails again, rather than replaying; a corrected body is a new
    # request for the key, which was never used by a success.
    assert api("POST", "/threads", {"metadata": {"ok": "1"}}, headers=headers).status == 200


def test_a_request_in_flight_with_the_key_is_409_with_retry_after(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from threads_api import store

    entered, release = threading.Event(), threading.Event()
    real = store.create_thread

    def slow(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "create_thread", slow)
    headers = {"Idempotency-Key": "slow"}
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(api("POST", "/threads", {}, headers=headers)))
    worker.start()
    assert entered.wait(10)
    concurrent = api("POST", "/threads", {}, headers=headers)
    release.set()
    worker.join()
    assert concurrent.status == 409
    assert concurrent.headers["retry-after"] == "1"
    assert "x-should-retry" not in concurrent.headers
    assert results[0].status == 200
    assert api("POST", "/threads", {}, headers=headers).body == results[0].body


def test_the_key_must_be_sane(api: Api) -> None:
    reply = api("POST", "/threads", {}, headers={"Idempotency-Key": "k" * 256})
    assert reply.status == 400
    assert_error(reply.body, 400, param="Idempotency-Key")


def test_same_key_on_another_operation_is_400(api: Api) -> None:
    """A key names one request, whatever its operation: reusing it on another route is refused, not run."""
    headers = {"Idempotency-Key": "one-request"}
    thread = api("POST", "/threads", {"metadata": {"a": "1"}}, headers=headers)
    assert thread.status == 200
    thread_id = thread.body["id"]
    for path, body in (
        (f"/threads/{thread_id}/messages", {"role": "user", "content": "not run"}),
        (f"/threads/{thread_id}", {"metadata": {"a": "2"}}),
    ):
        reused = api("POST", path, body, headers=headers)
        assert reused.status == 400, (path, reused.body)
        assert_error(reused.body, 400, param="Idempotency-Key", contains="already used")
        assert reused.body["error"]["type"] == "idempotency_error"
    assert api("GET", f"/threads/{thread_id}/messages").body["data"] == []
    assert api("GET", f"/threads/{thread_id}").body["metadata"] == {"a": "1"}
    assert api("POST", "/threads", {"metadata": {"a": "1"}}, headers=headers).body == thread.body


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
    assert third.status == 200 and third.headers["idempotent-replayed"] == "true"
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
    assert again.status == 200 and again.body["id"] == results[0].body["id"]
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
    import json

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
