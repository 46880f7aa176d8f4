"""An embedder on Amazon Bedrock: Amazon Titan Text Embeddings V2 (``amazon.titan-embed-text-v2:0``), under the
function's IAM role (``bedrock:InvokeModel``), no key.

The model takes one text a call (InvokeModel, body ``{"inputText", "dimensions", "normalize": true}``), so the
texts of one ``embed`` go a few at a time (``CONCURRENCY`` threads), each through the deadline-bounded retry
loop the runs' providers use (``threads_api.providers.retry``): a throttle, a model timeout, an unavailable or
failing service is tried again; a refusal (ValidationException: too long a text, a wrong setting) is final.
botocore's own retries are off, so that loop is the only one. The client is built on first use, once per
container (one per read timeout, halved as the deadline nears: a few at most).
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any

from threads_api.embeddings import BEDROCK_DEFAULT_MODEL, BEDROCK_DEFAULT_SIZE, EmbeddingError, require_texts
from threads_api.providers import ProviderError, Stopped
from threads_api.providers.retry import Backoff, Retryable, call

THROTTLED = frozenset({"ThrottlingException", "ServiceQuotaExceededException"})
RETRIED = frozenset(
    {"ModelTimeoutException", "ServiceUnavailableException", "InternalServerException", "ModelNotReadyException"}
)
# Four calls at once: a file's chunks embed four times faster, and Bedrock's default quota of InvokeModel
# calls a minute for Titan embeddings is not met by one function alone (a throttle is retried anyway).
CONCURRENCY = 4
ATTEMPT_TIMEOUT_SECONDS = 30.0  # the read timeout of one call, halved as the deadline nears
MIN_READ_TIMEOUT = 0.25
CONNECT_TIMEOUT_SECONDS = 5.0
MESSAGE_MAX_CHARS = 500
NOT_TITAN = "Bedrock's answer was not a Titan Text Embeddings V2 response."
TOO_LATE = "Bedrock did not answer before the deadline."

_clients: dict[float, Any] = {}  # per container: by read timeout (a botocore client's timeouts are fixed)
_clients_lock = threading.Lock()


class _Abandoned(EmbeddingError):
    """A text's retries stopped because another text of the call failed (that one's error is raised)."""


class TitanEmbeddings:
    def __init__(
        self,
        *,
        model: str = BEDROCK_DEFAULT_MODEL,
        dimensions: int = BEDROCK_DEFAULT_SIZE,
        client: Any = None,
        backoff: Backoff = Backoff(),  # noqa: B008 - frozen, so one shared default is safe
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.name, self.dimensions = model, dimensions
        self._given = client  # a test's (stubbed) client, used for every call
        self._backoff, self._concurrency = backoff, concurrency

    def embed(self, texts: list[str], *, deadline: float) -> list[list[float]]:
        require_texts(texts)
        failed = threading.Event()  # the first failure stops the other texts' retries: the call has failed
        if len(texts) <= 1 or self._concurrency <= 1:
            return [self._one(text, deadline, failed) for text in texts]
        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(texts))) as pool:
            futures = [pool.submit(self._one, text, deadline, failed) for text in texts]
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                future.cancel()  # those not started yet; those under way stop before their next attempt
        failures = [e for f in futures if not f.cancelled() and (e := f.exception()) is not None]
        if failures:  # the one that failed the call, not those it stopped
            raise next((e for e in failures if not isinstance(e, _Abandoned)), failures[0])
        return [future.result() for future in futures]

    def _one(self, text: str, deadline: float, failed: threading.Event) -> list[float]:
        body = json.dumps({"inputText": text, "dimensions": self.dimensions, "normalize": True})
        try:
            return call(
                lambda left: self._attempt(body, left),
                deadline=deadline,
                backoff=self._backoff,
                should_stop=failed.is_set,
            )
        except ProviderError as exc:  # retries ran out, or the deadline came: later may do
            failed.set()
            cause = exc.__cause__
            raise EmbeddingError(cause.message if isinstance(cause, Retryable) else TOO_LATE, True) from None
        except Stopped:
            raise _Abandoned("Another text of the same call failed first.", True) from None
        except BaseException:
            failed.set()
            raise

    def _attempt(self, body: str, left: float) -> list[float]:
        from botocore import exceptions

        try:
            response = self._within(left).invoke_model(
                modelId=self.name, body=body, contentType="application/json", accept="application/json"
            )
            answer = json.loads(response["body"].read())
        except exceptions.ClientError as exc:
            raise _failure(dict(exc.response.get("Error", {})), self.name) from exc
        except (exceptions.ConnectionError, exceptions.HTTPClientError) as exc:
            raise Retryable("server_error", f"Bedrock could not be reached ({type(exc).__name__}).") from exc
        except exceptions.ParamValidationError as exc:
            raise EmbeddingError(_short(f"Bedrock refused the request: {exc}"), False) from exc
        except ValueError:
            raise EmbeddingError(NOT_TITAN, False) from None
        try:
            vector = list(map(float, answer["embedding"]))
        except (KeyError, TypeError, ValueError):
            raise EmbeddingError(NOT_TITAN, False) from None
        if len(vector) != self.dimensions:
            raise EmbeddingError(
                f"Bedrock's model {self.name[:100]!r} answered a vector of {len(vector)} dimensions, not "
                f"{self.dimensions}: check EMBEDDINGS_DIMENSIONS.",
                False,
            )
        return vector

    def _within(self, left: float) -> Any:
        """A client whose read timeout ends before ``left`` does (by halving ATTEMPT_TIMEOUT_SECONDS)."""
        if self._given is not None:
            return self._given
        level = ATTEMPT_TIMEOUT_SECONDS
        while level > left and level > MIN_READ_TIMEOUT:
            level /= 2
        with _clients_lock:  # the threads of one embed may ask for the first client together
            if level not in _clients:
                import boto3
                from botocore.config import Config

                config = Config(
                    read_timeout=level,
                    connect_timeout=min(CONNECT_TIMEOUT_SECONDS, level),
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    max_pool_connections=max(10, CONCURRENCY),
                )
                _clients[level] = boto3.client("bedrock-runtime", config=config)
            return _clients[level]


def _failure(error: dict[str, Any], model: str) -> Exception:
    code = str(error.get("Code", ""))
    if code in THROTTLED:
        return Retryable("rate_limit_exceeded", f"Bedrock throttled the request ({code}).")
    if code in RETRIED:
        return Retryable("server_error", f"Bedrock failed ({code}).")
    if code == "ValidationException":
        return EmbeddingError(_short(f"Bedrock refused the text: {error.get('Message') or code}"), False)
    if code == "AccessDeniedException":
        return EmbeddingError(
            f"Bedrock refused the request (AccessDeniedException): check the function's IAM role and that access "
            f"to model {model[:100]!r} is enabled in this region.",
            False,
        )
    if code == "ResourceNotFoundException":
        return EmbeddingError(
            f"Bedrock has no model {model[:100]!r} here (ResourceNotFoundException): check EMBEDDINGS_MODEL and the "
            "region.",
            False,
        )
    return EmbeddingError(f"Bedrock failed ({code or 'an unknown error'}).", False)


def _short(text: str) -> str:
    return text if len(text) <= MESSAGE_MAX_CHARS else text[: MESSAGE_MAX_CHARS - 1] + "…"
