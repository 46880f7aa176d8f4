"""What storage promises to concurrent writers: appends that contend are all kept, each writer's in its own
order; concurrent modifies end with one whole value; a modify after a delete resurrects nothing."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.handlers.conftest import Api


def _first_appends_newest_first(monkeypatch: pytest.MonkeyPatch, thread_id: str, writers: int) -> list[str]:
    """Make the writers' first appends to ``thread_id`` contend, whatever the machine's timing: each is held
    until all ``writers`` have built theirs, then they reach DynamoDB one at a time, newest order key first, so
    every one but the first finds the thread's ``last_ok`` past its own key and must go again. Returns each
    refused append's cancellation codes (the thread's update first), as DynamoDB answered them."""
    from threads_api import store

    real = store.client._make_api_call  # type: ignore[attr-defined]
    turn = threading.Condition()
    first: dict[int, str] = {}  # writer (its thread's ident) -> the order key of its first append
    gone: list[str] = []  # the first appends that have been sent, in order
    refused: list[str] = []

    def sent(operation: str, params: dict[str, Any]) -> Any:
        try:
            return real(operation, params)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons", [])
                refused.append(",".join(reason.get("Code", "") for reason in reasons))
            raise

    def call(operation: str, params: dict[str, Any]) -> Any:
        update = params["TransactItems"][0].get("Update", {}) if operation == "TransactWriteItems" else {}
        key = update.get("ExpressionAttributeValues", {}).get(":k", {}).get("S")
        writer = threading.get_ident()
        if update.get("Key", {}).get("pk", {}).get("S") != thread_id or key is None or writer in first:
            return sent(operation, params)
        with turn:
            first[writer] = key
            turn.notify_all()
            turn.wait_for(lambda: len(first) == writers, timeout=30)
            order = sorted(first.values(), reverse=True)
            turn.wait_for(lambda: order[len(gone)] == key, timeout=30)
        try:
            return sent(operation, params)
        finally:
            with turn:
                gone.append(key)
                turn.notify_all()

    monkeypatch.setattr(store.client, "_make_api_call", call)
    return refused


def test_concurrent_appends_are_all_kept_in_one_order(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    thread_id = api("POST", "/threads").body["id"]
    refused = _first_appends_newest_first(monkeypatch, thread_id, writers=6)
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
    # The appends did contend: at least the five first appends sent after the newest one were refused on the
    # thread's condition (its last_ok), and went again.
    conflicts = [codes for codes in refused if codes.startswith("ConditionalCheckFailed")]
    assert len(conflicts) >= 5, refused
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
