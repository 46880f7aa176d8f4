"""``Idempotency-Key`` on POST requests, with Powertools' idempotency utility on the API's own table.

The same key from the same project with the same request (path and body) returns the first response and
writes nothing new, for 24 hours; the same key with another request (another body, or another route) is a
400 (``idempotency_error``); a request still in flight with that key is a 409 with ``Retry-After`` (a retry
can succeed). Only successful responses are remembered: a request that failed may be retried with its key.

A streamed request (``stream: true``) is recorded before it runs, with ``STREAMED`` for its response (its
events are not kept): the key with another request is the same 400, and the same request runs again, finding
what its first run created by the id the key derives (``seed``).

What a record keeps (a record is one DynamoDB item, at most 400 KB), by this exact rule:
- the response's JSON, when it is at most 100,000 characters (``SAVED_BODY_MAX_CHARS``, counted
  ASCII-escaped as the record stores it);
- otherwise the response's JSON zlib-compressed and base64-encoded, when that is at most 300,000 characters
  (``SAVED_PACKED_MAX_CHARS``). Either way a replay is the first response, byte for byte, even after the
  object was modified or deleted;
- otherwise, which only a message with large, poorly compressible text can reach (for example 250,000
  random four-byte characters, or about 200,000 random CJK characters; prose and code compress far below the
  bound), the message's thread and message ids: a replay reads the message again, so it shows the message as
  it is then (its current metadata; a 404 once it is deleted).

Loaded on the first request that carries the header, so that the functions start without it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, override

from threads_api import store
from threads_api.domain import errors
from threads_api.http import errors as http_errors
from threads_api.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

EXPIRES_AFTER_SECONDS = 24 * 3600
RECORD_PREFIX = "request"  # not the operation's name: a key is one request, on whichever route
KEY_MAX_CHARS = 255

Response = tuple[int, dict[str, Any]]  # (status, body)
Execute = Callable[[], Response]


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool  # the first response to this key, not this request's own


@dataclass(slots=True)
class _Attempt:
    """One request's run: what it executes, and what that returned when it ran here (None: not run here)."""

    execute: Execute
    response: Response | None = None

    def __call__(self) -> dict[str, Any]:
        self.response = self.execute()
        return _remembered(*self.response)


class Runner:
    """Powertools' idempotent function on the API's table: one record per (project, key), whatever the
    operation, so that a key used for one request is refused on any other (the method, path and body are
    validated against the record). Built once per container, on the first request with a key."""

    def __init__(self) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        class OwnPartitions(DynamoDBPersistenceLayer):
            """A record per partition (pk "idempotency#<key>"): Powertools' default puts every record under one
            partition key, which a table with a local index caps at 10 GB and one partition's throughput."""

            @override  # Powertools' private hook: test_idempotency.py fails if it changes
            def _get_key(self, idempotency_key: str) -> dict[str, Any]:
                return {"pk": {"S": f"idempotency#{idempotency_key}"}, "sk": {"S": "idempotency"}}

        self.persistence: DynamoDBPersistenceLayer = OwnPartitions(
            table_name=store.TABLE,
            key_attr="pk",
            sort_key_attr="sk",
            expiry_attr="expires_at",  # the table's TTL attribute: DynamoDB removes records after 24 h
            boto3_client=store.client,  # type: ignore[arg-type]  # the botocore client is that client
        )
        self.config = IdempotencyConfig(
            event_key_jmespath="[project, key]",
            payload_validation_jmespath="[method, path, body]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=EXPIRES_AFTER_SECONDS,
            hash_function="sha256",
        )
        self._run: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="request",
            persistence_store=self.persistence,
            config=self.config,
            key_prefix=RECORD_PREFIX,
        )(_attempted)

    def run(self, request: dict[str, Any], execute: Execute, lambda_context: Any) -> Outcome:
        """Run ``execute`` unless the record of ``request``'s key says it already ran; errors as the API's."""
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
            # An in-flight record then expires with the invocation, so a crashed request does not block retries.
            self.config.register_lambda_context(lambda_context)
        attempt = _Attempt(execute)
        try:
            result = self._run(request=request, attempt=attempt)
        except IdempotencyValidationError:
            raise http_errors.ApiError(
                400,
                "This Idempotency-Key was already used with a different request. Use a new key for a new request.",
                type="idempotency_error",
                param="Idempotency-Key",
                code="idempotency_key_reused",
            ) from None
        except IdempotencyAlreadyInProgressError:
            raise http_errors.in_progress() from None
        except IdempotencyPersistenceLayerError as exc:
            if attempt.response is None:
                raise errors.Unavailable("idempotency") from exc
            # The operation succeeded (its write committed) and only saving the record failed: the answer is
            # that success, never a retryable error. The record stays in progress until this invocation's
            # deadline; a retry after it runs again and finds what this one created (``seed``).
            logger.warning("idempotency record not saved", extra={"error_type": type(exc.__cause__).__name__})
            return Outcome(*attempt.response, replayed=False)
        if attempt.response is not None:
            return Outcome(*attempt.response, replayed=False)
        return Outcome(*_replayed(result, request["project"]), replayed=True)


