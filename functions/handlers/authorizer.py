"""The API's Lambda REQUEST authorizer: an API key to its project, at the edge, before any function runs.

API Gateway calls it for every request to a route that needs a key (not the docs; an unknown route is
API Gateway's own 404, before any authorizer).
- A valid key: Allow, with the project in the context (the functions read
  ``requestContext.authorizer.project``) and ``usageIdentifierKey``, the API key of the project's usage
  plan entry, so that API Gateway throttles and meters each project on its own.
- No key, or a wrong or revoked one: Deny, with OpenAI's message and code in the context. API Gateway then
  answers its ``ACCESS_DENIED`` gateway response (a 401 in OpenAI's envelope, in template.yaml) and no
  function runs. A missing key costs no DynamoDB read; a key is read once per ``KEY_CACHE_SECONDS`` per warm
  container, found or not (``threads_api.auth``).

A DynamoDB failure is raised: API Gateway answers 500 (its ``AUTHORIZER_FAILURE``), which the SDK retries.
"""

from __future__ import annotations

import json
from typing import Any

from threads_api import auth
from threads_api.http import errors


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    key = auth.key_from_headers(headers)
    if not key:
        return _deny(event, errors.missing_key())
    project = auth.project_of(key)
    if project is None:
        return _deny(event, errors.invalid_key(key))
    api_id = str(event["requestContext"]["apiId"])
    return {
        "principalId": project,
        "policyDocument": _policy("Allow", event),
        "context": {"project": project},
        "usageIdentifierKey": auth.usage_identifier(api_id, project),
    }


def _deny(event: dict[str, Any], error: errors.ApiError) -> dict[str, Any]:
    # The gateway response pastes these into its JSON body as they are: they are JSON literals already.
    return {
        "principalId": "anonymous",
        "policyDocument": _policy("Deny", event),
        "context": {"message": json.dumps(error.message), "code": json.dumps(error.code)},
    }


def _policy(effect: str, event: dict[str, Any]) -> dict[str, Any]:
    # The whole stage, not only this method: were results ever cached per key (see README), one cached
    # answer would serve the key's next request to any route.
    arn, _, _ = str(event["methodArn"]).partition("/")
    stage = str(event["requestContext"]["stage"])
    return {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": f"{arn}/{stage}/*"}],
    }
