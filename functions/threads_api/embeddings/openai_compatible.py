"""An embedder for any server speaking OpenAI's embeddings API: ``POST {base_url}/embeddings``.

Each request is a ``CreateEmbeddingRequest`` (``model``, ``input`` as a list of strings, ``encoding_format``
"float", and ``dimensions`` when the model is asked for a size); the texts go in batches within OpenAI's
limits (2048 inputs, 300,000 tokens summed). The standard library's ``http.client`` only, as the runs' provider
(``threads_api.providers.openai_compatible``), whose retry loop and key reading this reuses: a connection
error, a timeout, a 408, a 429 or a 5xx is tried again within the deadline; another 4xx is final at once.
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.parse
from collections.abc import Iterator
from typing import Any

from threads_api.embeddings import EmbeddingError, require_texts
from threads_api.providers import ProviderError, provider_message
from threads_api.providers.retry import Backoff, Retryable, call, retry_after_seconds

MAX_BATCH_INPUTS = 2048  # OpenAI's: an input array holds at most 2048 texts
MAX_BATCH_TOKENS = 300_000  # OpenAI's: the inputs of one request sum to at most 300,000 tokens
ATTEMPT_TIMEOUT_SECONDS = 60.0  # the cap of one attempt (a batch of 300,000 tokens takes seconds)
NOT_EMBEDDINGS = "The embeddings provider's answer was not a CreateEmbeddingResponse of float vectors."
TOO_LATE = "The embeddings provider did not answer before the deadline."


class OpenAICompatible:
    """``name`` is the model's id. ``send_dimensions``: ``dimensions`` goes in each request (a text-embedding-3
    model, asked for a shorter vector); otherwise ``dimensions`` is only the size every answer is checked for."""

    max_batch_inputs = MAX_BATCH_INPUTS  # a test's instance lowers them to see the batching
    max_batch_tokens = MAX_BATCH_TOKENS

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        dimensions: int,
        send_dimensions: bool = False,
        api_key: str | None = None,
        api_key_parameter: str | None = None,
        backoff: Backoff = Backoff(),  # noqa: B008 - frozen, so one shared default is safe
    ) -> None:
        parts = urllib.parse.urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"EMBEDDINGS_BASE_URL must be an http(s) URL, like https://api.openai.com/v1, not {base_url!r}."
            )
        self.name, self.dimensions = model, dimensions
        self._send_dimensions = send_dimensions
        self._https, self._host, self._port = parts.scheme == "https", parts.hostname, parts.port
        self._base_path = parts.path
        self._path = parts.path + "/embeddings" + (f"?{parts.query}" if parts.query else "")
        self._ssl: ssl.SSLContext | None = None  # built on the first HTTPS call, not in a cold start
        self._key, self._key_parameter = api_key, api_key_parameter
        self._backoff = backoff

    def embed(self, texts: list[str], *, deadline: float) -> list[list[float]]:
        require_texts(texts)
        if not texts:
            return []
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "threads-api"}
        key = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        vectors: list[list[float]] = []
        for start, end in batches(texts, self.max_batch_inputs, self.max_batch_tokens):
            vectors += self._batch(texts[start:end], headers, deadline)
        return vectors

    def _batch(self, texts: list[str], headers: dict[str, str], deadline: float) -> list[list[float]]:
        body: dict[str, Any] = {"model": self.name, "input": texts, "encoding_format": "float"}
        if self._send_dimensions:
            body["dimensions"] = self.dimensions
        payload = json.dumps(body, ensure_ascii=False).encode()
        try:
            raw = call(lambda left: self._attempt(payload, headers, left), deadline=deadline, backoff=self._backoff)
        except ProviderError as exc:  # retries ran out, or the deadline came: later may do
            cause = exc.__cause__
            raise EmbeddingError(cause.message if isinstance(cause, Retryable) else TOO_LATE, True) from None
        return self._vectors(raw, len(texts))

    def _attempt(self, payload: bytes, headers: dict[str, str], left: float) -> bytes:
        timeout = min(ATTEMPT_TIMEOUT_SECONDS, left)
        connection: http.client.HTTPConnection
        if self._https:
            self._ssl = self._ssl or ssl.create_default_context()
            connection = http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._ssl)
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        try:
            connection.request("POST", self._path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, TimeoutError):
                raise Retryable("server_error", "The embeddings provider did not answer in time.") from exc
            raise Retryable(
                "server_error", f"The embeddings provider could not be reached ({type(exc).__name__})."
            ) from exc
        finally:
            connection.close()
        if not 200 <= response.status < 300:
            raise self._refusal(response.status, raw, response.getheader("Retry-After"))
        return raw

    def _refusal(self, status: int, raw: bytes, retry_after: str | None) -> Exception:
        if status == 429:
            return Retryable(
                "rate_limit_exceeded",
                "The embeddings provider's rate limit was exceeded (429).",
                retry_after_seconds(retry_after),
            )
        if status >= 500 or status == 408:
            return Retryable(
                "server_error", f"The embeddings provider failed ({status}).", retry_after_seconds(retry_after)
            )
        if status in (401, 403):
            advice = (
                "check EMBEDDINGS_API_KEY_PARAMETER"
                if self._key_parameter
                else "check EMBEDDINGS_API_KEY"
                if self._key
                else "no key was sent: set EMBEDDINGS_API_KEY_PARAMETER"
            )
            return EmbeddingError(f"The embeddings provider refused the request ({status}): {advice}.", False)
        if status == 404:
            return EmbeddingError(
                f"The embeddings provider answered 404 for model {self.name[:100]!r} at {self._base_path}/embeddings: "
                "check EMBEDDINGS_MODEL and the path of EMBEDDINGS_BASE_URL.",
                False,
            )
        said = provider_message(raw)
        return EmbeddingError(
            f"The embeddings provider refused the request ({status}){': ' + said if said else '.'}", False
        )

    def _vectors(self, raw: bytes, count: int) -> list[list[float]]:
        """The answer's vectors in the texts' order (``data[i].index``, whatever order ``data`` lists them in)."""
        found: dict[int, list[float]] = {}
        try:
            for item in json.loads(raw)["data"]:
                found[int(item["index"])] = list(map(float, item["embedding"]))
        except (ValueError, KeyError, TypeError):
            raise EmbeddingError(NOT_EMBEDDINGS, False) from None
        if sorted(found) != list(range(count)):
            raise EmbeddingError(f"The embeddings provider answered {len(found)} vectors for {count} texts.", False)
        for vector in found.values():
            if len(vector) != self.dimensions:
                raise EmbeddingError(
                    f"The embeddings model {self.name[:100]!r} answered vectors of {len(vector)} dimensions, not "
                    f"{self.dimensions}: check EMBEDDINGS_DIMENSIONS.",
                    False,
                )
        return [found[index] for index in range(count)]

    def _api_key(self) -> str | None:
        if not self._key_parameter:
            return self._key
        from threads_api.providers.openai_compatible import read_secret

        try:
            return read_secret(self._key_parameter)  # cached for five minutes, as the runs' key
        except Exception as exc:  # whatever failed (not found, denied), the file's error says where to look
            raise EmbeddingError(
                f"The embeddings provider's API key could not be read from {self._key_parameter} "
                f"({type(exc).__name__}).",
                False,
            ) from None


def estimate_tokens(text: str) -> int:
    """A cheap bound of a text's tokens: a third of its UTF-8 bytes (len // 3 for English, about one a
    character for CJK scripts, where len // 3 would undercount)."""
    return len(text.encode("utf-8")) // 3 + 1


def batches(texts: list[str], max_inputs: int, max_tokens: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` slices of ``texts``, in order, each within both limits (a text over ``max_tokens``
    alone goes alone: the provider decides)."""
    start, tokens = 0, 0
    for index, text in enumerate(texts):
        cost = estimate_tokens(text)
        if index > start and (index - start >= max_inputs or tokens + cost > max_tokens):
            yield start, index
            start, tokens = index, 0
        tokens += cost
    if start < len(texts):
        yield start, len(texts)
