"""Embeddings: texts as vectors, for the vector stores' index (a file's chunks) and their searches (a query).

An ``Embedder`` turns texts into vectors of ``dimensions`` floats, one a text, in order, before a
``time.monotonic()`` deadline, or raises ``EmbeddingError``. Three are built in, chosen by ``from_environment()``:

- ``lexical``: the default, in process, nothing to configure; a hashed bag of words (shared words, not meaning);
- ``openai_compatible``: any server speaking OpenAI's ``POST /embeddings`` (OpenAI, vLLM, Ollama, LiteLLM, ...);
- ``bedrock``: Amazon Titan Text Embeddings V2 on Amazon Bedrock, under the function's IAM role.

Vectors of two embedders (or of one model at two sizes) cannot be compared: a store's vectors and its queries'
come from the same ``name`` at the same ``dimensions``.

Importing this package is cheap (the search API function imports it): the submodules, and http.client or
botocore, load only when ``from_environment()`` builds the embedder that needs them.
"""

from __future__ import annotations

import os
from typing import Protocol

LOCAL_NAME = "local-lexical-v1"
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
OPENAI_DEFAULT_MODEL = "text-embedding-3-small"
# The sizes OpenAI's models answer; text-embedding-3 models can be asked for fewer (``dimensions``), not more.
OPENAI_SIZES = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
BEDROCK_DEFAULT_MODEL = "amazon.titan-embed-text-v2:0"
BEDROCK_SIZES = (256, 512, 1024)  # the only sizes Titan Text Embeddings V2 answers
BEDROCK_DEFAULT_SIZE = 1024
MAX_DIMENSIONS = 4096  # an S3 Vectors index holds vectors of at most 4096 dimensions


class EmbeddingError(Exception):
    """The texts could not be embedded. ``retryable``: the same call later may succeed (the provider was
    throttled, failed, or did not answer in time); False: it never will as configured (the provider refused
    the request, the key, the model, or answered vectors of another size). ``message`` is a sentence for a
    vector store file's ``last_error``: it never carries a key or a text."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class Embedder(Protocol):
    @property
    def name(self) -> str:
        """What made the vectors: ``local-lexical-v1``, or the model's id."""

    @property
    def dimensions(self) -> int:
        """The length of every vector ``embed`` returns."""

    def embed(self, texts: list[str], *, deadline: float) -> list[list[float]]:
        """One vector a text, in the texts' order. A text is never empty (``EmbeddingError``, not retryable)."""
        ...


def require_texts(texts: list[str]) -> None:
    """Every embedder's one rule on its input: no empty text (OpenAI refuses one, and so do the others, so
    that a caller's bug shows locally too)."""
    for position, text in enumerate(texts):
        if not text:
            raise EmbeddingError(f"Text {position} to embed is empty: an empty text has no embedding.", False)


def from_environment() -> Embedder:
    """The embedder the environment configures; a setting that cannot work raises ValueError naming it.

    EMBEDDINGS_PROVIDER: ``local`` (the default), ``openai`` or ``bedrock``. For ``openai``: EMBEDDINGS_BASE_URL
    (default OpenAI's), EMBEDDINGS_MODEL (default text-embedding-3-small), EMBEDDINGS_DIMENSIONS (see
    ``_openai``), EMBEDDINGS_API_KEY (local use) or EMBEDDINGS_API_KEY_PARAMETER (an SSM SecureString's name, or a
    Secrets Manager secret: an ARN, or a name prefixed ``secretsmanager:``; read as the runs read
    MODEL_API_KEY_PARAMETER; neither: no Authorization header). For ``bedrock``: EMBEDDINGS_MODEL (default
    amazon.titan-embed-text-v2:0), EMBEDDINGS_DIMENSIONS (256, 512 or 1024, the default). ``local`` reads no
    other setting. An empty setting is an unset one (the template passes every parameter, empty by default).
    """
    name = _setting("EMBEDDINGS_PROVIDER").lower() or "local"
    if name == "local":
        from threads_api.embeddings.lexical import Lexical

        return Lexical()
    if name == "openai":
        return _openai()
    if name == "bedrock":
        return _bedrock()
    raise ValueError(f"EMBEDDINGS_PROVIDER must be local, openai or bedrock, not {name!r}.")


def _openai() -> Embedder:
    """EMBEDDINGS_DIMENSIONS for an OpenAI-compatible model: for OpenAI's models, optional (their full size by
    default); a text-embedding-3 model is asked for it (``dimensions`` in each request, at most its full
    size), text-embedding-ada-002 answers 1536 only. For any other model it is required: the size that model
    answers, checked on every answer but not sent, as most servers refuse ``dimensions`` for a model that cannot
    shorten its vectors (vLLM does)."""
    model = _setting("EMBEDDINGS_MODEL") or OPENAI_DEFAULT_MODEL
    size, full = _dimensions(), OPENAI_SIZES.get(model)
    if size is None and full is None:
        raise ValueError(
            f"EMBEDDINGS_DIMENSIONS must be set for model {model!r}: the number of dimensions of its vectors."
        )
    asked = model.startswith("text-embedding-3") and size is not None
    if full is not None and size is not None and (size > full or (size != full and not asked)):
        raise ValueError(
            f"EMBEDDINGS_DIMENSIONS must be {'at most ' if asked else ''}{full} for model {model!r}, not {size}."
        )
    from threads_api.embeddings.openai_compatible import OpenAICompatible

    return OpenAICompatible(
        _setting("EMBEDDINGS_BASE_URL") or OPENAI_DEFAULT_BASE_URL,
        model=model,
        dimensions=size or full or 0,
        send_dimensions=asked,
        api_key=_setting("EMBEDDINGS_API_KEY") or None,
        api_key_parameter=_setting("EMBEDDINGS_API_KEY_PARAMETER") or None,
    )


def _bedrock() -> Embedder:
    model = _setting("EMBEDDINGS_MODEL") or BEDROCK_DEFAULT_MODEL
    # Titan V2's request body only: another model (Titan V1, Cohere) takes another. An ARN (provisioned
    # throughput) does not name its model, and is taken on trust.
    if "titan-embed-text-v2" not in model and not model.startswith("arn:"):
        raise ValueError(
            f"EMBEDDINGS_MODEL must be Amazon Titan Text Embeddings V2 ({BEDROCK_DEFAULT_MODEL}) with "
            f"EMBEDDINGS_PROVIDER=bedrock, not {model!r}."
        )
    size = _dimensions() or BEDROCK_DEFAULT_SIZE
    if size not in BEDROCK_SIZES:
        raise ValueError(f"EMBEDDINGS_DIMENSIONS must be 256, 512 or 1024 for Titan Text Embeddings V2, not {size}.")
    from threads_api.embeddings.bedrock import TitanEmbeddings

    return TitanEmbeddings(model=model, dimensions=size)


def _dimensions() -> int | None:
    raw = _setting("EMBEDDINGS_DIMENSIONS")
    if not raw:
        return None
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_DIMENSIONS:
        raise ValueError(f"EMBEDDINGS_DIMENSIONS must be a whole number from 1 to {MAX_DIMENSIONS}, not {raw!r}.")
    return size


def _setting(name: str) -> str:
    return os.environ.get(name, "").strip()
