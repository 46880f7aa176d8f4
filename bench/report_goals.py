"""docs/performance.md's goals (bench/report.py renders the page): the summary, a row per figure with its goal
and what was measured, and the paragraphs that say where a goal is missed, and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.report_tables import Results, as_words, call_count, cold_functions, join, table, times, trip_rows
from bench.report_vector_stores import search_miss, vector_store_rows

# The functions that take a body, and so load pydantic to validate it (the others never import it).
BODY_HANDLERS = frozenset(
    {
        "create_assistant",
        "create_message",
        "create_run",
        "create_thread",
        "create_thread_and_run",
        "modify_assistant",
        "modify_message",
        "modify_run",
        "modify_thread",
        "submit_tool_outputs",
    }
)

# Why a figure misses its goal, for the misses we have looked into: shown only while it misses.
COLD_MISSES = {
    "submit_tool_outputs": "it loads the run bodies' validation models and the stream's modules, at import "
    "because every request needs them",
}
WARM_MISSES = {
    "append message": "its body's validation (pydantic) and its transaction's JSON",
}


# -- the summary's rows: (figure, goal, measured) ---------------------------------------------------------


def _cold_summary(results: Results, goal: float) -> str:
    functions = cold_functions(results)
    met = sorted((v["ratio"], k) for k, v in functions.items() if v["ratio"] <= goal)
    missed = sorted((v["ratio"], k) for k, v in functions.items() if v["ratio"] > goal)
    text = f"met by {len(met)} of {len(functions)} functions"
    if met:
        text += f": {times(met[0][0])} ({as_words(met[0][1])}) to {times(met[-1][0])} ({as_words(met[-1][1])})"
    bodies = sorted(v["ratio"] for k, v in functions.items() if k in BODY_HANDLERS)
    if bodies:
        span = f"{times(bodies[0])}–{times(bodies[-1])}"
        text += f"; the functions that load pydantic (a body to validate) are the {span} ones"
    if missed:
        text += "; missed: " + ", ".join(f"{as_words(k)} {times(r)}" for r, k in missed)
    return text


def _warm_summary(results: Results, goal: float) -> str:
    warm: dict[str, Any] = results["warm"]
    met = [(k, v) for k, v in warm.items() if v["ratio"] <= goal]
    missed = [(k, v) for k, v in warm.items() if v["ratio"] > goal]
    text = f"met by {len(met)} of {len(warm)} operations"
    if met:
        ratios = sorted(v["ratio"] for _k, v in met)
        overheads = sorted(v["overhead_us"] for _k, v in met)
        text += f" ({times(ratios[0])}–{times(ratios[-1])}, {overheads[0]}–{overheads[-1]} µs a request)"
    if missed:
        text += "; missed: " + ", ".join(f"{k} {times(v['ratio'])} ({v['overhead_us']} µs)" for k, v in missed)
    return text


def _trips_summary(results: Results) -> str:
    rows = trip_rows(results)
    missed = [(op, trips, goal) for op, trips, _calls, goal in rows if goal is not None and trips > goal]
    by_count: dict[int, list[str]] = {}
    for operation, trips, _calls, _goal in rows:
        by_count.setdefault(trips, []).append(operation)
    text = "met" if not missed else "missed: " + ", ".join(f"{op} {t} (goal {g})" for op, t, g in missed)
    groups = (f"{n} for " + join(f"*{op}*" for op in ops) for n, ops in sorted(by_count.items()))
    return text + ": " + "; ".join(groups)


def _authorizer_summary(a: Any) -> str:
    return (
        f"cold: its import, {a['cold_import_cpu_ms']} ms CPU, {times(a['cold_ratio_to_boto3_floor'])} boto3's floor "
        f"(it loads the store's botocore client only); its key read on a cache miss, {a['cache_miss_us']} µs "
        f"with DynamoDB answered at the HTTP layer; warm, cached: {a['warm_cached_us']} µs in the function, "
        f"{a['local_edge_warm_us']} µs for the local gateway's whole edge (event, policy check, usage plan "
        "bucket). In AWS add API Gateway's invocation of the authorizer per request (not cached: see "
        "[keys.md](keys.md#why-api-gateway-does-not-cache-the-authorizers-answers))"
    )


def _local_api_summary(t: Any) -> str:
    return (
        f"{t['requests_per_second']} requests/s, p50 {t['p50_ms']} ms, p99 {t['p99_ms']} ms, {t['errors']} errors "
        f"in {t['requests']} requests (moto answers one request at a time; the per-project throttle is lifted "
        "for this measure)"
    )


def _runs_overhead_summary(r: Any) -> str:
    o = r["overhead_ms"]
    return (
        f"median {o['median']} ms, p95 {o['p95']} ms, of {o['runs']} runs; after the model answers, one "
        "transaction (the reply, the run completed, the thread released) and the retrieve's one read"
    )


def _runs_calls_summary(r: Any) -> str:
    return "; ".join(
        f"{run}: " + ", ".join(f"{function} {call_count(calls)}" for function, calls in r[run].items())
        for run in ("simple run", "tool round trip")
        if run in r
    )


def _search_run_summary(r: Any, goal: Any) -> str:
    if "file_search" not in r:
        return "not measured (skipped)"
    f = r["file_search"]
    o, w, p = f["overhead_ms"], f["without_moto_ms"], f["plain_overhead_ms"]
    return (
        f"{'met' if goal is not None and o['p95'] <= goal else 'missed'}: p95 {o['p95']} ms (median "
        f"{o['median']} ms) of {o['runs']} runs, {w['p95']} ms without moto's side of the "
        f"table's calls; a run without search: p95 {p['p95']} ms. Beyond a plain run: the stores' reads, the "
        "calls' records, the round's save and a second model call (a store of "
        f"{f['chunks']} chunks)"
    )


def _worker_cold_summary(r: Any) -> str:
    w = r["worker cold start"]
    return (
        f"{times(w['ratio'])} ({w['worker_cpu_ms']} ms against the floor's {w['floor_cpu_ms']} ms): it imports the "
        "store, the provider's module and the standard library's `http.client`, no SDK"
    )


def _package_summary(s: Any) -> str:
    if "error" in s:
        return f"not measured: {s['error']}"
    functions = sorted({v["kib"] for k, v in s.items() if k.endswith("Function")})
    layers = [f"{k} {round(v['kib'] / 1024, 1)} MiB" for k, v in s.items() if not k.endswith("Function")]
    size = f"{functions[0]}" if len(functions) == 1 else f"{functions[0]}–{functions[-1]}"
    layer = "the shared layer (Powertools, pydantic and the X-Ray SDK)"
    return f"{size} KiB per function (our code and the OpenAPI document); {layer}: {', '.join(layers)}"


def _run_rows(results: Results, row: Callable[[str, str, str, Callable[[Any], str]], list[str]]) -> list[list[str]]:
    """The summary's rows of the runs' figures."""
    goals = results["goals"]
    return [
        row(
            "runs: our overhead from the model's last byte to the run read back `completed` (instant model, on "
            "moto in process)",
            f"≤ {goals['run_overhead_ms']} ms",
            "runs",
            _runs_overhead_summary,
        ),
        row("runs: DynamoDB calls", "—", "runs", _runs_calls_summary),
        row(
            "runs: a run with one file_search, our overhead over the model's calls, the embedding and the index "
            "query (moto in process)",
            f"≤ {goals.get('search_run_overhead_ms', '—')} ms at p95",
            "runs",
            lambda r: _search_run_summary(r, goals.get("search_run_overhead_ms")),
        ),
        row(
            "run worker's cold start (CPU, ratio to boto3's floor, a provider configured)",
            f"≤ {times(goals['cold_ratio'])}",
            "runs",
            _worker_cold_summary,
        ),
    ]


def summary(results: Results) -> str:
    goals = results["goals"]
    cold, warm = goals["cold_ratio"], goals["warm_ratio"]

    def row(figure: str, goal: str, key: str, measured: Callable[[Any], str]) -> list[str]:
        return [figure, goal, measured(results[key]) if key in results else "not measured (skipped)"]

    rows = [
        row(
            "cold start per handler (import + resolve, CPU time, ratio to boto3's floor)",
            f"≤ {times(cold)}",
            "cold_start",
            lambda _c: _cold_summary(results, cold),
        ),
        row(
            "warm overhead per operation (handler vs. the bare botocore calls it makes)",
            f"≤ {times(warm)}",
            "warm",
            lambda _w: _warm_summary(results, warm),
        ),
        row(
            "DynamoDB round trips",
            f"{goals['thread_round_trips']} per thread operation, ≤ {goals['list_round_trips']} per list, "
            "none for auth when warm",
            "round_trips",
            lambda _t: _trips_summary(results),
        ),
        row("what the authorizer adds (`bench/authorizer.py`)", "—", "authorizer", _authorizer_summary),
        row(
            f"local API (in-process mode), {results['local_api']['clients'] if 'local_api' in results else 'several'} "
            "concurrent clients, mixed operations",
            "trend only",
            "local_api",
            _local_api_summary,
        ),
        *_run_rows(results, row),
        *vector_store_rows(results),
        row(
            "memory: the bench's resident set after the warm phase (every operation measured warm loaded in one "
            "process: an upper bound for one warm function)",
            "—",
            "memory",
            lambda m: f"{m['max_rss_mib_after_warm']} MiB",
        ),
        row("package size", "—", "package_size", _package_summary),
    ]
    return table(["figure", "goal", "measured"], rows)


# -- where the goals are missed -------------------------------------------------------------------------


def misses(results: Results) -> str:
    goals = results["goals"]
    paragraphs = []
    if "warm" in results:
        for operation, v in results["warm"].items():
            if v["ratio"] <= goals["warm_ratio"]:
                continue
            kib = _body_kib(operation)
            if kib is not None:
                paragraphs.append(
                    f"**{operation}** ({times(v['ratio'])}, {v['overhead_us']} µs over botocore's) spends its extra "
                    f"time parsing the {kib} KB body (`json.loads`), validating it, and writing each message's JSON "
                    "for DynamoDB: linear in the body's size (about "
                    f"{round(v['overhead_us'] / kib, 1)} µs per KB on this machine), and small beside the DynamoDB "
                    "request itself, which is in the baseline. Removing it would mean storing request JSON "
                    "unparsed, or a faster JSON library (orjson) as a dependency; neither is worth its cost today."
                )
            else:
                why = WARM_MISSES.get(operation, "not yet looked into")
                paragraphs.append(
                    f"**{operation}** costs {v['overhead_us']} µs over botocore ({times(v['ratio'])}): {why}."
                )
    if "cold_start" in results:
        for handler, v in cold_functions(results).items():
            if v["ratio"] <= goals["cold_ratio"]:
                continue
            why = COLD_MISSES.get(handler) or (
                "it loads pydantic to validate its body" if handler in BODY_HANDLERS else "not yet looked into"
            )
            paragraphs.append(f"**{as_words(handler)}**'s cold start ({times(v['ratio'])}): {why}.")
        near = sorted(
            (abs(v["ratio"] - goals["cold_ratio"]), k)
            for k, v in cold_functions(results).items()
            if abs(v["ratio"] - goals["cold_ratio"]) < 0.05
        )
        if near:
            functions = cold_functions(results)
            paragraphs.append(
                "A cold-start ratio moves by a few hundredths between runs of `make bench`, so the functions "
                "closest to the goal ("
                + join(f"{as_words(k)} {times(functions[k]['ratio'])}" for _d, k in near)
                + ") can land on either side of it."
            )
    paragraphs += [p for p in (_search_run_miss(results), search_miss(results)) if p is not None]
    return "\n\n".join(paragraphs) if paragraphs else "Every goal measured is met."


def _search_run_miss(results: Results) -> str | None:
    """A paragraph for the misses, while a searched run's overhead misses its goal."""
    f, goal = results.get("runs", {}).get("file_search"), results["goals"].get("search_run_overhead_ms")
    if f is None or goal is None or f["overhead_ms"]["p95"] <= goal:
        return None
    return (
        f"**a run with one file_search** ({f['overhead_ms']['p95']} ms at p95, goal ≤ {goal} ms): most of it is "
        f"DynamoDB on moto in process ({f['moto_dynamodb_ms_p50']} ms at the median; "
        f"{f['without_moto_ms']['p95']} ms at p95 without it), which a region answers in a few milliseconds a "
        "call; the rest, the records written before the round's save, could join that save's transaction "
        "(the design's fallback) if it mattered."
    )


def _body_kib(operation: str) -> int | None:
    """The body's size of a warm operation named like ``create thread (32 x 8 KB)``, in KB; None for others."""
    inside = operation.partition("(")[2].rstrip(")").split()
    if len(inside) == 4 and inside[1] == "x" and inside[3] == "KB" and inside[0].isdigit() and inside[2].isdigit():
        return int(inside[0]) * int(inside[2])
    return None
