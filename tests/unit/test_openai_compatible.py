"""The OpenAI-compatible provider against the scripted model server: answers, tool calls, streams, retries and
errors, and every request it sends valid for OpenAI's schema."""

from __future__ import annotations

import json

import pytest

from infra.ops.chat_server import ChatServer, Reply, error, slow, text, tool_calls
from tests.unit.provider_support import FULL, HELLO, Waits, provider, soon
from threads_api.providers import ProviderError, Usage


def test_a_text_answer_is_the_results_text_with_finish_reason_stop_and_usage(server: ChatServer) -> None:
    server.script(text("Hi! How can I help?"))
    result = provider(server).complete(HELLO, deadline=soon())
    assert (result.text, result.tool_calls, result.finish_reason) == ("Hi! How can I help?", [], "stop")
    assert result.usage == Usage(prompt_tokens=2, completion_tokens=5, total_tokens=7)
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.body == HELLO  # sent as the worker built it, no stream flag added


def test_one_tool_call_comes_back_with_its_id_name_and_arguments_text(server: ChatServer) -> None:
    server.script(tool_calls(("get_weather", '{"city": "Paris"}')))
    result = provider(server).complete(FULL, deadline=soon())
    [call] = result.tool_calls
    assert (call.name, call.arguments, result.finish_reason, result.text) == (
        "get_weather",
        '{"city": "Paris"}',
        "tool_calls",
        None,
    )
    assert call.id.startswith("call_")


def test_several_tool_calls_come_back_in_the_models_order(server: ChatServer) -> None:
    server.script(tool_calls(("get_weather", {"city": "Paris"}), ("get_time", {"zone": "CET"}), ("noop", "{}")))
    result = provider(server).complete(FULL, deadline=soon())
    assert [(c.name, json.loads(c.arguments)) for c in result.tool_calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"zone": "CET"}),
        ("noop", {}),
    ]
    assert len({c.id for c in result.tool_calls}) == 3


def test_a_streamed_answer_accumulates_its_content_and_takes_usage_from_the_last_chunk(server: ChatServer) -> None:
    server.script(text("One two  three, four."))
    result = provider(server).complete(HELLO, deadline=soon(), stream=True)
    assert (result.text, result.tool_calls, result.finish_reason) == ("One two  three, four.", [], "stop")
    assert result.usage == Usage(2, 4, 6)
    body = server.requests[0].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_streamed_tool_calls_are_accumulated_by_index(server: ChatServer) -> None:
    server.script(tool_calls(("get_weather", {"city": "Paris", "unit": "C"}), ("get_time", {"zone": "Europe/Paris"})))
    result = provider(server).complete(FULL, deadline=soon(), stream=True)
    assert [(c.name, json.loads(c.arguments)) for c in result.tool_calls] == [
        ("get_weather", {"city": "Paris", "unit": "C"}),
        ("get_time", {"zone": "Europe/Paris"}),
    ]
    assert result.finish_reason == "tool_calls"
    assert result.text is None
    assert all(c.id.startswith("call_") for c in result.tool_calls)


def test_a_429_is_retried_after_the_wait_its_retry_after_names(server: ChatServer) -> None:
    server.script(error(429, retry_after="0.25"), text("at last"))
    waits = Waits()
    result = provider(server, waits).complete(HELLO, deadline=soon())
    assert result.text == "at last"
    assert waits == [0.25]
    assert len(server.requests) == 2


def test_a_429_without_retry_after_waits_a_jittered_backoff_within_its_bound(server: ChatServer) -> None:
    server.script(error(429), error(429), text("ok"))
    waits = Waits()
    assert provider(server, waits).complete(HELLO, deadline=soon()).text == "ok"
    assert len(waits) == 2
    assert 0 <= waits[0] <= 0.01
    assert 0 <= waits[1] <= 0.02


def test_500s_are_retried_until_the_deadline_then_server_error(server: ChatServer) -> None:
    server.script(*[error(500)] * 200)
    with pytest.raises(ProviderError) as failure:
        provider(server, Waits(real=True), max_attempts=1000).complete(HELLO, deadline=soon(0.4))
    assert failure.value.code == "server_error"
    assert "500" in failure.value.message
    assert 2 <= len(server.requests) < 200


