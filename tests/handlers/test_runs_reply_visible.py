"""What a stream announces exists on every read while its run writes it: the reply's message is retrieved and
listed (the thread's list, its pages, ``?run_id=``) with the text so far, ``in_progress``, as the newest
message, then as the message the run's end stored (once); a run that reads expired (or cancelled) with its
worker gone shows it ``incomplete``. A list costs one more DynamoDB round trip only while a run holds the
thread."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.contract.schemas import assert_valid
from tests.contract.streams import assert_valid_events, events
from tests.handlers.conftest import Api
from tests.handlers.runs_support import USAGE, Model, Runs, model, runs
from threads_api import store
from threads_api.domain import clock
from threads_api.providers import ChatResult

__all__ = ["model", "runs"]  # fixtures

Reads = Callable[[str, str], Any]  # a read's body, checked: (path, schema)


class _Killed(BaseException):
    """The function that runs the run, killed mid-answer (out of memory): nothing more of it runs or writes."""


def _streamed(api: Api, runs: Runs, model: Model, holding: Callable[[str, Reads], None]) -> tuple[str, list[Any]]:
    """A thread of two messages and a streamed run of it whose model, having written "It is sun" (saved on
    the run, and told by the stream), calls ``holding(thread_id, read)`` before it answers "It is sunny in
    Paris." (``holding`` may kill it instead). The run's worker runs beside the stream, as Lambda runs it.
    Returns the thread and the stream's events."""
    messages = [{"role": "user", "content": "Hello"}, {"role": "user", "content": "What is the weather in Paris?"}]
    thread_id = api("POST", "/threads", {"messages": messages}).body["id"]
    assistant_id = api("POST", "/assistants", {"model": "gpt-4o"}).body["id"]

    def read(path: str, schema: str) -> Any:
        return _get(api, f"/threads/{thread_id}{path}", schema)

    def hold(request: dict[str, Any], *, on_text: Any = None, **kwargs: Any) -> ChatResult:
        on_text("It is sun")
        time.sleep(0.4)  # the stream tells the reply
        holding(thread_id, read)
        return ChatResult("It is sunny in Paris.", [], "stop", USAGE)

    def work() -> None:
        while not runs.queued:
            time.sleep(0.01)
        with contextlib.suppress(_Killed):  # the worker's death, as Lambda sees it: nothing more
            runs.work()

    model.complete = hold  # type: ignore[method-assign]
    worker = threading.Thread(target=work)
    worker.start()
    reply = api("POST", f"/threads/{thread_id}/runs", {"assistant_id": assistant_id, "stream": True})
    worker.join(10)
    assert reply.status == 200, reply.body
    stream = events(reply.body)
    assert_valid_events(stream)
    return thread_id, stream


def _get(api: Api, path: str, schema: str) -> Any:
    reply = api("GET", path)
    assert reply.status == 200, reply.body
    assert_valid(reply.body, schema)
    return reply.body


def _announced(stream: list[Any]) -> str:
    return str(next(data["id"] for name, data in stream if name == "thread.message.created"))


def _text(message: dict[str, Any]) -> str:
    return str(message["content"][0]["text"]["value"])


def _shown(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["role"], m["status"]) for m in messages]


def test_while_a_streamed_run_writes_its_reply_retrieve_and_list_show_it_then_the_stored_message_once(
    api: Api, runs: Runs, model: Model
) -> None:
    seen: dict[str, Any] = {}

    def holding(thread_id: str, read: Reads) -> None:
        run_id = read("/runs", "ListRunsResponse")["data"][0]["id"]
        seen["run_id"] = run_id
        seen["list"] = read("/messages", "ListMessagesResponse")["data"]
        seen["retrieved"] = read(f"/messages/{seen['list'][0]['id']}", "MessageObject")
        seen["by_run"] = read(f"/messages?run_id={run_id}", "ListMessagesResponse")["data"]

    thread_id, stream = _streamed(api, runs, model, holding)
    reply_id, run_id = _announced(stream), seen["run_id"]
    # While the model answered: the newest message, the one the stream announced, with the text so far.
    being = seen["list"][0]
    assert _shown(seen["list"]) == [("assistant", "in_progress"), ("user", "completed"), ("user", "completed")]
    assert being["id"] == reply_id
    assert (being["run_id"], being["assistant_id"], _text(being)) == (run_id, stream[0][1]["assistant_id"], "It is sun")
    assert (being["incomplete_details"], being["completed_at"], being["incomplete_at"]) == (None, None, None)
    assert seen["retrieved"] == being
    assert seen["by_run"] == [being]
    # Once the run has ended: the message it stored, under the same id, listed once.
    stored = _get(api, f"/threads/{thread_id}/messages/{reply_id}", "MessageObject")
    assert (stored["status"], _text(stored)) == ("completed", "It is sunny in Paris.")
    listed = _get(api, f"/threads/{thread_id}/messages", "ListMessagesResponse")["data"]
    assert [m["id"] for m in listed][:1] == [reply_id]
    assert _shown(listed) == [("assistant", "completed"), ("user", "completed"), ("user", "completed")]
    assert _get(api, f"/threads/{thread_id}/messages?run_id={run_id}", "ListMessagesResponse")["data"] == [stored]


