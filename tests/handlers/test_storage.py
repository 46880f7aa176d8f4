"""What storage promises: deletion leaves nothing, creation is all or nothing, faults become 503s."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api, _a_dynamodb_number


@pytest.mark.slow  # tens of seconds on moto: `make unit` leaves it out, the full suite runs it
def test_deleting_a_thread_of_10000_messages_leaves_nothing(api: Api) -> None:
    from threads_api import store
    from threads_api.domain.records import Message

    thread_id = api("POST", "/threads", {"messages": [{"role": "user", "content": "first"}]}).body["id"]
    big = api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": "😀" * 200_000}).body
    # 10,000 messages written as the store writes them (the handler path is covered elsewhere; this is volume).
    items = []
    for n in range(10_000):
        message = Message(f"msg_bulk{n:016d}", thread_id, 0, "user", [], [], {})
        items += store.message_items(thread_id, message, f"{n:020x}")
    store.batch_write([{"PutRequest": {"Item": item}} for item in items])
    assert len(api.items(thread_id)) > 10_000

    deleted = api("DELETE", f"/threads/{thread_id}")
    assert deleted.status == 200
    # At once: the thread and its messages answer 404, before any cleanup ran.
    assert api("GET", f"/threads/{thread_id}").status == 404
    assert api("GET", f"/threads/{thread_id}/messages/{big['id']}").status == 404
    assert api("GET", f"/threads/{thread_id}/messages").status == 404

    api.stream.drain()  # the stream records DynamoDB sends, to the cleanup function
    assert api.items(thread_id) == []


def test_cleanup_reports_a_failed_record_for_retry(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from handlers import cleanup
    from threads_api import store

    def fail(thread_id: str) -> int:
        raise store.Unavailable("batch_write_item")

    monkeypatch.setattr(store, "purge_thread", fail)
    record = {
        "eventName": "REMOVE",
        "dynamodb": {"Keys": {"pk": {"S": "thread_x"}, "sk": {"S": "thread"}}, "SequenceNumber": "42"},
    }
    assert cleanup.handler({"Records": [record]}) == {"batchItemFailures": [{"itemIdentifier": "42"}]}


def test_a_thread_too_large_for_one_transaction_is_written_in_stages(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from threads_api.domain import limits

    monkeypatch.setattr(limits, "TRANSACTION_MAX_BYTES", 1_000)
    texts = [f"{i} " + "x" * 500 for i in range(32)]
    thread = api("POST", "/threads", {"messages": [{"role": "user", "content": t} for t in texts]}).body
    page = api("GET", f"/threads/{thread['id']}/messages?order=asc&limit=100").body
    assert [m["content"][0]["text"]["value"] for m in page["data"]] == texts
    assert api("GET", "/threads").body["data"][0]["id"] == thread["id"]
    assert not any("pending" in item or "expires_at" in item for item in api.items(thread["id"]))


def test_a_staged_write_that_fails_leaves_no_thread_and_nothing_behind(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from threads_api import store
    from threads_api.domain import limits

    monkeypatch.setattr(limits, "TRANSACTION_MAX_BYTES", 1_000)
    real_batch_write = store.batch_write
    calls = []

    def failing(requests: list[Any]) -> None:
        calls.append(1)
        real_batch_write(requests[:5])  # half written, then DynamoDB gives up
        raise store.Unavailable("batch_write_item")

    monkeypatch.setattr(store, "batch_write", failing)
    reply = api("POST", "/threads", {"messages": [{"role": "user", "content": "x" * 500}] * 20})
    assert calls and reply.status == 503
    assert reply.headers["retry-after"] == "1"
    assert_error(reply.body, 503)
    assert api("GET", "/threads").body["data"] == []
    monkeypatch.setattr(store, "batch_write", real_batch_write)
    # The TTL would remove the hidden thread item later; deleting it now starts the same purge.
    api.stream.drain()
    left = boto3.client("dynamodb").scan(TableName=store.TABLE)["Items"]
    assert [item for item in left if not item["pk"]["S"].startswith("key#")] == []


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
    assert reply.status == 503 and reply.headers["retry-after"] == "1"
    assert_error(reply.body, 503)
    assert len(attempts) == 3  # botocore's standard mode, as configured: bounded
    assert api("GET", f"/threads/{thread_id}/messages").body["data"] == []


def test_concurrent_appends_are_all_kept_in_one_order(api: Api) -> None:
    thread_id = api("POST", "/threads").body["id"]
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(5):
                reply = api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": f"{n}-{i}"})
                assert reply.status == 200, reply.body
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    asc = [
        m["content"][0]["text"]["value"]
        for m in api("GET", f"/threads/{thread_id}/messages?order=asc&limit=100").body["data"]
    ]
    assert sorted(asc) == sorted(f"{n}-{i}" for n in range(6) for i in range(5))
    for n in range(6):  # each writer's messages appear in the order it wrote them
        assert [v for v in asc if v.startswith(f"{n}-")] == [f"{n}-{i}" for i in range(5)]


def test_concurrent_modifies_end_with_one_whole_value_and_a_modify_after_the_delete_resurrects_nothing(
    api: Api,
) -> None:
    thread_id = api("POST", "/threads").body["id"]
    values = [{f"k{n}": str(n), "writer": str(n)} for n in range(8)]

    def modify(metadata: dict[str, str]) -> None:
        api("POST", f"/threads/{thread_id}", {"metadata": metadata})

    threads = [threading.Thread(target=modify, args=(v,)) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert api("GET", f"/threads/{thread_id}").body["metadata"] in values

    assert api("DELETE", f"/threads/{thread_id}").status == 200
    late = api("POST", f"/threads/{thread_id}", {"metadata": {"back": "again"}})
    assert late.status == 404
    assert api("GET", f"/threads/{thread_id}").status == 404


@pytest.mark.parametrize(
    ("count", "chars", "staged"),
    [(26, 149_000, False), (27, 149_000, True), (32, 120_000, False)],
    ids=["3.9MB-in-one-transaction", "4.0MB-over-one-transaction", "32-messages-3.8MB"],
)
def test_writes_respect_dynamodb_limits_that_moto_does_not(api: Api, count: int, chars: int, staged: bool) -> None:
    """At and over a transaction's 4 MB: every call keeps DynamoDB's limits (checked by the conftest's hook)."""
    from tests.handlers.conftest import limit_checks

    limit_checks.clear()
    texts = [f"{i:03d}" + "x" * (chars - 3) for i in range(count)]
    body = json.dumps({"messages": [{"role": "user", "content": t} for t in texts]}).encode()
    assert len(body) <= 4 * 1024 * 1024
    created = api("POST", "/threads", raw=body)
    assert created.status == 200, created.body
    assert ("BatchWriteItem" in limit_checks) is staged
    listed: list[str] = []
    after = ""
    while True:  # pages stop early at about 1 MB of text (Lambda's 6 MB response), with has_more
        page = api("GET", f"/threads/{created.body['id']}/messages?limit=100&order=asc{after}").body
        listed += [m["content"][0]["text"]["value"] for m in page["data"]]
        if not page["has_more"]:
            break
        after = f"&after={page['last_id']}"
    assert listed == texts


def test_a_page_of_large_messages_stops_early_and_pagination_still_visits_all(api: Api) -> None:
    thread_id = api("POST", "/threads").body["id"]
    texts = [f"{i}" + "é" * 200_000 for i in range(8)]  # 400 KB of UTF-8 each
    for text in texts:
        assert api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": text}).status == 200
    first = api("GET", f"/threads/{thread_id}/messages?limit=100&order=asc").body
    assert 1 <= len(first["data"]) < 8 and first["has_more"] is True
    assert len(json.dumps(first)) < 6 * 1024 * 1024 // 2  # well inside Lambda's response limit
    seen = [m["content"][0]["text"]["value"] for m in first["data"]]
    after = first["last_id"]
    while True:
        page = api("GET", f"/threads/{thread_id}/messages?limit=100&order=asc&after={after}").body
        seen += [m["content"][0]["text"]["value"] for m in page["data"]]
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert seen == texts


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
    assert modified.status == 200 and modified.headers["idempotent-replayed"] == "true"
    assert modified.body == first.body
    assert api("DELETE", message_path).status == 200
    deleted = api("POST", f"/threads/{thread_id}/messages", body, headers=headers)
    assert deleted.status == 200 and deleted.headers["idempotent-replayed"] == "true"
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
    assert again.status == 200 and again.headers["idempotent-replayed"] == "true"
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
    assert again.headers["idempotent-replayed"] == "true" and again.body == first.body
    assert len(api("GET", f"/threads/{thread_id}/messages").body["data"]) == 1
    assert first.body["id"] in json.dumps([item.get("data") for item in _record_items()])


def _calls(monkeypatch: pytest.MonkeyPatch, answer: Any = None) -> list[str]:
    """Record the store's DynamoDB operations; ``answer(operation, params, real)`` may stand in for DynamoDB."""
    from threads_api import store

    real = store.client._make_api_call  # type: ignore[attr-defined]
    calls: list[str] = []

    def record(operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        return (answer or (lambda operation, params, real: real(operation, params)))(operation, params, real)

    monkeypatch.setattr(store.client, "_make_api_call", record)
    return calls


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


def test_list_keys_reads_every_page(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from threads_api import auth, store

    made = [api.key, api.other_key] + [auth.create_key(f"project-{n}") for n in range(5)]

    def pages_of_two(operation: str, params: dict[str, Any], real: Any) -> Any:
        if operation == "Query":
            params = {**params, "Limit": 2}  # as DynamoDB cuts a page at 1 MB, only sooner
        return real(operation, params)

    calls = _calls(monkeypatch, pages_of_two)
    listed = store.list_keys()
    assert calls == ["Query"] * 4  # 7 keys, 2 a page: the last page ends the query
    assert sorted(key["id"] for key in listed) == sorted(auth.hash_key(key) for key in made)
    assert {key["project"] for key in listed} == {"alpha", "beta"} | {f"project-{n}" for n in range(5)}
    assert all(key["prefix"] and isinstance(key["created_at"], int) for key in listed)


NINES = "9." + "9" * 37


@pytest.mark.parametrize(
    ("number", "accepted"),
    [
        ("0", True),
        ("-1.5E-130", True),
        ("1E-130", True),
        (f"{NINES}E+125", True),
        (f"-{NINES}E+125", True),
        ("1" * 38 + "000", True),  # trailing zeros are not significant
        ("1" * 39, False),
        ("0.1" + "0" * 37 + "1", False),  # 39 significant digits, whatever the rounding
        ("9.99999999999999999999999999999E-131", False),
        ("1E+126", False),
        ("1_000", False),
        ("NaN", False),
        ("Infinity", False),
    ],
)
def test_the_hooks_number_check_refuses_exactly_what_dynamodb_refuses(number: str, accepted: bool) -> None:
    """moto stores any number; the handler tests' hook refuses what DynamoDB would (its documented rules)."""
    assert _a_dynamodb_number(number) is accepted
