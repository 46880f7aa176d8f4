"""What the scripted local model servers (``chat_server.py``, ``embeddings_server.py``) share: the record of
requests, the refusals every OpenAI endpoint makes before it answers (an unknown path 404, a body its schema
refuses 400, a wrong key 401), the HTTP server on a thread, the handler that reads a request and writes a JSON
answer, and the command that runs one alone.

It is one class with two hooks because the servers differ only in what they answer and how they write it: a
refusal or a request's checks written twice would drift apart, and a test relies on both servers refusing
alike (``server.invalid`` empty means the product sent nothing OpenAI would refuse).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self

__all__ = ["Recorded", "ScriptedServer", "run_alone", "write_body"]


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any
    problems: list[str] = field(default_factory=list)  # why the body is not a valid request of its endpoint


class ScriptedServer[R](ABC):
    """A local server for one POST route, answering each request with a reply of type ``R``."""

    route: ClassVar[str]  # the one path answered, e.g. "/v1/embeddings"
    thread_name: ClassVar[str]

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None) -> None:
        self.requests: list[Recorded] = []
        self.api_key = api_key  # when set, a request without "Authorization: Bearer <it>" is answered 401
        self._lock = threading.Lock()  # held while a request is recorded and its reply chosen
        self._address = (host, port)
        self._httpd: ThreadingHTTPServer | None = None

    @abstractmethod
    def validator(self) -> Any:
        """The JSON Schema validator of the route's request body (a ``jsonschema`` validator, cached)."""

    @abstractmethod
    def refuse(self, status: int, message: str) -> R:
        """An error reply in the server's own type."""

    @abstractmethod
    def choose(self, body: Any) -> R:
        """The reply to a valid request (called under the lock, in the order requests arrive)."""

    @abstractmethod
    def send(self, to: BaseHTTPRequestHandler, reply: R, raw: bytes) -> None:
        """Write ``reply`` (after its delay, if it has one) to the request ``raw`` (its body, as sent)."""

    def problems(self, body: Any) -> list[str]:
        """Why ``body`` is not a valid request: its schema's errors (a subclass adds what OpenAI refuses besides)."""
        return [f"{'/'.join(map(str, e.path))}: {e.message[:200]}" for e in self.validator().iter_errors(body)]

    @property
    def url(self) -> str:
        assert self._httpd is not None, "not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def invalid(self) -> list[Recorded]:
        return [r for r in self.requests if r.problems]

    def start(self) -> Self:
        self.validator()  # loaded now (a second or two), not while a client's deadline runs
        self._httpd = ThreadingHTTPServer(self._address, _handler(self))
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name=self.thread_name, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> R:
        """Record a request and choose its reply: refused as OpenAI would, or ``choose``'s."""
        try:
            body = json.loads(raw)
            problems = self.problems(body)
        except ValueError:
            body, problems = raw.decode("utf-8", "replace"), ["the body is not JSON"]
        with self._lock:
            self.requests.append(Recorded(path, headers, body, problems))
            if path != self.route:
                return self.refuse(404, f"no route {path}")
            if problems:
                return self.refuse(400, "invalid request: " + "; ".join(problems))
            if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
                return self.refuse(401, "Incorrect API key provided.")
            return self.choose(body)


def write_body(to: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str]) -> None:
    """A whole JSON answer (``headers`` besides its Content-Type and Content-Length)."""
    to.send_response(status)
    for name, value in {"Content-Type": "application/json", **headers}.items():
        to.send_header(name, value)
    to.send_header("Content-Length", str(len(payload)))
    to.end_headers()
    to.wfile.write(payload)


def _handler(server: ScriptedServer[Any]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server.receive(self.path, headers, raw)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                server.send(self, reply, raw)

        def do_GET(self) -> None:
            server.send(self, server.refuse(404, f"no route {self.path}"), b"")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # quiet: tests read server.requests instead

    return Handler


def run_alone(server: type[ScriptedServer[Any]], *, description: str, port: int, announce: str) -> None:
    """Run ``server`` alone until Ctrl-C, printing ``announce=<its URL>`` (the setting ``make serve`` takes)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    options = parser.parse_args()
    running = server(host=options.host, port=options.port).start()
    print(f"{announce}={running.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        running.stop()
