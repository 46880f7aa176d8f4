"""One invocation's answer, streamed to Lambda's Runtime API in API Gateway's streaming format.

The format (API Gateway, "Lambda proxy integration format for response streaming"): a JSON prelude
(``statusCode``, ``headers``), then eight NUL bytes, then the body as it comes. The prelude must come within
the first 16 KB. The Runtime API takes it as one chunked POST (``Lambda-Runtime-Function-Response-Mode:
streaming``); an error once the prelude is sent goes in its trailers.

A client that goes away must not stop the handler (the run it streams still has to end and release its
thread): once a write fails, the rest of the answer is dropped and the handler goes on.
"""

from __future__ import annotations

import base64
import json
import traceback
from http.client import HTTPConnection
from typing import Any

DELIMITER = b"\x00" * 8
CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
TRAILERS = ("Lambda-Runtime-Function-Error-Type", "Lambda-Runtime-Function-Error-Body")
# What a streamed answer (server-sent events) says of itself before its first event.
EVENT_STREAM_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}


def error_event(result: Any) -> str:
    """OpenAI's ``error`` event for a handler's 5xx answer (its envelope's error object), or ""."""
    if not isinstance(result, dict) or int(result.get("statusCode", 200)) < 500:
        return ""
    try:
        error = json.loads(result.get("body") or "{}").get("error") or {}
    except ValueError:
        error = {}
    return f"event: error\ndata: {json.dumps(error)}\n\n"


def prelude(status: int, headers: dict[str, str]) -> bytes:
    return json.dumps({"statusCode": status, "headers": headers}).encode() + DELIMITER


class Answer:
    """The answer to invocation ``request_id``: opened by its first piece, or sent whole by ``finish``."""

    def __init__(self, address: str, request_id: str, client_request_id: str) -> None:
        self.address = address
        self.request_id = request_id  # Lambda's, for the Runtime API
        self.client_request_id = client_request_id  # API Gateway's, the x-request-id the client sees
        self.started = False
        self.broken = False
        self._connection: HTTPConnection | None = None

    def piece(self, text: str) -> None:
        """A piece of a streamed answer (an event), sent now; the first sends the event stream's prelude."""
        if not self.started:
            self._open(prelude(200, {**EVENT_STREAM_HEADERS, "x-request-id": self.client_request_id}))
        self._send(text.encode())

    def finish(self, result: Any) -> None:
        """The handler returned: end a streamed answer, or send its proxy response (status, headers, body). A
        failure after the first event (the handler answered a 5xx) ends the stream with OpenAI's ``error``
        event, and Lambda records it from the trailers."""
        if self.started and error_event(result):
            self._send(error_event(result).encode())
            self.fail(RuntimeError("the handler failed after its answer began"))
            return
        if not self.started:
            response = result if isinstance(result, dict) else {}
            self._open(prelude(int(response.get("statusCode", 200)), dict(response.get("headers") or {})))
            body = response.get("body") or ""
            self._send(base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode())
        self._close(b"")

    def fail(self, exc: BaseException) -> None:
        """An error after the prelude: Lambda records it from the trailers (the client's stream just ends)."""
        detail = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__})
        trailers = (
            f"{TRAILERS[0]}: Unhandled\r\n{TRAILERS[1]}: {base64.b64encode(detail.encode()).decode()}\r\n"
        ).encode()
        self._close(trailers)

    def _open(self, head: bytes) -> None:
        self.started = True
        try:
            connection = HTTPConnection(self.address, timeout=30)
            connection.putrequest("POST", f"/2018-06-01/runtime/invocation/{self.request_id}/response")
            connection.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
            connection.putheader("Transfer-Encoding", "chunked")
            connection.putheader("Content-Type", CONTENT_TYPE)
            connection.putheader("Trailer", ", ".join(TRAILERS))
            connection.endheaders()
            self._connection = connection
        except OSError:
            self._broken()
            return
        self._send(head)

    def _send(self, data: bytes) -> None:
        if self.broken or self._connection is None or not data:
            return
        try:
            self._connection.send(b"%X\r\n%s\r\n" % (len(data), data))
        except OSError:
            self._broken()

    def _close(self, trailers: bytes) -> None:
        if self.broken or self._connection is None:
            return
        try:
            self._connection.send(b"0\r\n" + trailers + b"\r\n")
            self._connection.getresponse().read()
        except OSError:
            self._broken()
        finally:
            self._connection.close()

    def _broken(self) -> None:
        """The Runtime API (the client, through API Gateway) no longer takes the answer: drop the rest."""
        if not self.broken:
            traceback.print_exc()
        self.broken = True
