"""A file's bytes (the bucket) and its item (the table), kept in step: what the files handlers call.

- **Create**: the item first, ``pending`` with a TTL (nothing lists or serves it), then the bytes, then the
  item marked processed (shown): three round trips, one DynamoDB write more than bytes-then-item, so that no
  stop leaves an object that nothing will delete. A function stopped anywhere (killed, timed out) leaves at
  most a pending item and its object: DynamoDB's TTL removes the item, and the stream's REMOVE record of it
  has the cleanup function delete the object (``after_removal``), unless an item is under the id again (a
  keyed retry wrote the file anew: the bytes are its). A failure the function sees deletes the object at
  once (best effort); the pending item is left to its TTL, so that the REMOVE record of a deletion now
  cannot reach the cleanup after a keyed retry (the same derived id) stored its bytes. A keyed retry that
  finds the pending item finishes it: stores the bytes again and marks it.
- **Delete**: the object first, then the item. An object key holds its project (``<project>/<file_id>``), so
  a delete by another project's key removes nothing of this project's and then finds no item (404). If the
  item's delete fails, the client's retry deletes it; a file's bytes never outlive the answer that says it is
  deleted. (A pending item is a 404 too; only an id never answered names one.)
- **Content**: the item (this project's, shown, or a 404), then its object; for a file larger than one Lambda
  response carries (an upload's), a presigned URL of its object instead, which the client follows (a redirect).
- **Uploads'** parts are objects under their upload (``<project>/<upload_id>/<part_id>``); the removal of an
  upload's item has the cleanup delete them (``after_removal``). Their use cases are in ``uploads``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from threads_api.bucket import s3
from threads_api.domain import ids, limits
from threads_api.domain.errors import NotFound
from threads_api.domain.records import File
from threads_api.store import files as file_items
from threads_api.store import purge
from threads_api.store import uploads as upload_items


def object_key(project: str, file_id: str) -> str:
    return f"{project}/{file_id}"


def part_key(project: str, upload_id: str, part_id: str) -> str:
    """An upload's part's object: under the upload, in the project's prefix."""
    return f"{project}/{upload_id}/{part_id}"


def create_file(project: str, filename: str, purpose: str, data: bytes, file_id: str | None = None) -> File:
    """Store a new file: its item (pending), its bytes, its item marked processed. ``file_id`` is given by a
    request with an Idempotency-Key."""
    file = file_items.new_file(file_id or ids.new_id("file-"), len(data), filename, purpose)
    stored = file_items.put_pending(project, file)
    if stored is not None:  # an earlier run of this request stored it whole
        return stored
    key = object_key(project, file.id)
    try:
        s3.put_object(key, data)
        return file_items.mark_processed(project, file.id)
    except BaseException:
        with contextlib.suppress(Exception):  # the error answered is the first one, whatever this one does
            s3.delete_object(key)  # now rather than at the pending item's expiry
        raise


def after_removal(record: dict[str, Any]) -> None:
    """The cleanup function's work for one stream record: the object of a pending file whose item was removed
    (its TTL expired: its upload never finished), unless an item is under its id again; the parts' objects of
    an upload whose item was removed (whatever its status: deleting them again is nothing); for any other
    record, ``store.purge``'s. Idempotent: Lambda retries a failed record."""
    removed = file_items.removed_pending(record)
    upload = upload_items.removed_upload(record)
    if upload is not None:
        project, upload_id, part_ids = upload
        s3.delete_objects([part_key(project, upload_id, part_id) for part_id in part_ids])
    elif removed is None:
        purge.after_removal(record)
    elif file_items.find_item(*removed) is None:
        s3.delete_object(object_key(*removed))


def file_content(project: str, file_id: str) -> bytes | str:
    """A file's bytes, or for a file over ``FILE_CONTENT_INLINE_MAX_BYTES`` a presigned URL of them (S3 serves
    them: a Lambda response carries 6 MB); a file that is not this project's (or whose bytes are gone) is a 404."""
    file = file_items.get_file(project, file_id)
    if file.bytes > limits.FILE_CONTENT_INLINE_MAX_BYTES:
        return s3.presigned_get_url(object_key(project, file_id), limits.FILE_URL_EXPIRES_SECONDS)
    data = s3.get_object(object_key(project, file_id))
    if data is None:
        raise NotFound("file", file_id)
    return data


def delete_file(project: str, file_id: str) -> None:
    s3.delete_object(object_key(project, file_id))
    file_items.delete_file(project, file_id)
