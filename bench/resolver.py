"""The gateway's design choice, measured: our ``gateway.endpoint`` against Powertools' ``APIGatewayRestResolver``
for the same operation (retrieve thread, ``bench/powertools_retrieve.py``), cold and warm.

Cold: CPU time of a fresh interpreter importing each handler, as a ratio to boto3's floor (``bench/cold.py``).
Warm: median time per request, in-process, DynamoDB answered at the HTTP layer (``bench/canned.py``), the two
handlers and the bare GetItem calls they make run in turn so that drift hits all three alike. Both handlers'
responses are checked equal first.

python -m bench.resolver [--runs N] [--iterations N]  (make bench-resolver; make bench includes it)
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from botocore import xform_name

from bench import canned, cold, env

KEY = "sk-thr-bench-key-000000000000000000000000000000"
PATH = f"/threads/{canned.THREAD_ID}"
_IMPORT = f"import sys; sys.path.insert(0, {str(cold.ROOT)!r}); "
VARIANTS = {
    "boto3 floor": cold.FLOOR,
    "endpoint (ours)": _IMPORT + "import handlers.retrieve_thread as m; m.handler",
    "APIGatewayRestResolver": _IMPORT + "import bench.powertools_retrieve as m; m.handler",
}


def measure_cold(runs: int) -> dict[str, dict[str, float]]:
    """Median CPU and wall ms per variant, interleaved run by run, and the CPU ratio to boto3's floor."""
    for code in VARIANTS.values():  # warm the OS caches and the bytecode once
        cold._time(code)
    cpus: dict[str, list[float]] = {name: [] for name in VARIANTS}
    walls: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(runs):
        for name, code in VARIANTS.items():
            wall, cpu = cold._time(code)
            walls[name].append(wall)
            cpus[name].append(cpu)
    floor = statistics.median(cpus["boto3 floor"])
    return {
        name: {
            "cpu_ms": round(statistics.median(cpus[name]) * 1000, 1),
            "wall_ms": round(statistics.median(walls[name]) * 1000, 1),
            "ratio": round(statistics.median(cpus[name]) / floor, 3),
        }
        for name in VARIANTS
    }


def _medians(functions: list[Callable[[], Any]], iterations: int) -> list[float]:
    """Median seconds of each function, called in turn ``iterations`` times."""
    samples: list[list[float]] = [[] for _ in functions]
    for _ in range(iterations):
        for function, times in zip(functions, samples, strict=True):
            started = time.perf_counter()
            function()
            times.append(time.perf_counter() - started)
    return [statistics.median(times) for times in samples]


def measure_warm(iterations: int) -> dict[str, Any]:
    from bench import powertools_retrieve
    from handlers import retrieve_thread
    from infra.local.serve import LocalApi
    from threads_api import store

    with canned.silenced():
        headers = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
        ours, theirs = retrieve_thread.handler, powertools_retrieve.handler
        recorder = canned.Recorder()
        with canned.dynamodb_answered(store.client, recorder):
            # The event as API Gateway sends it, its authorizer's context included (the key read is canned).
            _, event = LocalApi().event("GET", f"/v1{PATH}", headers, b"", "203.0.113.9")
            first, second = ours(event, None), theirs(event, None)  # warm: the key is cached from here on
            assert first["statusCode"] == 200, first["body"]
            assert (first["statusCode"], first["body"]) == (second["statusCode"], second["body"]), second
            # API Gateway REST's resolver answers multiValueHeaders; API Gateway sends the same headers.
            their_headers = {k.lower(): v[-1] for k, v in second["multiValueHeaders"].items()}
            assert first["headers"].items() <= their_headers.items(), their_headers
            recorder.on = True
            ours(event, None)
            recorder.on = False
            calls = recorder.take()

            def bare() -> None:
                for operation, params in calls:
                    getattr(store.client, xform_name(operation))(**params)

            endpoint_s, resolver_s, bare_s = _medians(
                [lambda: ours(event, None), lambda: theirs(event, None), bare], iterations
            )
    return {
        "operation": "retrieve thread",
        "dynamodb_calls": [operation for operation, _ in calls],
        "botocore_us": round(bare_s * 1e6, 1),
        "endpoint_us": round(endpoint_s * 1e6, 1),
        "resolver_us": round(resolver_s * 1e6, 1),
        "endpoint_overhead_us": round((endpoint_s - bare_s) * 1e6, 1),
        "resolver_overhead_us": round((resolver_s - bare_s) * 1e6, 1),
        "endpoint_ratio": round(endpoint_s / bare_s, 3),
        "resolver_ratio": round(resolver_s / bare_s, 3),
    }


def measure(runs: int, iterations: int) -> dict[str, Any]:
    return {"cold": measure_cold(runs), "warm": measure_warm(iterations)}


def rows(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The table ``make bench`` prints: one row per handler."""
    warm = result["warm"]
    header = ["handler", "cold cpu ms", "cold ratio", "warm us", "warm overhead us", "warm ratio"]
    table = [["boto3 floor / bare GetItem", result["cold"]["boto3 floor"]["cpu_ms"], 1.0, warm["botocore_us"], 0, 1.0]]
    for name, key in (("endpoint (ours)", "endpoint"), ("APIGatewayRestResolver", "resolver")):
        c = result["cold"][name]
        table.append(
            [name, c["cpu_ms"], c["ratio"], warm[f"{key}_us"], warm[f"{key}_overhead_us"], warm[f"{key}_ratio"]]
        )
    return header, table


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.resolver")
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per handler (cold)")
    parser.add_argument("--iterations", type=int, default=2000, help="requests per handler (warm)")
    args = parser.parse_args()
    env.lambda_like()
    result = measure(args.runs, args.iterations)
    header, table = rows(result)
    print(json.dumps(result, indent=2))
    print("  ".join(header))
    for row in table:
        print("  ".join(str(cell) for cell in row))


if __name__ == "__main__":
    main()
