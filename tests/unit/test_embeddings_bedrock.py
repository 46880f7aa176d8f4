"""The Titan Text Embeddings V2 embedder on a real bedrock-runtime client under botocore's Stubber: the
InvokeModel call it makes for each text, and what it makes of Bedrock's answers and errors."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from threads_api.embeddings import EmbeddingError, bedrock
from threads_api.embeddings.bedrock import TitanEmbeddings
from threads_api.providers.retry import Backoff

MODEL = "amazon.titan-embed-text-v2:0"
NO_WAIT = Backoff(base=0, max_attempts=3, sleep=lambda _: None)


def answer(values: list[float]) -> dict[str, Any]:
    """An InvokeModel response, its body as Titan V2 writes it."""
    raw = json.dumps({"embedding": values, "inputTextTokenCount": 3, "embeddingsByType": {"float": values}}).encode()
    return {"body": StreamingBody(io.BytesIO(raw), len(raw)), "contentType": "application/json"}


def call(text: str, dimensions: int = 256) -> dict[str, Any]:
    """The InvokeModel parameters expected for ``text``."""
    body = json.dumps({"inputText": text, "dimensions": dimensions, "normalize": True})
    return {"modelId": MODEL, "body": body, "contentType": "application/json", "accept": "application/json"}


@pytest.fixture
def stubbed() -> Iterator[tuple[TitanEmbeddings, Stubber]]:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield TitanEmbeddings(dimensions=256, client=client, backoff=NO_WAIT, concurrency=1), stubber
        stubber.assert_no_pending_responses()


def embed(titan: TitanEmbeddings, texts: list[str]) -> list[list[float]]:
    return titan.embed(texts, deadline=time.monotonic() + 5)


def test_each_text_is_one_invoke_model_call_in_order(stubbed: tuple[TitanEmbeddings, Stubber]) -> None:
    titan, stubber = stubbed
    stubber.add_response("invoke_model", answer([0.5] * 256), call("first"))
    stubber.add_response("invoke_model", answer([0.25] * 256), call("second"))
    assert embed(titan, ["first", "second"]) == [[0.5] * 256, [0.25] * 256]
    assert (titan.name, titan.dimensions) == (MODEL, 256)


def test_a_throttle_and_a_model_timeout_are_retried(stubbed: tuple[TitanEmbeddings, Stubber]) -> None:
    titan, stubber = stubbed
    stubber.add_client_error("invoke_model", "ThrottlingException", "Too many requests", 429)
    stubber.add_client_error("invoke_model", "ModelTimeoutException", "Slow", 408)
    stubber.add_response("invoke_model", answer([1.0] * 256), call("hello"))
    assert embed(titan, ["hello"]) == [[1.0] * 256]


def test_retries_that_run_out_are_a_retryable_error(stubbed: tuple[TitanEmbeddings, Stubber]) -> None:
    titan, stubber = stubbed
    for _ in range(3):
        stubber.add_client_error("invoke_model", "ServiceUnavailableException", "Try later", 503)
    with pytest.raises(EmbeddingError) as failure:
        embed(titan, ["hello"])
    assert failure.value.retryable
    assert failure.value.message == "Bedrock failed (ServiceUnavailableException)."


def test_a_validation_exception_is_final_at_once(stubbed: tuple[TitanEmbeddings, Stubber]) -> None:
    titan, stubber = stubbed
    stubber.add_client_error("invoke_model", "ValidationException", "Too many input tokens.", 400)
    with pytest.raises(EmbeddingError) as failure:
        embed(titan, ["a very long text"])
    assert not failure.value.retryable
    assert failure.value.message == "Bedrock refused the text: Too many input tokens."


@pytest.mark.parametrize(
    ("code", "says"),
    [("AccessDeniedException", "IAM role"), ("ResourceNotFoundException", "EMBEDDINGS_MODEL"), ("Odd", "(Odd)")],
)
def test_other_refusals_are_final_and_say_what_to_check(
    stubbed: tuple[TitanEmbeddings, Stubber], code: str, says: str
) -> None:
    titan, stubber = stubbed
    stubber.add_client_error("invoke_model", code, "no", 403)
    with pytest.raises(EmbeddingError) as failure:
        embed(titan, ["hello"])
    assert not failure.value.retryable
    assert says in failure.value.message


@pytest.mark.parametrize("body", [{"embedding": [0.1] * 1024}, {"embeddings": []}, "not json"])
def test_an_answer_of_another_size_or_shape_is_final(stubbed: tuple[TitanEmbeddings, Stubber], body: Any) -> None:
    titan, stubber = stubbed
    raw = (body if isinstance(body, str) else json.dumps(body)).encode()
    stubber.add_response("invoke_model", {"body": StreamingBody(io.BytesIO(raw), len(raw)), "contentType": "x"})
    with pytest.raises(EmbeddingError) as failure:
        embed(titan, ["hello"])
    assert not failure.value.retryable
    if "embedding" in body:
        assert "1024 dimensions, not 256: check EMBEDDINGS_DIMENSIONS" in failure.value.message


def test_an_empty_text_is_refused_before_any_call(stubbed: tuple[TitanEmbeddings, Stubber]) -> None:
    with pytest.raises(EmbeddingError, match="empty"):
        embed(stubbed[0], [""])


class FakeRuntime:
    """A bedrock-runtime client for the concurrent calls (Stubber answers in call order, which threads shuffle):
    the vector of a text is its length, a text "refuse" fails, and the calls under way at once are counted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = self.most = self.calls = 0

    def invoke_model(self, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        text = json.loads(params["body"])["inputText"]
        with self.lock:
            self.running += 1
            self.calls += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)
        with self.lock:
            self.running -= 1
        if text == "refuse":
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "refused"}}, "InvokeModel")
        if text == "throttle":
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "InvokeModel")
        return answer([float(len(text))] * 4)


def test_texts_are_embedded_a_few_at_a_time_and_kept_in_order() -> None:
    runtime = FakeRuntime()
    titan = TitanEmbeddings(dimensions=4, client=runtime, backoff=NO_WAIT)
    texts = ["x" * n for n in range(1, 13)]
    assert embed(titan, texts) == [[float(n)] * 4 for n in range(1, 13)]
    assert 1 < runtime.most <= bedrock.CONCURRENCY


def test_the_first_failure_is_raised_and_stops_the_others_retries() -> None:
    runtime = FakeRuntime()
    titan = TitanEmbeddings(dimensions=4, client=runtime, backoff=Backoff(base=0.05, cap=0.05, sleep=time.sleep))
    with pytest.raises(EmbeddingError) as failure:
        embed(titan, ["throttle", "throttle", "refuse", *["fine"] * 20])
    assert failure.value.message == "Bedrock refused the text: refused"
    assert runtime.calls < 23  # the texts not started were not sent


def test_the_client_is_built_on_first_use_once_per_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(bedrock, "_clients", {})
    titan = TitanEmbeddings()
    assert bedrock._clients == {}  # nothing built with the embedder: not in a cold start
    client = titan._within(100.0)
    assert titan._within(50.0) is client
    assert client.meta.service_model.service_name == "bedrock-runtime"
    assert (client.meta.config.read_timeout, client.meta.config.retries["total_max_attempts"]) == (30.0, 1)
    assert titan._within(1.0).meta.config.read_timeout == 0.9375  # halved until it ends before the deadline
