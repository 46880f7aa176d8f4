"""``gateway.endpoint``'s contract: what its two options turn on, and what an operation may return."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from infra.local.invoke import LocalContext
from tests import least_privilege
from tests.handlers.conftest import Api
from threads_api.http.endpoint import Body, LambdaResponse, Request, endpoint

FUNCTION = "CreateThreadFunction"  # whose role the calls are checked against


def _event(api: Api, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "httpMethod": "POST",
        "path": "/v1/things",
        "requestContext": {
            "requestId": "req-endpoint",
            "authorizer": {"project": "alpha"},
        },  # as the authorizer sets it
        "headers": {"Authorization": f"Bearer {api.key}", **(headers or {})},
        "body": None if body is None else json.dumps(body),
    }


def _call(handler: Callable[..., LambdaResponse], event: dict[str, Any]) -> LambdaResponse:
    with least_privilege.running(FUNCTION):
        return handler(event, LocalContext(FUNCTION, event["requestContext"]["requestId"]))


def test_an_operation_returns_its_body_for_a_200_or_a_status_and_a_body(api: Api) -> None:
    @endpoint("plain")
    def plain(request: Request) -> Body:
        return {"project": request.project}

    @endpoint("accepted")
    def accepted(request: Request) -> tuple[int, Body]:
        return 202, {"accepted": True}

    reply = _call(plain, _event(api))
    assert (reply["statusCode"], json.loads(reply["body"])) == (200, {"project": "alpha"})
    assert reply["headers"]["x-request-id"] == "req-endpoint"
    reply = _call(accepted, _event(api))
    assert (reply["statusCode"], json.loads(reply["body"])) == (202, {"accepted": True})


def test_without_parses_body_a_body_is_ignored(api: Api) -> None:
    seen: list[Body] = []

    @endpoint("reads")
    def reads(request: Request) -> Body:
        seen.append(request.body)
        return {}

    assert _call(reads, {**_event(api), "body": "not json"})["statusCode"] == 200
    assert seen == [{}]


def test_parses_body_alone_ignores_an_idempotency_key(api: Api) -> None:
    runs: list[Body] = []

    @endpoint("not_idempotent", parses_body=True)
    def not_idempotent(request: Request) -> Body:
        runs.append(request.body)
        return {"run": len(runs)}

    event = _event(api, {"a": 1}, {"Idempotency-Key": "ignored"})
    first, second = _call(not_idempotent, event), _call(not_idempotent, event)
    assert [json.loads(r["body"]) for r in (first, second)] == [{"run": 1}, {"run": 2}]
    assert "idempotent-replayed" not in first["headers"]
    assert "idempotent-replayed" not in second["headers"]
    assert runs == [{"a": 1}, {"a": 1}]


def test_idempotent_runs_a_keyed_request_once(api: Api) -> None:
    runs: list[Body] = []

    @endpoint("once", parses_body=True, idempotent=True)
    def once(request: Request) -> tuple[int, Body]:
        runs.append(request.body)
        return 201, {"run": len(runs)}

    event = _event(api, {"a": 1}, {"Idempotency-Key": "once"})
    first, second = _call(once, event), _call(once, event)
    assert [(r["statusCode"], r["headers"]["idempotent-replayed"]) for r in (first, second)] == [
        (201, "false"),
        (201, "true"),
    ]
    assert first["body"] == second["body"]
    assert len(runs) == 1
