"""A scripted, local OpenAI-compatible Chat Completions server, for tests and for ``make serve`` without a model.

Every request is recorded (``server.requests``: path, headers, JSON body) and validated against
``CreateChatCompletionRequest`` of OpenAI's reference document; an invalid one is answered 400 and listed in
``server.invalid``, so a test can assert that none was sent. Replies come, in this order, from:

1. the script: ``ChatServer(text("hi"), error(429, retry_after="0"), ...)`` or ``server.script(...)``, one reply
   per request (``text``, ``tool_calls``, ``error``, ``slow``, or any ``Reply``);
2. markers in the last user message (``[[tool:...]]``, ``[[error:...]]``, ``[[slow:...]]``, ``[[hold:...]]``,
   ``[[finish:...]]``, ``[[pace:...]]``); ``[[hold:NAME]]`` waits for ``server.release("NAME")``
   (``server.wait_held`` sees it); ``[[search:QUERY]]`` (a round of ``file_search``; ``a || b``: two calls in one
   round; several markers, several rounds) and ``[[cite:S:R,...]]`` (the answer's citations, after the last
   round); a request that offers ``file_search`` and has no marker at all searches its text, then cites;
3. otherwise, the echo of the last user message, or of the tool results that end the conversation.

What each marker does, and how an answer is written (streamed or not), is in ``infra/ops/chat_script.py`` and,
for file_search, ``infra/ops/chat_search.py``; the HTTP server and its record of requests are
``infra/ops/scripted_http.py``'s (shared with the embeddings server); this module chooses the replies, writes
them and keeps the holds.

Run it alone: ``python -m infra.ops.chat_server --port 8001`` (from the repository's root), then
``make serve MODEL_BASE_URL=http://127.0.0.1:8001/v1``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, deque
from functools import cache
from http.server import BaseHTTPRequestHandler
from typing import Any

from infra.ops.chat_script import (
    Reply,
    by_content,
    chunks,
    completion,
    error,
    error_body,
    slow,
    text,
    tool_calls,
)
from infra.ops.chat_search import offered, search_reply
from infra.ops.scripted_http import Recorded, ScriptedServer, run_alone, write_body

__all__ = ["ChatServer", "Recorded", "Reply", "error", "slow", "text", "tool_calls"]


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    from infra.ops.reference import runs_document

    return Draft202012Validator({**runs_document(), "$ref": "#/components/schemas/CreateChatCompletionRequest"})


class ChatServer(ScriptedServer[Reply]):
    route = "/v1/chat/completions"
    thread_name = "chat-server"

    def __init__(
        self,
        *replies: Reply,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        hold_seconds: float = 60.0,
    ) -> None:
        super().__init__(host=host, port=port, api_key=api_key)
        self.hold_seconds = hold_seconds  # the longest a [[hold:NAME]] answer waits for its release
        self.written: list[tuple[float, str]] = []  # each streamed chunk as written: (time.monotonic(), JSON)
        self._gates: dict[str, threading.Event] = {}
        self._held: Counter[str] = Counter()  # requests that reached each gate
        self._arrived = threading.Condition()
        self._script: deque[Reply] = deque(replies)
        self._errors_served: Counter[str] = Counter()

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def release(self, name: str) -> None:
        """Let the answers held at ``[[hold:NAME]]`` go, and any that reach it later."""
        with self._arrived:
            self._gates.setdefault(name, threading.Event()).set()

    def wait_held(self, name: str, timeout: float) -> bool:
        """Whether a request reached ``[[hold:NAME]]`` (and waits there, unless released) within ``timeout``."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self._held[name] > 0, timeout)

    def hold(self, name: str) -> None:
        """Wait at the gate ``name`` until it is released, or ``hold_seconds`` passed."""
        with self._arrived:
            gate = self._gates.setdefault(name, threading.Event())
            self._held[name] += 1
            self._arrived.notify_all()
        gate.wait(self.hold_seconds)

    def stop(self) -> None:
        with self._arrived:
            for gate in self._gates.values():
                gate.set()  # nothing held outlives the server
        super().stop()

    def validator(self) -> Any:
        return _validator()

    def refuse(self, status: int, message: str) -> Reply:
        return error(status, message=message)

    def choose(self, body: Any) -> Reply:
        if self._script:
            return self._script.popleft()
        searched = search_reply(body["messages"], offered(body.get("tools")))  # file_search's markers first
        return by_content(body["messages"], self._errors_served, searched)

    def send(self, to: BaseHTTPRequestHandler, reply: Reply, raw: bytes) -> None:
        time.sleep(reply.delay)
        if reply.hold is not None:
            self.hold(reply.hold)
        if reply.status != 200 or reply.raw is not None:
            retry_after = {} if reply.retry_after is None else {"Retry-After": reply.retry_after}
            write_body(to, reply.status, error_body(reply), retry_after)
            return
        body = json.loads(raw)
        if not body.get("stream"):
            write_body(to, 200, json.dumps(completion(reply, body)).encode(), {})
            return
        to.send_response(200)
        to.send_header("Content-Type", "text/event-stream")
        to.end_headers()
        for n, event in enumerate([*map(json.dumps, chunks(reply, body)), "[DONE]"]):
            if n and reply.pace:
                time.sleep(reply.pace)
            to.wfile.write(f"data: {event}\n\n".encode())
            to.wfile.flush()
            self.written.append((time.monotonic(), event))


if __name__ == "__main__":
    run_alone(
        ChatServer,
        description="A fake OpenAI-compatible Chat Completions server (echo and markers).",
        port=8001,
        announce="fake chat server: MODEL_BASE_URL",
    )
