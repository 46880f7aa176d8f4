"""The Uploads API's shapes: OpenAI's Upload (with its file once completed) and UploadPart objects, and a part's
bytes read from ``uploads.parts.create``'s form (its 400s and 413 naming ``data``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from threads_api.domain import errors, limits
from threads_api.domain.records import File
from threads_api.domain.uploads import Upload, UploadPart, shown_status
from threads_api.wire.file_objects import Part, file_object


def upload_object(upload: Upload, now: int, file: File | None = None) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": upload.id,
        "object": "upload",
        "bytes": upload.bytes,
        "created_at": upload.created_at,
        "filename": upload.filename,
        "purpose": upload.purpose,
        "status": shown_status(upload, now),
        "expires_at": upload.expires_at,
    }
    if file is not None:
        shown["file"] = file_object(file)
    return shown


def part_object(part: UploadPart) -> dict[str, Any]:
    return {"id": part.id, "object": "upload.part", "created_at": part.created_at, "upload_id": part.upload_id}


def part_data(fields: Mapping[str, str], files: Mapping[str, Part]) -> bytes:
    """A part's bytes: the form's ``data``, a file part (as the SDK sends it) or a text field (``curl -F data=...``)."""
    for name in [*fields, *files]:
        if name != "data":
            raise errors.invalid(f"Unrecognized request argument supplied: {name}", param=name)
    part = files.get("data")
    if part is not None:
        data = part.data
    elif "data" in fields:
        data = fields["data"].encode("utf-8")
    else:
        raise errors.invalid("Missing required parameter: 'data'.", param="data", code="missing_required_parameter")
    if not data:
        raise errors.invalid("Invalid 'data': the part is empty.", param="data", code="empty_file")
    if len(data) > limits.UPLOAD_PART_MAX_BYTES:
        raise errors.PayloadTooLarge(
            f"Invalid 'data': {len(data)} bytes, but this API takes parts of at most {limits.UPLOAD_PART_MAX_BYTES} "
            "bytes (one request through API Gateway and Lambda).",
            param="data",
            code="file_too_large",
        )
    return data
