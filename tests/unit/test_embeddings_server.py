"""The scripted embeddings server (infra/ops/embeddings_server.py) itself: its answers valid for OpenAI's
CreateEmbeddingResponse, and the requests it refuses as OpenAI does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from infra.ops.embeddings_server import EmbeddingsServer
from tests.contract.schemas import assert_valid
from threads_api.embeddings.lexical import vector


@pytest.fixture
def server() -> Iterator[EmbeddingsServer]:
    with EmbeddingsServer() as started:
        yield started


def post(server: EmbeddingsServer, body: Any) -> tuple[int, Any, dict[str, str]]:
    request = urllib.request.Request(server.url + "/embeddings", json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read()), dict(refused.headers)


@pytest.mark.parametrize(
    ("body", "size"),
    [
        ({"model": "text-embedding-3-small", "input": "one text"}, 1536),
        ({"model": "text-embedding-3-large", "input": ["a", "b c"], "encoding_format": "float"}, 3072),
        ({"model": "text-embedding-3-small", "input": ["x"], "dimensions": 1, "user": "u"}, 1),
        ({"model": "nomic-embed-text", "input": ["x", "y"], "dimensions": 64}, 64),
    ],
)
def test_answers_are_valid_create_embedding_responses(server: EmbeddingsServer, body: Any, size: int) -> None:
    status, answer, _ = post(server, body)
    assert status == 200
    assert_valid(answer, "CreateEmbeddingResponse")
    texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
    assert [item["index"] for item in answer["data"]] == list(range(len(texts)))
    assert [len(item["embedding"]) for item in answer["data"]] == [size] * len(texts)
    assert answer["model"] == body["model"]
    if size > 1:
        assert answer["data"][0]["embedding"] == vector(texts[0], size)
    assert not server.invalid


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"model": "text-embedding-3-small"}, "'input' is a required property"),
        ({"model": "m", "input": ["x"], "encoding_format": "float", "extra": 1}, "Additional properties"),
        ({"model": "m", "input": ["x"] * 2049}, "invalid request: input: "),  # no oneOf branch takes 2049
        ({"model": "m", "input": ["fine", ""]}, "input/1: an empty string"),
        ({"model": "text-embedding-ada-002", "input": "x", "dimensions": 512}, "does not support specifying"),
        ({"model": "text-embedding-3-small", "input": "x", "dimensions": 2000}, "at most 1536"),
        ({"model": "m", "input": [[1, 2, 3]]}, "not token arrays"),
        ({"model": "m", "input": ["x" * 400_000] * 4}, "more than 300000 tokens"),
    ],
)
def test_what_openai_refuses_is_a_400_recorded_as_invalid(server: EmbeddingsServer, body: Any, problem: str) -> None:
    status, answer, _ = post(server, body)
    assert status == 400
    assert problem in answer["error"]["message"]
    assert_valid(answer, "ErrorResponse")
    assert len(server.invalid) == 1


def test_error_markers_answer_their_status_with_retry_after_for_5xx(server: EmbeddingsServer) -> None:
    body = {"model": "m", "input": ["ok", "bad [[embed-error:503*2]]"], "dimensions": 4}
    for _ in range(2):
        status, answer, headers = post(server, body)
        assert (status, headers["Retry-After"]) == (503, "0")
        assert_valid(answer, "ErrorResponse")
    status, answer, _ = post(server, body)
    assert status == 200
    assert answer["data"][1]["embedding"] == vector("bad ", 4)  # the marker is not embedded
    status, _, headers = post(server, {"model": "m", "input": "no [[embed-error:400]]"})
    assert status == 400
    assert "Retry-After" not in headers


def test_a_key_when_set_is_required() -> None:
    with EmbeddingsServer(api_key="sk-right") as server:
        status, answer, _ = post(server, {"model": "m", "input": "x"})
    assert status == 401
    assert answer["error"]["message"] == "Incorrect API key provided."
