"""Lambda's side of the local gateway: the context an in-process handler gets, a handler run in process as
Lambda answers its invocation, an invocation whose response streams (``make serve`` in process), and
Lambda's asynchronous Invoke API (the functions that start runs call
it, ``AWS_ENDPOINT_URL_LAMBDA``)."""

from __future__ import annotations

import importlib
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from infra import template
from infra.local.lambda_pool import PAYLOAD_MAX_BYTES, Outcome


class LocalContext:
    """The Lambda context an in-process handler gets: the time left counts down from the function's timeout."""

    def __init__(
        self,
        function_name: str,
        request_id: str,
        timeout_seconds: float = 15.0,
        stream_to: Callable[[str], None] | None = None,
    ) -> None:
        self.function_name = function_name
        # make serve (in process) streams a response's pieces as a handler gives them (threads_api.http.endpoint's
        # Request.stream_sink): Lambda's Python runtime has no such thing, so deployed the body comes whole.
        self.stream_to = stream_to
        self.aws_request_id = request_id
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def template_handler(function: str) -> Callable[..., Any]:
    """A function's handler as the template names it, imported in this process."""
    module, _, name = template.load()["Resources"][function]["Properties"]["Handler"].rpartition(".")
    return getattr(importlib.import_module(module.replace("/", ".")), name)  # type: ignore[no-any-return]


def run_in_process(
    handler: Callable[..., Any], function: str, event: dict[str, Any], stream_to: Callable[[str], None] | None = None
) -> Outcome:
    """``handler`` (function ``function``'s) run in this process, answered as Lambda answers an invocation:
    an exception is ``Unhandled``, a result over Lambda's payload limit ``Function.ResponseSizeTooLarge``."""
    request_id = str((event.get("requestContext") or {}).get("requestId") or uuid.uuid4())
    context = LocalContext(function, request_id, template.timeout(function), stream_to)
    try:
        result = handler(event, context)
    except Exception:  # Lambda reports it; API Gateway answers 502
        return Outcome(error="Unhandled")
    text = json.dumps(result, ensure_ascii=False)
    if len(text.encode()) > PAYLOAD_MAX_BYTES:
        return Outcome(error="Function.ResponseSizeTooLarge")
    return Outcome(result=text)


def streaming(invoke: Any, route: Any, event: dict[str, Any]) -> tuple[Any, Iterator[str] | None]:
    """Invoke on a thread of its own, its pieces through a queue: (the outcome, None) when the handler
    answered without streaming; (None, the pieces) as soon as it streams its first."""
    pieces: queue.Queue[object] = queue.Queue()
    ended = object()
    outcome: list[Any] = []

    streamed: list[bool] = []

    def put(piece: str) -> None:
        streamed.append(True)
        pieces.put(piece)

    def run() -> None:
        # The functions' code is on the path once make serve has set it up, not when this module is imported.
        from stream_runtime.answer import error_event

        try:
            outcome.append(invoke(route, event, put))
            # A 5xx once the stream began: its error event ends the stream, as the streaming runtime ends it.
            if streamed and (last := error_event(outcome[-1].response())):
                pieces.put(last)
        finally:
            pieces.put(ended)

    threading.Thread(target=run, daemon=True, name="streaming-invoke").start()
    first = pieces.get()
    if first is ended:
        return outcome[0], None

    def rest() -> Iterator[str]:
        item = first
        while item is not ended:
            yield str(item)
            item = pieces.get()

    return None, rest()


def async_invoke(
    invoke_async: Callable[[str, bytes], bool], name: str, headers: Any, body: bytes
) -> tuple[int, dict[str, str], bytes]:
    """Lambda's answer to an asynchronous Invoke: 202 once queued (only ``Event`` invocations are taken)."""
    kind = headers.get("X-Amz-Invocation-Type", "RequestResponse")
    if kind != "Event":
        return _error(
            400, "InvalidParameterValueException", f"Only InvocationType=Event is served locally, not {kind}."
        )
    if not invoke_async(name, body):
        return _error(404, "ResourceNotFoundException", f"Function not found: {name}")
    return 202, {"content-type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}, b""


def _error(status: int, kind: str, message: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"x-amzn-ErrorType": kind}, json.dumps({"Type": "User", "message": message}).encode()
