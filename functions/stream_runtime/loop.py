"""The runtime loop: the next invocation from Lambda's Runtime API, the handler, and its answer streamed back.

Lambda's Runtime API (``AWS_LAMBDA_RUNTIME_API``): ``GET /runtime/invocation/next`` gives an event and its
request id, deadline and trace id; ``POST /runtime/invocation/{id}/response`` with
``Lambda-Runtime-Function-Response-Mode: streaming`` and a chunked body answers it, piece by piece; an error
after the first piece goes in the trailers (``Lambda-Runtime-Function-Error-Type`` and ``-Body``); one before
it is ``POST .../error``. The body is API Gateway's streaming format (``answer.py``).

The handler is the function's own (``_HANDLER``, as Lambda names it), unchanged: its context carries
``stream_to``, where ``threads_api.http``'s endpoint writes a streamed answer's pieces as they come
(``Request.stream_sink``). A handler that never writes there is answered with what it returns, in one piece.
Standard library only: this runs before any of the function's imports.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from http.client import HTTPConnection
from typing import Any

from stream_runtime.answer import Answer

API_VERSION = "2018-06-01"


class Context:
    """Lambda's context object, as the managed runtime builds it, with ``stream_to``."""

    def __init__(self, request_id: str, deadline_ms: int, arn: str, stream_to: Callable[[str], None]) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.invoked_function_arn = arn
        self.aws_request_id = request_id
        self.stream_to = stream_to
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class RuntimeApi:
    """Lambda's Runtime API, over one keep-alive connection for the invocations and one per response."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._next: HTTPConnection | None = None

    def next_invocation(self) -> tuple[dict[str, str], bytes]:
        return self._get("invocation/next")

    def restored(self) -> None:
        """SnapStart: wait until Lambda restores this environment from its snapshot (``restore/next``)."""
        self._get("restore/next")

    def _get(self, path: str) -> tuple[dict[str, str], bytes]:
        """A GET on the one keep-alive connection; made anew once if it broke (a snapshot's restore, an idle
        connection Lambda closed)."""
        for attempt in (1, 2):
            if self._next is None:
                self._next = HTTPConnection(self.address, timeout=None)
            try:
                self._next.request("GET", f"/{API_VERSION}/runtime/{path}")
                response = self._next.getresponse()
                return {k.lower(): v for k, v in response.getheaders()}, response.read()
            except OSError:
                self._next.close()
                self._next = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> None:
        connection = HTTPConnection(self.address, timeout=30)
        try:
            connection.request("POST", f"/{API_VERSION}/runtime/{path}", body=body, headers=headers)
            connection.getresponse().read()
        finally:
            connection.close()

    def error(self, path: str, exc: BaseException) -> None:
        body = json.dumps(_error(exc)).encode()
        self.post(path, body, {"Lambda-Runtime-Function-Error-Type": "Unhandled", "Content-Type": "application/json"})


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def load_handler(name: str) -> Callable[..., Any]:
    """``handlers/create_run.handler``: the module's path (Lambda's form) and the function's name."""
    module, _, function = name.rpartition(".")
    return getattr(importlib.import_module(module.replace("/", ".")), function)  # type: ignore[no-any-return]


def serve_one(api: RuntimeApi, handler: Callable[..., Any]) -> None:
    """One invocation: its event to the handler, the handler's answer streamed back."""
    headers, body = api.next_invocation()
    request_id = headers["lambda-runtime-aws-request-id"]
    if headers.get("lambda-runtime-trace-id"):
        os.environ["_X_AMZN_TRACE_ID"] = headers["lambda-runtime-trace-id"]
    else:  # as the managed runtime does: no trace of the last invocation's
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    event = json.loads(body)
    answer = Answer(api.address, request_id, str((event.get("requestContext") or {}).get("requestId") or ""))
    context = Context(
        request_id,
        int(headers.get("lambda-runtime-deadline-ms", "0")),
        headers.get("lambda-runtime-invoked-function-arn", ""),
        answer.piece,
    )
    try:
        result = handler(event, context)
    except Exception as exc:
        traceback.print_exc()
        if answer.started:
            answer.fail(exc)  # the client has the prelude already: the error goes in the trailers
        else:
            api.error(f"invocation/{request_id}/error", exc)
        return
    answer.finish(result)


def main() -> None:
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    try:  # Lambda's init phase
        handler = load_handler(os.environ["_HANDLER"])
    except Exception as exc:
        traceback.print_exc()
        api.error("init/error", exc)
        raise SystemExit(1) from exc
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        api.restored()  # the invocations start after the restore, in each environment made from the snapshot
    while True:
        serve_one(api, handler)
        sys.stdout.flush()
