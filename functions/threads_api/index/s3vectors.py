"""Amazon S3 Vectors: one index per vector store in the stack's vector bucket, and the calls the vector stores
make on it: create and delete an index, put and delete vectors, query.

One botocore client per container, built on first use (only the functions that index or search load this
module); the bucket is the one ``VECTOR_BUCKET_NAME`` names. A call that a retry may cure (throttling, a
timeout, a 5xx past botocore's own retries) is ``Unavailable``, the API's 503; an index that is not there is
``IndexNotFound``, a ``NotFound`` of its vector store (S3 Vectors answers ``NotFoundException``, the same for a
missing bucket, which a deployed stack always has); every other error passes unchanged.

S3 Vectors' limits (Amazon S3 User Guide, "Limitations and restrictions", S3 Vectors): 1 to 4,096 dimensions;
at most 500 vectors a PutVectors and 500 keys a DeleteVectors, in a request of at most 20 MiB; top-K at most
100; per vector, at most 40 KB of metadata, 2 KB of it filterable, in at most 50 keys; per index, at most
1,000 PutVectors and DeleteVectors a second and 2,500 vectors written or deleted a second (throttled past them:
``Unavailable`` once botocore's retries are spent). Index names (API Reference, CreateIndex): 3 to 63
characters of a-z, 0-9, '-' and '.', a letter or digit at each end.

A vector's metadata: ``file_id``, filterable (a search narrows to some of a store's files with it), and
``text``, the chunk, declared non-filterable when the index is made, so that it counts against the 40 KB and
not the 2 KB. Distances are cosine distances: 1 - the cosine similarity, 0 for the same direction. A cosine
index refuses a vector of zeros (API Reference, PutInputVector), and every value must be finite; values are
stored as float32.

IAM (Service Authorization Reference, Amazon S3 Vectors): each call needs its action (``s3vectors:<Operation>``)
on the index's ARN, ``arn:aws:s3vectors:<region>:<account>:bucket/<bucket>/index/<name>``, CreateIndex too;
``query`` asks for metadata, so it also needs ``s3vectors:GetVectors`` on the index (API Reference, QueryVectors).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from threads_api.domain.errors import NotFound, Unavailable

MAX_BATCH = 500  # vectors a PutVectors, keys a DeleteVectors
MAX_BATCH_BYTES = 16 * 1024 * 1024  # of the 20 MiB a request may be: room left for the JSON around the vectors
MAX_TOP_K = 100
MAX_DIMENSIONS = 4096
FILTERABLE_KEYS = ("file_id",)
NON_FILTERABLE_KEYS = ("text",)
_FLOAT_CHARS = 24  # the longest a float32's value takes in JSON ("-1.2345678901234567e-05,")

# Bounded retries, as the table's and the files bucket's: 3 attempts of at most 1 s to connect and 10 s to read.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=1,
    read_timeout=10,
)
_TRANSIENT = {
    "TooManyRequestsException",
    "ServiceUnavailableException",
    "InternalServerException",
    "RequestTimeoutException",
    "503",
    "500",
}


@dataclass(frozen=True, slots=True)
class Vector:
    key: str  # unique in its index, 1 to 1,024 characters
    data: list[float]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Match:
    key: str
    distance: float  # cosine distance: smaller is nearer
    metadata: dict[str, Any]


class IndexNotFound(NotFound):
    """The index is not there (deleted with its vector store, or never made): a ``NotFound`` of the store."""

    def __init__(self, name: str) -> None:
        try:
            store_id = vector_store_id(name)
        except (ValueError, binascii.Error):  # not one of ours: named as it is
            store_id = name
        super().__init__("vector store", store_id)
        self.index = name


def index_name(vector_store_id: str) -> str:
    """The name of a vector store's index: its id's UTF-8 bytes in base32 (RFC 4648), lower case, unpadded.

    Injective (it decodes back: ``vector_store_id``) whatever the id holds (upper case, '_'), and within S3
    Vectors' rules: base32's a-z and 2-7 only. A ``vs_`` id of 24 characters makes 44 characters; an id of
    more than 39 bytes would make more than 63, one of a single byte 2: both refused (ValueError).
    """
    name = base64.b32encode(vector_store_id.encode()).decode().rstrip("=").lower()
    if not 3 <= len(name) <= 63:
        raise ValueError(f"an index name is 3 to 63 characters: {vector_store_id!r} makes {len(name)}")
    return name


def vector_store_id(name: str) -> str:
    """The vector store whose index ``name`` is (``index_name``'s inverse): for an operator's listing."""
    return base64.b32decode(name.upper() + "=" * (-len(name) % 8)).decode()


def bucket_name() -> str:
    """The vector bucket every call goes to, from the function's environment (the template sets it): its name,
    or its ARN (``arn:aws:s3vectors:<region>:<account>:bucket/<name>``, what CloudFormation's ``Ref`` gives)."""
    name = os.environ.get("VECTOR_BUCKET_NAME", "").strip().rpartition(":bucket/")[2]
    if not name:
        raise RuntimeError(
            "VECTOR_BUCKET_NAME is not set: vector stores need the name of the stack's S3 vector bucket "
            "(template.yaml sets it for the functions that index or search; make serve and the tests set it too)."
        )
    return name


@cache
def client() -> Any:
    return botocore.session.get_session().create_client("s3vectors", config=CLIENT_CONFIG)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _call(operation: str, name: str, **kwargs: Any) -> Any:
    try:
        return getattr(client(), operation)(vectorBucketName=bucket_name(), indexName=name, **kwargs)
    except ClientError as exc:
        code = _code(exc)
        if code in _TRANSIENT:
            raise Unavailable(operation) from exc
        if code == "NotFoundException" and operation != "create_index":  # creating: the bucket is missing
            raise IndexNotFound(name) from exc
        raise
    except BotoCoreError as exc:  # timeouts, connection errors
        raise Unavailable(operation) from exc


def create_index(name: str, dimensions: int) -> None:
    """Create the index (cosine, float32; ``text`` non-filterable); one that is there already is made already.

    An existing index is left as it is, whatever its dimensions: the store's embedder decides them once."""
    if not 1 <= dimensions <= MAX_DIMENSIONS:
        raise ValueError(f"an index has 1 to {MAX_DIMENSIONS} dimensions, not {dimensions}")
    try:
        _call(
            "create_index",
            name,
            dataType="float32",
            dimension=dimensions,
            distanceMetric="cosine",
            metadataConfiguration={"nonFilterableMetadataKeys": list(NON_FILTERABLE_KEYS)},
        )
    except ClientError as exc:
        if _code(exc) != "ConflictException":  # S3 Vectors' answer for a name that is taken
            raise


def delete_index(name: str) -> None:
    """Delete the index and its vectors; one that is not there is deleted already."""
    with contextlib.suppress(IndexNotFound):
        _call("delete_index", name)


def put_vectors(name: str, vectors: Sequence[Vector]) -> None:
    """Write the vectors (a key written before is replaced), in as few requests as S3 Vectors' limits allow."""
    for batch in _batches(vectors):
        _call(
            "put_vectors",
            name,
            vectors=[
                {"key": v.key, "data": {"float32": [float(x) for x in v.data]}, "metadata": v.metadata} for v in batch
            ],
        )


def _batches(vectors: Sequence[Vector]) -> Iterator[Sequence[Vector]]:
    """At most ``MAX_BATCH`` vectors and ``MAX_BATCH_BYTES`` (as JSON, estimated from above: botocore escapes
    every non-ASCII character, six bytes or twelve) a batch."""
    start, size = 0, 0
    for end, vector in enumerate(vectors):
        cost = len(vector.data) * _FLOAT_CHARS + len(json.dumps([vector.key, vector.metadata], default=str)) + 64
        if end > start and (end - start == MAX_BATCH or size + cost > MAX_BATCH_BYTES):
            yield vectors[start:end]
            start, size = end, 0
        size += cost
    if start < len(vectors):
        yield vectors[start:]


def delete_vectors(name: str, keys: Sequence[str]) -> None:
    """Delete the vectors with these keys; a key with no vector is deleted already."""
    for start in range(0, len(keys), MAX_BATCH):
        _call("delete_vectors", name, keys=list(keys[start : start + MAX_BATCH]))


def query(
    name: str,
    vector: Sequence[float],
    top_k: int,
    filter: dict[str, Any] | None = None,  # noqa: A002 - S3 Vectors' own name, and its syntax ($eq, $in, ...)
) -> list[Match]:
    """The ``top_k`` (1 to 100) vectors nearest ``vector`` (among those ``filter`` selects), nearest first, with
    their metadata and distance. A filter may name filterable keys only (``file_id``): S3 Vectors refuses
    others (ValidationException). With a filter, an index may find fewer than ``top_k`` (the User Guide's
    "Metadata filtering": on an index in its CLASSIC mode, the filter is applied during the search)."""
    if not 1 <= top_k <= MAX_TOP_K:
        raise ValueError(f"top_k is 1 to {MAX_TOP_K}, not {top_k}")
    request: dict[str, Any] = {
        "topK": top_k,
        "queryVector": {"float32": [float(x) for x in vector]},
        "returnMetadata": True,
        "returnDistance": True,
    }
    if filter is not None:
        request["filter"] = filter
    matches: list[Match] = []
    while True:  # newer S3 Vectors pages a top-K past its page size; the runtime's botocore knows no nextToken
        response = _call("query_vectors", name, **request)
        matches += [
            Match(str(v["key"]), float(v.get("distance", 0.0)), dict(v.get("metadata") or {}))
            for v in response.get("vectors", [])
        ]
        token = response.get("nextToken")
        if not token or len(matches) >= top_k:
            return matches[:top_k]
        request["nextToken"] = token
