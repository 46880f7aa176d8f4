"""The S3 client and the three calls the Files API makes on the stack's bucket: put, get and delete an object.

One botocore client per container, built on first use (only the files functions load this module). The bucket
encrypts what it stores (its default encryption: S3's keys, or the stack's KMS key) and takes only TLS; a
call that a retry may cure (throttling, a timeout, a 5xx past botocore's own retries) is ``Unavailable``, the
API's 503; every other error passes unchanged.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from threads_api.domain.errors import Unavailable

# Bounded retries, as the table's: 3 attempts of at most 1 s to connect and 10 s to read (a 4 MiB object).
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=1,
    read_timeout=10,
)
_TRANSIENT = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500"}
_MISSING = {"NoSuchKey", "404"}


def bucket_name() -> str:
    """The bucket every call goes to, from the function's environment (the template sets it)."""
    name = os.environ.get("BUCKET_NAME", "").strip()
    if not name:
        raise RuntimeError(
            "BUCKET_NAME is not set: the Files API needs the name of its S3 bucket (template.yaml sets it for "
            "the files functions; make serve and the tests set it for theirs)."
        )
    return name


@cache
def client() -> Any:
    return botocore.session.get_session().create_client("s3", config=CLIENT_CONFIG)


def _call(operation: str, **kwargs: Any) -> Any:
    try:
        return getattr(client(), operation)(Bucket=bucket_name(), **kwargs)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in _TRANSIENT:
            raise Unavailable(operation) from exc
        raise
    except BotoCoreError as exc:  # timeouts, connection errors
        raise Unavailable(operation) from exc


def put_object(key: str, data: bytes) -> None:
    _call("put_object", Key=key, Body=data, ContentType="application/octet-stream")


def get_object(key: str) -> bytes | None:
    """The object's bytes, or None where there is none."""
    try:
        response = _call("get_object", Key=key)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in _MISSING:
            return None
        raise
    body = response["Body"]
    try:
        return bytes(body.read())
    except BotoCoreError as exc:  # the connection cut mid-body
        raise Unavailable("get_object") from exc
    finally:
        body.close()


def delete_object(key: str) -> None:
    """Delete an object; one that is not there is deleted already (S3 answers the same)."""
    _call("delete_object", Key=key)
