"""The request bodies of vector stores, their files and file batches (``wire.vector_store_bodies``): what each
takes, what it is read into, and each 400 in OpenAI's words, naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.contract.schemas import assert_error, assert_valid
from threads_api.domain.errors import Invalid
from threads_api.domain.vector_stores import Chunking, ExpiresAfter
from threads_api.http.errors import ApiError, from_exception
from threads_api.wire import vector_store_bodies as bodies
from threads_api.wire.vector_store_bodies import UNSET, NewStoreFile, NewVectorStore, VectorStoreUpdate


def refused(
    read: Callable[[dict[str, Any]], Any], body: dict[str, Any], param: str | None, contains: str = ""
) -> ApiError:
    """The 400 ``read`` answers ``body``: an OpenAI error envelope naming ``param``."""
    with pytest.raises(Invalid) as caught:
        read(body)
    error = from_exception(caught.value)
    assert_error(error.envelope(), 400, param=param, contains=contains)
    return error


def static(size: Any, overlap: Any) -> dict[str, Any]:
    return {"type": "static", "static": {"max_chunk_size_tokens": size, "chunk_overlap_tokens": overlap}}


AT_LIMIT = {f"{i:064d}": "v" * 512 for i in range(14)} | {"n": 1.5, "b": True}


def test_a_store_with_nothing_given_is_named_empty_and_chunks_auto() -> None:
    assert bodies.new_vector_store({}) == NewVectorStore("", None, {}, None, [], Chunking(800, 400))
    nulls = dict.fromkeys(("file_ids", "name", "description", "expires_after", "chunking_strategy", "metadata"))
    assert bodies.new_vector_store(nulls) == bodies.new_vector_store({})  # null: not given


def test_a_store_with_everything() -> None:
    body = {
        "name": "docs",
        "description": "the manuals",
        "metadata": {"team": "a"},
        "expires_after": {"anchor": "last_active_at", "days": 365},
        "file_ids": ["file-b", "file-a", "file-b"],
        "chunking_strategy": static(4096, 2048),
    }
    assert_valid(body, "CreateVectorStoreRequest")
    assert bodies.new_vector_store(body) == NewVectorStore(
        "docs", "the manuals", {"team": "a"}, ExpiresAfter(365), ["file-b", "file-a"], Chunking(4096, 2048)
    )
    assert bodies.new_vector_store({"chunking_strategy": {"type": "auto"}}).chunking == Chunking()
    assert bodies.new_vector_store({"chunking_strategy": static(100, 0)}).chunking == Chunking(100, 0)
    assert len(bodies.new_vector_store({"file_ids": [f"file-{i}" for i in range(500)]}).file_ids) == 500


@pytest.mark.parametrize(
    ("body", "param", "code", "contains"),
    [
        ({"chunking_strategy": static(800, 401)}, "chunking_strategy.static.chunk_overlap_tokens", None, "<= 400"),
        ({"chunking_strategy": static(801, 401)}, "chunking_strategy.static.chunk_overlap_tokens", None, "<= 400"),
        ({"chunking_strategy": static(99, 0)}, "chunking_strategy.static.max_chunk_size_tokens", None, ">= 100"),
        ({"chunking_strategy": static(4097, 0)}, "chunking_strategy.static.max_chunk_size_tokens", None, "<= 4096"),
        ({"chunking_strategy": static(800, -1)}, "chunking_strategy.static.chunk_overlap_tokens", None, ">= 0"),
        ({"chunking_strategy": static(800.0, 0)}, "chunking_strategy.static.max_chunk_size_tokens", "invalid_type", ""),
        ({"chunking_strategy": static(True, 0)}, "chunking_strategy.static.max_chunk_size_tokens", "invalid_type", ""),
        ({"chunking_strategy": static(800, None)}, "chunking_strategy.static.chunk_overlap_tokens", "invalid_type", ""),
        ({"chunking_strategy": {"type": "static"}}, "chunking_strategy.static", "missing_required_parameter", ""),
        ({"chunking_strategy": {"type": "other"}}, "chunking_strategy.type", "invalid_value", "'auto' or 'static'"),
        ({"chunking_strategy": {"type": ["auto"]}}, "chunking_strategy.type", "invalid_value", ""),
        ({"chunking_strategy": {}}, "chunking_strategy.type", "missing_required_parameter", ""),
        ({"chunking_strategy": "auto"}, "chunking_strategy", "invalid_type", "expected an object"),
        ({"chunking_strategy": {"type": "auto", "static": {}}}, "chunking_strategy.static", None, "Unrecognized"),
        ({"expires_after": {"anchor": "last_active_at", "days": 0}}, "expires_after.days", None, ">= 1"),
        ({"expires_after": {"anchor": "last_active_at", "days": 366}}, "expires_after.days", None, "<= 365"),
        ({"expires_after": {"anchor": "created_at", "days": 1}}, "expires_after.anchor", "invalid_value", ""),
        ({"expires_after": {"days": 1}}, "expires_after.anchor", "missing_required_parameter", ""),
        ({"file_ids": ["file 1"]}, "file_ids[0]", "invalid_value", "expected an id"),
        ({"file_ids": [f"f{i}" for i in range(501)]}, "file_ids", "array_above_max_length", "maximum length 500"),
        ({"file_ids": "file-1"}, "file_ids", "invalid_type", "expected an array"),
        ({"name": "n" * 257}, "name", "string_above_max_length", "maximum length 256"),
        ({"description": "d" * 513}, "description", "string_above_max_length", "maximum length 512"),
        ({"metadata": {str(i): "v" for i in range(17)}}, "metadata", None, "at most 16 properties"),
        ({"name": 3}, "name", "invalid_type", "expected a string"),
        ({"attributes": {}}, "attributes", None, "Unrecognized request argument supplied: attributes"),
    ],
)
def test_store_refusals_name_the_field(body: dict[str, Any], param: str, code: str | None, contains: str) -> None:
    error = refused(bodies.new_vector_store, body, param, contains)
    if code is not None:
        assert error.code == code


def test_bounds_are_refused_in_openais_words() -> None:
    error = refused(bodies.new_vector_store, {"chunking_strategy": static(800, 401)}, None)
    assert error.message == (
        "Invalid 'chunking_strategy.static.chunk_overlap_tokens': overlap above half of max_chunk_size_tokens. "
        "Expected a value <= 400, but got 401 instead."
    )
    assert error.code == "integer_above_max_value"
    error = refused(bodies.new_vector_store, {"expires_after": {"anchor": "last_active_at", "days": 0}}, None)
    assert (
        error.message
        == "Invalid 'expires_after.days': integer below minimum value. Expected a value >= 1, but got 0 instead."
    )
    assert error.code == "integer_below_min_value"


def test_an_update_keeps_what_is_omitted_and_clears_what_is_null() -> None:
    assert bodies.vector_store_update({}) == VectorStoreUpdate(None, None, UNSET)
    assert bodies.vector_store_update({"name": None, "metadata": None, "expires_after": None}) == VectorStoreUpdate(
        "", {}, None
    )
    body = {"name": "new", "metadata": {"a": "b"}, "expires_after": {"anchor": "last_active_at", "days": 7}}
    assert_valid(body, "UpdateVectorStoreRequest")
    assert bodies.vector_store_update(body) == VectorStoreUpdate("new", {"a": "b"}, ExpiresAfter(7))
    assert bodies.vector_store_update({"name": "x"}) == VectorStoreUpdate("x", None, UNSET)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"description": "x"}, "description"),  # not in UpdateVectorStoreRequest
        ({"chunking_strategy": {"type": "auto"}}, "chunking_strategy"),
        ({"expires_after": {"anchor": "last_active_at", "days": 400}}, "expires_after.days"),
        ({"metadata": {"k" * 65: "v"}}, "metadata"),
    ],
)
def test_update_refusals_name_the_field(body: dict[str, Any], param: str) -> None:
    refused(bodies.vector_store_update, body, param)


def test_a_file_with_attributes_and_chunking() -> None:
    body = {"file_id": "file-1", "attributes": AT_LIMIT, "chunking_strategy": static(200, 100)}
    assert_valid(body, "CreateVectorStoreFileRequest")
    assert bodies.new_store_file(body) == NewStoreFile("file-1", AT_LIMIT, Chunking(200, 100))
    assert bodies.new_store_file({"file_id": "file-1", "attributes": None}) == NewStoreFile("file-1", {}, Chunking())
    kinds = bodies.new_store_file({"file_id": "f", "attributes": {"i": 3, "f": 2.5, "b": False, "s": ""}}).attributes
    assert kinds == {"i": 3, "f": 2.5, "b": False, "s": ""}
    assert [type(v) for v in kinds.values()] == [int, float, bool, str]


@pytest.mark.parametrize(
    ("attributes", "contains"),
    [
        (AT_LIMIT | {"one": "more"}, "at most 16 properties, but got an object with 17"),
        ({"k" * 65: "v"}, "keys of at most 64 characters"),
        ({"k": "v" * 513}, "value of 'k' too long. Expected a string with maximum length 512"),
        ({"k": None}, "value of 'k' must be a string, a number or a boolean, but got null"),
        ({"k": [1]}, "but got an array"),
        ({"k": {"nested": 1}}, "but got an object"),
        ({"k": float("nan")}, "not finite"),
        ({"k": float("inf")}, "not finite"),
        ("tags", "expected an object, but got a string"),
        ([], "expected an object, but got an array"),
    ],
)
def test_attributes_refusals_name_attributes(attributes: Any, contains: str) -> None:
    refused(bodies.new_store_file, {"file_id": "f", "attributes": attributes}, "attributes", contains)
    refused(bodies.attributes_update, {"attributes": attributes}, "attributes", contains)
    refused(bodies.new_batch, {"files": [{"file_id": "f", "attributes": attributes}]}, "files[0].attributes")


def test_file_refusals_name_the_field() -> None:
    refused(bodies.new_store_file, {}, "file_id", "Missing required parameter: 'file_id'.")
    refused(bodies.new_store_file, {"file_id": ""}, "file_id", "empty string")
    refused(bodies.new_store_file, {"file_id": "f" * 65}, "file_id", "maximum length 64")
    refused(bodies.new_store_file, {"file_id": 1}, "file_id", "expected a string")
    refused(
        bodies.new_store_file,
        {"file_id": "f", "chunking_strategy": static(50, 0)},
        "chunking_strategy.static.max_chunk_size_tokens",
    )
    refused(bodies.new_store_file, {"file_id": "f", "purpose": "x"}, "purpose", "Unrecognized")


def test_attributes_update_is_required_and_null_clears() -> None:
    assert bodies.attributes_update({"attributes": {"a": 1}}) == {"a": 1}
    assert bodies.attributes_update({"attributes": None}) == {}
    assert_valid({"attributes": {"a": 1}}, "UpdateVectorStoreFileAttributesRequest")
    refused(bodies.attributes_update, {}, "attributes", "Missing required parameter: 'attributes'.")


def test_a_batch_of_file_ids_takes_the_common_settings_once_each() -> None:
    body = {"file_ids": ["a", "b", "a"], "attributes": {"k": "v"}, "chunking_strategy": static(300, 150)}
    assert_valid(body, "CreateVectorStoreFileBatchRequest")
    assert bodies.new_batch(body) == [
        NewStoreFile("a", {"k": "v"}, Chunking(300, 150)),
        NewStoreFile("b", {"k": "v"}, Chunking(300, 150)),
    ]
    assert len(bodies.new_batch({"file_ids": [f"f{i}" for i in range(2000)]})) == 2000


def test_a_batch_of_files_takes_each_ones_settings_and_ignores_the_common_ones() -> None:
    body = {
        "files": [{"file_id": "a", "attributes": {"n": 1}}, {"file_id": "b", "chunking_strategy": static(100, 50)}],
        "attributes": {"ignored": True},
        "chunking_strategy": static(4096, 0),
    }
    assert_valid(body, "CreateVectorStoreFileBatchRequest")
    assert bodies.new_batch(body) == [
        NewStoreFile("a", {"n": 1}, Chunking()),
        NewStoreFile("b", {}, Chunking(100, 50)),
    ]


@pytest.mark.parametrize(
    ("body", "param", "contains"),
    [
        ({}, "file_ids", "Missing required parameter: 'file_ids' (or 'files')."),
        ({"file_ids": None, "files": None}, "file_ids", "Missing required parameter"),
        ({"attributes": {"k": "v"}}, "file_ids", "Missing required parameter"),
        ({"file_ids": ["a"], "files": [{"file_id": "b"}]}, "files", "mutually exclusive"),
        ({"file_ids": []}, "file_ids", "empty array"),
        ({"files": []}, "files", "empty array"),
        ({"file_ids": [f"f{i}" for i in range(2001)]}, "file_ids", "maximum length 2000"),
        ({"files": [{"file_id": f"f{i}"} for i in range(2001)]}, "files", "maximum length 2000"),
        ({"files": [{"file_id": "a"}, {"file_id": "a"}]}, "files[1].file_id", "given twice (also in 'files[0]')"),
        ({"files": [{"attributes": {}}]}, "files[0].file_id", "Missing required parameter: 'files[0].file_id'."),
        ({"files": ["a"]}, "files[0]", "expected an object"),
        ({"files": [{"file_id": "a", "x": 1}]}, "files[0].x", "Unrecognized"),
        ({"file_ids": ["a", "b c"]}, "file_ids[1]", "expected an id"),
        (
            {"files": [{"file_id": "a", "chunking_strategy": static(800, 500)}]},
            "files[0].chunking_strategy.static.chunk_overlap_tokens",
            "Expected a value <= 400, but got 500",
        ),
    ],
)
def test_batch_refusals_name_the_field(body: dict[str, Any], param: str, contains: str) -> None:
    refused(bodies.new_batch, body, param, contains)
