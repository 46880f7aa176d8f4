"""API Gateway's proxy responses: a body (or a pre-serialized one) with its status and OpenAI's headers."""

from __future__ import annotations

import base64
import json
from typing import Any

from threads_api.http import errors as http_errors
from threads_api.wire.file_objects import Content, Redirect
from threads_api.wire.response_bodies import Written

LambdaResponse = dict[str, Any]
Body = dict[str, Any]


def response(
    status: int, body: dict[str, Any], request_id: str, headers: dict[str, str] | None = None
) -> LambdaResponse:
    out = {"content-type": getattr(body, "content_type", "application/json"), "x-request-id": request_id}
    if 400 <= status < 500 and status not in (408, 409, 429):
        out["x-should-retry"] = "false"
    if headers:
        out.update(headers)
    if isinstance(body, Content):  # bytes: API Gateway decodes them for a client that accepts binary media
        return {
            "statusCode": status,
            "headers": out,
            "body": base64.b64encode(body.data).decode(),
            "isBase64Encoded": True,
        }
    if isinstance(body, Redirect):  # no body: the client follows the location (the openai SDK does)
        return {"statusCode": status, "headers": out | {"location": body.location}, "body": ""}
    text = body.text if isinstance(body, Written) else json.dumps(body, ensure_ascii=False)
    return {"statusCode": status, "headers": out, "body": text}


def error_response(error: http_errors.ApiError, request_id: str) -> LambdaResponse:
    return response(error.status, error.envelope(), request_id, error.headers)
