"""Runs: our overhead after the model's last byte, DynamoDB round trips per run, and the worker's cold start.

python -m bench.runs [--runs N]

- **Overhead**: the real OpenAI-compatible provider asks a local Chat Completions server that answers at once
  (``infra/ops/chat_server.py``); the time from the provider's return (the last byte read) to the run
  read back as ``completed`` through the retrieve handler: the worker's writes and one read. On moto, in
  process: DynamoDB's own latency (single-digit milliseconds a call in a region) comes on top, per round trip.
- **Round trips**: DynamoDB calls of each function for a simple run, and for one tool round trip.
- **Cold start**: a fresh interpreter importing the worker's handler with a provider configured, against the
  same ``import boto3; boto3.client("dynamodb")`` floor as ``bench/cold.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench import env


def _api(local: Any, key: str) -> Any:
    def call(method: str, path: str, body: Any = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else b""
        handler, event = local.event(method, f"/v1{path}", {"authorization": f"Bearer {key}"}, data, "127.0.0.1")
        assert handler is not None
        reply = handler(event, None)
        assert reply["statusCode"] == 200, reply["body"]
        return dict(json.loads(reply["body"]))

    return call


def measure(runs: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from infra.local import dynamodb as local_dynamodb
    from infra.local.serve import LocalApi
    from infra.ops.chat_server import ChatServer
    from threads_api import auth, store

    results: dict[str, Any] = {}
    with ChatServer() as chat, mock_aws():
        os.environ["MODEL_BASE_URL"] = chat.url

        def api() -> Any:
            local_dynamodb.create_table(boto3.client("dynamodb"), store.TABLE)
            return _api(LocalApi(), auth.create_key("bench"))

        call, work, answered, trips = _wired(api)
        assistant = call(
            "POST", "/assistants", {"model": "bench", "tools": [{"type": "function", "function": {"name": "f"}}]}
        )
        results["overhead_ms"] = _overhead(call, assistant["id"], work, answered, runs)
        results |= _round_trips(call, assistant["id"], trips, work)
    return results


def _wired(api: Callable[[], Any]) -> tuple[Any, Callable[[], None], list[float], Callable[[Any], dict[str, int]]]:
    """The worker wired to the API that ``api()`` makes (``call``): its queue (Invoke kept, ``work`` runs it), the
    time each model answer came (``answered``), and ``trips``: a step's DynamoDB calls. MODEL_BASE_URL is set."""
    from handlers import run_worker
    from threads_api import providers, store
    from threads_api.runs import starter

    configured = providers.from_environment()
    assert configured is not None
    provider: providers.Provider = configured
    call = api()
    queued: list[dict[str, Any]] = []

    class Lambda:
        def invoke(self, **params: Any) -> None:
            queued.append(json.loads(params["Payload"]))

    starter._client = Lambda  # type: ignore[assignment]
    answered: list[float] = []

    class Timed:
        def complete(self, request: dict[str, Any], **kwargs: Any) -> Any:
            result = provider.complete(request, **kwargs)
            answered.append(time.perf_counter())
            return result

    run_worker.PROVIDER = Timed()
    counted: Counter[str] = Counter()
    store.client.meta.events.register("before-call.dynamodb", lambda model, **_: counted.update([model.name]))

    def trips(step: Any) -> dict[str, int]:
        counted.clear()
        step()
        return dict(counted)

    def work() -> None:
        while queued:
            run_worker.handler(queued.pop(0))

    return call, work, answered, trips


def _overhead(call: Any, assistant_id: str, work: Any, answered: list[float], runs: int) -> dict[str, Any]:
    """From the model's answer to the run read back completed, over ``runs`` runs."""
    overheads = []
    for _ in range(runs):
        thread = call("POST", "/threads", {"messages": [{"role": "user", "content": "hi"}]})
        run = call("POST", f"/threads/{thread['id']}/runs", {"assistant_id": assistant_id})
        work()
        seen = call("GET", f"/threads/{thread['id']}/runs/{run['id']}")
        overheads.append((time.perf_counter() - answered[-1]) * 1000)
        assert seen["status"] == "completed"
    return {
        "median": round(statistics.median(overheads), 1),
        "p95": round(sorted(overheads)[int(len(overheads) * 0.95) - 1], 1),
        "runs": runs,
    }


def _round_trips(call: Any, assistant_id: str, trips: Any, work: Any) -> dict[str, Any]:
    """DynamoDB calls per function: a simple run, and a tool round trip."""
    results: dict[str, Any] = {}
    thread = call("POST", "/threads", {"messages": [{"role": "user", "content": "hi"}]})
    created: dict[str, Any] = {}
    results["simple run"] = {
        "create run": trips(
            lambda: created.update(call("POST", f"/threads/{thread['id']}/runs", {"assistant_id": assistant_id}))
        ),
        "worker": trips(work),
        "retrieve run": trips(lambda: call("GET", f"/threads/{thread['id']}/runs/{created['id']}")),
    }
    call("POST", f"/threads/{thread['id']}/messages", {"role": "user", "content": "[[tool:f]]"})
    run = call("POST", f"/threads/{thread['id']}/runs", {"assistant_id": assistant_id})
    round_trip: dict[str, Any] = {"worker (asks for the tool)": trips(work)}
    waiting = call("GET", f"/threads/{thread['id']}/runs/{run['id']}")
    call_id = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
    outputs = {"tool_outputs": [{"tool_call_id": call_id, "output": "ok"}]}
    path = f"/threads/{thread['id']}/runs/{run['id']}/submit_tool_outputs"
    round_trip["submit tool outputs"] = trips(lambda: call("POST", path, outputs))
    round_trip["worker (completes)"] = trips(work)
    results["tool round trip"] = round_trip
    return results


def cold(runs: int) -> dict[str, Any]:
    from bench import cold as cold_bench

    code = "import handlers.run_worker as m; m.handler"
    os.environ["MODEL_BASE_URL"] = "http://127.0.0.1:9/v1"
    env_before = cold_bench._env
    cold_bench._env = lambda: env_before() | {"MODEL_BASE_URL": "http://127.0.0.1:9/v1"}
    cpus, floor = [], []
    cold_bench._time(code)
    for _ in range(runs):
        cpus.append(cold_bench._time(code)[1])
        floor.append(cold_bench._time(cold_bench.FLOOR)[1])
    return {
        "worker_cpu_ms": round(statistics.median(cpus) * 1000, 1),
        "floor_cpu_ms": round(statistics.median(floor) * 1000, 1),
        "ratio": round(statistics.median(cpus) / statistics.median(floor), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.runs")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    env.lambda_like()
    results = measure(args.runs) | {"worker cold start": cold(max(5, args.runs // 3))}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
