"""Vector stores through the OpenAI-compatible embeddings provider (``EMBEDDINGS_PROVIDER=openai``), against the
scripted embeddings server, which checks each request against OpenAI's ``CreateEmbeddingRequest``: the worker
embeds a file's chunks in one request, a search embeds its queries, and the vectors are the provider's (with
its dimensions, not the local default's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.ops.embeddings_server import EmbeddingsServer
from tests.handlers.conftest import Api
from tests.handlers.vector_stores_support import (
    Ingestion,
    add_file,
    ingestion,
    new_file,
    new_store,
    search,
    store_file,
)

__all__ = ["ingestion"]  # fixtures

DIMENSIONS = 256  # not the local default's 1,024: the index is made with the provider's


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddingsServer]:
    """Both functions that embed, with the provider the stack's parameters would give them."""
    from handlers import ingest_worker, search_vector_store
    from threads_api import embeddings

    with EmbeddingsServer(api_key="sk-embeddings") as server:
        monkeypatch.setenv("EMBEDDINGS_PROVIDER", "openai")
        monkeypatch.setenv("EMBEDDINGS_BASE_URL", server.url)
        monkeypatch.setenv("EMBEDDINGS_MODEL", "text-embedding-3-small")
        monkeypatch.setenv("EMBEDDINGS_DIMENSIONS", str(DIMENSIONS))
        monkeypatch.setenv("EMBEDDINGS_API_KEY", "sk-embeddings")
        embedder = embeddings.from_environment()
        monkeypatch.setattr(ingest_worker, "EMBEDDER", embedder)
        monkeypatch.setattr(search_vector_store, "EMBEDDER", embedder)
        yield server
    assert not server.invalid, [r.problems for r in server.invalid]


def test_a_file_is_embedded_and_searched_through_the_provider(
    api: Api, ingestion: Ingestion, provider: EmbeddingsServer
) -> None:
    store_id = new_store(api)["id"]
    warranty = new_file(api, "warranty.md", "# Warranty\n\nThe warranty covers the compressor for five years.")
    cleaning = new_file(api, "cleaning.txt", "Clean the filter every month with warm water.")
    for file_id in (warranty, cleaning):
        add_file(api, store_id, file_id)
    assert ingestion.work() == 2
    assert {store_file(api, store_id, f)["status"] for f in (warranty, cleaning)} == {"completed"}
    found = search(api, store_id, {"query": ["What does the warranty cover?", "compressor"]})
    assert found["data"][0]["file_id"] == warranty
    bodies = [r.body for r in provider.requests]
    assert [b["input"] for b in bodies[:2]] == [
        ["# Warranty\n\nThe warranty covers the compressor for five years."],
        ["Clean the filter every month with warm water."],
    ]
    assert bodies[2]["input"] == ["What does the warranty cover?", "compressor"]  # one request, both queries
    assert {(b["model"], b["dimensions"], b["encoding_format"]) for b in bodies} == {
        ("text-embedding-3-small", DIMENSIONS, "float")
    }


def test_a_provider_that_refuses_ends_the_file_failed(
    api: Api, ingestion: Ingestion, provider: EmbeddingsServer
) -> None:
    """A 400 from the provider (the chunk itself refused) is final: the file ends failed, with the reason."""
    store_id = new_store(api)["id"]
    file_id = new_file(api, "bad.txt", "this chunk is refused [[embed-error:400]]")
    add_file(api, store_id, file_id)
    ingestion.work()
    failed = store_file(api, store_id, file_id)
    assert (failed["status"], failed["last_error"]["code"]) == ("failed", "server_error")
    assert failed["last_error"]["message"] == (
        "The file could not be ingested: The embeddings provider refused the request (400): fake error 400"
    )
