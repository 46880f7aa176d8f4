"""What the embedded S3 Vectors adds to moto's and changes in it, to keep S3 Vectors' documented behaviour where
the vector stores rely on it. ``apply()`` (from ``moto_patches.apply()``) is idempotent; it patches moto's
classes, so the embedded server (``make serve``) and ``mock_aws`` (the handler tests) both get it. Checked by
tests/handlers/test_local_s3vectors.py, against the documents named there.

- QueryVectors, which moto lacks: exact nearest neighbours (S3 Vectors' search is approximate) by the index's
  metric (cosine distance, 1 - the cosine similarity; euclidean, the L2 distance), nearest first (a tie by key),
  top-K of 1 to 100, the metadata filter (``vector_filters.py``; a non-filterable key refused), the metadata and
  distance only when asked, a query vector of another dimension refused (or of zeros in a cosine index: the
  documents say so of PutVectors only; a cosine distance to it has no value), a missing index NotFoundException.
- CreateIndex: a name that is taken is ConflictException (moto replaced the index and lost its vectors); 4,096
  dimensions are allowed (moto refused them); the name's rules; ``metadataConfiguration``'s non-filterable keys
  kept and shown by GetIndex (moto dropped them).
- PutVectors: 1 to 500 vectors, keys of 1 to 1,024 characters, finite values stored as float32, no vector of
  zeros in a cosine index, metadata within its limits (40 KB, 2 KB filterable, 50 keys, JSON-measured), all
  checked before any is written; a key written again is replaced (as moto does).
- DeleteVectors: 1 to 500 keys (a key with no vector is no error, as moto does).
- One call at a time: a query never iterates an index a write is changing (moto's server is threaded).
"""

from __future__ import annotations

import json
import math
import re
import struct
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infra.local import vector_filters

MAX_DIMENSION = 4096
MAX_BATCH = 500
MAX_TOP_K = 100
MAX_KEY_CHARS = 1024
MAX_METADATA_BYTES = 40 * 1024
MAX_FILTERABLE_BYTES = 2 * 1024
MAX_METADATA_KEYS = 50
MAX_NON_FILTERABLE_KEYS = 10
INDEX_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")

_lock = threading.Lock()


def apply() -> None:
    from moto.s3vectors import urls
    from moto.s3vectors.responses import S3VectorsResponse

    if getattr(S3VectorsResponse, "_patched", False):
        return
    S3VectorsResponse._patched = True  # type: ignore[attr-defined]
    urls.url_paths["{0}/QueryVectors$"] = S3VectorsResponse.dispatch
    S3VectorsResponse.query_vectors = query_vectors  # type: ignore[attr-defined]
    S3VectorsResponse.create_index = create_index  # type: ignore[method-assign]
    put, delete = S3VectorsResponse.put_vectors, S3VectorsResponse.delete_vectors
    S3VectorsResponse.put_vectors = _checked(_check_put, put)  # type: ignore[method-assign,assignment]
    S3VectorsResponse.delete_vectors = _checked(_check_delete, delete)  # type: ignore[method-assign,assignment]
    call_action = S3VectorsResponse.call_action

    def one_at_a_time(self: Any) -> Any:
        with _lock:
            return call_action(self)

    S3VectorsResponse.call_action = one_at_a_time  # type: ignore[method-assign]


def _invalid(message: str) -> Exception:
    from moto.s3vectors.exceptions import ValidationError

    return ValidationError(message)


def _conflict() -> Exception:
    from moto.core.exceptions import ServiceException

    class ConflictException(ServiceException):
        code = "ConflictException"

    return ConflictException("A vector index with the specified name already exists")


def _index(response: Any) -> Any:
    """The index the request names (its bucket and name, or its ARN), or moto's NotFoundException."""
    name, arn = response._get_param("indexName"), response._get_param("indexArn")
    bucket = response._get_param("vectorBucketName")
    response._validate_index_params(arn, name, bucket)
    return response.s3vectors_backend.get_index(bucket, name, arn)


def create_index(self: Any) -> Any:
    """CreateIndex (API Reference): moto's, with the documented bounds, the taken name refused, and the
    non-filterable keys kept."""
    from moto.core.responses import EmptyResult

    name, dimension = self._get_param("indexName") or "", self._get_param("dimension")
    if not INDEX_NAME.fullmatch(name):
        raise _invalid(f"Invalid index name '{name}': 3 to 63 of a-z, 0-9, '-' and '.', a letter or digit at each end")
    if not isinstance(dimension, int) or not 1 <= dimension <= MAX_DIMENSION:
        raise _invalid(f"Value at '/dimension' failed to satisfy constraint: between 1 and {MAX_DIMENSION}, inclusive")
    if self._get_param("dataType") != "float32":
        raise _invalid("Value at '/dataType' failed to satisfy constraint: [float32]")
    if self._get_param("distanceMetric") not in ("euclidean", "cosine"):
        raise _invalid("Value at '/distanceMetric' failed to satisfy constraint: [euclidean, cosine]")
    keys = (self._get_param("metadataConfiguration") or {}).get("nonFilterableMetadataKeys")
    if keys is not None and not (1 <= len(keys) <= MAX_NON_FILTERABLE_KEYS and all(1 <= len(k) <= 63 for k in keys)):
        raise _invalid(f"nonFilterableMetadataKeys: 1 to {MAX_NON_FILTERABLE_KEYS} keys of 1 to 63 characters")
    bucket = self.s3vectors_backend.get_vector_bucket(
        self._get_param("vectorBucketName"), self._get_param("vectorBucketArn")
    )
    if any(taken.index_name == name for taken in bucket.indexes.values()):
        raise _conflict()
    self.s3vectors_backend.create_index(
        vector_bucket_name=bucket.vector_bucket_name,
        vector_bucket_arn=None,
        index_name=name,
        data_type="float32",
        dimension=dimension,
        distance_metric=self._get_param("distanceMetric"),
        tags=self._get_param("tags"),
    )
    index = self.s3vectors_backend.get_index(bucket.vector_bucket_name, name, None)
    index.creation_time = datetime.now(UTC)
    index.non_filterable = set(keys or ())
    if keys:
        index.metadata_configuration = {"nonFilterableMetadataKeys": list(keys)}
    return EmptyResult()


