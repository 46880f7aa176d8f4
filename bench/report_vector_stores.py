"""docs/performance.md's section on vector stores, and its rows of the summary, from results.json's
``vector_stores`` (``bench/vector_stores.py``, ``bench/retrieval.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.report_tables import Results, table
from bench.vector_stores import SEARCH_GOAL_MS

TYPES = {"txt": "plain text", "pdf": "PDF", "docx": "DOCX"}


def search_goal(results: Results) -> Any:
    return results["goals"].get("search_overhead_ms", SEARCH_GOAL_MS)


def _largest_stage(ingestion: Any) -> tuple[str, float]:
    stages = ingestion["all"]["s_per_mb_by_stage"]
    stage = max(stages, key=stages.get)
    return stage, stages[stage]


# -- the summary's rows -----------------------------------------------------------------------------------


def ingestion_summary(v: Any) -> str:
    all_ = v["ingestion"]["all"]
    stage, seconds = _largest_stage(v["ingestion"])
    return (
        f"{all_['s_per_mb']} s per MB of text, {all_['s_per_1000_chunks']} s per 1,000 chunks ({all_['text_mb']} MB "
        f"of plain text, PDF and DOCX, {all_['chunks']} chunks); the most in {stage}, {seconds} s per MB"
    )


def search_summary(results: Results) -> str:
    s, goal = results["vector_stores"]["search"], search_goal(results)
    o = s["overhead_ms"]
    verdict = "met" if o["p95"] <= goal else "**missed**"
    return (
        f"{verdict}: p50 {o['p50']} ms, p95 {o['p95']} ms, over {s['searches']} searches of a store of "
        f"{s['chunks']} chunks; a `GetItem` and a `BatchGetItem` on moto included"
    )


def retrieval_summary(v: Any) -> str:
    r = v["retrieval"]
    kinds = r["by kind"]
    return (
        f"recall@5 {r['recall_at_5']}, MRR@10 {r['mrr_at_10']} on {r['questions']} questions: "
        f"{kinds['shared']['recall_at_5']} of those that share words with their answer, "
        f"{kinds['paraphrase']['recall_at_5']} of the paraphrases (it is lexical)"
    )


def vector_store_rows(results: Results) -> list[list[str]]:
    """The summary's rows (figure, goal, measured) for the vector stores."""
    v = results.get("vector_stores")

    def measured(summary: Callable[[Any], str]) -> str:
        return summary(v) if v is not None else "not measured (skipped)"

    return [
        [
            "vector stores: ingestion, our own cost (an instant embedder; moto's side of the calls left out)",
            "—",
            measured(ingestion_summary),
        ],
        [
            "vector stores: search, our overhead over the embedding and the index query (warm, moto in process)",
            f"≤ {search_goal(results)} ms at p95",
            measured(lambda _v: search_summary(results)),
        ],
        ["vector stores: the local embedder's retrieval quality", "—", measured(retrieval_summary)],
    ]


def search_miss(results: Results) -> str | None:
    """A paragraph for the misses, while search's overhead misses its goal."""
    if "vector_stores" not in results:
        return None
    o, goal = results["vector_stores"]["search"]["overhead_ms"], search_goal(results)
    if o["p95"] <= goal:
        return None
    return f"**search**'s overhead (p95 {o['p95']} ms, goal ≤ {goal} ms): not yet looked into."


# -- the section -------------------------------------------------------------------------------------------


def _ingestion(ingestion: Any) -> str:
    all_, by_type = ingestion["all"], ingestion["by type"]
    kinds = [k for k in TYPES if k in by_type]
    header = ["", "all", *(TYPES[k] for k in kinds)]
    figures = [all_, *(by_type[k] for k in kinds)]
    rows = [
        ["MB of text", *(f["text_mb"] for f in figures)],
        ["chunks", *(f["chunks"] for f in figures)],
        ["**s per MB**", *(f"**{f['s_per_mb']}**" for f in figures)],
        ["**s per 1,000 chunks**", *(f"**{f['s_per_1000_chunks']}**" for f in figures)],
        *(
            [f"{stage}, s per MB", *(f["s_per_mb_by_stage"][stage] for f in figures)]
            for stage in all_["s_per_mb_by_stage"]
        ),
        ["moto's side of the calls (left out), s per MB", *(f["moto_s_per_mb"] for f in figures)],
    ]
    writes = all_["s_per_mb_by_stage"]["index writes"] * all_["text_mb"] / all_["chunks"] * 1000
    return "\n\n".join(
        [
            "**Ingestion, our own cost.** A plain text file, a PDF (a page of 3,000 characters) and a DOCX of "
            "English words in random sentences (`bench/vector_support.py`), ingested one at a time by the "
            "worker's code (`vector_stores/ingestion.py`) with "
            "an embedder that answers at once (the same unit vector of 1,024 dimensions for every chunk), so "
            "the provider's time is left out; so is moto's side of each AWS call (its time inside moto, a "
            "network wait in AWS). What is left is the function's own CPU, botocore's building of each request "
            "included; chunks of 800 tokens with 400 of overlap (`auto`). The tokenizer's encoding, loaded once "
            f"per container before the first file, is not counted: {ingestion['tokenizer_load_s']} s.",
            table(header, rows),
            f"Writing the vectors is {writes:.1f} ms a chunk of our CPU: botocore's serializer visits each of a "
            "vector's 1,024 floats in Python to build the `PutVectors` request's JSON. Parsing costs what the "
            "format does (a real PDF's layout and fonts cost more than these pages of one line each); chunking "
            "is tiktoken's encoding and decoding.",
        ]
    )


