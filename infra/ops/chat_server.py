"""A scripted, local OpenAI-compatible Chat Completions server, for tests and for ``make serve`` without a model.

Every request is recorded (``server.requests``: path, headers, JSON body) and validated against
``CreateChatCompletionRequest`` of OpenAI's reference document; an invalid one is answered 400 and listed in
``server.invalid``, so a test can assert that none was sent. Replies come, in this order, from:

1. the script: ``ChatServer(text("hi"), error(429, retry_after="0"), ...)`` or ``server.script(...)``, one reply
   per request (``text``, ``tool_calls``, ``error``, ``slow``, or any ``Reply``);
2. markers in the last user message (when the conversation ends with it), removed from the echoed text:

   - ``[[tool:NAME {"json": "arguments"}]]``: a call of tool NAME (arguments optional, ``{}``; they may not
     contain ``]]``); several markers, several calls in one reply;
   - ``[[error:STATUS]]``: every request answered STATUS (429, 500, 400, 401, ...); ``[[error:STATUS*N]]``: only
     the first N requests for that message, then an answer as if the marker were absent;
   - ``[[slow:SECONDS]]``: the answer waits SECONDS (a number) first;
   - ``[[finish:length]]`` / ``[[finish:content_filter]]``: the answer's finish_reason;

3. otherwise, the echo: ``echo: <the last user message, markers removed>``; a conversation that ends with tool
   results is answered ``tool said: <output>`` (one line per result); one that ends with anything else (an
   assistant's message) gets the echo of the last user message, its markers ignored.

A marker's 429 or 5xx carries ``Retry-After: 0``, so a client retries at once (its own attempt limit ends the loop).
``max_completion_tokens`` is honoured: a longer text is cut to that many words, finish_reason ``length``.
Usage counts words. A request with ``stream: true`` is answered in server-sent events, content a word per chunk,
each tool call's arguments in two chunks, usage last when ``stream_options.include_usage`` asks for it.

Run it alone: ``python -m infra.ops.chat_server --port 8001`` (from the repository's root), then
``make serve MODEL_BASE_URL=http://127.0.0.1:8001/v1``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MARKER = re.compile(r"\[\[(tool|error|slow|finish):(.*?)\]\]", re.DOTALL)


@dataclass(frozen=True)
class Reply:
    text: str | None = None
    tool_calls: tuple[tuple[str, str], ...] = ()  # (name, arguments as JSON text)
    finish_reason: str | None = None  # by default "tool_calls" with tool calls, "stop" otherwise
    status: int = 200
    retry_after: str | None = None
    message: str = ""  # an error's message
    delay: float = 0.0  # seconds to wait before answering
    raw: bytes | None = None  # a body sent as it is (a malformed answer)


def text(content: str, *, finish_reason: str | None = None) -> Reply:
    return Reply(text=content, finish_reason=finish_reason)


def tool_calls(*calls: tuple[str, dict[str, Any] | str]) -> Reply:
    return Reply(tool_calls=tuple((name, a if isinstance(a, str) else json.dumps(a)) for name, a in calls))


def error(status: int, *, retry_after: str | None = None, message: str | None = None) -> Reply:
    return Reply(status=status, retry_after=retry_after, message=message or f"fake error {status}")


def slow(seconds: float, reply: Reply | None = None) -> Reply:
    return replace(reply or text("slow"), delay=seconds)


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any
    problems: list[str] = field(default_factory=list)  # why the body is not a valid CreateChatCompletionRequest


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    from infra.ops.reference import runs_document

    return Draft202012Validator({**runs_document(), "$ref": "#/components/schemas/CreateChatCompletionRequest"})


class ChatServer:
    def __init__(self, *replies: Reply, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None) -> None:
        self.requests: list[Recorded] = []
        self.api_key = api_key  # when set, a request without "Authorization: Bearer <it>" is answered 401
        self._script: deque[Reply] = deque(replies)
        self._errors_served: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._address = (host, port)
        self._httpd: ThreadingHTTPServer | None = None

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    @property
    def url(self) -> str:
        assert self._httpd is not None, "not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def invalid(self) -> list[Recorded]:
        return [r for r in self.requests if r.problems]

    def start(self) -> ChatServer:
        _validator()  # loaded now (a second or two), not while a client's deadline runs
        self._httpd = ThreadingHTTPServer(self._address, _handler(self))
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="chat-server", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        """Record a request and choose its reply."""
        try:
            body = json.loads(raw)
            problems = [f"{'/'.join(map(str, e.path))}: {e.message[:200]}" for e in _validator().iter_errors(body)]
        except ValueError:
            body, problems = raw.decode("utf-8", "replace"), ["the body is not JSON"]
        with self._lock:
            self.requests.append(Recorded(path, headers, body, problems))
            if path != "/v1/chat/completions":
                return error(404, message=f"no route {path}")
            if problems:
                return error(400, message="invalid request: " + "; ".join(problems))
            if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
                return error(401, message="Incorrect API key provided.")
            return self._script.popleft() if self._script else self._by_content(body["messages"])

    def _by_content(self, messages: list[dict[str, Any]]) -> Reply:
        last = messages[-1]
        if last["role"] == "tool":
            outputs: list[str] = []
            for message in reversed(messages):
                if message["role"] != "tool":
                    break
                outputs.insert(0, f"tool said: {_plain(message.get('content'))}")
            return text("\n".join(outputs))
        said = next((_plain(m.get("content")) for m in reversed(messages) if m["role"] == "user"), "")
        echo = text("echo: " + MARKER.sub("", said).strip())
        if last["role"] != "user":
            return echo
        reply, calls = echo, []
        for kind, value in MARKER.findall(said):
            if kind == "tool":
                name, _, arguments = value.strip().partition(" ")
                calls.append((name, arguments.strip() or "{}"))
            elif kind == "slow":
                reply = replace(reply, delay=float(value))
            elif kind == "finish":
                reply = replace(reply, finish_reason=value.strip())
            elif kind == "error":
                status, _, times = value.partition("*")
                key = f"{value}\0{said}"
                if not times or self._errors_served[key] < int(times):
                    self._errors_served[key] += 1
                    code = int(status)
                    retry_after = "0" if code == 429 or code >= 500 else None  # the client retries at once
                    return replace(error(code, retry_after=retry_after), delay=reply.delay)
        return replace(reply, text=None, tool_calls=tuple(calls)) if calls else reply


def _plain(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content or [] if p.get("type") == "text")


def _words(value: str | None) -> int:
    return len((value or "").split())


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
    prompt = sum(_words(_plain(m.get("content"))) for m in body["messages"])
    completion = _words(content) + sum(_words(a) for _, a in reply.tool_calls) + len(calls)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return content or "", calls, reason, usage


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server.receive(self.path, headers, raw)
            time.sleep(reply.delay)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                self._send(reply, json.loads(raw) if reply.status == 200 and reply.raw is None else {})

        def do_GET(self) -> None:
            self._send(error(404, message=f"no route {self.path}"), {})

        def _send(self, reply: Reply, body: dict[str, Any]) -> None:
            if reply.status != 200 or reply.raw is not None:
                payload = (
                    reply.raw
                    or json.dumps(
                        {"error": {"message": reply.message, "type": "fake_error", "param": None, "code": None}}
                    ).encode()
                )
                retry_after = {} if reply.retry_after is None else {"Retry-After": reply.retry_after}
                self._body(reply.status, payload, retry_after)
                return
            content, calls, reason, usage = _answer(reply, body)
            head = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()), "model": body["model"]}
            if not body.get("stream"):
                message: dict[str, Any] = {"role": "assistant", "content": content or None, "refusal": None}
                if calls:
                    message["tool_calls"] = calls
                choice = {"index": 0, "message": message, "finish_reason": reason, "logprobs": None}
                answer = {**head, "object": "chat.completion", "choices": [choice], "usage": usage}
                self._body(200, json.dumps(answer).encode(), {})
                return
            deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
            deltas += [{"content": word} for word in re.findall(r"\s*\S+", content)]
            for i, call in enumerate(calls):
                function, arguments = call["function"], call["function"]["arguments"]
                first = {"index": i, "id": call["id"], "type": "function", "function": {**function, "arguments": ""}}
                deltas.append({"tool_calls": [first]})
                for half in (arguments[: len(arguments) // 2], arguments[len(arguments) // 2 :]):
                    deltas.append({"tool_calls": [{"index": i, "function": {"arguments": half}}]})
            chunk = {**head, "object": "chat.completion.chunk"}
            events = [{**chunk, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
            events.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})
            if (body.get("stream_options") or {}).get("include_usage"):
                events.append({**chunk, "choices": [], "usage": usage})
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for event in [*map(json.dumps, events), "[DONE]"]:
                self.wfile.write(f"data: {event}\n\n".encode())
                self.wfile.flush()

        def _body(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # quiet: tests read server.requests instead

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake OpenAI-compatible Chat Completions server (echo and markers).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    options = parser.parse_args()
    server = ChatServer(host=options.host, port=options.port).start()
    print(f"fake chat server: MODEL_BASE_URL={server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
