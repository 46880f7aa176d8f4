"""The OpenAI-compatible embedder against the scripted embeddings server (infra/ops/embeddings_server.py): its
requests (valid CreateEmbeddingRequests, in batches), the answer's order, and its failures (retried or final)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from infra.ops.embeddings_server import EmbeddingsServer
from tests.unit.provider_support import Waits
from threads_api.embeddings import EmbeddingError
from threads_api.embeddings.lexical import vector
from threads_api.embeddings.openai_compatible import OpenAICompatible, batches, estimate_tokens
from threads_api.providers.retry import Backoff

MODEL = "text-embedding-3-small"


@pytest.fixture
def server() -> Iterator[EmbeddingsServer]:
    with EmbeddingsServer() as started:
        yield started
    assert not started.invalid, [r.problems for r in started.invalid]


def embedder(base_url: str, dimensions: int = 1536, **options: Any) -> OpenAICompatible:
    backoff = Backoff(base=0.01, cap=0.02, max_attempts=options.pop("max_attempts", 3), sleep=Waits())
    return OpenAICompatible(base_url, model=MODEL, dimensions=dimensions, backoff=backoff, **options)


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


def failure(client: OpenAICompatible, texts: list[str], deadline: float | None = None) -> EmbeddingError:
    with pytest.raises(EmbeddingError) as raised:
        client.embed(texts, deadline=soon() if deadline is None else deadline)
    return raised.value


def test_the_request_is_a_create_embedding_request_and_the_vectors_come_in_order(server: EmbeddingsServer) -> None:
    texts = ["Reset your password in Settings.", "The weather is sunny.", "Ünïcode ✓ 北京"]
    assert embedder(server.url).embed(texts, deadline=soon()) == [vector(t, 1536) for t in texts]
    [request] = server.requests
    assert request.path == "/v1/embeddings"
    assert request.body == {"model": MODEL, "input": texts, "encoding_format": "float"}
    assert "authorization" not in request.headers


def test_dimensions_are_sent_when_the_model_is_asked_for_a_size(server: EmbeddingsServer) -> None:
    client = embedder(server.url, 256, send_dimensions=True, api_key="sk-test")
    assert client.embed(["hello world"], deadline=soon()) == [vector("hello world", 256)]
    assert server.requests[0].body["dimensions"] == 256
    assert server.requests[0].headers["authorization"] == "Bearer sk-test"


def test_the_answers_index_decides_the_order_not_its_listing() -> None:
    with EmbeddingsServer(reverse=True) as server:
        texts = ["first text", "second text", "third text"]
        assert embedder(server.url).embed(texts, deadline=soon()) == [vector(t, 1536) for t in texts]


def test_texts_go_in_batches_within_the_input_and_token_limits(server: EmbeddingsServer) -> None:
    client = embedder(server.url, 8, send_dimensions=True)
    client.max_batch_inputs = 2
    texts = [f"text number {n}" for n in range(5)]
    assert client.embed(texts, deadline=soon()) == [vector(t, 8) for t in texts]
    assert [r.body["input"] for r in server.requests] == [texts[0:2], texts[2:4], texts[4:]]
    server.requests.clear()
    client.max_batch_inputs, client.max_batch_tokens = 2048, 2 * estimate_tokens("x" * 30)
    texts = ["x" * 30, "y" * 30, "z" * 30, "a" * 90, "b"]
    assert client.embed(texts, deadline=soon()) == [vector(t, 8) for t in texts]
    assert [len(r.body["input"]) for r in server.requests] == [2, 1, 1, 1]  # the long one alone, then the rest


def test_the_token_estimate_bounds_scripts_other_than_latin() -> None:
    assert estimate_tokens("a" * 300) == 101  # len // 3 + 1 for ASCII
    assert estimate_tokens("北" * 300) == 301  # three bytes a character: one token each, not a third
    assert list(batches(["a" * 30] * 5, 2048, 22)) == [(0, 2), (2, 4), (4, 5)]
    assert list(batches([], 2048, 300_000)) == []


def test_vectors_of_another_size_are_a_final_error_naming_the_setting() -> None:
    with EmbeddingsServer(answer_dimensions=8) as server:
        error = failure(embedder(server.url), ["hello"])
    assert not error.retryable
    assert "8 dimensions, not 1536" in error.message
    assert "EMBEDDINGS_DIMENSIONS" in error.message


def test_a_500_is_retried_then_succeeds(server: EmbeddingsServer) -> None:
    texts = ["fine", "flaky [[embed-error:500*1]]"]
    assert embedder(server.url).embed(texts, deadline=soon()) == [vector("fine", 1536), vector("flaky ", 1536)]
    assert len(server.requests) == 2


def test_a_400_is_final_at_once_with_the_providers_message(server: EmbeddingsServer) -> None:
    error = failure(embedder(server.url), ["refused [[embed-error:400]]"])
    assert not error.retryable
    assert error.message == "The embeddings provider refused the request (400): fake error 400"
    assert len(server.requests) == 1


def test_a_429_retried_until_the_attempts_run_out_is_retryable(server: EmbeddingsServer) -> None:
    error = failure(embedder(server.url, max_attempts=3), ["busy [[embed-error:429]]"])
    assert error.retryable
    assert "rate limit" in error.message
    assert len(server.requests) == 3


def test_a_slow_answer_ends_at_the_deadline_retryable(server: EmbeddingsServer) -> None:
    started = time.monotonic()
    error = failure(embedder(server.url), ["slow [[embed-slow:3]]"], deadline=soon(0.5))
    assert time.monotonic() - started < 1.5
    assert error.retryable
    assert "did not answer" in error.message


def test_a_deadline_already_past_sends_nothing(server: EmbeddingsServer) -> None:
    error = failure(embedder(server.url), ["hello"], deadline=time.monotonic() - 1)
    assert (error.retryable, error.message) == (True, "The embeddings provider did not answer before the deadline.")
    assert server.requests == []


def test_an_unreachable_server_is_retryable() -> None:
    with EmbeddingsServer() as server:
        url = server.url
    error = failure(embedder(url), ["hello"])
    assert error.retryable
    assert "could not be reached" in error.message


def test_a_wrong_key_or_path_is_final_and_says_what_to_check() -> None:
    with EmbeddingsServer(api_key="sk-right") as server:
        error = failure(embedder(server.url, api_key="sk-wrong"), ["hello"])
        assert not error.retryable
        assert "(401): check EMBEDDINGS_API_KEY." in error.message
        error = failure(embedder(server.url.removesuffix("/v1") + "/v2"), ["hello"])
        assert "404" in error.message
        assert "EMBEDDINGS_BASE_URL" in error.message


def test_the_key_parameter_is_read_as_the_runs_read_theirs(
    server: EmbeddingsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from threads_api.providers import openai_compatible

    asked: list[str] = []

    def read(name: str) -> str:
        asked.append(name)
        return "sk-from-ssm"

    monkeypatch.setattr(openai_compatible, "read_secret", read)
    embedder(server.url, api_key_parameter="/threads-api/embeddings-key").embed(["hello"], deadline=soon())
    assert asked == ["/threads-api/embeddings-key"]
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-ssm"

    def denied(name: str) -> str:
        raise PermissionError(name)

    monkeypatch.setattr(openai_compatible, "read_secret", denied)
    error = failure(embedder(server.url, api_key_parameter="/threads-api/absent"), ["hello"])
    assert not error.retryable
    assert "/threads-api/absent (PermissionError)" in error.message


def test_an_empty_text_is_refused_before_any_request(server: EmbeddingsServer) -> None:
    error = failure(embedder(server.url), ["hello", ""])
    assert not error.retryable
    assert server.requests == []
    assert embedder(server.url).embed([], deadline=soon()) == []


@pytest.mark.parametrize(
    "raw",
    [b"<html>not json</html>", b'{"data": [{"index": 0, "embedding": "AAAA"}]}', b'{"data": [{"index": 1}]}', b"{}"],
)
def test_an_answer_that_is_not_float_embeddings_is_a_final_error(raw: bytes) -> None:
    with pytest.raises(EmbeddingError) as raised:
        embedder("http://127.0.0.1:1/v1", 4)._vectors(raw, 1)
    assert not raised.value.retryable


def test_a_missing_vector_is_a_final_error() -> None:
    raw = b'{"data": [{"index": 0, "embedding": [1, 0]}, {"index": 0, "embedding": [0, 1]}]}'
    with pytest.raises(EmbeddingError, match="answered 1 vectors for 2 texts"):
        embedder("http://127.0.0.1:1/v1", 2)._vectors(raw, 2)


def test_a_base_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="EMBEDDINGS_BASE_URL"):
        embedder("ftp://example.com/v1")
