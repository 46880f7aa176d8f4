"""API keys: only a key's SHA-256 is stored, with its project; ``auth`` mints, checks and revokes them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from threads_api.store import dynamodb
from threads_api.store.paging import every_page

if TYPE_CHECKING:
    from threads_api.store.items import Item


def _key(key_hash: str) -> Item:
    return {"pk": {"S": f"key#{key_hash}"}, "sk": {"S": "key"}}


def put_key(key_hash: str, project: str, prefix: str) -> None:
    created_at = int(time.time())
    dynamodb.call(
        "put_item",
        Item={
            **_key(key_hash),
            "prj": {"S": project},
            "prefix": {"S": prefix},
            "created_at": {"N": str(created_at)},
            "gpk": {"S": "keys"},
            "gsk": {"S": f"{created_at:012d}#{key_hash}"},
        },
        ConditionExpression="attribute_not_exists(pk)",
    )


def get_key_project(key_hash: str) -> str | None:
    # Consistent: a revoked key must fail at once on a container that has not cached it.
    item = dynamodb.get_item(_key(key_hash))
    return None if item is None else str(item["prj"]["S"])


def delete_key(key_hash: str) -> str | None:
    """Delete a key; the project it belonged to (None: there was no such key)."""
    response = dynamodb.call("delete_item", Key=_key(key_hash), ReturnValues="ALL_OLD")
    old = response.get("Attributes")
    return None if old is None else str(old["prj"]["S"])


def list_keys() -> list[dict[str, Any]]:
    """Every key: its id (the SHA-256), project, non-secret prefix and creation time, oldest first."""
    return [
        {
            "id": item["pk"]["S"][4:],
            "project": item["prj"]["S"],
            "prefix": item["prefix"]["S"],
            "created_at": int(item["created_at"]["N"]),
        }
        for page in every_page(
            IndexName="by_owner", KeyConditionExpression="gpk = :g", ExpressionAttributeValues={":g": {"S": "keys"}}
        )
        for item in page
    ]
