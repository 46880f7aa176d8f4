"""How often the worker saves a streamed reply's text so far: every 0.25 s for an ordinary run, less often for
a run whose item is large, so that its saves stay within a tenth of a partition's write throughput."""

from __future__ import annotations

import dataclasses
import random
import string
import time
from itertools import pairwise
from typing import Any

import pytest

from threads_api.domain.records import Run
from threads_api.runs import progress as worker_progress
from threads_api.store.run_items import stored_size


def _run(instructions: str) -> Run:
    return Run("run_1", "thread_1", "asst_1", 0, "in_progress", "m", instructions, [], {}, 600, {"stream": True})


def _saves(monkeypatch: pytest.MonkeyPatch, run: Run, seconds: float, step: float = 0.125) -> list[float]:
    """When the worker saves, as the model streams a character every ``step`` seconds for ``seconds``."""
    clock = [1000.0]
    saved: list[float] = []

    def save_run(project: str, changed: Run, **_: Any) -> Run:
        saved.append(clock[0])
        return dataclasses.replace(changed, version=changed.version + 1)

    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(worker_progress, "save_run", save_run)
    progress = worker_progress.Progress("alpha", run)
    text = ""
    while clock[0] < 1000.0 + seconds:
        text += "x"
        progress.text(text)
        clock[0] += step
    return saved


def test_an_ordinary_run_saves_its_text_four_times_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    saved = _saves(monkeypatch, _run("Be brief."), seconds=10)
    assert len(saved) == 40
    assert min(b - a for a, b in pairwise(saved)) == worker_progress.PROGRESS_SECONDS


def test_a_run_with_vast_instructions_saves_less_often_within_its_write_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Random letters, which compress little: about 110 write units a save (a large body is stored compressed).
    run = _run("".join(random.Random(1).choices(string.ascii_letters, k=150_000)))
    saved = _saves(monkeypatch, run, seconds=30)
    units_per_save = stored_size("alpha", run) / 1024
    assert units_per_save > 100
    assert len(saved) >= 10  # the stream still moves on
    assert len(saved) * units_per_save / 30 <= worker_progress.PROGRESS_WRITE_UNITS_PER_SECOND * 1.1
