"""Idempotency-Key: a retried POST returns the first response and writes nothing new."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api


def _count_threads(api: Api) -> int:
    return len(api("GET", "/threads?limit=100").body["data"])


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/threads", {"messages": [{"role": "user", "content": "once"}], "metadata": {"a": "b"}}),
        ("/threads/{thread}/messages", {"role": "user", "content": "once"}),
        ("/threads/{thread}", {"metadata": {"x": "y"}}),
        ("/threads/{thread}/messages/{message}", {"metadata": {"x": "y"}}),
    ],
    ids=["create-thread", "create-message", "modify-thread", "modify-message"],
)
def test_same_key_same_request_replays_the_first_response(api: Api, path: str, body: dict[str, Any]) -> None:
    thread = api("POST", "/threads", {"messages": [{"role": "user", "content": "seed"}]}).body
    message = api("GET", f"/threads/{thread['id']}/messages").body["data"][0]
    path = path.format(thread=thread["id"], message=message["id"])
    headers = {"Idempotency-Key": "retry-1"}
    first = api("POST", path, body, headers=headers)
    assert first.status == 200
    assert first.headers["idempotent-replayed"] == "false"
    threads, messages = _count_threads(api), len(api("GET", f"/threads/{thread['id']}/messages").body["data"])
    again = api("POST", path, body, headers=headers)
    assert again.status == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.body == first.body
    assert _count_threads(api) == threads
    assert len(api("GET", f"/threads/{thread['id']}/messages").body["data"]) == messages


def test_same_key_other_body_is_400(api: Api) -> None:
    headers = {"Idempotency-Key": "k"}
    assert api("POST", "/threads", {"metadata": {"a": "1"}}, headers=headers).status == 200
    reused = api("POST", "/threads", {"metadata": {"a": "2"}}, headers=headers)
    assert reused.status == 400
    assert_error(reused.body, 400, param="Idempotency-Key", contains="already used")  # type differs on purpose
    assert _count_threads(api) == 1


def test_keys_are_scoped_to_the_project(api: Api) -> None:
    headers = {"Idempotency-Key": "shared"}
    mine = api("POST", "/threads", {}, headers=headers)
    theirs = api("POST", "/threads", {}, headers=headers, key=api.other_key)
    assert mine.status == theirs.status == 200
    assert mine.body["id"] != theirs.body["id"]


def test_a_failed_request_is_not_remembered(api: Api) -> None:
    headers = {"Idempotency-Key": "fix-and-retry"}
    assert api("POST", "/threads", {"metadata": "bad"}, headers=headers).status == 400
    # The same key with the same (bad) body fails again, rather than replaying; a corrected body is a new
    # request for the key, which was never used by a success.
    assert api("POST", "/threads", {"metadata": {"ok": "1"}}, headers=headers).status == 200


def test_a_request_in_flight_with_the_key_is_409_with_retry_after(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from threads_api import store

    entered, release = threading.Event(), threading.Event()
    real = store.create_thread

    def slow(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "create_thread", slow)
    headers = {"Idempotency-Key": "slow"}
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(api("POST", "/threads", {}, headers=headers)))
    worker.start()
    assert entered.wait(10)
    concurrent = api("POST", "/threads", {}, headers=headers)
    release.set()
    worker.join()
    assert concurrent.status == 409
    assert concurrent.headers["retry-after"] == "1"
    assert "x-should-retry" not in concurrent.headers
    assert results[0].status == 200
    assert api("POST", "/threads", {}, headers=headers).body == results[0].body


def test_the_key_must_be_sane(api: Api) -> None:
    reply = api("POST", "/threads", {}, headers={"Idempotency-Key": "k" * 256})
    assert reply.status == 400
    assert_error(reply.body, 400, param="Idempotency-Key")


def test_same_key_on_another_operation_is_400(api: Api) -> None:
    """A key names one request, whatever its operation: reusing it on another route is refused, not run."""
    headers = {"Idempotency-Key": "one-request"}
    thread = api("POST", "/threads", {"metadata": {"a": "1"}}, headers=headers)
    assert thread.status == 200
    thread_id = thread.body["id"]
    for path, body in (
        (f"/threads/{thread_id}/messages", {"role": "user", "content": "not run"}),
        (f"/threads/{thread_id}", {"metadata": {"a": "2"}}),
    ):
        reused = api("POST", path, body, headers=headers)
        assert reused.status == 400, (path, reused.body)
        assert_error(reused.body, 400, param="Idempotency-Key", contains="already used")
        assert reused.body["error"]["type"] == "idempotency_error"
    assert api("GET", f"/threads/{thread_id}/messages").body["data"] == []
    assert api("GET", f"/threads/{thread_id}").body["metadata"] == {"a": "1"}
    assert api("POST", "/threads", {"metadata": {"a": "1"}}, headers=headers).body == thread.body
