"""The Uploads API's JSON bodies as pydantic v2 models (``CreateUploadRequest``, ``CompleteUploadRequest``), and
their 400s naming the field. Loaded only by the functions that take them."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from threads_api.domain import errors, limits
from threads_api.wire.file_objects import NOT_SUPPORTED, base_name
from threads_api.wire.request_bodies import ID_PATTERN, _Body, parse

# ``limits.FILE_PURPOSES``: the purposes files.create takes (a unit test keeps the two the same).
Purpose = Literal["assistants", "batch", "fine-tune", "vision", "user_data"]
PartId = Annotated[str, Field(min_length=1, max_length=limits.ID_MAX_CHARS, pattern=ID_PATTERN)]
_HEX_MD5 = re.compile(r"[0-9A-Fa-f]{32}")


def _filename(value: str) -> str:
    stored = base_name(value)
    if stored is None:
        raise PydanticCustomError(
            "invalid_value",
            "expected a file name of 1 to {most} characters, without control characters",
            {"most": limits.FILENAME_MAX_CHARS},
        )
    return stored


def _size(value: int) -> int:
    if value > limits.UPLOAD_MAX_BYTES:
        raise PydanticCustomError(
            "file_too_large",
            "{got} bytes, but this API takes uploads of at most {most} bytes (256 MiB: what uploads.complete "
            "assembles well within API Gateway's 29 seconds)",
            {"got": value, "most": limits.UPLOAD_MAX_BYTES},
        )
    return value


def _md5(value: str) -> str:
    """The MD5 as 32 lowercase hex digits, from hex or from its 16 bytes in base64."""
    if _HEX_MD5.fullmatch(value):
        return value.lower()
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise PydanticCustomError(
            "invalid_value", "expected the MD5 of the file's bytes: 32 hex digits (or its 16 bytes in base64)"
        )
    return digest.hex()


class CreateUploadIn(_Body):
    filename: Annotated[str, AfterValidator(_filename)]
    purpose: Purpose
    size: Annotated[
        int,
        Field(alias="bytes", ge=1, json_schema_extra={"maximum": limits.UPLOAD_MAX_BYTES}),
        AfterValidator(_size),
    ]
    mime_type: Annotated[str, Field(min_length=1, max_length=limits.MIME_TYPE_MAX_CHARS)]


class CompleteUploadIn(_Body):
    part_ids: Annotated[list[PartId], Field(min_length=1, max_length=limits.UPLOAD_MAX_PARTS)]
    md5: Annotated[str, AfterValidator(_md5)] | None = None


def create_request(body: dict[str, Any]) -> CreateUploadIn:
    """``uploads.create``'s body; ``expires_after`` (OpenAI's, for the file) refused as ``files.create`` refuses it."""
    if "expires_after" in body:
        raise errors.invalid(
            f"'expires_after' is not supported by this API: {NOT_SUPPORTED['expires_after']}.", param="expires_after"
        )
    return parse(CreateUploadIn, body)


def complete_request(body: dict[str, Any]) -> CompleteUploadIn:
    return parse(CompleteUploadIn, body)
