"""The Files API's handlers on moto, under their IAM roles: upload (multipart/form-data), list with its filter and
pages, retrieve, the bytes, delete; another project's key; every response against OpenAI's schemas."""

from __future__ import annotations

import os
from typing import Any

from urllib3 import encode_multipart_formdata

from infra.local import dynamodb as local_dynamodb
from tests.contract.schemas import assert_error, assert_valid
from tests.handlers.conftest import Api, Reply


def upload(api: Api, data: bytes = b"hello, files", purpose: str | None = "assistants", **kw: Any) -> Reply:
    """``files.create`` as the SDK sends it: a multipart form of ``file`` and ``purpose``."""
    fields: dict[str, Any] = {"file": kw.pop("file", ("notes.txt", data))}
    if purpose is not None:
        fields["purpose"] = purpose
    fields.update(kw.pop("fields", {}))
    body, content_type = encode_multipart_formdata(fields)
    return api("POST", "/files", raw=body, headers={"content-type": content_type, **kw.pop("headers", {})}, **kw)


def objects() -> list[str]:
    listed = local_dynamodb.client(None, "s3").list_objects_v2(Bucket=os.environ["BUCKET_NAME"])
    return [entry["Key"] for entry in listed.get("Contents", [])]


def test_a_file_round_trip(api: Api) -> None:
    """Upload, retrieve, list, read the bytes back, delete: then 404 everywhere, and no object left."""
    data = bytes(range(256)) * 3  # not UTF-8: the form arrives base64-encoded, the bytes leave so
    created = upload(api, data, "user_data")
    assert created.status == 200, created.body
    assert_valid(created.body, "OpenAIFile")
    file_id = created.body["id"]
    assert file_id.startswith("file-")
    assert created.body | {"id": "", "created_at": 0} == {
        "id": "",
        "object": "file",
        "bytes": len(data),
        "created_at": 0,
        "filename": "notes.txt",
        "purpose": "user_data",
        "status": "processed",
    }
    assert api("GET", f"/files/{file_id}").body == created.body
    listed = api("GET", "/files")
    assert_valid(listed.body, "ListFilesResponse")
    assert [f["id"] for f in listed.body["data"]] == [file_id]
    content = api("GET", f"/files/{file_id}/content")
    assert (content.status, content.body) == (200, data)
    assert content.headers["content-type"] == "application/octet-stream"
    deleted = api("DELETE", f"/files/{file_id}")
    assert_valid(deleted.body, "DeleteFileResponse")
    assert deleted.body == {"id": file_id, "object": "file", "deleted": True}
    for method, path in (
        ("GET", f"/files/{file_id}"),
        ("GET", f"/files/{file_id}/content"),
        ("DELETE", f"/files/{file_id}"),
    ):
        gone = api(method, path)
        assert gone.status == 404
        assert_error(gone.body, 404, contains=f"No file found with id '{file_id}'.")
    assert objects() == []


def test_list_filters_by_purpose_and_pages(api: Api) -> None:
    ids = {purpose: [upload(api, purpose=purpose).body["id"] for _ in range(3)] for purpose in ("assistants", "batch")}
    newest_first = ids["assistants"][::-1]
    first = api("GET", "/files?purpose=assistants&limit=2")
    assert_valid(first.body, "ListFilesResponse")
    assert [f["id"] for f in first.body["data"]] == newest_first[:2]
    assert first.body["has_more"] is True
    rest = api("GET", f"/files?purpose=assistants&limit=2&after={first.body['last_id']}")
    assert ([f["id"] for f in rest.body["data"]], rest.body["has_more"]) == (newest_first[2:], False)
    ascending = api("GET", "/files?order=asc&limit=10")
    assert [f["id"] for f in ascending.body["data"]] == ids["assistants"] + ids["batch"]
    assert api("GET", "/files?purpose=vision").body["data"] == []


def test_another_projects_key_finds_nothing(api: Api) -> None:
    """A file is its project's: another key gets 404s, deletes nothing, and lists nothing."""
    file_id = upload(api).body["id"]
    for method, path in (
        ("GET", f"/files/{file_id}"),
        ("GET", f"/files/{file_id}/content"),
        ("DELETE", f"/files/{file_id}"),
    ):
        assert api(method, path, key=api.other_key).status == 404
    assert api("GET", "/files", key=api.other_key).body["data"] == []
    assert api("GET", f"/files/{file_id}/content").body == b"hello, files"


def test_bad_uploads_are_400s_naming_the_field(api: Api) -> None:
    cases = [
        (upload(api, purpose=None), "purpose"),
        (upload(api, purpose="wallpaper"), "purpose"),
        (upload(api, purpose="evals"), "purpose"),
        (upload(api, b""), "file"),
        (upload(api, file="just text"), "file"),
        (upload(api, fields={"expires_after[anchor]": "created_at"}), "expires_after"),
        (upload(api, fields={"colour": "blue"}), "colour"),
        (
            api(
                "POST", "/files", raw=b"purpose=assistants", headers={"content-type": "multipart/form-data; boundary=x"}
            ),
            None,
        ),
        (api("POST", "/files", {"purpose": "assistants"}), None),
    ]
    body, content_type = encode_multipart_formdata({"purpose": "assistants"})
    cases.append((api("POST", "/files", raw=body, headers={"content-type": content_type}), "file"))
    for reply, param in cases:
        assert reply.status == 400, reply.body
        assert_error(reply.body, 400, param=param)
    assert objects() == []
    assert api("GET", "/files").body["data"] == []


def test_a_file_over_the_bound_is_a_413_naming_it(api: Api) -> None:
    from threads_api.domain import limits

    at_bound = upload(api, b"x" * limits.FILE_MAX_BYTES)
    assert (at_bound.status, at_bound.body["bytes"]) == (200, limits.FILE_MAX_BYTES)
    for size in (limits.FILE_MAX_BYTES + 1, limits.FILE_MAX_BYTES + limits.FORM_OVERHEAD_MAX_BYTES + 1):
        reply = upload(api, b"x" * size)
        assert reply.status == 413
        assert_error(reply.body, 413, param="file")
        assert reply.body["error"]["code"] == "file_too_large"
    assert objects() == [f"alpha/{at_bound.body['id']}"]
