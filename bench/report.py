"""``python -m bench.report`` (``make report``, and the end of ``make bench``): docs/performance.md, rendered
from bench/results.json.

Every figure of the page comes from results.json, as ``make bench`` last wrote it; the prose around the figures
is fixed here. A test (tests/test_performance_doc.py) fails when the page is not what ``render()`` makes of
the file, so a figure is never typed by hand, and never outlives the measure it came from.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
DOC = ROOT / "docs" / "performance.md"

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

WIDTH = 110  # the other pages' line length; tables stay one row a line
NBSP = "\u00a0"

NOT_MEASURED = "Not measured by the last run of `python -m bench` (left out with `--skip`): `make bench` measures it."

Results = Mapping[str, Any]


def _name(key: str) -> str:
    """A handler's module name as words: ``create_thread_and_run`` is "create thread and run"."""
    return key.replace("_", " ")


def _x(ratio: Any) -> str:
    return f"{ratio}x"


def _join(parts: Iterable[str]) -> str:
    items = list(parts)
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _section(results: Results, key: str, body: Callable[[Any], str]) -> str:
    return body(results[key]) if key in results else NOT_MEASURED


# -- the summary's rows: (figure, goal, measured) ---------------------------------------------------------


def _cold_functions(results: Results) -> dict[str, Any]:
    return {k: v for k, v in results["cold_start"].items() if k != "boto3 floor"}


def _cold_summary(results: Results, goal: float) -> str:
    functions = _cold_functions(results)
    met = sorted((v["ratio"], k) for k, v in functions.items() if v["ratio"] <= goal)
    missed = sorted((v["ratio"], k) for k, v in functions.items() if v["ratio"] > goal)
    text = f"met by {len(met)} of {len(functions)} functions"
    if met:
        text += f": {_x(met[0][0])} ({_name(met[0][1])}) to {_x(met[-1][0])} ({_name(met[-1][1])})"
    bodies = sorted(v["ratio"] for k, v in functions.items() if k in BODY_HANDLERS)
    if bodies:
        span = f"{_x(bodies[0])}–{_x(bodies[-1])}"
        text += f"; the functions that load pydantic (a body to validate) are the {span} ones"
    if missed:
        text += "; missed: " + ", ".join(f"{_name(k)} {_x(r)}" for r, k in missed)
    return text


def _warm_summary(results: Results, goal: float) -> str:
    warm: dict[str, Any] = results["warm"]
    met = [(k, v) for k, v in warm.items() if v["ratio"] <= goal]
    missed = [(k, v) for k, v in warm.items() if v["ratio"] > goal]
    text = f"met by {len(met)} of {len(warm)} operations"
    if met:
        ratios = sorted(v["ratio"] for _k, v in met)
        overheads = sorted(v["overhead_us"] for _k, v in met)
        text += f" ({_x(ratios[0])}–{_x(ratios[-1])}, {overheads[0]}–{overheads[-1]} µs a request)"
    if missed:
        text += "; missed: " + ", ".join(f"{k} {_x(v['ratio'])} ({v['overhead_us']} µs)" for k, v in missed)
    return text


def _trip_goal(operation: str, goals: Results) -> int | None:
    """The most round trips the goals allow an operation of bench/trips.py, or None where they set none."""
    if operation.startswith("auth lookup"):
        return None if "cold" in operation else 0
    if operation.startswith("list"):
        return int(goals["list_round_trips"])
    if "thread" in operation or operation == "append message":
        return int(goals["thread_round_trips"])
    return None


def _trips(results: Results) -> list[tuple[str, int, str, int | None]]:
    """(operation, round trips, calls, goal) for each operation bench/trips.py measured."""
    rows = []
    for operation, v in results["round_trips"].items():
        trips, calls = (v, "") if isinstance(v, int) else (v["round_trips"], " + ".join(v["calls"]))
        rows.append((operation, int(trips), calls, _trip_goal(operation, results["goals"])))
    return rows


def _trips_summary(results: Results) -> str:
    rows = _trips(results)
    missed = [(op, trips, goal) for op, trips, _calls, goal in rows if goal is not None and trips > goal]
    by_count: dict[int, list[str]] = {}
    for operation, trips, _calls, _goal in rows:
        by_count.setdefault(trips, []).append(operation)
    text = "met" if not missed else "missed: " + ", ".join(f"{op} {t} (goal {g})" for op, t, g in missed)
    groups = (f"{n} for " + _join(f"*{op}*" for op in ops) for n, ops in sorted(by_count.items()))
    return text + ": " + "; ".join(groups)


