"""One section of bench/results.json measured alone (``make bench-runs``, ``bench-vector-stores``,
``bench-transfer``): written in, every other figure kept as it was, and printed as (figure, value) rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"


def save(where: str, figures: Any, rows: list[list[Any]], *, goals: dict[str, float] | None = None) -> None:
    """Put ``figures`` at ``where`` (``runs.file_search``: a key of a key) and ``goals`` among the goals."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    *parents, last = where.split(".")
    into = results
    for key in parents:
        into = into.setdefault(key, {})
    into[last] = figures
    results.setdefault("goals", {}).update(goals or {})
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    width = max((len(str(figure)) for figure, _ in rows), default=0) + 1
    for figure, value in rows:
        print(f"{figure:<{width}} {value}")
    print(f"written to {RESULTS.relative_to(ROOT)} ({where}; the other figures as they were)")
