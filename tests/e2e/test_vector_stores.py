"""The official openai SDK's ``client.vector_stores.*`` against the local API (in process and deployed): a store,
files uploaded and ingested (one, then a batch with ``upload_and_poll``), their parsed content, search with
filters and a score threshold, attributes updated, a file removed, the store deleted, after which nothing of
it is left in the table, the bucket or S3 Vectors; another project's key; bad files end ``failed``."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import openai
import pytest

from tests.e2e.conftest import Server, assert_not_found

pytestmark = pytest.mark.e2e

MANUAL = {
    "warranty.md": "# Warranty\n\nThe warranty covers the compressor and the fan for five years from purchase.\n",
    "cleaning.txt": "Clean the filter every month with warm water. Never use bleach on the filter.\n",
    "install.html": "<html><body><h1>Installation</h1><p>Mount the unit on a north facing wall.</p>"
    "<script>var hidden = 'compressor';</script></body></html>",
}


def _upload(client: Any, name: str, text: str) -> Any:
    return client.files.create(file=(name, io.BytesIO(text.encode())), purpose="assistants")


def _state(server: Server) -> dict[str, Any]:
    return dict(json.loads(server.state.read_text()))


def _wait(read: Any, done: Any, seconds: float = 60) -> Any:
    end = time.monotonic() + seconds
    while True:
        value = read()
        if done(value) or time.monotonic() > end:
            return value
        time.sleep(0.2)


def test_batch_upload_search_filters_and_delete(sdk: Any, server: Server) -> None:
    client = sdk(server.mint("vs-batch"))
    store = client.vector_stores.create(name="manuals", metadata={"team": "support"})
    assert (store.object, store.name, store.status, store.file_counts.total) == (
        "vector_store",
        "manuals",
        "completed",
        0,
    )
    files = [(name, io.BytesIO(text.encode())) for name, text in MANUAL.items()]
    batch = client.vector_stores.file_batches.upload_and_poll(
        vector_store_id=store.id, files=files, poll_interval_ms=200
    )
    assert batch.status == "completed", batch
    assert (batch.file_counts.completed, batch.file_counts.total) == (3, 3)
    listed = {f.id: f for f in client.vector_stores.files.list(vector_store_id=store.id)}
    assert {f.status for f in listed.values()} == {"completed"}
    assert all(f.usage_bytes > 0 for f in listed.values())
    _search_filter_and_remove(client, store.id, list(listed.values()))
    deleted = client.vector_stores.delete(store.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (store.id, True, "vector_store.deleted")
    assert_not_found(lambda: client.vector_stores.retrieve(store.id), "vector store", store.id)
    _assert_nothing_left(server, store.id)


def _search_filter_and_remove(client: Any, store_id: str, listed: list[Any]) -> None:
    """Search (ranking, filters on attributes, a score threshold), then a file removed is found no more."""
    store = client.vector_stores.retrieve(store_id)
    assert (store.status, store.file_counts.completed, store.file_counts.total) == ("completed", 3, 3)
    assert store.usage_bytes == sum(f.usage_bytes for f in listed)
    found = client.vector_stores.search(vector_store_id=store.id, query="What does the warranty cover?")
    assert found.data[0].filename == "warranty.md"
    assert "compressor" in found.data[0].content[0].text
    assert 0 < found.data[0].score <= 1
    assert found.search_query == ["What does the warranty cover?"]

    by_name = {f.filename: f.file_id for f in found.data}
    assert set(by_name) == set(MANUAL)  # the lexical default scores 0 what shares no word: still listed
    warranty = by_name["warranty.md"]
    client.vector_stores.files.update(
        vector_store_id=store.id, file_id=warranty, attributes={"topic": "legal", "year": 2024}
    )
    filtered = client.vector_stores.search(
        vector_store_id=store.id,
        query="compressor filter wall",
        filters={
            "type": "and",
            "filters": [
                {"type": "eq", "key": "topic", "value": "legal"},
                {"type": "gte", "key": "year", "value": 2020},
            ],
        },
    )
    assert [hit.file_id for hit in filtered.data] == [warranty]
    assert filtered.data[0].attributes == {"topic": "legal", "year": 2024}
    strict = client.vector_stores.search(
        vector_store_id=store.id, query="compressor", ranking_options={"score_threshold": 0.99}
    )
    assert strict.data == []

    # The HTML's script is not text: its word is nowhere in the parsed content.
    html_id = by_name["install.html"]
    assert "Mount the unit" in _content(client, store.id, html_id)
    assert "hidden" not in _content(client, store.id, html_id)

    client.vector_stores.files.delete(vector_store_id=store.id, file_id=warranty)
    assert_not_found(
        lambda: client.vector_stores.files.retrieve(vector_store_id=store.id, file_id=warranty), "file", warranty
    )
    again = client.vector_stores.search(vector_store_id=store.id, query="warranty compressor five years")
    assert warranty not in {hit.file_id for hit in again.data}
    assert client.vector_stores.retrieve(store.id).file_counts.total == 2


def _content(client: Any, store_id: str, file_id: str) -> str:
    page = client.vector_stores.files.content(vector_store_id=store_id, file_id=file_id)
    return "".join(part.text or "" for part in page)


def _assert_nothing_left(server: Server, store_id: str) -> None:
    """Behind the API: the cleanup (driven by the stream) leaves no item, parsed text or index of the store."""
    import boto3

    state = _state(server)
    endpoint, table = state["dynamodb_endpoint"], state["table"]
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    vectors = boto3.client("s3vectors", endpoint_url=endpoint, region_name="us-east-1")

    def left() -> list[str]:
        items = dynamodb.scan(
            TableName=table, FilterExpression="contains(pk, :s)", ExpressionAttributeValues={":s": {"S": store_id}}
        )["Items"]
        buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        objects = [
            o["Key"] for b in buckets for o in s3.list_objects_v2(Bucket=b).get("Contents", []) if store_id in o["Key"]
        ]
        indexes = [
            i["indexName"]
            for b in vectors.list_vector_buckets()["vectorBuckets"]
            for i in vectors.list_indexes(vectorBucketName=b["vectorBucketName"])["indexes"]
        ]
        from threads_api.index.s3vectors import index_name

        return [str(i) for i in items] + objects + [i for i in indexes if i == index_name(store_id)]

    assert _wait(left, lambda found: not found, 30) == []


def test_upload_and_poll_one_file_and_its_bad_siblings(sdk: Any, server: Server) -> None:
    client = sdk(server.mint("vs-one"))
    store = client.vector_stores.create(name="one", expires_after={"anchor": "last_active_at", "days": 7})
    assert store.expires_after is not None
    assert store.expires_after.days == 7
    assert store.expires_at == store.last_active_at + 7 * 86400
    done = client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id,
        file=("cleaning.txt", io.BytesIO(MANUAL["cleaning.txt"].encode())),
        poll_interval_ms=200,
    )
    assert (done.status, done.last_error, done.vector_store_id) == ("completed", None, store.id)
    assert done.chunking_strategy is not None
    assert done.chunking_strategy.type == "static"
    bad = {
        "empty.txt": b"   \n",
        "binary.txt": b"\x00\x01\x02 not text \xff\xfe",
        "corrupt.pdf": b"%PDF-1.7 this is no pdf",
        "slides.pptx": b"PK\x03\x04 whatever",
    }
    ids = {
        name: client.files.create(file=(name, io.BytesIO(data)), purpose="assistants").id for name, data in bad.items()
    }
    for file_id in ids.values():
        added = client.vector_stores.files.create(vector_store_id=store.id, file_id=file_id)
        assert added.status == "in_progress"
    ended = {
        name: client.vector_stores.files.poll(vector_store_id=store.id, file_id=file_id, poll_interval_ms=200)
        for name, file_id in ids.items()
    }
    assert {name: f.status for name, f in ended.items()} == dict.fromkeys(bad, "failed")
    assert ended["slides.pptx"].last_error.code == "unsupported_file"
    for name in ("empty.txt", "binary.txt", "corrupt.pdf"):
        assert ended[name].last_error.code == "invalid_file", ended[name]
    failed = list(client.vector_stores.files.list(vector_store_id=store.id, filter="failed"))
    assert {f.id for f in failed} == set(ids.values())
    counts = client.vector_stores.retrieve(store.id).file_counts
    assert (counts.completed, counts.failed, counts.in_progress, counts.total) == (1, 4, 0, 5)


def test_vector_stores_are_their_projects(sdk: Any, server: Server) -> None:
    owner, stranger = sdk(server.mint("vs-owner")), sdk(server.mint("vs-stranger"))
    file = _upload(owner, "mine.txt", "the owner's words")
    store = owner.vector_stores.create(name="mine", file_ids=[file.id])
    assert_not_found(lambda: stranger.vector_stores.retrieve(store.id), "vector store", store.id)
    assert_not_found(
        lambda: stranger.vector_stores.search(vector_store_id=store.id, query="owner"), "vector store", store.id
    )
    assert_not_found(lambda: stranger.vector_stores.delete(store.id), "vector store", store.id)
    assert list(stranger.vector_stores.list()) == []
    theirs = stranger.vector_stores.create(name="theirs")
    assert_not_found(
        lambda: stranger.vector_stores.files.create(vector_store_id=theirs.id, file_id=file.id), "file", file.id
    )
    assert [s.id for s in owner.vector_stores.list()] == [store.id]


def test_vector_stores_list_modify_and_limits(sdk: Any, server: Server) -> None:
    client = sdk(server.mint("vs-list"))
    made = [client.vector_stores.create(name=f"s{n}").id for n in range(3)]
    first = client.vector_stores.list(limit=2)
    assert [s.id for s in first.data] == made[::-1][:2]
    assert [s.id for s in client.vector_stores.list(order="asc")] == made
    changed = client.vector_stores.update(made[0], name="renamed", metadata={"k": "v"}, expires_after=None)
    assert (changed.name, changed.metadata, changed.expires_at) == ("renamed", {"k": "v"}, None)
    for kwargs, param in (
        ({"query": "x", "max_num_results": 51}, "max_num_results"),
        ({"query": "x", "filters": {"type": "eq", "key": "k"}}, "filters"),
    ):
        with pytest.raises(openai.BadRequestError) as refused:
            client.vector_stores.search(vector_store_id=made[0], **kwargs)
        assert refused.value.param is not None
        assert refused.value.param.startswith(param), refused.value
    with pytest.raises(openai.BadRequestError) as refused:
        client.vector_stores.create(
            name="bad",
            chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 50, "chunk_overlap_tokens": 0}},
        )
    assert refused.value.param is not None
    assert "max_chunk_size_tokens" in refused.value.param
