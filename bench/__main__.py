"""``make bench``: every figure of the performance issue, printed as a table and written to bench/results.json.

python -m bench [--runs N] [--iterations N] [--skip size,throughput]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import env
from bench.run_search import GOAL_MS as SEARCH_RUN_GOAL_MS
from bench.vector_stores import SEARCH_GOAL_MS

GOALS = {
    "cold_ratio": 1.3,
    "warm_ratio": 1.15,
    "thread_round_trips": 1,
    "list_round_trips": 2,
    "run_overhead_ms": 100,
    "search_overhead_ms": SEARCH_GOAL_MS,
    "search_run_overhead_ms": SEARCH_RUN_GOAL_MS,
}
RESULTS = Path(__file__).resolve().parent / "results.json"


def _table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=False)]

    def line(cells: list[Any]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False))

    return "\n".join([f"\n{title}", line(header), line(["-" * w for w in widths]), *map(line, rows)])


@contextmanager
def _phase(name: str, detail: str = "") -> Iterator[None]:
    """A line on stderr as a phase starts, and one with its elapsed time as it ends: the figures take minutes."""
    print(f"bench: {name}{f' ({detail})' if detail else ''} …", file=sys.stderr, flush=True)
    start = time.monotonic()
    try:
        yield
    finally:
        print(f"bench: {name} done in {time.monotonic() - start:.1f}s", file=sys.stderr, flush=True)


# -- the steps: each measures, keeps its figures in ``results`` and returns its tables ------------------------


def _cold(args: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    from bench import cold

    with _phase("cold start", f"{args.runs} fresh interpreters per handler"):
        results["cold_start"] = c = cold.measure(args.runs)
    return [
        _table(
            f"Cold start (median of {args.runs}; ratio of CPU time to `import boto3; boto3.client('dynamodb')`, "
            f"goal <= {GOALS['cold_ratio']})",
            ["handler", "cpu ms", "wall ms", "ratio", "wall ratio", "goal"],
            [
                [
                    k,
                    v["cpu_ms"],
                    v["wall_ms"],
                    v["ratio"],
                    v["wall_ratio"],
                    "" if k == "boto3 floor" else ("met" if v["ratio"] <= GOALS["cold_ratio"] else "MISSED"),
                ]
                for k, v in c.items()
            ],
        )
    ]


def _authorizer(args: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    from bench import authorizer

    with _phase("authorizer", "cold start, key read, warm call"):
        results["authorizer"] = figures = authorizer.measure(args.runs, args.iterations)
    return [_table("What the authorizer adds to a request", ["figure", "value"], [[k, v] for k, v in figures.items()])]


def _warm(args: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    from bench import warm

    with _phase("warm overhead", f"{args.iterations} requests per operation"):
        results["warm"] = w = warm.measure(args.iterations)
    results["memory"] = {"max_rss_mib_after_warm": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    return [
        _table(
            f"Warm overhead (median of {args.iterations}; DynamoDB answered at the HTTP layer; goal <= "
            f"{GOALS['warm_ratio']})",
            ["operation", "handler us", "botocore us", "overhead us", "ratio", "goal", "DynamoDB calls"],
            [
                [
                    k,
                    v["handler_us"],
                    v["botocore_us"],
                    v["overhead_us"],
                    v["ratio"],
                    "met" if v["ratio"] <= GOALS["warm_ratio"] else "MISSED",
                    " + ".join(v["dynamodb_calls"]),
                ]
                for k, v in w.items()
            ],
        )
    ]


def _resolver(args: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    from bench import resolver

    with _phase("endpoint vs. APIGatewayRestResolver", "retrieve thread, cold and warm"):
        results["resolver"] = r = resolver.measure(args.runs, args.iterations)
    header, rows = resolver.rows(r)
    return [
        _table(
            "The gateway's design choice: gateway.endpoint vs. Powertools' APIGatewayRestResolver, retrieve "
            f"thread (cold: median of {args.runs}, CPU ratio to boto3's floor; warm: median of "
            f"{args.iterations}, ratio to the bare GetItem)",
            header,
            rows,
        )
    ]


def _trips(args: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    from bench import trips

    with _phase("DynamoDB round trips", "per operation"):
        results["round_trips"] = t = trips.measure()
    return [
        _table(
            "DynamoDB round trips per operation (goal: 1 per thread operation, <= 2 per list, 0 for auth when warm)",
            ["operation", "round trips", "calls"],
            [
                [k, v if isinstance(v, int) else v["round_trips"], "" if isinstance(v, int) else " + ".join(v["calls"])]
                for k, v in t.items()
            ],
        )
    ]


def _runs(args: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    """The runs' figures (``bench/runs.py``) and their tables."""
    from bench import run_search, runs

    with _phase("runs", "overhead after the model's last byte, round trips, the worker's cold start, a search"):
        results["runs"] = rr = runs.measure(max(10, args.runs)) | {"worker cold start": runs.cold(args.runs)}
        rr["file_search"] = run_search.measure(max(30, args.runs))
    overhead, worker_cold = rr["overhead_ms"], rr["worker cold start"]
    return [
        _table(
            "Runs: our overhead from the model's last byte to the run read back completed (moto, in process; "
            f"goal <= {GOALS['run_overhead_ms']} ms), and the worker's cold start",
            ["figure", "value"],
            [
                ["overhead, median ms", overhead["median"]],
                ["overhead, p95 ms", overhead["p95"]],
                [
                    "worker cold start, CPU ms (ratio to boto3's floor)",
                    f"{worker_cold['worker_cpu_ms']} ({worker_cold['ratio']})",
                ],
            ],
        ),
        _table(
            "DynamoDB calls per run",
            ["run", "function", "calls"],
            [
                [run, function, " + ".join(f"{n} {call}" for call, n in calls.items())]
                for run in ("simple run", "tool round trip")
                for function, calls in rr[run].items()
            ],
        ),
        _table(
            "A run with one file_search: the worker's overhead over the model, the embedding and the index query "
            f"(moto, in process; goal <= {GOALS['search_run_overhead_ms']} ms at p95)",
            ["figure", "value"],
            run_search.rows(rr["file_search"]),
        ),
    ]


