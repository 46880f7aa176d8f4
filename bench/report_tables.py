"""docs/performance.md's tables (bench/report.py renders the page): the sections' tables and the helpers the
page's parts share, each a figure of bench/results.json put in words or in a Markdown table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Results = Mapping[str, Any]


def as_words(key: str) -> str:
    """A handler's module name as words: ``create_thread_and_run`` is "create thread and run"."""
    return key.replace("_", " ")


def times(ratio: Any) -> str:
    return f"{ratio}x"


def join(parts: Iterable[str]) -> str:
    items = list(parts)
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def cold_functions(results: Results) -> dict[str, Any]:
    return {k: v for k, v in results["cold_start"].items() if k != "boto3 floor"}


def _trip_goal(operation: str, goals: Results) -> int | None:
    """The most round trips the goals allow an operation of bench/trips.py, or None where they set none."""
    if operation.startswith("auth lookup"):
        return None if "cold" in operation else 0
    if operation.startswith("list"):
        return int(goals["list_round_trips"])
    if "thread" in operation or operation == "append message":
        return int(goals["thread_round_trips"])
    return None


def trip_rows(results: Results) -> list[tuple[str, int, str, int | None]]:
    """(operation, round trips, calls, goal) for each operation bench/trips.py measured."""
    rows = []
    for operation, v in results["round_trips"].items():
        trips, calls = (v, "") if isinstance(v, int) else (v["round_trips"], " + ".join(v["calls"]))
        rows.append((operation, int(trips), calls, _trip_goal(operation, results["goals"])))
    return rows


def call_count(calls: Mapping[str, int]) -> int:
    return sum(calls.values())


# -- the sections -----------------------------------------------------------------------------------------


def resolver_section(r: Any) -> str:
    cold, warm = r["cold"], r["warm"]
    ours, theirs, floor = cold["endpoint (ours)"], cold["APIGatewayRestResolver"], cold["boto3 floor"]
    text = (
        "`make bench-resolver` (also part of `make bench`) routes retrieve thread both ways, everything else the "
        "same (`bench/powertools_retrieve.py`). `APIGatewayRestResolver` costs "
        f"{times(theirs['ratio'])} boto3's cold-start floor against the endpoint's {times(ours['ratio'])} "
        f"({theirs['cpu_ms']} against {ours['cpu_ms']} ms of CPU on this VM, "
        f"{round(theirs['cpu_ms'] - ours['cpu_ms'], 1)} ms more), and {warm['resolver_overhead_us']} µs over the "
        f"bare {' + '.join(warm['dynamodb_calls'])} per warm request against the endpoint's "
        f"{warm['endpoint_overhead_us']} µs ({times(warm['resolver_ratio'])} against {times(warm['endpoint_ratio'])})."
    )
    rows = [
        ["boto3 floor / the bare calls", floor["cpu_ms"], times(floor["ratio"]), warm["botocore_us"], "—", "—"],
        *(
            [
                name,
                cold[name]["cpu_ms"],
                times(cold[name]["ratio"]),
                warm[f"{key}_us"],
                warm[f"{key}_overhead_us"],
                times(warm[f"{key}_ratio"]),
            ]
            for name, key in (("endpoint (ours)", "endpoint"), ("APIGatewayRestResolver", "resolver"))
        ),
    ]
    header = ["handler", "cold CPU ms", "cold ratio", "warm µs", "warm overhead µs", "warm ratio"]
    return text + "\n\n" + table(header, rows)


def cold_section(results: Results) -> str:
    goal = results["goals"]["cold_ratio"]
    rows = [
        [
            as_words(k),
            v["cpu_ms"],
            v["wall_ms"],
            times(v["ratio"]),
            times(v["wall_ratio"]),
            "" if k == "boto3 floor" else ("met" if v["ratio"] <= goal else "**missed**"),
        ]
        for k, v in results["cold_start"].items()
    ]
    return (
        "Each handler imported in a fresh interpreter, the median of several, against "
        '`import boto3; boto3.client("dynamodb")` (the floor):\n\n'
        + table(["handler", "CPU ms", "wall ms", "ratio", "wall ratio", f"≤ {times(goal)}"], rows)
    )


