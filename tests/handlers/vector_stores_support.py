"""Vector stores in the handler tests: the ingestion worker's invocations queued for the test to run
(``Ingestion.work``), each under the worker's IAM role, files
uploaded through the Files API, and what the index and the bucket hold."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local import dynamodb as local_dynamodb
from tests.contract.schemas import assert_valid
from tests.handlers.conftest import Api
from tests.handlers.test_files import objects, upload

WORKER = "IngestWorkerFunction"


class Ingestion:
    """The worker's side: the events the functions handed to Lambda, and running them."""

    def __init__(self) -> None:
        self.queued: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []  # every event ever handed over, in order
        self.refuse = False  # Lambda unreachable: every hand-over raises

    def invoke(self, **params: Any) -> dict[str, Any]:
        assert params["InvocationType"] == "Event"
        if self.refuse:
            raise ConnectionError("Lambda unreachable")
        event = json.loads(params["Payload"])
        self.queued.append(event)
        self.sent.append(event)
        return {"StatusCode": 202}

    def work(self) -> int:
        """Run every queued event, in order; the count run."""
        done = 0
        while self.queued:
            self.run(self.queued.pop(0))
            done += 1
        return done

    @staticmethod
    def run(event: dict[str, Any], request_id: str | None = None) -> None:
        """One invocation of the worker, as Lambda makes it (a retry keeps its ``request_id``)."""
        from handlers import ingest_worker
        from infra.local.invoke import LocalContext
        from tests import least_privilege

        context = LocalContext(WORKER, request_id or str(uuid.uuid4()), timeout_seconds=900)
        with least_privilege.running(WORKER):
            ingest_worker.handler(event, context)


@pytest.fixture
def ingestion(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ingestion]:
    from threads_api.vector_stores import starter

    worker = Ingestion()
    monkeypatch.setattr(starter, "_client", lambda: worker)
    yield worker


def new_file(api: Api, name: str = "notes.txt", text: str | bytes = "hello vector stores", **kw: Any) -> str:
    """A file of the project (or of ``key``'s), uploaded as the SDK does; its id."""
    data = text.encode() if isinstance(text, str) else text
    reply = upload(api, data, file=(name, data), **kw)
    assert reply.status == 200, reply.body
    return str(reply.body["id"])


def new_store(api: Api, body: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    reply = api("POST", "/vector_stores", body or {}, **kw)
    assert reply.status == 200, reply.body
    assert_valid(reply.body, "VectorStoreObject")
    return dict(reply.body)


def add_file(api: Api, store_id: str, file_id: str, **body: Any) -> dict[str, Any]:
    reply = api("POST", f"/vector_stores/{store_id}/files", {"file_id": file_id, **body})
    assert reply.status == 200, reply.body
    assert_valid(reply.body, "VectorStoreFileObject")
    return dict(reply.body)


def store_file(api: Api, store_id: str, file_id: str) -> dict[str, Any]:
    reply = api("GET", f"/vector_stores/{store_id}/files/{file_id}")
    assert reply.status == 200, reply.body
    assert_valid(reply.body, "VectorStoreFileObject")
    return dict(reply.body)


def retrieve(api: Api, store_id: str) -> dict[str, Any]:
    reply = api("GET", f"/vector_stores/{store_id}")
    assert reply.status == 200, reply.body
    assert_valid(reply.body, "VectorStoreObject")
    return dict(reply.body)


def ingested(api: Api, ingestion: Ingestion, store_id: str, files: dict[str, str]) -> dict[str, str]:
    """Upload ``files`` (name -> text), add each to the store, run the worker: name -> file id."""
    ids = {name: new_file(api, name, text) for name, text in files.items()}
    for file_id in ids.values():
        add_file(api, store_id, file_id)
    ingestion.work()
    return ids


def search(api: Api, store_id: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    reply = api("POST", f"/vector_stores/{store_id}/search", body)
    assert reply.status == status, reply.body
    if status == 200:
        assert_valid(reply.body, "VectorStoreSearchResultsPage")
    return dict(reply.body)


def vector_keys(store_id: str) -> list[str]:
    """The keys of the vectors in the store's index (none when it has no index), read as the test's own."""
    from threads_api.index import s3vectors

    client = local_dynamodb.client(None, "s3vectors")
    try:
        pages = client.get_paginator("list_vectors").paginate(
            vectorBucketName=os.environ["VECTOR_BUCKET_NAME"], indexName=s3vectors.index_name(store_id)
        )
        return sorted(v["key"] for page in pages for v in page["vectors"])
    except client.exceptions.NotFoundException:
        return []


def has_index(store_id: str) -> bool:
    from threads_api.index import s3vectors

    client = local_dynamodb.client(None, "s3vectors")
    listed = client.list_indexes(vectorBucketName=os.environ["VECTOR_BUCKET_NAME"])
    return s3vectors.index_name(store_id) in {i["indexName"] for i in listed["indexes"]}


def parsed_texts(store_id: str) -> list[str]:
    """The objects of the store's parsed texts left in the bucket."""
    return [key for key in objects() if f"/vector_stores/{store_id}/" in key]


def store_items(api: Api, store_id: str) -> list[dict[str, Any]]:
    """Every item of the store's files' partition (its files and batches), of project alpha."""
    return api.items(f"vsfiles#alpha#{store_id}")


def forget_idempotency_records() -> None:
    """Every Idempotency-Key's record deleted: what a keyed request whose record was never saved leaves."""
    client, table = local_dynamodb.client(None), os.environ["TABLE_NAME"]
    for item in client.scan(TableName=table)["Items"]:
        if item["pk"]["S"].startswith("idempotency#"):
            client.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
