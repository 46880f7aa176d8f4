"""DynamoDB round trips per operation, counted on moto (real semantics), with a cold and a warm key cache."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Call = Callable[..., dict[str, Any]]


def measure() -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from infra.local import dynamodb as local_dynamodb
    from infra.local.serve import LocalApi
    from threads_api import auth, store

    counted: list[str] = []

    def count(model: Any, **_: Any) -> None:
        counted.append(model.name)

    results: dict[str, Any] = {}
    with mock_aws():
        local_dynamodb.create_table(boto3.client("dynamodb"), store.TABLE)
        api = LocalApi()
        key = auth.create_key("bench")
        store.client.meta.events.register("before-call.dynamodb", count, unique_id="bench-count")
        call = _caller(api, key, counted)
        results |= _auth_lookups(api, key, call, counted)
        results |= _operations(call, counted)
        store.client.meta.events.unregister("before-call.dynamodb", unique_id="bench-count")
    return results


def _caller(api: Any, key: str, counted: list[str]) -> Call:
    """A request through the local API with ``key``, its DynamoDB calls (``counted``) counted from zero."""

    def call(method: str, path: str, body: Any = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else b""
        handler, event = api.event(method, f"/v1{path}", {"authorization": f"Bearer {key}"}, data, "127.0.0.1")
        assert handler is not None
        counted.clear()
        reply = handler(event, None)
        assert reply["statusCode"] == 200, reply["body"]
        return dict(json.loads(reply["body"]))

    return call


def _auth_lookups(api: Any, key: str, call: Call, counted: list[str]) -> dict[str, Any]:
    """The key's reads: the authorizer's, cold and warm (``LocalApi.event`` runs it before the handler), apart
    from a function's."""
    from threads_api import auth

    results: dict[str, Any] = {}
    auth._cache.clear()
    counted.clear()
    api.event("GET", "/v1/threads", {"authorization": f"Bearer {key}"}, b"", "127.0.0.1")
    results["auth lookup, cold authorizer (GetItem)"] = counted.count("GetItem")
    counted.clear()
    api.event("GET", "/v1/threads", {"authorization": f"Bearer {key}"}, b"", "127.0.0.1")
    results["auth lookup, warm authorizer"] = counted.count("GetItem")
    call("GET", "/threads")
    results["auth lookup in a function"] = counted.count("GetItem")
    return results


def _operations(call: Call, counted: list[str]) -> dict[str, Any]:
    """Each thread and message operation's round trips and calls."""
    results: dict[str, Any] = {}

    def trips(name: str, method: str, path: str, body: Any = None) -> dict[str, Any]:
        reply = call(method, path, body)
        results[name] = {"round_trips": len(counted), "calls": list(counted)}
        return reply

    trips("create thread (0 messages)", "POST", "/threads")
    thread = trips(
        "create thread (32 messages)",
        "POST",
        "/threads",
        {"messages": [{"role": "user", "content": f"m{i}"} for i in range(32)]},
    )
    t = thread["id"]
    trips("retrieve thread", "GET", f"/threads/{t}")
    trips("modify thread", "POST", f"/threads/{t}", {"metadata": {"a": "b"}})
    message = trips("append message", "POST", f"/threads/{t}/messages", {"role": "user", "content": "hi"})
    trips("list messages", "GET", f"/threads/{t}/messages")
    trips("list messages (after cursor)", "GET", f"/threads/{t}/messages?after={message['id']}&order=asc")
    trips("retrieve message", "GET", f"/threads/{t}/messages/{message['id']}")
    trips("modify message", "POST", f"/threads/{t}/messages/{message['id']}", {"metadata": {"a": "b"}})
    trips("delete message", "DELETE", f"/threads/{t}/messages/{message['id']}")
    trips("list threads", "GET", "/threads")
    trips("list threads (after cursor)", "GET", f"/threads?after={t}")
    trips("delete thread", "DELETE", f"/threads/{t}")
    return results
