"""Uploads that expire, fail or stop half-way leave nothing for ever: an expired upload takes nothing and its item's
removal (the TTL, then the stream's cleanup) deletes its parts; a failure the function sees gives the upload back;
a completion stopped anywhere is finished by the same completion asked again past its lease."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api
from tests.handlers.uploads_support import (
    add_part,
    cancel,
    complete,
    create,
    expire,
    objects,
    unfinished_multipart_uploads,
    upload_item,
    uploaded,
)


class Killed(BaseException):
    """The function stopped where it stood (killed, timed out): no except clause of the product runs."""


def _later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    from threads_api.domain import clock

    now = clock.now_ms()
    monkeypatch.setattr(clock, "now_ms", lambda: now + int(seconds * 1000))


def test_an_expired_upload_takes_nothing_and_its_removal_deletes_its_parts(
    api: Api, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_id, part_ids = uploaded(api, [b"one", b"two"])
    _later(monkeypatch, 3600)  # OpenAI's hour
    for refused in (add_part(api, upload_id, b"three"), complete(api, upload_id, part_ids), cancel(api, upload_id)):
        assert refused.status == 400, refused.body
        assert_error(refused.body, 400, contains="with status 'expired'")
    assert len(objects()) == 2
    item = expire(dynamodb, upload_id)
    assert item["expires_at"] == item["exp"]  # the table's TTL: the upload's own expiry
    api.stream.drain()
    assert objects() == []
    assert api("GET", "/files").body["data"] == []


def test_a_finished_uploads_removal_deletes_only_what_is_left_of_its_parts(api: Api, dynamodb: Any) -> None:
    upload_id, part_ids = uploaded(api, [b"whole"])
    file_id = complete(api, upload_id, part_ids).body["file"]["id"]
    cancelled_id, _ = uploaded(api, [b"gone"])
    assert cancel(api, cancelled_id).status == 200
    for finished in (upload_id, cancelled_id):
        item = expire(dynamodb, finished)
        assert item["pending"] == {"BOOL": True}
    api.stream.drain()
    assert objects() == [f"alpha/{file_id}"]
    assert api("GET", f"/files/{file_id}/content").body == b"whole"


def _throttled(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}}, operation)


def test_a_completion_whose_s3_fails_gives_the_upload_back(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 fails mid-assembly: a 503, the multipart upload aborted, the upload pending again (its claim given
    back), and the same completion, retried, makes the file."""
    from threads_api.bucket import s3

    upload_id, part_ids = uploaded(api, [b"retry ", b"me"])

    def slow_down(**_: Any) -> None:
        raise _throttled("UploadPart")

    monkeypatch.setattr(s3.client(), "upload_part", slow_down)
    failed = complete(api, upload_id, part_ids)
    assert failed.status == 503, failed.body
    assert failed.headers["retry-after"] == "1"
    monkeypatch.undo()
    assert unfinished_multipart_uploads() == []
    assert api("GET", "/files").body["data"] == []
    done = complete(api, upload_id, part_ids)
    assert done.status == 200, done.body
    assert api("GET", f"/files/{done.body['file']['id']}/content").body == b"retry me"


