"""The five assistant operations through the real handlers: what each answers and keeps, lists and their
cursors, deletion, and another project's key."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.schemas import assert_error, assert_valid
from tests.handlers.assistants_support import ID, SCHEMA_FORMAT, _create, _listed
from tests.handlers.conftest import Api
from tests.samples import WEATHER


def test_create_with_only_a_model_answers_openais_defaults(api: Api) -> None:
    body = _create(api)
    assert ID.match(body["id"])
    assert body["object"] == "assistant"
    assert body["model"] == "gpt-4o"
    assert body["name"] is None
    assert body["description"] is None
    assert body["instructions"] is None
    assert body["tools"] == []
    assert body["tool_resources"] == {}
    assert body["metadata"] == {}
    assert body["temperature"] is None
    assert body["top_p"] is None
    assert body["response_format"] == "auto"


def test_create_keeps_every_field_and_retrieve_answers_the_same(api: Api) -> None:
    fields: dict[str, Any] = {
        "model": "any-provider/model:v1",
        "name": "Weather bot",
        "description": "Answers about the weather.",
        "instructions": "Be brief.",
        "tools": [WEATHER, {"type": "function", "function": {"name": "noop"}}],
        "tool_resources": {"code_interpreter": {"file_ids": ["file-1"]}},
        "metadata": {"team": "a"},
        "temperature": 0.7,
        "top_p": 1,
        "response_format": SCHEMA_FORMAT,
        "reasoning_effort": "low",
    }
    created = _create(api, **fields)
    for name in ("model", "name", "description", "instructions", "tools", "metadata", "temperature", "top_p"):
        assert created[name] == fields[name], name
    assert created["tool_resources"] == {"code_interpreter": {"file_ids": ["file-1"]}}
    assert created["response_format"] == SCHEMA_FORMAT
    assert "reasoning_effort" not in created  # accepted, not kept: AssistantObject has no such field
    got = api("GET", f"/assistants/{created['id']}")
    assert got.status == 200
    assert got.body == created


@pytest.mark.parametrize("response_format", ["auto", {"type": "text"}, {"type": "json_object"}, SCHEMA_FORMAT])
def test_every_response_format_is_kept_as_sent(api: Api, response_format: Any) -> None:
    assert _create(api, response_format=response_format)["response_format"] == response_format


@pytest.mark.parametrize("number", [5e-324, 1.1125369292536007e-308, 1e-131, 0.123456789012345678, 1.0])
def test_any_double_in_range_is_kept_exactly_even_below_dynamodbs_smallest_number(api: Api, number: float) -> None:
    """OpenAI takes any double in [0, 1] for top_p; DynamoDB's numbers stop at 1E-130 (a fuzzer found the 500)."""
    created = _create(api, temperature=number, top_p=number)
    got = api("GET", f"/assistants/{created['id']}").body
    assert (created["temperature"], created["top_p"], got["temperature"], got["top_p"]) == (number,) * 4


def test_large_instructions_and_tools_are_kept_whole(api: Api) -> None:
    """Values past 1 KB are stored compressed; the largest OpenAI allows come back as they were sent."""
    instructions = "".join(f"Rule {n}: answer question {n} politely. " for n in range(7_000))[:256_000]
    tools = [
        {"type": "function", "function": {"name": f"tool_{n}", "description": "d" * 100, "parameters": {}}}
        for n in range(128)
    ]
    created = _create(api, instructions=instructions, tools=tools)
    got = api("GET", f"/assistants/{created['id']}").body
    assert got["instructions"] == instructions
    assert got["tools"] == tools


