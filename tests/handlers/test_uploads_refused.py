"""The Uploads API's bad input: a 400 (or 404, 413) naming the field, in OpenAI's envelope, and nothing written:
no upload item, no part, no object, no file, no multipart upload left."""

from __future__ import annotations

import os
from typing import Any

import pytest
from urllib3 import encode_multipart_formdata

from infra.local import dynamodb as local_dynamodb
from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api, Reply
from tests.handlers.uploads_support import (
    add_part,
    complete,
    create,
    md5,
    objects,
    unfinished_multipart_uploads,
    upload_item,
    uploaded,
)


def _uploads_in_table() -> list[str]:
    items = local_dynamodb.client(None).scan(TableName=os.environ["TABLE_NAME"])["Items"]
    return [item["sk"]["S"] for item in items if item["sk"]["S"].startswith("upload#")]


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"filename": None}, "filename"),
        ({"filename": ""}, "filename"),
        ({"filename": "a\nb"}, "filename"),
        ({"filename": "x" * 513}, "filename"),
        ({"purpose": None}, "purpose"),
        ({"purpose": "wallpaper"}, "purpose"),
        ({"bytes": None}, "bytes"),
        ({"bytes": 0}, "bytes"),
        ({"bytes": "10"}, "bytes"),
        ({"bytes": 268_435_457}, "bytes"),  # one byte over 256 MiB
        ({"mime_type": None}, "mime_type"),
        ({"mime_type": ""}, "mime_type"),
        ({"expires_after": {"anchor": "created_at", "seconds": 3600}}, "expires_after"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_create_is_a_400_naming_the_field_and_writes_nothing(
    api: Api, change: dict[str, Any], param: str
) -> None:
    body = {"filename": "f.bin", "purpose": "assistants", "bytes": 10, "mime_type": "text/plain"} | change
    reply = api("POST", "/uploads", {k: v for k, v in body.items() if v is not None})
    assert reply.status == 400, reply.body
    assert_error(reply.body, 400, param=param)
    assert _uploads_in_table() == []


def test_the_largest_upload_is_taken() -> None:
    from threads_api.domain import limits
    from threads_api.wire import upload_bodies

    body = {"filename": "f", "purpose": "batch", "bytes": limits.UPLOAD_MAX_BYTES, "mime_type": "text/jsonl"}
    assert upload_bodies.create_request(body).size == 256 * 1024 * 1024
    assert upload_bodies.Purpose.__args__ == limits.FILE_PURPOSES  # type: ignore[attr-defined]


def _form(api: Api, upload_id: str, fields: dict[str, Any]) -> Reply:
    return add_part(api, upload_id, b"", fields=fields)


def test_a_bad_part_is_a_400_naming_data_and_stores_nothing(api: Api) -> None:
    upload_id = create(api, 10).body["id"]
    cases = [
        (_form(api, upload_id, {"data": ("upload", b"")}), "data"),
        (_form(api, upload_id, {"other": ("upload", b"x")}), "other"),
        (_form(api, upload_id, {"data": ("upload", b"x"), "purpose": "assistants"}), "purpose"),
        (_form(api, upload_id, {}), None),  # a form without any part: not a valid form
        (api("POST", f"/uploads/{upload_id}/parts", {"data": "x"}), None),  # JSON, not a form
    ]
    body, content_type = encode_multipart_formdata({"note": "no data"})
    cases.append((api("POST", f"/uploads/{upload_id}/parts", raw=body, headers={"content-type": content_type}), "note"))
    for reply, param in cases:
        assert reply.status == 400, reply.body
        assert_error(reply.body, 400, param=param)
    item = upload_item(local_dynamodb.client(None), upload_id)
    assert item is not None
    assert item["parts"] == {"M": {}}
    assert objects() == []


def test_a_text_field_is_a_part_too(api: Api) -> None:
    """curl -F data=... sends a text field: its UTF-8 bytes are the part."""
    upload_id = create(api, 5).body["id"]
    part = _form(api, upload_id, {"data": "héll"})
    assert part.status == 200, part.body
    done = complete(api, upload_id, [part.body["id"]])
    assert done.status == 200, done.body
    assert api("GET", f"/files/{done.body['file']['id']}/content").body == "héll".encode()


def test_an_unknown_upload_is_a_404(api: Api) -> None:
    for upload_id in ("upload_missing", "file-abc", "upload_" + "x" * 80):
        for reply in (
            add_part(api, upload_id, b"x"),
            complete(api, upload_id, ["part_x"]),
            api("POST", f"/uploads/{upload_id}/cancel"),
        ):
            assert reply.status == 404, reply.body
            assert_error(reply.body, 404, contains=f"No upload found with id '{upload_id}'.")
    assert objects() == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "part_ids"),
        ({"part_ids": []}, "part_ids"),
        ({"part_ids": "part_a"}, "part_ids"),
        ({"part_ids": ["part a"]}, "part_ids[0]"),
        ({"part_ids": [1]}, "part_ids[0]"),
        ({"part_ids": ["part_a"], "md5": "nope"}, "md5"),
        ({"part_ids": ["part_a"], "md5": 5}, "md5"),
        ({"part_ids": ["part_a"], "extra": 1}, "extra"),
    ],
)
def test_a_malformed_completion_is_a_400_naming_the_field(api: Api, body: dict[str, Any], param: str) -> None:
    upload_id = create(api, 10).body["id"]
    reply = api("POST", f"/uploads/{upload_id}/complete", body)
    assert reply.status == 400, reply.body
    assert_error(reply.body, 400, param=param)


