"""The import's writes on moto (``store/transfer.py``): ``--overwrite`` of a thread whole or not at all when it
fits a transaction, what a replace leaves (the new messages, in their order, and none of the old), and an
export's memory on a long thread of large messages."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from botocore.exceptions import ClientError

PROJECT = "p"
THREAD = "thread_abc123DEF456ghi789JKL012"


def _thread() -> Any:
    from threads_api.domain.records import Thread

    return Thread(THREAD, 1_700_000_000, {"user": "42"}, {})


def _messages(texts: list[str]) -> list[Any]:
    from threads_api.domain.records import Message

    return [
        Message(
            id=f"msg_{n:024d}",
            thread_id=THREAD,
            created_at=1_700_000_000 + n,
            role="user",
            content=[{"type": "text", "text": {"value": text, "annotations": []}}],
            attachments=[],
            metadata={},
        )
        for n, text in enumerate(texts)
    ]


def _held() -> list[str]:
    from threads_api.store import transfer

    return [m.content[0]["text"]["value"] for page in transfer.thread_messages(THREAD) for m in page]


def _message_items(dynamodb: Any) -> list[str]:
    items = dynamodb.query(
        TableName="threads-api-test",
        KeyConditionExpression="pk = :t AND begins_with(sk, :m)",
        ExpressionAttributeValues={":t": {"S": THREAD}, ":m": {"S": "msg#"}},
    )["Items"]
    return sorted(item["sk"]["S"] for item in items)


@pytest.mark.parametrize("count", [3, 120], ids=["one transaction", "in batches"])
def test_a_replace_leaves_the_new_messages_only(dynamodb: Any, count: int) -> None:
    from threads_api.store import transfer

    transfer.import_thread(PROJECT, _thread(), _messages([f"old {n}" for n in range(count)]), 0, replace=False)
    large = "x" * 500_000  # a body in part items, which the replace must delete with their message
    new = _messages([f"new {n}" for n in range(count // 2)] + [large])
    new[-1].id = "msg_large000000000000000000"
    transfer.import_thread(PROJECT, _thread(), new, 0, replace=True)
    assert _held() == [f"new {n}" for n in range(count // 2)] + [large]
    transfer.import_thread(PROJECT, _thread(), new[:1], 0, replace=True)
    assert _held() == ["new 0"]
    assert _message_items(dynamodb) == ["msg#msg_000000000000000000000000"]  # no stale message, no part


def test_an_overwrite_that_fits_a_transaction_is_whole_or_not_at_all(dynamodb: Any) -> None:
    from threads_api.store import transfer

    transfer.import_thread(PROJECT, _thread(), _messages(["a", "b", "c"]), 0, replace=False)
    # Another writer holds the thread (a staged write's mark): the replace's condition on it fails...
    dynamodb.update_item(
        TableName="threads-api-test",
        Key={"pk": {"S": THREAD}, "sk": {"S": "thread"}},
        UpdateExpression="SET pending = :t",
        ExpressionAttributeValues={":t": {"BOOL": True}},
    )
    with pytest.raises(ClientError) as refused:
        transfer.import_thread(PROJECT, _thread(), _messages(["x"]), 0, replace=True)
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    # ... and none of its messages were written or deleted.
    assert _message_items(dynamodb) == [f"msg#msg_{n:024d}" for n in range(3)]


def test_an_export_reads_a_long_thread_of_large_messages_in_bounded_memory(dynamodb: Any) -> None:
    import tracemalloc

    from threads_api.store import transfer

    texts = [secrets.token_urlsafe(150_000) for _ in range(100)]  # 20 MB of bodies that do not compress
    transfer.import_thread(PROJECT, _thread(), _messages(texts), 0, replace=False)
    tracemalloc.start()
    try:
        count = sum(len(batch) for batch in transfer.thread_messages(THREAD))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == len(texts)
    # A few batches of bodies (and moto's copies of them), not the thread: read whole, it peaks near 40 MB.
    assert peak < transfer.BODIES_IN_MEMORY_BYTES * 5 < 20_000_000, peak


@pytest.mark.parametrize("step", ["the hidden thread's put", "the reveal"])
def test_a_staged_write_whose_step_was_retried_after_it_landed_completes(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """botocore retries a step (its answer lost after it committed): the retry's failed condition finds the
    step done by this write (its token), so the write goes on, and is neither refused nor undone."""
    from threads_api.store import dynamodb as store_dynamodb
    from threads_api.store import transfer

    real = store_dynamodb.call

    def landed_then_lost(operation: str, **params: Any) -> bool:
        if step == "the reveal":
            return operation == "update_item" and "REMOVE pending" in params.get("UpdateExpression", "")
        return operation == "put_item" and "pending" in params.get("Item", {})

    def answer_lost(operation: str, **params: Any) -> Any:
        done = real(operation, **params)
        if landed_then_lost(operation, **params):
            error = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "retried"}}
            raise ClientError(error, operation)  # type: ignore[arg-type]
        return done

    monkeypatch.setattr(store_dynamodb, "call", answer_lost)
    texts = [f"m{n}" for n in range(120)]  # past one transaction: written in stages
    transfer.import_thread(PROJECT, _thread(), _messages(texts), 0, replace=False)
    monkeypatch.setattr(store_dynamodb, "call", real)
    assert transfer.find_thread(PROJECT, THREAD)[0] == transfer.HERE
    assert _held() == texts


def test_a_thread_imported_again_before_the_purge_of_its_delete_keeps_its_messages(dynamodb: Any) -> None:
    from threads_api.store import purge, transfer

    transfer.import_thread(PROJECT, _thread(), _messages(["a", "b"]), 0, replace=False)
    dynamodb.delete_item(TableName="threads-api-test", Key={"pk": {"S": THREAD}, "sk": {"S": "thread"}})
    transfer.import_thread(PROJECT, _thread(), _messages(["a", "b"]), 0, replace=False)  # before the purge
    assert purge.purge_thread(THREAD) == 0  # the stream's record of the delete, late
    assert _held() == ["a", "b"]
    dynamodb.delete_item(TableName="threads-api-test", Key={"pk": {"S": THREAD}, "sk": {"S": "thread"}})
    assert purge.purge_thread(THREAD) == 2  # no thread under the id: its partition emptied
    assert _message_items(dynamodb) == []


def test_an_import_writes_a_new_thread_in_one_request_and_reads_only_what_it_finds_taken(
    dynamodb: Any, tmp_path: Any
) -> None:
    """docs/import-export.md: "a thread not there yet costs one request"; a re-run reads what it skips."""
    from collections import Counter

    from infra.ops import transfer_commands, transfer_read
    from tests.openai_export import message_object, thread_object, write_lines
    from threads_api import store

    lines = [
        each for t in range(3) for each in (thread_object(t), message_object(t, 0, "a"), message_object(t, 1, "b"))
    ]
    plan = transfer_read.read(write_lines(tmp_path / "three.jsonl", lines))
    made: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        made[model.name] += 1

    store.client.meta.events.register("before-call.dynamodb", count, unique_id="count-import")
    try:
        tally = transfer_commands.Tally(total=9)
        transfer_commands._import(PROJECT, plan, tally, overwrite=False)
        assert tally.imported == {"assistants": 0, "threads": 3, "messages": 6}
        assert made == Counter({"TransactWriteItems": 3})
        made.clear()
        again = transfer_commands.Tally(total=9)
        transfer_commands._import(PROJECT, plan, again, overwrite=False)
        assert again.skipped == 3
        assert made == Counter({"TransactWriteItems": 3, "GetItem": 3, "Query": 3})
    finally:
        store.client.meta.events.unregister("before-call.dynamodb", unique_id="count-import")


@pytest.mark.parametrize(("expired", "imported"), [(True, 1), (False, 0)], ids=["stopped and expired", "in progress"])
def test_a_hidden_thread_left_by_a_stopped_write_gives_way_once_expired(
    dynamodb: Any, tmp_path: Any, expired: bool, imported: int
) -> None:
    """A staged write that stopped midway leaves a hidden item until DynamoDB's TTL removes it (days, at worst):
    past its expiry an import takes the id over; before it, the import is refused (another write may be on)."""
    from infra.ops import transfer_commands, transfer_read
    from tests.openai_export import message_object, thread_object, write_lines
    from threads_api.domain import clock

    expires = clock.now() + (-60 if expired else 3600)
    hidden = {"pk": {"S": THREAD}, "sk": {"S": "thread"}, "prj": {"S": PROJECT}, "pending": {"S": "someone's"}}
    dynamodb.put_item(TableName="threads-api-test", Item=hidden | {"expires_at": {"N": str(expires)}})
    given = thread_object(0) | {"id": THREAD}
    plan = transfer_read.read(
        write_lines(tmp_path / "one.jsonl", [given, message_object(0, 0, "a") | {"thread_id": THREAD}])
    )
    tally = transfer_commands.Tally(total=2)
    transfer_commands._import(PROJECT, plan, tally, overwrite=False)
    assert tally.imported["threads"] == imported
    if expired:
        assert _held() == ["a"]
    else:
        assert tally.refused == [
            f"line 1: thread {THREAD} is being written by another request; run the import again later."
        ]
