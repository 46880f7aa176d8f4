"""The Uploads API's handlers on moto, under their IAM roles: create, parts, complete (a file as files.create writes
one, assembled in S3 parts of at least 5 MiB), cancel; another project's key; every response against OpenAI's
schemas (Upload, UploadPart, OpenAIFile)."""

from __future__ import annotations

import os

import requests

from infra.local import dynamodb as local_dynamodb
from tests.contract.schemas import assert_error, assert_valid
from tests.handlers.conftest import Api
from tests.handlers.uploads_support import (
    MiB,
    add_part,
    cancel,
    complete,
    create,
    md5,
    objects,
    unfinished_multipart_uploads,
    upload_item,
    uploaded,
)


def test_an_upload_round_trip_makes_a_file(api: Api) -> None:
    """Three parts (4, 4 and 1 MiB, as upload_file_chunked sends 9 MiB) completed into one file: the upload
    completed with its file, the file as files.create makes one, its bytes in order, the parts' objects gone."""
    chunks = [os.urandom(4 * MiB), os.urandom(4 * MiB), os.urandom(MiB)]
    data = b"".join(chunks)
    created = create(api, len(data), filename="big.bin", purpose="user_data")
    assert created.status == 200, created.body
    assert_valid(created.body, "Upload")
    upload_id = created.body["id"]
    assert upload_id.startswith("upload_")
    assert created.body | {"id": "", "created_at": 0, "expires_at": 0} == {
        "id": "",
        "object": "upload",
        "bytes": len(data),
        "created_at": 0,
        "filename": "big.bin",
        "purpose": "user_data",
        "status": "pending",
        "expires_at": 0,
    }
    assert created.body["expires_at"] == created.body["created_at"] + 3600  # OpenAI's hour
    part_ids = []
    for chunk in chunks:
        part = add_part(api, upload_id, chunk)
        assert part.status == 200, part.body
        assert_valid(part.body, "UploadPart")
        assert part.body["id"].startswith("part_")
        assert (part.body["object"], part.body["upload_id"]) == ("upload.part", upload_id)
        part_ids.append(part.body["id"])
    assert objects() == sorted(f"alpha/{upload_id}/{part_id}" for part_id in part_ids)
    done = complete(api, upload_id, part_ids, md5(data))
    assert done.status == 200, done.body
    assert_valid(done.body, "Upload")
    assert_valid(done.body["file"], "OpenAIFile")
    assert done.body | {"file": None} == created.body | {"status": "completed", "file": None}
    file = done.body["file"]
    assert file["id"].startswith("file-")
    assert (file["bytes"], file["filename"], file["purpose"], file["status"]) == (
        len(data),
        "big.bin",
        "user_data",
        "processed",
    )
    assert api("GET", f"/files/{file['id']}").body == file
    assert [f["id"] for f in api("GET", "/files").body["data"]] == [file["id"]]
    content = api("GET", f"/files/{file['id']}/content")  # over what a Lambda response carries: S3 serves it
    assert (content.status, content.body) == (302, None)
    location = content.headers["location"]
    assert f"/alpha/{file['id']}?" in location
    assert "X-Amz-Expires=300" in location
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in location  # SigV4: what an object encrypted with KMS needs
    assert requests.get(location, timeout=10).content == data
    assert objects() == [f"alpha/{file['id']}"]  # the parts' objects deleted
    assert unfinished_multipart_uploads() == []


def test_the_parts_are_joined_in_the_order_listed(api: Api) -> None:
    """Parts may be added in any order (in parallel): the completion's list is the file's order."""
    upload_id, part_ids = uploaded(api, [b"world", b"hello, "])
    done = complete(api, upload_id, part_ids[::-1])
    assert done.status == 200, done.body
    assert api("GET", f"/files/{done.body['file']['id']}/content").body == b"hello, world"


