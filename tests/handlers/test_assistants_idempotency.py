"""Idempotency-Key on the assistant operations: a retried create or modify replays the first response and writes
once, a failure is not remembered, and a create whose record failed is found by its retry."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.invoke import LocalContext
from tests.contract.schemas import assert_error
from tests.handlers.assistants_support import _create, _listed
from tests.handlers.conftest import Api


def test_keyed_create_replays_the_first_response_and_writes_once(api: Api) -> None:
    headers = {"Idempotency-Key": "create-once"}
    first = api("POST", "/assistants", {"model": "m", "name": "once"}, headers=headers)
    assert first.status == 200
    assert first.headers["idempotent-replayed"] == "false"
    again = api("POST", "/assistants", {"model": "m", "name": "once"}, headers=headers)
    assert again.status == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.body == first.body
    assert [a["id"] for a in _listed(api)["data"]] == [first.body["id"]]
    other = api("POST", "/assistants", {"model": "m", "name": "twice?"}, headers=headers)
    assert other.status == 400
    assert_error(other.body, 400, param="Idempotency-Key", contains="already used")


def test_keyed_requests_that_fail_are_not_remembered(api: Api) -> None:
    headers = {"Idempotency-Key": "fix-and-retry"}
    assert api("POST", "/assistants", {"name": "no model"}, headers=headers).status == 400
    assert api("POST", "/assistants", {"model": "m"}, headers=headers).status == 200
    missing = api("POST", "/assistants/asst_nosuchassistant", {"name": "x"}, headers={"Idempotency-Key": "m-1"})
    assert missing.status == 404


def test_keyed_modify_replays_the_first_response(api: Api) -> None:
    created = _create(api)
    headers = {"Idempotency-Key": "modify-once"}
    first = api("POST", f"/assistants/{created['id']}", {"metadata": {"v": "1"}}, headers=headers)
    assert first.status == 200
    assert first.headers["idempotent-replayed"] == "false"
    api("POST", f"/assistants/{created['id']}", {"metadata": {"v": "2"}})
    again = api("POST", f"/assistants/{created['id']}", {"metadata": {"v": "1"}}, headers=headers)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.body == first.body
    assert api("GET", f"/assistants/{created['id']}").body["metadata"] == {"v": "2"}


def test_a_keyed_create_whose_record_failed_is_a_success_and_its_retry_finds_it_instead_of_writing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The put commits, then saving the idempotency record fails: the client still gets the assistant, and a
    retry (the in-progress record expired with the first invocation) finds it under the derived id."""
    from botocore.exceptions import ClientError

    from threads_api import store

    real = store.client._make_api_call  # type: ignore[attr-defined]
    throttled: list[str] = []

    def call(operation: str, params: dict[str, Any]) -> Any:
        if operation == "UpdateItem" and params["Key"]["pk"]["S"].startswith("idempotency#"):
            throttled.append(operation)
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, operation)
        return real(operation, params)

    headers = {"Idempotency-Key": "committed"}
    body = {"model": "m", "name": "exactly once"}
    with monkeypatch.context() as patch:
        patch.setattr(store.client, "_make_api_call", call)
        patch.setattr(LocalContext, "get_remaining_time_in_millis", lambda self: 0)
        first = api("POST", "/assistants", body, headers=headers)
    assert throttled, first.body
    assert first.status == 200, first.body
    again = api("POST", "/assistants", body, headers=headers)
    assert again.status == 200
    assert again.body == first.body
    assert [a["id"] for a in _listed(api)["data"]] == [first.body["id"]]
