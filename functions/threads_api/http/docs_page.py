"""What GET /openapi.json and GET /docs answer: the API's OpenAPI document, and a Swagger UI page for people.

No key, no table, nothing but the standard library: the docs function starts without botocore.

The page loads Swagger UI from a CDN, pinned to one version and checked by Subresource Integrity (the
browser refuses a file whose SHA-384 differs), under a Content-Security-Policy that allows only those files,
the page's one inline script (by its hash) and requests to this origin: the page is where people paste keys.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

DOCUMENT = (Path(__file__).resolve().parent.parent / "openapi.json").read_text()

# swagger-ui-dist, as npm publishes it (jsDelivr serves the package's files unchanged). To move to another
# version: npm pack swagger-ui-dist@<version>, then `openssl dgst -sha384 -binary <file> | openssl base64 -A`
# for each file below.
SWAGGER_UI_VERSION = "5.35.0"
CDN = f"https://cdn.jsdelivr.net/npm/swagger-ui-dist@{SWAGGER_UI_VERSION}"
ASSETS = {
    "swagger-ui.css": "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I",
    "swagger-ui-bundle.js": "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9",
}

SCRIPT = 'window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui"});'

PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Threads API</title>
  <link rel="stylesheet" href="{CDN}/swagger-ui.css"
        integrity="{ASSETS["swagger-ui.css"]}" crossorigin="anonymous">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{CDN}/swagger-ui-bundle.js"
          integrity="{ASSETS["swagger-ui-bundle.js"]}" crossorigin="anonymous"></script>
  <script>{SCRIPT}</script>
</body>
</html>
"""

_SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()

# Scripts: the pinned bundle and the inline script above, nothing else (no eval). Styles: the pinned sheet, and
# the style attributes Swagger UI renders. Requests (the document, "Try it out"): this origin only.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        f"script-src {CDN}/swagger-ui-bundle.js '{_SCRIPT_HASH}'",
        f"style-src {CDN}/swagger-ui.css 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
