"""List pages fit Lambda's 6 MB response, measured as the runtime sends it, with pagination intact."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.handlers.conftest import Api

LAMBDA_RESPONSE_MAX_BYTES = 6_291_456  # Lambda's limit on a function's result, as UTF-8

# The most hostile metadata OpenAI's limits allow: 16 pairs of 64-character keys and 512-character values of
# control characters, which JSON writes as 6 bytes ("\u0001") and the result's JSON escapes once more (7).
HOSTILE = {f"{n:02d}" + "\u0001" * 62: "\u0001" * 512 for n in range(16)}


def _result(api: Api, path: str) -> tuple[int, dict[str, Any]]:
    """The handler's own result for a GET: its size as the python3.13 runtime serializes it, and its body."""
    handler, event = api._local.event("GET", f"/v1{path}", {"authorization": f"Bearer {api.key}"}, b"", "127.0.0.1")
    result = handler(event, None)
    assert result["statusCode"] == 200, result["body"][:500]
    return len(json.dumps(result, ensure_ascii=False).encode()), json.loads(result["body"])


def _walk(api: Api, path: str, cursor: str, start: str = "", limit: int = 100) -> tuple[list[str], list[int]]:
    """Follow the cursor (``after``: last_id, ``before``: first_id) from ``start`` to the end."""
    seen: list[str] = []
    pages: list[int] = []
    query = f"&{cursor}={start}" if start else ""
    while True:
        size, page = _result(api, f"{path}limit={limit}{query}")
        assert size <= LAMBDA_RESPONSE_MAX_BYTES
        assert 1 <= len(page["data"]) <= limit
        ids = [item["id"] for item in page["data"]]
        seen = seen + ids if cursor == "after" else ids + seen
        pages.append(len(ids))
        if not page["has_more"]:
            return seen, pages
        query = f"&after={page['last_id']}" if cursor == "after" else f"&before={page['first_id']}"


@pytest.fixture
def hostile_thread(api: Api) -> tuple[str, list[str]]:
    """A thread of 100 messages that each carry the hostile metadata: 6.5 MB as one page of 100."""
    from threads_api import store
    from threads_api.domain import clock, ids
    from threads_api.domain.records import Message

    created = api("POST", "/threads", {"messages": [{"role": "user", "content": "m", "metadata": HOSTILE}] * 32})
    assert created.status == 200
    thread_id = created.body["id"]
    first = api("GET", f"/threads/{thread_id}/messages?limit=32&order=asc").body
    assert len(first["data"]) == 32
    assert first["has_more"] is False
    # 68 more, written as the store writes them (appends are covered elsewhere; this is volume).
    later = clock.now_ms() + 1_000
    more = [Message(f"msg_hostile{n:013d}", thread_id, later // 1000, "user", [], [], HOSTILE) for n in range(68)]
    store.batch_write(
        [
            {"PutRequest": {"Item": item}}
            for n, message in enumerate(more)
            for item in store._message_items(thread_id, message, ids.order_key(later, n))
        ]
    )
    return thread_id, [m["id"] for m in first["data"]] + [m.id for m in more]


def test_a_page_of_messages_fits_the_response_limit_whatever_their_metadata(
    api: Api, hostile_thread: tuple[str, list[str]]
) -> None:
    thread_id, ids = hostile_thread
    size, first = _result(api, f"/threads/{thread_id}/messages?limit=100&order=asc")
    assert size <= LAMBDA_RESPONSE_MAX_BYTES
    assert first["has_more"] is True
    assert 1 <= len(first["data"]) < 100
    assert first["data"][0]["metadata"] == HOSTILE
    for order, expected in (("asc", ids), ("desc", ids[::-1])):
        seen, pages = _walk(api, f"/threads/{thread_id}/messages?order={order}&", "after")
        assert seen == expected, order  # every message exactly once, in order
        assert len(pages) > 1

    # A ``before`` page keeps the end nearest its cursor: the messages just before it, none skipped.
    size, page = _result(api, f"/threads/{thread_id}/messages?limit=100&order=asc&before={ids[-1]}")
    assert size <= LAMBDA_RESPONSE_MAX_BYTES
    assert page["has_more"] is True
    kept = [m["id"] for m in page["data"]]
    assert kept == ids[99 - len(kept) : 99]
    seen, _ = _walk(api, f"/threads/{thread_id}/messages?order=asc&", "before", ids[-1])
    assert seen == ids[:99]


def test_a_page_of_threads_fits_the_response_limit_whatever_their_metadata(api: Api) -> None:
    ids = []
    for _ in range(100):
        created = api("POST", "/threads", {"metadata": HOSTILE})
        assert created.status == 200
        ids.append(created.body["id"])
    size, first = _result(api, "/threads?limit=100")
    assert size <= LAMBDA_RESPONSE_MAX_BYTES
    assert first["has_more"] is True
    assert 1 <= len(first["data"]) < 100
    seen, _ = _walk(api, "/threads?", "after")
    assert seen == ids[::-1]  # newest first, every thread exactly once
    seen, _ = _walk(api, "/threads?order=asc&", "after")
    assert seen == ids
    seen, _ = _walk(api, "/threads?order=asc&", "before", ids[-1])
    assert seen == ids[:-1]
