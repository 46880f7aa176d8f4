"""The OpenAI-compatible provider against the scripted fake server, and the providers' settings."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.ops.chat_server import ChatServer, Reply, error, slow, text, tool_calls
from threads_api import providers
from threads_api.providers import ProviderError, ToolCall, Usage
from threads_api.providers.bedrock import Bedrock
from threads_api.providers.openai_compatible import OpenAICompatible
from threads_api.providers.retry import Backoff

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
HELLO = {"model": "gpt-test", "messages": [{"role": "user", "content": "Hello there"}]}
# Everything the worker's canonical request may hold.
FULL = {
    "model": "gpt-test",
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "user", "content": [{"type": "text", "text": "And tomorrow?"}]},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ],
    "tool_choice": "auto",
    "parallel_tool_calls": False,
    "temperature": 0.5,
    "top_p": 0.9,
    "response_format": {"type": "json_object"},
    "max_completion_tokens": 300,
}


class Waits(list[float]):
    """Backoff's sleep in these tests: records each wait, and waits only as long as ``real`` says."""

    def __init__(self, real: bool = False) -> None:
        super().__init__()
        self.real = real

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        if self.real:
            time.sleep(seconds)


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with ChatServer() as started:
        yield started
    assert not started.invalid, [r.problems for r in started.invalid]


def provider(server: ChatServer, waits: Waits | None = None, **options: Any) -> OpenAICompatible:
    backoff = Backoff(
        base=0.01, cap=0.02, max_attempts=options.pop("max_attempts", 4), sleep=Waits() if waits is None else waits
    )
    return OpenAICompatible(server.url, backoff=backoff, **options)


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


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
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_streamed_tool_calls_are_accumulated_by_index(server: ChatServer) -> None:
    server.script(tool_calls(("get_weather", {"city": "Paris", "unit": "C"}), ("get_time", {"zone": "Europe/Paris"})))
    result = provider(server).complete(FULL, deadline=soon(), stream=True)
    assert [(c.name, json.loads(c.arguments)) for c in result.tool_calls] == [
        ("get_weather", {"city": "Paris", "unit": "C"}),
        ("get_time", {"zone": "Europe/Paris"}),
    ]
    assert result.finish_reason == "tool_calls" and result.text is None
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
    assert len(waits) == 2 and 0 <= waits[0] <= 0.01 and 0 <= waits[1] <= 0.02


def test_500s_are_retried_until_the_deadline_then_server_error(server: ChatServer) -> None:
    server.script(*[error(500)] * 200)
    with pytest.raises(ProviderError) as failure:
        provider(server, Waits(real=True), max_attempts=1000).complete(HELLO, deadline=soon(0.4))
    assert failure.value.code == "server_error" and "500" in failure.value.message
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
    assert len(failure.value.message) == 500 and failure.value.message.endswith("…")


def test_a_401_is_server_error_naming_the_status_and_the_setting_but_never_the_key() -> None:
    with ChatServer(api_key="the-right-key") as server, pytest.raises(ProviderError) as failure:
        provider(server, api_key="sk-wrong-key").complete(HELLO, deadline=soon())
    assert failure.value.code == "server_error"
    assert "(401)" in failure.value.message and "MODEL_API_KEY" in failure.value.message
    assert "sk-wrong-key" not in failure.value.message
    assert len(server.requests) == 1


def test_a_404_is_server_error_naming_the_model_and_the_path(server: ChatServer) -> None:
    server.script(error(404))
    with pytest.raises(ProviderError) as failure:
        provider(server).complete(HELLO, deadline=soon())
    assert failure.value.code == "server_error"
    assert "'gpt-test'" in failure.value.message and "/v1/chat/completions" in failure.value.message


def test_the_authorization_header_is_sent_only_when_a_key_is_set(server: ChatServer) -> None:
    provider(server).complete(HELLO, deadline=soon())
    provider(server, api_key="sk-local").complete(HELLO, deadline=soon())
    assert [r.headers.get("authorization") for r in server.requests] == [None, "Bearer sk-local"]


