"""GET /openapi.json (the API's OpenAPI document) and GET /docs (a Swagger UI page for people)."""

from typing import Any

from threads_api.http.docs_page import CONTENT_SECURITY_POLICY, DOCUMENT, PAGE


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    request_id = str((event.get("requestContext") or {}).get("requestId") or "")
    page = str(event.get("path", "")).endswith("/docs")
    headers = {
        "content-type": "text/html; charset=utf-8" if page else "application/json",
        "x-request-id": request_id,
        "cache-control": "max-age=300",
        "x-content-type-options": "nosniff",
    }
    if page:
        headers |= {"content-security-policy": CONTENT_SECURITY_POLICY, "referrer-policy": "no-referrer"}
    return {"statusCode": 200, "headers": headers, "body": PAGE if page else DOCUMENT}
