"""The Files API's shapes: ``files.create``'s form read into a new file (its 400s and 413 naming the field), the
file object, its deletion, and a file's bytes as a response body (or a redirect to them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from threads_api.domain import errors, limits
from threads_api.domain.records import File

FORM_FIELDS = ("file", "purpose")
# OpenAI's, which this API does not keep: the request is refused rather than the setting silently ignored.
NOT_SUPPORTED = {
    "expires_after": "files here do not expire; delete a file when it is no longer needed",
}


class Part(Protocol):
    @property
    def filename(self) -> str: ...
    @property
    def data(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class NewFile:
    filename: str
    purpose: str
    data: bytes


class Content(dict[str, Any]):
    """A response body of raw bytes (``data``), sent as they are with ``content_type``."""

    def __init__(self, data: bytes, content_type: str = "application/octet-stream") -> None:
        super().__init__()
        self.data = data
        self.content_type = content_type


class Redirect(dict[str, Any]):
    """A response that sends the client elsewhere (``location``): a file's bytes that S3 serves."""

    def __init__(self, location: str) -> None:
        super().__init__()
        self.location = location


def content(result: bytes | str) -> Content | tuple[int, Redirect]:
    """A file's bytes as the response body, or a URL of them (``files.operations.file_content``) as a 302."""
    return Content(result) if isinstance(result, bytes) else (302, Redirect(result))


def new_file(fields: Mapping[str, str], files: Mapping[str, Part]) -> NewFile:
    """The file a ``files.create`` form asks for: a ``file`` part and a ``purpose`` OpenAI's file object names."""
    for name in [*fields, *files]:
        base = name.split("[", 1)[0]
        if base in NOT_SUPPORTED:
            raise errors.invalid(f"'{base}' is not supported by this API: {NOT_SUPPORTED[base]}.", param=base)
        if base not in FORM_FIELDS:
            raise errors.invalid(f"Unrecognized request argument supplied: {name}", param=name)
    if "file" in fields:
        raise errors.invalid("Invalid 'file': expected a file upload, but got a text field.", param="file")
    upload = files.get("file")
    if upload is None:
        raise errors.invalid("Missing required parameter: 'file'.", param="file", code="missing_required_parameter")
    if "purpose" in files:
        raise errors.invalid("Invalid 'purpose': expected a text field, but got a file.", param="purpose")
    purpose = fields.get("purpose")
    if purpose is None:
        raise errors.invalid(
            "Missing required parameter: 'purpose'.", param="purpose", code="missing_required_parameter"
        )
    if purpose not in limits.FILE_PURPOSES:
        supported = ", ".join(f"'{p}'" for p in limits.FILE_PURPOSES)
        raise errors.invalid(
            f"Invalid value for 'purpose': {purpose[:64]!r}. Supported values are: {supported}.",
            param="purpose",
            code="invalid_value",
        )
    return NewFile(_filename(upload.filename), purpose, _data(upload.data))


def base_name(name: str) -> str | None:
    """A file's name as stored: the last part of a path some clients send; None for a name this API does not
    take (empty, longer than ``FILENAME_MAX_CHARS``, or with control characters)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not name.strip() or len(name) > limits.FILENAME_MAX_CHARS:
        return None
    return None if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in name) else name


def _filename(name: str) -> str:
    stored = base_name(name)
    if stored is None:
        raise errors.invalid(
            f"Invalid 'file': its name must be 1 to {limits.FILENAME_MAX_CHARS} characters, without control "
            "characters.",
            param="file",
            code="invalid_value",
        )
    return stored


def _data(data: bytes) -> bytes:
    if not data:
        raise errors.invalid("Invalid 'file': the file is empty.", param="file", code="empty_file")
    if len(data) > limits.FILE_MAX_BYTES:
        raise errors.PayloadTooLarge(
            f"Invalid 'file': {len(data)} bytes, but this API takes files of at most {limits.FILE_MAX_BYTES} "
            "bytes (one request through API Gateway and Lambda).",
            param="file",
            code="file_too_large",
        )
    return data


def file_object(file: File) -> dict[str, Any]:
    return {
        "id": file.id,
        "object": "file",
        "bytes": file.bytes,
        "created_at": file.created_at,
        "filename": file.filename,
        "purpose": file.purpose,
        "status": file.status,
    }


def file_deleted(file_id: str) -> dict[str, Any]:
    return {"id": file_id, "object": "file", "deleted": True}
