"""The local embedder's retrieval quality: recall@5 and MRR@10 on a small corpus with known answers.

The corpus (tests/fixtures/retrieval_corpus.json) is 30 short documents on distinct topics and 40 questions,
each naming the one document that answers it: some use their answer's own words (``shared``), some say the same
in other words (``paraphrase``). Each document is a file of one store, ingested by the real ingestion with the
local embedder (``embeddings/lexical.py``), and each question is searched by the real search, on moto.

A question is answered at rank k when its document is the k-th distinct file of the search's results. A
result scored 0 shares no word with the question: it is among the store's nearest only because every chunk is
at the same distance, in the index's order, so it counts as not found. recall@5: the share of questions whose
document is in the first five; MRR@10: the mean of 1/k over the questions, 0 where it is not in the first ten.

tests/unit/test_retrieval_quality.py asserts a floor under recall@5, so that a change to the embedder or the
search that loses answers fails there.
"""

from __future__ import annotations

import json
from typing import Any

from bench.vector_support import CORPUS, PROJECT, add_file, new_store, work, world

CUTOFF = 10  # results read per question (MRR@10)


def _rank(hits: list[Any], documents: dict[str, str], answer: str) -> int | None:
    """The rank of ``answer`` among the distinct documents of ``hits`` scored above 0, or None."""
    ranked: list[str] = []
    for hit in hits:
        document = documents[hit.file_id]
        if hit.score > 0 and document not in ranked:
            ranked.append(document)
    return ranked.index(answer) + 1 if answer in ranked else None


def _scores(ranks: list[int | None]) -> dict[str, Any]:
    return {
        "questions": len(ranks),
        "recall_at_5": round(sum(1 for k in ranks if k is not None and k <= 5) / len(ranks), 3),
        "mrr_at_10": round(sum(1 / k for k in ranks if k is not None) / len(ranks), 3),
    }


def quality() -> dict[str, Any]:
    """recall@5 and MRR@10, overall and by kind of question, and the questions missed (not in the first five)."""
    from threads_api.embeddings.lexical import Lexical
    from threads_api.vector_stores import search
    from threads_api.wire import vector_store_bodies

    corpus = json.loads(CORPUS.read_text())
    embedder = Lexical()
    questions = corpus["questions"]
    with world() as queue:
        store_id = new_store()
        documents = {add_file(store_id, f"{d['id']}.txt", d["text"].encode()): d["id"] for d in corpus["documents"]}
        work(queue, embedder)
        ranks = []
        for question in questions:
            request = vector_store_bodies.search_request({"query": question["question"], "max_num_results": CUTOFF})
            ranks.append(_rank(search.search(PROJECT, store_id, request, embedder), documents, question["answer"]))
    answered = list(zip(ranks, questions, strict=True))
    kinds = sorted({q["kind"] for q in questions})
    return {
        "documents": len(documents),
        **_scores(ranks),
        "by kind": {kind: _scores([k for k, q in answered if q["kind"] == kind]) for kind in kinds},
        "missed": [q["question"] for k, q in answered if k is None or k > 5],
    }
