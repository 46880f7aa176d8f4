"""A run's life and what its model is asked, without DynamoDB or HTTP: statuses, expiry, cancel, tool outputs,
the Chat Completions request, and pages of steps."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from threads_api.domain import lifecycle
from threads_api.domain.errors import BadCursor, Refused
from threads_api.domain.records import Assistant, Message, PageParams, Run
from threads_api.runs import chat
from threads_api.wire.run_objects import run_object, step_page

NOW = 1_700_000_000


def _assistant(**changes: Any) -> Assistant:
    base = Assistant(
        id="asst_1",
        created_at=NOW,
        model="gpt-4o",
        name=None,
        description=None,
        instructions="Be brief.",
        tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
        tool_resources={},
        metadata={},
        temperature=0.5,
        top_p=None,
        response_format="auto",
    )
    return dataclasses.replace(base, **changes)


def _body(**given: Any) -> dict[str, Any]:
    """A create-run body's overrides, as ``run_bodies`` gives them: what is not sent is None."""
    from threads_api.wire.request_bodies import parse
    from threads_api.wire.run_bodies import RunIn

    return parse(RunIn, {"assistant_id": "asst_1", **given}).overrides()


def _run(**changes: Any) -> Run:
    return dataclasses.replace(lifecycle.new_run("thread_1", _assistant(), _body(), "run_1", NOW), **changes)


def _message(text: str, role: str = "user", run_id: str | None = None, message_id: str = "msg_x") -> Message:
    content = [{"type": "text", "text": {"value": text, "annotations": []}}]
    return Message(message_id, "thread_1", NOW, role, content, [], {}, "asst_1" if run_id else None, run_id)


def _waiting(calls: list[str]) -> Run:
    tool_calls = [
        {"id": c, "type": "function", "function": {"name": "get_weather", "arguments": "{}", "output": None}}
        for c in calls
    ]
    run = _run(status="in_progress", started_at=NOW)
    step = lifecycle.step(run, "step_1", "tool_calls", tool_calls, NOW, None)
    asked = [{"id": c, "type": "function", "function": {"name": "get_weather", "arguments": "{}"}} for c in calls]
    action = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": asked}}
    return dataclasses.replace(run, status="requires_action", steps=[step], required_action=action)


def test_a_new_run_takes_the_assistants_settings_and_the_bodys_overrides() -> None:
    run = lifecycle.new_run("thread_1", _assistant(), _body(model="gpt-4o-mini", top_p=0.9), None, NOW)
    assert run.id.startswith("run_")
    assert run.status == "queued"
    assert run.expires_at == NOW + 600
    assert (run.model, run.instructions, run.settings["temperature"], run.settings["top_p"]) == (
        "gpt-4o-mini",
        "Be brief.",
        0.5,
        0.9,
    )
    assert run.tools == _assistant().tools
    assert lifecycle.new_run("thread_1", _assistant(), _body(tools=[]), None, NOW).tools == []


def test_a_run_not_ended_by_its_expires_at_reads_as_expired_and_its_open_steps_too() -> None:
    waiting = _waiting(["call_1"])
    assert lifecycle.current(waiting, NOW + 599).status == "requires_action"
    expired = lifecycle.current(waiting, NOW + 600)
    assert expired.status == "expired"
    assert expired.required_action is None
    assert expired.steps[0]["status"] == "expired"
    assert expired.steps[0]["expired_at"] == NOW + 600
    assert lifecycle.current(_run(status="cancelling"), NOW + 600).status == "cancelled"
    done = lifecycle.ended(_run(status="in_progress"), "completed", NOW + 5)
    assert lifecycle.current(done, NOW + 10_000).status == "completed"
    assert done.expires_at is None


def test_cancel_ends_a_waiting_run_at_once_and_leaves_a_working_one_to_the_worker() -> None:
    cancelled, ended = lifecycle.cancel(_waiting(["call_1"]), NOW + 1)
    assert ended
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_at == NOW + 1
    assert cancelled.steps[0]["status"] == "cancelled"
    cancelling, ended = lifecycle.cancel(_run(status="in_progress"), NOW + 1)
    assert not ended
    assert cancelling.status == "cancelling"
    with pytest.raises(Refused, match="Cannot cancel run with status 'completed'"):
        lifecycle.cancel(_run(status="completed"), NOW)


