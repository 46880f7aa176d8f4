"""Vector stores, their files and file batches, as records; and the rules of their statuses and counts.

A vector store holds files; each of its files is ingested on its own (parsed, chunked, embedded, written to
the store's index) and ends ``completed``, ``failed`` (with a ``last_error``) or ``cancelled``. A store's
``file_counts`` and ``status`` are derived from its files' statuses; a batch's from those of its files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# OpenAI's: ``auto`` is a static strategy of 800 tokens with 400 of overlap.
AUTO_MAX_CHUNK_TOKENS = 800
AUTO_OVERLAP_TOKENS = 400
MIN_CHUNK_TOKENS = 100
MAX_CHUNK_TOKENS = 4096

# OpenAI's: the files a store is created with (``file_ids``), or a thread's ``vector_stores`` helper given.
STORE_MAX_FILE_IDS = 500

FILE_STATUSES = ("in_progress", "completed", "cancelled", "failed")
ERROR_CODES = ("server_error", "unsupported_file", "invalid_file")

Attributes = dict[str, str | float | bool]


@dataclass(frozen=True, slots=True)
class Chunking:
    """A static chunking strategy (``auto`` is 800/400, told as ``static`` once a file has one)."""

    max_chunk_size_tokens: int = AUTO_MAX_CHUNK_TOKENS
    chunk_overlap_tokens: int = AUTO_OVERLAP_TOKENS


@dataclass(slots=True)
class FileCounts:
    in_progress: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.in_progress + self.completed + self.failed + self.cancelled

    def as_dict(self) -> dict[str, int]:
        return {
            "in_progress": self.in_progress,
            "completed": self.completed,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "total": self.total,
        }


@dataclass(slots=True)
class ExpiresAfter:
    days: int
    anchor: str = "last_active_at"


@dataclass(slots=True)
class VectorStore:
    id: str
    created_at: int
    name: str
    last_active_at: int
    usage_bytes: int = 0
    file_counts: FileCounts = field(default_factory=FileCounts)
    metadata: dict[str, str] = field(default_factory=dict)
    expires_after: ExpiresAfter | None = None
    description: str | None = None

    @property
    def expires_at(self) -> int | None:
        if self.expires_after is None:
            return None
        return self.last_active_at + self.expires_after.days * 86_400

    def status(self, now: int) -> str:
        """``expired`` past its expiry, ``in_progress`` while a file is, else ``completed``."""
        expires_at = self.expires_at
        if expires_at is not None and now >= expires_at:
            return "expired"
        return "in_progress" if self.file_counts.in_progress else "completed"


@dataclass(frozen=True, slots=True)
class LastError:
    code: str  # one of ERROR_CODES
    message: str


@dataclass(slots=True)
class VectorStoreFile:
    """A file of a vector store: its id is the file's. ``chunks`` counts the vectors it wrote (their keys are
    ``<file id>#<n>``, n from 0), so that its deletion removes them without listing the index."""

    id: str
    vector_store_id: str
    created_at: int
    status: str = "in_progress"
    usage_bytes: int = 0
    chunking: Chunking = field(default_factory=Chunking)
    attributes: Attributes = field(default_factory=dict)
    last_error: LastError | None = None
    chunks: int = 0
    batch_id: str | None = None
    filename: str = ""
    generation: str = ""  # the ingestion's: see ``store.store_files``


@dataclass(slots=True)
class FileBatch:
    id: str
    vector_store_id: str
    created_at: int
    status: str = "in_progress"
    file_counts: FileCounts = field(default_factory=FileCounts)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One chunk found: its file, its score (0 to 1, higher is nearer) and its text."""

    file_id: str
    filename: str
    score: float
    text: str
    attributes: Attributes


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A search of a store's chunks: a client's (``wire.search_bodies``) or a run's file_search call (built by
    the worker, which then needs no pydantic)."""

    queries: list[str]  # one or more, each non-empty (a single string is one)
    max_num_results: int
    filters: dict[str, Any] | None  # the filter as sent, checked whole: what domain.filters.matches takes
    ranker: str
    score_threshold: float
    rewrite_query: bool


def batch_status(counts: FileCounts, cancelled: bool) -> str:
    """A batch is ``in_progress`` while one of its files is; then ``cancelled`` if it was cancelled,
    ``failed`` if a file failed, else ``completed``."""
    if counts.in_progress:
        return "in_progress"
    if cancelled:
        return "cancelled"
    return "failed" if counts.failed else "completed"


def counts_of(statuses: list[str]) -> FileCounts:
    counts = FileCounts()
    for status in statuses:
        setattr(counts, status, getattr(counts, status) + 1)
    return counts


def as_json(value: Any) -> Any:
    """Numbers of attributes as JSON gives them: an integral float as an int."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
