"""The local API's throughput: a mix of operations from 8 concurrent clients through `make serve`'s server.

The embedded DynamoDB (moto, one request at a time) dominates: the figure is for trend, not for claims.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from bench import served

ROOT = Path(__file__).resolve().parent.parent


def measure(clients: int = 8, rounds: int = 25) -> dict[str, Any]:
    """Each client: create a thread, then ``rounds`` times append, list, retrieve the thread and a message."""
    process, base_url, key, _ = served.start()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=base_url, headers={"authorization": f"Bearer {key}"}, timeout=60) as http:

            def timed(method: str, path: str, **kwargs: Any) -> Any:
                started = time.perf_counter()
                response = http.request(method, path, **kwargs)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        errors.append(f"{method} {path}: {response.status_code}")
                return response.json()

            thread = timed("POST", "/threads", json={"messages": [{"role": "user", "content": "hello"}]})
            for i in range(rounds):
                message = timed("POST", f"/threads/{thread['id']}/messages", json={"role": "user", "content": f"m{i}"})
                timed("GET", f"/threads/{thread['id']}/messages", params={"limit": 10})
                timed("GET", f"/threads/{thread['id']}")
                timed("GET", f"/threads/{thread['id']}/messages/{message['id']}")

    try:
        workers = [threading.Thread(target=client) for _ in range(clients)]
        started = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)
    latencies.sort()
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
    }
