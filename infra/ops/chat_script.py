"""The scripted model server's replies (``infra/ops/chat_server.py``): what a request is answered, and how.

A reply comes from the script (``text``, ``tool_calls``, ``error``, ``slow``, or any ``Reply``), else from
markers in the last user message (when the conversation ends with it), removed from the echoed text:

- ``[[tool:NAME {"json": "arguments"}]]``: a call of tool NAME (arguments optional, ``{}``; they may not
  contain ``]]``); several markers, several calls in one reply;
- ``[[error:STATUS]]``: every request answered STATUS (429, 500, 400, 401, ...); ``[[error:STATUS*N]]``: only
  the first N requests for that message, then an answer as if the marker were absent;
- ``[[slow:SECONDS]]``: the answer waits SECONDS (a number) first;
- ``[[pace:SECONDS]]``: a streamed answer waits SECONDS between two chunks (a model writing token by token);
- ``[[hold:NAME]]``: the answer waits until the test calls ``server.release("NAME")`` (at most
  ``hold_seconds``, 60 by default, then it answers anyway); ``server.wait_held("NAME", timeout)`` returns
  True once a request waits there. A release lets through every request held at NAME, now and later: a test
  names its hold uniquely. Unlike ``slow``, no fixed delay: the test decides when the model answers;
- ``[[finish:length]]`` / ``[[finish:content_filter]]``: the answer's finish_reason;

- ``[[search:QUERY]]``, ``[[cite:S:R,...]]``: file_search rounds and the answer that cites their excerpts
  (``infra/ops/chat_search.py``, asked first; a request that offers ``file_search`` and has no marker at all
  is answered with a search of its text);

otherwise, the echo: ``echo: <the last user message, markers removed>``; a conversation that ends with tool
results is answered ``tool said: <output>`` (one line per result); one that ends with anything else (an
assistant's message) gets the echo of the last user message, its markers ignored.

A marker's 429 or 5xx carries ``Retry-After: 0``, so a client retries at once (its own attempt limit ends the loop).
``max_completion_tokens`` is honoured: a longer text is cut to that many words, finish_reason ``length``.
Usage counts words. A request with ``stream: true`` is answered in server-sent events, content a word per chunk,
each tool call's arguments in two chunks, usage last when ``stream_options.include_usage`` asks for it.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

# search and cite: chat_search.py's (file_search rounds), named here so that the echo leaves them out too.
MARKER = re.compile(r"\[\[(tool|error|slow|hold|finish|pace|search|cite):(.*?)\]\]", re.DOTALL)


@dataclass(frozen=True)
class Reply:
    text: str | None = None
    tool_calls: tuple[tuple[str, str], ...] = ()  # (name, arguments as JSON text)
    finish_reason: str | None = None  # by default "tool_calls" with tool calls, "stop" otherwise
    status: int = 200
    retry_after: str | None = None
    message: str = ""  # an error's message
    delay: float = 0.0  # seconds to wait before answering
    hold: str | None = None  # the name of the gate the answer waits at (``[[hold:NAME]]``), after its delay
    raw: bytes | None = None  # a body sent as it is (a malformed answer)
    pace: float = 0.0  # seconds between two chunks of a streamed answer (``[[pace:SECONDS]]``)


def text(content: str, *, finish_reason: str | None = None) -> Reply:
    return Reply(text=content, finish_reason=finish_reason)


def tool_calls(*calls: tuple[str, dict[str, Any] | str]) -> Reply:
    return Reply(tool_calls=tuple((name, a if isinstance(a, str) else json.dumps(a)) for name, a in calls))


def error(status: int, *, retry_after: str | None = None, message: str | None = None) -> Reply:
    return Reply(status=status, retry_after=retry_after, message=message or f"fake error {status}")


def slow(seconds: float, reply: Reply | None = None) -> Reply:
    return replace(reply or text("slow"), delay=seconds)


# -- a reply chosen by the conversation ------------------------------------------------------------------


def by_content(  # noqa: C901 - one branch a marker
    messages: list[dict[str, Any]], errors_served: Counter[str], base: Reply | None = None
) -> Reply:
    """The reply the conversation's end asks for; ``errors_served`` counts each ``[[error:STATUS*N]]`` served.
    ``base``: the reply the file_search markers chose (``chat_search.search_reply``), in place of the echo or the
    tool outputs; the other markers of the user's message apply to it as to the echo."""
    last = messages[-1]
    if last["role"] == "tool" and base is None:
        outputs: list[str] = []
        for message in reversed(messages):
            if message["role"] != "tool":
                break
            outputs.insert(0, f"tool said: {plain(message.get('content'))}")
        return text("\n".join(outputs))
    said = next((plain(m.get("content")) for m in reversed(messages) if m["role"] == "user"), "")
    echo = base or text("echo: " + MARKER.sub("", said).strip())
    if last["role"] != "user":
        return echo
    reply, calls = echo, []
    for kind, value in MARKER.findall(said):
        if kind == "tool":
            name, _, arguments = value.strip().partition(" ")
            calls.append((name, arguments.strip() or "{}"))
        elif kind == "slow":
            reply = replace(reply, delay=float(value))
        elif kind == "hold":
            reply = replace(reply, hold=value.strip())
        elif kind == "pace":
            reply = replace(reply, pace=float(value))
        elif kind == "finish":
            reply = replace(reply, finish_reason=value.strip())
        elif kind == "error":
            status, _, times = value.partition("*")
            key = f"{value}\0{said}"
            if not times or errors_served[key] < int(times):
                errors_served[key] += 1
                code = int(status)
                retry_after = "0" if code == 429 or code >= 500 else None  # the client retries at once
                return replace(error(code, retry_after=retry_after), delay=reply.delay)
    return replace(reply, text=None, tool_calls=reply.tool_calls + tuple(calls)) if calls else reply


