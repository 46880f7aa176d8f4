"""What the assistant tests share: an assistant created, and the list read, each checked against OpenAI's schema."""

from __future__ import annotations

import re
from typing import Any

from tests.contract.schemas import assert_valid
from tests.handlers.conftest import Api

ID = re.compile(r"^asst_[A-Za-z0-9]{24}$")


SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "answer", "schema": {"type": "object", "properties": {"a": {"type": "number"}}}},
}


def _create(api: Api, key: str = "default", **fields: Any) -> dict[str, Any]:
    reply = api("POST", "/assistants", {"model": "gpt-4o", **fields}, key=key)
    assert reply.status == 200, reply.body
    assert_valid(reply.body, "AssistantObject")
    return dict(reply.body)


def _listed(api: Api, query: str = "", key: str = "default") -> dict[str, Any]:
    reply = api("GET", f"/assistants{query}", key=key)
    assert reply.status == 200, reply.body
    assert_valid(reply.body, "ListAssistantsResponse")
    return dict(reply.body)
