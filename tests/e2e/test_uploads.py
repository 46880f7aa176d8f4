"""The official openai SDK's ``client.uploads.*`` against the local API (in process and deployed): a 9 MiB file by
``upload_file_chunked`` in 4 MiB parts (the file's bytes read back), create, parts, complete and cancel by hand,
the bounds and refusals, and another project's key."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.e2e.conftest import Server, assert_not_found

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


def test_upload_file_chunked_makes_a_file_of_its_parts(sdk: Any, tmp_path: Path) -> None:
    """9 MiB in parts of 4 MiB (4, 4, 1): each part one request through the gateway, base64-encoded; the file
    assembled in S3 parts of 8 MiB and 1 MiB, its MD5 checked, its bytes read back whole."""
    client = sdk()
    data = os.urandom(9 * MiB)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    upload = client.uploads.upload_file_chunked(
        file=path,
        mime_type="application/octet-stream",
        purpose="assistants",
        part_size=4 * MiB,
        md5=hashlib.md5(data).hexdigest(),
    )
    assert (upload.status, upload.bytes, upload.filename, upload.purpose) == (
        "completed",
        len(data),
        "big.bin",
        "assistants",
    )
    assert upload.expires_at == upload.created_at + 3600
    file = upload.file
    assert file is not None
    assert (file.bytes, file.filename, file.purpose, file.status) == (len(data), "big.bin", "assistants", "processed")
    assert client.files.retrieve(file.id) == file
    assert file.id in [f.id for f in client.files.list(purpose="assistants")]
    assert client.files.content(file.id).content == data
    client.files.delete(file.id)
    assert_not_found(lambda: client.files.retrieve(file.id), "file", file.id)


def test_create_parts_complete_and_cancel_by_hand(sdk: Any) -> None:
    client = sdk()
    upload = client.uploads.create(bytes=12, filename="greeting.txt", mime_type="text/plain", purpose="user_data")
    assert (upload.status, upload.object) == ("pending", "upload")
    world = client.uploads.parts.create(upload.id, data=b"world")
    hello = client.uploads.parts.create(upload.id, data=b"hello, ")
    assert (hello.object, hello.upload_id) == ("upload.part", upload.id)
    with pytest.raises(openai.BadRequestError) as mismatch:
        client.uploads.complete(upload.id, part_ids=[world.id, hello.id], md5=hashlib.md5(b"hello, world").hexdigest())
    assert mismatch.value.param == "md5"
    done = client.uploads.complete(upload.id, part_ids=[hello.id, world.id])
    assert done.status == "completed"
    assert done.file is not None
    assert client.files.content(done.file.id).content == b"hello, world"
    with pytest.raises(openai.BadRequestError, match="with status 'completed'"):
        client.uploads.complete(upload.id, part_ids=[hello.id, world.id])

    abandoned = client.uploads.create(bytes=3, filename="x.txt", mime_type="text/plain", purpose="assistants")
    client.uploads.parts.create(abandoned.id, data=b"abc")
    cancelled = client.uploads.cancel(abandoned.id)
    assert (cancelled.status, cancelled.file) == ("cancelled", None)
    with pytest.raises(openai.BadRequestError, match="with status 'cancelled'"):
        client.uploads.parts.create(abandoned.id, data=b"d")


def test_the_bounds_and_the_refusals(sdk: Any) -> None:
    client = sdk()
    with pytest.raises(openai.BadRequestError) as too_large:
        client.uploads.create(bytes=256 * MiB + 1, filename="f", mime_type="text/plain", purpose="assistants")
    assert (too_large.value.param, too_large.value.code) == ("bytes", "file_too_large")
    with pytest.raises(openai.BadRequestError) as purpose:
        client.uploads.create(bytes=1, filename="f", mime_type="text/plain", purpose="evals")
    assert purpose.value.param == "purpose"
    upload = client.uploads.create(bytes=4 * MiB + 1, filename="f", mime_type="text/plain", purpose="assistants")
    with pytest.raises(openai.APIStatusError) as part_too_large:
        client.uploads.parts.create(upload.id, data=b"x" * (4 * MiB + 1))
    assert part_too_large.value.status_code == 413
    assert part_too_large.value.body["param"] == "data"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as unknown:
        client.uploads.complete(upload.id, part_ids=["part_unknown"])
    assert unknown.value.param == "part_ids[0]"
    assert_not_found(lambda: client.uploads.cancel("upload_missing"), "upload", "upload_missing")


def test_uploads_are_their_projects(sdk: Any, server: Server) -> None:
    owner, stranger = sdk(server.mint("uploads-owner")), sdk(server.mint("uploads-stranger"))
    upload = owner.uploads.create(bytes=4, filename="m.txt", mime_type="text/plain", purpose="assistants")
    part = owner.uploads.parts.create(upload.id, data=b"mine")
    assert_not_found(lambda: stranger.uploads.parts.create(upload.id, data=b"x"), "upload", upload.id)
    assert_not_found(lambda: stranger.uploads.complete(upload.id, part_ids=[part.id]), "upload", upload.id)
    assert_not_found(lambda: stranger.uploads.cancel(upload.id), "upload", upload.id)
    done = owner.uploads.complete(upload.id, part_ids=[part.id])
    assert done.file is not None
    assert owner.files.content(done.file.id).content == b"mine"
