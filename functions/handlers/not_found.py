"""Any path the API does not have: OpenAI's 404, from our code so that it carries x-request-id."""

from typing import Any

from threads_api.http import errors
from threads_api.http.responses import LambdaResponse, error_response


def handler(event: dict[str, Any], context: Any = None) -> LambdaResponse:
    request_id = str((event.get("requestContext") or {}).get("requestId") or "")
    path = (event.get("requestContext") or {}).get("path") or event.get("path") or "/"
    return error_response(errors.route_not_found(str(event.get("httpMethod", "GET")), str(path)), request_id)
