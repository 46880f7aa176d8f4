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

Run it alone: ``python -m infra.ops.embeddings_server --port 8002`` (from the repository's root), then
``make serve EMBEDDINGS_PROVIDER=openai EMBEDDINGS_BASE_URL=http://127.0.0.1:8002/v1``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from infra.ops.chat_server import Recorded

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


class EmbeddingsServer:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        answer_dimensions: int | None = None,
        reverse: bool = False,
    ) -> None:
        self.requests: list[Recorded] = []
        self.api_key = api_key  # when set, a request without "Authorization: Bearer <it>" is answered 401
        self.answer_dimensions = answer_dimensions
        self.reverse = reverse
        self._errors_served: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._address = (host, port)
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def invalid(self) -> list[Recorded]:
        return [r for r in self.requests if r.problems]

    def start(self) -> EmbeddingsServer:
        _validator(), _lexical()  # loaded now, not while a client's deadline runs
        self._httpd = ThreadingHTTPServer(self._address, _handler(self))
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="embeddings-server", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> EmbeddingsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        """Record a request and choose its answer."""
        try:
            body = json.loads(raw)
            problems = [f"{'/'.join(map(str, e.path))}: {e.message[:200]}" for e in _validator().iter_errors(body)]
            problems = problems or _refused(body)
        except ValueError:
            body, problems = raw.decode("utf-8", "replace"), ["the body is not JSON"]
        with self._lock:
            self.requests.append(Recorded(path, headers, body, problems))
            if path != "/v1/embeddings":
                return _error(404, f"no route {path}")
            if problems:
                return _error(400, "invalid request: " + "; ".join(problems))
            if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
                return _error(401, "Incorrect API key provided.")
            return self._answer(body)

    def _answer(self, body: dict[str, Any]) -> Answer:
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


def _handler(server: EmbeddingsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = server.receive(self.path, headers, raw)
            time.sleep(answer.delay)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                self._send(answer)

        def do_GET(self) -> None:
            self._send(_error(404, f"no route {self.path}"))

        def _send(self, answer: Answer) -> None:
            payload = json.dumps(answer.body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            if answer.retry_after is not None:
                self.send_header("Retry-After", answer.retry_after)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # quiet: tests read server.requests instead

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake OpenAI-compatible embeddings server (lexical vectors).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    options = parser.parse_args()
    server = EmbeddingsServer(host=options.host, port=options.port).start()
    print(f"fake embeddings server: EMBEDDINGS_BASE_URL={server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
