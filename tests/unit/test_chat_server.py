"""The scripted model server (infra/ops/chat_server.py) itself: its markers, its answers valid for OpenAI's
schemas, and an answer held until the test releases it."""

from __future__ import annotations

import json
import threading
from typing import Any

from infra.ops.chat_server import ChatServer, text, tool_calls
from tests.unit.provider_support import FULL, provider, soon
from threads_api.providers import ToolCall


def test_the_markers_answer_tool_calls_then_the_tool_output(server: ChatServer) -> None:
    client = provider(server)
    ask = [{"role": "user", "content": 'Weather? [[tool:get_weather {"city":"Paris"}]]'}]
    [call] = client.complete({"model": "m", "messages": ask}, deadline=soon()).tool_calls
    assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "Paris"})
    answered = [
        *ask,
        {"role": "assistant", "content": None, "tool_calls": [_call(call)]},
        {"role": "tool", "tool_call_id": call.id, "content": "22C"},
    ]
    assert client.complete({"model": "m", "messages": answered}, deadline=soon()).text == "tool said: 22C"


def test_an_error_marker_with_a_count_fails_that_many_times_then_echoes(server: ChatServer) -> None:
    request = {"model": "m", "messages": [{"role": "user", "content": "Hi [[error:500*2]]"}]}
    assert provider(server).complete(request, deadline=soon()).text == "echo: Hi"
    assert len(server.requests) == 3


def _call(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


def test_the_fake_servers_answers_are_valid_chat_completions_responses(server: ChatServer) -> None:
    """The fake answers as OpenAI does: its objects and stream chunks validate against the reference schemas."""
    import urllib.request

    from tests.contract.schemas import assert_valid

    server.script(tool_calls(("get_weather", {"city": "Paris"})), text("Hello you"), tool_calls(("now", {})))
    for stream in (False, False, True):
        body = json.dumps({**FULL, "stream": stream, "stream_options": {"include_usage": True}} if stream else FULL)
        request = urllib.request.Request(server.url + "/chat/completions", body.encode(), method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            raw = response.read().decode()
        if not stream:
            assert_valid(json.loads(raw), "CreateChatCompletionResponse")
            continue
        events = [line.removeprefix("data: ") for line in raw.splitlines() if line.startswith("data: ")]
        assert events[-1] == "[DONE]"
        for event in events[:-1]:
            assert_valid(json.loads(event), "CreateChatCompletionStreamResponse")


def test_a_held_answer_waits_until_the_test_releases_it(server: ChatServer) -> None:
    """``[[hold:NAME]]``: the request is answered once the test calls ``release(NAME)``, not before, whatever
    the time it takes; ``wait_held`` sees it waiting. The marker is not echoed."""
    request = {"model": "m", "messages": [{"role": "user", "content": "Hi [[hold:gate]]"}]}
    answers: list[str | None] = []
    asking = threading.Thread(target=lambda: answers.append(provider(server).complete(request, deadline=soon(30)).text))
    asking.start()
    try:
        assert server.wait_held("gate", 10)
        assert not server.wait_held("another", 0.01)
        asking.join(0.2)
        assert asking.is_alive()  # still held
        assert answers == []
    finally:
        server.release("gate")
    asking.join(10)
    assert answers == ["echo: Hi"]
    # A release lets through the requests that reach the gate later, too.
    assert provider(server).complete(request, deadline=soon()).text == "echo: Hi"


def test_a_hold_never_released_ends_after_hold_seconds() -> None:
    with ChatServer(hold_seconds=0.1) as server:
        request = {"model": "m", "messages": [{"role": "user", "content": "Hi [[hold:forgotten]]"}]}
        assert provider(server).complete(request, deadline=soon()).text == "echo: Hi"
        assert server.wait_held("forgotten", 0)