def test_parts_not_listed_are_deleted_too(api: Api) -> None:
    """A part added but left out of the completion is deleted with the others; the upload's item still lists
    every part (its removal, later, deletes them again: nothing)."""
    upload_id = create(api, 4).body["id"]
    kept, dropped = (add_part(api, upload_id, data).body["id"] for data in (b"keep", b"drop"))
    done = complete(api, upload_id, [kept])
    assert done.status == 200, done.body
    assert objects() == [f"alpha/{done.body['file']['id']}"]
    item = upload_item(local_dynamodb.client(None), upload_id)
    assert item is not None
    assert set(item["parts"]["M"]) == {kept, dropped}
    assert item["pending"] == {"BOOL": True}  # what the cleanup's stream filter passes on removal


def test_md5_may_be_hex_or_base64(api: Api) -> None:
    import base64
    import hashlib

    for given in (md5(b"abc").upper(), base64.b64encode(hashlib.md5(b"abc").digest()).decode()):
        upload_id, part_ids = uploaded(api, [b"abc"])
        done = complete(api, upload_id, part_ids, given)
        assert done.status == 200, done.body


def test_cancel_deletes_the_parts_and_the_upload_takes_nothing_more(api: Api) -> None:
    upload_id, part_ids = uploaded(api, [b"one", b"two"])
    cancelled = cancel(api, upload_id)
    assert cancelled.status == 200, cancelled.body
    assert_valid(cancelled.body, "Upload")
    assert cancelled.body["status"] == "cancelled"
    assert "file" not in cancelled.body
    assert objects() == []
    for refused in (add_part(api, upload_id, b"three"), complete(api, upload_id, part_ids), cancel(api, upload_id)):
        assert refused.status == 400, refused.body
        assert_error(refused.body, 400, contains="with status 'cancelled'")
    assert objects() == []
    assert api("GET", "/files").body["data"] == []


def test_a_completed_upload_takes_nothing_more(api: Api) -> None:
    upload_id, part_ids = uploaded(api, [b"once"])
    assert complete(api, upload_id, part_ids).status == 200
    for refused in (complete(api, upload_id, part_ids), add_part(api, upload_id, b"more"), cancel(api, upload_id)):
        assert refused.status == 400, refused.body
        assert_error(refused.body, 400, contains="with status 'completed'")
    assert len(api("GET", "/files").body["data"]) == 1


def test_another_projects_key_finds_no_upload(api: Api) -> None:
    """An upload is its project's: another key's parts, completion and cancel are 404s that change nothing."""
    upload_id, part_ids = uploaded(api, [b"mine"])
    for reply in (
        add_part(api, upload_id, b"theirs", key=api.other_key),
        complete(api, upload_id, part_ids, key=api.other_key),
        cancel(api, upload_id, key=api.other_key),
    ):
        assert reply.status == 404, reply.body
        assert_error(reply.body, 404, contains=f"No upload found with id '{upload_id}'.")
    assert objects() == [f"alpha/{upload_id}/{part_ids[0]}"]
    done = complete(api, upload_id, part_ids)
    assert done.status == 200, done.body
    assert api("GET", f"/files/{done.body['file']['id']}", key=api.other_key).status == 404


def test_the_largest_part_is_taken_and_one_byte_more_is_a_413_naming_data(api: Api) -> None:
    from threads_api.domain import limits

    upload_id = create(api, limits.UPLOAD_PART_MAX_BYTES + 1).body["id"]
    assert add_part(api, upload_id, b"x" * limits.UPLOAD_PART_MAX_BYTES).status == 200
    for size in (limits.UPLOAD_PART_MAX_BYTES + 1, limits.UPLOAD_PART_MAX_BYTES + limits.FORM_OVERHEAD_MAX_BYTES + 1):
        reply = add_part(api, upload_id, b"x" * size)
        assert reply.status == 413, reply.body
        assert_error(reply.body, 413, param="data")
        assert reply.body["error"]["code"] == "file_too_large"
    assert len(objects()) == 1
