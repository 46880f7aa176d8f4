"""The vector stores' index (``threads_api.index.s3vectors``) on the embedded S3 Vectors (moto, patched by
``infra/local/moto_s3vectors.py``), checked against S3 Vectors' documented behaviour, not against S3 Vectors:

- Amazon S3 User Guide, "Limitations and restrictions" (S3 Vectors): 1 to 4,096 dimensions; at most 500 vectors a
  PutVectors and 500 keys a DeleteVectors; top-K at most 100; per vector at most 40 KB of metadata, 2 KB of it
  filterable, 50 keys. https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-limitations.html
- API Reference, CreateIndex (a name that is taken: ConflictException), PutVectors and PutInputVector (float32
  values; no NaN or infinity; no vector of zeros for cosine), QueryVectors (topK, returnMetadata and
  returnDistance false unless asked, NotFoundException), GetVectors, DeleteVectors.
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_S3VectorBuckets_QueryVectors.html (and the others' pages)
- User Guide, "Querying vectors" and "Metadata filtering": a filter on a non-filterable key is a 400; the
  operators. https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-metadata-filtering.html
  (the operators one by one: tests/unit/test_vector_filters.py)

Not checked: that S3 Vectors' search is approximate (the emulation's is exact), its throttling, its page size.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local import dynamodb as local_dynamodb
from infra.local import moto_patches
from threads_api.domain.errors import NotFound, Unavailable
from threads_api.index import s3vectors
from threads_api.index.s3vectors import Match, Vector

BUCKET = "threads-api-test-vectors"
STORE = "vs_AbCdEfGhIjKlMnOpQrStUvWx"


@pytest.fixture
def index() -> Iterator[str]:
    """A fresh moto with the vector bucket, and the name of a store's index (not made)."""
    moto_patches.apply()
    with mock_aws():
        local_dynamodb.create_vector_bucket(raw(), BUCKET)
        yield s3vectors.index_name(STORE)


def raw(validate: bool = True) -> Any:
    """A client of our own (botocore checks a minimum, not a maximum: ``validate=False`` checks none)."""
    config = Config(parameter_validation=validate)
    return boto3.client("s3vectors", region_name="us-east-1", config=config)


