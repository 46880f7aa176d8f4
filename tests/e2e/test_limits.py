"""AWS's limits, met where they bite: list pages that would serialize past Lambda's 6 MB result come back
shorter (``has_more``), never as API Gateway's 502, and following the cursor still visits everything once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Server
from tests.e2e.test_http import send

pytestmark = pytest.mark.e2e

# The largest metadata OpenAI allows, in the characters JSON escapes the most (6 bytes each, then 7 once
# escaped again inside Lambda's result): about 59 KB an object, so 100 threads are 5.9 MB once serialized,
# and 100 messages with 2,000 such characters of text as well are 7.3 MB.
HOSTILE_METADATA = {f"{n:02d}".ljust(64, "k"): "\u0001" * 512 for n in range(16)}
HOSTILE_TEXT = "\u0001" * 2_000
COUNT = 100


def _all_pages(server: Server, path: str, key: str = "default") -> tuple[list[str], int]:
    ids: list[str] = []
    pages = 0
    after = None
    while True:
        query = f"?limit={COUNT}&order=asc" + (f"&after={after}" if after else "")
        response = send(server, "GET", path + query, key=key)
        assert response.status_code == 200, response.text[:300]
        page = response.json()
        pages += 1
        ids += [item["id"] for item in page["data"]]
        if not page["has_more"]:
            return ids, pages
        after = page["last_id"]


def test_a_page_of_messages_fits_lambdas_result_limit(server: Server) -> None:
    thread = send(server, "POST", "/threads").json()
    created = []
    for _ in range(COUNT):
        body: dict[str, Any] = {"role": "user", "content": HOSTILE_TEXT, "metadata": HOSTILE_METADATA}
        created.append(send(server, "POST", f"/threads/{thread['id']}/messages", json=body).json()["id"])
    ids, pages = _all_pages(server, f"/threads/{thread['id']}/messages")
    assert ids == created
    assert pages > 1  # one page of 100 would not fit


def test_a_page_of_threads_fits_lambdas_result_limit(server: Server) -> None:
    key = server.mint("hostile-metadata")
    created = []
    for _ in range(COUNT):
        created.append(send(server, "POST", "/threads", key=key, json={"metadata": HOSTILE_METADATA}).json()["id"])
    ids, _ = _all_pages(server, "/threads", key)
    assert sorted(ids) == sorted(created)  # each once (threads of one millisecond may sort either way)
