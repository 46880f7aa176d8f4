"""A provider for Amazon Bedrock's Converse API, under the worker's IAM role (no key).

The canonical Chat Completions request is translated (``converse_params``); the answer and Bedrock's errors are
translated back. botocore's own retries are off: the deadline-bounded loop of ``retry.call`` is the only one.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from threads_api.providers import ChatResult, OnText, ProviderError, ShouldStop, ToolCall, Usage
from threads_api.providers.retry import Backoff, Retryable, call

THROTTLED = frozenset({"ThrottlingException", "ServiceQuotaExceededException"})
RETRIED = frozenset(
    {"ModelTimeoutException", "ServiceUnavailableException", "InternalServerException", "ModelNotReadyException"}
)
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
MESSAGE_MAX_CHARS = 500
MIN_READ_TIMEOUT = 0.25
CONNECT_TIMEOUT_SECONDS = 10.0
# Converse wants the first turn to be the user's; a thread may open with an assistant's message.
CONVERSATION_START = "(The conversation starts with the assistant's message below.)"
NO_OUTPUT = "(no output)"  # Converse refuses a blank text block; a tool may return nothing
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}


class Bedrock:
    """``complete(..., stream=True)`` is answered with Converse too, not ConverseStream: the worker waits for the
    whole answer either way, and its IAM role grants ``bedrock:InvokeModel`` (Converse's permission) only."""

    def __init__(
        self,
        client: Any = None,
        *,
        timeout: float = 60.0,
        backoff: Backoff = Backoff(),  # noqa: B008 - frozen, so one shared default is safe
    ) -> None:
        self._timeout, self._backoff = timeout, backoff
        self._given = client  # a test's (stubbed) client: used for every attempt, whatever its timeout
        self._clients: dict[float, Any] = {}
        if client is None:
            self._within(timeout)  # built now, once per container, in the init phase

    def complete(
        self,
        request: dict[str, Any],
        *,
        deadline: float,
        stream: bool = False,
        on_text: OnText | None = None,
        should_stop: ShouldStop | None = None,
    ) -> ChatResult:
        """Converse, also for ``stream`` (the reply comes whole: ``on_text`` is not called). ``should_stop`` is
        asked before each attempt and during the waits between them; an attempt under way is not cut (its
        read timeout bounds it), and a run cancelled meanwhile reads cancelled at its bound anyway."""
        params = converse_params(request)
        return call(
            lambda left: self._attempt(params, left), deadline=deadline, backoff=self._backoff, should_stop=should_stop
        )

    def _attempt(self, params: dict[str, Any], left: float) -> ChatResult:
        from botocore import exceptions

        try:
            response = self._within(left).converse(**params)
        except exceptions.ClientError as exc:
            raise _failure(dict(exc.response.get("Error", {})), str(params["modelId"])) from exc
        except (exceptions.ConnectionError, exceptions.HTTPClientError) as exc:
            raise Retryable("server_error", f"Bedrock could not be reached ({type(exc).__name__}).") from exc
        except exceptions.ParamValidationError as exc:  # the request as translated is not one Converse takes
            raise ProviderError("invalid_prompt", _short(str(exc))) from exc
        return _result(response)

    def _within(self, left: float) -> Any:
        """A client whose read timeout ends before ``left`` does: botocore's timeouts are a client's, fixed
        when it is built, so there is one per halving of the timeout (a few at most), built on first need."""
        if self._given is not None:
            return self._given
        level = self._timeout
        while level > left and level > MIN_READ_TIMEOUT:
            level /= 2
        if level not in self._clients:
            import boto3
            from botocore.config import Config

            config = Config(
                read_timeout=level,
                connect_timeout=min(CONNECT_TIMEOUT_SECONDS, level),
                retries={"total_max_attempts": 1, "mode": "standard"},
            )
            self._clients[level] = boto3.client("bedrock-runtime", config=config)
        return self._clients[level]


def converse_params(request: dict[str, Any]) -> dict[str, Any]:  # noqa: C901 - one branch a Chat Completions field
    """Converse's parameters for a Chat Completions request body.

    System messages become ``system``; a ``tool`` message a user turn's ``toolResult``; consecutive turns of one
    role are merged (Converse wants them alternating). ``tool_choice`` "auto" is Converse's default and is not
    sent (models that lack ``toolChoice`` refuse it); "none" leaves the tools out, unless the conversation already
    holds tool blocks, which Converse accepts only with a ``toolConfig``. ``response_format`` and
    ``parallel_tool_calls`` have no Converse equivalent and are not sent.
    """
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for message in request.get("messages") or []:
        role = message.get("role")
        if role in ("system", "developer"):
            system += _text_blocks(message.get("content"))
            continue
        if role == "tool":
            output = _plain(message.get("content"))
            result = {
                "toolUseId": message["tool_call_id"],
                "content": [{"text": output if output.strip() else NO_OUTPUT}],
            }
            role, blocks = "user", [{"toolResult": result}]
        elif role == "assistant":
            blocks = _text_blocks(message.get("content")) + [
                {"toolUse": {"toolUseId": c["id"], "name": c["function"]["name"], "input": _input(c["function"])}}
                for c in message.get("tool_calls") or []
            ]
        else:
            role, blocks = "user", _text_blocks(message.get("content"))
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += blocks
        else:
            turns.append({"role": role, "content": blocks})
    if turns and turns[0]["role"] == "assistant":
        turns.insert(0, {"role": "user", "content": [{"text": CONVERSATION_START}]})
    params: dict[str, Any] = {"modelId": request["model"], "messages": turns}
    if system:
        params["system"] = system
    tools = [t["function"] for t in request.get("tools") or [] if t.get("type") == "function"]
    choice = request.get("tool_choice", "auto")
    has_tool_blocks = any("toolUse" in b or "toolResult" in b for turn in turns for b in turn["content"])
    if tools and (choice != "none" or has_tool_blocks):
        config: dict[str, Any] = {"tools": [{"toolSpec": _tool_spec(f)} for f in tools]}
        if choice == "required":
            config["toolChoice"] = {"any": {}}
        elif isinstance(choice, dict):
            config["toolChoice"] = {"tool": {"name": choice["function"]["name"]}}
        params["toolConfig"] = config
    inference = {
        name: request[key]
        for key, name in (("temperature", "temperature"), ("top_p", "topP"), ("max_completion_tokens", "maxTokens"))
        if request.get(key) is not None
    }
    if inference:
        params["inferenceConfig"] = inference
    return params


def _tool_spec(function: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": function["name"],
        "inputSchema": {"json": function.get("parameters") or {"type": "object", "properties": {}}},
    }
    if function.get("description"):
        spec["description"] = function["description"]
    return spec


def _input(function: dict[str, Any]) -> Any:
    """A tool call's arguments as the object Converse wants (text that is not a JSON object: an empty one)."""
    try:
        parsed = json.loads(function.get("arguments") or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _plain(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content or [] if isinstance(p, dict) and p.get("type") == "text")


def _text_blocks(content: Any) -> list[dict[str, Any]]:
    """Text (and data-URL images) as content blocks; blank text is left out, as Converse refuses it."""
    if content is None or isinstance(content, str):
        return [{"text": content}] if content and content.strip() else []
    blocks: list[dict[str, Any]] = []
    for part in content:
        if part.get("type") == "text" and str(part.get("text", "")).strip():
            blocks.append({"text": part["text"]})
        elif part.get("type") == "image_url":
            image = _image(str((part.get("image_url") or {}).get("url", "")))
            if image is not None:
                blocks.append({"image": image})
    return blocks


def _image(url: str) -> dict[str, Any] | None:
    """A ``data:image/...;base64,`` URL as Converse's image bytes; Converse cannot fetch a web URL, which is skipped."""
    head, _, data = url.partition(",")
    media = head.removeprefix("data:").removesuffix(";base64")
    if not head.startswith("data:") or not head.endswith(";base64") or media not in IMAGE_FORMATS:
        return None
    try:
        return {"format": IMAGE_FORMATS[media], "source": {"bytes": base64.b64decode(data, validate=True)}}
    except (binascii.Error, ValueError):
        return None


def _result(response: dict[str, Any]) -> ChatResult:
    blocks = ((response.get("output") or {}).get("message") or {}).get("content") or []
    texts = [b["text"] for b in blocks if "text" in b]
    calls = [
        ToolCall(b["toolUse"]["toolUseId"], b["toolUse"]["name"], json.dumps(b["toolUse"].get("input", {})))
        for b in blocks
        if "toolUse" in b
    ]
    reason = STOP_REASONS.get(str(response.get("stopReason")), "stop")
    if calls and reason == "stop":
        reason = "tool_calls"
    raw = response.get("usage") or {}
    usage = (
        Usage(raw["inputTokens"], raw["outputTokens"], raw.get("totalTokens", raw["inputTokens"] + raw["outputTokens"]))
        if "inputTokens" in raw and "outputTokens" in raw
        else None
    )
    return ChatResult("\n".join(texts) if texts else None, calls, reason, usage)


def _failure(error: dict[str, Any], model: str) -> Exception:
    code = str(error.get("Code", ""))
    if code in THROTTLED:
        return Retryable("rate_limit_exceeded", f"Bedrock throttled the request ({code}).")
    if code in RETRIED:
        return Retryable("server_error", f"Bedrock failed ({code}).")
    if code == "ValidationException":
        return ProviderError("invalid_prompt", _short(str(error.get("Message") or "Bedrock refused the prompt.")))
    if code == "AccessDeniedException":
        return ProviderError(
            "server_error",
            f"Bedrock refused the request (AccessDeniedException): check the worker's IAM role and that access to "
            f"model {model[:100]!r} is enabled in this region.",
        )
    if code == "ResourceNotFoundException":
        return ProviderError(
            "server_error",
            f"Bedrock has no model {model[:100]!r} here (ResourceNotFoundException): check the model id and region.",
        )
    return ProviderError("server_error", f"Bedrock failed ({code or 'an unknown error'}).")


def _short(text: str) -> str:
    return text if len(text) <= MESSAGE_MAX_CHARS else text[: MESSAGE_MAX_CHARS - 1] + "…"
