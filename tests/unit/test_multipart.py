"""``bucket.multipart``: chunks of at most 4 MiB become S3 parts of 8 MiB (all but the last over S3's 5 MiB minimum),
in order, with the MD5 of the whole, in bounded memory whatever the size; a failure aborts the multipart upload."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

MiB = 1024 * 1024


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """S3's multipart calls, recorded instead of made: ("part", number, size) and ("abort", upload id)."""
    from threads_api.bucket import s3

    calls: list[Any] = []
    monkeypatch.setattr(s3, "create_multipart_upload", lambda key: "upload-1")

    def upload_part(key: str, upload_id: str, number: int, data: bytes) -> str:
        calls.append(("part", number, len(data)))
        return f"e{number}"

    monkeypatch.setattr(s3, "upload_part", upload_part)
    monkeypatch.setattr(s3, "abort_multipart_upload", lambda key, upload_id: calls.append(("abort", upload_id)))
    return calls


def test_parts_of_8_mib_in_order_with_the_md5_of_the_whole(sent: list[Any]) -> None:
    from threads_api.bucket import multipart

    chunks = [os.urandom(4 * MiB), os.urandom(4 * MiB), os.urandom(3 * MiB), os.urandom(MiB), os.urandom(123)]
    assembled = multipart.assemble("alpha/file-x", iter(chunks))
    assert sent == [("part", 1, 8 * MiB), ("part", 2, 4 * MiB + 123)]
    assert (assembled.etags, assembled.size) == (["e1", "e2"], 12 * MiB + 123)
    assert assembled.md5 == hashlib.md5(b"".join(chunks)).hexdigest()


def test_a_small_file_is_one_last_part(sent: list[Any]) -> None:
    from threads_api.bucket import multipart

    assert multipart.assemble("k", iter([b"abc"])).etags == ["e1"]
    assert sent == [("part", 1, 3)]


def test_memory_stays_bounded_whatever_the_size(sent: list[Any]) -> None:
    """64 MiB through it (16 reads of 4 MiB): at most one buffer, the part being sent and the chunk just read."""
    from threads_api.bucket import multipart

    def reads() -> Iterator[bytes]:
        for _ in range(16):
            yield os.urandom(4 * MiB)  # a new object each time, as S3's reads are

    tracemalloc.start()
    try:
        multipart.assemble("k", reads())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(sent) == 8
    assert peak < 21 * MiB, peak / MiB  # the buffer (8 MiB), the part sent (8 MiB), the next chunk (4 MiB)


def test_a_failed_read_aborts_the_multipart_upload(sent: list[Any]) -> None:
    from threads_api.bucket import multipart

    def reads() -> Iterator[bytes]:
        yield os.urandom(5 * MiB)
        yield os.urandom(4 * MiB)
        raise ValueError("part missing")

    with pytest.raises(ValueError, match="part missing"):
        multipart.assemble("k", reads())
    assert sent == [("part", 1, 8 * MiB), ("abort", "upload-1")]
