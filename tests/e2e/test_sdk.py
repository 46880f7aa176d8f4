"""The official openai SDK's ``client.beta.threads.*`` against the local API, as a user's code calls it."""

from __future__ import annotations

import threading
import time
import warnings
from typing import Any

import openai
import pytest

from tests.e2e.conftest import Server, assert_not_found

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
warnings.filterwarnings("ignore", category=DeprecationWarning)


def test_threads_create_retrieve_update_delete(sdk: Any) -> None:
    client = sdk()
    empty = client.beta.threads.create()
    assert empty.id.startswith("thread_")
    assert empty.metadata == {}
    assert empty.object == "thread"

    thread = client.beta.threads.create(
        messages=[
            {"role": "user", "content": "Hello, what is AI?"},
            {"role": "user", "content": "How does AI work? Explain it in simple terms."},
        ],
        metadata={"user": "abc"},
        tool_resources={"code_interpreter": {"file_ids": ["file-1"]}},
    )
    assert client.beta.threads.retrieve(thread.id) == thread
    assert thread.tool_resources is not None
    assert thread.tool_resources.code_interpreter is not None
    assert thread.tool_resources.code_interpreter.file_ids == ["file-1"]

    updated = client.beta.threads.update(thread.id, metadata={"modified": "true", "user": "abc123"})
    assert updated.metadata == {"modified": "true", "user": "abc123"}
    assert updated.tool_resources == thread.tool_resources

    deleted = client.beta.threads.delete(thread.id)
    assert deleted.id == thread.id
    assert deleted.deleted is True
    assert deleted.object == "thread.deleted"
    assert_not_found(lambda: client.beta.threads.retrieve(thread.id), "thread", thread.id)


def test_sdk_errors_are_openai_errors(sdk: Any) -> None:
    client = sdk()
    with pytest.raises(openai.BadRequestError) as bad_role:
        client.beta.threads.create(messages=[{"role": "system", "content": "x"}])
    assert bad_role.value.param == "messages[0].role"
    with pytest.raises(openai.BadRequestError) as bad_metadata:
        client.beta.threads.create(metadata={str(i): "v" for i in range(17)})
    assert bad_metadata.value.param == "metadata"
    with pytest.raises(openai.BadRequestError) as unknown:
        client.beta.threads.create(extra_body={"assistant": "x"})
    assert unknown.value.message.endswith("Unrecognized request argument supplied: assistant")
    with pytest.raises(openai.AuthenticationError):
        sdk(key="sk-thr-not-a-key-of-ours").beta.threads.create()


def test_messages_lifecycle(sdk: Any) -> None:
    client = sdk()
    thread = client.beta.threads.create()
    message = client.beta.threads.messages.create(
        thread.id, role="user", content="How does AI work? Explain it in simple terms.", metadata={"a": "1"}
    )
    assert message.thread_id == thread.id
    assert message.role == "user"
    assert message.status == "completed"
    assert message.content[0].type == "text"
    assert message.content[0].text.value == "How does AI work? Explain it in simple terms."
    assert client.beta.threads.messages.retrieve(message.id, thread_id=thread.id) == message

    updated = client.beta.threads.messages.update(message.id, thread_id=thread.id, metadata={"modified": "true"})
    assert updated.metadata == {"modified": "true"}
    deleted = client.beta.threads.messages.delete(message.id, thread_id=thread.id)
    assert deleted.deleted is True
    assert deleted.object == "thread.message.deleted"
    assert_not_found(
        lambda: client.beta.threads.messages.retrieve(message.id, thread_id=thread.id), "message", message.id
    )


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("limit", [1, 4, 7])
def test_auto_pagination_visits_every_message_once_in_order(sdk: Any, order: str, limit: int) -> None:
    client = sdk()
    first = [{"role": "user", "content": f"first {i}"} for i in range(32)]  # one millisecond, 32 messages
    thread = client.beta.threads.create(messages=first)
    texts = [m["content"] for m in first]
    for i in range(13):
        client.beta.threads.messages.create(thread.id, role="assistant", content=f"later {i}")
        texts.append(f"later {i}")
    seen = [m.content[0].text.value for m in client.beta.threads.messages.list(thread.id, order=order, limit=limit)]
    assert seen == (texts if order == "asc" else texts[::-1])


def test_pagination_sees_each_message_once_while_another_client_appends_between_pages(sdk: Any) -> None:
    """An append lands between every two page reads (explicitly, not by a thread's timing): an ascending walk
    reaches the new messages after the earlier ones, a descending one never sees them, neither sees one twice."""
    client, writer = sdk(), sdk()
    thread = client.beta.threads.create()
    existing = [client.beta.threads.messages.create(thread.id, role="user", content=f"m{i}").id for i in range(45)]

    def walk(order: str, appends: int) -> tuple[list[str], list[str]]:
        """The ids seen, reading pages of 4; and the ids appended, one before each next page, ``appends`` at most."""
        seen: list[str] = []
        appended: list[str] = []
        page = client.beta.threads.messages.list(thread.id, order=order, limit=4)
        while True:
            seen += [m.id for m in page.data]
            if not page.has_next_page():
                return seen, appended
            if len(appended) < appends:
                appended.append(writer.beta.threads.messages.create(thread.id, role="user", content="new").id)
            page = page.get_next_page()

    asc, appended_asc = walk("asc", 10)
    assert len(appended_asc) == 10
    assert asc == existing + appended_asc  # every message once, in order, the new ones after the earlier ones
    desc, appended_desc = walk("desc", 10)
    assert len(appended_desc) == 10
    assert desc == (existing + appended_asc)[::-1]  # what was there when it started, once, newest first
    final = [m.id for m in client.beta.threads.messages.list(thread.id, order="asc", limit=100)]
    assert final == existing + appended_asc + appended_desc


