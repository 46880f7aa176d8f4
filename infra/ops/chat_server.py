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
for file_search, ``infra/ops/chat_search.py``; this module is the HTTP server, its record of requests and its
holds.

Run it alone: ``python -m infra.ops.chat_server --port 8001`` (from the repository's root), then
``make serve MODEL_BASE_URL=http://127.0.0.1:8001/v1``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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

__all__ = ["ChatServer", "Recorded", "Reply", "error", "slow", "text", "tool_calls"]


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
    def __init__(
        self,
        *replies: Reply,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        hold_seconds: float = 60.0,
    ) -> None:
        self.requests: list[Recorded] = []
        self.api_key = api_key  # when set, a request without "Authorization: Bearer <it>" is answered 401
        self.hold_seconds = hold_seconds  # the longest a [[hold:NAME]] answer waits for its release
        self.written: list[tuple[float, str]] = []  # each streamed chunk as written: (time.monotonic(), JSON)
        self._gates: dict[str, threading.Event] = {}
        self._held: Counter[str] = Counter()  # requests that reached each gate
        self._arrived = threading.Condition()
        self._script: deque[Reply] = deque(replies)
        self._errors_served: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._address = (host, port)
        self._httpd: ThreadingHTTPServer | None = None

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
        with self._arrived:
            for gate in self._gates.values():
                gate.set()  # nothing held outlives the server
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
            if self._script:
                return self._script.popleft()
            searched = search_reply(body["messages"], offered(body.get("tools")))  # file_search's markers first
            return by_content(body["messages"], self._errors_served, searched)


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server.receive(self.path, headers, raw)
            time.sleep(reply.delay)
            if reply.hold is not None:
                server.hold(reply.hold)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                self._send(reply, json.loads(raw) if reply.status == 200 and reply.raw is None else {})

        def do_GET(self) -> None:
            self._send(error(404, message=f"no route {self.path}"), {})

        def _send(self, reply: Reply, body: dict[str, Any]) -> None:
            if reply.status != 200 or reply.raw is not None:
                retry_after = {} if reply.retry_after is None else {"Retry-After": reply.retry_after}
                self._body(reply.status, error_body(reply), retry_after)
                return
            if not body.get("stream"):
                self._body(200, json.dumps(completion(reply, body)).encode(), {})
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for n, event in enumerate([*map(json.dumps, chunks(reply, body)), "[DONE]"]):
                if n and reply.pace:
                    time.sleep(reply.pace)
                self.wfile.write(f"data: {event}\n\n".encode())
                self.wfile.flush()
                server.written.append((time.monotonic(), event))

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