def _search(s: Any, goal: Any) -> str:
    o, total = s["overhead_ms"], s["total_ms"]
    verdict = "met" if o["p95"] <= goal else "**missed**"
    calls = " + ".join(f"{n:g} {op}" for op, n in s["dynamodb_calls_per_search"].items())
    rows = [
        ["**our overhead**", f"**{o['p50']}**", f"**{o['p95']}**", f"≤ {goal}: {verdict}"],
        ["the whole search (with the two below)", total["p50"], total["p95"], "—"],
        ["the query's embedding (local embedder)", s["embed_ms_p50"], "", "—"],
        [f"the index query (moto's exact search over {s['chunks']} vectors)", s["index_query_ms_p50"], "", "—"],
    ]
    return "\n\n".join(
        [
            f"**Search, our overhead.** {s['searches']} searches of three words, warm (after 20 more), of a store "
            f"of {s['files']} files and {s['chunks']} chunks, each timed through `vector_stores/search.py` end to "
            "end, less the time inside the embedder's `embed` and inside `s3vectors.query`. What is left is ours: "
            "the store's read, its files' read (to keep only completed files of the generation that wrote the "
            f"chunks), merging the 100 neighbours, scores, filters and sorting. DynamoDB per search: {calls}, "
            f"on moto in process ({s['moto_dynamodb_ms_p50']} ms of the p50); in AWS their round trips come on "
            "top, single-digit milliseconds each.",
            table(["figure", "p50 ms", "p95 ms", "goal"], rows),
        ]
    )


def _retrieval(r: Any) -> str:
    rows = [
        [kind, k["questions"], k["recall_at_5"], k["mrr_at_10"]]
        for kind, k in [("all", r), *((kind, r["by kind"][kind]) for kind in ("shared", "paraphrase"))]
    ]
    missed = "; ".join(f"*{q}*" for q in r["missed"]) or "none"
    return "\n\n".join(
        [
            "**Retrieval quality of the local embedder** (`bench/retrieval.py`). The "
            f"{r['documents']} short documents of `tests/fixtures/retrieval_corpus.json`, on distinct topics, "
            "each a file of one store ingested by the real code with the local embedder, and its "
            f"{r['questions']} questions searched by the real search: *shared* questions use some of their "
            "answer's words, *paraphrases* say it in other words. A question is answered at rank k when its "
            "document is the k-th distinct file of the results scored above 0 (a result scored 0 shares no "
            "word with it). recall@5: the share answered in the first five; MRR@10: the mean of 1/k, 0 past "
            "ten. `tests/unit/test_retrieval_quality.py` fails below a floor under this recall@5.",
            table(["questions", "how many", "recall@5", "MRR@10"], rows),
            f"Not in the first five: {missed}. The local embedder is lexical (see "
            "[vector-stores.md](vector-stores.md#embeddings)): a paraphrase is found only through a word it "
            "happens to share with its answer; an embedding model (`EmbeddingsProvider`) is what such "
            "questions need.",
        ]
    )


def vector_stores_section(results: Results) -> str:
    v = results["vector_stores"]
    return "\n\n".join(
        [
            f"`make bench-vector-stores` measures this section alone (last on {v['when']}), `make bench` with "
            "the rest: `bench/vector_stores.py`, in process on moto (S3, DynamoDB, and S3 Vectors with its local "
            "`QueryVectors`, `infra/local/moto_s3vectors.py`), through the real ingestion and search.",
            _ingestion(v["ingestion"]),
            _search(v["search"], search_goal(results)),
            _retrieval(v["retrieval"]),
        ]
    )


# -- the README's figures ----------------------------------------------------------------------------------

README_START = "<!-- vector stores' figures: rendered by make report from bench/results.json -->"
README_END = "<!-- end of the figures -->"


def readme_figures(results: Results) -> str:
    """The README's lines on the vector stores' figures (between its two markers), or a line that says none."""
    v = results.get("vector_stores")
    if v is None:
        return "- **Figures:** not measured by the last `make bench`."
    all_, o, r = v["ingestion"]["all"], v["search"]["overhead_ms"], v["retrieval"]
    return (
        f"- **Figures** (`make bench`, [docs/performance.md](docs/performance.md)): ingestion costs "
        f"{all_['s_per_mb']} s of the worker's time per MB of text beyond the embedding provider's; a search "
        f"adds {o['p50']} ms (p50) and {o['p95']} ms (p95) to the embedding and the index query; the local "
        f"default finds the answer in its top 5 for {round(r['recall_at_5'] * 100)}% of a test corpus's "
        f"questions ({round(r['by kind']['paraphrase']['recall_at_5'] * 100)}% of the paraphrases)."
    )
