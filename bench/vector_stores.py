"""Vector stores: ingestion's own cost, search's overhead, and the local embedder's retrieval quality.

python -m bench.vector_stores [--searches N] [--megabytes N]   (make bench-vector-stores)

Measures this section alone and writes it into bench/results.json as ``vector_stores``, every other key as it
was (``make bench`` measures it with the rest). All of it in process, on moto (S3, DynamoDB, and S3 Vectors
with its local ``QueryVectors``, ``infra/local/moto_s3vectors.py``), through the real code:

- **Ingestion**: ``vector_stores.ingestion`` on a plain text file, a PDF and a DOCX of generated English text,
  with an embedder that answers at once (a fixed unit vector), so what is timed is ours: reading, parsing,
  chunking, building and writing the vectors, the parsed text and the table. Split by stage (the functions
  ingestion calls, timed where it calls them); the writes are moto's in process, a network call in AWS.
- **Search**: ``vector_stores.search.search`` end to end, warm, less the time inside the embedder's ``embed``
  and inside ``s3vectors.query``: what is left is our overhead (the store's read, the files' read, merging,
  filtering, scoring, the store's touch), DynamoDB on moto included.
- **Retrieval quality**: ``bench/retrieval.py``.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections import Counter
from typing import Any

from bench import section
from bench.vector_support import (
    PROJECT,
    STAGES,
    Instant,
    Queue,
    Stages,
    add_file,
    ingestion_stages,
    new_store,
    text,
    vocabulary,
    work,
    world,
)

SEARCH_GOAL_MS = 30  # our overhead per search, warm, at p95
WARMUP = 20  # searches before the measured ones
SEARCH_FILES, SEARCH_FILE_CHARS = 12, 60_000  # about 300 chunks of 800 tokens
COUNTER = "bench-vector-stores"  # the DynamoDB call counter's id on the store's client


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[max(0, math.ceil(q * len(values)) - 1)]


def _documents(megabytes: float) -> dict[str, bytes]:
    """Half the text as plain text, a quarter as a PDF (a page of 3,000 characters), a quarter as a DOCX."""
    from infra.ops.sample_documents import docx_file, pdf

    size = int(megabytes * 1_000_000)
    pages = text(size // 4, 2)
    return {
        "notes.txt": text(size // 2, 1).encode(),
        "report.pdf": pdf(*(pages[i : i + 3000] for i in range(0, len(pages), 3000))),
        "memo.docx": docx_file(text(size // 4, 3).split("\n\n")),
    }


def _figures(seconds: float, timed: Stages, text_bytes: int, chunks: int) -> dict[str, Any]:
    """Our own seconds (moto's taken out) per MB of text and per 1,000 chunks, and per MB by stage."""
    mb, served = text_bytes / 1_000_000, sum(timed.served.values())
    ours = seconds - served
    spent = {stage: timed.seconds.get(stage, 0.0) - timed.served.get(stage, 0.0) for stage in STAGES}
    spent["other"] = ours - sum(spent.values())  # between the calls: the vectors and their metadata, the loop
    return {
        "text_mb": round(mb, 2),
        "chunks": chunks,
        "seconds": round(ours, 2),
        "s_per_mb": round(ours / mb, 2),
        "s_per_1000_chunks": round(ours / chunks * 1000, 2),
        "s_per_mb_by_stage": {stage: round(s / mb, 3) for stage, s in spent.items()},
        "moto_s_per_mb": round(served / mb, 2),
    }


def _tokenizer_load() -> float:
    """The tokenizer's encoding loaded, as a container's first file loads it: seconds."""
    from threads_api.ingest import tokens

    tokens.encoding.cache_clear()
    start = time.perf_counter()
    tokens.encoding()
    return time.perf_counter() - start


def ingestion_cost(megabytes: float) -> dict[str, Any]:
    """Each file ingested alone, timed by stage; then the files together. The tokenizer's encoding, loaded once
    per container by the first file, is timed apart: it is not per MB."""
    from threads_api.store import store_files

    tokenizer_load, embedder = _tokenizer_load(), Instant()
    files: dict[str, Any] = {}
    everything, total, text_bytes, chunks = Stages(), 0.0, 0, 0
    with world() as queue:
        store_id = new_store()
        for filename, data in _documents(megabytes).items():
            file_id = add_file(store_id, filename, data)
            timed = Stages()
            with timed.timing(ingestion_stages(embedder)):
                start = time.perf_counter()
                work(queue, embedder)
                seconds = time.perf_counter() - start
            item = store_files.find_item(PROJECT, store_id, file_id)
            if item is None or item["status"]["S"] != "completed":
                raise RuntimeError(f"{filename} was not ingested: {item}")
            parsed, pieces = len(timed.returned["parse"][0].encode()), len(timed.returned["chunk"][0])
            files[filename.rpartition(".")[2]] = _figures(seconds, timed, parsed, pieces)
            total, text_bytes, chunks = total + seconds, text_bytes + parsed, chunks + pieces
            for stage in timed.seconds.keys() | timed.served.keys():
                everything.seconds[stage] += timed.seconds[stage]
                everything.served[stage] += timed.served[stage]
    return {
        "all": _figures(total, everything, text_bytes, chunks),
        "by type": files,
        "tokenizer_load_s": round(tokenizer_load, 2),
    }


def _searched_store(queue: Queue) -> tuple[str, int]:
    """A store of ``SEARCH_FILES`` files of generated text, ingested with the local embedder (inside
    ``world()``, whose ``queue`` it is): its id, and its chunks."""
    from threads_api.embeddings.lexical import Lexical

    store_id, counted, embedder = new_store(), Stages(), Lexical()
    for n in range(SEARCH_FILES):
        add_file(store_id, f"doc{n}.txt", text(SEARCH_FILE_CHARS, 100 + n).encode())
    with counted.timing(ingestion_stages(embedder)):
        work(queue, embedder)
    return store_id, sum(len(pieces) for pieces in counted.returned["chunk"])


def _ms(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 2), "p95": round(percentile(values, 0.95), 2)}


