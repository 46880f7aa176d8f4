"""A request as the handlers see it: the project the authorizer resolved, the path's ids, the query, and the
JSON body, read from API Gateway's proxy event with OpenAI's 400s (and 413) for what they may not be."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from threads_api.domain import errors, ids, limits
from threads_api.domain.errors import NotFound
from threads_api.domain.ids import ID_PATTERN, ID_PREFIXES
from threads_api.http import errors as http_errors

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
    form: Any = None  # a multipart/form-data body (``http.form.Form``), for an operation that takes one

    def stream_sink(self) -> Any:
        """Where a streamed response's pieces go as they come: the streaming functions' own runtime
        (``functions/stream_runtime``) and ``make serve``'s gateway give one (the context's ``stream_to``); a
        function on Lambda's managed runtime, which cannot stream, has none."""
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
        if not value.startswith(ID_PREFIXES[kind]) or not ID_PATTERN.fullmatch(value):
            raise NotFound(kind, value)
        return value


def lower_keys(headers: dict[str, str] | None) -> dict[str, str]:
    return {k.lower(): v for k, v in (headers or {}).items()}


def project_of(event: dict[str, Any]) -> str:
    """The caller's project, as the authorizer resolved it; never from a header. Without one (a route that
    is not behind the authorizer, or a direct invocation), no project's data is served."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    project = authorizer.get("project")
    if not isinstance(project, str) or not project:
        raise http_errors.missing_key()
    return project


def query_of(event: dict[str, Any]) -> dict[str, str]:
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
        raise http_errors.ApiError(
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


def _too_deep(field: str | None) -> errors.Invalid:
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
