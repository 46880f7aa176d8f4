"""API Gateway (REST, proxy integration) events in, responses out, and the error envelope on every path.

Each handler module is ``handler = endpoint(operation, ...)(fn)`` where ``fn(request)`` returns the response
body (a 200), or ``(status, body)`` for any other success status. ``endpoint`` takes the project that the API's
authorizer put in the request context (keys are checked there, at the edge), parses the body
when the operation takes one, runs a request that carries an ``Idempotency-Key`` once when the operation is
idempotent, logs one line per request (never a key or content; with Lambda's request id and cold start), maps
the domain's failures to OpenAI's envelopes and statuses, and sets ``x-request-id`` on every response.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from threads_api.domain import errors, ids, limits
from threads_api.domain.errors import ApiError, BadCursor, InProgress, InvalidText, NotFound, Unavailable
from threads_api.observability import logger, metrics, tracer, with_lambda_context
from threads_api.wire.response_bodies import Written

LambdaResponse = dict[str, Any]
LOGGED_FRAMES = 10  # of a 500's traceback, the innermost
Body = dict[str, Any]
# A body is a 200; a (status, body) pair is only for another status.
Operation = Callable[["Request"], Body | tuple[int, Body]]

# An id in a path, a query or a cursor: 1 to 64 characters of [A-Za-z0-9_-], as in bodies.
ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{1,{limits.ID_MAX_CHARS}}}")
# The prefix of each kind of object's ids (the kind is what a 404 names).
_ID_PREFIXES = {"thread": "thread_", "message": "msg_", "assistant": "asst_", "run": "run_", "step": "step_"}
_JSON_SPACE = " \t\n\r"  # JSON's whitespace (RFC 8259)


@dataclass(slots=True)
class Request:
    project: str
    request_id: str
    path: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)
    idempotency_seed: bytes | None = None  # set when the request carries an Idempotency-Key
    context: Any = None  # Lambda's context (None in a tool's or a test's call)

    def stream_sink(self) -> Any:
        """Where a streamed response's pieces go as they come: ``make serve``'s gateway gives one (its local
        context's ``stream_to``); Lambda's Python runtime cannot stream, so in Lambda there is none."""
        return getattr(self.context, "stream_to", None)

    def seconds_left(self) -> float:
        """The invocation's remaining time (Lambda's), or the API's own bound without a context."""
        if self.context is None:
            return 28.0
        return float(self.context.get_remaining_time_in_millis()) / 1000

    def created_id(self, prefix: str) -> str | None:
        """The id of the object this request creates, when it carries an Idempotency-Key: derived from the
        project, the key and the request, so that running it again finds what it created (None: any new id)."""
        return None if self.idempotency_seed is None else ids.derived_id(prefix, self.idempotency_seed)

    def object_id(self, name: str, kind: str) -> str:
        """A path id; one that cannot exist here (wrong prefix, odd characters, too long) is a 404 at once."""
        value = self.path.get(name, "")
        if not value.startswith(_ID_PREFIXES[kind]) or not ID_PATTERN.fullmatch(value):
            raise NotFound(kind, value)
        return value


def response(
    status: int, body: dict[str, Any], request_id: str, headers: dict[str, str] | None = None
) -> LambdaResponse:
    out = {"content-type": getattr(body, "content_type", "application/json"), "x-request-id": request_id}
    if 400 <= status < 500 and status not in (408, 409, 429):
        out["x-should-retry"] = "false"
    if headers:
        out.update(headers)
    text = body.text if isinstance(body, Written) else json.dumps(body, ensure_ascii=False)
    return {"statusCode": status, "headers": out, "body": text}


def error_response(error: ApiError, request_id: str) -> LambdaResponse:
    return response(error.status, error.envelope(), request_id, error.headers)


def _as_api_error(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, NotFound):
        return ApiError(404, str(exc))
    if isinstance(exc, BadCursor):
        return errors.invalid(str(exc), param=exc.param, code="invalid_cursor")
    if isinstance(exc, InvalidText):
        return errors.invalid("The request contains invalid Unicode text (a lone surrogate).", code="invalid_unicode")
    if isinstance(exc, Unavailable):
        return errors.unavailable()
    if isinstance(exc, InProgress):
        return errors.in_progress()
    return errors.internal()


def _lower_keys(headers: dict[str, str] | None) -> dict[str, str]:
    return {k.lower(): v for k, v in (headers or {}).items()}


