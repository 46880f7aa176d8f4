"""The five assistant operations, their errors, and the rules around them, through the real handlers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.local.invoke import LocalContext
from tests.contract.schemas import assert_error, assert_valid
from tests.handlers.conftest import Api
from tests.samples import WEATHER

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


def test_create_with_only_a_model_answers_openais_defaults(api: Api) -> None:
    body = _create(api)
    assert ID.match(body["id"])
    assert body["object"] == "assistant" and body["model"] == "gpt-4o"
    assert body["name"] is None and body["description"] is None and body["instructions"] is None
    assert body["tools"] == [] and body["tool_resources"] == {} and body["metadata"] == {}
    assert body["temperature"] is None and body["top_p"] is None and body["response_format"] == "auto"


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
    assert got.status == 200 and got.body == created


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
    assert got["instructions"] == instructions and got["tools"] == tools


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
    assert cleared.body["name"] is None and cleared.body["instructions"] is None
    assert cleared.body["metadata"] == {} and cleared.body["temperature"] is None
    assert cleared.body["response_format"] == "auto"
    assert cleared.body["description"] == "d" and cleared.body["tools"] == [WEATHER]  # omitted: kept

    emptied = api("POST", path, {"tools": [], "tool_resources": None, "response_format": {"type": "json_object"}})
    assert emptied.body["tools"] == [] and emptied.body["tool_resources"] == {}
    assert emptied.body["response_format"] == {"type": "json_object"}
    assert api("GET", path).body == emptied.body
    assert emptied.body["created_at"] == created["created_at"]

    unchanged = api("POST", path, {})
    assert unchanged.status == 200 and unchanged.body == emptied.body


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
    assert listed["data"] == [] and listed["has_more"] is False
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
    assert newest["first_id"] == ids[-1] and newest["last_id"] == ids[0] and newest["has_more"] is False

    first = _listed(api, "?order=asc&limit=2")
    assert [a["id"] for a in first["data"]] == ids[:2] and first["has_more"] is True
    second = _listed(api, f"?order=asc&limit=2&after={first['last_id']}")
    assert [a["id"] for a in second["data"]] == ids[2:4] and second["has_more"] is True
    third = _listed(api, f"?order=asc&limit=2&after={second['last_id']}")
    assert [a["id"] for a in third["data"]] == ids[4:] and third["has_more"] is False

    back = _listed(api, f"?order=asc&limit=2&before={ids[4]}")
    assert [a["id"] for a in back["data"]] == ids[2:4] and back["has_more"] is True
    desc_after = _listed(api, f"?limit=3&after={ids[3]}")
    assert [a["id"] for a in desc_after["data"]] == ids[2::-1] and desc_after["has_more"] is False
    desc_before = _listed(api, f"?limit=1&before={ids[1]}")
    assert [a["id"] for a in desc_before["data"]] == [ids[2]] and desc_before["has_more"] is True


@pytest.mark.parametrize(
    ("query", "param"),
    [("?after=asst_nosuchassistant", "after"), ("?before=thread_abc", "before"), ("?limit=0", "limit")],
)
def test_bad_list_parameters_are_400_naming_them(api: Api, query: str, param: str) -> None:
    reply = api("GET", f"/assistants{query}")
    assert reply.status == 400
    assert_error(reply.body, 400, param=param)


UNSUPPORTED = "Only 'function' tools are supported"


@pytest.mark.parametrize(
    ("body", "param", "contains"),
    [
        ({}, "model", "Missing required parameter: 'model'."),
        ({"model": None}, "model", "expected a string, but got null"),
        ({"model": ""}, "model", "empty string"),
        ({"model": "m", "foo": 1}, "foo", "Unrecognized request argument supplied: foo"),
        ({"model": "m", "name": "n" * 257}, "name", "maximum length 256, but got a string with length 257"),
        ({"model": "m" * 257}, "model", "maximum length 256, but got a string with length 257"),
        ({"model": "m", "description": "d" * 513}, "description", "maximum length 512"),
        ({"model": "m", "instructions": "i" * 256_001}, "instructions", "maximum length 256000"),
        ({"model": "m", "temperature": 2.5}, "temperature", "decimal above maximum value. Expected a value <= 2"),
        ({"model": "m", "temperature": -1}, "temperature", "decimal below minimum value. Expected a value >= 0"),
        ({"model": "m", "temperature": "1"}, "temperature", "expected a number, but got a string"),
        ({"model": "m", "top_p": 1.1}, "top_p", "Expected a value <= 1, but got 1.1 instead."),
        ({"model": "m", "metadata": {str(i): "v" for i in range(17)}}, "metadata", "at most 16 properties"),
        ({"model": "m", "metadata": {"k" * 65: "v"}}, "metadata", "key too long"),
        ({"model": "m", "metadata": {"k": "v" * 513}}, "metadata", "maximum length 512"),
        ({"model": "m", "metadata": {"k": 1}}, "metadata.k", "expected a string"),
        ({"model": "m", "tools": [{"type": "code_interpreter"}]}, "tools[0].type", UNSUPPORTED),
        ({"model": "m", "tools": [WEATHER, {"type": "file_search"}]}, "tools[1].type", "no vector store service"),
        ({"model": "m", "tools": [{"type": "web_search"}]}, "tools[0].type", "Invalid value: 'web_search'"),
        ({"model": "m", "tools": [{"type": "function"}]}, "tools[0].function", "Missing required parameter"),
        ({"model": "m", "tools": [{"function": {"name": "f"}}]}, "tools[0].type", "Missing required parameter"),
        ({"model": "m", "tools": [WEATHER] * 129}, "tools", "maximum length 128"),
        ({"model": "m", "tools": "x"}, "tools", "expected an array"),
        (
            {"model": "m", "tools": [{"type": "function", "function": {"name": "get weather"}}]},
            "tools[0].function.name",
            "an id of 1 to 64 characters",
        ),
        (
            {"model": "m", "tools": [{"type": "function", "function": {"name": "f" * 65}}]},
            "tools[0].function.name",
            "Invalid 'tools[0].function.name'",
        ),
        (
            {"model": "m", "tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]},
            "tools[0].function.parameters",
            "expected an object",
        ),
        ({"model": "m", "response_format": "json"}, "response_format", "Invalid value: 'json'"),
        ({"model": "m", "response_format": 5}, "response_format", "expected an object, but got an integer"),
        ({"model": "m", "response_format": {"type": "xml"}}, "response_format.type", "Invalid value: 'xml'"),
        ({"model": "m", "response_format": {}}, "response_format.type", "Missing required parameter"),
        (
            {"model": "m", "response_format": {"type": "json_schema"}},
            "response_format.json_schema",
            "Missing required parameter",
        ),
        (
            {"model": "m", "response_format": {"type": "json_schema", "json_schema": {"name": "a b"}}},
            "response_format.json_schema.name",
            "an id of 1 to 64 characters",
        ),
        (
            {"model": "m", "tool_resources": {"file_search": {"vector_store_ids": ["a", "b"]}}},
            "tool_resources.file_search.vector_store_ids",
            "maximum length 1",
        ),
        ({"model": "m", "reasoning_effort": "extreme"}, "reasoning_effort", "Invalid value: 'extreme'"),
    ],
)
def test_bad_create_is_a_400_naming_the_field_and_writes_nothing(
    api: Api, body: dict[str, Any], param: str, contains: str
) -> None:
    reply = api("POST", "/assistants", body)
    assert reply.status == 400, reply.body
    assert_error(reply.body, 400, param=param, contains=contains)
    assert reply.headers["x-should-retry"] == "false"
    assert _listed(api)["data"] == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": None}, "model"),
        ({"tools": None}, "tools"),
        ({"tools": [{"type": "code_interpreter"}]}, "tools[0].type"),
        ({"temperature": 3}, "temperature"),
        ({"name": "n" * 257}, "name"),
        ({"metadata": {"k": "v" * 513}}, "metadata"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_modify_is_a_400_naming_the_field_and_changes_nothing(api: Api, body: dict[str, Any], param: str) -> None:
    created = _create(api, tools=[WEATHER])
    reply = api("POST", f"/assistants/{created['id']}", body)
    assert reply.status == 400, reply.body
    assert_error(reply.body, 400, param=param)
    assert api("GET", f"/assistants/{created['id']}").body == created


def test_instructions_too_large_to_store_compressed_are_a_400_naming_them(api: Api) -> None:
    """Random text barely compresses: 256,000 characters of it cannot fit the assistant's one item."""
    import random

    rng = random.Random(7)
    noise = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(256_000))
    reply = api("POST", "/assistants", {"model": "m", "instructions": noise})
    assert reply.status == 400
    assert_error(reply.body, 400, param="instructions", contains="too large to store")
    created = _create(api)
    modify = api("POST", f"/assistants/{created['id']}", {"instructions": noise})
    assert modify.status == 400
    assert_error(modify.body, 400, param="instructions", contains="too large to store")
    assert [a["id"] for a in _listed(api)["data"]] == [created["id"]]


