"""Nothing half-written: a file whose item cannot be written leaves no object, one whose bytes cannot be stored
shows no file; one whose function is killed after its bytes shows nothing, and its item's expiry removes the
object; a retried upload with an Idempotency-Key stores one file."""

from __future__ import annotations

import os
import time
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


class Killed(BaseException):
    """The function stopped where it stood (killed, timed out): no except clause of the product runs."""


def _killed_after_the_bytes(api: Api, dynamodb: Any, headers: dict[str, str] | None = None) -> str:
    """An upload whose function dies once its bytes are stored: no call after the object's put, not even a
    clean-up. The file's id, from the table (the client was never answered)."""
    from threads_api import store
    from threads_api.bucket import s3

    stored: list[bool] = []

    def put_then_die(**kwargs: Any) -> None:
        if kwargs["model"].name == "PutObject":
            stored.append(True)
        elif stored:
            raise Killed

    def after_the_put(**_: Any) -> None:
        if stored:
            raise Killed

    s3.client().meta.events.register("before-call.s3", put_then_die, unique_id="killed")
    store.client.meta.events.register("before-call.dynamodb", after_the_put, unique_id="killed")
    try:
        with pytest.raises(Killed):
            upload(api, headers=headers or {})
    finally:
        s3.client().meta.events.unregister("before-call.s3", unique_id="killed")
        store.client.meta.events.unregister("before-call.dynamodb", unique_id="killed")
    assert stored == [True]
    items = dynamodb.scan(TableName=os.environ["TABLE_NAME"])["Items"]
    files = [item for item in items if item["sk"]["S"].startswith("file#")]
    assert len(files) == 1, "the file's item is written before its bytes"
    return str(files[0]["sk"]["S"]).removeprefix("file#")


def _expire(dynamodb: Any, file_id: str) -> dict[str, Any]:
    """What DynamoDB's TTL does to the file's item once its ``expires_at`` has passed: deletes it (a stream
    REMOVE record). Returns the item it deleted."""
    key = {"pk": {"S": "files#alpha"}, "sk": {"S": f"file#{file_id}"}}
    item: dict[str, Any] = dynamodb.get_item(TableName=os.environ["TABLE_NAME"], Key=key)["Item"]
    dynamodb.delete_item(TableName=os.environ["TABLE_NAME"], Key=key)
    return item


def test_an_upload_killed_after_its_bytes_shows_nothing_and_its_expiry_removes_the_object(
    api: Api, dynamodb: Any
) -> None:
    file_id = _killed_after_the_bytes(api, dynamodb)
    assert objects() == [f"alpha/{file_id}"]
    assert api("GET", "/files").body["data"] == []
    for path in (f"/files/{file_id}", f"/files/{file_id}/content"):
        missing = api("GET", path)
        assert missing.status == 404, missing.body
        assert_error(missing.body, 404)
    cursor = api("GET", f"/files?after={file_id}")  # no file to page from
    assert cursor.status == 400, cursor.body
    assert_error(cursor.body, 400, param="after")
    pending = _expire(dynamodb, file_id)
    assert 0 < int(pending["expires_at"]["N"]) - time.time() <= 2 * 3600  # the table's TTL attribute
    api.stream.drain()
    assert objects() == []
    assert api("GET", "/files").body["data"] == []


def test_a_keyed_upload_killed_after_its_bytes_is_finished_by_its_retry(api: Api, dynamodb: Any) -> None:
    """The retry (once the killed attempt's in-flight record is gone, at its invocation's deadline) derives
    the same id, finds the pending item, stores the bytes again and finishes the file: one file, one object."""
    key = {"Idempotency-Key": "killed-upload"}
    file_id = _killed_after_the_bytes(api, dynamodb, key)
    _forget_records(dynamodb)
    retried = upload(api, headers=key)
    assert retried.status == 200, retried.body
    assert retried.body["id"] == file_id
    assert api("GET", f"/files/{file_id}").body == retried.body
    assert [f["id"] for f in api("GET", "/files").body["data"]] == [file_id]
    assert api("GET", f"/files/{file_id}/content").body == b"hello, files"
    assert objects() == [f"alpha/{file_id}"]


def test_an_expiry_keeps_the_bytes_of_a_file_written_again_under_its_id(api: Api, dynamodb: Any) -> None:
    """A keyed upload's pending item expires, and its retry writes the file anew (the same derived id) before
    the stream's REMOVE record reaches the cleanup: the object is the new file's, and stays."""
    key = {"Idempotency-Key": "killed-then-expired"}
    file_id = _killed_after_the_bytes(api, dynamodb, key)
    _expire(dynamodb, file_id)
    _forget_records(dynamodb)
    assert upload(api, headers=key).body["id"] == file_id
    api.stream.drain()
    assert objects() == [f"alpha/{file_id}"]
    assert api("GET", f"/files/{file_id}/content").body == b"hello, files"


def _forget_records(dynamodb: Any) -> None:
    table = os.environ["TABLE_NAME"]
    for item in dynamodb.scan(TableName=table)["Items"]:
        if item["pk"]["S"].startswith("idempotency#"):
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
