"""An upload: a file larger than one request, sent in parts and then completed into a file (OpenAI's Uploads API).
Its record and its rules: what its state allows, when it has expired, what a completion must list. Pure.

An upload is ``pending`` (it takes parts) until it is completed, cancelled, or expires (an hour after its
creation, OpenAI's rule: ``expired`` is what it shows then, and it takes nothing more). A completion first
claims it (``completing``, shown as ``pending``) with the part ids it lists, so that no part is added under it
and no other request completes it at the same time; a claim older than ``COMPLETION_LEASE_MS`` is a run that
was stopped (its function killed or timed out), and the same completion, asked again, takes it over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from threads_api.domain import errors, limits

PENDING, COMPLETING, COMPLETED, CANCELLED, EXPIRED = "pending", "completing", "completed", "cancelled", "expired"
# Past the complete function's timeout (29 s, API Gateway's): a claim this old is a stopped run's.
COMPLETION_LEASE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Claim:
    """A completion under way: the parts it assembles, in order, the MD5 it checks, and when it started."""

    part_ids: tuple[str, ...]
    md5: str | None
    at_ms: int


@dataclass(slots=True)
class Upload:
    id: str
    created_at: int
    expires_at: int
    bytes: int
    filename: str
    purpose: str
    status: str = PENDING
    parts: dict[str, int] = field(default_factory=dict)  # part id -> its size, every part added
    file_id: str | None = None  # the file a completion makes (set by its claim)
    claim: Claim | None = None


@dataclass(frozen=True, slots=True)
class UploadPart:
    id: str
    created_at: int
    upload_id: str


def new_upload(upload_id: str, filename: str, purpose: str, size: int, now: int) -> Upload:
    return Upload(upload_id, now, now + limits.UPLOAD_EXPIRES_SECONDS, size, filename, purpose)


def shown_status(upload: Upload, now: int) -> str:
    """The status OpenAI's Upload object shows: a claimed upload is still ``pending``; a pending one past its
    ``expires_at`` is ``expired``."""
    if upload.status == PENDING and now >= upload.expires_at:
        return EXPIRED
    return PENDING if upload.status == COMPLETING else upload.status


def refusal(upload: Upload, action: str, now: int) -> errors.Refused:
    """Why ``action`` ("add parts to", "complete", "cancel") is refused to an upload in its state."""
    if upload.status == COMPLETING:
        return errors.Refused(f"Cannot {action} upload {upload.id}: it is being completed.")
    status = shown_status(upload, now)
    hint = " Uploads expire an hour after their creation: create a new one." if status == EXPIRED else ""
    return errors.Refused(f"Cannot {action} upload with status '{status}'.{hint}")


def too_many_parts(upload_id: str) -> errors.Invalid:
    return errors.invalid(
        f"Upload {upload_id} already has {limits.UPLOAD_MAX_PARTS} parts, the most one upload takes here: complete "
        "it with larger parts, or create a new one.",
        param="data",
        code="too_many_parts",
    )


def takes_over(upload: Upload, part_ids: list[str], md5: str | None, now_ms: int) -> bool:
    """Whether ``upload`` may be completed with ``part_ids`` (and ``md5``): False for a pending upload whose parts
    they are (checked here), True for a claim of the same completion whose run was stopped; otherwise the
    refusal (its status, another completion under way, bad part ids)."""
    if upload.status == COMPLETING and upload.claim is not None:
        if now_ms < upload.claim.at_ms + COMPLETION_LEASE_MS:
            raise errors.Busy(f"Upload {upload.id} is being completed by another request: retry in a few seconds.")
        if upload.claim.part_ids != tuple(part_ids) or upload.claim.md5 != md5:
            raise errors.Refused(
                f"Upload {upload.id} is being completed with other 'part_ids' or 'md5': complete it as first asked.",
                param="part_ids",
            )
        return True
    now = now_ms // 1000
    if upload.status != PENDING or now >= upload.expires_at:
        raise refusal(upload, "complete", now)
    _check_parts(upload, part_ids)
    return False


def _check_parts(upload: Upload, part_ids: list[str]) -> None:
    seen: set[str] = set()
    for index, part_id in enumerate(part_ids):
        param = f"part_ids[{index}]"
        if part_id not in upload.parts:
            raise errors.invalid(f"Invalid '{param}': no part '{part_id}' in upload {upload.id}.", param=param)
        if part_id in seen:
            raise errors.invalid(f"Invalid '{param}': part '{part_id}' is listed twice.", param=param)
        seen.add(part_id)
    total = sum(upload.parts[part_id] for part_id in part_ids)
    if total != upload.bytes:
        raise errors.invalid(
            f"Invalid 'part_ids': the parts add up to {total} bytes, but the upload was created with 'bytes' "
            f"{upload.bytes}.",
            param="part_ids",
            code="bytes_mismatch",
        )


def missing_part(index: int, part_id: str) -> errors.Invalid:
    """A part whose bytes are not stored (its request failed after the part was recorded)."""
    return errors.invalid(
        f"Invalid 'part_ids[{index}]': part '{part_id}' has no bytes stored (its request failed): add the bytes "
        "again as a new part and list that part instead.",
        param=f"part_ids[{index}]",
    )


def md5_mismatch(expected: str, actual: str) -> errors.Invalid:
    return errors.invalid(
        f"Invalid 'md5': the parts' bytes have the MD5 {actual}, not {expected}.", param="md5", code="md5_mismatch"
    )
