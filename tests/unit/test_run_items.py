"""A run's item (store/run_items.py): what it was given stored compressed in ``pack``, a run stored before
``pack`` read back the same, and the room ``check_run_size`` keeps: nothing the worker or a cancel writes next
is larger than ``lifecycle.fullest``, as stored."""

from __future__ import annotations

import dataclasses
import json
import random
import string
import zlib

from tests.samples import WEATHER
from threads_api.domain import lifecycle
from threads_api.domain.records import Assistant, Run
from threads_api.store import run_items

NOW = 1_796_395_872
NOISE = "".join(random.Random(5).choices(string.printable, k=20_000))


def _run(instructions: str = "Be brief. " * 300) -> Run:
    assistant = Assistant(
        "asst_" + "a" * 24, NOW, "gpt-4o", None, None, instructions, [WEATHER], {}, {}, None, None, "auto"
    )
    return lifecycle.new_run("thread_" + "t" * 24, assistant, {}, None, NOW)


def test_what_a_run_was_given_is_stored_compressed_and_read_back() -> None:
    run = _run()
    item = run_items.run_item("alpha", run, "0" * 28)
    assert "B" in item["pack"]
    assert "Be brief." not in item["body"]["S"]
    assert run_items.run_from_item(item) == run


def test_a_run_stored_before_pack_existed_reads_back_the_same() -> None:
    run = _run()
    item = run_items.run_item("alpha", run, "0" * 28)
    body = json.loads(item["body"]["S"]) | json.loads(zlib.decompress(item["pack"]["B"]))
    legacy = {name: value for name, value in item.items() if name != "pack"} | {"body": {"S": json.dumps(body)}}
    assert run_items.run_from_item(legacy) == run


def test_nothing_the_worker_or_a_cancel_writes_next_is_larger_than_the_fullest_run() -> None:
    queued = _run(NOISE)
    bound = run_items.stored_size("alpha", lifecycle.fullest(queued, NOW))
    claimed = dataclasses.replace(queued, status="in_progress", started_at=NOW, worker="f" * 64)
    usage = {"prompt_tokens": 10**9, "completion_tokens": 10**9, "total_tokens": 2 * 10**9}
    step_id, message_id = lifecycle.reply_ids(claimed)
    reply = lifecycle.step(claimed, step_id, "message_creation", {"message_id": message_id}, NOW, usage)
    error = {"code": "rate_limit_exceeded", "message": NOISE[:1_000]}
    nexts = [
        claimed,
        dataclasses.replace(claimed, status="cancelling"),
        lifecycle.ended(claimed, "completed", NOW, steps=[reply], usage=usage),
        lifecycle.ended(claimed, "incomplete", NOW, steps=[reply], usage=usage, incomplete_details={"reason": "x"}),
        lifecycle.ended(claimed, "failed", NOW, last_error=error),
        lifecycle.ended(claimed, "cancelled", NOW, usage=usage),
        lifecycle.ended(queued, "cancelled", NOW),
    ]
    assert max(run_items.stored_size("alpha", run) for run in nexts) <= bound


def _with_outputs(run: Run, output: str) -> Run:
    """``run`` asking for the weather twice (the same call id in two rounds, as some models reuse them), each
    answered with ``output``."""
    steps = []
    for n in (1, 2):
        call = {"id": "call_0", "type": "function", "function": {"name": "w", "arguments": "{}", "output": output}}
        step = {"id": f"step_{n}", "type": "tool_calls", "status": "completed", "step_details": {"tool_calls": [call]}}
        steps.append(step)
    return dataclasses.replace(run, steps=steps)


def test_large_tool_outputs_are_stored_compressed_apart_and_read_back() -> None:
    """A tool output at its maximum (256,000 characters) is given once, at its submission: stored compressed
    in ``outs``, it leaves the run's room for growth exact and fits where it would not as it is."""
    output = "The order shipped on Monday; the warranty covers two years. " * 4_300
    run = _with_outputs(_run(), output[:256_000])
    item = run_items.run_item("alpha", run, "0" * 28)
    assert "warranty" not in item["body"]["S"]
    assert run_items.run_from_item(item) == run
    run_items.check_run_size("alpha", run)  # two outputs at their maximum: room to spare


def test_a_run_stored_before_outs_existed_reads_back_the_same() -> None:
    run = _with_outputs(_run(), "sunny" * 1_000)
    item = run_items.run_item("alpha", run, "0" * 28)
    body = json.loads(item["body"]["S"])
    for step in body["steps"]:
        step["step_details"]["tool_calls"][0]["function"]["output"] = "sunny" * 1_000
    old = {k: v for k, v in item.items() if k != "outs"} | {"body": {"S": json.dumps(body)}}
    assert run_items.run_from_item(old) == run
