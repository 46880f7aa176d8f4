"""What the thread routes refuse, through the real handlers: bad input (a 400 naming the field, nothing
written), ids outside the id alphabet, text and bodies too large, malformed or too deeply nested JSON, missing,
wrong or revoked keys, and an unknown route (OpenAI's 404)."""

from __future__ import annotations

import pytest

from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api
from threads_api.domain import limits


@pytest.mark.parametrize(
    ("body", "param", "contains"),
    [
        ({"foo": 1}, "foo", "Unrecognized request argument supplied: foo"),
        ({"messages": [{"role": "system", "content": "x"}]}, "messages[0].role", "'system'"),
        ({"messages": [{"role": "user", "content": ""}]}, "messages[0].content", "empty string"),
        ({"messages": [{"role": "user", "content": []}]}, "messages[0].content", "empty array"),
        ({"messages": [{"role": "user"}]}, "messages[0].content", "Missing required parameter"),
        ({"messages": [{"content": "x"}]}, "messages[0].role", "Missing required parameter"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content", "expected an array"),
        ({"messages": [{"role": "user", "content": "x", "bogus": 1}]}, "messages[0].bogus", "Unrecognized"),
        ({"messages": [{"role": "user", "content": [{"type": "audio"}]}]}, "messages[0].content[0]", "Invalid"),
        ({"messages": "hello"}, "messages", "expected an array"),
        ({"messages": [{"role": "user", "content": "x"}] * 33}, "messages", "maximum length 32"),
        ({"metadata": "x"}, "metadata", "Invalid type for 'metadata'"),
        ({"metadata": {str(i): "v" for i in range(17)}}, "metadata", "at most 16 properties"),
        ({"metadata": {"k" * 65: "v"}}, "metadata", "key too long"),
        ({"metadata": {"k": "v" * 513}}, "metadata", "maximum length 512"),
        ({"metadata": {"k": 1}}, "metadata.k", "expected a string"),
        ({"tool_resources": {"code_interpreter": {"file_ids": ["f"] * 21}}}, None, "maximum length 20"),
        ({"tool_resources": {"file_search": {"vector_store_ids": ["a", "b"]}}}, None, "maximum length 1"),
        (
            {"tool_resources": {"file_search": {"vector_store_ids": ["vs_a"], "vector_stores": [{"file_ids": []}]}}},
            "tool_resources.file_search",
            "vector_store",
        ),
        ({"tool_resources": {"file_search": {"vector_stores": [{"file_ids": []}] * 2}}}, None, "maximum length 1"),
        ({"tool_resources": {"file_search": {"vector_stores": [{"file_ids": ["f"] * 501}]}}}, None, "500"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    api: Api, body: dict[str, object], param: str | None, contains: str
) -> None:
    reply = api("POST", "/threads", body)
    assert reply.status == 400
    assert_error(reply.body, 400, param=param, contains=contains)
    assert reply.headers["x-should-retry"] == "false"
    assert api("GET", "/threads").body["data"] == []


ID_RULE = "an id of 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'"


def _tools(kind: str, bad: str) -> dict[str, object]:
    if kind == "file_ids":
        return {"tool_resources": {"code_interpreter": {"file_ids": ["file-ok", bad]}}}
    return {"tool_resources": {"file_search": {"vector_store_ids": [bad]}}}


def _message(kind: str, bad: str) -> dict[str, object]:
    if kind == "attachment":
        return {"role": "user", "content": "x", "attachments": [{"file_id": bad}]}
    return {"role": "user", "content": [{"type": "image_file", "image_file": {"file_id": bad}}]}


# (what carries the id, the request that sends it, the param the 400 names)
ID_CASES = [
    ("file_ids", "create", "tool_resources.code_interpreter.file_ids[1]"),
    ("file_ids", "modify", "tool_resources.code_interpreter.file_ids[1]"),
    ("vector_store_ids", "create", "tool_resources.file_search.vector_store_ids[0]"),
    ("vector_store_ids", "modify", "tool_resources.file_search.vector_store_ids[0]"),
    ("attachment", "create", "messages[0].attachments[0].file_id"),
    ("attachment", "append", "attachments[0].file_id"),
    ("image_file", "create", "messages[0].content[0].image_file.file_id"),
    ("image_file", "append", "content[0].image_file.file_id"),
]


BAD_IDS = ["../etc passwd", "<script>", "file id", "file/1", "f\u00efle", "\uff11", "a" * 65, ""]


@pytest.mark.parametrize(("kind", "request_kind", "param"), ID_CASES, ids=[f"{k}-{r}" for k, r, _ in ID_CASES])
def test_every_id_the_api_accepts_is_64_characters_of_the_id_alphabet(
    api: Api, kind: str, request_kind: str, param: str
) -> None:
    """Ids are stored and returned as given: anything but [A-Za-z0-9_-]{1,64} is refused, naming the field."""
    thread_id = api("POST", "/threads").body["id"]
    for bad in BAD_IDS:
        if request_kind == "create":
            tools = kind in ("file_ids", "vector_store_ids")
            reply = api("POST", "/threads", _tools(kind, bad) if tools else {"messages": [_message(kind, bad)]})
        elif request_kind == "modify":
            reply = api("POST", f"/threads/{thread_id}", _tools(kind, bad))
        else:
            reply = api("POST", f"/threads/{thread_id}/messages", _message(kind, bad))
        assert reply.status == 400, (bad, reply.body)
        assert_error(reply.body, 400, param=param)
        assert reply.body["error"]["message"].startswith(f"Invalid '{param}'")
        if 0 < len(bad) <= 64:
            assert ID_RULE in reply.body["error"]["message"], bad
    assert [t["id"] for t in api("GET", "/threads").body["data"]] == [thread_id]
    assert api("GET", f"/threads/{thread_id}").body["tool_resources"] == {}
    assert api("GET", f"/threads/{thread_id}/messages").body["data"] == []


def test_ids_of_the_id_alphabet_are_kept_as_given_and_a_vector_store_must_exist(api: Api) -> None:
    store_id = api("POST", "/vector_stores", {"name": "kb"}).body["id"]
    tools = {
        "code_interpreter": {"file_ids": ["file-" + "A" * 59, "f"]},
        "file_search": {"vector_store_ids": [store_id]},
    }
    thread = api("POST", "/threads", {"tool_resources": tools})
    assert thread.status == 200
    assert thread.body["tool_resources"] == tools
    # An id of the alphabet that names no store of the project: a 404 before anything is written.
    missing = api("POST", "/threads", {"tool_resources": {"file_search": {"vector_store_ids": ["vs_0-9"]}}})
    assert_error(missing.body, 404, contains="No vector store found with id 'vs_0-9'")
    assert [t["id"] for t in api("GET", "/threads").body["data"]] == [thread.body["id"]]


def test_message_text_limit_is_256000_characters(api: Api) -> None:
    ok = api("POST", "/threads", {"messages": [{"role": "user", "content": "a" * 256_000}]})
    assert ok.status == 200
    over = api("POST", "/threads", {"messages": [{"role": "user", "content": "a" * 256_001}]})
    assert over.status == 400
    assert_error(over.body, 400, param="messages[0].content", contains="256000")


@pytest.mark.parametrize(
    ("raw", "contains"),
    [
        (b"{not json", "could not parse the JSON body"),
        (b"[1, 2]", "expected an object, but got an array"),
        (b'"text"', "expected an object, but got a string"),
        (b'{"metadata": {"k": "\\ud800"}}', "invalid Unicode"),
        (b"\xff\xfe{}", "not valid UTF-8"),
    ],
)
def test_malformed_bodies_are_400(api: Api, raw: bytes, contains: str) -> None:
    reply = api("POST", "/threads", raw=raw)
    assert reply.status == 400
    assert_error(reply.body, 400, contains=contains)


def test_oversized_body_is_413(api: Api) -> None:
    reply = api("POST", "/threads", raw=b'{"metadata": {"k": "' + b"x" * (4 * 1024 * 1024) + b'"}}')
    assert reply.status == 413
    assert_error(reply.body, 413, contains="too large")


def test_ids_that_cannot_exist_are_404_without_a_lookup(api: Api) -> None:
    for thread_id in ("thread_x%2Fy", "msg_abc", "thread_" + "a" * 300, "thread_..", "thread_%F0%9F%98%80"):
        reply = api("GET", f"/threads/{thread_id}")
        assert reply.status == 404
        assert_error(reply.body, 404, contains="No thread found with id")


def test_keys_missing_wrong_and_portkey_style(api: Api) -> None:
    missing = api("GET", "/threads", key=None)
    assert missing.status == 401
    assert_error(missing.body, 401, contains="You didn't provide an API key")
    wrong = api("GET", "/threads", key="sk-thr-wrongwrongwrongwrongwrong")
    assert wrong.status == 401
    assert_error(wrong.body, 401, contains="Incorrect API key provided")
    assert "wrongwrongwrongwrong" not in wrong.body["error"]["message"]
    assert wrong.body["error"]["code"] == "invalid_api_key"
    portkey = api("POST", "/threads", key=None, headers={"x-portkey-api-key": api.key})
    assert portkey.status == 200


def test_a_revoked_key_is_refused_by_a_container_that_has_not_cached_it(api: Api) -> None:
    """(The bound on a warm container's cache: test_key_checks.)"""
    from threads_api import auth

    key = auth.create_key("gamma")
    assert api("GET", "/threads", key=key).status == 200
    auth._cache.clear()  # another container's view: only the table counts
    assert auth.revoke_key(key)
    assert api("GET", "/threads", key=key).status == 401


def test_unknown_route_is_openai_404(api: Api) -> None:
    reply = api("GET", "/fine_tuning/jobs")
    assert reply.status == 404
    assert_error(reply.body, 404, contains="Invalid URL (GET /v1/fine_tuning/jobs)")


@pytest.mark.parametrize("key", [None, "deep-1"], ids=["without-key", "with-idempotency-key"])
def test_deeply_nested_json_is_a_400_naming_the_problem(api: Api, key: str | None) -> None:
    """A body deeper than JSON_MAX_DEPTH levels is refused before anything hashes or walks it."""
    headers = {"Idempotency-Key": key} if key else None
    for depth in (limits.JSON_MAX_DEPTH + 1, 600, 5_000, 100_000):
        objects = ('{"metadata": ' + '{"k": ' * depth + "1" + "}" * depth + "}").encode()
        arrays = ("[" * depth + "]" * depth).encode()
        for raw in (objects, arrays):
            reply = api("POST", "/threads", raw=raw, headers=headers)
            assert reply.status == 400, (depth, reply.body)
            assert_error(reply.body, 400, contains="nested too deeply")
    assert api("GET", "/threads").body["data"] == []


def test_the_deepest_valid_request_is_accepted(api: Api) -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}],
                # code_interpreter: a file_search attachment's file must exist (it goes into the thread's store)
                "attachments": [{"file_id": "file-1", "tools": [{"type": "code_interpreter"}]}],
            }
        ],
        "tool_resources": {"code_interpreter": {"file_ids": ["file-1"]}},
    }
    assert api("POST", "/threads", body, headers={"Idempotency-Key": "deepest"}).status == 200