def _project(event: dict[str, Any]) -> str:
    """The caller's project, as the authorizer resolved it; never from a header. Without one (a route that
    is not behind the authorizer, or a direct invocation), no project's data is served."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    project = authorizer.get("project")
    if not isinstance(project, str) or not project:
        raise errors.missing_key()
    return project


def _query(event: dict[str, Any]) -> dict[str, str]:
    multi = event.get("multiValueQueryStringParameters") or {}
    for name, values in multi.items():
        if len(values) > 1:
            raise errors.invalid(f"Invalid '{name}': given {len(values)} times, expected once.", param=name)
    return dict(event.get("queryStringParameters") or {})


def parse_body(event: dict[str, Any]) -> dict[str, Any]:
    """The JSON object of a request body; an empty body is ``{}`` (OpenAI's ``curl -d ''`` works)."""
    raw = event.get("body")
    if raw is None:
        return {}
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw).decode("utf-8")
        except ValueError:
            raise errors.invalid("The request body is not valid UTF-8.") from None
    if (
        len(raw) > limits.REQUEST_BODY_MAX_BYTES
        or len(raw.encode("utf-8", "surrogatepass")) > limits.REQUEST_BODY_MAX_BYTES
    ):
        raise ApiError(
            413,
            f"The request body is too large: at most {limits.REQUEST_BODY_MAX_BYTES} bytes are accepted.",
            code="request_too_large",
        )
    if not raw.strip(_JSON_SPACE):
        return {}
    try:
        body = json.loads(raw)
    except RecursionError:  # deeper than the parser goes: far deeper than the bound below
        raise _too_deep(None) from None
    except ValueError:
        raise errors.invalid(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
            "HTTP library correctly. The API expects a JSON payload, but what was sent was not valid JSON.)"
        ) from None
    too_deep = _too_deep_under(body, limits.JSON_MAX_DEPTH)
    if too_deep is not None:
        raise _too_deep(too_deep)
    if not isinstance(body, dict):
        raise errors.invalid(f"Invalid type for body: expected an object, but got {_json_type(body)} instead.")
    return body  # strings with a lone surrogate ("\\ud800") are refused where they are stored


def _too_deep(field: str | None) -> ApiError:
    return errors.invalid(
        f"The request body is nested too deeply{f' in {field!r}' if field else ''}: at most "
        f"{limits.JSON_MAX_DEPTH} levels of objects and arrays are accepted.",
        param=field or None,
    )


def _too_deep_under(value: Any, bound: int) -> str | None:
    """The top-level field under which objects and arrays nest deeper than ``bound`` levels ("" for a body
    that is itself the array), or None; found without recursion: nothing that walks a body recursively
    (hashing it for an idempotency record, copying it, validating it) may see one."""
    if not isinstance(value, dict | list):
        return None
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        node, depth, field = stack.pop()
        items = node.items() if isinstance(node, dict) else ((field, child) for child in node)
        for key, child in items:
            if isinstance(child, dict | list):
                top = field or (str(key) if isinstance(node, dict) else "")
                if depth >= bound:
                    return top
                stack.append((child, depth + 1, top))
    return None


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "an integer", float: "a number"}
    return "null" if value is None else names.get(type(value), "a value")


def endpoint(
    operation: str, *, parses_body: bool = False, idempotent: bool = False
) -> Callable[[Operation], Callable[..., LambdaResponse]]:
    """Wrap ``fn(request)`` into a Lambda handler for API Gateway's proxy events.

    ``parses_body``: the request's JSON body is parsed into ``request.body`` (otherwise a body is ignored).
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
                headers = _lower_keys(event.get("headers"))
                project = _project(event)
                request = Request(
                    project=project,
                    request_id=request_id,
                    path=dict(event.get("pathParameters") or {}),
                    query=_query(event),
                    body=parse_body(event) if parses_body else {},
                    context=context,
                )
                idempotency_key = headers.get("idempotency-key") if idempotent else None
                if idempotency_key is None:
                    result = response(*_status_and_body(fn(request)), request_id)
                else:
                    result = _run_once(fn, request, idempotency_key, event, context)
            except Exception as exc:  # every failure becomes an envelope; no trace reaches the client
                error = _as_api_error(exc)
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
    """A request with an ``Idempotency-Key``: run once per key, or the first run's response replayed."""
    from threads_api.http import idempotency  # loaded on the first keyed request: the functions start without it

    method, path = str(event.get("httpMethod")), str(event.get("path"))
    request.idempotency_seed = idempotency.seed(key, request.project, method, path, request.body)
    if request.body.get("stream") is True:
        # An event stream is not kept to replay: the request runs again, and what it creates has the id the
        # key derives, so it finds the run the first attempt made instead of making another.
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
