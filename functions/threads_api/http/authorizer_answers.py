"""What the API's Lambda authorizer answers API Gateway (``handlers/authorizer.py``): Allow, with the caller's
project and its usage plan key, or Deny, with OpenAI's message and code for the ``ACCESS_DENIED`` gateway
response to paste into its envelope.

The authorizer is called for every request to a route that needs a key (not the docs; an unknown route is
API Gateway's own 404, before any authorizer).
- A valid key: Allow, with the project in the context (the functions read
  ``requestContext.authorizer.project``) and ``usageIdentifierKey``, the API key of the project's usage
  plan entry, so that API Gateway throttles and meters each project on its own.
- No key, or a wrong or revoked one: Deny, with OpenAI's message and code in the context. API Gateway then
  answers its ``ACCESS_DENIED`` gateway response (a 401 in OpenAI's envelope, in template.yaml) and no
  function runs. A missing key costs no DynamoDB read; a key is read once per ``KEY_CACHE_SECONDS`` per warm
  container, found or not (``threads_api.auth``).
"""

from __future__ import annotations

import json
from typing import Any

from threads_api.http import errors


def allow(event: dict[str, Any], project: str, usage_key: str) -> dict[str, Any]:
    return {
        "principalId": project,
        "policyDocument": _policy("Allow", event),
        "context": {"project": project},
        "usageIdentifierKey": usage_key,
    }


def deny(event: dict[str, Any], error: errors.ApiError) -> dict[str, Any]:
    # The gateway response pastes these into its JSON body as they are: they are JSON literals already.
    return {
        "principalId": "anonymous",
        "policyDocument": _policy("Deny", event),
        "context": {"message": json.dumps(error.message), "code": json.dumps(error.code)},
    }


def _policy(effect: str, event: dict[str, Any]) -> dict[str, Any]:
    # The whole stage, not only this method: were results ever cached per key (see docs/keys.md), one cached
    # answer would serve the key's next request to any route.
    arn, _, _ = str(event["methodArn"]).partition("/")
    stage = str(event["requestContext"]["stage"])
    return {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": f"{arn}/{stage}/*"}],
    }
