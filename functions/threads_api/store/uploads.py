"""Uploads' items: one item per upload in its project's files partition (``files#<project>``, ``upload#<id>``),
its parts a map on it (part id -> size), every change one conditional write. The bytes are the bucket's.

The item holds created_at, exp (OpenAI's expires_at), size (the bytes announced), fname, purpose, status
(``domain.uploads``), parts, and once a completion claims it: file_id, claim_ids (the part ids, in order),
claim_md5, claim_at. Like a pending file's, it always carries ``pending`` and a TTL (``expires_at``): its
removal, whatever its status, is a stream REMOVE record that the cleanup filter passes, and the record's old
image lists the parts whose objects it deletes (``removed_upload``). The TTL is the upload's expiry while it
is pending (cancelled, it keeps it), and an hour past a completion's claim: the parts of an upload stopped
anywhere are removed in the end, and a finished upload's item too. No ``ok``: no index lists an upload.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from threads_api.domain import errors, limits
from threads_api.domain import uploads as rules
from threads_api.domain.uploads import Claim, Upload
from threads_api.store import dynamodb
from threads_api.store.files import PARTITION_PREFIX, partition
from threads_api.store.items import removed_item

if TYPE_CHECKING:
    from threads_api.store.items import Item

UPLOAD_PREFIX = "upload#"
NAMES = {"#status": "status", "#parts": "parts"}


def upload_key(project: str, upload_id: str) -> Item:
    return {"pk": {"S": partition(project)}, "sk": {"S": f"{UPLOAD_PREFIX}{upload_id}"}}


def upload_from_item(item: Item) -> Upload:
    claim = None
    if "claim_at" in item:
        ids = tuple(str(v["S"]) for v in item["claim_ids"]["L"])
        claim = Claim(ids, item["claim_md5"]["S"] if "claim_md5" in item else None, int(item["claim_at"]["N"]))
    return Upload(
        id=item["sk"]["S"].removeprefix(UPLOAD_PREFIX),
        created_at=int(item["created_at"]["N"]),
        expires_at=int(item["exp"]["N"]),
        bytes=int(item["size"]["N"]),
        filename=item["fname"]["S"],
        purpose=item["purpose"]["S"],
        status=item["status"]["S"],
        parts={part_id: int(size["N"]) for part_id, size in item["parts"]["M"].items()},
        file_id=item["file_id"]["S"] if "file_id" in item else None,
        claim=claim,
    )


def put_upload(project: str, upload: Upload) -> Upload:
    """Write a new upload (one conditional put). An item already under its id was written by an earlier run of
    the same request (a keyed retry, whose id is derived from its key): that upload, as it is."""
    item: Item = {
        **upload_key(project, upload.id),
        "created_at": {"N": str(upload.created_at)},
        "exp": {"N": str(upload.expires_at)},
        "size": {"N": str(upload.bytes)},
        "fname": {"S": upload.filename},
        "purpose": {"S": upload.purpose},
        "status": {"S": rules.PENDING},
        "parts": {"M": {}},
        "pending": {"BOOL": True},
        "expires_at": {"N": str(upload.expires_at)},
    }
    try:
        dynamodb.call(
            "put_item",
            Item=item,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        return upload_from_item(dynamodb.old_item(exc, errors.NotFound("upload", upload.id)))
    return upload


def get_upload(project: str, upload_id: str) -> Upload:
    item = dynamodb.get_item(upload_key(project, upload_id))
    if item is None:
        raise errors.NotFound("upload", upload_id)
    return upload_from_item(item)


def add_part(project: str, upload_id: str, part_id: str, size: int, now: int) -> None:
    """Record a part (its size) on a pending upload that has not expired and has room for it; one conditional
    update. The same part again (a keyed retry) is recorded again."""
    try:
        dynamodb.call(
            "update_item",
            Key=upload_key(project, upload_id),
            UpdateExpression="SET #parts.#part = :size",
            ConditionExpression=(
                "attribute_exists(pk) AND #status = :pending AND exp > :now"
                " AND (size(#parts) < :most OR attribute_exists(#parts.#part))"
            ),
            ExpressionAttributeNames={**NAMES, "#part": part_id},
            ExpressionAttributeValues={
                ":size": {"N": str(size)},
                ":pending": {"S": rules.PENDING},
                ":now": {"N": str(now)},
                ":most": {"N": str(limits.UPLOAD_MAX_PARTS)},
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        upload = upload_from_item(dynamodb.old_item(exc, errors.NotFound("upload", upload_id)))
        if upload.status == rules.PENDING and now < upload.expires_at:
            raise rules.too_many_parts(upload_id) from exc
        raise rules.refusal(upload, "add parts to", now) from exc


def drop_part(project: str, upload_id: str, part_id: str) -> None:
    """Forget a part whose bytes could not be stored (on a pending upload; otherwise nothing changes)."""
    _update(
        project,
        upload_id,
        UpdateExpression="REMOVE #parts.#part",
        ConditionExpression="#status = :pending",
        ExpressionAttributeNames={**NAMES, "#part": part_id},
        ExpressionAttributeValues={":pending": {"S": rules.PENDING}},
    )


def claim(project: str, upload: Upload, part_ids: list[str], md5: str | None, file_id: str, now_ms: int) -> Upload:
    """Claim ``upload`` for a completion (``completing``): as it was read (pending and not expired, or the stopped
    claim it takes over), in one conditional update; the upload as claimed (its file id the first claim's). The
    TTL moves to an hour past the claim. Changed since it was read: ``Busy`` (read it again)."""
    values: dict[str, Any] = {
        ":completing": {"S": rules.COMPLETING},
        ":file": {"S": file_id},
        ":ids": {"L": [{"S": part_id} for part_id in part_ids]},
        ":at": {"N": str(now_ms)},
        ":ttl": {"N": str(now_ms // 1000 + limits.UPLOAD_EXPIRES_SECONDS)},
    }
    if upload.claim is None:
        condition = "#status = :pending AND exp > :now"
        values |= {":pending": {"S": rules.PENDING}, ":now": {"N": str(now_ms // 1000)}}
    else:
        condition = "#status = :completing AND claim_at = :seen"
        values[":seen"] = {"N": str(upload.claim.at_ms)}
    sets = ["#status = :completing", "file_id = if_not_exists(file_id, :file)", "claim_ids = :ids", "claim_at = :at"]
    sets.append("expires_at = :ttl")
    if md5 is not None:
        sets.append("claim_md5 = :md5")
        values[":md5"] = {"S": md5}
    update = "SET " + ", ".join(sets) + (" REMOVE claim_md5" if md5 is None else "")
    return _update_claim(
        project, upload.id, UpdateExpression=update, ConditionExpression=condition, ExpressionAttributeValues=values
    )


def release(project: str, upload: Upload) -> None:
    """Give a claim back (a completion that failed where its run could see it: its md5, S3): the upload is
    pending again, with its own expiry as its TTL, and the same request may complete it at once."""
    assert upload.claim is not None
    _update(
        project,
        upload.id,
        UpdateExpression="SET #status = :pending, expires_at = :exp REMOVE file_id, claim_ids, claim_md5, claim_at",
        ConditionExpression="#status = :completing AND claim_at = :at",
        ExpressionAttributeValues={
            ":pending": {"S": rules.PENDING},
            ":completing": {"S": rules.COMPLETING},
            ":exp": {"N": str(upload.expires_at)},
            ":at": {"N": str(upload.claim.at_ms)},
        },
    )


def mark_completed(project: str, upload: Upload) -> Upload:
    """The claimed upload completed (its file stored and shown); a run that took over and finished first is the
    same completion (the same file)."""
    return _update_claim(
        project,
        upload.id,
        UpdateExpression="SET #status = :completed",
        ConditionExpression="#status IN (:completing, :completed) AND file_id = :file",
        ExpressionAttributeValues={
            ":completing": {"S": rules.COMPLETING},
            ":completed": {"S": rules.COMPLETED},
            ":file": {"S": upload.file_id or ""},
        },
    )


def cancel(project: str, upload_id: str, now: int) -> Upload:
    """Cancel a pending upload that has not expired (one conditional update); the upload, cancelled."""
    try:
        response = dynamodb.call(
            "update_item",
            Key=upload_key(project, upload_id),
            UpdateExpression="SET #status = :cancelled",
            ConditionExpression="attribute_exists(pk) AND #status = :pending AND exp > :now",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":cancelled": {"S": rules.CANCELLED},
                ":pending": {"S": rules.PENDING},
                ":now": {"N": str(now)},
            },
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        upload = upload_from_item(dynamodb.old_item(exc, errors.NotFound("upload", upload_id)))
        raise rules.refusal(upload, "cancel", now) from exc
    return upload_from_item(response["Attributes"])


def _update(project: str, upload_id: str, **params: Any) -> Any:
    """One conditional update of an upload's item (``#status`` named unless ``params`` name others): DynamoDB's
    answer, or None when the condition failed (the upload is not as its caller read it). Any other error is
    raised."""
    params.setdefault("ExpressionAttributeNames", {"#status": "status"})
    try:
        return dynamodb.call("update_item", Key=upload_key(project, upload_id), **params)
    except ClientError as exc:
        if dynamodb.error_code(exc) != "ConditionalCheckFailedException":
            raise
        return None


def _update_claim(project: str, upload_id: str, **params: Any) -> Upload:
    """A completion's conditional update of its claim: the upload as it left it. A failed condition (another run
    changed the upload since this one read it) is ``Busy``: the client asks again, and that run reads it anew."""
    response = _update(project, upload_id, ReturnValues="ALL_NEW", **params)
    if response is None:
        raise errors.Busy(f"Upload {upload_id} changed while it was being completed: retry.", 1)
    return upload_from_item(response["Attributes"])


def removed_upload(record: dict[str, Any]) -> tuple[str, str, list[str]] | None:
    """The (project, upload id, part ids) of a stream record of an upload's item removed (its TTL expired), or
    None for any other record."""
    removed = removed_item(record)
    if removed is None:
        return None
    pk, sk, old = removed
    if not sk.startswith(UPLOAD_PREFIX) or "pending" not in old:
        return None
    parts = list((old.get("parts") or {}).get("M", {}))
    return pk.removeprefix(PARTITION_PREFIX), sk.removeprefix(UPLOAD_PREFIX), parts
