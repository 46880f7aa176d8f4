"""API Gateway's own answers (gateway responses), as the template configures them: shared by the local
API Gateway (``api_gateway.py``) and its edge (``edge.py``, the authorizer and usage plan)."""

from __future__ import annotations

import json
import re
from typing import Any

from infra import template


def gateway_response(
    kind: str, status: int, context: dict[str, str], authorizer: dict[str, Any] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """API Gateway's own answer of type ``kind`` as the template configures it (else DEFAULT_4XX/5XX);
    ``authorizer``: the authorizer's context, for ``$context.authorizer.*``."""
    configured = template.load()["Resources"]["Api"]["Properties"].get("GatewayResponses", {})
    response = configured.get(kind) or configured.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX") or {}
    status = int(response.get("StatusCode", status))
    values = {
        "$context.requestId": context["requestId"],
        "$context.httpMethod": context.get("httpMethod", ""),
        "$context.path": context.get("path", ""),
        "$context.error.message": context["message"],
        "$context.error.messageString": json.dumps(context["message"]),
        "$context.error.responseType": kind,
    }
    values.update({f"$context.authorizer.{k}": str(v) for k, v in (authorizer or {}).items()})
    body_template = (response.get("ResponseTemplates") or {}).get("application/json")
    body = json.dumps({"message": context["message"]})
    if body_template:
        body = re.sub(r"\$context(?:\.[A-Za-z]+)+", lambda m: values.get(m.group(0), ""), body_template)
    headers = {"content-type": "application/json", "x-amzn-RequestId": context["requestId"], "x-amzn-ErrorType": kind}
    for name, value in ((response.get("ResponseParameters") or {}).get("Headers") or {}).items():
        headers[name] = str(value).strip("'")
    return status, headers, body.encode()