# -- Idempotency-Key -------------------------------------------------------------------------------------


def test_keyed_create_replays_the_first_response_and_writes_once(api: Api) -> None:
    headers = {"Idempotency-Key": "create-once"}
    first = api("POST", "/assistants", {"model": "m", "name": "once"}, headers=headers)
    assert first.status == 200 and first.headers["idempotent-replayed"] == "false"
    again = api("POST", "/assistants", {"model": "m", "name": "once"}, headers=headers)
    assert again.status == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.body == first.body
    assert [a["id"] for a in _listed(api)["data"]] == [first.body["id"]]
    other = api("POST", "/assistants", {"model": "m", "name": "twice?"}, headers=headers)
    assert other.status == 400
    assert_error(other.body, 400, param="Idempotency-Key", contains="already used")


def test_keyed_requests_that_fail_are_not_remembered(api: Api) -> None:
    headers = {"Idempotency-Key": "fix-and-retry"}
    assert api("POST", "/assistants", {"name": "no model"}, headers=headers).status == 400
    assert api("POST", "/assistants", {"model": "m"}, headers=headers).status == 200
    missing = api("POST", "/assistants/asst_nosuchassistant", {"name": "x"}, headers={"Idempotency-Key": "m-1"})
    assert missing.status == 404


def test_keyed_modify_replays_the_first_response(api: Api) -> None:
    created = _create(api)
    headers = {"Idempotency-Key": "modify-once"}
    first = api("POST", f"/assistants/{created['id']}", {"metadata": {"v": "1"}}, headers=headers)
    assert first.status == 200 and first.headers["idempotent-replayed"] == "false"
    api("POST", f"/assistants/{created['id']}", {"metadata": {"v": "2"}})
    again = api("POST", f"/assistants/{created['id']}", {"metadata": {"v": "1"}}, headers=headers)
    assert again.headers["idempotent-replayed"] == "true" and again.body == first.body
    assert api("GET", f"/assistants/{created['id']}").body["metadata"] == {"v": "2"}


