"""The four thread operations through the real handlers: what create keeps, retrieve, modify and delete, and
another project's key."""

from __future__ import annotations

import re

from tests.contract.schemas import assert_error, assert_valid
from tests.handlers.conftest import Api

ID = re.compile(r"^thread_[A-Za-z0-9]{24}$")


def test_create_empty_thread_from_empty_body(api: Api) -> None:
    reply = api("POST", "/threads")
    assert reply.status == 200
    assert_valid(reply.body, "ThreadObject")
    assert ID.match(reply.body["id"])
    assert reply.body["object"] == "thread"
    assert reply.body["metadata"] == {}
    assert reply.body["tool_resources"] == {}


def test_create_with_messages_stores_them_in_order(api: Api) -> None:
    texts = [f"message {i}" for i in range(32)]
    reply = api("POST", "/threads", {"messages": [{"role": "user", "content": t} for t in texts]})
    assert reply.status == 200
    listed = api("GET", f"/threads/{reply.body['id']}/messages?order=asc&limit=100")
    assert_valid(listed.body, "ListMessagesResponse")
    assert [m["content"][0]["text"]["value"] for m in listed.body["data"]] == texts
    for message in listed.body["data"]:
        assert_valid(message, "MessageObject")
        assert re.match(r"^msg_[A-Za-z0-9]{24}$", message["id"])
        assert message["thread_id"] == reply.body["id"]
        assert message["status"] == "completed"
        assert message["assistant_id"] is None
        assert message["run_id"] is None


def test_create_keeps_content_parts_attachments_metadata_and_tool_resources(api: Api) -> None:
    store_id = api("POST", "/vector_stores", {}).body["id"]  # a vector store id must name a store of the project
    body = {
        "messages": [
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "see"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
                    {"type": "image_file", "image_file": {"file_id": "file-abc"}},
                ],
                "attachments": [{"file_id": "file-xyz", "tools": [{"type": "code_interpreter"}]}],
                "metadata": {"m": "1"},
            }
        ],
        "metadata": {"user": "u1"},
        "tool_resources": {
            "code_interpreter": {"file_ids": ["file-1"]},
            "file_search": {"vector_store_ids": [store_id]},
        },
    }
    thread = api("POST", "/threads", body).body
    assert thread["metadata"] == {"user": "u1"}
    assert thread["tool_resources"] == {
        "code_interpreter": {"file_ids": ["file-1"]},
        "file_search": {"vector_store_ids": [store_id]},
    }
    message = api("GET", f"/threads/{thread['id']}/messages").body["data"][0]
    assert message["role"] == "assistant"
    assert message["content"] == [
        {"type": "text", "text": {"value": "see", "annotations": []}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
        {"type": "image_file", "image_file": {"file_id": "file-abc", "detail": "auto"}},
    ]
    assert message["attachments"] == [{"file_id": "file-xyz", "tools": [{"type": "code_interpreter"}]}]
    assert message["metadata"] == {"m": "1"}


def test_retrieve_modify_delete(api: Api) -> None:
    thread = api("POST", "/threads", {"metadata": {"a": "1"}, "tool_resources": {"code_interpreter": {}}}).body
    got = api("GET", f"/threads/{thread['id']}")
    assert got.status == 200
    assert got.body == thread

    modified = api("POST", f"/threads/{thread['id']}", {"metadata": {"modified": "true", "user": "abc123"}})
    assert modified.status == 200
    assert_valid(modified.body, "ThreadObject")
    assert modified.body["metadata"] == {"modified": "true", "user": "abc123"}  # replaced whole
    assert modified.body["tool_resources"] == {"code_interpreter": {"file_ids": []}}  # omitted: kept
    assert modified.body["created_at"] == thread["created_at"]

    store_id = api("POST", "/vector_stores", {}).body["id"]
    tools = api(
        "POST", f"/threads/{thread['id']}", {"tool_resources": {"file_search": {"vector_store_ids": [store_id]}}}
    )
    assert tools.body["tool_resources"] == {"file_search": {"vector_store_ids": [store_id]}}
    assert tools.body["metadata"] == {"modified": "true", "user": "abc123"}

    cleared = api("POST", f"/threads/{thread['id']}", {"metadata": None})
    assert cleared.body["metadata"] == {}
    assert api("GET", f"/threads/{thread['id']}").body["metadata"] == {}

    deleted = api("DELETE", f"/threads/{thread['id']}")
    assert deleted.status == 200
    assert_valid(deleted.body, "DeleteThreadResponse")
    assert deleted.body == {"id": thread["id"], "object": "thread.deleted", "deleted": True}
    for method, body in (("GET", None), ("POST", {"metadata": {}}), ("DELETE", None)):
        gone = api(method, f"/threads/{thread['id']}", body)
        assert gone.status == 404
        assert_error(gone.body, 404, contains=f"No thread found with id '{thread['id']}'.")


def test_another_projects_key_sees_404_and_changes_nothing(api: Api) -> None:
    thread = api("POST", "/threads", {"metadata": {"owner": "alpha"}}).body
    for method, path, body in (
        ("GET", f"/threads/{thread['id']}", None),
        ("POST", f"/threads/{thread['id']}", {"metadata": {"owner": "beta"}}),
        ("DELETE", f"/threads/{thread['id']}", None),
        ("GET", f"/threads/{thread['id']}/messages", None),
        ("POST", f"/threads/{thread['id']}/messages", {"role": "user", "content": "x"}),
    ):
        reply = api(method, path, body, key=api.other_key)
        assert reply.status == 404, (method, path)
        assert_error(reply.body, 404, contains="No thread found")
    assert api("GET", f"/threads/{thread['id']}").body == thread
    assert api("GET", f"/threads/{thread['id']}/messages").body["data"] == []
