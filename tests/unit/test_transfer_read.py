"""The import's reading without a table: memory that does not grow with the file's content, the messages'
order from pages in either direction, and the progress line (counts, rate, time left)."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from infra.ops import transfer_commands, transfer_read
from infra.ops.cli_errors import CliError
from tests.openai_export import message_object, thread_object, write_lines

THREADS, MESSAGES, TEXT_BYTES = 8, 12, 300_000  # a file of about 29 MB


def _peak(work: Any) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_holds_a_thread_at_a_time_not_the_file(tmp_path: Path) -> None:
    lines: list[Any] = []
    for t in range(THREADS):
        lines.append(thread_object(t))
        lines += [message_object(t, n, chr(97 + n) * TEXT_BYTES) for n in range(MESSAGES)]
    path = write_lines(tmp_path / "big.jsonl", lines)
    size = path.stat().st_size
    transfer_read.read(write_lines(tmp_path / "warm.jsonl", lines[:2]))  # the schemas and imports, once

    plans: list[transfer_read.Plan] = []
    checked = _peak(lambda: plans.append(transfer_read.read(path)))
    # A few copies of a line (its bytes, its text, its validation): what the check keeps is by id, not content.
    assert checked < 8 * TEXT_BYTES < size / 10, (checked, size)

    def write_all() -> None:
        for _, _, thread, messages in plans[0].each_thread():
            assert len(messages) == MESSAGES
            assert thread.id.startswith("thread_")

    written = _peak(write_all)
    one_thread = MESSAGES * TEXT_BYTES
    assert written < 2 * one_thread + transfer_read.PARSED_LINES * TEXT_BYTES < size / 2, (written, size)


def test_the_check_keeps_under_a_kilobyte_an_object(tmp_path: Path) -> None:
    lines: list[Any] = []
    for t in range(50):
        lines += [thread_object(t), *(message_object(t, n, "hi") for n in range(100))]
    path = write_lines(tmp_path / "many.jsonl", lines)
    transfer_read.read(write_lines(tmp_path / "warm.jsonl", lines[:2]))
    tracemalloc.start()
    try:
        plan = transfer_read.read(path)
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert plan.count == len(lines)
    assert kept / len(lines) < 1024, kept / len(lines)  # docs/import-export.md: "under 1 KB an object"


def test_pages_newest_first_give_the_thread_order_even_within_a_second(tmp_path: Path) -> None:
    same = 1_700_000_100
    messages = [message_object(0, n, f"m{n}", created_at=same if n >= 2 else None) for n in range(5)]
    newest = messages[::-1]  # the API's default order; the second page's times are all one second
    pages = [{"object": "list", "data": newest[:2]}, {"object": "list", "data": newest[2:]}]
    plan = transfer_read.read(write_lines(tmp_path / "pages.jsonl", [thread_object(0), *pages]))
    [(_, _, _, read)] = list(plan.each_thread())
    assert [m.content[0]["text"]["value"] for m in read] == ["m0", "m1", "m2", "m3", "m4"]


def test_a_page_of_assistants_tells_nothing_of_the_messages_order(tmp_path: Path) -> None:
    assistants: list[dict[str, Any]] = [
        {
            "id": f"asst_{n:024d}",
            "object": "assistant",
            "created_at": 100 * (n + 1),
            "name": None,
            "description": None,
            "model": "m",
            "instructions": None,
            "tools": [],
            "metadata": {},
            "response_format": "auto",
        }
        for n in range(2)
    ]  # listed oldest first
    messages = [message_object(0, n, f"m{n}", created_at=1_700_000_500) for n in range(2)]  # one second: no direction
    pages = [{"object": "list", "data": assistants}, thread_object(0), {"object": "list", "data": messages[::-1]}]
    plan = transfer_read.read(write_lines(tmp_path / "mixed.jsonl", pages))
    [(_, _, _, read)] = list(plan.each_thread())
    assert [m.content[0]["text"]["value"] for m in read] == ["m0", "m1"]  # the API's default: newest first


def test_pages_oldest_first_are_read_as_they_are(tmp_path: Path) -> None:
    messages = [message_object(0, n, f"m{n}", created_at=1_700_000_000 + n // 2) for n in range(6)]  # 2 a second
    pages = [{"object": "list", "data": messages[:3]}, {"object": "list", "data": messages[3:]}]
    plan = transfer_read.read(write_lines(tmp_path / "asc.jsonl", [thread_object(0), pages[0], pages[1]]))
    [(_, _, _, read)] = list(plan.each_thread())
    assert [m.id for m in read] == [m["id"] for m in messages]


def test_a_line_that_is_not_utf8_is_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "latin.jsonl"
    path.write_bytes(json.dumps(thread_object(0)).encode() + b"\n" + b'{"object": "thread", "id": "caf\xe9"}\n')
    with pytest.raises(CliError, match="line 2: not valid JSON \\(its bytes are not UTF-8\\)"):
        transfer_read.read(path)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_tells_counts_rate_and_time_left_every_two_seconds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = Clock()
    monkeypatch.setattr("infra.ops.transfer_commands.time.monotonic", clock)
    tally = transfer_commands.Tally(total=1_000, started=clock.now, shown=clock.now)
    tally.imported["threads"], tally.imported["messages"] = 1, 99
    clock.now += 1.0
    tally.progress(99)  # 100 done after 1 s: not yet shown
    assert capsys.readouterr().err == ""
    clock.now += 1.5
    tally.imported["threads"], tally.imported["messages"] = 2, 248
    tally.progress(149)  # 250 done after 2.5 s: 100 a second, 750 left
    assert capsys.readouterr().err == (
        "… 250/1000 objects (2 threads, 248 messages, 0 assistants imported; 100 objects/s, about 8 s left)\n"
    )
    clock.now += 1.0
    tally.progress(0)  # 1 s after the last line: not shown
    assert capsys.readouterr().err == ""


def test_a_whole_document_with_a_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "whole.json"
    message = message_object(0, 0, "hi")
    document = {"object": "list", "data": [thread_object(0), message]}
    path.write_text("\ufeff" + json.dumps(document, indent=2), encoding="utf-8")
    [(_, _, _, read)] = list(transfer_read.read(path).each_thread())
    assert [m.id for m in read] == [message["id"]]
