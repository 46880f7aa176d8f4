"""Streams: how soon each piece of a streamed reply reaches the client, in both local modes.

python -m bench.streams [--quick]

The model is the local Chat Completions server (``infra/ops/chat_server.py``) writing a token every 20 ms
(``[[pace:0.02]]``); it records when it wrote each chunk, on the machine's monotonic clock, which the client
(this process) reads too.

- **Delta delay**: from the model writing a chunk to the client reading the ``thread.message.delta`` that
  carries it, through ``make serve`` (in process) and ``make serve DEPLOYED=1`` (the streaming functions' own
  runtime, read as API Gateway reads it), over HTTP.
- **Time to first event**: from the request to ``thread.run.created``, warm.
- **A long answer**: 90 seconds of answer, deployed mode, whole and in OpenAI's order.
- **DynamoDB writes per streamed run** of 1,000 tokens, counted on the store's client in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import Counter
from typing import Any

import httpx2 as httpx

from bench import served
from infra.ops import event_stream

PACE = 0.02
REPLY_ORDER = ["thread.created", *event_stream.REPLY_EVENTS]  # a create-thread-and-run's: the thread first


def _stream(base_url: str, key: str, assistant_id: str, content: str) -> tuple[float, list[tuple[float, str, Any]]]:
    """One streamed create-thread-and-run: when it was sent, and each event (time read, name, data)."""
    body = {
        "assistant_id": assistant_id,
        "stream": True,
        "thread": {"messages": [{"role": "user", "content": content}]},
    }
    with httpx.Client(base_url=base_url, headers={"authorization": f"Bearer {key}"}, timeout=300) as http:
        sent = time.monotonic()
        with http.stream("POST", "/threads/runs", json=body) as response:
            got = [(time.monotonic(), name, data) for name, data in event_stream.read_events(response.iter_lines())]
    return sent, got


def _assistant(base_url: str, key: str) -> str:
    with httpx.Client(base_url=base_url, headers={"authorization": f"Bearer {key}"}, timeout=60) as http:
        return str(http.post("/assistants", json={"model": "bench"}).json()["id"])


def _written_text(chat: Any, since: float) -> list[tuple[float, int]]:
    """The model's chunks written since ``since``: (time, length of its text up to and with the chunk)."""
    out, length = [], 0
    for at, event in chat.written:
        if at < since or event == "[DONE]":
            continue
        choices = json.loads(event).get("choices") or [{}]
        piece = (choices[0].get("delta") or {}).get("content") or ""
        if piece:
            length += len(piece)
            out.append((at, length))
    return out


def _delays(chat: Any, base_url: str, key: str, runs: int, words: int) -> list[float]:
    """Milliseconds from each chunk written to the delta that carries it read."""
    assistant = _assistant(base_url, key)
    delays: list[float] = []
    for run in range(runs):
        said = " ".join(f"t{run}-{n}" for n in range(words))
        sent, got = _stream(base_url, key, assistant, f"{said} [[pace:{PACE}]]")
        received, length = [], 0
        for at, name, data in got:
            if name == "thread.message.delta":
                length += sum(len(part["text"]["value"]) for part in data["delta"]["content"])
                received.append((at, length))
        for written_at, upto in _written_text(chat, sent):
            read_at = next(at for at, length in received if length >= upto)
            delays.append((read_at - written_at) * 1000)
    return delays


def _first_events(base_url: str, key: str, runs: int) -> list[float]:
    assistant = _assistant(base_url, key)
    _stream(base_url, key, assistant, "warm")
    out = []
    for _ in range(runs):
        sent, got = _stream(base_url, key, assistant, "hello")
        out.append((next(at for at, name, _ in got if name == "thread.run.created") - sent) * 1000)
    return out


def _long_answer(base_url: str, key: str, seconds: float) -> dict[str, Any]:
    """An answer of ``seconds`` (a token every 0.5 s), streamed whole and in order."""
    words = [f"w{n}" for n in range(int(seconds / 0.5))]
    sent, got = _stream(base_url, key, _assistant(base_url, key), f"{' '.join(words)} [[pace:0.5]]")
    stream = [(name, data) for _, name, data in got]
    return {
        "seconds": round(got[-1][0] - sent, 1),
        "events": len(got),
        "whole": event_stream.reply_text(stream) == "echo: " + " ".join(words),
        "in_order": event_stream.names(stream) == REPLY_ORDER,
    }


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "n": len(ordered),
    }


def _modes(quick: bool) -> dict[str, Any]:
    from infra.ops.chat_server import ChatServer

    results: dict[str, Any] = {}
    with ChatServer() as chat:
        for mode, extra in (("in-process", {}), ("deployed", {"DEPLOYED": "1"})):
            with served.served({"MODEL_BASE_URL": chat.url, **extra}) as (base_url, key):
                results[mode] = {
                    "delta_delay_ms": _summary(_delays(chat, base_url, key, runs=2 if quick else 5, words=100)),
                    "first_event_ms": _summary(_first_events(base_url, key, runs=5 if quick else 20)),
                }
                if mode == "deployed":
                    results[mode]["long_answer"] = _long_answer(base_url, key, 20 if quick else 90)
    return results


def _writes(tokens: int) -> dict[str, Any]:
    """The DynamoDB calls of one streamed create-thread-and-run whose reply is ``tokens`` tokens at PACE."""
    import boto3
    from moto import mock_aws

    from infra.local import dynamodb as local_dynamodb
    from infra.local.api_gateway import LocalApi
    from infra.local.invoke import LocalContext
    from infra.ops.chat_server import ChatServer
    from threads_api import auth, store

    with ChatServer() as chat, mock_aws():
        os.environ["MODEL_BASE_URL"] = chat.url
        local_dynamodb.create_table(boto3.client("dynamodb"), store.TABLE)
        local, key = LocalApi(), auth.create_key("bench")
        headers = {"authorization": f"Bearer {key}"}
        handler, event = local.event("POST", "/v1/assistants", headers, b'{"model": "bench"}', "127.0.0.1")
        assert handler is not None
        assistant = json.loads(handler(event, None)["body"])["id"]
        said = " ".join(f"t{n}" for n in range(tokens - 1))  # with "echo:", ``tokens`` chunks
        body = {"assistant_id": assistant, "stream": True, "thread": {"messages": [{"role": "user", "content": said}]}}
        body["thread"]["messages"][0]["content"] += f" [[pace:{PACE}]]"
        handler, event = local.event("POST", "/v1/threads/runs", headers, json.dumps(body).encode(), "127.0.0.1")
        assert handler is not None
        counted: Counter[str] = Counter()
        store.client.meta.events.register("before-call.dynamodb", lambda model, **_: counted.update([model.name]))
        started = time.monotonic()
        handler(event, LocalContext("CreateThreadAndRunFunction", "bench", 900, lambda piece: None))
        seconds = time.monotonic() - started
    writes = {op: n for op, n in counted.items() if op in ("PutItem", "UpdateItem", "TransactWriteItems")}
    return {"tokens": tokens, "seconds": round(seconds, 1), "writes": writes, "calls": dict(counted)}


def measure(quick: bool = False) -> dict[str, Any]:
    from bench import env

    modes = _modes(quick)  # before the in-process environment: the servers run as make serve runs them
    env.lambda_like()
    return modes | {"writes_per_streamed_run": _writes(200 if quick else 1000)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.streams")
    parser.add_argument("--quick", action="store_true", help="fewer runs, a 20 s long answer")
    print(json.dumps(measure(parser.parse_args().quick), indent=1))


if __name__ == "__main__":
    main()
