"""API Gateway's side of a streaming Lambda proxy integration (``ResponseTransferMode: RESPONSE_STREAM``), for
the deployed mode: the function is invoked as ``InvokeWithResponseStream`` invokes it, its answer is read as
API Gateway reads it, and each piece goes on to the client as it comes.

The answer's format (API Gateway's "Lambda proxy integration format for response streaming"): a JSON prelude
(``statusCode``, ``headers``, ``multiValueHeaders``), eight NUL bytes, then the body. API Gateway's limits:
the prelude within the first 16 KB (else the client gets a 502), a stream no longer than its integration's
timeout (``TimeoutInMillis``, at most 15 minutes), and no silence longer than the endpoint's idle timeout (30 s
edge-optimized, 5 minutes regional): past either, the stream is cut.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from infra import template
from infra.local.gateway_responses import gateway_response

DELIMITER = b"\x00" * 8
PRELUDE_MAX_BYTES = 16 * 1024
STREAM_MAX_SECONDS = 15 * 60
# A stream's idle timeout: 30 s for an edge-optimized endpoint (the template's, API Gateway's default),
# 5 minutes for a regional or private one.
IDLE_MAX_SECONDS = {"EDGE": 30.0, "REGIONAL": 300.0, "PRIVATE": 300.0}
InvokeStream = Callable[[Any, dict[str, Any], Callable[[bytes], None]], Any]  # (route, event, on_bytes) -> Outcome


class _Pieces:
    """The function's answer as it arrives, from the invocation's thread."""

    def __init__(self, invoke_stream: InvokeStream, route: Any, event: dict[str, Any]) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self.outcome: Any = None
        self.started = time.monotonic()
        # The integration's timeout bounds the stream (at most 15 minutes); the endpoint's, its silences.
        self.longest = min(STREAM_MAX_SECONDS, route.timeout_ms / 1000)
        self.idle = IDLE_MAX_SECONDS[template.endpoint_type()]

        def run() -> None:
            try:
                self.outcome = invoke_stream(route, event, self._queue.put)
            finally:
                self._queue.put(None)

        threading.Thread(target=run, daemon=True, name="stream-invoke").start()

    def next(self) -> bytes | None:
        """The next piece; None at the end, after the idle timeout or past the stream's longest."""
        left = self.longest - (time.monotonic() - self.started)
        try:
            return self._queue.get(timeout=max(0.0, min(self.idle, left)))
        except queue.Empty:
            return None


def _prelude(pieces: _Pieces) -> tuple[dict[str, Any] | None, bytes]:
    """The prelude (None if the answer ended, or broke API Gateway's format, before it) and what followed."""
    head = b""
    while DELIMITER not in head:
        if len(head) > PRELUDE_MAX_BYTES:
            return None, b""
        piece = pieces.next()
        if piece is None:
            return None, b""
        head += piece
    meta, _, rest = head.partition(DELIMITER)
    if len(meta) > PRELUDE_MAX_BYTES:
        return None, b""
    try:
        prelude = json.loads(meta)
    except ValueError:
        return None, b""
    return (prelude if isinstance(prelude, dict) else None), rest


def respond(
    start_response: Callable[..., Any], invoke_stream: InvokeStream, route: Any, event: dict[str, Any]
) -> Iterable[bytes]:
    """The client's response: the prelude's status and headers at once, then the body as it comes."""
    context = event["requestContext"]
    pieces = _Pieces(invoke_stream, route, event)
    prelude, rest = _prelude(pieces)
    if prelude is None:  # nothing usable came: API Gateway answers 502
        status, headers, data = gateway_response("DEFAULT_5XX", 502, {**context, "message": "Internal server error"})
        print(json.dumps({"gateway_5xx": status, "request_id": context["requestId"], "lambda_error": "stream"}))
        start_response(f"{status} Bad Gateway", list(headers.items()))
        return [data]
    headers = {str(k): str(v) for k, v in (prelude.get("headers") or {}).items()}
    for name, values in (prelude.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ", ".join(str(v) for v in values)
    headers.setdefault("x-amzn-RequestId", context["requestId"])
    status = int(prelude.get("statusCode", 200))
    from http import HTTPStatus

    start_response(f"{status} {HTTPStatus(status).phrase}", list(headers.items()))
    return _body(rest, pieces)


def _body(first: bytes, pieces: _Pieces) -> Iterator[bytes]:
    if first:
        yield first
    while (piece := pieces.next()) is not None:
        yield piece


def in_process(start_response: Callable[..., Any], request_id: str, pieces: Iterator[str]) -> Iterable[bytes]:
    """``make serve`` in process: a handler's streamed pieces (its context's ``stream_to``), each passed on as
    it is written, behind the event stream's headers."""
    headers = [
        ("content-type", "text/event-stream; charset=utf-8"),
        ("cache-control", "no-cache"),
        ("x-request-id", request_id),
        ("x-amzn-RequestId", request_id),
    ]
    start_response("200 OK", headers)
    return (piece.encode() for piece in pieces)
