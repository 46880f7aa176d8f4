"""A ``multipart/form-data`` body (RFC 7578), as ``files.create`` and ``uploads.parts.create`` send it: its text
fields and its file parts, read from API Gateway's proxy event (base64-encoded when the API's binary media types
name the form), with OpenAI's 400s (and 413, naming the form's file field) for what it may not be. Standard
library only."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from threads_api.domain import errors, limits

_BOUNDARY = re.compile(r'boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))', re.IGNORECASE)
_PARAM = re.compile(r';\s*([A-Za-z*]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')
FORM_MAX_BYTES = limits.FILE_MAX_BYTES + limits.FORM_OVERHEAD_MAX_BYTES


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part: its filename (as the client named it) and its bytes."""

    filename: str
    data: bytes


@dataclass(slots=True)
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """What identifies the request, for an Idempotency-Key: its fields, and each file by name, size and
        SHA-256 (never the bytes themselves)."""
        files = {
            name: {"filename": up.filename, "bytes": len(up.data), "sha256": hashlib.sha256(up.data).hexdigest()}
            for name, up in self.files.items()
        }
        return {**self.fields, **files}


def parse_form(event: dict[str, Any], content_type: str, file_field: str = "file") -> Form:
    """The form of a ``multipart/form-data`` request whose bytes are its ``file_field`` part; anything else is a
    400 that says what is expected, and a body over the bound a 413 naming ``file_field``."""
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        raise errors.invalid(f"Invalid Content-Type header: expected multipart/form-data with a '{file_field}' part.")
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise errors.invalid("Invalid Content-Type header: multipart/form-data without a boundary.")
    return _parts(_raw(event, file_field), (match.group(1) or match.group(2)).encode("latin-1"))


def _raw(event: dict[str, Any], file_field: str) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        if len(body) > (FORM_MAX_BYTES + 2) // 3 * 4:
            raise _too_large(file_field)
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise errors.invalid("The request body is not valid base64.") from None
    else:
        raw = str(body).encode("utf-8", "surrogateescape")
    if len(raw) > FORM_MAX_BYTES:
        raise _too_large(file_field)
    return raw


def _too_large(file_field: str) -> errors.PayloadTooLarge:
    return errors.PayloadTooLarge(
        f"Invalid '{file_field}': too large. This API takes at most {limits.FILE_MAX_BYTES} bytes in one request "
        "(one request through API Gateway and Lambda); larger files go through the Uploads API, in parts.",
        param=file_field,
        code="file_too_large",
    )


def _parts(raw: bytes, boundary: bytes) -> Form:
    delimiter = b"--" + boundary
    if raw.startswith(delimiter):
        start = len(delimiter)
    elif (preamble := raw.find(b"\r\n" + delimiter)) >= 0:
        start = preamble + 2 + len(delimiter)
    else:
        raise _malformed()
    form = Form()
    for chunk in raw[start:].split(b"\r\n" + delimiter):
        if chunk.startswith(b"--"):
            return form  # the closing delimiter: what follows is the epilogue
        if not chunk.startswith(b"\r\n"):
            raise _malformed()
        head, sep, data = chunk[2:].partition(b"\r\n\r\n")
        if not sep:
            raise _malformed()
        name, filename = _disposition(head)
        if filename is not None:
            form.files.setdefault(name, Upload(filename, data))
        else:
            form.fields.setdefault(name, _text(name, data))
    raise _malformed()


def _disposition(head: bytes) -> tuple[str, str | None]:
    """The part's field name and, for a file, its filename (from Content-Disposition)."""
    for line in head.decode("utf-8", "replace").split("\r\n"):
        header, _, value = line.partition(":")
        if header.strip().lower() != "content-disposition":
            continue
        params = {
            m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _PARAM.finditer(value)
        }
        params = {key: re.sub(r"\\(.)", r"\1", text) for key, text in params.items()}
        if "name" in params:
            return params["name"], params.get("filename")
    raise _malformed()


def _text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.invalid(f"Invalid '{name}': not valid UTF-8 text.", param=name) from None


def _malformed() -> errors.Invalid:
    return errors.invalid("The request body is not a valid multipart/form-data body.")
