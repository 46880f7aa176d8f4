"""What the model is asked: a run and its thread as one OpenAI Chat Completions request (the canonical form;
``providers.bedrock`` translates it for Bedrock).

The assistant's (or run's) instructions, then ``additional_instructions``, are the system message; the
thread's messages follow in order, then what this run has done so far: its replies and, for each tool call
round, the assistant's ``tool_calls`` and one ``tool`` message per output.
"""

from __future__ import annotations

import json
from typing import Any

from threads_api.domain.records import JsonObject, Message, Run

CHARS_PER_TOKEN = 4  # the estimate behind truncation by max_prompt_tokens (no tokenizer here)


def request(run: Run, history: list[Message], replies: dict[str, Message], completion_budget: int | None) -> JsonObject:
    """The Chat Completions request for ``run``'s next model call.

    ``history``: the thread's messages, oldest first, but this run's replies, which are ``replies`` (by id)
    and come back in the order of the run's steps.
    """
    system = "\n\n".join(text for text in (run.instructions, run.additional_instructions) if text)
    messages: list[JsonObject] = [{"role": "system", "content": system}] if system else []
    thread = [_chat_message(m) for m in _truncated(history, run.settings)]
    messages += thread
    for step in run.steps:
        details = step["step_details"]
        if details["type"] == "message_creation":
            reply = replies.get(details["message_creation"]["message_id"])
            if reply is not None:
                messages.append(_chat_message(reply))
        else:
            calls = details["tool_calls"]
            messages.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": c["id"],
                            "type": "function",
                            "function": {k: c["function"][k] for k in ("name", "arguments")},
                        }
                        for c in calls
                    ],
                }
            )
            messages += [
                {"role": "tool", "tool_call_id": c["id"], "content": c["function"]["output"] or ""} for c in calls
            ]
    body: JsonObject = {"model": run.model, "messages": messages}
    tools = [_function_tool(t) for t in run.tools if t.get("type") == "function"]
    settings = run.settings
    if tools:
        body["tools"] = tools
        body["tool_choice"] = settings.get("tool_choice") or "auto"
        if settings.get("parallel_tool_calls") is False:
            body["parallel_tool_calls"] = False
    for name in ("temperature", "top_p"):
        if settings.get(name) is not None:
            body[name] = settings[name]
    response_format = settings.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") != "text":
        body["response_format"] = response_format
    if completion_budget is not None:
        body["max_completion_tokens"] = completion_budget
    return body


def estimated_prompt_tokens(body: JsonObject) -> int:
    """A request's prompt tokens by the same estimate as truncation: its messages' text, and its tools."""
    texts = [m.get("content") or "" for m in body["messages"]]
    calls = [json.dumps(m["tool_calls"]) for m in body["messages"] if m.get("tool_calls")]
    chars = sum(len(t) for t in texts if isinstance(t, str)) + sum(len(c) for c in calls)
    chars += len(json.dumps(body.get("tools") or []))
    return chars // CHARS_PER_TOKEN + 4 * len(body["messages"])


def _truncated(history: list[Message], settings: JsonObject) -> list[Message]:
    """The thread's messages the run sees: the last N (``last_messages``), and with ``max_prompt_tokens``,
    the newest that fit it by estimate (at least the last one)."""
    strategy = settings.get("truncation_strategy") or {}
    if strategy.get("type") == "last_messages" and strategy.get("last_messages"):
        history = history[-int(strategy["last_messages"]) :]
    limit = settings.get("max_prompt_tokens")
    if limit:
        kept: list[Message] = []
        total = 0
        for message in reversed(history):
            total += len(_text(message)) // CHARS_PER_TOKEN + 4
            if kept and total > limit:
                break
            kept.append(message)
        history = kept[::-1]
    return history


def _text(message: Message) -> str:
    return "\n".join(part["text"]["value"] for part in message.content if part.get("type") == "text")


def _chat_message(message: Message) -> JsonObject:
    images = [p for p in message.content if p.get("type") == "image_url"]
    if message.role == "user" and images:
        parts: list[Any] = []
        for part in message.content:
            if part.get("type") == "text":
                parts.append({"type": "text", "text": part["text"]["value"]})
            elif part.get("type") == "image_url":
                parts.append({"type": "image_url", "image_url": part["image_url"]})
        return {"role": "user", "content": parts}
    return {"role": message.role, "content": _text(message)}


def _function_tool(tool: JsonObject) -> JsonObject:
    function = {
        k: v
        for k, v in tool["function"].items()
        if k in ("name", "description", "parameters", "strict") and v is not None
    }
    return {"type": "function", "function": function}