def test_every_request_sent_is_a_valid_create_chat_completion_request(server: ChatServer) -> None:
    client = provider(server)
    client.complete(FULL, deadline=soon())
    client.complete(FULL, deadline=soon(), stream=True)
    client.complete({**FULL, "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}, deadline=soon())
    assert len(server.requests) == 3 and server.invalid == []


def test_the_fake_server_refuses_and_records_an_invalid_request() -> None:
    """The check above can fail: a request outside the schema is a 400 (invalid_prompt), and is listed."""
    with ChatServer() as server, pytest.raises(ProviderError) as failure:
        provider(server).complete({"model": "gpt-test", "messages": []}, deadline=soon())
    assert failure.value.code == "invalid_prompt" and "messages" in failure.value.message
    assert len(server.invalid) == 1


def test_a_malformed_answer_is_server_error(server: ChatServer) -> None:
    server.script(Reply(raw=b'{"choices": '), Reply(raw=b'{"object": "chat.completion"}'))
    for _ in range(2):
        with pytest.raises(ProviderError) as failure:
            provider(server).complete(HELLO, deadline=soon())
        assert failure.value.code == "server_error" and "not a Chat Completions response" in failure.value.message
    assert len(server.requests) == 2


def test_an_answer_slower_than_the_deadline_is_server_error(server: ChatServer) -> None:
    server.script(slow(3), slow(3), slow(3))
    with pytest.raises(ProviderError) as failure:
        provider(server).complete(HELLO, deadline=soon(0.5))
    assert failure.value.code == "server_error" and "in time" in failure.value.message


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


# Settings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No model settings, and no key cached by an earlier test (Powertools caches per process)."""
    for name in (
        "MODEL_PROVIDER",
        "MODEL_BASE_URL",
        "MODEL_API_KEY",
        "MODEL_API_KEY_PARAMETER",
        "MODEL_TIMEOUT_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated
    yield monkeypatch
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def test_no_provider_is_configured_without_settings_or_with_none(environment: pytest.MonkeyPatch) -> None:
    assert providers.from_environment() is None
    environment.setenv("MODEL_PROVIDER", "none")
    environment.setenv("MODEL_BASE_URL", "http://127.0.0.1:1/v1")
    assert providers.from_environment() is None


def test_a_base_url_alone_chooses_the_openai_compatible_provider(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("MODEL_BASE_URL", "http://127.0.0.1:1/v1")
    environment.setenv("MODEL_TIMEOUT_SECONDS", "7.5")
    client = providers.from_environment()
    assert isinstance(client, OpenAICompatible) and client._timeout == 7.5


def test_importing_the_package_loads_neither_provider_nor_http_nor_botocore() -> None:
    """API functions may import the dataclasses; the clients cost only the worker, when it builds one."""
    import subprocess
    import sys

    code = "import sys, threads_api.providers; print(sorted(m for m in sys.modules if m.startswith(PREFIXES)))"
    code = code.replace("PREFIXES", repr(("threads_api.providers.", "http.client", "urllib.request", "botocore")))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=FUNCTIONS)
    assert out.stdout.strip() == "[]"


def test_bedrock_is_chosen_by_name_and_an_unknown_name_is_refused(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("MODEL_PROVIDER", "bedrock")
    assert isinstance(providers.from_environment(), Bedrock)
    environment.setenv("MODEL_PROVIDER", "anthropic")
    with pytest.raises(ValueError, match="openai, bedrock or none"):
        providers.from_environment()


def test_the_key_is_read_from_ssm_once_and_then_cached(environment: pytest.MonkeyPatch, server: ChatServer) -> None:
    environment.setenv("MODEL_BASE_URL", server.url)
    environment.setenv("MODEL_API_KEY_PARAMETER", "/threads-api/model-key")
    with mock_aws():
        ssm = boto3.client("ssm")
        ssm.put_parameter(Name="/threads-api/model-key", Value="sk-from-ssm", Type="SecureString")
        client = providers.from_environment()
        assert client is not None
        client.complete(HELLO, deadline=soon())
        ssm.delete_parameter(Name="/threads-api/model-key")  # a second read from SSM would now fail
        client.complete(HELLO, deadline=soon())
    assert [r.headers["authorization"] for r in server.requests] == ["Bearer sk-from-ssm"] * 2


def test_a_secretsmanager_key_is_read_from_the_secret(environment: pytest.MonkeyPatch, server: ChatServer) -> None:
    environment.setenv("MODEL_BASE_URL", server.url)
    environment.setenv("MODEL_API_KEY_PARAMETER", "secretsmanager:threads-api/model-key")
    with mock_aws():
        boto3.client("secretsmanager").create_secret(Name="threads-api/model-key", SecretString="sk-from-secret")
        client = providers.from_environment()
        assert client is not None
        client.complete(HELLO, deadline=soon())
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-secret"


def test_a_missing_key_parameter_is_server_error_naming_it(environment: pytest.MonkeyPatch, server: ChatServer) -> None:
    environment.setenv("MODEL_BASE_URL", server.url)
    environment.setenv("MODEL_API_KEY_PARAMETER", "/threads-api/absent")
    with mock_aws(), pytest.raises(ProviderError) as failure:
        client = providers.from_environment()
        assert client is not None
        client.complete(HELLO, deadline=soon())
    assert failure.value.code == "server_error" and "/threads-api/absent" in failure.value.message
    assert server.requests == []


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