def warm_section(results: Results) -> str:
    goal = results["goals"]["warm_ratio"]
    rows = [
        [
            k,
            v["handler_us"],
            v["botocore_us"],
            v["overhead_us"],
            times(v["ratio"]),
            "met" if v["ratio"] <= goal else "**missed**",
            " + ".join(v["dynamodb_calls"]),
        ]
        for k, v in results["warm"].items()
    ]
    header = ["operation", "handler µs", "botocore µs", "overhead µs", "ratio", f"≤ {times(goal)}", "DynamoDB calls"]
    return (
        "The median of many requests per operation, DynamoDB answered at the HTTP layer, against the same "
        "DynamoDB calls made with botocore alone:\n\n" + table(header, rows)
    )


def trips_section(results: Results) -> str:
    rows = [
        [op, trips, calls, "—" if goal is None else ("met" if trips <= goal else "**missed**")]
        for op, trips, calls, goal in trip_rows(results)
    ]
    return table(["operation", "round trips", "calls", "goal"], rows)


def runs_section(r: Any) -> str:
    rows = [
        [run, function, call_count(calls), " + ".join(f"{n} {call}" for call, n in calls.items())]
        for run in ("simple run", "tool round trip")
        if run in r
        for function, calls in r[run].items()
    ]
    if "file_search" in r:
        calls = r["file_search"]["worker"]
        rows.append(["one file_search", "worker", call_count(calls), " + ".join(f"{n} {c}" for c, n in calls.items())])
    return (
        "The DynamoDB calls of each function a run involves. Creating a run reads the assistant (`GetItem`) and "
        "writes the run in a transaction that also takes the thread's lock; retrieving it is a `BatchGetItem`; "
        "submitting tool outputs reads the run and queues it again in a transaction. The worker's: a `GetItem` "
        "reads the run, a "
        "transaction claims it, a `BatchGetItem` and a `Query` read the thread's messages, and a transaction "
        "finishes (the reply, the run completed, the thread released, or the tool calls asked for). A run that "
        "searches once adds the thread's and the assistant's store read (`BatchGetItem`), the stores' files "
        "(`BatchGetItem`), the calls' records (a transaction of puts), the round's save (a transaction) and a "
        "`GetItem`, then a second model call.\n\n" + table(["run", "function", "calls", "which"], rows) + _search_run(r)
    )


def _search_run(r: Any) -> str:
    """The searched run's overhead, under the runs' table, once measured (``bench/run_search.py``)."""
    if "file_search" not in r:
        return ""
    f = r["file_search"]
    rows = [
        [name, f[key]["median"], f[key]["p95"], f[key]["runs"]]
        for name, key in (
            ("one file_search", "overhead_ms"),
            ("one file_search, moto's side of the table left out", "without_moto_ms"),
            ("no search", "plain_overhead_ms"),
        )
    ]
    return (
        "\n\nThe worker's overhead for a run that searches its assistant's store once (12 files, "
        f"{f['chunks']} chunks; the local embedder, {f['embed_ms_p50']} ms, and S3 Vectors' local query, "
        f"{f['index_query_ms_p50']} ms, taken out with the model's calls), and for a run without search:\n\n"
        + table(["run", "median ms", "p95 ms", "runs"], rows)
    )


def package_section(s: Any) -> str:
    if "error" in s:
        return f"`sam build` failed: {s['error']}"
    sizes: dict[float, list[str]] = {}
    for artifact, v in s.items():
        sizes.setdefault(v["kib"], []).append(artifact)
    rows = [[", ".join(f"`{a}`" for a in artifacts), kib] for kib, artifacts in sorted(sizes.items())]
    return "What `sam build` packages, per artifact:\n\n" + table(["artifact", "KiB"], rows)