def _checked(check: Callable[[Any], None], action: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def checked(self: Any) -> Any:
        check(self)
        return action(self)

    return checked


def _check_put(response: Any) -> None:
    """PutVectors (API Reference; PutInputVector; User Guide, "Limitations and restrictions"): every vector
    checked, and its values made float32 in place, before moto writes any."""
    vectors = response._get_param("vectors") or []
    if not 1 <= len(vectors) <= MAX_BATCH:
        raise _invalid(f"Value at '/vectors' failed to satisfy constraint: Member must have length 1 to {MAX_BATCH}")
    index = _index(response)
    for vector in vectors:
        key = vector.get("key") or ""
        if not 1 <= len(key) <= MAX_KEY_CHARS:
            raise _invalid(f"Invalid record: a key is 1 to {MAX_KEY_CHARS} characters, not {len(key)}")
        data = (vector.get("data") or {}).get("float32")
        if not isinstance(data, list) or len(data) != index.dimension:
            size = len(data) if isinstance(data, list) else 0
            raise _invalid(f"Invalid record for key '{key}': vector must have length {index.dimension}, but has {size}")
        vector["data"] = {"float32": _float32(data, index.distance_metric, f"Invalid record for key '{key}'")}
        _check_metadata(key, vector.get("metadata") or {}, getattr(index, "non_filterable", set()))


def _float32(values: list[Any], metric: str, context: str) -> list[float]:
    """The values as S3 Vectors stores them (float32); NaN, infinities (once float32) and, for cosine, a vector
    of zeros refused."""
    try:
        stored = list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))
    except (OverflowError, struct.error) as exc:
        raise _invalid(f"{context}: values must be 32-bit floating point numbers") from exc
    if not all(math.isfinite(v) for v in stored):
        raise _invalid(f"{context}: vector data must contain only valid floating-point values (no NaN or Infinity)")
    if metric == "cosine" and not any(stored):
        raise _invalid(f"{context}: zero vectors aren't allowed for the cosine distance metric")
    return stored


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _check_metadata(key: str, metadata: Any, non_filterable: set[str]) -> None:
    if not isinstance(metadata, dict):
        raise _invalid(f"Invalid record for key '{key}': metadata is a JSON object")
    if len(metadata) > MAX_METADATA_KEYS:
        raise _invalid(f"Invalid record for key '{key}': at most {MAX_METADATA_KEYS} metadata keys")
    if _size(metadata) > MAX_METADATA_BYTES:
        raise _invalid(f"Invalid record for key '{key}': metadata is over {MAX_METADATA_BYTES} bytes")
    filterable = {k: v for k, v in metadata.items() if k not in non_filterable}
    if filterable and _size(filterable) > MAX_FILTERABLE_BYTES:
        raise _invalid(f"Invalid record for key '{key}': filterable metadata is over {MAX_FILTERABLE_BYTES} bytes")


def _check_delete(response: Any) -> None:
    keys = response._get_param("keys") or []
    if not 1 <= len(keys) <= MAX_BATCH:
        raise _invalid(f"Value at '/keys' failed to satisfy constraint: Member must have length 1 to {MAX_BATCH}")


def query_vectors(self: Any) -> Any:
    """QueryVectors (API Reference; User Guide, "Querying vectors" and "Metadata filtering")."""
    from moto.core.responses import ActionResult

    top_k = self._get_param("topK")
    if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise _invalid(f"Value at '/topK' failed to satisfy constraint: Member must be between 1 and {MAX_TOP_K}")
    index = _index(self)
    query = (self._get_param("queryVector") or {}).get("float32")
    if not isinstance(query, list) or len(query) != index.dimension:
        size = len(query) if isinstance(query, list) else 0
        raise _invalid(f"Query vector must have length {index.dimension}, but has length {size}")
    query = _float32(query, index.distance_metric, "Invalid query vector")
    filter_ = self._get_param("filter")
    if filter_ is not None:
        try:
            vector_filters.check(filter_, getattr(index, "non_filterable", set()))
        except vector_filters.InvalidFilter as exc:
            raise _invalid(str(exc)) from exc
    distance = _cosine if index.distance_metric == "cosine" else _euclidean
    found = sorted(
        (distance(query, v.data["float32"]), v.key, v.metadata)
        for v in index.vectors.values()
        if filter_ is None or vector_filters.matches(filter_, v.metadata or {})
    )[:top_k]
    with_metadata, with_distance = (
        self._get_bool_param("returnMetadata", False),
        self._get_bool_param("returnDistance", False),
    )
    vectors = [
        {"key": key}
        | ({"distance": gap} if with_distance else {})
        | ({"metadata": metadata or {}} if with_metadata else {})
        for gap, key, metadata in found
    ]
    return ActionResult({"vectors": vectors, "distanceMetric": index.distance_metric})


def _cosine(a: list[float], b: list[float]) -> float:
    return 1.0 - math.sumprod(a, b) / math.sqrt(math.sumprod(a, a) * math.sumprod(b, b))


def _euclidean(a: list[float], b: list[float]) -> float:
    return math.dist(a, b)
