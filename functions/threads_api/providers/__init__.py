"""Model providers: what the run worker calls to have a model answer. The worker's alone, never an API function's.

A provider takes an OpenAI Chat Completions request body (the canonical form ``runs.chat`` builds) and a
``time.monotonic()`` deadline, and returns a ``ChatResult`` or raises ``ProviderError`` with one of the codes
OpenAI gives a failed run's ``last_error``. Two are built in, chosen by ``from_environment()``:

- ``openai_compatible``: any server speaking Chat Completions (OpenAI, vLLM, Ollama, LiteLLM, ...), stdlib HTTP;
- ``bedrock``: Amazon Bedrock's Converse API, under the worker's IAM role.

Importing this package is cheap: the submodules (and urllib, botocore) load only when a provider is built.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # the JSON text as the model wrote it (not necessarily valid JSON)


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True, slots=True)
class ChatResult:
    text: str | None
    tool_calls: list[ToolCall]
    finish_reason: str  # "stop" | "length" | "tool_calls" | "content_filter"
    usage: Usage | None


class ProviderError(Exception):
    """The model call failed for good: retries ran out, or the provider refused it (a 4xx) at once.

    ``code`` is a run's ``last_error.code`` ("rate_limit_exceeded", "server_error", "invalid_prompt") and
    ``message`` a sentence for its ``last_error.message``: it never carries a key or a request's content.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Stopped(Exception):
    """The caller's ``should_stop()`` said to stop (the run was cancelled): no attempt starts any more, and the
    one under way is abandoned (its connection closed)."""


# Called with the reply's text so far while a streamed answer comes in (it may start again, shorter, when an
# attempt fails and the next one begins).
OnText = Callable[[str], None]
# Asked before each attempt, between the waits of a backoff, and about every second while an attempt is under
# way (from a thread of its own): True ends the call with ``Stopped``.
ShouldStop = Callable[[], bool]


class Provider(Protocol):
    def complete(
        self,
        request: dict[str, Any],
        *,
        deadline: float,
        stream: bool = False,
        on_text: OnText | None = None,
        should_stop: ShouldStop | None = None,
    ) -> ChatResult: ...


DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT_SECONDS = 60.0


def from_environment() -> Provider | None:
    """The provider the environment configures, or None when there is none (runs then fail saying so).

    MODEL_PROVIDER: ``openai`` (the default when MODEL_BASE_URL is set), ``bedrock`` or ``none`` (the default
    otherwise). MODEL_BASE_URL (default OpenAI's), MODEL_API_KEY (local use) or MODEL_API_KEY_PARAMETER (an SSM
    SecureString's name, or a Secrets Manager secret: an ARN, or a name prefixed ``secretsmanager:``; read on
    first use and cached), MODEL_TIMEOUT_SECONDS (the cap of one attempt, default 60).
    """
    base_url = os.environ.get("MODEL_BASE_URL", "").strip()
    name = (os.environ.get("MODEL_PROVIDER", "").strip() or ("openai" if base_url else "none")).lower()
    timeout = float(os.environ.get("MODEL_TIMEOUT_SECONDS", "").strip() or DEFAULT_TIMEOUT_SECONDS)
    if name == "none":
        return None
    if name == "openai":
        from threads_api.providers.openai_compatible import OpenAICompatible

        return OpenAICompatible(
            base_url or DEFAULT_BASE_URL,
            api_key=os.environ.get("MODEL_API_KEY") or None,
            api_key_parameter=os.environ.get("MODEL_API_KEY_PARAMETER") or None,
            timeout=timeout,
        )
    if name == "bedrock":
        from threads_api.providers.bedrock import Bedrock

        return Bedrock(timeout=timeout)
    # Loud: a typo here would otherwise fail every run with "no provider configured".
    raise ValueError(f"MODEL_PROVIDER must be openai, bedrock or none, not {name!r}")


MESSAGE_MAX_CHARS = 500  # of a provider's own explanation, kept in a last_error


def provider_message(raw: bytes) -> str:
    """An OpenAI-compatible server's own explanation of a refusal (``error.message``, or the body's text),
    shortened to ``MESSAGE_MAX_CHARS``."""
    import json

    text = raw.decode("utf-8", "replace").strip()
    try:
        error = json.loads(text).get("error")
        text = str(error.get("message") if isinstance(error, dict) else error or text)
    except (ValueError, AttributeError):
        pass
    return text if len(text) <= MESSAGE_MAX_CHARS else text[: MESSAGE_MAX_CHARS - 1] + "…"
