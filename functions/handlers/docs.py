"""GET /openapi.json (the API's OpenAPI document) and GET /docs (a Swagger UI page for people).

No key, no table: it imports nothing of the shared package, so it starts without botocore.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DOCUMENT = (Path(__file__).resolve().parent.parent / "threads_api" / "openapi.json").read_text()

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Threads API</title>
  <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui"});
  </script>
</body>
</html>
"""


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    request_id = str((event.get("requestContext") or {}).get("requestId") or "")
    page = str(event.get("path", "")).endswith("/docs")
    return {
        "statusCode": 200,
        "headers": {
            "content-type": "text/html; charset=utf-8" if page else "application/json",
            "x-request-id": request_id,
            "cache-control": "max-age=300",
        },
        "body": PAGE if page else DOCUMENT,
    }
