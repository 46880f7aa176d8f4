"""The clock: the one place the domain, the run use cases and the store read the time from. Callers read it
through this module (``clock.now()``), so a test sets the time for all of them with one
``monkeypatch.setattr(clock, "now_ms", ...)``."""

from __future__ import annotations

import time


def now_ms() -> int:
    """The wall clock in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def now() -> int:
    """The wall clock in epoch seconds, as OpenAI's objects carry it (``created_at``, ``expires_at``)."""
    return now_ms() // 1000
