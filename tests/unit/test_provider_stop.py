"""``should_stop``: a provider's call ends with ``Stopped`` as soon as its caller says so (a run cancelled), on
the scripted model server: no attempt starts after it, a backoff's wait is cut short, and an attempt under way
is abandoned whatever the model does (an answer held back, a stream of keep-alives only)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from infra.ops.chat_server import ChatServer, error
from tests.unit.provider_support import HELLO, Waits, provider, soon
from threads_api.providers import Stopped
from threads_api.providers.openai_compatible import OpenAICompatible


class After:
    """A ``should_stop`` that says stop from ``seconds`` after it was made (and counts how often it is asked)."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return time.monotonic() >= self.at


def test_no_attempt_starts_once_should_stop_says_so(server: ChatServer) -> None:
    with pytest.raises(Stopped):
        provider(server).complete(HELLO, deadline=soon(), should_stop=lambda: True)
    assert server.requests == []


def test_a_backoffs_wait_is_asked_about_each_second_and_cut_short(server: ChatServer) -> None:
    server.script(error(429, retry_after="5"), error(429, retry_after="5"))
    waits = Waits(real=True)
    started = time.monotonic()
    with pytest.raises(Stopped):
        provider(server, waits).complete(HELLO, deadline=soon(30), should_stop=After(1.5))
    assert len(server.requests) == 1
    assert waits == [1.0, 1.0]  # five seconds, in slices of one, stopped after the second
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("stream", [False, True])
def test_an_answer_held_back_is_abandoned_within_about_a_second(server: ChatServer, stream: bool) -> None:
    request = {**HELLO, "messages": [{"role": "user", "content": "Hi [[hold:never]]"}]}
    started = time.monotonic()
    with pytest.raises(Stopped):
        provider(server, timeout=30).complete(request, deadline=soon(30), stream=stream, should_stop=After(0.2))
    assert time.monotonic() - started < 2.5
    assert len(server.requests) == 1
    server.release("never")


@contextlib.contextmanager
def _keep_alives_only() -> Iterator[str]:
    """A server whose streamed answer is keep-alive comments, one every 0.1 s, for ten seconds."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(100):
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    time.sleep(0.1)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_stream_of_keep_alives_only_is_abandoned_within_about_a_second() -> None:
    with _keep_alives_only() as url:
        started = time.monotonic()
        stop = After(0.2)
        with pytest.raises(Stopped):
            OpenAICompatible(url, timeout=30).complete(HELLO, deadline=soon(30), stream=True, should_stop=stop)
        assert time.monotonic() - started < 2.5
        assert stop.asked >= 2  # before the attempt, then while it went on
