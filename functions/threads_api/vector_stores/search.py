"""A vector store's search: each query embedded, its nearest chunks read from the store's index, kept if their
file is completed (and of the generation that wrote them) and its attributes pass the filters, scored, and the
best ``max_num_results`` returned.

S3 Vectors answers at most ``TOP_K`` neighbours a query, and the files' attributes are in the table, not the
index (so that updating them is one write, not a rewrite of every vector): ``filters`` and
``score_threshold`` apply to those neighbours. A filter that only a few of a large store's chunks pass can
therefore find fewer results than exist (docs/vector-stores.md says so). Several queries are searched each,
and a chunk found by more than one keeps its best score. The score is the cosine similarity, clamped to
[0, 1]: ``1 - distance`` for S3 Vectors' cosine distance. ``ranker`` has no re-ranking model behind it here;
``rewrite_query`` is taken and the queries are searched as given.

A run's file_search searches the assistant's store and the thread's with one embedding of its queries
(``search_many``); the search API is its one-store case (``search``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from threads_api.domain import clock, filters
from threads_api.domain.errors import NotFound, Unavailable, invalid
from threads_api.domain.vector_stores import SearchHit, SearchRequest, VectorStore
from threads_api.embeddings import EmbeddingError
from threads_api.index import s3vectors
from threads_api.store import store_files
from threads_api.store import vector_stores as store_items

if TYPE_CHECKING:
    from threads_api.embeddings import Embedder

TOP_K = 100  # S3 Vectors' most neighbours per QueryVectors
EMBED_SECONDS = 20.0  # within API Gateway's 29 s


def search(project: str, store_id: str, request: SearchRequest, embedder: Embedder) -> list[SearchHit]:
    """The search API's: one store, its expiry a 400, a retryable embeddings failure a 503."""
    store = store_items.get_store(project, store_id)
    if store.status(clock.now()) == "expired":
        raise invalid(f"Vector store {store_id} has expired and can no longer be searched.", param="vector_store_id")
    try:
        return search_many(project, [store], request, embedder, deadline=time.monotonic() + EMBED_SECONDS)
    except EmbeddingError as exc:
        if exc.retryable:  # the provider's throttling or outage: a 503 the client may retry
            raise Unavailable("embeddings") from exc
        raise


def search_many(
    project: str, stores: list[VectorStore], request: SearchRequest, embedder: Embedder, *, deadline: float
) -> list[SearchHit]:
    """The best ``max_num_results`` chunks of ``stores`` (checked by the caller: there, not expired), the queries
    embedded once for all of them. A chunk a later store found too (a file in both: the same chunk, the same
    score) is counted once; a store's own hits are all kept, twin chunks of a file included (a header
    repeated). ``EmbeddingError`` as the embedder raises it."""
    vectors = embedder.embed(request.queries, deadline=deadline)
    hits: list[SearchHit] = []
    seen: set[tuple[str, str]] = set()
    for store in stores:
        found = _store_hits(project, store, vectors, request)
        hits += [hit for hit in found if (hit.file_id, hit.text) not in seen]
        seen |= {(hit.file_id, hit.text) for hit in found}
    hits.sort(key=lambda hit: hit.score, reverse=True)
    return hits[: request.max_num_results]


def _store_hits(
    project: str, store: VectorStore, vectors: list[list[float]], request: SearchRequest
) -> list[SearchHit]:
    best: dict[str, tuple[float, dict[str, str]]] = {}
    for vector in vectors:
        try:
            matches = s3vectors.query(s3vectors.index_name(store.id), vector, TOP_K)
        except NotFound:  # no file was ever ingested: the index is made with the first
            matches = []
        for match in matches:
            score = min(1.0, max(0.0, 1.0 - match.distance))
            if match.key not in best or best[match.key][0] < score:
                best[match.key] = (score, match.metadata)
    hits = _kept(project, store.id, best, request)
    store_items.touch(project, store)
    return hits


def _kept(
    project: str, store_id: str, best: dict[str, tuple[float, dict[str, str]]], request: SearchRequest
) -> list[SearchHit]:
    """The chunks whose file is completed, of the generation that wrote them, and passes the filters."""
    file_ids = list({key.split("#", 1)[0] for key in best})
    items: dict[str, Any] = {}
    for start in range(0, len(file_ids), 100):
        items |= store_files.get_many(project, store_id, file_ids[start : start + 100])
    hits = []
    for key, (score, metadata) in best.items():
        file_id, gen, _ = key.split("#", 2)
        item = items.get(file_id)
        if item is None or item["status"]["S"] != "completed" or store_files.generation(item) != gen:
            continue
        file = store_files.file_from_item(item)
        if score < request.score_threshold:
            continue
        if request.filters is not None and not filters.matches(request.filters, file.attributes):
            continue
        hits.append(SearchHit(file.id, file.filename, score, str(metadata.get("text", "")), file.attributes))
    return hits
