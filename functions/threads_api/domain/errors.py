"""API errors, shaped like OpenAI's: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the client should see, with OpenAI's status, type, param and code."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - OpenAI's field name
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def invalid_id(param: str, max_chars: int = 64) -> ApiError:
    """An id that is not 1 to ``max_chars`` characters of [A-Za-z0-9_-] (``limits.ID_MAX_CHARS``)."""
    return ApiError(
        400,
        f"Invalid '{param}': expected an id of 1 to {max_chars} characters of A-Z, a-z, 0-9, '_' and '-'.",
        param=param,
        code="invalid_value",
    )


def route_not_found(method: str, path: str) -> ApiError:
    return ApiError(404, f"Invalid URL ({method} {path})")


def missing_key() -> ApiError:
    return ApiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header "
        "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    )


def invalid_key(key: str) -> ApiError:
    # Like OpenAI, show only the ends of the key, never the whole of it.
    shown = f"{key[:3]}***{key[-4:]}" if len(key) > 10 else "***"
    return ApiError(401, f"Incorrect API key provided: {shown}.", code="invalid_api_key")


def unavailable(retry_after: int = 1) -> ApiError:
    return ApiError(
        503,
        "The service is temporarily overloaded. Please retry your request.",
        type="server_error",
        code="service_unavailable",
        headers={"retry-after": str(retry_after)},
    )


def in_progress() -> ApiError:
    return ApiError(
        409,
        "A request with this Idempotency-Key is still in progress. Retry after it completes.",
        type="idempotency_error",
        param="Idempotency-Key",
        code="idempotency_request_in_progress",
        headers={"retry-after": "1"},
    )


def internal() -> ApiError:
    return ApiError(
        500,
        "The server had an error while processing your request. Sorry about that!",
        type="server_error",
    )


# The domain's failures. The store and the domain raise these; ``http`` turns them into envelopes.


class NotFound(Exception):
    """No ``kind`` (thread, message) with this id in the caller's project."""

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(f"No {kind} found with id '{object_id}'.")
        self.kind = kind
        self.object_id = object_id


class BadCursor(Exception):
    """A pagination cursor (``after``/``before``) that names no object of the list."""

    def __init__(self, param: str, object_id: str) -> None:
        super().__init__(f"Invalid '{param}': no object with id '{object_id}' in this list.")
        self.param = param


class InProgress(Exception):
    """The object a keyed request creates exists, but is not whole yet (a staged creation still running)."""


class Unavailable(Exception):
    """DynamoDB throttled or failed past the client's retries; the request may be retried as is."""


class InvalidText(ValueError):
    """Text that is not valid Unicode (a lone UTF-16 surrogate): it cannot be stored as UTF-8."""