def test_429s_until_the_attempts_run_out_are_rate_limit_exceeded(server: ChatServer) -> None:
    forever = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi [[error:429]]"}]}
    with pytest.raises(ProviderError) as failure:
        provider(server, max_attempts=3).complete(forever, deadline=soon())
    assert failure.value.code == "rate_limit_exceeded"
    assert len(server.requests) == 3


def test_a_400_is_invalid_prompt_at_once_with_the_providers_message(server: ChatServer) -> None:
    server.script(error(400, message="This model's maximum context length is 8192 tokens."))
    with pytest.raises(ProviderError) as failure:
        provider(server).complete(HELLO, deadline=soon())
    assert (failure.value.code, failure.value.message) == (
        "invalid_prompt",
        "This model's maximum context length is 8192 tokens.",
    )
    assert len(server.requests) == 1


def test_a_long_400_message_is_cut_to_500_characters(server: ChatServer) -> None:
    server.script(error(400, message="x" * 5000))
    with pytest.raises(ProviderError) as failure:
        provider(server).complete(HELLO, deadline=soon())
    assert len(failure.value.message) == 500
    assert failure.value.message.endswith("…")


def test_a_401_is_server_error_naming_the_status_and_the_setting_but_never_the_key() -> None:
    with ChatServer(api_key="the-right-key") as server, pytest.raises(ProviderError) as failure:
        provider(server, api_key="sk-wrong-key").complete(HELLO, deadline=soon())
    assert failure.value.code == "server_error"
    assert "(401)" in failure.value.message
    assert "MODEL_API_KEY" in failure.value.message
    assert "sk-wrong-key" not in failure.value.message
    assert len(server.requests) == 1


def test_a_404_is_server_error_naming_the_model_and_the_path(server: ChatServer) -> None:
    server.script(error(404))
    with pytest.raises(ProviderError) as failure:
        provider(server).complete(HELLO, deadline=soon())
    assert failure.value.code == "server_error"
    assert "'gpt-test'" in failure.value.message
    assert "/v1/chat/completions" in failure.value.message


def test_the_authorization_header_is_sent_only_when_a_key_is_set(server: ChatServer) -> None:
    provider(server).complete(HELLO, deadline=soon())
    provider(server, api_key="sk-local").complete(HELLO, deadline=soon())
    assert [r.headers.get("authorization") for r in server.requests] == [None, "Bearer sk-local"]


def test_every_request_sent_is_a_valid_create_chat_completion_request(server: ChatServer) -> None:
    client = provider(server)
    client.complete(FULL, deadline=soon())
    client.complete(FULL, deadline=soon(), stream=True)
    client.complete({**FULL, "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}, deadline=soon())
    assert len(server.requests) == 3
    assert server.invalid == []


def test_the_fake_server_refuses_and_records_an_invalid_request() -> None:
    """The check above can fail: a request outside the schema is a 400 (invalid_prompt), and is listed."""
    with ChatServer() as server, pytest.raises(ProviderError) as failure:
        provider(server).complete({"model": "gpt-test", "messages": []}, deadline=soon())
    assert failure.value.code == "invalid_prompt"
    assert "messages" in failure.value.message
    assert len(server.invalid) == 1


def test_a_malformed_answer_is_server_error(server: ChatServer) -> None:
    server.script(Reply(raw=b'{"choices": '), Reply(raw=b'{"object": "chat.completion"}'))
    for _ in range(2):
        with pytest.raises(ProviderError) as failure:
            provider(server).complete(HELLO, deadline=soon())
        assert failure.value.code == "server_error"
        assert "not a Chat Completions response" in failure.value.message
    assert len(server.requests) == 2


def test_an_answer_slower_than_the_deadline_is_server_error(server: ChatServer) -> None:
    server.script(slow(3), slow(3), slow(3))
    with pytest.raises(ProviderError) as failure:
        provider(server).complete(HELLO, deadline=soon(0.5))
    assert failure.value.code == "server_error"
    assert "in time" in failure.value.message
