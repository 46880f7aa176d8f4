"""A scripted, local OpenAI-compatible embeddings server (``POST /v1/embeddings``), for tests and for ``make
serve`` with EMBEDDINGS_PROVIDER=openai but no model.

Every request is recorded (``server.requests``: path, headers, JSON body) and validated against
``CreateEmbeddingRequest`` of OpenAI's reference document, and against what OpenAI refuses besides (an empty
text, more than 300,000 tokens in one request, ``dimensions`` for text-embedding-ada-002 or past a model's full
size); an invalid one is answered 400 and listed in ``server.invalid``, so a test can assert that none was sent.

The answer is a ``CreateEmbeddingResponse`` whose vectors are the local lexical embedding
(``threads_api.embeddings.lexical``) of each text at the size asked (``dimensions``, else the model's: 3072 for
text-embedding-3-large, 1536 otherwise), so a search through this server ranks by shared words. Markers in a
text (removed before it is embedded) script failures, for the whole request:

- ``[[embed-error:STATUS]]``: answered STATUS (429, 500, 400, ...); ``[[embed-error:STATUS*N]]``: only the
  first N requests holding that text, then as if absent. A 429 or 5xx carries ``Retry-After: 0``;
- ``[[embed-slow:SECONDS]]``: the answer waits SECONDS first.

``answer_dimensions`` answers vectors of that size whatever was asked (a model misconfigured), ``reverse``
lists ``data`` last index first (OpenAI lists it in order; a client goes by ``index``). Usage counts words.

The HTTP server, its record of requests and the refusals it shares with the chat server are
``infra/ops/scripted_http.py``'s; this module chooses and writes the answers.

Run it alone: ``python -m infra.ops.embeddings_server --port 8002`` (from the repository's root), then
``make serve EMBEDDINGS_PROVIDER=openai EMBEDDINGS_BASE_URL=http://127.0.0.1:8002/v1``.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Self

from infra.ops.scripted_http import Recorded, ScriptedServer, run_alone, write_body

__all__ = ["EmbeddingsServer", "Recorded"]

MARKER = re.compile(r"\[\[embed-(error|slow):(.*?)\]\]", re.DOTALL)
FULL_SIZES = {"text-embedding-3-large": 3072}  # any other model: 1536, text-embedding-3-small's
DEFAULT_SIZE = 1536
MAX_REQUEST_TOKENS = 300_000
FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    delay: float = 0.0
    retry_after: str | None = None


def _error(status: int, message: str, delay: float = 0.0) -> Answer:
    retry_after = "0" if status == 429 or status >= 500 else None  # the client retries at once
    envelope = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
    return Answer(status, envelope, delay, retry_after)


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    from infra.ops.reference import files_document

    return Draft202012Validator({**files_document(), "$ref": "#/components/schemas/CreateEmbeddingRequest"})


@cache
def _lexical() -> Callable[[str, int], list[float]]:
    """The product's lexical embedding (functions/ is on the path in tests, not under ``python -m``)."""
    if str(FUNCTIONS) not in sys.path:
        sys.path.append(str(FUNCTIONS))
    from threads_api.embeddings.lexical import vector

    return vector


class EmbeddingsServer(ScriptedServer[Answer]):
    route = "/v1/embeddings"
    thread_name = "embeddings-server"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        answer_dimensions: int | None = None,
        reverse: bool = False,
    ) -> None:
        super().__init__(host=host, port=port, api_key=api_key)
        self.answer_dimensions = answer_dimensions
        self.reverse = reverse
        self._errors_served: Counter[str] = Counter()

    def start(self) -> Self:
        _lexical()  # loaded now, not while a client's deadline runs
        return super().start()

    def validator(self) -> Any:
        return _validator()

    def problems(self, body: Any) -> list[str]:
        return super().problems(body) or _refused(body)

    def refuse(self, status: int, message: str) -> Answer:
        return _error(status, message)

    def send(self, to: BaseHTTPRequestHandler, reply: Answer, raw: bytes) -> None:
        time.sleep(reply.delay)
        retry_after = {} if reply.retry_after is None else {"Retry-After": reply.retry_after}
        write_body(to, reply.status, json.dumps(reply.body).encode(), retry_after)

    def choose(self, body: Any) -> Answer:
        texts = _texts(body["input"])
        delay = 0.0
        for text in texts:
            for kind, value in MARKER.findall(text):
                if kind == "slow":
                    delay += float(value)
                    continue
                status, _, times = value.partition("*")
                key = f"{value}\0{text}"
                if not times or self._errors_served[key] < int(times):
                    self._errors_served[key] += 1
                    return _error(int(status), f"fake error {status}", delay)
        size = self.answer_dimensions or body.get("dimensions") or FULL_SIZES.get(body["model"], DEFAULT_SIZE)
        data = [
            {"object": "embedding", "index": index, "embedding": _vector(MARKER.sub("", text), size)}
            for index, text in enumerate(texts)
        ]
        words = sum(len(text.split()) for text in texts)
        answer = {
            "object": "list",
            "data": data[::-1] if self.reverse else data,
            "model": body["model"],
            "usage": {"prompt_tokens": words, "total_tokens": words},
        }
        return Answer(200, answer, delay)


def _texts(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _refused(body: dict[str, Any]) -> list[str]:
    """What OpenAI refuses that its schema lets through."""
    texts = _texts(body["input"])
    if not all(isinstance(text, str) for text in texts):
        return ["input: this fake server embeds texts, not token arrays"]
    problems = [f"input/{n}: an empty string cannot be embedded" for n, text in enumerate(texts) if not text]
    if sum(len(text.encode()) // 4 for text in texts) > MAX_REQUEST_TOKENS:  # a lenient count: 4 bytes a token
        problems.append(f"input: more than {MAX_REQUEST_TOKENS} tokens in one request")
    if body.get("encoding_format") == "base64":
        problems.append("encoding_format: this fake server answers floats only")
    size, model = body.get("dimensions"), body["model"]
    if size is not None and model == "text-embedding-ada-002":
        problems.append("dimensions: This model does not support specifying dimensions.")
    elif size is not None and size > FULL_SIZES.get(model, DEFAULT_SIZE) and model.startswith("text-embedding-3"):
        problems.append(f"dimensions: at most {FULL_SIZES.get(model, DEFAULT_SIZE)} for {model}")
    return problems


def _vector(text: str, size: int) -> list[float]:
    return [1.0] if size == 1 else _lexical()(text, size)  # lexical vectors have at least 2 dimensions


if __name__ == "__main__":
    run_alone(
        EmbeddingsServer,
        description="A fake OpenAI-compatible embeddings server (lexical vectors).",
        port=8002,
        announce="fake embeddings server: EMBEDDINGS_BASE_URL",
    )