def search_overhead(searches: int) -> dict[str, Any]:
    """``searches`` searches (after ``WARMUP``) of a store of about 300 chunks, with the local embedder."""
    from threads_api import store
    from threads_api.embeddings.lexical import Lexical
    from threads_api.index import s3vectors
    from threads_api.vector_stores import search
    from threads_api.wire import vector_store_bodies

    embedder, rng, words = Lexical(), random.Random(5), vocabulary()
    asked = [" ".join(rng.sample(words, 3)) for _ in range(WARMUP + searches)]
    requests = [vector_store_bodies.search_request({"query": q}) for q in asked]
    figures: dict[str, list[float]] = {"total": [], "overhead": [], "dynamodb": [], "embed": [], "query": []}
    calls: Counter[str] = Counter()
    with world() as queue:
        store_id, chunks = _searched_store(queue)
        timed = Stages()
        store.client.meta.events.register(
            "before-call.dynamodb", lambda model, **_: calls.update([model.name]), unique_id=COUNTER
        )
        with timed.timing([("embed", embedder, "embed"), ("query", s3vectors, "query")]):
            for n, request in enumerate(requests):
                if n == WARMUP:
                    calls.clear()
                timed.clear()
                start = time.perf_counter()
                search.search(PROJECT, store_id, request, embedder)
                total = time.perf_counter() - start
                if n >= WARMUP:
                    figures["total"].append(total * 1000)
                    figures["overhead"].append((total - timed.seconds["embed"] - timed.seconds["query"]) * 1000)
                    figures["dynamodb"].append(timed.served["other"] * 1000)  # moto's side of the table's calls
                    figures["embed"].append(timed.seconds["embed"] * 1000)
                    figures["query"].append(timed.seconds["query"] * 1000)
        store.client.meta.events.unregister("before-call.dynamodb", unique_id=COUNTER)
    return {
        "files": SEARCH_FILES,
        "chunks": chunks,
        "searches": searches,
        "overhead_ms": _ms(figures["overhead"]),
        "total_ms": _ms(figures["total"]),
        "moto_dynamodb_ms_p50": round(statistics.median(figures["dynamodb"]), 2),
        "embed_ms_p50": round(statistics.median(figures["embed"]), 2),
        "index_query_ms_p50": round(statistics.median(figures["query"]), 2),
        "dynamodb_calls_per_search": {op: round(n / searches, 2) for op, n in calls.items()},
    }


def measure(searches: int = 200, megabytes: float = 4.0) -> dict[str, Any]:
    from bench import retrieval

    return {
        "when": time.strftime("%F %T"),
        "ingestion": ingestion_cost(megabytes),
        "search": search_overhead(searches),
        "retrieval": retrieval.quality(),
    }


def rows(v: dict[str, Any]) -> list[list[Any]]:
    """The figures as (figure, value) rows, for the terminal."""
    ingest, s, r = v["ingestion"]["all"], v["search"], v["retrieval"]
    overhead = s["overhead_ms"]
    return [
        ["ingestion, ours: s per MB of text (instant embedder)", f"{ingest['s_per_mb']} ({ingest['text_mb']} MB)"],
        ["ingestion, ours: s per 1,000 chunks", f"{ingest['s_per_1000_chunks']} ({ingest['chunks']} chunks)"],
        *([f"  {stage}, s per MB", value] for stage, value in ingest["s_per_mb_by_stage"].items()),
        ["  (moto's side of the calls, left out), s per MB", ingest["moto_s_per_mb"]],
        ["search overhead, p50 / p95 ms", f"{overhead['p50']} / {overhead['p95']} (goal <= {SEARCH_GOAL_MS})"],
        ["search, embed / index query p50 ms", f"{s['embed_ms_p50']} / {s['index_query_ms_p50']}"],
        ["retrieval, recall@5 / MRR@10", f"{r['recall_at_5']} / {r['mrr_at_10']} ({r['questions']} questions)"],
    ]


def main() -> None:
    from bench import env

    parser = argparse.ArgumentParser(prog="python -m bench.vector_stores")
    parser.add_argument("--searches", type=int, default=200, help="searches measured (after 20 to warm up)")
    parser.add_argument("--megabytes", type=float, default=4.0, help="MB of text to ingest (txt, PDF, DOCX)")
    args = parser.parse_args()
    env.lambda_like()
    figures = measure(args.searches, args.megabytes)
    section.save("vector_stores", figures, rows(figures), goals={"search_overhead_ms": SEARCH_GOAL_MS})


if __name__ == "__main__":
    main()
