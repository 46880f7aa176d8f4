"""The S3 client and the calls the Files API makes on the stack's bucket: put, get and delete an object (or many
at once), and a multipart upload's steps (``multipart`` assembles a file with them).

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

# Bounded retries, as the table's: 3 attempts of at most 1 s to connect and 10 s to read (a 4 MiB object). SigV4
# for presigned URLs too (botocore presigns with SigV2 otherwise, which an object encrypted with KMS refuses).
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=1,
    read_timeout=10,
    signature_version="s3v4",
)
_TRANSIENT = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500"}
_MISSING = {"NoSuchKey", "404"}
DELETE_BATCH = 1000  # keys in one DeleteObjects


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
    # In AWS, virtual-hosted URLs of the function's region (bucket.s3.<region>.amazonaws.com): a presigned URL of
    # the global endpoint may be redirected for a new bucket outside us-east-1. A local endpoint (make serve, make
    # sam-local) keeps botocore's own choice (path-style for an address).
    local = bool(os.environ.get("AWS_ENDPOINT_URL_S3", "").strip())
    config = CLIENT_CONFIG if local else CLIENT_CONFIG.merge(Config(s3={"addressing_style": "virtual"}))
    return botocore.session.get_session().create_client("s3", config=config)


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


def presigned_get_url(key: str, expires_in: int) -> str:
    """A URL that GETs the object for ``expires_in`` seconds (signed with this function's credentials, so
    within their own lifetime too), with no call to S3."""
    params = {"Bucket": bucket_name(), "Key": key}
    return str(client().generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))


def delete_objects(keys: list[str]) -> None:
    """Delete objects, up to 1,000 a call (S3's bound); one that is not there is deleted already. A key S3
    could not delete fails the call (``Unavailable``): a retry deletes what is left."""
    for start in range(0, len(keys), DELETE_BATCH):
        batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
        response = _call("delete_objects", Delete={"Objects": batch, "Quiet": True})
        if response.get("Errors"):
            raise Unavailable("delete_objects")


def create_multipart_upload(key: str) -> str:
    """Start an object written in parts; its upload id."""
    return str(_call("create_multipart_upload", Key=key, ContentType="application/octet-stream")["UploadId"])


def upload_part(key: str, upload_id: str, number: int, data: bytes) -> str:
    """One part (1 to 10,000; each at least 5 MiB but the last, S3's rule); its ETag."""
    return str(_call("upload_part", Key=key, UploadId=upload_id, PartNumber=number, Body=data)["ETag"])


def complete_multipart_upload(key: str, upload_id: str, etags: list[str]) -> None:
    """The object made of the parts, in order: only now does it exist."""
    parts = [{"PartNumber": number, "ETag": etag} for number, etag in enumerate(etags, start=1)]
    _call("complete_multipart_upload", Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})


def abort_multipart_upload(key: str, upload_id: str) -> None:
    """Discard an unfinished multipart upload's parts; one already gone is discarded already."""
    try:
        _call("abort_multipart_upload", Key=key, UploadId=upload_id)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) not in {"NoSuchUpload", "404"}:
            raise
