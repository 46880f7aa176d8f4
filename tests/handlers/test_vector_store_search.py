"""A vector store's search on moto, under the search function's IAM role, with the local (lexical) embedder: the
file that shares the query's words first, several queries, ``max_num_results``, ``score_threshold``, ``filters``
on the files' attributes, files removed or failed never found, ``last_active_at`` moved by a search, an
expired store refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api
from tests.handlers.vector_stores_support import (
    Ingestion,
    add_file,
    ingested,
    ingestion,
    new_file,
    new_store,
    retrieve,
    search,
    store_file,
    vector_keys,
)

__all__ = ["ingestion"]  # fixtures

MANUAL = {
    "warranty.md": "# Warranty\n\nThe warranty covers the compressor and the fan for five years.",
    "cleaning.txt": "Clean the filter every month with warm water. Never use bleach on the filter.",
    "install.html": "<html><body><h1>Installation</h1><p>Mount the unit on a north facing wall.</p></body></html>",
}


@pytest.fixture
def manual(api: Api, ingestion: Ingestion) -> tuple[str, dict[str, str]]:
    """A store of the three manual files, ingested, with attributes: its id and name -> file id."""
    store_id = new_store(api, {"name": "manual"})["id"]
    ids = ingested(api, ingestion, store_id, MANUAL)
    attributes = {
        "warranty.md": {"topic": "legal", "year": 2024, "public": True},
        "cleaning.txt": {"topic": "care", "year": 2022, "public": True},
        "install.html": {"topic": "setup", "year": 2023.5, "public": False},
    }
    for name, values in attributes.items():
        assert api("POST", f"/vector_stores/{store_id}/files/{ids[name]}", {"attributes": values}).status == 200
    return store_id, ids


def _names(page: dict[str, Any]) -> list[str]:
    return [hit["filename"] for hit in page["data"]]


def test_the_file_sharing_the_querys_words_ranks_first(api: Api, manual: tuple[str, dict[str, str]]) -> None:
    store_id, ids = manual
    page = search(api, store_id, {"query": "What does the warranty cover on the compressor?"})
    assert page["object"] == "vector_store.search_results.page"
    assert page["search_query"] == ["What does the warranty cover on the compressor?"]
    assert (page["has_more"], page["next_page"]) == (False, None)
    top = page["data"][0]
    assert (top["filename"], top["file_id"]) == ("warranty.md", ids["warranty.md"])
    assert top["content"] == [{"type": "text", "text": MANUAL["warranty.md"]}]
    assert top["attributes"] == {"topic": "legal", "year": 2024, "public": True}
    assert 0 < top["score"] <= 1
    scores = [hit["score"] for hit in page["data"]]
    assert scores == sorted(scores, reverse=True)
    wall = search(api, store_id, {"query": "mount the unit on the wall"})["data"][0]
    assert (wall["filename"], "facing wall" in wall["content"][0]["text"]) == ("install.html", True)


def test_a_stores_search_sees_only_its_own_files(
    api: Api, ingestion: Ingestion, manual: tuple[str, dict[str, str]]
) -> None:
    """README: one index per store, so a store's search sees only its own vectors, however near another's are."""
    store_id, ids = manual
    other = new_store(api, {"name": "other"})["id"]
    ingested(api, ingestion, other, {"twin.md": MANUAL["warranty.md"]})
    found = search(api, store_id, {"query": "warranty compressor fan", "max_num_results": 50})["data"]
    assert {hit["file_id"] for hit in found} <= set(ids.values())
    assert _names(search(api, other, {"query": "warranty compressor fan"})) == ["twin.md"]


def test_several_queries_and_max_num_results(api: Api, manual: tuple[str, dict[str, str]]) -> None:
    store_id, _ = manual
    both = search(api, store_id, {"query": ["compressor warranty", "bleach filter"], "max_num_results": 5})
    assert both["search_query"] == ["compressor warranty", "bleach filter"]
    assert set(_names(both)[:2]) == {"warranty.md", "cleaning.txt"}
    assert len(both["data"]) == len({hit["file_id"] for hit in both["data"]})  # a chunk found twice: once
    one = search(api, store_id, {"query": ["compressor warranty", "bleach filter"], "max_num_results": 1})
    assert len(one["data"]) == 1
    assert one["data"][0] == both["data"][0]


def test_score_threshold_keeps_the_near_ones(api: Api, manual: tuple[str, dict[str, str]]) -> None:
    store_id, _ = manual
    every = search(api, store_id, {"query": "warranty compressor filter"})
    scores = sorted(hit["score"] for hit in every["data"])
    assert len(scores) >= 2
    middle = (scores[0] + scores[-1]) / 2
    query = "warranty compressor filter"
    kept = search(api, store_id, {"query": query, "ranking_options": {"score_threshold": middle}})
    assert kept["data"]
    assert all(hit["score"] >= middle for hit in kept["data"])
    assert len(kept["data"]) < len(every["data"])
    none = search(api, store_id, {"query": "warranty", "ranking_options": {"ranker": "none", "score_threshold": 1}})
    assert none["data"] == []
    unrelated = search(api, store_id, {"query": "zeppelin"})["data"]  # no word in common: found, but at 0
    assert {hit["score"] for hit in unrelated} == {0}
    assert search(api, store_id, {"query": "zeppelin", "ranking_options": {"score_threshold": 0.01}})["data"] == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"type": "eq", "key": "topic", "value": "legal"}, {"warranty.md"}),
        ({"type": "ne", "key": "topic", "value": "legal"}, {"cleaning.txt", "install.html"}),
        ({"type": "gte", "key": "year", "value": 2023}, {"warranty.md", "install.html"}),
        ({"type": "lt", "key": "year", "value": 2023}, {"cleaning.txt"}),
        ({"type": "in", "key": "topic", "value": ["care", "setup"]}, {"cleaning.txt", "install.html"}),
        ({"type": "eq", "key": "public", "value": False}, {"install.html"}),
        ({"type": "eq", "key": "missing", "value": "x"}, set()),
        (
            {
                "type": "and",
                "filters": [
                    {"type": "eq", "key": "public", "value": True},
                    {
                        "type": "or",
                        "filters": [
                            {"type": "gt", "key": "year", "value": 2023},
                            {"type": "eq", "key": "topic", "value": "care"},
                        ],
                    },
                ],
            },
            {"warranty.md", "cleaning.txt"},
        ),
    ],
    ids=["eq", "ne", "gte", "lt", "in", "boolean", "absent", "compound"],
)
def test_filters_on_attributes(
    api: Api, manual: tuple[str, dict[str, str]], filters: dict[str, Any], expected: set[str]
) -> None:
    store_id, _ = manual
    page = search(api, store_id, {"query": "warranty filter unit wall compressor", "filters": filters})
    assert set(_names(page)) == expected


def test_files_removed_or_failed_are_never_found(
    api: Api, ingestion: Ingestion, manual: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their vectors may outlive them (a deletion or a clean-up that failed midway): search checks each file."""
    from threads_api.store import store_file_states
    from threads_api.vector_stores import operations

    store_id, ids = manual
    with monkeypatch.context() as patch:  # the vectors' deletion fails: they stay in the index
        patch.setattr(operations, "remove_ingested", lambda *a: None)
        assert api("DELETE", f"/vector_stores/{store_id}/files/{ids['warranty.md']}").status == 200
    assert any(key.startswith(ids["warranty.md"]) for key in vector_keys(store_id))
    assert "warranty.md" not in _names(search(api, store_id, {"query": "warranty compressor"}))

    def fail_after_writing(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("the table is unreachable")

    failing = new_file(api, "failing.txt", "the warranty of the compressor, again")
    with monkeypatch.context() as patch:  # it fails at its end, and its clean-up fails too
        real_finish = store_file_states.finish
        patch.setattr(store_file_states, "finish", _once(fail_after_writing, real_finish))
        patch.setattr(operations, "remove_ingested", fail_after_writing)
        add_file(api, store_id, failing)
        ingestion.work()
    assert store_file(api, store_id, failing)["status"] == "failed"
    assert any(key.startswith(failing) for key in vector_keys(store_id))
    assert "failing.txt" not in _names(search(api, store_id, {"query": "warranty compressor"}))


def _once(first: Callable[..., Any], then: Callable[..., Any]) -> Callable[..., Any]:
    calls: list[int] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return (first if len(calls) == 1 else then)(*args, **kwargs)

    return call


def _later(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    from threads_api.domain import clock

    now_ms = clock.now_ms
    monkeypatch.setattr(clock, "now_ms", lambda: now_ms() + seconds * 1000)


def test_a_search_moves_last_active_at_once_a_minute(
    api: Api, manual: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store_id, _ = manual
    before = retrieve(api, store_id)["last_active_at"]
    search(api, store_id, {"query": "warranty"})
    assert retrieve(api, store_id)["last_active_at"] == before  # within a minute: not written
    _later(monkeypatch, 120)
    search(api, store_id, {"query": "warranty"})
    moved = retrieve(api, store_id)["last_active_at"]
    assert moved >= before + 120


def test_an_expired_store_is_not_searched(api: Api, ingestion: Ingestion, monkeypatch: pytest.MonkeyPatch) -> None:
    store_id = new_store(api, {"expires_after": {"anchor": "last_active_at", "days": 1}})["id"]
    ingested(api, ingestion, store_id, {"a.txt": "warranty"})
    assert search(api, store_id, {"query": "warranty"})["data"]
    _later(monkeypatch, 2 * 86_400)
    expired = retrieve(api, store_id)
    assert expired["status"] == "expired"
    refused = search(api, store_id, {"query": "warranty"}, status=400)
    assert_error(refused, 400, contains="expired")
    assert retrieve(api, store_id)["last_active_at"] == expired["last_active_at"]  # a refused search moves nothing


def test_a_store_with_no_file_finds_nothing_and_bad_requests_are_400s(api: Api, ingestion: Ingestion) -> None:
    store_id = new_store(api)["id"]
    assert search(api, store_id, {"query": "anything"})["data"] == []
    add_file(api, store_id, new_file(api, "a.txt", "pending words"))
    assert search(api, store_id, {"query": "pending words"})["data"] == []  # not ingested yet
    for body, param in (
        ({}, "query"),
        ({"query": ""}, "query"),
        ({"query": "x", "max_num_results": 51}, "max_num_results"),
        ({"query": "x", "filters": {"type": "eq", "key": "a"}}, "filters.value"),
        ({"query": "x", "ranking_options": {"score_threshold": 2}}, "ranking_options.score_threshold"),
    ):
        assert_error(search(api, store_id, body, status=400), 400, param=param)
    assert_error(search(api, "vs_nosuchstore000000000000", {"query": "x"}, status=404), 404)


def test_a_store_deleted_during_its_search_is_not_written_again(
    api: Api, manual: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search's write of ``last_active_at`` is conditional on the store: one deleted meanwhile stays deleted."""
    from handlers import search_vector_store

    store_id, _ = manual
    _later(monkeypatch, 120)
    embedder = search_vector_store.EMBEDDER

    class DeletingFirst:
        name, dimensions = embedder.name, embedder.dimensions

        def embed(self, texts: list[str], *, deadline: float) -> list[list[float]]:
            assert api("DELETE", f"/vector_stores/{store_id}").status == 200
            return embedder.embed(texts, deadline=deadline)

    monkeypatch.setattr(search_vector_store, "EMBEDDER", DeletingFirst())
    search(api, store_id, {"query": "warranty"})
    assert api("GET", f"/vector_stores/{store_id}").status == 404
    assert api.items("vstores#alpha") == []


@pytest.mark.parametrize(("retryable", "status"), [(True, 503), (False, 500)], ids=["outage", "misconfigured"])
def test_an_embedding_provider_that_fails_is_a_503_when_a_retry_may_cure_it(
    api: Api, manual: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch, retryable: bool, status: int
) -> None:
    """The provider's throttling or outage is the API's 503 (retry later); anything else its 500."""
    from handlers import search_vector_store
    from threads_api.embeddings import EmbeddingError

    store_id, _ = manual

    class Failing:
        name, dimensions = "failing", search_vector_store.EMBEDDER.dimensions

        def embed(self, texts: list[str], *, deadline: float) -> list[list[float]]:
            raise EmbeddingError("the provider answered 529", retryable)

    monkeypatch.setattr(search_vector_store, "EMBEDDER", Failing())
    failed = api("POST", f"/vector_stores/{store_id}/search", {"query": "warranty"})
    assert_error(failed.body, status)
    assert failed.status == status


def test_twin_chunks_of_a_file_are_each_found(api: Api, ingestion: Ingestion) -> None:
    """A file whose text repeats has twin chunks (the same text): a search lists each of them."""
    from threads_api.domain.vector_stores import Chunking
    from threads_api.ingest import chunking

    store_id = new_store(api)["id"]
    text = "warranty compressor " * 300
    chunks = chunking.chunk(text, Chunking(100, 0))
    assert len(chunks) > len(set(chunks))  # twins, by construction
    strategy = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}
    add_file(api, store_id, new_file(api, "twins.txt", text), chunking_strategy=strategy)
    ingestion.work()
    found = search(api, store_id, {"query": "warranty compressor", "max_num_results": 50})["data"]
    assert sorted(hit["content"][0]["text"] for hit in found) == sorted(chunks)
