"""The Uploads API's use cases, across the bucket and the table: a file larger than one request, sent in parts,
then assembled into a file as ``files.create`` writes one. What the uploads handlers call.

- **Create**: the upload's item (``store.uploads``); no bytes yet.
- **Add a part**: the part recorded on the upload first (one conditional update: the upload is pending, not
  expired, and has room), then its bytes (an object under the upload). A failure the function sees forgets the
  part; a function stopped between the two leaves a part without bytes, which a completion listing it refuses
  (400) and which never leaves an object that nothing deletes.
- **Complete**: the upload read and the part ids checked (nothing is written for a bad request), the upload
  claimed (``completing``: no part is added under it, no other request completes it at once), the parts read
  in order into an S3 multipart upload (``bucket.multipart``: bounded memory) with their MD5, checked, then the
  file's item written pending, the object made, the item shown (a file exactly as ``files.create`` writes one),
  the upload completed, and the parts' objects deleted. A failure the function sees gives the claim back (the
  upload is pending again); a function stopped anywhere leaves a claim that the same completion, asked again
  after ``COMPLETION_LEASE_MS``, takes over (its file, if already shown, is kept), or else items whose expiry
  (their TTL, and the stream's cleanup) removes the parts, and a pending file's object.
- **Cancel**: the upload cancelled (one conditional update), then its parts' objects deleted.

Deleting parts after an upload is completed or cancelled is best effort: its item keeps listing them, and
its removal (by its TTL) has the cleanup function delete them again (``operations.after_removal``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from threads_api.bucket import multipart, s3
from threads_api.domain import clock, ids
from threads_api.domain import uploads as rules
from threads_api.domain.records import File
from threads_api.domain.uploads import Upload, UploadPart
from threads_api.files.operations import object_key, part_key
from threads_api.store import files as file_items
from threads_api.store import uploads as upload_items


def create_upload(project: str, filename: str, purpose: str, size: int, upload_id: str | None = None) -> Upload:
    """A new upload, pending for an hour. ``upload_id`` is given by a request with an Idempotency-Key."""
    upload = rules.new_upload(upload_id or ids.new_id("upload_"), filename, purpose, size, clock.now())
    return upload_items.put_upload(project, upload)


def add_part(project: str, upload_id: str, data: bytes, part_id: str | None = None) -> UploadPart:
    """Add a part (its bytes) to a pending upload; ``part_id`` is given by a request with an Idempotency-Key."""
    part = UploadPart(part_id or ids.new_id("part_"), clock.now(), upload_id)
    upload_items.add_part(project, upload_id, part.id, len(data), part.created_at)
    try:
        s3.put_object(part_key(project, upload_id, part.id), data)
    except BaseException:
        with contextlib.suppress(Exception):  # the error answered is the first one
            upload_items.drop_part(project, upload_id, part.id)
        raise
    return part


def complete_upload(
    project: str, upload_id: str, part_ids: list[str], md5: str | None, file_id: str | None = None
) -> tuple[Upload, File]:
    """Complete a pending upload with its parts in ``part_ids``' order (and their MD5, hex, when given): the
    upload completed and its file. ``file_id`` is given by a request with an Idempotency-Key."""
    upload = upload_items.get_upload(project, upload_id)
    now_ms = clock.now_ms()
    takeover = rules.takes_over(upload, part_ids, md5, now_ms)
    claimed = upload_items.claim(project, upload, part_ids, md5, file_id or ids.new_id("file-"), now_ms)
    try:
        file = _stored_file(project, claimed) if takeover else None
        file = file or _store_file(project, claimed)
    except BaseException:
        with contextlib.suppress(Exception):  # the error answered is the first one
            upload_items.release(project, claimed)
        raise
    completed = upload_items.mark_completed(project, claimed)
    _delete_parts(project, claimed)
    return completed, file


def cancel_upload(project: str, upload_id: str) -> Upload:
    """Cancel a pending upload: it takes nothing more, and its parts' bytes are deleted."""
    upload = upload_items.cancel(project, upload_id, clock.now())
    _delete_parts(project, upload)
    return upload


def _stored_file(project: str, upload: Upload) -> File | None:
    """The file of a claim taken over, if its stopped run had shown it already."""
    assert upload.file_id is not None
    return file_items.find_file(project, upload.file_id)


def _store_file(project: str, upload: Upload) -> File:
    """The claimed upload's parts assembled into its file: the item pending, the object, the item shown."""
    assert upload.file_id is not None
    assert upload.claim is not None
    key = object_key(project, upload.file_id)
    assembled = multipart.assemble(key, _parts_bytes(project, upload))
    try:
        if upload.claim.md5 is not None and assembled.md5 != upload.claim.md5:
            raise rules.md5_mismatch(upload.claim.md5, assembled.md5)
        file = file_items.new_file(upload.file_id, assembled.size, upload.filename, upload.purpose)
        stored = file_items.put_pending(project, file)
        if stored is not None:  # a run that took over this claim stored it whole
            multipart.abort(key, assembled.upload_id)
            return stored
        multipart.finish(assembled)
    except BaseException:
        multipart.abort(key, assembled.upload_id)
        raise
    try:
        return file_items.mark_processed(project, upload.file_id)
    except BaseException:
        with contextlib.suppress(Exception):  # now rather than at the pending item's expiry
            s3.delete_object(key)
        raise


def _parts_bytes(project: str, upload: Upload) -> Iterator[bytes]:
    """Each listed part's bytes, in order, read one at a time."""
    assert upload.claim is not None
    for index, part_id in enumerate(upload.claim.part_ids):
        data = s3.get_object(part_key(project, upload.id, part_id))
        if data is None:
            raise rules.missing_part(index, part_id)
        yield data


def _delete_parts(project: str, upload: Upload) -> None:
    """Every part's object (listed or not), best effort: the upload's removal deletes them otherwise."""
    with contextlib.suppress(Exception):
        s3.delete_objects([part_key(project, upload.id, part_id) for part_id in upload.parts])
