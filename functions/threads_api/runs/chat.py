"""What the model is asked: a run and its thread as one OpenAI Chat Completions request (the canonical form;
``providers.bedrock`` translates it for Bedrock).

The assistant's (or run's) instructions, then ``additional_instructions``, are the system message; the
thread's messages follow in order, then what this run has done so far: its replies and, for each tool call
round, the assistant's ``tool_calls`` and one ``tool`` message per output. file_search is offered to the model
as a function (``domain.file_search.chat_tool``) while the run has searches left; its calls are sent back as the
function calls they were, answered with the excerpts the model was shown, each headed by its citation marker.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from threads_api.domain import file_search
from threads_api.domain.file_search import SearchRecord
from threads_api.domain.records import JsonObject, Message, Run

CHARS_PER_TOKEN = 4  # the estimate behind truncation by max_prompt_tokens (no tokenizer here)


def request(
    run: Run,
    history: list[Message],
    replies: dict[str, Message],
    completion_budget: int | None,
    searches: Mapping[tuple[str, int], SearchRecord] | None = None,
) -> JsonObject:
    """The Chat Completions request for ``run``'s next model call.

    ``history``: the thread's messages, oldest first, but this run's replies, which are ``replies`` (by id)
    and come back in the order of the run's steps. ``searches``: the records of the run's file_search calls
    (their arguments and excerpts: ``store.run_searches``), by (step id, position), when it made any.
    """
    system = "\n\n".join(text for text in (run.instructions, run.additional_instructions) if text)
    messages: list[JsonObject] = [{"role": "system", "content": system}] if system else []
    messages += [_chat_message(m) for m in _truncated(history, run.settings)]
    numbers = {(step_id, n): number for number, (step_id, n, _) in enumerate(file_search.search_calls(run.steps))}
    for step in run.steps:
        details = step["step_details"]
        if details["type"] == "message_creation":
            reply = replies.get(details["message_creation"]["message_id"])
            if reply is not None:
                messages.append(_chat_message(reply))
        else:
            asked, answers = _tool_round(step["id"], details["tool_calls"], numbers, searches or {})
            messages += [{"role": "assistant", "content": None, "tool_calls": asked}, *answers]
    body: JsonObject = {"model": run.model, "messages": messages}
    tools = [_function_tool(t) for t in run.tools if t.get("type") == "function"]
    # A run that searched keeps the tool even once its searches are spent: its history holds the calls, and
    # a provider may refuse tool calls in a conversation without their tool (Bedrock's Converse does).
    spent = bool(numbers) and not file_search.offered(run)
    if file_search.offered(run) or numbers:
        tools.append(file_search.chat_tool())
    settings = run.settings
    if tools:
        body["tools"] = tools
        body["tool_choice"] = _tool_choice(settings.get("tool_choice") or "auto", run, searched=bool(numbers))
        if spent and len(tools) == 1:
            body["tool_choice"] = "none"  # no search left, and nothing else to call: the model answers
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


def _tool_round(
    step_id: str,
    calls: list[JsonObject],
    numbers: dict[tuple[str, int], int],
    searches: Mapping[tuple[str, int], SearchRecord],
) -> tuple[list[JsonObject], list[JsonObject]]:
    """A tool_calls step as the model asked it (the assistant's calls, each a function: file_search's too) and
    the answers it was given (one ``tool`` message a call, in the calls' order)."""
    asked: list[JsonObject] = []
    answers: list[JsonObject] = []
    for n, call in enumerate(calls):
        if call["type"] == "file_search":
            record = searches.get((step_id, n))
            if record is None:  # written before its step, always: a step without it is a store's fault
                raise LookupError(f"no record of the file_search call {n} of step {step_id}")
            function = {"name": file_search.TOOL_NAME, "arguments": record.arguments}
            output = search_output(numbers[(step_id, n)], call, record)
        else:
            function = {k: call["function"][k] for k in ("name", "arguments")}
            output = call["function"]["output"] or ""
        asked.append({"id": call["id"], "type": "function", "function": function})
        answers.append({"role": "tool", "tool_call_id": call["id"], "content": output})
    return asked, answers


def search_output(number: int, call: JsonObject, record: SearchRecord) -> str:
    """What the model was given for its file_search call ``number`` (the run's, from 0): the excerpts shown, or,
    for a call answered without any (arguments it must fix, no search left, no file to search, no room for an
    excerpt), that answer, which is then its record's one text."""
    results: list[JsonObject] = call["file_search"].get("results") or []
    if not results and record.texts:
        return record.texts[0]
    queries = file_search.query_of(record.arguments) or []
    return file_search.results_text(number, queries, results, record.texts)


def _tool_choice(choice: Any, run: Run, *, searched: bool) -> Any:
    """The run's ``tool_choice`` as the model is asked: file_search's named as the function it is, while it is
    offered and has not been searched yet; after a search, a choice that forces a tool is ``auto`` (a forced
    search would come back forever, and the results are there to answer from)."""
    forced = choice == "required" or isinstance(choice, dict)
    if forced and searched:
        return "auto"
    if isinstance(choice, dict) and choice.get("type") == file_search.TOOL_NAME:
        if not file_search.offered(run):
            return "auto"
        return {"type": "function", "function": {"name": file_search.TOOL_NAME}}
    return choice


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