def test_a_completion_whose_parts_do_not_fit_is_a_400_and_the_upload_stays_pending(api: Api) -> None:
    """Unknown or repeated part ids, and parts that do not add up to the upload's bytes, are refused before
    anything is written: the upload takes parts and completes after."""
    upload_id, (first, second) = uploaded(api, [b"hello, ", b"world"])
    for part_ids, param, contains in (
        ([first, "part_unknown"], "part_ids[1]", "no part 'part_unknown'"),
        ([first, first], "part_ids[1]", "listed twice"),
        ([first], "part_ids", "add up to 7 bytes, but the upload was created with 'bytes' 12"),
        ([second, first, second], "part_ids[2]", "listed twice"),
    ):
        reply = complete(api, upload_id, part_ids)
        assert reply.status == 400, reply.body
        assert_error(reply.body, 400, param=param, contains=contains)
    assert objects() == sorted(f"alpha/{upload_id}/{p}" for p in (first, second))
    assert api("GET", "/files").body["data"] == []
    assert complete(api, upload_id, [first, second]).status == 200


def test_an_md5_mismatch_is_a_400_and_leaves_no_file_and_no_multipart_upload(api: Api) -> None:
    """The bytes are assembled and checked before the file exists: a wrong md5 (or the parts in the wrong order)
    aborts the multipart upload, makes no file, and gives the upload back (pending) to complete again."""
    upload_id, (first, second) = uploaded(api, [b"hello, ", b"world"])
    wrong_order = complete(api, upload_id, [second, first], md5(b"hello, world"))
    assert wrong_order.status == 400, wrong_order.body
    assert_error(wrong_order.body, 400, param="md5", contains=md5(b"worldhello, "))
    assert wrong_order.body["error"]["code"] == "md5_mismatch"
    assert unfinished_multipart_uploads() == []
    assert api("GET", "/files").body["data"] == []
    assert objects() == sorted(f"alpha/{upload_id}/{p}" for p in (first, second))
    item = upload_item(local_dynamodb.client(None), upload_id)
    assert item is not None
    assert item["status"] == {"S": "pending"}
    assert not {"file_id", "claim_ids", "claim_at"} & set(item)
    assert item["expires_at"] == item["exp"]  # its TTL its expiry again
    done = complete(api, upload_id, [first, second], md5(b"hello, world"))
    assert done.status == 200, done.body
    assert api("GET", f"/files/{done.body['file']['id']}/content").body == b"hello, world"


def test_a_part_past_the_most_an_upload_takes_is_refused(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from threads_api.domain import limits

    monkeypatch.setattr(limits, "UPLOAD_MAX_PARTS", 2)
    upload_id, _ = uploaded(api, [b"a", b"b"])
    reply = add_part(api, upload_id, b"c")
    assert reply.status == 400, reply.body
    assert_error(reply.body, 400, param="data", contains="already has 2 parts")
    assert reply.body["error"]["code"] == "too_many_parts"
    assert len(objects()) == 2
