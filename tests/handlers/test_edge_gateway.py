"""What make serve's gateway answers itself or lets through, as a deployed stack would: a route the API lacks
(no catch-all: API Gateway's own 404, before anything runs), the per-project throttle (opt-in locally:
PROJECT_RATE_LIMIT), and a revoked project's last key (told 401 invalid_api_key, never 403)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import Client

from infra.local.api_gateway import GatewayApp, LocalApi
from tests.handlers.conftest import Api
from tests.handlers.edge_support import Clock, dynamodb_calls, gateway, recording
from threads_api import auth, store

UNKNOWN_ROUTES = [  # (method, path below /v1): no such resource, or a resource without that method
    ("GET", "/fine_tuning/jobs"),
    ("POST", "/"),
    ("GET", "/"),
    ("PUT", "/threads"),
    ("GET", "/threads/thread_abc/files"),
    ("DELETE", "/threads"),
]


@pytest.mark.parametrize(("method", "path"), UNKNOWN_ROUTES)
def test_an_unknown_route_is_api_gateways_own_404_and_runs_nothing(api: Api, method: str, path: str) -> None:
    """No catch-all route: API Gateway answers itself (MISSING_AUTHENTICATION_TOKEN, OpenAI's 404 in the
    template), with or without a key, before any authorizer; what the handler used to say, to the letter."""
    for key in (None, "default", "sk-thr-" + "Q" * 48):
        api.invoked.clear()
        with dynamodb_calls() as reads:
            reply = api(method, path, key=key)
        assert reply.status == 404, (method, path, key)
        assert reply.body == {
            "error": {
                "message": f"Invalid URL ({method} /v1{path})",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }
        assert reply.headers["x-should-retry"] == "false"
        assert reply.headers["x-amzn-ErrorType"] == "MISSING_AUTHENTICATION_TOKEN"
        assert api.invoked == []
        assert reads == []


def test_make_serves_gateway_answers_an_unknown_route_itself(api: Api) -> None:
    """The in-process mode's HTTP gateway (the deployed mode's is the same GatewayApp: tests/e2e, and
    tests/deployed with Lambda processes): the query string is not part of the message, as in OpenAI's."""
    invoked: list[str] = []
    client = gateway(Clock(), invoked, 10, 10)
    for authorization in ({}, {"Authorization": f"Bearer {api.key}"}):
        reply = client.get("/v1/fine_tuning/jobs?limit=2", headers=authorization)
        assert reply.status_code == 404
        assert json.loads(reply.get_data())["error"]["message"] == "Invalid URL (GET /v1/fine_tuning/jobs)"
        assert reply.headers["x-amzn-RequestId"]
        assert "x-request-id" not in reply.headers  # every function's answer has one: none ran
        reply = client.post("/v1/threads/thread_abc/files", headers=authorization)
        assert json.loads(reply.get_data())["error"]["message"] == "Invalid URL (POST /v1/threads/thread_abc/files)"
    assert invoked == []