def test_tool_outputs_must_answer_every_call_the_run_asked_for_exactly_once() -> None:
    waiting = _waiting(["call_1", "call_2"])
    with pytest.raises(Refused, match=r"Expected tool outputs for call_ids \['call_1', 'call_2'\]"):
        lifecycle.submit_tool_outputs(waiting, [{"tool_call_id": "call_1", "output": "x"}], NOW)
    with pytest.raises(Refused, match="only once"):
        lifecycle.submit_tool_outputs(
            waiting, [{"tool_call_id": "call_1", "output": "x"}, {"tool_call_id": "call_1", "output": "y"}], NOW
        )
    outputs = [{"tool_call_id": "call_2", "output": "b"}, {"tool_call_id": "call_1", "output": "a"}]
    resumed = lifecycle.submit_tool_outputs(waiting, outputs, NOW + 30)
    assert resumed.status == "queued"
    assert resumed.required_action is None
    assert resumed.expires_at == NOW + 630
    step = resumed.steps[0]
    assert step["status"] == "completed"
    assert step["completed_at"] == NOW + 30
    assert [c["function"]["output"] for c in step["step_details"]["tool_calls"]] == ["a", "b"]
    with pytest.raises(Refused, match="do not accept tool outputs"):
        lifecycle.submit_tool_outputs(resumed, outputs, NOW)


def test_the_chat_request_has_instructions_then_the_thread_then_this_runs_tool_round() -> None:
    run = dataclasses.replace(_waiting(["call_1"]), additional_instructions="Use metric units.")
    run = lifecycle.submit_tool_outputs(run, [{"tool_call_id": "call_1", "output": "18C"}], NOW)
    history = [_message("Hello"), _message("Hi!", role="assistant"), _message("Weather in Paris?")]
    body = chat.request(run, history, {}, 300)
    assert body["model"] == "gpt-4o"
    assert body["max_completion_tokens"] == 300
    assert body["temperature"] == 0.5
    assert body["messages"][0] == {"role": "system", "content": "Be brief.\n\nUse metric units."}
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user", "assistant", "tool"]
    assert body["messages"][4]["tool_calls"][0] == {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": "{}"},
    }
    assert body["messages"][5] == {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
    assert body["tools"] == [
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    ]
    assert body["tool_choice"] == "auto"
    assert "parallel_tool_calls" not in body
    assert "response_format" not in body


def test_truncation_keeps_the_last_messages_and_what_fits_max_prompt_tokens() -> None:
    history = [_message(f"message {n} " + "x" * 400, message_id=f"msg_{n}") for n in range(10)]
    last_three = _run(settings=_run().settings | {"truncation_strategy": {"type": "last_messages", "last_messages": 3}})
    assert [m["content"][:9] for m in chat.request(last_three, history, {}, None)["messages"][1:]] == [
        "message 7",
        "message 8",
        "message 9",
    ]
    bounded = _run(settings=_run().settings | {"max_prompt_tokens": 256})
    sent = chat.request(bounded, history, {}, None)["messages"][1:]
    assert [m["content"][:9] for m in sent] == ["message 8", "message 9"]  # ~104 estimated tokens each


def test_step_pages_follow_order_and_cursors_and_refuse_a_foreign_cursor() -> None:
    run = _run(status="in_progress")
    run.steps = [
        lifecycle.step(run, f"step_{n}", "message_creation", {"message_id": "m"}, NOW + n, None) for n in range(5)
    ]
    page = step_page(run, PageParams(2, "asc", None, None), NOW)
    assert [s["id"] for s in page.items] == ["step_0", "step_1"]
    assert page.has_more
    page = step_page(run, PageParams(2, "desc", "step_3", None), NOW)
    assert [s["id"] for s in page.items] == ["step_2", "step_1"]
    assert page.has_more
    page = step_page(run, PageParams(10, "asc", None, "step_2"), NOW)
    assert [s["id"] for s in page.items] == ["step_0", "step_1"]
    assert not page.has_more
    with pytest.raises(BadCursor):
        step_page(run, PageParams(2, "asc", "step_9", None), NOW)


def test_the_run_object_shows_usage_only_once_the_run_has_ended() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    assert run_object(_run(status="in_progress", usage=usage), NOW)["usage"] is None
    done = run_object(lifecycle.ended(_run(status="in_progress", usage=usage), "completed", NOW), NOW)
    assert done["usage"] == usage
    assert done["status"] == "completed"
    assert done["completed_at"] == NOW


def test_the_worker_reads_at_most_the_newest_1000_messages_and_no_more_than_last_messages_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from threads_api import store
    from threads_api.domain.records import Page
    from threads_api.runs import worker

    pages: list[int] = []  # each read's limit

    def endless(project: str, thread_id: str, limit: int, order: str, after: str | None, before: str | None) -> Page:
        pages.append(limit)
        start = len(pages) * 100
        return Page([_message(f"m{n}", message_id=f"msg_{n}") for n in range(start, start + limit)], True)

    monkeypatch.setattr(store, "list_messages", endless)
    history, replies = worker._history("p", _run())
    assert len(history) == worker.HISTORY_MAX_MESSAGES == 1000
    assert len(pages) == 10
    assert replies == {}
    pages.clear()
    last_three = _run(settings=_run().settings | {"truncation_strategy": {"type": "last_messages", "last_messages": 3}})
    history, _ = worker._history("p", last_three)
    assert len(history) == 3
    assert pages == [3]  # one read, of three messages