def test_before_cursor(sdk: Any) -> None:
    client = sdk()
    thread = client.beta.threads.create()
    ids = [client.beta.threads.messages.create(thread.id, role="user", content=f"m{i}").id for i in range(8)]
    page = client.beta.threads.messages.list(thread.id, order="asc", limit=3, before=ids[5])
    assert [m.id for m in page.data] == ids[2:5]


def test_concurrent_appends_all_land_in_one_order(sdk: Any) -> None:
    thread = sdk().beta.threads.create()
    results: dict[int, list[str]] = {}

    def writer(n: int) -> None:
        client = sdk()
        results[n] = [
            client.beta.threads.messages.create(thread.id, role="user", content=f"{n}-{i}").id for i in range(6)
        ]

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    listed = [m.id for m in sdk().beta.threads.messages.list(thread.id, order="asc", limit=100)]
    assert sorted(listed) == sorted(i for ids in results.values() for i in ids)
    for ids in results.values():
        assert [i for i in listed if i in ids] == ids


def test_other_thread_and_other_project_are_404(sdk: Any, server: Server) -> None:
    client = sdk()
    other = sdk(key=server.mint("e2e-other-project"))
    a = client.beta.threads.create(messages=[{"role": "user", "content": "a"}])
    b = client.beta.threads.create()
    message = client.beta.threads.messages.list(a.id).data[0]
    with pytest.raises(openai.NotFoundError, match="No message found"):
        client.beta.threads.messages.retrieve(message.id, thread_id=b.id)
    with pytest.raises(openai.NotFoundError, match="No thread found"):
        other.beta.threads.retrieve(a.id)
    with pytest.raises(openai.NotFoundError, match="No thread found"):
        other.beta.threads.update(a.id, metadata={"x": "y"})
    with pytest.raises(openai.NotFoundError, match="No thread found"):
        other.beta.threads.messages.retrieve(message.id, thread_id=a.id)
    with pytest.raises(openai.NotFoundError, match="No thread found"):
        other.beta.threads.delete(a.id)
    assert client.beta.threads.retrieve(a.id).metadata == {}


def test_deleting_a_thread_removes_every_item(sdk: Any, server: Server) -> None:
    client = sdk()
    thread = client.beta.threads.create(messages=[{"role": "user", "content": f"m{i}"} for i in range(32)])
    client.beta.threads.messages.create(thread.id, role="user", content="😀" * 200_000)  # stored in parts
    assert len(server.table_items(thread.id)) > 33
    client.beta.threads.delete(thread.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.list(thread.id)
    # The cleanup runs from the table's stream: a bound generous for a slow machine, left as soon as it is done.
    deadline = time.monotonic() + 120
    while server.table_items(thread.id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server.table_items(thread.id) == []


def test_large_message_round_trips(sdk: Any) -> None:
    client = sdk()
    text = "🧵" * 256_000
    thread = client.beta.threads.create(messages=[{"role": "user", "content": text}])
    message = client.beta.threads.messages.list(thread.id).data[0]
    assert message.content[0].text.value == text
    client.beta.threads.delete(thread.id)  # keep the embedded table small for the tests that follow


def test_modifies_racing_a_delete_each_answer_and_never_resurrect_the_thread(sdk: Any) -> None:
    thread = sdk().beta.threads.create(metadata={"v": "start"})
    values = [{"writer": str(n), "half": f"{n}-a", "other": f"{n}-b"} for n in range(8)]
    outcomes: list[str] = []

    def modify(metadata: dict[str, str]) -> None:
        try:
            sdk().beta.threads.update(thread.id, metadata=metadata)
            outcomes.append("updated")
        except openai.NotFoundError:
            outcomes.append("gone")

    def delete() -> None:
        sdk().beta.threads.delete(thread.id)
        outcomes.append("deleted")

    workers = [threading.Thread(target=modify, args=(v,)) for v in values[:4]]
    workers.append(threading.Thread(target=delete))
    workers += [threading.Thread(target=modify, args=(v,)) for v in values[4:]]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert outcomes.count("deleted") == 1
    assert len(outcomes) == 9
    with pytest.raises(openai.NotFoundError):  # whatever the interleaving, the thread stays deleted
        sdk().beta.threads.retrieve(thread.id)


def test_concurrent_modifies_end_with_one_whole_value(sdk: Any) -> None:
    thread = sdk().beta.threads.create()
    values = [{"writer": str(n), "a": f"{n}-a", "b": f"{n}-b"} for n in range(8)]
    workers = [threading.Thread(target=lambda v=v: sdk().beta.threads.update(thread.id, metadata=v)) for v in values]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sdk().beta.threads.retrieve(thread.id).metadata in values


def test_a_create_sent_twice_with_one_idempotency_key_through_the_sdk_creates_one_thread(sdk: Any) -> None:
    """The key per request (``extra_headers``), as the README says; the second send is what a retry sends."""
    client, once = sdk(), {"Idempotency-Key": "e2e-once"}
    first = client.beta.threads.create(messages=[{"role": "user", "content": "only once"}], extra_headers=once)
    again = client.beta.threads.create(messages=[{"role": "user", "content": "only once"}], extra_headers=once)
    assert again.id == first.id
    assert len(client.beta.threads.messages.list(first.id).data) == 1
