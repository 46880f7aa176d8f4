"""Messages: append, list with OpenAI's cursors, retrieve, modify, delete; and the threads listing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.schemas import assert_error, assert_valid
from tests.handlers.conftest import Api


def _thread_with(api: Api, count: int) -> tuple[str, list[str]]:
    thread_id = api("POST", "/threads").body["id"]
    ids = []
    for i in range(count):
        reply = api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": f"m{i}"})
        assert reply.status == 200
        ids.append(reply.body["id"])
    return thread_id, ids


def _walk(api: Api, path: str, order: str, limit: int) -> list[str]:
    """Follow ``after`` cursors the way the SDK's auto-pagination does."""
    seen: list[str] = []
    after = ""
    while True:
        page = api("GET", f"{path}?order={order}&limit={limit}{after}").body
        assert_valid(page, "ListMessagesResponse") if path.endswith("messages") else None
        seen += [item["id"] for item in page["data"]]
        if not page["has_more"]:
            return seen
        assert page["last_id"] == page["data"][-1]["id"]
        assert page["first_id"] == page["data"][0]["id"]
        after = f"&after={page['last_id']}"


def test_append_returns_a_message_object(api: Api) -> None:
    thread_id = api("POST", "/threads").body["id"]
    reply = api(
        "POST",
        f"/threads/{thread_id}/messages",
        {"role": "user", "content": "How does AI work? Explain it in simple terms.", "metadata": {"k": "v"}},
    )
    assert reply.status == 200
    assert_valid(reply.body, "MessageObject")
    assert reply.body["content"] == [
        {"type": "text", "text": {"value": "How does AI work? Explain it in simple terms.", "annotations": []}}
    ]
    assert reply.body["metadata"] == {"k": "v"}
    assert reply.body["attachments"] == []
    assert api("GET", f"/threads/{thread_id}/messages/{reply.body['id']}").body == reply.body


@pytest.mark.parametrize("limit", [1, 2, 7, 20, 100])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pagination_visits_every_message_once_in_order(api: Api, order: str, limit: int) -> None:
    thread_id, ids = _thread_with(api, 23)
    expected = ids if order == "asc" else ids[::-1]
    assert _walk(api, f"/threads/{thread_id}/messages", order, limit) == expected


def test_default_list_is_20_newest_first(api: Api) -> None:
    thread_id, ids = _thread_with(api, 23)
    page = api("GET", f"/threads/{thread_id}/messages").body
    assert [m["id"] for m in page["data"]] == ids[::-1][:20]
    assert page["has_more"] is True


def test_before_cursor_returns_the_page_before(api: Api) -> None:
    thread_id, ids = _thread_with(api, 10)
    page = api("GET", f"/threads/{thread_id}/messages?order=asc&limit=3&before={ids[6]}").body
    assert [m["id"] for m in page["data"]] == ids[3:6]
    assert page["has_more"] is True
    page = api("GET", f"/threads/{thread_id}/messages?order=desc&limit=3&before={ids[6]}").body
    assert [m["id"] for m in page["data"]] == [ids[9], ids[8], ids[7]]
    assert page["has_more"] is False


def test_run_id_filter_matches_nothing(api: Api) -> None:
    thread_id, _ = _thread_with(api, 2)
    page = api("GET", f"/threads/{thread_id}/messages?run_id=run_abc").body
    assert page == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    assert_valid(page, "ListMessagesResponse")


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("limit=%EF%BC%91", "limit"),  # a fullwidth 1: only ASCII digits are digits here
        ("limit=%D9%A3", "limit"),  # an Arabic-Indic 3
        ("run_id=..%2Fetc", "run_id"),  # ids are 1 to 64 characters of [A-Za-z0-9_-], in the query too
        ("run_id=%3Cscript%3E", "run_id"),
        (f"run_id={'r' * 65}", "run_id"),
        ("order=sideways", "order"),
        ("after=msg_doesnotexist", "after"),
        ("before=thread_abc", "before"),
        ("limit=1&limit=2", "limit"),
    ],
)
def test_bad_list_parameters_are_400(api: Api, query: str, param: str) -> None:
    thread_id, _ = _thread_with(api, 1)
    reply = api("GET", f"/threads/{thread_id}/messages?{query}")
    assert reply.status == 400
    assert_error(reply.body, 400, param=param)


def test_modify_message_metadata_only(api: Api) -> None:
    thread_id, ids = _thread_with(api, 1)
    reply = api("POST", f"/threads/{thread_id}/messages/{ids[0]}", {"metadata": {"modified": "true"}})
    assert reply.status == 200
    assert_valid(reply.body, "MessageObject")
    assert reply.body["metadata"] == {"modified": "true"}
    assert reply.body["content"][0]["text"]["value"] == "m0"
    refused = api("POST", f"/threads/{thread_id}/messages/{ids[0]}", {"content": "changed"})
    assert refused.status == 400
    assert_error(refused.body, 400, param="content", contains="Unrecognized request argument")