def test_modify_replaces_what_is_sent_keeps_what_is_omitted_and_null_clears(api: Api) -> None:
    created = _create(
        api, name="n", description="d", instructions="i", tools=[WEATHER], metadata={"a": "1"}, temperature=1.5
    )
    path = f"/assistants/{created['id']}"
    renamed = api("POST", path, {"name": "renamed", "model": "gpt-4.1", "top_p": 0.5})
    assert renamed.status == 200
    assert_valid(renamed.body, "AssistantObject")
    assert renamed.body == created | {"name": "renamed", "model": "gpt-4.1", "top_p": 0.5}

    cleared = api(
        "POST",
        path,
        {"name": None, "instructions": None, "metadata": None, "temperature": None, "response_format": None},
    )
    assert cleared.status == 200
    assert cleared.body["name"] is None
    assert cleared.body["instructions"] is None
    assert cleared.body["metadata"] == {}
    assert cleared.body["temperature"] is None
    assert cleared.body["response_format"] == "auto"
    assert cleared.body["description"] == "d"  # omitted: kept
    assert cleared.body["tools"] == [WEATHER]  # omitted: kept

    emptied = api("POST", path, {"tools": [], "tool_resources": None, "response_format": {"type": "json_object"}})
    assert emptied.body["tools"] == []
    assert emptied.body["tool_resources"] == {}
    assert emptied.body["response_format"] == {"type": "json_object"}
    assert api("GET", path).body == emptied.body
    assert emptied.body["created_at"] == created["created_at"]

    unchanged = api("POST", path, {})
    assert unchanged.status == 200
    assert unchanged.body == emptied.body


def test_delete_answers_the_deleted_object_then_every_route_is_404(api: Api) -> None:
    created = _create(api)
    path = f"/assistants/{created['id']}"
    deleted = api("DELETE", path)
    assert deleted.status == 200
    assert_valid(deleted.body, "DeleteAssistantResponse")
    assert deleted.body == {"id": created["id"], "object": "assistant.deleted", "deleted": True}
    for method, body in (("GET", None), ("POST", {"name": "x"}), ("DELETE", None)):
        gone = api(method, path, body)
        assert gone.status == 404, method
        assert_error(gone.body, 404, contains=f"No assistant found with id '{created['id']}'.")
    assert _listed(api)["data"] == []


def test_another_projects_key_sees_404_on_every_route_and_changes_nothing(api: Api) -> None:
    created = _create(api, name="alpha's")
    path = f"/assistants/{created['id']}"
    for method, body in (("GET", None), ("POST", {"name": "beta's"}), ("DELETE", None)):
        reply = api(method, path, body, key=api.other_key)
        assert reply.status == 404, method
        assert_error(reply.body, 404, contains=f"No assistant found with id '{created['id']}'.")
    listed = _listed(api, key=api.other_key)
    assert listed["data"] == []
    assert listed["has_more"] is False
    cursor = api("GET", f"/assistants?after={created['id']}", key=api.other_key)
    assert cursor.status == 400
    assert_error(cursor.body, 400, param="after")
    assert api("GET", path).body == created


def test_ids_that_cannot_exist_are_404_without_a_lookup(api: Api) -> None:
    for assistant_id in ("thread_abc", "asst_a%2Fb", "asst_" + "a" * 300, "asst_..", "msg_x"):
        reply = api("GET", f"/assistants/{assistant_id}")
        assert reply.status == 404, assistant_id
        assert_error(reply.body, 404, contains="No assistant found with id")


def test_list_pages_newest_first_and_oldest_first_through_both_cursors(api: Api) -> None:
    ids = [_create(api, name=f"a{n}")["id"] for n in range(5)]
    newest = _listed(api)
    assert [a["id"] for a in newest["data"]] == ids[::-1]
    assert newest["first_id"] == ids[-1]
    assert newest["last_id"] == ids[0]
    assert newest["has_more"] is False

    first = _listed(api, "?order=asc&limit=2")
    assert [a["id"] for a in first["data"]] == ids[:2]
    assert first["has_more"] is True
    second = _listed(api, f"?order=asc&limit=2&after={first['last_id']}")
    assert [a["id"] for a in second["data"]] == ids[2:4]
    assert second["has_more"] is True
    third = _listed(api, f"?order=asc&limit=2&after={second['last_id']}")
    assert [a["id"] for a in third["data"]] == ids[4:]
    assert third["has_more"] is False

    back = _listed(api, f"?order=asc&limit=2&before={ids[4]}")
    assert [a["id"] for a in back["data"]] == ids[2:4]
    assert back["has_more"] is True
    desc_after = _listed(api, f"?limit=3&after={ids[3]}")
    assert [a["id"] for a in desc_after["data"]] == ids[2::-1]
    assert desc_after["has_more"] is False
    desc_before = _listed(api, f"?limit=1&before={ids[1]}")
    assert [a["id"] for a in desc_before["data"]] == [ids[2]]
    assert desc_before["has_more"] is True