def test_a_part_whose_bytes_cannot_be_stored_is_forgotten(
    api: Api, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from threads_api.bucket import s3

    upload_id, _ = uploaded(api, [b"kept"])

    def slow_down(**_: Any) -> None:
        raise _throttled("PutObject")

    monkeypatch.setattr(s3.client(), "put_object", slow_down)
    failed = add_part(api, upload_id, b"lost")
    assert failed.status == 503, failed.body
    monkeypatch.undo()
    item = upload_item(dynamodb, upload_id)
    assert item is not None
    assert len(item["parts"]["M"]) == 1


@contextmanager
def _killed(s3_operation: str, *, after: bool) -> Iterator[None]:
    """The function killed at S3's ``s3_operation`` (before it runs, or once it has run): no call after that, of S3
    or DynamoDB, not even a clean-up."""
    from threads_api import store
    from threads_api.bucket import s3

    stopped: list[bool] = []

    def before_s3(model: Any, **_: Any) -> None:
        if stopped:
            raise Killed
        if model.name == s3_operation and not after:
            stopped.append(True)
            raise Killed

    def after_s3(model: Any, **_: Any) -> None:
        if model.name == s3_operation and after:
            stopped.append(True)

    def before_table(**_: Any) -> None:
        if stopped:
            raise Killed

    s3.client().meta.events.register("before-call.s3", before_s3, unique_id="killed")
    s3.client().meta.events.register("after-call.s3", after_s3, unique_id="killed-after")
    store.client.meta.events.register("before-call.dynamodb", before_table, unique_id="killed")
    try:
        with pytest.raises(Killed):
            yield
    finally:
        s3.client().meta.events.unregister("before-call.s3", unique_id="killed")
        s3.client().meta.events.unregister("after-call.s3", unique_id="killed-after")
        store.client.meta.events.unregister("before-call.dynamodb", unique_id="killed")
    assert stopped == [True]


def _parts(dynamodb: Any, upload_id: str) -> set[str]:
    item = upload_item(dynamodb, upload_id)
    assert item is not None
    return set(item["parts"]["M"])


def test_a_part_stopped_before_its_bytes_is_refused_by_the_completion(api: Api, dynamodb: Any) -> None:
    """Recorded, then killed before its object was written: a completion that lists it is a 400 naming it, and
    leaves the upload pending; the bytes added again as a new part complete it."""
    upload_id = create(api, 6).body["id"]
    first = add_part(api, upload_id, b"abc").body["id"]
    with _killed("PutObject", after=False):
        add_part(api, upload_id, b"def")
    (second,) = _parts(dynamodb, upload_id) - {first}
    refused = complete(api, upload_id, [first, second])
    assert refused.status == 400, refused.body
    assert_error(refused.body, 400, param="part_ids[1]", contains="has no bytes stored")
    assert unfinished_multipart_uploads() == []
    third = add_part(api, upload_id, b"def").body["id"]
    done = complete(api, upload_id, [first, third])
    assert done.status == 200, done.body
    assert api("GET", f"/files/{done.body['file']['id']}/content").body == b"abcdef"


def _pending_file(dynamodb: Any) -> str:
    items = dynamodb.scan(TableName=os.environ["TABLE_NAME"])["Items"]
    (file,) = [item for item in items if item["sk"]["S"].startswith("file#")]
    assert file["pending"] == {"BOOL": True}
    return str(file["sk"]["S"]).removeprefix("file#")


def test_a_completion_stopped_after_its_object_is_finished_by_the_same_completion(
    api: Api, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed once the file's object is made, before its item is shown: asked again within the claim's lease, a
    409 (another request may be completing it); past the lease, the same completion takes the claim over and
    makes the same file, once."""
    upload_id, part_ids = uploaded(api, [b"stopped ", b"then done"])
    with _killed("CompleteMultipartUpload", after=True):
        complete(api, upload_id, part_ids)
    file_id = _pending_file(dynamodb)
    assert api("GET", "/files").body["data"] == []
    busy = complete(api, upload_id, part_ids)
    assert busy.status == 409, busy.body
    assert_error(busy.body, 409, contains="being completed by another request")
    assert busy.headers["retry-after"] == "5"
    other = add_part(api, upload_id, b"late")
    assert other.status == 400, other.body
    assert_error(other.body, 400, contains="it is being completed")
    _later(monkeypatch, 61)
    changed = complete(api, upload_id, part_ids[::-1])
    assert changed.status == 400, changed.body
    assert_error(changed.body, 400, param="part_ids", contains="complete it as first asked")
    done = complete(api, upload_id, part_ids)
    assert done.status == 200, done.body
    assert done.body["file"]["id"] == file_id
    assert [f["id"] for f in api("GET", "/files").body["data"]] == [file_id]
    assert api("GET", f"/files/{file_id}/content").body == b"stopped then done"
    assert objects() == [f"alpha/{file_id}"]
    assert unfinished_multipart_uploads() == []


def test_a_completion_stopped_after_its_file_is_shown_keeps_that_file(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed once its file is shown, before the upload is marked completed: the completion asked again past
    the lease finds the file and reads no part again."""
    from threads_api.bucket import s3
    from threads_api.store import uploads as upload_items

    upload_id, part_ids = uploaded(api, [b"shown"])

    def killed(*_: Any) -> None:
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(upload_items, "mark_completed", killed)
        with pytest.raises(Killed):
            complete(api, upload_id, part_ids)
    (file,) = api("GET", "/files").body["data"]
    _later(monkeypatch, 61)
    reads: list[str] = []
    s3.client().meta.events.register("before-call.s3.GetObject", lambda **_: reads.append("get"), unique_id="reads")
    try:
        done = complete(api, upload_id, part_ids)
    finally:
        s3.client().meta.events.unregister("before-call.s3.GetObject", unique_id="reads")
    assert done.status == 200, done.body
    assert (done.body["file"], reads) == (file, [])
    assert objects() == [f"alpha/{file['id']}"]


def test_a_completion_stopped_and_never_asked_again_leaves_nothing_once_its_items_expire(
    api: Api, dynamodb: Any
) -> None:
    upload_id, part_ids = uploaded(api, [b"abandoned"])
    with _killed("CompleteMultipartUpload", after=True):
        complete(api, upload_id, part_ids)
    file_id = _pending_file(dynamodb)
    item = expire(dynamodb, upload_id)
    assert int(item["expires_at"]["N"]) == int(item["claim_at"]["N"]) // 1000 + 3600  # an hour past the claim
    table = os.environ["TABLE_NAME"]
    dynamodb.delete_item(TableName=table, Key={"pk": {"S": "files#alpha"}, "sk": {"S": f"file#{file_id}"}})
    api.stream.drain()
    assert objects() == []
