"""The streaming functions' runtime loop (functions/stream_runtime) against the local Runtime API that the
deployed mode gives it (infra/local/runtime_api.py), in process: each answer in API Gateway's streaming
format (a JSON prelude, eight NUL bytes, the body as the handler writes it), and Lambda's errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from stream_runtime import loop
from stream_runtime.answer import DELIMITER

from infra.local import runtime_api

EVENT = {"requestContext": {"requestId": "req-1"}, "body": "{}"}


class _Environment:
    """What the local Runtime API asks of an environment, for one invocation."""

    def __init__(self) -> None:
        self.function = type("F", (), {"name": "Fn"})()
        self.received: list[bytes] = []
        self.error: str | None = "not finished"
        self.current: Any = None
        self.done = threading.Event()

    def next_invocation(self) -> runtime_api.Invocation:
        invocation = runtime_api.Invocation("lambda-1", json.dumps(EVENT), 2**40, None, self.received.append)
        self.current = invocation
        return invocation

    def finished(self, request_id: str, error: str | None) -> None:
        self.error = error
        self.done.set()

    def init_failed(self) -> None:
        self.error = "init"
        self.done.set()


def _serve(handler: Callable[..., Any]) -> _Environment:
    environment = _Environment()
    server = runtime_api._RuntimeApiServer(environment)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        host, port = server.server_address[:2]
        loop.serve_one(loop.RuntimeApi(f"{host!s}:{port}"), handler)
        assert environment.done.wait(10)
    finally:
        server.shutdown()
        server.server_close()
    return environment


def _split(received: list[bytes]) -> tuple[dict[str, Any], bytes]:
    head, _, body = b"".join(received).partition(DELIMITER)
    return json.loads(head), body


def test_a_streamed_answer_is_the_event_streams_prelude_then_each_piece() -> None:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        context.stream_to("event: a\ndata: 1\n\n")
        context.stream_to("event: b\ndata: 2\n\n")
        return {"statusCode": 200, "body": "ignored: the answer streamed"}

    environment = _serve(handler)
    prelude, body = _split(environment.received)
    assert prelude["statusCode"] == 200
    assert prelude["headers"]["content-type"] == "text/event-stream; charset=utf-8"
    assert prelude["headers"]["x-request-id"] == "req-1"  # API Gateway's request id, not Lambda's
    assert body == b"event: a\ndata: 1\n\nevent: b\ndata: 2\n\n"
    assert len(environment.received) >= 3, "the pieces were sent apart, as they came"
    assert environment.error is None


def test_an_answer_that_does_not_stream_is_its_proxy_response_in_one_piece() -> None:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 404, "headers": {"content-type": "application/json"}, "body": '{"error": {}}'}

    environment = _serve(handler)
    prelude, body = _split(environment.received)
    assert prelude == {"statusCode": 404, "headers": {"content-type": "application/json"}}
    assert body == b'{"error": {}}'
    assert environment.error is None


def test_an_error_after_the_first_piece_goes_in_the_trailers() -> None:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        context.stream_to("event: a\ndata: 1\n\n")
        raise RuntimeError("boom")

    environment = _serve(handler)
    _, body = _split(environment.received)
    assert body == b"event: a\ndata: 1\n\n"
    assert environment.error == "Unhandled"


def test_an_error_before_any_piece_is_the_invocations_error() -> None:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    environment = _serve(handler)
    assert environment.received == []
    assert environment.error == "Unhandled"


def test_a_snapstart_environment_waits_for_its_restore_before_the_first_invocation() -> None:
    """SnapStart: the runtime calls restore/next after its init (Lambda's Runtime API, "Restore next")."""
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        host, port = server.server_address[:2]
        loop.RuntimeApi(f"{host!s}:{port}").restored()
    finally:
        server.shutdown()
        server.server_close()
    assert paths == ["/2018-06-01/runtime/restore/next"]


def test_a_failure_after_the_first_piece_ends_the_stream_with_openais_error_event() -> None:
    """The endpoint turns the exception into a 5xx answer; the stream began already: its last event is
    ``error`` with the envelope's error object, and Lambda records the failure (the trailers)."""
    envelope = {"error": {"message": "The server had an error.", "type": "server_error", "param": None, "code": None}}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        context.stream_to("event: thread.run.created\ndata: {}\n\n")
        return {"statusCode": 500, "headers": {}, "body": json.dumps(envelope)}

    environment = _serve(handler)
    _, body = _split(environment.received)
    assert body.endswith(f"event: error\ndata: {json.dumps(envelope['error'])}\n\n".encode())
    assert environment.error == "Unhandled"
