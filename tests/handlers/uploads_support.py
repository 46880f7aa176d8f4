"""What the uploads' handler tests share: the SDK's requests (a JSON create and complete, a part as a form), and
what the bucket and the table hold behind the API."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from urllib3 import encode_multipart_formdata

from infra.local import dynamodb as local_dynamodb
from tests.handlers.conftest import Api, Reply

MiB = 1024 * 1024


def create(api: Api, size: int, filename: str = "big.bin", purpose: str = "assistants", **kw: Any) -> Reply:
    """``uploads.create`` as the SDK sends it."""
    body = {"filename": filename, "purpose": purpose, "bytes": size, "mime_type": "application/octet-stream"}
    return api("POST", "/uploads", body | kw.pop("extra", {}), **kw)


def add_part(api: Api, upload_id: str, data: bytes, **kw: Any) -> Reply:
    """``uploads.parts.create`` as the SDK sends it: a form whose ``data`` is a file part."""
    fields: dict[str, Any] = kw.pop("fields", {"data": ("upload", data)})
    body, content_type = encode_multipart_formdata(fields)
    headers = {"content-type": content_type, **kw.pop("headers", {})}
    return api("POST", f"/uploads/{upload_id}/parts", raw=body, headers=headers, **kw)


def complete(api: Api, upload_id: str, part_ids: list[str], md5: str | None = None, **kw: Any) -> Reply:
    body: dict[str, Any] = {"part_ids": part_ids} | ({"md5": md5} if md5 is not None else {})
    return api("POST", f"/uploads/{upload_id}/complete", body, **kw)


def cancel(api: Api, upload_id: str, **kw: Any) -> Reply:
    return api("POST", f"/uploads/{upload_id}/cancel", **kw)


def uploaded(api: Api, chunks: list[bytes], **kw: Any) -> tuple[str, list[str]]:
    """An upload of ``chunks``, one part each: its id and its parts' ids, in order."""
    created = create(api, sum(map(len, chunks)), **kw)
    assert created.status == 200, created.body
    upload_id = created.body["id"]
    part_ids = []
    for chunk in chunks:
        part = add_part(api, upload_id, chunk)
        assert part.status == 200, part.body
        part_ids.append(part.body["id"])
    return upload_id, part_ids


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def objects() -> list[str]:
    listed = local_dynamodb.client(None, "s3").list_objects_v2(Bucket=os.environ["BUCKET_NAME"])
    return sorted(entry["Key"] for entry in listed.get("Contents", []))


def unfinished_multipart_uploads() -> list[str]:
    listed = local_dynamodb.client(None, "s3").list_multipart_uploads(Bucket=os.environ["BUCKET_NAME"])
    return [entry["Key"] for entry in listed.get("Uploads", [])]


def upload_item(dynamodb: Any, upload_id: str, project: str = "alpha") -> dict[str, Any] | None:
    key = {"pk": {"S": f"files#{project}"}, "sk": {"S": f"upload#{upload_id}"}}
    item: dict[str, Any] | None = dynamodb.get_item(TableName=os.environ["TABLE_NAME"], Key=key).get("Item")
    return item


def expire(dynamodb: Any, upload_id: str) -> dict[str, Any]:
    """What DynamoDB's TTL does to the upload's item once its ``expires_at`` has passed: deletes it (a stream
    REMOVE record). Returns the item it deleted."""
    item = upload_item(dynamodb, upload_id)
    assert item is not None
    dynamodb.delete_item(TableName=os.environ["TABLE_NAME"], Key={"pk": item["pk"], "sk": item["sk"]})
    return item
