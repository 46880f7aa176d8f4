"""API Gateway's binary media types (the template's ``BinaryMediaTypes``), locally: which request bodies reach a
function base64-encoded, and which clients get a function's base64-encoded answer as bytes."""

from __future__ import annotations

import base64
import fnmatch

from infra import template


def is_binary(media_type: str) -> bool:
    """Whether a media type (a Content-Type, or the first of an Accept) is one of the Api's binary media types."""
    kind = media_type.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return any(fnmatch.fnmatchcase(kind, pattern) for pattern in template.binary_media_types()) if kind else False


def event_body(body: bytes, content_type: str) -> tuple[str | None, bool]:
    """The event's body and its ``isBase64Encoded``: base64 for a binary media type, as API Gateway hands it
    over; otherwise the text (bytes that are not UTF-8 are sent base64 here too)."""
    if not body:
        return None, False
    if not is_binary(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode(), True
