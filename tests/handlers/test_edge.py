"""Keys at the edge: what the authorizer refuses never reaches a function nor makes a function read DynamoDB,
a revoked key is refused from the cache bound on, and projects are throttled apart (``make serve``'s gateway).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from infra import template
from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api
from tests.handlers.edge_support import Clock, dynamodb_calls, gateway
from tests.handlers.security_support import AUTHENTICATED, INCORRECT, MISSING, _bad_credentials, _id
from threads_api import auth

AUTHORIZER = template.authorizer("KeyAuthorizer").function


@pytest.fixture
def reads() -> Iterator[list[tuple[str | None, str]]]:
    """Every DynamoDB call from here on: (the function making it, or None for the test's own, operation)."""
    with dynamodb_calls() as calls:
        yield calls


def _concrete(route: template.Route) -> str:
    return route.path.format(
        thread_id="thread_" + "A" * 24,
        message_id="msg_" + "A" * 24,
        run_id="run_" + "A" * 24,
        step_id="step_" + "A" * 24,
        assistant_id="asst_" + "A" * 24,
        file_id="file-" + "A" * 24,
        upload_id="upload_" + "A" * 24,
        vector_store_id="vs_" + "A" * 24,
        batch_id="vsfb_" + "A" * 24,
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


def test_a_revoked_key_reaches_no_function_from_the_cache_bound_on(
    api: Api, monkeypatch: pytest.MonkeyPatch, reads: list[Any]
) -> None:
    clock = Clock()
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
    for path in ("/openapi.json", "/fine_tuning/jobs", "/"):
        api.invoked.clear()
        reply = api("GET", path, key=None)
        assert reply.status in (200, 404)
        assert AUTHORIZER not in api.invoked


def test_two_projects_at_their_limits_do_not_affect_each_other(api: Api) -> None:
    clock, invoked = Clock(), list[str]()
    rate, burst = 2.0, 5
    client = gateway(clock, invoked, rate, burst)
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
    client = gateway(Clock(), invoked, 10, 10)
    for headers, message in (({}, MISSING), ({"x-portkey-api-key": "sk-thr-nope-nope-nope"}, INCORRECT)):
        reply = client.post("/v1/threads", headers=headers)
        assert reply.status_code == 401
        assert_error(json.loads(reply.get_data()), 401, contains=message)
        assert reply.headers["x-should-retry"] == "false"
    assert invoked == [AUTHORIZER, AUTHORIZER]
    portkey = client.get("/v1/threads", headers={"x-portkey-api-key": api.key})
    assert portkey.status_code == 200  # the second header still works: the gateway does not cache per header