def plain(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content or [] if p.get("type") == "text")


def _words(value: str | None) -> int:
    return len((value or "").split())


# -- the answer's body -------------------------------------------------------------------------------------


def error_body(reply: Reply) -> bytes:
    """An error reply's body (OpenAI's error envelope), or its raw body as it is."""
    return (
        reply.raw
        or json.dumps({"error": {"message": reply.message, "type": "fake_error", "param": None, "code": None}}).encode()
    )


def _answer(reply: Reply, body: dict[str, Any]) -> tuple[str, list[dict[str, Any]], str, dict[str, int]]:
    """The reply's text, tool calls (as OpenAI writes them), finish_reason and usage."""
    content, reason = reply.text, reply.finish_reason
    limit = body.get("max_completion_tokens")
    if content is not None and reason is None and isinstance(limit, int) and _words(content) > limit:
        content, reason = " ".join(content.split()[:limit]), "length"
    calls = [
        {"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function", "function": {"name": n, "arguments": a}}
        for n, a in reply.tool_calls
    ]
    reason = reason or ("tool_calls" if calls else "stop")
    prompt = sum(_words(plain(m.get("content"))) for m in body["messages"])
    completion = _words(content) + sum(_words(a) for _, a in reply.tool_calls) + len(calls)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return content or "", calls, reason, usage


def _head(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()), "model": body["model"]}


def completion(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    """The ``chat.completion`` object that answers ``body`` (a request without ``stream``)."""
    content, calls, reason, usage = _answer(reply, body)
    message: dict[str, Any] = {"role": "assistant", "content": content or None, "refusal": None}
    if calls:
        message["tool_calls"] = calls
    choice = {"index": 0, "message": message, "finish_reason": reason, "logprobs": None}
    return {**_head(body), "object": "chat.completion", "choices": [choice], "usage": usage}


def chunks(reply: Reply, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` events that answer ``body`` (``stream: true``), before ``[DONE]``."""
    content, calls, reason, usage = _answer(reply, body)
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": word} for word in re.findall(r"\s*\S+", content)]
    for i, call in enumerate(calls):
        function, arguments = call["function"], call["function"]["arguments"]
        first = {"index": i, "id": call["id"], "type": "function", "function": {**function, "arguments": ""}}
        deltas.append({"tool_calls": [first]})
        for half in (arguments[: len(arguments) // 2], arguments[len(arguments) // 2 :]):
            deltas.append({"tool_calls": [{"index": i, "function": {"arguments": half}}]})
    chunk = {**_head(body), "object": "chat.completion.chunk"}
    events = [{**chunk, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    events.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({**chunk, "choices": [], "usage": usage})
    return events
