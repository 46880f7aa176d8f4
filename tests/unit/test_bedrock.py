"""The Bedrock provider on a real bedrock-runtime client under botocore's Stubber: the Converse request it
builds from a Chat Completions request, and what it makes of Converse's answers and errors."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from threads_api.providers import ProviderError, ToolCall, Usage
from threads_api.providers.bedrock import CONVERSATION_START, NO_OUTPUT, Bedrock
from threads_api.providers.retry import Backoff

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
USAGE = {"inputTokens": 12, "outputTokens": 5, "totalTokens": 17}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
NOW = {"type": "function", "function": {"name": "now"}}  # no description, no parameters
# WEATHER and NOW as Converse's toolConfig names them (NOW: an empty object schema).
WEATHER_SPEC = {
    "toolSpec": {
        "name": "get_weather",
        "description": "The weather in a city",
        "inputSchema": {"json": WEATHER["function"]["parameters"]},  # type: ignore[index]
    }
}
NOW_SPEC = {"toolSpec": {"name": "now", "inputSchema": {"json": {"type": "object", "properties": {}}}}}


def answer(content: list[dict[str, Any]], stop_reason: str = "end_turn") -> dict[str, Any]:
    """A Converse response, in the shape Bedrock records."""
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": USAGE,
        "metrics": {"latencyMs": 321},
    }


@pytest.fixture
def stubbed() -> Iterator[tuple[Bedrock, Stubber]]:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield Bedrock(client, backoff=Backoff(base=0, max_attempts=3, sleep=lambda _: None)), stubber
        stubber.assert_no_pending_responses()


def ask(bedrock: Bedrock, request: dict[str, Any]) -> Any:
    return bedrock.complete(request, deadline=time.monotonic() + 5)


def test_system_messages_become_system_and_same_role_turns_are_merged(stubbed: tuple[Bedrock, Stubber]) -> None:
    bedrock, stubber = stubbed
    request = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "First."},
            {"role": "user", "content": [{"type": "text", "text": "Second."}, {"type": "text", "text": "   "}]},
            {"role": "assistant", "content": "Noted."},
            {"role": "assistant", "content": ""},  # blank: Converse refuses an empty text block
            {"role": "user", "content": "Third."},
        ],
    }
    expected = {
        "modelId": MODEL,
        "system": [{"text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"text": "First."}, {"text": "Second."}]},
            {"role": "assistant", "content": [{"text": "Noted."}]},
            {"role": "user", "content": [{"text": "Third."}]},
        ],
    }
    stubber.add_response("converse", answer([{"text": "Done."}]), expected)
    result = ask(bedrock, request)
    assert (result.text, result.tool_calls, result.finish_reason) == ("Done.", [], "stop")
    assert result.usage == Usage(12, 5, 17)


def test_a_thread_that_opens_with_the_assistant_gets_a_user_turn_first(stubbed: tuple[Bedrock, Stubber]) -> None:
    bedrock, stubber = stubbed
    request = {"model": MODEL, "messages": [{"role": "assistant", "content": "Hi!"}, {"role": "user", "content": "Yo"}]}
    expected = {
        "modelId": MODEL,
        "messages": [
            {"role": "user", "content": [{"text": CONVERSATION_START}]},
            {"role": "assistant", "content": [{"text": "Hi!"}]},
            {"role": "user", "content": [{"text": "Yo"}]},
        ],
    }
    stubber.add_response("converse", answer([{"text": "ok"}]), expected)
    assert ask(bedrock, request).text == "ok"


def test_tool_calls_and_outputs_become_tool_use_and_tool_result_with_tool_config(
    stubbed: tuple[Bedrock, Stubber],
) -> None:
    bedrock, stubber = stubbed
    calls = [
        {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
        {"id": "call_b", "type": "function", "function": {"name": "now", "arguments": ""}},
    ]
    request = {
        "model": MODEL,
        "messages": [
            {"role": "user", "content": "Weather and time?"},
            {"role": "assistant", "content": "Let me look.", "tool_calls": calls},
            {"role": "tool", "tool_call_id": "call_a", "content": "sunny"},
            {"role": "tool", "tool_call_id": "call_b", "content": ""},
        ],
        "tools": [WEATHER, NOW],
        "tool_choice": "required",
        "parallel_tool_calls": True,
        "temperature": 0.2,
        "top_p": 0.9,
        "max_completion_tokens": 256,
        "response_format": {"type": "json_object"},
    }
    expected = {
        "modelId": MODEL,
        "messages": [
            {"role": "user", "content": [{"text": "Weather and time?"}]},
            {
                "role": "assistant",
                "content": [
                    {"text": "Let me look."},
                    {"toolUse": {"toolUseId": "call_a", "name": "get_weather", "input": {"city": "Paris"}}},
                    {"toolUse": {"toolUseId": "call_b", "name": "now", "input": {}}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"toolResult": {"toolUseId": "call_a", "content": [{"text": "sunny"}]}},
                    {"toolResult": {"toolUseId": "call_b", "content": [{"text": NO_OUTPUT}]}},
                ],
            },
        ],
        "toolConfig": {"tools": [WEATHER_SPEC, NOW_SPEC], "toolChoice": {"any": {}}},
        "inferenceConfig": {"temperature": 0.2, "topP": 0.9, "maxTokens": 256},
    }
    stubber.add_response("converse", answer([{"text": "Sunny, and it is noon."}]), expected)
    assert ask(bedrock, request).text == "Sunny, and it is noon."


@pytest.mark.parametrize(
    ("tool_choice", "tool_config"),
    [
        ("auto", {"tools": [NOW_SPEC]}),
        (
            {"type": "function", "function": {"name": "now"}},
            {"tools": [NOW_SPEC], "toolChoice": {"tool": {"name": "now"}}},
        ),
        ("none", None),
    ],
)
def test_tool_choice_becomes_converses_tool_choice_or_leaves_the_tools_out(
    stubbed: tuple[Bedrock, Stubber], tool_choice: Any, tool_config: dict[str, Any] | None
) -> None:
    bedrock, stubber = stubbed
    request = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Hi"}],
        "tools": [NOW],
        "tool_choice": tool_choice,
    }
    expected: dict[str, Any] = {"modelId": MODEL, "messages": [{"role": "user", "content": [{"text": "Hi"}]}]}
    if tool_config is not None:
        expected["toolConfig"] = tool_config
    stubber.add_response("converse", answer([{"text": "Hello"}]), expected)
    assert ask(bedrock, request).text == "Hello"


def test_a_data_url_image_is_sent_as_image_bytes(stubbed: tuple[Bedrock, Stubber]) -> None:
    bedrock, stubber = stubbed
    png = b"\x89PNG\r\n\x1a\nfake"
    parts = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},  # Converse cannot fetch it
    ]
    expected = {
        "modelId": MODEL,
        "messages": [
            {
                "role": "user",
                "content": [{"text": "What is this?"}, {"image": {"format": "png", "source": {"bytes": png}}}],
            }
        ],
    }
    stubber.add_response("converse", answer([{"text": "A PNG."}]), expected)
    assert ask(bedrock, {"model": MODEL, "messages": [{"role": "user", "content": parts}]}).text == "A PNG."


def test_a_tool_use_answer_is_tool_calls_with_the_input_as_json_text(stubbed: tuple[Bedrock, Stubber]) -> None:
    bedrock, stubber = stubbed
    content: list[dict[str, Any]] = [
        {"text": "Checking."},
        {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
        {"toolUse": {"toolUseId": "tooluse_2", "name": "now", "input": {}}},
    ]
    stubber.add_response("converse", answer(content, "tool_use"))
    result = ask(bedrock, {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "tools": [WEATHER, NOW]})
    assert result.text == "Checking."
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls == [
        ToolCall("tooluse_1", "get_weather", json.dumps({"city": "Paris"})),
        ToolCall("tooluse_2", "now", "{}"),
    ]


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("max_tokens", "length"),
        ("stop_sequence", "stop"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
    ],
)
def test_a_stop_reason_becomes_its_finish_reason(
    stubbed: tuple[Bedrock, Stubber], stop_reason: str, finish_reason: str
) -> None:
    bedrock, stubber = stubbed
    stubber.add_response("converse", answer([{"text": "Once upon a"}], stop_reason))
    result = ask(bedrock, {"model": MODEL, "messages": [{"role": "user", "content": "A story"}]})
    assert (result.text, result.finish_reason) == ("Once upon a", finish_reason)


def test_throttling_is_retried_then_rate_limit_exceeded(stubbed: tuple[Bedrock, Stubber]) -> None:
    bedrock, stubber = stubbed
    for _ in range(3):  # the backoff's max_attempts
        stubber.add_client_error("converse", "ThrottlingException", "Too many requests", 429)
    with pytest.raises(ProviderError) as failure:
        ask(bedrock, {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]})
    assert failure.value.code == "rate_limit_exceeded"
    assert "ThrottlingException" in failure.value.message


def test_a_throttled_call_that_then_succeeds_is_the_answer(stubbed: tuple[Bedrock, Stubber]) -> None:
    bedrock, stubber = stubbed
    stubber.add_client_error("converse", "ThrottlingException", "Too many requests", 429)
    stubber.add_client_error("converse", "ServiceUnavailableException", "Try later", 503)
    stubber.add_response("converse", answer([{"text": "Here."}]))
    assert ask(bedrock, {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}).text == "Here."


def test_a_validation_exception_is_invalid_prompt_at_once(stubbed: tuple[Bedrock, Stubber]) -> None:
    bedrock, stubber = stubbed
    stubber.add_client_error("converse", "ValidationException", "Input is too long for requested model.", 400)
    with pytest.raises(ProviderError) as failure:
        ask(bedrock, {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]})
    assert (failure.value.code, failure.value.message) == ("invalid_prompt", "Input is too long for requested model.")


@pytest.mark.parametrize(
    ("code", "named"), [("AccessDeniedException", "IAM role"), ("ResourceNotFoundException", MODEL)]
)
def test_access_denied_and_not_found_are_server_error_saying_what_to_check(
    stubbed: tuple[Bedrock, Stubber], code: str, named: str
) -> None:
    bedrock, stubber = stubbed
    stubber.add_client_error("converse", code, "no", 403 if code == "AccessDeniedException" else 404)
    with pytest.raises(ProviderError) as failure:
        ask(bedrock, {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]})
    assert failure.value.code == "server_error"
    assert code in failure.value.message
    assert named in failure.value.message


def test_the_built_client_makes_one_attempt_with_a_bounded_read_timeout() -> None:
    bedrock = Bedrock(timeout=30)
    client = bedrock._within(30)
    assert client.meta.config.retries["total_max_attempts"] == 1
    assert client.meta.config.read_timeout == 30
    assert bedrock._within(10).meta.config.read_timeout <= 10  # never past what is left
