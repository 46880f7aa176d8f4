"""Nothing half-written: a file whose item cannot be written leaves no object, one whose bytes cannot be stored
leaves no item; a retried upload with an Idempotency-Key stores one file."""

from __future__ import annotations

import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api
from tests.handlers.test_files import objects, upload


def _throttled(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}}, operation)


def test_an_item_that_cannot_be_written_leaves_no_object(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bytes are stored first; when the item's write then fails, they are deleted before the 503."""
    from threads_api.domain.errors import Unavailable
    from threads_api.store import dynamodb

    real_call = dynamodb.call

    def failing(operation: str, **kwargs: Any) -> Any:
        if operation == "put_item" and kwargs["Item"]["sk"]["S"].startswith("file#"):
            raise Unavailable("put_item")
        return real_call(operation, **kwargs)

    monkeypatch.setattr(dynamodb, "call", failing)
    reply = upload(api)
    assert reply.status == 503
    assert_error(reply.body, 503)
    monkeypatch.undo()
    assert objects() == []
    assert api("GET", "/files").body["data"] == []


def test_bytes_that_cannot_be_stored_leave_no_item(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from threads_api.bucket import s3

    def slow_down(**_: Any) -> None:
        raise _throttled("PutObject")

    monkeypatch.setattr(s3.client(), "put_object", slow_down)
    reply = upload(api)
    assert reply.status == 503
    assert reply.headers["retry-after"] == "1"
    monkeypatch.undo()
    assert api("GET", "/files").body["data"] == []


def test_a_keyed_upload_stores_one_file(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same Idempotency-Key and the same form: the first answer again, one object; a first attempt that
    failed is not remembered, so its retry stores the file."""
    from threads_api.bucket import s3

    real_put = s3.client().put_object
    calls: list[str] = []

    def fail_once(**kwargs: Any) -> Any:
        calls.append(kwargs["Key"])
        if len(calls) == 1:
            raise _throttled("PutObject")
        return real_put(**kwargs)

    monkeypatch.setattr(s3.client(), "put_object", fail_once)
    key = {"Idempotency-Key": "upload-1"}
    assert upload(api, headers=key).status == 503
    first = upload(api, headers=key)
    again = upload(api, headers=key)
    assert first.status == again.status == 200
    assert again.body == first.body
    assert again.headers["idempotent-replayed"] == "true"
    assert objects() == [f"alpha/{first.body['id']}"]
    other = upload(api, b"other bytes", headers=key)
    assert other.status == 400
    assert_error(other.body, 400)


def test_a_keyed_upload_whose_record_was_lost_finds_its_file(api: Api, dynamodb: Any) -> None:
    """The file was written but the Idempotency-Key's record was not kept (its save failed after the write):
    the retry derives the same id, finds the file, answers it, and keeps its bytes."""
    key = {"Idempotency-Key": "upload-2"}
    first = upload(api, headers=key)
    table = os.environ["TABLE_NAME"]
    for item in dynamodb.scan(TableName=table)["Items"]:
        if item["pk"]["S"].startswith("idempotency#"):
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    again = upload(api, headers=key)
    assert (again.status, again.body) == (200, first.body)
    assert objects() == [f"alpha/{first.body['id']}"]
    assert api("GET", f"/files/{first.body['id']}/content").body == b"hello, files"
    assert [f["id"] for f in api("GET", "/files").body["data"]] == [first.body["id"]]
