"""What storage promises when DynamoDB fails: faults past the retries are 503s with Retry-After and write
nothing, a write whose answer was lost is not written twice, and the cleanup hands a failed record back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api
from tests.handlers.storage_support import _calls


@pytest.mark.parametrize(
    "fault",
    [
        ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "PutItem"),
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "PutItem"),
        ClientError({"Error": {"Code": "InternalServerError", "Message": "oops"}}, "PutItem"),
        ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                "CancellationReasons": [{"Code": "ThrottlingError"}, {"Code": "None"}],
            },
            "TransactWriteItems",
        ),
        ReadTimeoutError(endpoint_url="https://dynamodb"),
    ],
    ids=["throughput", "throttling", "internal", "cancelled-transaction", "timeout"],
)
def test_dynamodb_faults_past_the_retries_are_503_with_retry_after(
    api: Api, monkeypatch: pytest.MonkeyPatch, fault: Exception
) -> None:
    from threads_api import store

    thread_id = api("POST", "/threads").body["id"]
    real_call = store.client._make_api_call  # type: ignore[attr-defined]

    def faulty(operation: str, params: dict[str, Any]) -> Any:
        if operation in ("PutItem", "TransactWriteItems", "UpdateItem"):
            raise fault
        return real_call(operation, params)

    monkeypatch.setattr(store.client, "_make_api_call", faulty)
    for method, path, body in (
        ("POST", "/threads", {"messages": [{"role": "user", "content": "x"}]}),
        ("POST", f"/threads/{thread_id}", {"metadata": {"a": "b"}}),
        ("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": "x"}),
    ):
        reply = api(method, path, body)
        assert reply.status == 503, (path, reply.body)
        assert reply.headers["retry-after"] == "1"
        assert_error(reply.body, 503)
        assert "Traceback" not in reply.body["error"]["message"]
    monkeypatch.setattr(store.client, "_make_api_call", real_call)
    assert api("GET", "/threads").body["data"] == [api("GET", f"/threads/{thread_id}").body]
    assert api("GET", f"/threads/{thread_id}/messages").body["data"] == []


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "ThrottlingException"), (400, "ProvisionedThroughputExceededException"), (500, "InternalServerError")],
)
def test_faults_on_the_wire_are_retried_a_bounded_number_of_times_then_503(
    api: Api, monkeypatch: pytest.MonkeyPatch, status: int, code: str
) -> None:
    """DynamoDB's error answers, injected at the HTTP layer (botocore's before-send), go through botocore's
    parsing and its standard retry mode: 3 attempts, then the client gets a 503 envelope to retry."""
    from botocore.awsrequest import AWSResponse, HTTPHeaders
    from botocore.retries.standard import ExponentialBackoff
    from moto.core.models import botocore_stubber

    from threads_api import store

    # The same attempts without the waits between them (up to a second or two of jittered backoff).
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)

    thread_id = api("POST", "/threads").body["id"]
    attempts: list[str] = []

    class Raw:
        def stream(self, **_: Any) -> Any:
            yield json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}).encode()

    def fail(request: Any, **_: Any) -> AWSResponse:
        attempts.append(request.headers.get("X-Amz-Target", b"").decode())
        headers = HTTPHeaders()
        headers["content-type"] = "application/x-amz-json-1.0"
        return AWSResponse(request.url, status, headers, Raw())

    # botocore calls every before-send handler; moto's would still execute the request, so it steps aside
    # while DynamoDB is "down" (the key is cached: the append's transaction is the only call).
    store.client.meta.events.register_first("before-send.dynamodb", fail, unique_id="inject-fault")  # type: ignore[arg-type]
    botocore_stubber.enabled = False
    try:
        reply = api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": "x"})
    finally:
        botocore_stubber.enabled = True
        store.client.meta.events.unregister("before-send.dynamodb", unique_id="inject-fault")
    assert set(attempts) == {"DynamoDB_20120810.TransactWriteItems"}
    assert reply.status == 503
    assert reply.headers["retry-after"] == "1"
    assert_error(reply.body, 503)
    assert len(attempts) == 3  # botocore's standard mode, as configured: bounded
    assert api("GET", f"/threads/{thread_id}/messages").body["data"] == []


def test_an_append_whose_answer_was_lost_is_not_written_twice(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore retries a transaction whose answer timed out; if the first attempt had committed, the retry's
    condition fails on our own write: that is a success, not a reason to write the message again."""
    from threads_api import store

    thread_id = api("POST", "/threads").body["id"]
    real = store.client._make_api_call  # type: ignore[attr-defined]
    calls: list[str] = []

    def commit_then_lose_the_answer(operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        if operation == "TransactWriteItems" and calls.count("TransactWriteItems") == 1:
            real(operation, params)  # it commits, the answer is lost, and the retry finds our own write
            return real(operation, {**params, "ClientRequestToken": "another-attempt"})
        return real(operation, params)

    monkeypatch.setattr(store.client, "_make_api_call", commit_then_lose_the_answer)
    reply = api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": "exactly once"})
    monkeypatch.setattr(store.client, "_make_api_call", real)
    assert reply.status == 200
    messages = api("GET", f"/threads/{thread_id}/messages").body["data"]
    assert [m["id"] for m in messages] == [reply.body["id"]]


def test_a_thread_put_whose_answer_was_lost_is_recognised_as_ours_by_its_gsk(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore retries a put whose answer timed out; if the first attempt had landed, the retry fails its
    condition on our own item: one read, and the item's gsk (ours) makes it a success."""

    def land_then_lose_the_answer(operation: str, params: dict[str, Any], real: Any) -> Any:
        if operation == "PutItem" and params["Item"]["pk"]["S"].startswith("thread_"):
            real(operation, params)  # it lands, the answer is lost, and botocore's retry finds our own item
        return real(operation, params)

    calls = _calls(monkeypatch, land_then_lose_the_answer)
    reply = api("POST", "/threads", {"metadata": {"once": "yes"}})
    assert reply.status == 200, reply.body
    assert calls[calls.index("PutItem") :] == ["PutItem", "GetItem"]  # one read recognised the item
    monkeypatch.undo()
    assert [t["id"] for t in api("GET", "/threads").body["data"]] == [reply.body["id"]]
    assert api("GET", f"/threads/{reply.body['id']}").body == reply.body


def test_a_thread_put_that_finds_another_item_under_its_id_raises_the_original_error(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A condition that fails on an item that is not ours (another gsk) is not a success: the first error."""
    from threads_api import store

    def foreign_item(operation: str, params: dict[str, Any], real: Any) -> Any:
        if operation == "PutItem":
            real(operation, {**params, "Item": {**params["Item"], "gsk": {"S": "another"}}})
        return real(operation, params)

    calls = _calls(monkeypatch, foreign_item)
    with pytest.raises(ClientError) as raised:
        store.create_thread("alpha", {}, {}, [])
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert calls == ["PutItem", "GetItem"]


@pytest.mark.parametrize("keyed", [False, True], ids=["unkeyed", "keyed"])
def test_a_thread_put_that_fails_otherwise_raises_that_error_unchanged_and_reads_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch, keyed: bool
) -> None:
    from threads_api import store

    refused = ClientError({"Error": {"Code": "ValidationException", "Message": "no"}}, "PutItem")

    def refuse(operation: str, params: dict[str, Any], real: Any) -> Any:
        if operation == "PutItem":
            raise refused
        return real(operation, params)

    calls = _calls(monkeypatch, refuse)
    with pytest.raises(ClientError) as raised:
        store.create_thread("alpha", {}, {}, [], thread_id="thread_keyed" if keyed else None)
    assert raised.value is refused
    assert calls == ["PutItem"]


def test_cleanup_reports_a_failed_record_for_retry(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from handlers import cleanup
    from threads_api import store
    from threads_api.store import purge

    def fail(thread_id: str) -> int:
        raise store.Unavailable("batch_write_item")

    monkeypatch.setattr(purge, "purge_thread", fail)
    record = {
        "eventName": "REMOVE",
        "dynamodb": {"Keys": {"pk": {"S": "thread_x"}, "sk": {"S": "thread"}}, "SequenceNumber": "42"},
    }
    assert cleanup.handler({"Records": [record]}) == {"batchItemFailures": [{"itemIdentifier": "42"}]}
