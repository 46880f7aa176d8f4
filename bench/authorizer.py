"""What the authorizer adds to a request: its cold start (a fresh interpreter importing it, as a ratio to
boto3's floor), its key read on a cache miss (DynamoDB answered at the HTTP layer), and a warm, cached call:
the function alone, and the local gateway's whole edge (authorizer event, policy check, usage plan bucket).

In AWS the authorizer is one more Lambda invocation per request (API Gateway caches nothing here: README,
Keys and projects); what that round trip costs is API Gateway's and Lambda's, not measurable on this machine.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

KEY = "sk-thr-bench-key-000000000000000000000000000000"


def _median_us(fn: Callable[[], Any], iterations: int) -> float:
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return round(statistics.median(samples) * 1e6, 1)


def measure(runs: int, iterations: int) -> dict[str, Any]:
    from bench import canned, cold
    from handlers import authorizer
    from infra.local.api_gateway import LocalApi
    from infra.local.edge import Edge
    from threads_api import auth, store

    code = "import handlers.authorizer as m; m.handler"
    cold._time(code), cold._time(cold.FLOOR)  # warm the OS caches and the bytecode once
    cpu: dict[str, list[float]] = {"authorizer": [], "floor": []}
    for _ in range(runs):
        cpu["authorizer"].append(cold._time(code)[1])
        cpu["floor"].append(cold._time(cold.FLOOR)[1])
    import_ms = statistics.median(cpu["authorizer"]) * 1000

    api = LocalApi(Edge(rate=1e9, burst=1e9))
    headers = {"authorization": f"Bearer {KEY}"}
    route, params, _ = api.match("GET", "/threads")
    assert route is not None
    with canned.dynamodb_answered(store.client):
        _, event = api.event("GET", "/v1/threads", headers, b"", "203.0.113.9")
        from infra.local.edge import _authorizer_event

        request = _authorizer_event(event)

        def miss() -> None:
            auth._cache.clear()
            authorizer.handler(request)

        miss_us = _median_us(miss, iterations)
        warm_us = _median_us(lambda: authorizer.handler(request), iterations)

        def edge() -> None:
            fresh = api.build_event(route, params, "GET", "/v1/threads", headers, b"", "203.0.113.9")
            assert api.edge.check(route, fresh) is None

        edge_us = _median_us(edge, iterations)
    return {
        "cold_import_cpu_ms": round(import_ms, 1),
        "cold_ratio_to_boto3_floor": round(import_ms / (statistics.median(cpu["floor"]) * 1000), 3),
        "cache_miss_us": miss_us,
        "warm_cached_us": warm_us,
        "local_edge_warm_us": edge_us,
    }
