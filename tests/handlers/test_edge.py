"""Keys at the edge: what the authorizer refuses never reaches a function nor makes a function read DynamoDB,
a revoked key is refused from the cache bound on, and projects are throttled apart (``make serve``'s gateway).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from infra import template
from infra.local.api_gateway import GatewayApp, LocalApi
from infra.local.edge import Edge, in_process
from infra.local.lambda_pool import Outcome
from tests import least_privilege
from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api
from tests.handlers.security_support import AUTHENTICATED, INCORRECT, MISSING, _bad_credentials, _id
from threads_api import auth, store

AUTHORIZER = template.authorizer("KeyAuthorizer").function


@pytest.fixture
def reads() -> Iterator[list[tuple[str | None, str]]]:
    """Every DynamoDB call from here on: (the function making it, or None for the test's own, operation)."""
    calls: list[tuple[str | None, str]] = []

    def record(model: Any, **_: Any) -> None:
        calls.append((least_privilege._current.get(), model.name))

    store.client.meta.events.register("before-call.dynamodb", record, unique_id="edge-reads")
    yield calls
    store.client.meta.events.unregister("before-call.dynamodb", unique_id="edge-reads")


def _concrete(route: template.Route) -> str:
    return route.path.format(
        thread_id="thread_" + "A" * 24,
        message_id="msg_" + "A" * 24,
        run_id="run_" + "A" * 24,
        step_id="step_" + "A" * 24,
        assistant_id="asst_" + "A" * 24,
    )


@pytest.mark.parametrize("route", AUTHENTICATED, ids=_id)
def test_a_refused_request_reaches_no_function_and_no_function_reads_dynamodb(
    api: Api, route: template.Route, reads: list[tuple[str | None, str]]
) -> None:
    revoked = auth.create_key("alpha")
    auth.revoke_key(revoked)
    for what, headers, message in _bad_credentials(api, revoked):
        api.invoked.clear()
        reads.clear()
        reply = api(route.method, _concrete(route), {} if route.method == "POST" else None, key=None, headers=headers)
        assert reply.status == 401, what
        assert_error(reply.body, 401, contains=message)
        assert api.invoked == [AUTHORIZER], what  # the authorizer only
        assert all(function == AUTHORIZER for function, _ in reads), (what, reads)
        if message == MISSING:
            assert reads == [], what  # no key: not even the authorizer reads


def test_the_authorizer_reads_a_key_once_per_bound_found_or_not(api: Api, reads: list[Any]) -> None:
    unknown = "sk-thr-" + "Q" * 48
    for key in (api.key, unknown):
        auth._cache.clear()
        auth._misses.clear()
        reads.clear()
        for _ in range(3):
            api("GET", "/threads", key=key)
        assert [r for r in reads if r[0] == AUTHORIZER] == [(AUTHORIZER, "GetItem")], key


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now

    def __call__(self) -> float:
        return self.now


def test_a_revoked_key_reaches_no_function_from_the_cache_bound_on(
    api: Api, monkeypatch: pytest.MonkeyPatch, reads: list[Any]
) -> None:
    clock = _Clock()
    monkeypatch.setattr(auth, "time", clock)
    key = auth.create_key("alpha")
    assert api("GET", "/threads", key=key).status == 200
    warm = dict(auth._cache)
    assert auth.revoke_key(key)  # by the operator's process: the warm authorizer still remembers it
    auth._cache.update(warm)
    clock.now += auth.CACHE_SECONDS
    api.invoked.clear()
    reads.clear()
    reply = api("GET", "/threads", key=key)
    assert reply.status == 401
    assert_error(reply.body, 401, contains=INCORRECT)
    assert api.invoked == [AUTHORIZER]
    assert reads == [(AUTHORIZER, "GetItem")]


def test_public_routes_never_run_the_authorizer(api: Api) -> None:
    for path in ("/openapi.json", "/vector_stores", "/"):
        api.invoked.clear()
        reply = api("GET", path, key=None)
        assert reply.status in (200, 404)
        assert AUTHORIZER not in api.invoked


UNKNOWN_ROUTES = [  # (method, path below /v1): no such resource, or a resource without that method
    ("GET", "/vector_stores"),
    ("POST", "/"),
    ("GET", "/"),
    ("PUT", "/threads"),
    ("GET", "/threads/thread_abc/files"),
    ("DELETE", "/threads"),
]


@pytest.mark.parametrize(("method", "path"), UNKNOWN_ROUTES)
def test_an_unknown_route_is_api_gateways_own_404_and_runs_nothing(
    api: Api, method: str, path: str, reads: list[Any]
) -> None:
    """No catch-all route: API Gateway answers itself (MISSING_AUTHENTICATION_TOKEN, OpenAI's 404 in the
    template), with or without a key, before any authorizer; what the handler used to say, to the letter."""
    for key in (None, "default", "sk-thr-" + "Q" * 48):
        api.invoked.clear()
        reads.clear()
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
    client = _gateway(_Clock(), invoked, 10, 10)
    for authorization in ({}, {"Authorization": f"Bearer {api.key}"}):
        reply = client.get("/v1/vector_stores?limit=2", headers=authorization)
        assert reply.status_code == 404
        assert json.loads(reply.get_data())["error"]["message"] == "Invalid URL (GET /v1/vector_stores)"
        assert reply.headers["x-amzn-RequestId"]
        assert "x-request-id" not in reply.headers  # every function's answer has one: none ran
        reply = client.post("/v1/threads/thread_abc/files", headers=authorization)
        assert json.loads(reply.get_data())["error"]["message"] == "Invalid URL (POST /v1/threads/thread_abc/files)"
    assert invoked == []


def _recording(invoked: list[str]) -> Any:
    """The functions run in this process, each under its role, its name added to ``invoked``."""

    def function(name: str, event: dict[str, Any]) -> Outcome:
        invoked.append(name)
        with least_privilege.running(name):
            return in_process(name, event)

    return function


def _gateway(clock: _Clock, invoked: list[str], rate: float, burst: float, **edge: Any) -> Client:
    """make serve's in-process gateway, with the usage plan's throttle at ``rate``/``burst``."""
    function = _recording(invoked)
    gateway_edge = Edge(function, rate=rate, burst=burst, clock=clock, **edge)
    return Client(GatewayApp(LocalApi(gateway_edge), lambda route, event: function(route.function, event)))


def _serve_gateway(clock: _Clock, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Client:
    """The gateway as ``make serve`` configures it from its environment (in-process mode)."""
    from infra.local import serve

    for name in ("PROJECT_RATE_LIMIT", "PROJECT_BURST_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    function = _recording([])
    edge = serve._edge(None, serve._settings([]).throttle, clock)
    edge._invoke = function  # the authorizer under its role, as the other tests here run it
    return Client(GatewayApp(LocalApi(edge), lambda route, event: function(route.function, event)))


def _statuses(client: Client, key: str, count: int) -> list[int]:
    headers = {"Authorization": f"Bearer {key}"}
    return [client.get("/v1/threads", headers=headers).status_code for _ in range(count)]


def test_make_serve_throttles_no_project_unless_asked(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Locally the per-project throttle is opt-in: without PROJECT_RATE_LIMIT, a project's requests all at
    one instant, past any usage plan's burst, are all served; with it, the burst, then 429s."""
    clock = _Clock()  # never advances: every request comes at the same instant
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


def test_two_projects_at_their_limits_do_not_affect_each_other(api: Api) -> None:
    clock, invoked = _Clock(), list[str]()
    rate, burst = 2.0, 5
    client = _gateway(clock, invoked, rate, burst)
    statuses: dict[str, list[int]] = {"alpha": [], "beta": []}
    for _ in range(burst + 3):  # alpha floods, beta sends its own burst in between: same instant
        for project, key in (("alpha", api.key), ("beta", api.other_key)):
            reply = client.get("/v1/threads", headers={"Authorization": f"Bearer {key}"})
            statuses[project].append(reply.status_code)
            if reply.status_code == 429:
                assert reply.headers["Retry-After"] == "1"
                body = json.loads(reply.get_data())
                assert (body["error"]["type"], body["error"]["code"]) == ("requests", "rate_limit_exceeded")
    for project in ("alpha", "beta"):  # each has its own bucket: its burst, then 429s
        assert statuses[project] == [200] * burst + [429] * 3, project
    assert invoked.count("ListThreadsFunction") == 2 * burst  # a throttled request reaches no function

    clock.now += 1 / rate  # one token back, for each project alone
    for key in (api.key, api.other_key):
        assert client.get("/v1/threads", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert client.get("/v1/threads", headers={"Authorization": f"Bearer {key}"}).status_code == 429


def test_the_gateway_answers_a_bad_key_itself_in_openais_envelope(api: Api) -> None:
    invoked: list[str] = []
    client = _gateway(_Clock(), invoked, 10, 10)
    for headers, message in (({}, MISSING), ({"x-portkey-api-key": "sk-thr-nope-nope-nope"}, INCORRECT)):
        reply = client.post("/v1/threads", headers=headers)
        assert reply.status_code == 401
        assert_error(json.loads(reply.get_data()), 401, contains=message)
        assert reply.headers["x-should-retry"] == "false"
    assert invoked == [AUTHORIZER, AUTHORIZER]
    portkey = client.get("/v1/threads", headers={"x-portkey-api-key": api.key})
    assert portkey.status_code == 200  # the second header still works: the gateway does not cache per header
