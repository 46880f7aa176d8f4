"""The API's Lambda REQUEST authorizer: an API key to its project, at the edge, before any function runs
(what it answers, and why: ``threads_api/http/authorizer_answers.py``). A DynamoDB failure is raised: API
Gateway answers 500 (its ``AUTHORIZER_FAILURE``), which the SDK retries."""

from typing import Any

from threads_api import auth
from threads_api.http import errors
from threads_api.http.authorizer_answers import allow, deny


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    key = auth.key_from_headers({str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()})
    if not key:
        return deny(event, errors.missing_key())
    project = auth.project_of(key)
    if project is None:
        return deny(event, errors.invalid_key(key))
    return allow(event, project, auth.usage_identifier(str(event["requestContext"]["apiId"]), project))