def refused(call: Any, code: str = "ValidationException", **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(vectorBucketName=BUCKET, **params)
    assert caught.value.response["Error"]["Code"] == code, caught.value.response
    return str(caught.value)


def test_an_index_name_is_valid_injective_and_read_back() -> None:
    names = {s3vectors.index_name(i) for i in (STORE, STORE.lower(), STORE.upper(), "vs_a-b", "vs_a_b")}
    assert len(names) == 5
    for name in names:
        assert 3 <= len(name) <= 63, name
        assert name.isalnum(), name
        assert name == name.lower(), name
    assert s3vectors.vector_store_id(s3vectors.index_name(STORE)) == STORE
    with pytest.raises(ValueError, match="3 to 63"):
        s3vectors.index_name("vs_" + "x" * 37)  # 40 bytes: 64 characters


def test_the_bucket_is_named_by_its_name_or_its_arn(monkeypatch: pytest.MonkeyPatch) -> None:
    """CloudFormation's Ref of an AWS::S3Vectors::VectorBucket is its ARN: the template may pass either."""
    for value in (BUCKET, f"arn:aws:s3vectors:us-east-1:123456789012:bucket/{BUCKET}"):
        monkeypatch.setenv("VECTOR_BUCKET_NAME", value)
        assert s3vectors.bucket_name() == BUCKET
    monkeypatch.delenv("VECTOR_BUCKET_NAME")
    with pytest.raises(RuntimeError, match="VECTOR_BUCKET_NAME"):
        s3vectors.bucket_name()


def test_an_index_is_made_once_and_keeps_its_vectors(index: str) -> None:
    s3vectors.create_index(index, 3)
    s3vectors.put_vectors(index, [Vector("a", [1, 0, 0], {"file_id": "f", "text": "A"})])
    s3vectors.create_index(index, 3)  # ConflictException, taken as made: moto alone made it anew, empty
    assert [m.key for m in s3vectors.query(index, [1, 0, 0], 5)] == ["a"]
    refused(raw().create_index, "ConflictException", indexName=index, dataType="float32", dimension=3,
            distanceMetric="cosine")  # fmt: skip
    made = raw().get_index(vectorBucketName=BUCKET, indexName=index)["index"]
    assert (made["dimension"], made["distanceMetric"], made["dataType"]) == (3, "cosine", "float32")
    assert made["metadataConfiguration"] == {"nonFilterableMetadataKeys": ["text"]}
    s3vectors.delete_index(index)
    s3vectors.delete_index(index)  # not there: deleted already
    assert raw().list_indexes(vectorBucketName=BUCKET)["indexes"] == []


def test_dimensions_are_1_to_4096_and_names_follow_the_rules(index: str) -> None:
    s3vectors.create_index(index, 4096)  # moto alone refused 4,096
    create = raw(validate=False).create_index
    refused(create, indexName="big", dataType="float32", dimension=4097, distanceMetric="cosine")
    refused(create, indexName="Upper", dataType="float32", dimension=3, distanceMetric="cosine")
    refused(create, indexName="ab", dataType="float32", dimension=3, distanceMetric="cosine")
    with pytest.raises(ValueError, match="4096"):
        s3vectors.create_index("other", 4097)


def test_a_query_finds_the_nearest_first_with_metadata_and_distance(index: str) -> None:
    s3vectors.create_index(index, 3)
    s3vectors.put_vectors(
        index,
        [
            Vector("far", [0, 0, 1], {"file_id": "f1", "text": "far"}),
            Vector("near", [1, 0.1, 0], {"file_id": "f2", "text": "near"}),
            Vector("nearer", [1, 0, 0], {"file_id": "f1", "text": "nearer"}),
        ],
    )
    found = s3vectors.query(index, [2, 0, 0], 2)
    assert [m.key for m in found] == ["nearer", "near"]
    assert found[0] == Match("nearer", 0.0, {"file_id": "f1", "text": "nearer"})
    assert found[1].distance == pytest.approx(1 - 1 / (1 + 0.1**2) ** 0.5, abs=1e-6)  # 1 - cosine similarity
    assert [m.key for m in s3vectors.query(index, [1, 0, 0], 5, {"file_id": {"$in": ["f1"]}})] == ["nearer", "far"]
    assert [m.key for m in s3vectors.query(index, [1, 0, 0], 5, {"file_id": "f2"})] == ["near"]
    answer = raw().query_vectors(vectorBucketName=BUCKET, indexName=index, topK=1, queryVector={"float32": [1, 0, 0]})
    assert answer["vectors"] == [{"key": "nearer"}]  # no distance or metadata unless asked
    assert answer["distanceMetric"] == "cosine"


def test_a_query_within_the_limits(index: str) -> None:
    s3vectors.create_index(index, 3)
    query = raw(validate=False).query_vectors
    for top_k in (0, 101):
        refused(query, indexName=index, topK=top_k, queryVector={"float32": [1, 0, 0]})
    refused(query, indexName=index, topK=1, queryVector={"float32": [1, 0]})  # another dimension
    assert "non-filterable" in refused(
        query, indexName=index, topK=1, queryVector={"float32": [1, 0, 0]}, filter={"text": "A"}
    )
    refused(query, indexName=index, topK=1, queryVector={"float32": [1, 0, 0]}, filter={"file_id": {"$regex": "f"}})
    with pytest.raises(ValueError, match="top_k"):
        s3vectors.query(index, [1, 0, 0], 101)


def test_a_missing_index_is_a_not_found_of_its_store(index: str) -> None:
    for call in (
        lambda: s3vectors.query(index, [1, 0, 0], 1),
        lambda: s3vectors.put_vectors(index, [Vector("a", [1, 0, 0])]),
        lambda: s3vectors.delete_vectors(index, ["a"]),
    ):
        with pytest.raises(NotFound, match=f"No vector store found with id '{STORE}'"):
            call()
    refused(raw().query_vectors, "NotFoundException", indexName=index, topK=1, queryVector={"float32": [1, 0, 0]})


def test_vectors_are_float32_finite_and_not_zero_for_cosine(index: str) -> None:
    s3vectors.create_index(index, 3)
    s3vectors.put_vectors(index, [Vector("a", [0.1, 1, 0])])
    (got,) = raw().get_vectors(vectorBucketName=BUCKET, indexName=index, keys=["a"], returnData=True)["vectors"]
    assert got["data"]["float32"][0] == struct.unpack("<f", struct.pack("<f", 0.1))[0] != 0.1
    put = raw().put_vectors
    assert "zero vectors" in refused(put, indexName=index, vectors=[{"key": "z", "data": {"float32": [0, 0, 0]}}])
    for bad in (float("nan"), float("inf"), 1e39):  # 1e39 is past float32
        refused(put, indexName=index, vectors=[{"key": "b", "data": {"float32": [bad, 1, 0]}}])
    refused(put, indexName=index, vectors=[{"key": "b", "data": {"float32": [1, 0]}}])
    refused(put, indexName=index, vectors=[{"key": "b" * 1025, "data": {"float32": [1, 0, 0]}}])
    with_bad_last = [{"key": "ok", "data": {"float32": [1, 0, 0]}}, {"key": "bad", "data": {"float32": [0, 0, 0]}}]
    refused(put, indexName=index, vectors=with_bad_last)
    assert [m.key for m in s3vectors.query(index, [1, 0, 0], 10)] == ["a"]  # all or nothing


def test_a_key_written_again_is_replaced_and_deleting_a_missing_key_is_no_error(index: str) -> None:
    s3vectors.create_index(index, 3)
    s3vectors.put_vectors(index, [Vector("a", [1, 0, 0], {"file_id": "old"})])
    s3vectors.put_vectors(index, [Vector("a", [0, 1, 0], {"file_id": "new"})])
    assert s3vectors.query(index, [0, 1, 0], 5) == [Match("a", 0.0, {"file_id": "new"})]
    s3vectors.delete_vectors(index, ["a", "never-written"])
    assert s3vectors.query(index, [0, 1, 0], 5) == []


def test_metadata_within_its_limits(index: str) -> None:
    s3vectors.create_index(index, 3)
    s3vectors.put_vectors(index, [Vector("long", [1, 0, 0], {"file_id": "f", "text": "x" * 30_000})])  # non-filterable

    def put(metadata: dict[str, Any]) -> str:
        vector = {"key": "k", "data": {"float32": [1, 0, 0]}, "metadata": metadata}
        return refused(raw().put_vectors, indexName=index, vectors=[vector])

    assert "filterable" in put({"file_id": "f" * 2100})  # over 2 KB filterable
    assert "40960" in put({"text": "x" * 41_000})
    assert "50" in put({f"k{i}": i for i in range(51)})


def test_batches_keep_to_500_vectors_and_keys_a_request(index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    s3vectors.create_index(index, 2)
    calls: list[tuple[str, int]] = []
    real = s3vectors.client()._make_api_call

    def counted(operation: str, params: dict[str, Any]) -> Any:
        calls.append((operation, len(params.get("vectors") or params.get("keys") or [])))
        return real(operation, params)

    monkeypatch.setattr(s3vectors.client(), "_make_api_call", counted)
    s3vectors.put_vectors(index, [Vector(f"k{i}", [1, i]) for i in range(1001)])
    s3vectors.delete_vectors(index, [f"k{i}" for i in range(1001)])
    assert calls == [(operation, n) for operation in ("PutVectors", "DeleteVectors") for n in (500, 500, 1)]
    unchecked = raw(validate=False)
    too_many = [{"key": f"{i}", "data": {"float32": [1, 0]}} for i in range(501)]
    refused(unchecked.put_vectors, indexName=index, vectors=too_many)
    refused(unchecked.delete_vectors, indexName=index, keys=[str(i) for i in range(501)])


def test_a_euclidean_index_ranks_by_distance(index: str) -> None:
    raw().create_index(vectorBucketName=BUCKET, indexName=index, dataType="float32", dimension=2,
                       distanceMetric="euclidean")  # fmt: skip
    s3vectors.put_vectors(index, [Vector("b", [3, 4]), Vector("a", [1, 1]), Vector("zero", [0, 0])])
    assert [(m.key, m.distance) for m in s3vectors.query(index, [0, 0], 3)] == [("zero", 0.0), ("a", 2**0.5), ("b", 5)]


def test_what_a_retry_may_cure_is_unavailable(index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def throttled(operation: str, params: dict[str, Any]) -> Any:
        raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}, operation)

    monkeypatch.setattr(s3vectors.client(), "_make_api_call", throttled)
    with pytest.raises(Unavailable):
        s3vectors.query(index, [1, 0, 0], 1)


def test_the_embedded_server_answers_s3vectors_at_its_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """make serve's moto (a server) routes S3 Vectors by AWS_ENDPOINT_URL_S3VECTORS, QueryVectors included."""
    endpoint = local_dynamodb.start_embedded()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3VECTORS", endpoint)
    client = boto3.client("s3vectors", region_name="us-east-1")  # no endpoint_url: the variable's
    assert client.meta.endpoint_url == endpoint
    local_dynamodb.create_vector_bucket(client, BUCKET)
    local_dynamodb.create_vector_bucket(client, BUCKET)  # there already: left as it is
    client.create_index(vectorBucketName=BUCKET, indexName="idx", dataType="float32", dimension=2,
                        distanceMetric="cosine")  # fmt: skip
    client.put_vectors(vectorBucketName=BUCKET, indexName="idx", vectors=[{"key": "a", "data": {"float32": [1, 0]}}])
    found = client.query_vectors(vectorBucketName=BUCKET, indexName="idx", topK=1, queryVector={"float32": [1, 0]})
    assert found["vectors"] == [{"key": "a"}]
