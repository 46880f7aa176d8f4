"""A provider for any server speaking OpenAI's Chat Completions API: ``POST {base_url}/chat/completions``.

The standard library's ``http.client`` only (nothing added to the Lambda layer), so each read of a streamed
answer can be bounded by the time left to the deadline. Failures worth another attempt (a connection error, a
timeout, a 429, a 500/502/503/504/529) go through ``retry.call``; a refusal (a 4xx) is final at once.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import time
import urllib.parse
import uuid
from typing import Any

from threads_api.providers import ChatResult, OnText, ProviderError, ShouldStop, ToolCall, Usage, provider_message
from threads_api.providers.retry import Backoff, Retryable, call, retry_after_seconds, watched
from threads_api.providers.utf16 import Pieces, whole

RETRIED_STATUSES = frozenset({500, 502, 503, 504, 529})
INVALID_PROMPT_STATUSES = frozenset({400, 413, 422})  # the request itself (too long, malformed): no retry helps
FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter"})
SECRETS_MANAGER_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:")
KEY_MAX_AGE_SECONDS = 300  # a rotated key is picked up within five minutes, without a call per run
NOT_CHAT_COMPLETION = "The model provider's answer was not a Chat Completions response."


class OpenAICompatible:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        api_key_parameter: str | None = None,
        timeout: float = 60.0,
        backoff: Backoff = Backoff(),  # noqa: B008 - frozen, so one shared default is safe
    ) -> None:
        parts = urllib.parse.urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"MODEL_BASE_URL must be an http(s) URL, like https://api.openai.com/v1: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._base_path = parts.path or "/"
        self._path = parts.path + "/chat/completions" + (f"?{parts.query}" if parts.query else "")
        self._ssl = ssl.create_default_context() if self._https else None  # once per container: it reads the CA file
        self._key, self._key_parameter = api_key, api_key_parameter
        self._timeout, self._backoff = timeout, backoff

    def complete(
        self,
        request: dict[str, Any],
        *,
        deadline: float,
        stream: bool = False,
        on_text: OnText | None = None,
        should_stop: ShouldStop | None = None,
    ) -> ChatResult:
        body = {k: v for k, v in request.items() if k not in ("stream", "stream_options")}
        if stream:
            body |= {"stream": True, "stream_options": {"include_usage": True}}
        payload = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "threads-api"}
        key = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        model = str(request.get("model", ""))
        return call(
            lambda left: watched(
                lambda sockets: self._attempt(sockets, payload, headers, model, deadline, left, stream, on_text),
                should_stop,
            ),
            deadline=deadline,
            backoff=self._backoff,
            should_stop=should_stop,
        )

    def _attempt(  # noqa: PLR0913 - one HTTP attempt's whole state, passed rather than kept on the provider
        self,
        sockets: list[Any],
        payload: bytes,
        headers: dict[str, str],
        model: str,
        deadline: float,
        left: float,
        stream: bool,
        on_text: OnText | None,
    ) -> ChatResult:
        timeout = min(self._timeout, left)
        connection: http.client.HTTPConnection = (
            http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._ssl)
            if self._https
            else http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        )
        try:
            connection.connect()
            sock = connection.sock  # kept: getresponse() drops it from the connection when the server will close
            sockets.append(sock)  # for ``watched``: a stop shuts it down
            connection.request("POST", self._path, body=payload, headers=headers)
            response = connection.getresponse()
            if not 200 <= response.status < 300:
                raise self._refusal(response.status, response.read(), response.getheader("Retry-After"), model)
            if stream:
                return _read_stream(response, sock, deadline, self._timeout, on_text)
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, TimeoutError):
                raise Retryable("server_error", "The model provider did not answer in time.") from exc
            raise Retryable("server_error", f"The model provider could not be reached ({type(exc).__name__}).") from exc
        finally:
            connection.close()
        try:
            data = json.loads(raw)
            message = data["choices"][0]["message"]
            return _result(_text(message.get("content")), message.get("tool_calls"), data["choices"][0], data)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError("server_error", NOT_CHAT_COMPLETION) from None

    def _refusal(self, status: int, raw: bytes, retry_after: str | None, model: str) -> Exception:
        if status == 429:
            return Retryable(
                "rate_limit_exceeded",
                "The model provider's rate limit was exceeded (429).",
                retry_after_seconds(retry_after),
            )
        if status in RETRIED_STATUSES:
            return Retryable("server_error", f"The model provider failed ({status}).", retry_after_seconds(retry_after))
        if status in INVALID_PROMPT_STATUSES:
            return ProviderError(
                "invalid_prompt", provider_message(raw) or f"The model provider refused the prompt ({status})."
            )
        if status in (401, 403):
            setting = "MODEL_API_KEY_PARAMETER" if self._key_parameter else "MODEL_API_KEY"
            return ProviderError("server_error", f"The model provider refused the request ({status}): check {setting}.")
        if status == 404:
            return ProviderError(
                "server_error",
                f"The model provider answered 404 for model {model[:100]!r} at {self._base_path.rstrip('/')}"
                "/chat/completions: check the model name and the path of MODEL_BASE_URL.",
            )
        return ProviderError("server_error", f"The model provider answered {status}.")

    def _api_key(self) -> str | None:
        if not self._key_parameter:
            return self._key
        try:
            return read_secret(self._key_parameter)
        except Exception as exc:  # whatever failed (not found, denied, throttled), the run says where to look
            raise ProviderError(
                "server_error",
                f"The model provider's API key could not be read from {self._key_parameter} ({type(exc).__name__}).",
            ) from None


def read_secret(name: str) -> str:
    """The key in SSM (a SecureString's name) or Secrets Manager (an ARN, or ``secretsmanager:<name>``), through
    Powertools' Parameters utility: fetched on first use, then cached for KEY_MAX_AGE_SECONDS. Never logged."""
    from aws_lambda_powertools.utilities import parameters

    if name.startswith("secretsmanager:") or SECRETS_MANAGER_ARN.match(name):
        value = parameters.get_secret(name.removeprefix("secretsmanager:"), max_age=KEY_MAX_AGE_SECONDS)
    else:
        value = parameters.get_parameter(name, decrypt=True, max_age=KEY_MAX_AGE_SECONDS)
    return (value.decode() if isinstance(value, bytes) else str(value)).strip()


def _read_stream(  # noqa: C901 - the SSE protocol's cases in one loop: deltas, tool calls, usage, errors, keep-alives
    response: http.client.HTTPResponse, sock: Any, deadline: float, cap: float, on_text: OnText | None = None
) -> ChatResult:
    """Server-sent events: ``data: <chunk>`` lines until ``data: [DONE]``; content and tool call deltas are
    accumulated (tool calls by ``index``), and usage comes in the last chunk (``include_usage``). ``on_text``
    hears the text so far after each content delta."""
    parts = Pieces()  # the content, a surrogate pair split across two chunks joined
    calls: dict[int, dict[str, str]] = {}
    last: dict[str, Any] = {}  # the choice that carried finish_reason
    usage_from: dict[str, Any] = {}
    done = False
    while not done:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Retryable("server_error", "The model provider's answer did not finish before the run's time ran out.")
        if sock is not None:
            sock.settimeout(min(cap, left))  # each read, not only the first, ends by the deadline
        line = response.readline()
        if not line:
            break
        line = line.strip()
        if not line.startswith(b"data:"):
            continue  # comments (": keep-alive"), event: and id: lines
        data = line[5:].strip()
        if data == b"[DONE]":
            done = True
            continue
        try:
            chunk = json.loads(data)
            if not isinstance(chunk, dict):
                raise TypeError
        except (ValueError, TypeError):
            raise ProviderError("server_error", NOT_CHAT_COMPLETION) from None
        if "error" in chunk:
            raise ProviderError(
                "server_error", "The model provider failed while answering (an error event in its stream)."
            )
        if chunk.get("usage"):
            usage_from = chunk
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue  # n > 1 is never asked
            if _take_delta(choice.get("delta") or {}, parts, calls) and on_text is not None:
                on_text(parts.so_far())
            if choice.get("finish_reason"):
                last = choice
    if not done and not last:  # the connection dropped mid-answer: another attempt may get it whole
        raise Retryable("server_error", "The model provider's answer ended before it was complete.")
    ordered = [
        {"id": c["id"], "function": {"name": c["name"], "arguments": c["arguments"]}} for _, c in sorted(calls.items())
    ]
    return _result(parts.final(), ordered, last, usage_from)


def _take_delta(delta: dict[str, Any], parts: Pieces, calls: dict[int, dict[str, str]]) -> bool:
    """Accumulate one chunk's delta: its content into ``parts``, its tool calls by index into ``calls``.
    Whether it carried content."""
    for position, piece in enumerate(delta.get("tool_calls") or []):
        index = piece.get("index")
        if index is None:  # a server that sends each call whole, unindexed
            index = len(calls) if piece.get("id") else max(calls, default=position)
        slot = calls.setdefault(int(index), {"id": "", "name": "", "arguments": ""})
        function = piece.get("function") or {}
        slot["id"] = piece.get("id") or slot["id"]
        slot["name"] = function.get("name") or slot["name"]
        slot["arguments"] += _arguments(function.get("arguments"))
    if isinstance(delta.get("content"), str) and delta["content"]:
        parts.add(delta["content"])
        return True
    return False


def _result(text: str | None, raw_calls: Any, choice: dict[str, Any], data: dict[str, Any]) -> ChatResult:
    calls = [
        ToolCall(
            id=whole(c.get("id") or f"call_{uuid.uuid4().hex[:24]}"),  # a few servers omit it; outputs need one
            name=whole(str(c["function"]["name"])),
            arguments=whole(_arguments(c["function"].get("arguments"))),
        )
        for c in raw_calls or []
    ]
    reason = choice.get("finish_reason")
    if reason == "function_call" or (calls and reason in (None, "stop")):
        reason = "tool_calls"  # some servers say "stop" even when they called tools
    return ChatResult(text, calls, reason if reason in FINISH_REASONS else "stop", _usage(data.get("usage")))


def _text(content: Any) -> str | None:
    if content is not None and not isinstance(content, str):  # a list of parts, from a few servers
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return None if content is None else whole(content)


def _arguments(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)  # a few servers send an object, not its text


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    try:
        prompt, completion = int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0)
        return Usage(prompt, completion, int(raw.get("total_tokens") or prompt + completion))
    except (TypeError, ValueError):
        return None
