"""docs/performance.md is what bench.report renders from bench/results.json: its figures are never typed by
hand, and a `make bench` that changed results.json without rendering the page fails here."""

from __future__ import annotations

import json
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parent.parent


def test_performance_doc_is_rendered_from_the_results() -> None:
    page = (ROOT / "docs" / "performance.md").read_text()
    assert page == report.render(), "docs/performance.md is stale: run `make report` (python -m bench.report)"


def test_the_readmes_figures_are_rendered_from_the_results() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme == report.readme(readme), "README.md's figures are stale: run `make report` (python -m bench.report)"


def test_a_skipped_measure_renders_as_not_measured() -> None:
    """`python -m bench --skip ...` writes results.json without the skipped figures: the page still renders."""
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    kept = {key: results[key] for key in ("machine", "goals")}
    page = report.render(kept)
    assert page.count(report.NOT_MEASURED) == 9
    assert "not measured (skipped)" in page
