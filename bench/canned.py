"""DynamoDB answered at the HTTP layer (botocore's ``before-send``) with canned responses, and call counting.

The same canned answers serve the handler and the bare botocore calls it is compared with, so the ratio
measures only what our code adds: parsing, validation, auth, shaping, logging.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders

THREAD_ID = "thread_" + "T" * 20 + "0000"
MESSAGE_ID = "msg_" + "M" * 20 + "0000"


def thread_item(n: int = 0) -> dict[str, Any]:
    return {
        "pk": {"S": THREAD_ID[:-4] + f"{n:04d}"},
        "sk": {"S": "thread"},
        "prj": {"S": "bench"},
        "created_at": {"N": "1795420000"},
        "meta": {"S": '{"user":"u1"}'},
        "tools": {"S": "{}"},
        "gpk": {"S": "threads#bench"},
        "gsk": {"S": "0000000000000000000a"},
        "last_ok": {"S": "0000000000000000000a"},
    }


def message_item(n: int = 0) -> dict[str, Any]:
    body = {
        "content": [{"type": "text", "text": {"value": f"message {n} " + "x" * 200, "annotations": []}}],
        "attachments": [],
    }
    return {
        "pk": {"S": THREAD_ID},
        "sk": {"S": f"msg#{MESSAGE_ID[:-4]}{n:04d}"},
        "ok": {"S": f"{n:020x}"},
        "created_at": {"N": "1795420000"},
        "role": {"S": "user"},
        "meta": {"S": "{}"},
        "body": {"S": json.dumps(body)},
    }


def answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """What DynamoDB would answer ``operation`` on the bench's one thread."""
    if operation == "GetItem":
        if params["Key"]["pk"]["S"].startswith("key#"):
            return {"Item": {"pk": params["Key"]["pk"], "sk": {"S": "key"}, "prj": {"S": "bench"}}}
        if params["Key"]["sk"]["S"] == "thread":
            return {"Item": thread_item()}
        return {"Item": message_item()}
    if operation == "UpdateItem":
        return {"Attributes": thread_item()}
    if operation == "BatchGetItem":
        table = next(iter(params["RequestItems"]))
        items = [
            thread_item() if k["sk"]["S"] == "thread" else message_item() for k in params["RequestItems"][table]["Keys"]
        ]
        return {"Responses": {table: items}, "UnprocessedKeys": {}}
    if operation == "Query":
        make = thread_item if params.get("IndexName") == "by_owner" else message_item
        items = [make(n) for n in range(min(params.get("Limit", 20), 20))]
        return {"Items": items, "Count": len(items)}
    return {}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class Recorder:
    """The (operation, params) of each call made while ``on`` is true."""

    def __init__(self) -> None:
        self.on = False
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def take(self) -> list[tuple[str, dict[str, Any]]]:
        calls, self.calls = self.calls, []
        return calls


@contextmanager
def dynamodb_answered(client: Any, recorder: Recorder | None = None) -> Iterator[None]:
    """Answer every call of ``client`` from ``answer``, at the HTTP layer; record calls into ``recorder``."""

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if recorder is not None and recorder.on:
            recorder.calls.append((model.name, copy.deepcopy(params)))

    def before_send(request: Any, **_: Any) -> AWSResponse:
        operation = request.headers["X-Amz-Target"].decode().split(".")[1]
        body = json.dumps(answer(operation, json.loads(request.body))).encode()
        headers = HTTPHeaders()
        headers["content-type"] = "application/x-amz-json-1.0"
        return AWSResponse(request.url, 200, headers, _Raw(body))

    client.meta.events.register("before-parameter-build.dynamodb", record, unique_id="bench-record")
    client.meta.events.register("before-send.dynamodb", before_send, unique_id="bench-send")
    try:
        yield
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb", unique_id="bench-record")
        client.meta.events.unregister("before-send.dynamodb", unique_id="bench-send")


@contextmanager
def silenced() -> Iterator[None]:
    """The handlers' log lines and metrics (Powertools prints EMF to stdout) written as in Lambda, to a sink
    nobody reads; the logger's stream and stdout are given back after, so a later phase can log."""
    import os
    import sys

    from threads_api.observability import logger

    handler = logger.registered_handler
    with open(os.devnull, "w") as devnull:
        stream = handler.setStream(devnull)  # type: ignore[attr-defined]
        real_stdout, sys.stdout = sys.stdout, devnull
        try:
            yield
        finally:
            sys.stdout = real_stdout
            handler.setStream(stream)  # type: ignore[attr-defined]
