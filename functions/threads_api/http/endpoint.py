"""API Gateway (REST, proxy integration) events in, responses out, and the error envelope on every path.

Each handler module is ``handler = endpoint(operation, ...)(fn)`` where ``fn(request)`` returns the response
body (a 200), or ``(status, body)`` for any other success status. ``endpoint`` takes the project that the API's
authorizer put in the request context (keys are checked there, at the edge), parses the body
when the operation takes one, runs a request that carries an ``Idempotency-Key`` once when the operation is
idempotent, logs one line per request (never a key or content; with Lambda's request id and cold start), maps
the domain's failures to OpenAI's envelopes and statuses, and sets ``x-request-id`` on every response.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from threads_api.http import errors as http_errors
from threads_api.http.request import Request, lower_keys, parse_body, project_of, query_of
from threads_api.http.responses import Body, LambdaResponse, error_response, response
from threads_api.observability import logger, metrics, tracer, with_lambda_context

# What a handler module needs, from this one module: the decorator, its request and its body.
__all__ = ["Body", "LambdaResponse", "Operation", "Request", "endpoint"]

LOGGED_FRAMES = 10  # of a 500's traceback, the innermost
# A body is a 200; a (status, body) pair is only for another status.
Operation = Callable[[Request], Body | tuple[int, Body]]


def endpoint(
    operation: str, *, parses_body: bool = False, parses_form: str | None = None, idempotent: bool = False
) -> Callable[[Operation], Callable[..., LambdaResponse]]:
    """Wrap ``fn(request)`` into a Lambda handler for API Gateway's proxy events.

    ``parses_body``: the request's JSON body is parsed into ``request.body`` (otherwise a body is ignored).
    ``parses_form``: the request's multipart/form-data body, whose bytes are in the named field (``file``,
    ``data``), is parsed into ``request.form`` (and what identifies it, its fields and its files' digests, into
    ``request.body``).
    ``idempotent``: a request that carries an ``Idempotency-Key`` header runs once per key (otherwise the
    header is ignored); see ``threads_api.http.idempotency``.
    """

    def wrap(fn: Operation) -> Callable[..., LambdaResponse]:
        def handler(event: dict[str, Any], context: Any = None) -> LambdaResponse:
            started = time.perf_counter()
            request_id = str((event.get("requestContext") or {}).get("requestId") or "")
            logger.set_correlation_id(request_id)
            project = None
            try:
                headers = lower_keys(event.get("headers"))
                project = project_of(event)
                request = Request(
                    project=project,
                    request_id=request_id,
                    path=dict(event.get("pathParameters") or {}),
                    query=query_of(event),
                    body=parse_body(event) if parses_body else {},
                    context=context,
                )
                if parses_form is not None:
                    from threads_api.http.form import parse_form  # only the file-taking functions load it

                    request.form = parse_form(event, headers.get("content-type", ""), parses_form)
                    request.body = request.form.summary()
                idempotency_key = headers.get("idempotency-key") if idempotent else None
                if idempotency_key is None:
                    result = response(*_status_and_body(fn(request)), request_id)
                else:
                    result = _run_once(fn, request, idempotency_key, event, context)
            except Exception as exc:  # every failure becomes an envelope; no trace reaches the client
                error = http_errors.from_exception(exc)
                if error.status >= 500:
                    _log_server_error(exc)
                result = error_response(error, request_id)
            _log_request(operation, result["statusCode"], project, started)
            if metrics.metric_set:
                metrics.flush_metrics()
            return result

        logged = with_lambda_context(handler)
        traced = tracer()
        # Never the response or the error: both may quote message content.
        return (
            traced.capture_lambda_handler(logged, capture_response=False, capture_error=False)
            if traced is not None
            else logged
        )

    return wrap


def _status_and_body(result: Body | tuple[int, Body]) -> tuple[int, Body]:
    return result if isinstance(result, tuple) else (200, result)


def _run_once(fn: Operation, request: Request, key: str, event: dict[str, Any], context: Any) -> LambdaResponse:
    """A request with an ``Idempotency-Key``: run once per key, or the first run's response replayed; a streamed
    one recorded under its key, then run (again)."""
    from threads_api.http import idempotency  # loaded on the first keyed request: the functions start without it

    method, path = str(event.get("httpMethod")), str(event.get("path"))
    request.idempotency_seed = idempotency.seed(key, request.project, method, path, request.body)
    if request.body.get("stream") is True:
        # An event stream is not kept to replay, but the key's request is recorded first: the key with another
        # request is refused. The same request runs again, and what it creates has the id the key derives, so
        # it finds the run the first attempt made instead of making another.
        idempotency.record_streamed(key, request.project, method, path, request.body, context)
        return response(*_status_and_body(fn(request)), request.request_id)
    outcome = idempotency.run_once(
        key, request.project, method, path, request.body, lambda: _status_and_body(fn(request)), context
    )
    replayed = {"idempotent-replayed": str(outcome.replayed).lower()}
    return response(outcome.status, outcome.body, request.request_id, replayed)


def _log_server_error(exc: Exception) -> None:
    """A 5xx's line: the type and the frames, never the message (it may quote content)."""
    logger.error(
        "request failed",
        extra={
            "error_type": type(exc).__name__,
            "error_code": getattr(exc, "response", {}).get("Error", {}).get("Code"),  # botocore's
            # The innermost frames only: a deep recursion's would make one huge line.
            "frames": traceback.format_list(traceback.extract_tb(exc.__traceback__, limit=-LOGGED_FRAMES)),
        },
    )
    metrics.add_metric(name="ServerErrors", unit="Count", value=1)


def _log_request(operation: str, status: int, project: str | None, started: float) -> None:
    """One line per request: at INFO for failures; at DEBUG for successes, whose count, latency and status
    API Gateway's and Lambda's own metrics already give (a JSON log line costs ~10% of a warm request;
    POWERTOOLS_LOG_LEVEL=DEBUG turns these on)."""
    if status < 400 and logger.log_level > logging.DEBUG:
        return
    log = logger.info if status >= 400 else logger.debug
    log(
        "request",
        extra={
            "operation": operation,
            "status": status,
            "project": project,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
