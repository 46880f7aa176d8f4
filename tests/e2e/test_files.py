"""The official openai SDK's ``client.files.*`` against the local API (in process and deployed): upload bytes,
list with the purpose filter and pages, retrieve, read the bytes back, delete; another project's key."""

from __future__ import annotations

import io
from typing import Any

import openai
import pytest

from tests.e2e.conftest import Server, assert_not_found

pytestmark = pytest.mark.e2e

DATA = bytes(range(256)) * 64 + "naïve ☃\n".encode()  # 16 KB of every byte value, then UTF-8 text


def test_files_create_retrieve_content_delete(sdk: Any) -> None:
    client = sdk()
    file = client.files.create(file=("data.bin", io.BytesIO(DATA)), purpose="assistants")
    assert file.id.startswith("file-")
    assert (file.object, file.bytes, file.filename, file.purpose, file.status) == (
        "file",
        len(DATA),
        "data.bin",
        "assistants",
        "processed",
    )
    assert client.files.retrieve(file.id) == file
    assert client.files.content(file.id).content == DATA
    deleted = client.files.delete(file.id)
    assert (deleted.id, deleted.deleted) == (file.id, True)
    assert_not_found(lambda: client.files.retrieve(file.id), "file", file.id)
    assert_not_found(lambda: client.files.content(file.id), "file", file.id)
    assert_not_found(lambda: client.files.delete(file.id), "file", file.id)


def test_files_list_filters_by_purpose_and_pages(sdk: Any, server: Server) -> None:
    client = sdk(server.mint("files-list"))
    made = [client.files.create(file=(f"{n}.txt", f"file {n}".encode()), purpose="user_data").id for n in range(3)]
    other = client.files.create(file=("batch.jsonl", b"{}\n"), purpose="batch").id
    first = client.files.list(purpose="user_data", limit=2)
    assert [f.id for f in first.data] == made[::-1][:2]
    assert first.has_more is True
    assert [f.id for f in client.files.list(purpose="user_data", limit=2)] == made[::-1]  # auto-pagination
    assert [f.id for f in client.files.list(order="asc")] == [*made, other]
    with pytest.raises(openai.BadRequestError) as refused:
        client.files.list(purpose="wallpaper")
    assert refused.value.param == "purpose"


def test_files_are_their_projects(sdk: Any, server: Server) -> None:
    owner, stranger = sdk(server.mint("files-owner")), sdk(server.mint("files-stranger"))
    file = owner.files.create(file=("mine.txt", b"mine"), purpose="user_data")
    assert_not_found(lambda: stranger.files.retrieve(file.id), "file", file.id)
    assert_not_found(lambda: stranger.files.content(file.id), "file", file.id)
    assert_not_found(lambda: stranger.files.delete(file.id), "file", file.id)
    assert list(stranger.files.list()) == []
    assert owner.files.content(file.id).content == b"mine"


def test_files_create_refuses_an_empty_file_and_an_unknown_purpose(sdk: Any) -> None:
    client = sdk()
    for file, purpose, param in ((("e.txt", b""), "assistants", "file"), (("a.txt", b"a"), "evals", "purpose")):
        with pytest.raises(openai.BadRequestError) as refused:
            client.files.create(file=file, purpose=purpose)
        assert refused.value.param == param
