"""A file's bytes (the bucket) and its item (the table), kept in step: what the files handlers call.

- **Create**: the bytes first, then the item (a conditional put). Nothing lists or serves a file before its
  item exists, so an object without an item is never seen; if the item's write fails, the object is deleted
  before the error is answered. Only a function stopped between the two writes (killed, timed out) leaves an
  object behind, unreachable through the API (its id was never answered).
- **Delete**: the object first, then the item. An object key holds its project (``<project>/<file_id>``), so
  a delete by another project's key removes nothing of this project's and then finds no item (404). If the
  item's delete fails, the client's retry deletes it; a file's bytes never outlive the answer that says it is
  deleted.
- **Content**: the item (this project's, or a 404), then its object.
"""

from __future__ import annotations

import contextlib

from threads_api.bucket import s3
from threads_api.domain import ids
from threads_api.domain.errors import NotFound
from threads_api.domain.records import File
from threads_api.store import files as file_items


def object_key(project: str, file_id: str) -> str:
    return f"{project}/{file_id}"


def create_file(project: str, filename: str, purpose: str, data: bytes, file_id: str | None = None) -> File:
    """Store a new file: its bytes, then its item. ``file_id`` is given by a request with an Idempotency-Key."""
    file = file_items.new_file(file_id or ids.new_id("file-"), len(data), filename, purpose)
    key = object_key(project, file.id)
    s3.put_object(key, data)
    try:
        return file_items.put_file(project, file)
    except BaseException:
        with contextlib.suppress(Exception):  # the error answered is the item's, whatever this one does
            s3.delete_object(key)  # the bytes of a file that was never answered go with it
        raise


def file_content(project: str, file_id: str) -> bytes:
    """A file's bytes; a file that is not this project's (or whose bytes are gone) is a 404."""
    file_items.get_file(project, file_id)
    data = s3.get_object(object_key(project, file_id))
    if data is None:
        raise NotFound("file", file_id)
    return data


def delete_file(project: str, file_id: str) -> None:
    s3.delete_object(object_key(project, file_id))
    file_items.delete_file(project, file_id)