def test_the_reply_being_written_pages_as_the_newest_message_and_is_a_cursor(
    api: Api, runs: Runs, model: Model
) -> None:
    pages: dict[str, Any] = {}
    asked = {
        "desc, 1": "limit=1",
        "desc, after it": "after={reply}",
        "desc, before the newest user message": "before={newest}",
        "asc": "order=asc",
        "asc, 2": "order=asc&limit=2",
        "asc, after the newest user message": "order=asc&after={newest}",
        "asc, after it": "order=asc&after={reply}",
        "asc, 1 before it": "order=asc&limit=1&before={reply}",
        "asc, 1 after the oldest": "order=asc&limit=1&after={oldest}",
        "desc, 1 before the oldest": "limit=1&before={oldest}",
        "run, after it": "run_id={run}&after={reply}",
    }

    def holding(thread_id: str, read: Reads) -> None:
        names = {
            "reply": read("/messages?limit=1", "ListMessagesResponse")["first_id"],
            "oldest": read("/messages?order=asc", "ListMessagesResponse")["data"][0]["id"],
            "newest": read("/messages?order=asc", "ListMessagesResponse")["data"][1]["id"],
            "run": read("/runs", "ListRunsResponse")["data"][0]["id"],
        }
        for name, query in asked.items():
            page = read(f"/messages?{query.format(**names)}", "ListMessagesResponse")
            pages[name] = ([(m["role"], _text(m)) for m in page["data"]], page["has_more"])

    _streamed(api, runs, model, holding)
    reply, hello, weather = ("assistant", "It is sun"), ("user", "Hello"), ("user", "What is the weather in Paris?")
    assert pages == {
        "desc, 1": ([reply], True),
        "desc, after it": ([weather, hello], False),
        "desc, before the newest user message": ([reply], False),
        "asc": ([hello, weather, reply], False),
        "asc, 2": ([hello, weather], True),
        "asc, after the newest user message": ([reply], False),
        "asc, after it": ([], False),
        "asc, 1 before it": ([weather], True),
        "asc, 1 after the oldest": ([weather], True),
        "desc, 1 before the oldest": ([weather], True),
        "run, after it": ([], False),
    }


def test_a_list_reads_the_threads_run_only_while_one_holds_the_thread(api: Api, runs: Runs, model: Model) -> None:
    calls: dict[int, list[str]] = {}

    def count(model: Any, **kwargs: Any) -> None:
        calls.setdefault(threading.get_ident(), []).append(model.name)

    def counted(read: Callable[[], Any]) -> list[str]:
        calls.pop(threading.get_ident(), None)
        read()
        return calls.pop(threading.get_ident(), [])

    seen: dict[str, list[str]] = {}

    def holding(thread_id: str, read: Reads) -> None:
        seen["held"] = counted(lambda: read("/messages", "ListMessagesResponse"))

    store.client.meta.events.register("before-call.dynamodb", count, unique_id="count-reads")
    try:
        thread_id, _ = _streamed(api, runs, model, holding)
        free = counted(lambda: _get(api, f"/threads/{thread_id}/messages", "ListMessagesResponse"))
    finally:
        store.client.meta.events.unregister("before-call.dynamodb", unique_id="count-reads")
    assert seen["held"] == ["BatchGetItem", "BatchGetItem", "Query"]  # the thread and cursor, its run, the page
    assert free == ["BatchGetItem", "Query"]


@pytest.mark.parametrize(("ending", "after_seconds"), [("expired", 601), ("cancelled", 11)])
def test_a_reply_whose_run_reads_ended_with_its_worker_gone_is_shown_incomplete(
    api: Api, runs: Runs, model: Model, monkeypatch: pytest.MonkeyPatch, ending: str, after_seconds: int
) -> None:
    def holding(thread_id: str, read: Reads) -> None:
        if ending == "cancelled":
            run_id = read("/runs", "ListRunsResponse")["data"][0]["id"]
            assert api("POST", f"/threads/{thread_id}/runs/{run_id}/cancel").body["status"] == "cancelling"
        real = clock.now_ms
        monkeypatch.setattr(clock, "now_ms", lambda: real() + after_seconds * 1000)
        raise _Killed

    thread_id, stream = _streamed(api, runs, model, holding)
    reply_id = _announced(stream)
    thread = f"/threads/{thread_id}"
    run = _get(api, f"{thread}/runs", "ListRunsResponse")["data"][0]
    assert run["status"] == ending
    message = _get(api, f"{thread}/messages/{reply_id}", "MessageObject")
    assert (message["role"], message["status"], _text(message)) == ("assistant", "incomplete", "It is sun")
    assert message["incomplete_details"] == {"reason": f"run_{ending}"}
    assert _get(api, f"{thread}/messages?run_id={run['id']}", "ListMessagesResponse")["data"] == [message]
    # Its step ended with the run; a message added since (the thread is free) comes after it.
    steps = _get(api, f"{thread}/runs/{run['id']}/steps", "ListRunStepsResponse")["data"]
    assert [(s["step_details"]["message_creation"]["message_id"], s["status"]) for s in steps] == [(reply_id, ending)]
    assert api("POST", f"{thread}/messages", {"role": "user", "content": "Again?"}).status == 200
    listed = _get(api, f"{thread}/messages?order=asc", "ListMessagesResponse")["data"]
    assert _shown(listed) == [
        ("user", "completed"),
        ("user", "completed"),
        ("assistant", "incomplete"),
        ("user", "completed"),
    ]
    assert listed[2] == message
