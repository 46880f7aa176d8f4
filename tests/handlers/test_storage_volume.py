"""What storage promises at DynamoDB's limits: deletion of a vast thread leaves nothing, creation too large
for one transaction is written in stages (all or nothing), pages stop early for Lambda's response limit, and
every call keeps the limits that moto does not enforce."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api, _a_dynamodb_number
from tests.handlers.storage_support import _calls


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
    assert calls
    assert reply.status == 503
    assert reply.headers["retry-after"] == "1"
    assert_error(reply.body, 503)
    assert api("GET", "/threads").body["data"] == []
    monkeypatch.setattr(store, "batch_write", real_batch_write)
    # The TTL would remove the hidden thread item later; deleting it now starts the same purge.
    api.stream.drain()
    left = boto3.client("dynamodb").scan(TableName=store.TABLE)["Items"]
    assert [item for item in left if not item["pk"]["S"].startswith("key#")] == []


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
    assert 1 <= len(first["data"]) < 8
    assert first["has_more"] is True
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
