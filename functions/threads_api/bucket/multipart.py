"""A file assembled in the bucket from chunks of bytes (an upload's parts, in order): S3's multipart upload, fed
with parts of ``PART_BYTES``, so that memory stays bounded whatever the file's size.

S3 takes parts of 5 MiB to 5 GiB, all but the last (its "Amazon S3 multipart upload limits"). The chunks are
an upload's parts of at most 4 MiB each (what one request through API Gateway and Lambda carries), under that
minimum: S3 cannot copy them into parts itself (``UploadPartCopy`` copies one source object, or a range of one,
into one part, which must be 5 MiB unless it is the last). So the chunks are read in turn into a buffer, and
each 8 MiB of it is one part: at most one buffer (under 12 MiB), the part being sent and the chunk just read
are in memory. The MD5 of the whole is computed on the way, for the caller to check before the object is made.
The object exists only once ``finish`` completes the multipart upload; until then ``abort`` discards it (and
the bucket's lifecycle rule discards, a day on, one whose function was stopped before either).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from threads_api.bucket import s3

PART_BYTES = 8 * 1024 * 1024  # over S3's 5 MiB minimum; 32 parts for the largest upload (256 MiB)


@dataclass(frozen=True, slots=True)
class Assembled:
    """A multipart upload whose parts are all sent: not yet an object."""

    key: str
    upload_id: str
    etags: list[str]
    md5: str  # hex, of the whole
    size: int


def assemble(key: str, chunks: Iterable[bytes]) -> Assembled:
    """Send ``chunks``, in order, as the parts of a multipart upload to ``key``; a failure (of a chunk's read
    too) aborts it before it is raised."""
    upload_id = s3.create_multipart_upload(key)
    try:
        digest = hashlib.md5(usedforsecurity=False)
        etags: list[str] = []
        buffer = bytearray()
        size = 0
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            buffer += chunk
            del chunk  # not kept while the next one is read
            while len(buffer) >= PART_BYTES:
                with memoryview(buffer) as view:  # the part's one copy, freed once it is sent
                    etags.append(s3.upload_part(key, upload_id, len(etags) + 1, bytes(view[:PART_BYTES])))
                del buffer[:PART_BYTES]
        if buffer or not etags:  # the last part, of any size (an empty file is one empty part)
            etags.append(s3.upload_part(key, upload_id, len(etags) + 1, bytes(buffer)))
    except BaseException:
        abort(key, upload_id)
        raise
    return Assembled(key, upload_id, etags, digest.hexdigest(), size)


def finish(assembled: Assembled) -> None:
    """Make the object of the parts (S3's CompleteMultipartUpload)."""
    s3.complete_multipart_upload(assembled.key, assembled.upload_id, assembled.etags)


def abort(key: str, upload_id: str) -> None:
    """Discard a multipart upload, best effort (the bucket's lifecycle rule discards it otherwise)."""
    with contextlib.suppress(Exception):
        s3.abort_multipart_upload(key, upload_id)