def _authorizer_summary(a: Any) -> str:
    return (
        f"cold: its import, {a['cold_import_cpu_ms']} ms CPU, {_x(a['cold_ratio_to_boto3_floor'])} boto3's floor "
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


def _calls(calls: Mapping[str, int]) -> int:
    return sum(calls.values())


def _runs_overhead_summary(r: Any) -> str:
    o = r["overhead_ms"]
    return (
        f"median {o['median']} ms, p95 {o['p95']} ms, of {o['runs']} runs; after the model answers, one "
        "transaction (the reply, the run completed, the thread released) and the retrieve's one read"
    )


def _runs_calls_summary(r: Any) -> str:
    return "; ".join(
        f"{run}: " + ", ".join(f"{function} {_calls(calls)}" for function, calls in r[run].items())
        for run in ("simple run", "tool round trip")
        if run in r
    )


def _worker_cold_summary(r: Any) -> str:
    w = r["worker cold start"]
    return (
        f"{_x(w['ratio'])} ({w['worker_cpu_ms']} ms against the floor's {w['floor_cpu_ms']} ms): it imports the "
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


def _summary(results: Results) -> str:
    goals = results["goals"]
    cold, warm = goals["cold_ratio"], goals["warm_ratio"]

    def row(figure: str, goal: str, key: str, measured: Callable[[Any], str]) -> list[str]:
        return [figure, goal, measured(results[key]) if key in results else "not measured (skipped)"]

    rows = [
        row(
            "cold start per handler (import + resolve, CPU time, ratio to boto3's floor)",
            f"≤ {_x(cold)}",
            "cold_start",
            lambda _c: _cold_summary(results, cold),
        ),
        row(
            "warm overhead per operation (handler vs. the bare botocore calls it makes)",
            f"≤ {_x(warm)}",
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
        row(
            "runs: our overhead from the model's last byte to the run read back `completed` (instant model, on "
            "moto in process)",
            f"≤ {goals['run_overhead_ms']} ms",
            "runs",
            _runs_overhead_summary,
        ),
        row("runs: DynamoDB calls", "—", "runs", _runs_calls_summary),
        row(
            "run worker's cold start (CPU, ratio to boto3's floor, a provider configured)",
            f"≤ {_x(cold)}",
            "runs",
            _worker_cold_summary,
        ),
        row(
            "memory: the bench's resident set after the warm phase (every operation measured warm loaded in one "
            "process: an upper bound for one warm function)",
            "—",
            "memory",
            lambda m: f"{m['max_rss_mib_after_warm']} MiB",
        ),
        row("package size", "—", "package_size", _package_summary),
    ]
    return _table(["figure", "goal", "measured"], rows)


# -- the sections ------------------------------------------------------------------------------------------


def _misses(results: Results) -> str:
    goals = results["goals"]
    paragraphs = []
    if "warm" in results:
        for operation, v in results["warm"].items():
            if v["ratio"] <= goals["warm_ratio"]:
                continue
            kib = _body_kib(operation)
            if kib is not None:
                paragraphs.append(
                    f"**{operation}** ({_x(v['ratio'])}, {v['overhead_us']} µs over botocore's) spends its extra "
                    f"time parsing the {kib} KB body (`json.loads`), validating it, and writing each message's JSON "
                    "for DynamoDB: linear in the body's size (about "
                    f"{round(v['overhead_us'] / kib, 1)} µs per KB on this machine), and small beside the DynamoDB "
                    "request itself, which is in the baseline. Removing it would mean storing request JSON "
                    "unparsed, or a faster JSON library (orjson) as a dependency; neither is worth its cost today."
                )
            else:
                why = WARM_MISSES.get(operation, "not yet looked into")
                paragraphs.append(
                    f"**{operation}** costs {v['overhead_us']} µs over botocore ({_x(v['ratio'])}): {why}."
                )
    if "cold_start" in results:
        for handler, v in _cold_functions(results).items():
            if v["ratio"] <= goals["cold_ratio"]:
                continue
            why = COLD_MISSES.get(handler) or (
                "it loads pydantic to validate its body" if handler in BODY_HANDLERS else "not yet looked into"
            )
            paragraphs.append(f"**{_name(handler)}**'s cold start ({_x(v['ratio'])}): {why}.")
        near = sorted(
            (abs(v["ratio"] - goals["cold_ratio"]), k)
            for k, v in _cold_functions(results).items()
            if abs(v["ratio"] - goals["cold_ratio"]) < 0.05
        )
        if near:
            functions = _cold_functions(results)
            paragraphs.append(
                "A cold-start ratio moves by a few hundredths between runs of `make bench`, so the functions "
                "closest to the goal ("
                + _join(f"{_name(k)} {_x(functions[k]['ratio'])}" for _d, k in near)
                + ") can land on either side of it."
            )
    return "\n\n".join(paragraphs) if paragraphs else "Every goal measured is met."


def _body_kib(operation: str) -> int | None:
    """The body's size of a warm operation named like ``create thread (32 x 8 KB)``, in KB; None for others."""
    inside = operation.partition("(")[2].rstrip(")").split()
    if len(inside) == 4 and inside[1] == "x" and inside[3] == "KB" and inside[0].isdigit() and inside[2].isdigit():
        return int(inside[0]) * int(inside[2])
    return None


def _resolver(r: Any) -> str:
    cold, warm = r["cold"], r["warm"]
    ours, theirs, floor = cold["endpoint (ours)"], cold["APIGatewayRestResolver"], cold["boto3 floor"]
    text = (
        "`make bench-resolver` (also part of `make bench`) routes retrieve thread both ways, everything else the "
        "same (`bench/powertools_retrieve.py`). `APIGatewayRestResolver` costs "
        f"{_x(theirs['ratio'])} boto3's cold-start floor against the endpoint's {_x(ours['ratio'])} "
        f"({theirs['cpu_ms']} against {ours['cpu_ms']} ms of CPU on this VM, "
        f"{round(theirs['cpu_ms'] - ours['cpu_ms'], 1)} ms more), and {warm['resolver_overhead_us']} µs over the "
        f"bare {' + '.join(warm['dynamodb_calls'])} per warm request against the endpoint's "
        f"{warm['endpoint_overhead_us']} µs ({_x(warm['resolver_ratio'])} against {_x(warm['endpoint_ratio'])})."
    )
    rows = [
        ["boto3 floor / the bare calls", floor["cpu_ms"], _x(floor["ratio"]), warm["botocore_us"], "—", "—"],
        *(
            [
                name,
                cold[name]["cpu_ms"],
                _x(cold[name]["ratio"]),
                warm[f"{key}_us"],
                warm[f"{key}_overhead_us"],
                _x(warm[f"{key}_ratio"]),
            ]
            for name, key in (("endpoint (ours)", "endpoint"), ("APIGatewayRestResolver", "resolver"))
        ),
    ]
    header = ["handler", "cold CPU ms", "cold ratio", "warm µs", "warm overhead µs", "warm ratio"]
    return text + "\n\n" + _table(header, rows)


def _cold(results: Results) -> str:
    goal = results["goals"]["cold_ratio"]
    rows = [
        [
            _name(k),
            v["cpu_ms"],
            v["wall_ms"],
            _x(v["ratio"]),
            _x(v["wall_ratio"]),
            "" if k == "boto3 floor" else ("met" if v["ratio"] <= goal else "**missed**"),
        ]
        for k, v in results["cold_start"].items()
    ]
    return (
        "Each handler imported in a fresh interpreter, the median of several, against "
        '`import boto3; boto3.client("dynamodb")` (the floor):\n\n'
        + _table(["handler", "CPU ms", "wall ms", "ratio", "wall ratio", f"≤ {_x(goal)}"], rows)
    )


def _warm(results: Results) -> str:
    goal = results["goals"]["warm_ratio"]
    rows = [
        [
            k,
            v["handler_us"],
            v["botocore_us"],
            v["overhead_us"],
            _x(v["ratio"]),
            "met" if v["ratio"] <= goal else "**missed**",
            " + ".join(v["dynamodb_calls"]),
        ]
        for k, v in results["warm"].items()
    ]
    header = ["operation", "handler µs", "botocore µs", "overhead µs", "ratio", f"≤ {_x(goal)}", "DynamoDB calls"]
    return (
        "The median of many requests per operation, DynamoDB answered at the HTTP layer, against the same "
        "DynamoDB calls made with botocore alone:\n\n" + _table(header, rows)
    )


def _round_trips(results: Results) -> str:
    rows = [
        [op, trips, calls, "—" if goal is None else ("met" if trips <= goal else "**missed**")]
        for op, trips, calls, goal in _trips(results)
    ]
    return _table(["operation", "round trips", "calls", "goal"], rows)


def _runs(r: Any) -> str:
    rows = [
        [run, function, _calls(calls), " + ".join(f"{n} {call}" for call, n in calls.items())]
        for run in ("simple run", "tool round trip")
        if run in r
        for function, calls in r[run].items()
    ]
    return (
        "The DynamoDB calls of each function a run involves. Creating a run reads the assistant (`GetItem`) and "
        "writes the run in a transaction that also takes the thread's lock; retrieving it is a `BatchGetItem`; "
        "submitting tool outputs reads the run and queues it again in a transaction. The worker's: a `GetItem` "
        "reads the run, a "
        "transaction claims it, a `BatchGetItem` and a `Query` read the thread's messages, and a transaction "
        "finishes (the reply, the run completed, the thread released, or the tool calls asked for).\n\n"
        + _table(["run", "function", "calls", "which"], rows)
    )


def _package(s: Any) -> str:
    if "error" in s:
        return f"`sam build` failed: {s['error']}"
    sizes: dict[float, list[str]] = {}
    for artifact, v in s.items():
        sizes.setdefault(v["kib"], []).append(artifact)
    rows = [[", ".join(f"`{a}`" for a in artifacts), kib] for kib, artifacts in sorted(sizes.items())]
    return "What `sam build` packages, per artifact:\n\n" + _table(["artifact", "KiB"], rows)


# -- the page ----------------------------------------------------------------------------------------------


def render(results: Results | None = None) -> str:
    """docs/performance.md for ``results`` (by default, bench/results.json as it is)."""
    if results is None:
        results = json.loads(RESULTS.read_text())
    machine = results["machine"]
    floor = (
        f"takes {results['cold_start']['boto3 floor']['cpu_ms']} ms of CPU there, more than in Lambda"
        if "cold_start" in results
        else "takes longer there than in Lambda"
    )
    parts = [
        "# Performance",
        "<!-- Generated by `python -m bench.report` (make report) from bench/results.json: edit bench/report.py, "
        "not this page. -->",
        "`make bench` measures on this machine, side by side in one run, and writes `bench/results.json`; then "
        "`python -m bench.report` renders this page from it (`make report` renders it alone), and a test fails "
        "when the page and the file disagree, so no figure here is typed by hand. "
        f"These are from one `make bench` of {machine['when']} (Python {machine['python']}, {machine['arch']}) on a "
        f'development VM that is slow (a bare `import boto3; boto3.client("dynamodb")` {floor}); '
        "the ratios are what carry over. What the code does to stay near the floor is in "
        "[architecture.md](architecture.md#what-keeps-cold-starts-and-warm-requests-cheap).",
        "## Summary",
        _summary(results),
        "## Where the goals are missed, and why",
        _misses(results),
        "## Why our `endpoint` decorator and not Powertools' Event Handler",
        _section(results, "resolver", _resolver),
        "## Cold start per function",
        _section(results, "cold_start", lambda _c: _cold(results)),
        "## Warm overhead per operation",
        _section(results, "warm", lambda _w: _warm(results)),
        "## DynamoDB round trips per operation",
        _section(results, "round_trips", lambda _t: _round_trips(results)),
        "## Runs",
        _section(results, "runs", _runs),
        "## Package size",
        _section(results, "package_size", _package),
    ]
    return "\n\n".join(_wrap(block) for part in parts for block in part.split("\n\n")) + "\n"


def _wrap(block: str) -> str:
    """A paragraph filled to the pages' width; a heading, a table or the comment as it is."""
    if block.startswith(("#", "|", "<!--")):
        return block
    # A code span is never cut: its spaces are hidden from the filling.
    spans = block.split("`")
    joined = "`".join(s.replace(" ", NBSP) if i % 2 else s for i, s in enumerate(spans))
    return textwrap.fill(joined, WIDTH, break_long_words=False, break_on_hyphens=False).replace(NBSP, " ")


def main() -> None:
    DOC.write_text(render())
    print(f"written to {DOC.relative_to(ROOT)} from {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
