"""What the provider tests share: the OpenAI-compatible provider on the scripted model server (the ``server``
fixture of conftest.py) with short waits, and the requests the worker may send."""

from __future__ import annotations

import time
from typing import Any

from infra.ops.chat_server import ChatServer
from threads_api.providers.openai_compatible import OpenAICompatible
from threads_api.providers.retry import Backoff

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


def provider(server: ChatServer, waits: Waits | None = None, **options: Any) -> OpenAICompatible:
    backoff = Backoff(
        base=0.01, cap=0.02, max_attempts=options.pop("max_attempts", 4), sleep=Waits() if waits is None else waits
    )
    return OpenAICompatible(server.url, backoff=backoff, **options)


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds
