"""A file that ingestion refuses: its vector store file ends ``failed`` with this code and message."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class FileRejected(Exception):
    """``code`` is ``unsupported_file`` (a type that is not read) or ``invalid_file`` (empty, corrupt, not what
    its name claims, too large once expanded); ``message`` is a sentence naming the file's problem."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message: str) -> FileRejected:
    return FileRejected("invalid_file", message)


@contextmanager
def unreadable(filename: str, kind: str) -> Iterator[None]:
    """Any failure of a document library inside becomes ``invalid_file``.

    Deliberately broad: the libraries that read PDF and DOCX (pypdf, python-docx, lxml, zipfile) raise many
    types on a corrupt or hostile file (their own errors, and ValueError, KeyError, IndexError, TypeError,
    AssertionError, RecursionError, struct.error, ...), and an upload, whatever its bytes, must end as a
    failed file with a reason, never as a crashed ingestion. Only the library calls are inside."""
    try:
        yield
    except FileRejected:
        raise
    except Exception as exc:
        raise invalid(f"{filename} is not a {kind} that can be read ({_reason(exc)}).") from exc


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    if not text:
        return type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