def _streams(args: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    """How soon a streamed reply's pieces reach the client, in both local modes (``bench/streams.py``)."""
    from bench import streams

    with _phase("streams", "delta delay, first event, a 90 s answer, writes per streamed run"):
        results["streams"] = s = streams.measure()
    rows = [
        [mode, s[mode]["delta_delay_ms"]["p95"], s[mode]["first_event_ms"]["p95"]]
        for mode in ("in-process", "deployed")
    ]
    return [_table("Streams (a token every 20 ms)", ["mode", "delta delay p95 ms", "first event p95 ms"], rows)]


def _vector_stores(args: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    """The vector stores' figures (``bench/vector_stores.py``; ``make bench-vector-stores`` measures them alone)."""
    from bench import vector_stores

    with _phase("vector stores", "ingestion's own cost, search's overhead, the local embedder's recall"):
        results["vector_stores"] = v = vector_stores.measure()
    title = f"Vector stores (moto, in process; search overhead goal <= {GOALS['search_overhead_ms']} ms at p95)"
    return [_table(title, ["figure", "value"], vector_stores.rows(v))]


def _transfer(args: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    """Import and export's figures (``bench/transfer.py``; ``make bench-transfer`` measures them alone)."""
    from bench import transfer

    with _phase("import and export", "a synthetic OpenAI export on the embedded DynamoDB; memory at two sizes"):
        results["transfer"] = t = transfer.measure()
    return [_table(transfer.title(t), ["figure", "value"], transfer.rows(t))]


def _throughput(args: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    from bench import throughput

    with _phase("local API throughput", "8 concurrent clients"):
        results["local_api"] = tp = throughput.measure()
    return [
        _table(
            "Local API (make serve), 8 concurrent clients, mixed operations (embedded DynamoDB: for trend only)",
            list(tp),
            [list(tp.values())],
        )
    ]


def _size(args: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    from bench import size

    with _phase("package size", "sam build of a clean copy"):
        results["package_size"] = s = size.measure()
    return [
        _table(
            "Package size (sam build)",
            ["artifact", "KiB"],
            [[k, v["kib"]] for k, v in s.items()] if "error" not in s else [["error", s["error"]]],
        )
    ]


# In the order they run, each named as --skip names it.
STEPS: list[tuple[str, Callable[[argparse.Namespace, dict[str, Any]], list[str]]]] = [
    ("cold", _cold),
    ("authorizer", _authorizer),
    ("warm", _warm),
    ("resolver", _resolver),
    ("trips", _trips),
    ("runs", _runs),
    ("streams", _streams),
    ("vector_stores", _vector_stores),
    ("transfer", _transfer),
    ("throughput", _throughput),
    ("size", _size),
]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per handler (cold start)")
    parser.add_argument("--iterations", type=int, default=500, help="requests per operation (warm)")
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated: " + ", ".join(name for name, _ in STEPS),
    )
    return parser.parse_args()


def main() -> None:
    started = time.monotonic()
    args = _arguments()
    skip = set(filter(None, args.skip.split(",")))
    env.lambda_like()
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "arch": platform.machine(), "when": time.strftime("%F %T")},
        "goals": GOALS,
    }
    out = []
    for name, step in STEPS:
        if name not in skip:
            out += step(args, results)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(out))
    print(f"\nwritten to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    print(f"bench: all done in {time.monotonic() - started:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