def _attempted(request: dict[str, Any], attempt: _Attempt) -> dict[str, Any]:
    """The function Powertools makes idempotent on ``request``: runs the attempt, returns what is remembered."""
    return attempt()


@cache
def runner() -> Runner:
    return Runner()


SAVED_BODY_MAX_CHARS = 100_000  # kept as it is, ASCII-escaped JSON
SAVED_PACKED_MAX_CHARS = 300_000  # kept compressed: with the record's other attributes, well under 400 KB


def _remembered(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """What the record keeps, by the rule of the module's docstring."""
    if len(json.dumps(body)) <= SAVED_BODY_MAX_CHARS:
        return {"status": status, "body": body}
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    packed = base64.b64encode(zlib.compress(raw, 9)).decode("ascii")
    if len(packed) > SAVED_PACKED_MAX_CHARS and body.get("object") == "thread.message":
        return {"status": status, "message": {"thread_id": body["thread_id"], "id": body["id"]}}
    return {"status": status, "packed": packed}


def _replayed(result: dict[str, Any], project: str) -> tuple[int, dict[str, Any]]:
    if "packed" in result:
        return int(result["status"]), json.loads(zlib.decompress(base64.b64decode(result["packed"])))
    if "message" in result:
        from threads_api.wire import response_bodies

        ref = result["message"]
        return int(result["status"]), response_bodies.message_object(
            store.get_message(project, ref["thread_id"], ref["id"])
        )
    return int(result["status"]), dict(result["body"])


STREAMED = {"streamed": "run again"}  # a streamed request's record: no response kept, the request runs again


def record_streamed(
    key: str, project: str, method: str, path: str, body: dict[str, Any], lambda_context: Any = None
) -> None:
    """Record a streamed request under its key before it runs (the key's request, ``STREAMED`` for its response):
    a key used for another request is the 400, one in flight the 409; the same request may run (again)."""
    run_once(key, project, method, path, body, lambda: (200, dict(STREAMED)), lambda_context)


def seed(key: str, project: str, method: str, path: str, body: dict[str, Any]) -> bytes:
    """The SHA-256 of the project, the key and the request (method, path, canonical body): what the id of
    the object a keyed request creates is derived from, so that running the request again finds that object."""
    canonical = json.dumps([project, key, method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).digest()


def run_once(
    key: str,
    project: str,
    method: str,
    path: str,
    body: dict[str, Any],
    execute: Execute,
    lambda_context: Any = None,
) -> Outcome:
    """Run ``execute`` once per (project, key): its response, or the first response to the key replayed."""
    if not key or len(key) > KEY_MAX_CHARS:
        raise errors.invalid(
            f"Invalid 'Idempotency-Key' header: expected 1 to {KEY_MAX_CHARS} characters.", param="Idempotency-Key"
        )
    request = {"project": project, "key": key, "method": method, "path": path, "body": body}
    return runner().run(request, execute, lambda_context)
