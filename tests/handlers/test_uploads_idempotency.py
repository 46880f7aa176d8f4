"""Idempotency-Key on the Uploads API's four POSTs, as on the others: a keyed request runs once and its retry is
the first answer; a keyed request that fails keeps no record (the same request fails again, never a 409); a
retry whose record was lost finds what the first run made, under the id the key derives."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api, Reply
from tests.handlers.uploads_support import add_part, cancel, complete, create, objects, upload_item, uploaded


def _forget_records(dynamodb: Any) -> None:
    table = os.environ["TABLE_NAME"]
    for item in dynamodb.scan(TableName=table)["Items"]:
        if item["pk"]["S"].startswith("idempotency#"):
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


def test_each_keyed_post_runs_once(api: Api, dynamodb: Any) -> None:
    key = {"Idempotency-Key": "create-1"}
    first, again = create(api, 6, headers=key), create(api, 6, headers=key)
    assert (first.status, again.body, again.headers["idempotent-replayed"]) == (200, first.body, "true")
    upload_id = first.body["id"]
    parts = []
    for n, data in enumerate((b"abc", b"def")):
        key = {"Idempotency-Key": f"part-{n}"}
        part, retried = add_part(api, upload_id, data, headers=key), add_part(api, upload_id, data, headers=key)
        assert (part.status, retried.body, retried.headers["idempotent-replayed"]) == (200, part.body, "true")
        parts.append(part.body["id"])
    item = upload_item(dynamodb, upload_id)
    assert item is not None
    assert set(item["parts"]["M"]) == set(parts)
    key = {"Idempotency-Key": "complete-1"}
    done, replayed = complete(api, upload_id, parts, headers=key), complete(api, upload_id, parts, headers=key)
    assert (done.status, replayed.body, replayed.headers["idempotent-replayed"]) == (200, done.body, "true")
    assert [f["id"] for f in api("GET", "/files").body["data"]] == [done.body["file"]["id"]]
    cancelled_id, _ = uploaded(api, [b"x"])
    key = {"Idempotency-Key": "cancel-1"}
    gone, again = cancel(api, cancelled_id, headers=key), cancel(api, cancelled_id, headers=key)
    assert (gone.status, again.body, again.headers["idempotent-replayed"]) == (200, gone.body, "true")
    other = add_part(api, upload_id, b"ghi", headers={"Idempotency-Key": "part-0"})  # the key, another request
    assert other.status == 400, other.body
    assert_error(other.body, 400)


def test_a_keyed_request_that_fails_keeps_no_record(api: Api) -> None:
    """Each function's keyed failure: its record deleted, so the same request is refused again with its own
    error, never a 409 nor a replay."""
    upload_id, part_ids = uploaded(api, [b"done"])
    assert complete(api, upload_id, part_ids).status == 200
    failing: list[tuple[Callable[[dict[str, str]], Reply], int]] = [
        (lambda key: create(api, 0, headers=key), 400),
        (lambda key: add_part(api, upload_id, b"late", headers=key), 400),
        (lambda key: complete(api, upload_id, part_ids, headers=key), 400),
        (lambda key: cancel(api, upload_id, headers=key), 400),
        (lambda key: add_part(api, "upload_missing", b"x", headers=key), 404),
    ]
    for n, (request, status) in enumerate(failing):
        key = {"Idempotency-Key": f"refused-{n}"}
        for _ in range(2):
            reply = request(key)
            assert reply.status == status, reply.body
            assert_error(reply.body, status)


def test_keyed_retries_whose_records_were_lost_find_what_the_first_run_made(api: Api, dynamodb: Any) -> None:
    """The ids derive from the key and the request: a lost record's retry finds the same upload, records the
    same part again (one part, one object), and finds the completed upload refused (it is completed)."""
    created = create(api, 3, headers={"Idempotency-Key": "lost-create"})
    _forget_records(dynamodb)
    assert create(api, 3, headers={"Idempotency-Key": "lost-create"}).body == created.body
    upload_id = created.body["id"]
    part = add_part(api, upload_id, b"abc", headers={"Idempotency-Key": "lost-part"})
    _forget_records(dynamodb)
    assert add_part(api, upload_id, b"abc", headers={"Idempotency-Key": "lost-part"}).body["id"] == part.body["id"]
    assert objects() == [f"alpha/{upload_id}/{part.body['id']}"]
    done = complete(api, upload_id, [part.body["id"]], headers={"Idempotency-Key": "lost-complete"})
    assert done.status == 200, done.body
    _forget_records(dynamodb)
    again = complete(api, upload_id, [part.body["id"]], headers={"Idempotency-Key": "lost-complete"})
    assert again.status == 400, again.body
    assert_error(again.body, 400, contains="with status 'completed'")
    assert len(api("GET", "/files").body["data"]) == 1


def test_an_idempotency_key_never_replays_another_projects_part_or_completion(api: Api) -> None:
    """Another project's key, with alpha's Idempotency-Key and alpha's upload in the path: the 404, never alpha's
    part or completion replayed."""
    upload_id = create(api, 3).body["id"]
    key = {"Idempotency-Key": "shared-part"}
    part_id = add_part(api, upload_id, b"abc", headers=key).body["id"]
    theirs = add_part(api, upload_id, b"abc", headers=key, key=api.other_key)
    assert theirs.status == 404, theirs.body
    key = {"Idempotency-Key": "shared-complete"}
    assert complete(api, upload_id, [part_id], headers=key).status == 200
    theirs = complete(api, upload_id, [part_id], headers=key, key=api.other_key)
    assert theirs.status == 404, theirs.body
    assert api("GET", "/files", key=api.other_key).body["data"] == []