def test_modify_message_without_metadata_keeps_it_and_writes_nothing(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A modify that sends no ``metadata`` (``{}``) returns the message as it is, with one read and no write;
    ``"metadata": null`` is sent, and clears it."""
    from threads_api import store

    thread_id = api("POST", "/threads").body["id"]
    message = api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": "m", "metadata": {"k": "v"}})
    path = f"/threads/{thread_id}/messages/{message.body['id']}"
    real = store.client._make_api_call  # type: ignore[attr-defined]
    calls: list[str] = []

    def recorded(op: str, params: dict[str, Any]) -> Any:
        calls.append(op)
        return real(op, params)

    monkeypatch.setattr(store.client, "_make_api_call", recorded)
    kept = api("POST", path, {})
    assert calls == ["BatchGetItem"]  # the thread and the message, read; nothing written
    assert kept.status == 200
    assert_valid(kept.body, "MessageObject")
    assert kept.body == message.body == api("GET", path).body
    assert api("POST", path, {}, key=api.other_key).status == 404
    missing = api("POST", f"/threads/{thread_id}/messages/msg_missing", {})
    assert missing.status == 404
    assert_error(missing.body, 404, contains="No message found with id 'msg_missing'.")
    cleared = api("POST", path, {"metadata": None})
    assert cleared.status == 200
    assert cleared.body["metadata"] == {}


def test_delete_message(api: Api) -> None:
    thread_id, ids = _thread_with(api, 2)
    reply = api("DELETE", f"/threads/{thread_id}/messages/{ids[0]}")
    assert reply.status == 200
    assert_valid(reply.body, "DeleteMessageResponse")
    assert reply.body == {"id": ids[0], "object": "thread.message.deleted", "deleted": True}
    gone = api("GET", f"/threads/{thread_id}/messages/{ids[0]}")
    assert gone.status == 404
    assert_error(gone.body, 404, contains=f"No message found with id '{ids[0]}'.")
    assert [m["id"] for m in api("GET", f"/threads/{thread_id}/messages").body["data"]] == [ids[1]]
    again = api("DELETE", f"/threads/{thread_id}/messages/{ids[0]}")
    assert again.status == 404


def test_messages_of_another_thread_or_project_or_a_deleted_thread_are_404(api: Api) -> None:
    thread_a, ids_a = _thread_with(api, 1)
    thread_b, _ = _thread_with(api, 1)
    for method, body in (("GET", None), ("POST", {"metadata": {}}), ("DELETE", None)):
        other_thread = api(method, f"/threads/{thread_b}/messages/{ids_a[0]}", body)
        assert other_thread.status == 404
        assert_error(other_thread.body, 404, contains=f"No message found with id '{ids_a[0]}'.")
        other_project = api(method, f"/threads/{thread_a}/messages/{ids_a[0]}", body, key=api.other_key)
        assert other_project.status == 404
        assert_error(other_project.body, 404, contains=f"No thread found with id '{thread_a}'.")
    assert api("DELETE", f"/threads/{thread_a}").status == 200
    for method, body in (("GET", None), ("POST", {"metadata": {}}), ("DELETE", None)):
        reply = api(method, f"/threads/{thread_a}/messages/{ids_a[0]}", body)
        assert reply.status == 404
        assert_error(reply.body, 404, contains=f"No thread found with id '{thread_a}'.")
    appended = api("POST", f"/threads/{thread_a}/messages", {"role": "user", "content": "late"})
    assert appended.status == 404


def test_large_messages_round_trip_whole(api: Api) -> None:
    """256,000 four-byte characters are 1 MB of UTF-8: more than a DynamoDB item holds."""
    text = "😀" * 256_000
    created = api("POST", "/threads", {"messages": [{"role": "user", "content": text}]}).body
    appended = api("POST", f"/threads/{created['id']}/messages", {"role": "assistant", "content": text}).body
    page = api("GET", f"/threads/{created['id']}/messages?order=asc").body
    assert [m["content"][0]["text"]["value"] == text for m in page["data"]] == [True, True]
    assert api("GET", f"/threads/{created['id']}/messages/{appended['id']}").body["content"][0]["text"]["value"] == text
    assert any("parts" in item for item in api.items(created["id"]))


def test_deleting_a_large_message_removes_its_parts(api: Api) -> None:
    thread_id = api("POST", "/threads").body["id"]
    text = "😀" * 200_000
    message = api("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": text}).body
    assert len(api.items(thread_id)) > 2
    assert api("DELETE", f"/threads/{thread_id}/messages/{message['id']}").status == 200
    api.stream.drain()
    assert [item["sk"]["S"] for item in api.items(thread_id)] == ["thread"]


@pytest.fixture(params=["real", "pinned", "stepping-back"])
def clock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store's clock: the real one; one pinned to a millisecond (every thread created in it); or one
    that steps back a millisecond a call, as a clock corrected by NTP might."""
    from threads_api.domain import clock as wall

    later = wall.now_ms() + 86_400_000  # past every key this process has made: a millisecond of its own
    if request.param == "pinned":
        monkeypatch.setattr(wall, "now_ms", lambda: later)
    elif request.param == "stepping-back":
        ticks = iter(range(later, 0, -1))
        monkeypatch.setattr(wall, "now_ms", lambda: next(ticks))
    return str(request.param)


def test_list_threads_pages_through_the_projects_threads(api: Api, clock: str) -> None:
    """A project's threads in creation order, even those created in one millisecond (by one container)."""
    ids = [api("POST", "/threads").body["id"] for _ in range(7)]
    api("POST", "/threads", key=api.other_key)  # another project's thread never shows
    assert _walk(api, "/threads", "desc", 3) == ids[::-1]
    assert _walk(api, "/threads", "asc", 2) == ids
    page = api("GET", f"/threads?limit=2&before={ids[4]}&order=asc").body
    assert [t["id"] for t in page["data"]] == ids[2:4]
    page = api("GET", f"/threads?limit=2&after={ids[4]}&order=desc").body
    assert [t["id"] for t in page["data"]] == ids[3:1:-1]
    for thread in api("GET", "/threads?limit=100").body["data"]:
        assert_valid(thread, "ThreadObject")
    assert api("GET", "/threads", key=api.other_key).body["data"][0]["id"] not in ids
