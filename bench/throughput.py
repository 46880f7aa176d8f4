"""The local API's throughput: a mix of operations from 8 concurrent clients through `make serve`'s server.

The embedded DynamoDB (moto, one request at a time) dominates: the figure is for trend, not for claims.
"""

from __future__ import annotations

import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parent.parent


def _start() -> tuple[subprocess.Popen[str], str, str, Path]:
    from infra.local.dynamodb import free_port

    key = "sk-thr-bench" + secrets.token_hex(16)
    state = Path(tempfile.mkdtemp()) / "serve.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "TABLE_NAME"}
    env |= {"PORT": str(free_port()), "THREADS_API_KEY": key, "THREADS_API_STATE": str(state)}
    # The local API's capacity: make serve throttles no project unless PROJECT_RATE_LIMIT asks it to.
    for name in ("PROJECT_RATE_LIMIT", "PROJECT_BURST_LIMIT"):
        env.pop(name, None)
    log = state.with_suffix(".log")
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if match := re.search(r"Threads API on (\S+)", log.read_text()):
            return process, match.group(1), key, log
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the local API did not start")


def measure(clients: int = 8, rounds: int = 25) -> dict[str, Any]:
    """Each client: create a thread, then ``rounds`` times append, list, retrieve the thread and a message."""
    process, base_url, key, _ = _start()
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
