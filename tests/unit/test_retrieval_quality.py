"""The local embedder's retrieval quality on the corpus of tests/fixtures/retrieval_corpus.json (30 documents, 40
questions with known answers), through the real ingestion and search on moto, as ``make bench`` measures it
(bench/retrieval.py; docs/performance.md has the figures): a change to the embedder, the chunking or the search
that loses answers fails here. No timing."""

from __future__ import annotations

from bench import retrieval

# A little under what bench/retrieval.py measures (recall@5 0.85: every question that shares words with its
# answer, 9 of the 15 paraphrases), so that a lost answer or two fails, not a measure's rounding.
RECALL_AT_5_FLOOR = 0.8
SHARED_RECALL_AT_5_FLOOR = 0.95


def test_the_local_embedder_finds_the_answers_of_the_corpus() -> None:
    quality = retrieval.quality()
    assert quality["documents"] == 30
    assert quality["questions"] == 40
    assert quality["recall_at_5"] >= RECALL_AT_5_FLOOR, quality["missed"]
    assert quality["by kind"]["shared"]["recall_at_5"] >= SHARED_RECALL_AT_5_FLOOR, quality["missed"]
