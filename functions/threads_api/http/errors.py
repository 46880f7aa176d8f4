"""OpenAI's error envelope, ``{"error": {"message", "type", "param", "code"}}``, with OpenAI's status: the
HTTP side's own refusals, and the one mapping of the domain's failures (``domain/errors.py``) to them."""

from __future__ import annotations

from typing import Any

from threads_api.domain import errors


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


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def from_exception(exc: Exception) -> ApiError:
    """The envelope of any failure: the domain's map to OpenAI's statuses; anything else is a 500 that says
    nothing of its cause (it may quote content)."""
    match exc:
        case ApiError():
            return exc
        case errors.NotFound():
            return ApiError(404, str(exc))
        case errors.BadCursor():
            return invalid(str(exc), param=exc.param, code="invalid_cursor")
        case errors.InvalidText():
            return invalid("The request contains invalid Unicode text (a lone surrogate).", code="invalid_unicode")
        case errors.PayloadTooLarge():
            return ApiError(413, exc.message, param=exc.param, code=exc.code)
        case errors.Invalid():
            return invalid(exc.message, param=exc.param, code=exc.code)
        case errors.Refused():
            return invalid(exc.message, param=exc.param)
        case errors.Busy():
            return ApiError(409, exc.message, code="conflict", headers={"retry-after": str(exc.retry_after)})
        case errors.Unavailable():
            return unavailable()
        case errors.InProgress():
            return in_progress()
    return internal()