def _serve_gateway(clock: Clock, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Client:
    """The gateway as ``make serve`` configures it from its environment (in-process mode)."""
    from infra.local import serve

    for name in ("PROJECT_RATE_LIMIT", "PROJECT_BURST_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    function = recording([])
    edge = serve._edge(None, serve._settings([]).throttle, clock)
    edge._invoke = function  # the authorizer under its role, as the other tests here run it
    return Client(GatewayApp(LocalApi(edge), lambda route, event: function(route.function, event)))


def _statuses(client: Client, key: str, count: int) -> list[int]:
    headers = {"Authorization": f"Bearer {key}"}
    return [client.get("/v1/threads", headers=headers).status_code for _ in range(count)]


def test_make_serve_throttles_no_project_unless_asked(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Locally the per-project throttle is opt-in: without PROJECT_RATE_LIMIT, a project's requests all at
    one instant, past any usage plan's burst, are all served; with it, the burst, then 429s."""
    clock = Clock()  # never advances: every request comes at the same instant
    assert _statuses(_serve_gateway(clock, {}, monkeypatch), api.key, 60) == [200] * 60
    assert _statuses(_serve_gateway(clock, {"PROJECT_RATE_LIMIT": ""}, monkeypatch), api.key, 60) == [200] * 60
    for setting, burst in (("3", 3), ("2/5", 5), ("0.5e1/4", 4)):
        client = _serve_gateway(clock, {"PROJECT_RATE_LIMIT": setting}, monkeypatch)
        assert _statuses(client, api.key, burst + 2) == [200] * burst + [429] * 2, setting
        assert _statuses(client, api.other_key, burst) == [200] * burst, setting  # each project on its own


@pytest.mark.parametrize(
    "environ",
    [
        {"PROJECT_RATE_LIMIT": "fast"},
        {"PROJECT_RATE_LIMIT": "25/"},
        {"PROJECT_RATE_LIMIT": "0"},
        {"PROJECT_RATE_LIMIT": "25/0.5"},
        {"PROJECT_RATE_LIMIT": "inf"},
        {"PROJECT_BURST_LIMIT": "50"},  # the old variable: said, not ignored
    ],
)
def test_make_serve_refuses_a_throttle_it_cannot_apply(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra.local import serve

    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        serve._settings([])
    assert stopped.value.code == 2
    assert "PROJECT_RATE_LIMIT=" in capsys.readouterr().err


def test_a_revoked_projects_last_key_is_told_401_invalid_api_key_never_403(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a stack, revoking a project's last key also takes its API key out of the usage plan. A warm authorizer
    still remembers the key for KeyCacheSeconds and allows it with that API key: were the API key gone by then,
    API Gateway would answer 403 project_not_enabled. The key leaves the plan only once no authorizer can still
    allow it, so the key is served (as any revoked key, within the bound), then told 401 invalid_api_key."""
    import boto3
    from botocore.session import Session

    from infra.ops import key_commands, usage_plans
    from infra.ops.key_target import Target

    clock = Clock()
    monkeypatch.setattr(auth, "time", clock)
    apigateway = boto3.client("apigateway")
    plan = apigateway.create_usage_plan(name="projects")["id"]
    key = auth.create_key("gamma")  # the project's only key
    value = auth.usage_identifier("local", "gamma")  # the local events' apiId
    usage_plans.enable(apigateway, stack="s", plan_id=plan, project="gamma", value=value)

    def in_plan(value: str) -> bool:
        ids = {item["id"] for item in apigateway.get_usage_plan_keys(usagePlanId=plan)["items"]}
        keys = apigateway.get_api_keys(includeValues=True)["items"]
        return any(k["id"] in ids and k["value"] == value for k in keys)

    client = gateway(clock, [], 1e9, 1e9, usage_plan=in_plan)

    def get() -> Any:
        return client.get("/v1/threads", headers={"Authorization": f"Bearer {key}"})

    assert get().status_code == 200  # the authorizer is warm: it remembers gamma's key
    # make revoke runs in the operator's process: it deletes the table's record, never a warm authorizer's memory.
    monkeypatch.setattr(auth, "revoke_key", lambda key_or_id: store.delete_key(auth.hash_key(key_or_id)))
    during: list[int] = []

    def pause(seconds: float) -> None:
        during.append(get().status_code)  # while a warm authorizer may still allow it, the plan meters it
        clock.now += seconds

    monkeypatch.setattr(key_commands, "pause", pause)
    target = Target("t", "stack s", region="us-east-1", stack="s", api_id="local", usage_plan=plan, session=Session())
    key_commands.revoke_on(target, key)
    assert during == [200]
    assert not in_plan(value)  # the project's API key is gone, after the bound
    reply = get()
    assert reply.status_code == 401
    assert json.loads(reply.get_data())["error"]["code"] == "invalid_api_key"
