"""The table's items, encoded and decoded without DynamoDB: keys, sizes, bodies inline and in compressed parts."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from threads_api.domain import limits
from threads_api.domain.errors import InvalidText
from threads_api.domain.records import Message, Thread
from threads_api.store import items


def _message(text: str, attachments: list[dict[str, Any]] | None = None) -> Message:
    content = [{"type": "text", "text": {"value": text, "annotations": []}}]
    return Message("msg_x", "thread_x", 1_700_000_000, "user", content, attachments or [], {"k": "v"})


def _parts(stored: list[items.Item]) -> dict[str, bytes]:
    return {item["sk"]["S"]: item["data"]["B"] for item in stored[1:]}


def test_keys_put_every_item_of_a_thread_in_its_partition() -> None:
    assert items.thread_key("thread_x") == {"pk": {"S": "thread_x"}, "sk": {"S": "thread"}}
    assert items.message_key("thread_x", "msg_y") == {"pk": {"S": "thread_x"}, "sk": {"S": "msg#msg_y"}}
    assert items.part_key("thread_x", "msg_y", 2) == {"pk": {"S": "thread_x"}, "sk": {"S": "msg#msg_y#2"}}


def test_item_size_counts_names_and_values_as_dynamodb_does() -> None:
    assert items.item_size({"ab": {"S": "é"}}) == 2 + 2  # UTF-8 bytes, the name's too
    assert items.item_size({"data": {"B": b"\x00" * 10}}) == 4 + 10
    assert items.item_size({"n": {"N": "1"}, "t": {"BOOL": True}}) == 1 + 22 + 1 + 22  # rounded up


def test_a_small_message_is_one_item_with_its_body_inline_and_round_trips() -> None:
    message = _message("hello", attachments=[{"file_id": "file_1", "tools": [{"type": "file_search"}]}])
    [item] = items.message_items("thread_x", message, "0" * 20)
    assert item["ok"] == {"S": "0" * 20}
    assert item["body"]["S"].startswith('{"content":')
    assert "parts" not in item
    assert items.message_from_item(item) == message
    assert items.part_keys([item]) == []
    assert items.stored_body_size(item) == len(item["body"]["S"])


def test_a_body_at_the_inline_limit_stays_inline_and_one_byte_more_goes_to_parts() -> None:
    empty = len(items.utf8({"content": _message("").content, "attachments": []}))
    at_limit = _message("x" * (limits.ITEM_BODY_INLINE_BYTES - empty))
    assert len(items.message_items("thread_x", at_limit, "0" * 20)) == 1
    over = _message("x" * (limits.ITEM_BODY_INLINE_BYTES - empty + 1))
    stored = items.message_items("thread_x", over, "0" * 20)
    assert "body" not in stored[0]
    assert stored[0]["parts"] == {"N": "1"}
    assert items.message_from_item(stored[0], _parts(stored)) == over


def test_a_large_message_goes_to_compressed_parts_under_the_item_limit_and_round_trips() -> None:
    text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(256_000))  # poorly compressible CJK
    message = _message(text)
    stored = items.message_items("thread_x", message, "0" * 20)
    head, parts = stored[0], stored[1:]
    assert int(head["parts"]["N"]) == len(parts) > 1
    assert [p["sk"]["S"] for p in parts] == [f"msg#msg_x#{n}" for n in range(1, len(parts) + 1)]
    assert items.part_keys([head]) == [{"pk": p["pk"], "sk": p["sk"]} for p in parts]
    # Under DynamoDB's 400 KB; the message item twice over (its copy in the by_order index counts too).
    assert 2 * items.item_size(head) < 400 * 1024
    assert all(items.item_size(p) < 400 * 1024 for p in parts)
    packed = b"".join(p["data"]["B"] for p in parts)
    assert zlib.decompress(packed) == items.utf8({"content": message.content, "attachments": []})
    assert items.message_from_item(head, _parts(stored)) == message
    assert items.stored_body_size(head) == len(parts) * limits.ITEM_PART_BYTES


def test_text_with_a_lone_surrogate_is_refused_before_any_item_is_built() -> None:
    with pytest.raises(InvalidText):
        items.message_items("thread_x", _message("\ud800"), "0" * 20)
    with pytest.raises(InvalidText):
        items.dumps({"k": "\udfff"})


def test_a_thread_item_round_trips_and_is_visible_only_to_its_project_once_whole() -> None:
    thread = Thread("thread_x", 1_700_000_000, {"a": "é"}, {"code_interpreter": {"file_ids": []}})
    item = items.thread_item("alpha", thread, "k" * 28)
    assert item["gpk"] == {"S": "threads#alpha"}
    assert item["gsk"] == {"S": "k" * 28}
    assert item["meta"] == {"S": '{"a":"é"}'}  # compact UTF-8 JSON, not ASCII escapes
    assert items.thread_from_item(item) == thread
    assert items.visible_thread(item, "alpha")
    assert not items.visible_thread(item, "beta")
    assert not items.visible_thread(None, "alpha")
    assert not items.visible_thread({**item, "pending": {"BOOL": True}}, "alpha")
