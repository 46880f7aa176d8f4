"""A run's file_search: what the worker adds to a run that searches its assistant's vector store once.

python -m bench.run_search [--runs N]   (make bench-runs runs it after bench.runs)

Measures this figure alone and writes it into bench/results.json as ``runs.file_search``, every other key as it
was (``make bench`` measures it with the other runs' figures). In process, on moto (DynamoDB, S3 Vectors' local
``QueryVectors``), through the real code: the API's handlers create the assistant (the file_search tool, a store
of 12 files of generated English, about 300 chunks, ingested with the local embedder) and each run, whose
message asks the scripted model (``infra/ops/chat_server.py``, answering at once) for ``[[search:…]]``; the
worker runs in process: the model calls, the search, the second model call, the reply.

- **Overhead**: the worker's wall time less the time inside the model's calls (the real OpenAI-compatible
  provider), the embedder's ``embed`` and ``s3vectors.query``: what is left is ours (the claim, the history, the
  stores' reads, merging, the records' and the round's writes, the reply), DynamoDB on moto included. The same
  figure for a run without search (one model call) shows the search's own share.
  Of it, moto's side of the table's calls (in AWS, their network round trips) is measured apart, and the
  overhead without it given too.
- **Calls**: the worker's DynamoDB calls for one searched run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

from bench import section
from bench.vector_support import PROJECT, Stages, vocabulary, world

GOAL_MS = 50  # our overhead for a run with one search, warm, at p95
WARMUP = 5  # runs of each kind before the measured ones


def _ms(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(values), 1),
        "p95": round(ordered[max(0, -(-len(ordered) * 95 // 100) - 1)], 1),
        "runs": len(values),
    }


def measure(runs: int = 30) -> dict[str, Any]:
    """``runs`` runs with one search (after ``WARMUP``), and as many without, each the worker's overhead."""
    import os

    from bench import runs as run_bench
    from bench.vector_stores import _searched_store
    from infra.local.serve import LocalApi
    from infra.ops.chat_server import ChatServer
    from threads_api import auth
    from threads_api.embeddings.lexical import Lexical
    from threads_api.runs import searching

    embedder = Lexical()
    with ChatServer() as chat, world() as queue, mock.patch.object(searching, "embedder", lambda: embedder):
        os.environ["MODEL_BASE_URL"] = chat.url
        store_id, chunks = _searched_store(queue)
        call, work, _answered, trips = run_bench._wired(lambda: run_bench._api(LocalApi(), auth.create_key(PROJECT)))
        searcher = call(
            "POST",
            "/assistants",
            {
                "model": "bench",
                "tools": [{"type": "file_search"}],
                "tool_resources": {"file_search": {"vector_store_ids": [store_id]}},
            },
        )
        runner = _Runner(call, work, embedder)
        figures = runner.measure(searcher["id"], call("POST", "/assistants", {"model": "bench"})["id"], runs)
        calls = _worker_calls(call, trips, work, f"{searcher['id']} {runner.asked()}")
    return {"files": 12, "chunks": chunks, **figures, "worker": calls}


class _Runner:
    """Runs made through the API and worked by the worker in process, timed by stage."""

    def __init__(self, call: Callable[..., Any], work: Callable[[], None], embedder: Any) -> None:
        self.call, self.work, self.embedder = call, work, embedder
        self.timed = Stages()
        self.rng, self.words = random.Random(7), vocabulary()

    def asked(self) -> str:
        return f"[[search:{' '.join(self.rng.sample(self.words, 3))}]] What do the files say?"

    def one(self, assistant_id: str, content: str) -> float:
        """The worker's seconds for one run of ``assistant_id`` (``self.timed`` holds its stages')."""
        thread = self.call("POST", "/threads", {"messages": [{"role": "user", "content": content}]})
        run = self.call("POST", f"/threads/{thread['id']}/runs", {"assistant_id": assistant_id})
        self.timed.clear()
        start = time.perf_counter()
        self.work()
        seconds = time.perf_counter() - start
        seen = self.call("GET", f"/threads/{thread['id']}/runs/{run['id']}")
        if seen["status"] != "completed":
            raise RuntimeError(f"the bench's run ended {seen['status']}: {seen.get('last_error')}")
        return seconds

    def measure(self, searcher: str, plain: str, runs: int) -> dict[str, Any]:
        from handlers import run_worker
        from threads_api.index import s3vectors

        spent = self.timed.seconds
        figures: dict[str, list[float]] = {k: [] for k in ("searched", "ours", "plain", "embed", "query", "dynamodb")}
        where = [("model", run_worker.PROVIDER, "complete"), ("embed", self.embedder, "embed")]
        with self.timed.timing([*where, ("query", s3vectors, "query")]):
            for n in range(WARMUP + runs):
                seconds = self.one(searcher, self.asked())
                ours = seconds - spent["model"] - spent["embed"] - spent["query"]
                searched = {
                    "searched": ours,
                    "ours": ours - self.timed.served["other"],  # moto's side of the table's calls left out
                    "embed": spent["embed"],
                    "query": spent["query"],
                    "dynamodb": self.timed.served["other"],
                }
                seconds = self.one(plain, "hi")
                if n >= WARMUP:
                    for key, value in {**searched, "plain": seconds - spent["model"]}.items():
                        figures[key].append(value * 1000)
        return {
            "overhead_ms": _ms(figures["searched"]),
            "without_moto_ms": _ms(figures["ours"]),
            "plain_overhead_ms": _ms(figures["plain"]),
            "embed_ms_p50": round(statistics.median(figures["embed"]), 2),
            "index_query_ms_p50": round(statistics.median(figures["query"]), 2),
            "moto_dynamodb_ms_p50": round(statistics.median(figures["dynamodb"]), 2),
        }


def _worker_calls(call: Callable[..., Any], trips: Callable[[Any], dict[str, int]], work: Any, asked: str) -> Any:
    """The worker's DynamoDB calls for one searched run (``asked`` of the assistant whose id is its first word)."""
    assistant, _, content = asked.partition(" ")
    thread = call("POST", "/threads", {"messages": [{"role": "user", "content": content}]})
    call("POST", f"/threads/{thread['id']}/runs", {"assistant_id": assistant})
    return trips(work)


def rows(f: dict[str, Any]) -> list[list[Any]]:
    """The figures as (figure, value) rows, for the terminal."""
    o, w, p = f["overhead_ms"], f["without_moto_ms"], f["plain_overhead_ms"]
    return [
        ["run with one search, our overhead p50 / p95 ms", f"{o['median']} / {o['p95']} (goal <= {GOAL_MS})"],
        ["  without moto's DynamoDB, p50 / p95 ms", f"{w['median']} / {w['p95']}"],
        ["run without search, our overhead p50 / p95 ms", f"{p['median']} / {p['p95']}"],
        ["embed / index query p50 ms", f"{f['embed_ms_p50']} / {f['index_query_ms_p50']}"],
        ["worker's DynamoDB calls (one searched run)", " + ".join(f"{n} {c}" for c, n in f["worker"].items())],
    ]


def main() -> None:
    from bench import env

    parser = argparse.ArgumentParser(prog="python -m bench.run_search")
    parser.add_argument("--runs", type=int, default=30, help="runs of each kind measured (after 5 to warm up)")
    args = parser.parse_args()
    env.lambda_like()
    figures = measure(args.runs)
    section.save("runs.file_search", figures, rows(figures), goals={"search_run_overhead_ms": GOAL_MS})


if __name__ == "__main__":
    main()
