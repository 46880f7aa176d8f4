"""Each project's API key in a deployed stack's usage plan: what ``make key`` and ``make revoke`` add and remove.

The API's authorizer returns, as ``usageIdentifierKey``, an API key value derived from the API's id and the
project (``threads_api.auth.usage_identifier``); API Gateway throttles and meters the request under that key
only if the key exists and is in the stack's usage plan (``UsagePlanId`` output), else it answers 403. So:
- ``make key``: the project's API key is created if it does not exist yet, and put in the plan (both steps
  are idempotent: a second key of the project, or a retry after a failure, changes nothing);
- ``make revoke`` of a project's last key: its API key is deleted (and so leaves the plan), once no warm
  authorizer can still allow the key (``infra/ops/key_commands.revoke_on`` waits KeyCacheSeconds): deleted
  sooner, API Gateway would refuse the key 403 project_not_enabled instead of the authorizer's 401. Revoking is
  the table's: the authorizer refuses a revoked key whatever the plan holds.
"""

from __future__ import annotations

from typing import Any


def key_name(stack: str, project: str) -> str:
    return f"{stack}/{project}"


def _find(client: Any, name: str, value: str) -> str | None:
    for page in client.get_paginator("get_api_keys").paginate(nameQuery=name, includeValues=True):
        for item in page.get("items", []):
            if item.get("name") == name and item.get("value") == value:
                return str(item["id"])
    return None


def enable(client: Any, *, stack: str, plan_id: str, project: str, value: str) -> str:
    """The project's API key (created if need be) in the plan; its id."""
    name = key_name(stack, project)
    key_id = _find(client, name, value)
    if key_id is None:
        created = client.create_api_key(
            name=name,
            value=value,
            enabled=True,
            description=f"Threads API project {project}: meters and throttles its requests (make key).",
            tags={"threads-api:stack": stack, "threads-api:project": project},
        )
        key_id = str(created["id"])
    plan_keys = client.get_paginator("get_usage_plan_keys").paginate(usagePlanId=plan_id)
    if not any(item.get("id") == key_id for page in plan_keys for item in page.get("items", [])):
        client.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    return key_id


def disable(client: Any, *, stack: str, plan_id: str, project: str, value: str) -> bool:
    """Take the project's API key out of the plan and delete it; whether there was one."""
    key_id = _find(client, key_name(stack, project), value)
    if key_id is None:
        return False
    plan_keys = client.get_paginator("get_usage_plan_keys").paginate(usagePlanId=plan_id)
    if any(item.get("id") == key_id for page in plan_keys for item in page.get("items", [])):
        client.delete_usage_plan_key(usagePlanId=plan_id, keyId=key_id)
    client.delete_api_key(apiKey=key_id)
    return True