def test_a_keyed_create_whose_record_failed_is_a_success_and_its_retry_finds_it_instead_of_writing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The put commits, then saving the idempotency record fails: the client still gets the assistant, and a
    retry (the in-progress record expired with the first invocation) finds it under the derived id."""
    from botocore.exceptions import ClientError

    from threads_api import store

    real = store.client._make_api_call  # type: ignore[attr-defined]
    throttled: list[str] = []

    def call(operation: str, params: dict[str, Any]) -> Any:
        if operation == "UpdateItem" and params["Key"]["pk"]["S"].startswith("idempotency#"):
            throttled.append(operation)
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, operation)
        return real(operation, params)

    headers = {"Idempotency-Key": "committed"}
    body = {"model": "m", "name": "exactly once"}
    with monkeypatch.context() as patch:
        patch.setattr(store.client, "_make_api_call", call)
        patch.setattr(LocalContext, "get_remaining_time_in_millis", lambda self: 0)
        first = api("POST", "/assistants", body, headers=headers)
    assert throttled and first.status == 200, first.body
    again = api("POST", "/assistants", body, headers=headers)
    assert again.status == 200 and again.body == first.body
    assert [a["id"] for a in _listed(api)["data"]] == [first.body["id"]]


def test_a_function_whose_schema_nests_deeply_is_kept_and_one_too_deep_names_tools(api: Api) -> None:
    """Tools start five levels down, and each nested property takes two more: 20 nested objects fit."""

    def schema(levels: int) -> dict[str, Any]:
        inner: dict[str, Any] = {"type": "string", "enum": ["cm", "in"]}
        for n in range(levels):
            inner = {"type": "object", "properties": {f"p{n}": inner}}
        return inner

    deep = {"type": "function", "function": {"name": "place_order", "parameters": schema(20)}}
    created = _create(api, tools=[deep])
    assert created["tools"] == [deep]
    too_deep = {"type": "function", "function": {"name": "place_order", "parameters": schema(40)}}
    reply = api("POST", "/assistants", {"model": "gpt-4o", "tools": [too_deep]})
    assert_error(reply.body, 400, param="tools", contains="nested too deeply")
