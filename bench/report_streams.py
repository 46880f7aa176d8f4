"""docs/performance.md's section on streams, from results.json's ``streams`` (``bench/streams.py``)."""

from __future__ import annotations

from typing import Any

from bench.report_tables import table

# The goals the streaming work set: a delta within 50 ms of the model's chunk in process, 100 ms deployed,
# and the first event within 150 ms of the request.
DELTA_GOALS_MS = {"in-process": 50, "deployed": 100}
FIRST_EVENT_GOAL_MS = 150


def streams_section(s: Any) -> str:
    rows = []
    for mode in ("in-process", "deployed"):
        delta, first = s[mode]["delta_delay_ms"], s[mode]["first_event_ms"]
        rows.append(
            [
                f"`make serve`{' DEPLOYED=1' if mode == 'deployed' else ''}",
                delta["p50"],
                f"{delta['p95']} (goal ≤ {DELTA_GOALS_MS[mode]})",
                delta["n"],
                first["p50"],
                f"{first['p95']} (goal ≤ {FIRST_EVENT_GOAL_MS})",
            ]
        )
    long = s["deployed"]["long_answer"]
    writes = s["writes_per_streamed_run"]
    write_calls = sum(writes["writes"].values())
    return "\n\n".join(
        [
            "The model writes a token every 20 ms; the figures are over HTTP, through `make serve` and its "
            "deployed mode (the streaming functions' own runtime, their answer read as API Gateway reads it).",
            table(
                [
                    "mode",
                    "delta delay p50 ms",
                    "delta delay p95 ms",
                    "deltas",
                    "first event p50 ms",
                    "first event p95 ms",
                ],
                rows,
            ),
            f"A {long['seconds']} s answer, deployed mode: {long['events']} events, "
            f"{'whole' if long['whole'] else 'NOT whole'}, "
            f"{'in OpenAI' + chr(39) + 's order' if long['in_order'] else 'NOT in OpenAI' + chr(39) + 's order'}.",
            f"DynamoDB per streamed run of {writes['tokens']} tokens ({writes['seconds']} s of answer): "
            f"{write_calls} writes ({', '.join(f'{n} {op}' for op, n in sorted(writes['writes'].items()))}), "
            f"{sum(writes['calls'].values())} calls in all. Each write is the run's item (its text so far, at most "
            "every 0.25 s, and less often for a large run: at most 100 write units a second), so a streamed run "
            "costs about four writes a second of answer on top of an unstreamed one.",
        ]
    )
