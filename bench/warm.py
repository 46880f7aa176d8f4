"""Warm overhead: each handler, in-process, with a realistic API Gateway event and DynamoDB answered at the
HTTP layer, as a ratio to the bare botocore calls it makes (recorded from the handler, then replayed)."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from botocore import xform_name

from bench import canned

KEY = "sk-thr-bench-key-000000000000000000000000000000"
T, M = canned.THREAD_ID, canned.MESSAGE_ID
EIGHT_KB = "x" * 8192

OPERATIONS: list[tuple[str, str, str, Any]] = [
    ("create thread (empty)", "POST", "/threads", None),
    (
        "create thread (32 x 8 KB)",
        "POST",
        "/threads",
        {"messages": [{"role": "user", "content": EIGHT_KB} for _ in range(32)], "metadata": {"k": "v"}},
    ),
    ("retrieve thread", "GET", f"/threads/{T}", None),
    ("modify thread", "POST", f"/threads/{T}", {"metadata": {"modified": "true", "user": "abc123"}}),
    ("delete thread", "DELETE", f"/threads/{T}", None),
    ("list threads", "GET", "/threads?limit=20", None),
    ("append message", "POST", f"/threads/{T}/messages", {"role": "user", "content": "How does AI work?"}),
    ("list messages", "GET", f"/threads/{T}/messages?limit=20", None),
    ("list messages (after)", "GET", f"/threads/{T}/messages?limit=20&after={M}", None),
    ("retrieve message", "GET", f"/threads/{T}/messages/{M}", None),
    ("modify message", "POST", f"/threads/{T}/messages/{M}", {"metadata": {"a": "b"}}),
    ("delete message", "DELETE", f"/threads/{T}/messages/{M}", None),
]


def _paired_medians(ours: Any, bare: Any, iterations: int) -> tuple[float, float]:
    """Median seconds of each, run alternately so that drift in the machine's speed hits both alike."""
    a, b = [], []
    for _ in range(iterations):
        started = time.perf_counter()
        ours()
        middle = time.perf_counter()
        bare()
        a.append(middle - started)
        b.append(time.perf_counter() - middle)
    return statistics.median(a), statistics.median(b)


def measure(iterations: int) -> dict[str, dict[str, Any]]:
    from infra.local.serve import LocalApi
    from threads_api import store

    api = LocalApi()
    results = {}
    recorder = canned.Recorder()
    with canned.silenced(), canned.dynamodb_answered(store.client, recorder):
        for name, method, path, body in OPERATIONS:
            data = json.dumps(body).encode() if body is not None else b""
            headers = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
            handler, event = api.event(method, f"/v1{path}", headers, data, "203.0.113.9")
            assert handler is not None
            first = handler(event, None)  # warm: the key is cached from here on
            assert first["statusCode"] == 200, (name, first["body"])
            recorder.on = True
            handler(event, None)
            recorder.on = False
            calls = recorder.take()

            def replay(calls: list[tuple[str, dict[str, Any]]] = calls) -> None:
                for operation, params in calls:
                    getattr(store.client, xform_name(operation))(**params)

            ours, bare = _paired_medians(lambda h=handler, e=event: h(e, None), replay, iterations)
            results[name] = {
                "handler_us": round(ours * 1e6, 1),
                "botocore_us": round(bare * 1e6, 1),
                "overhead_us": round((ours - bare) * 1e6, 1),
                "ratio": round(ours / bare, 3),
                "dynamodb_calls": [operation for operation, _ in calls],
            }
    return results
