"""Keys are checked on every route the template declares: a missing, malformed, unknown or revoked key gets 401
and changes nothing, and never sees the whole key echoed; a revoked key stops working at once in the container
that revoked it and within the documented cache bound elsewhere; the routes without a key serve the same to
everyone. Keys are checked by the template's authorizer, which the ``api`` fixture runs before each function as
API Gateway does (tests/handlers/test_edge.py: what it refuses never reaches a function).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from infra import template
from infra.local.serve import LocalApi
from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api
from tests.handlers.runs_support import model, runs
from tests.handlers.security_support import (
    AUTHENTICATED,
    INCORRECT,
    PUBLIC,
    _bad_credentials,
    _body,
    _id,
    _nothing_changes,
    _path,
    _table,
    _worker,
    _world,
)
from threads_api import auth

__all__ = ["_worker", "model", "runs"]  # fixtures


def _revoked_alpha_key(api: Api) -> str:
    """A key of alpha's project that worked, then was revoked; another container's view (no cache)."""
    key = auth.create_key("alpha")
    assert api("GET", "/threads", key=key).status == 200
    assert auth.revoke_key(key)
    auth._cache.clear()
    return key


@pytest.mark.parametrize("route", AUTHENTICATED, ids=_id)
def test_bad_credentials_are_401_and_change_nothing(api: Api, dynamodb: Any, route: template.Route) -> None:
    world = api.once("world", _world)
    revoked = _revoked_alpha_key(api)
    path = _path(route, world)
    body = _body(route.path, world.assistant["id"]) if route.method == "POST" else None
    with _nothing_changes(api, dynamodb, world):
        for what, headers, message in _bad_credentials(api, revoked):
            reply = api(route.method, path, body, key=None, headers=headers)
            assert reply.status == 401, what
            assert_error(reply.body, 401, contains=message)
            assert reply.headers["x-should-retry"] == "false", what
            if message == INCORRECT:
                assert reply.body["error"]["code"] == "invalid_api_key", what


@pytest.mark.parametrize(
    "key",
    [
        "sk-thr-" + "S" * 48,
        "sk-proj-" + "abcdefghij" * 15,
        "short",
        "0123456789",
        "01234567890",
        "x" * 10_000,
    ],
    ids=["ours", "openai-like", "short", "ten", "eleven", "huge"],
)
def test_the_401_never_shows_the_whole_key(api: Api, key: str) -> None:
    for headers in ({"Authorization": f"Bearer {key}"}, {"x-portkey-api-key": key}):
        reply = api("GET", "/threads", key=None, headers=headers)
        assert reply.status == 401
        assert_error(reply.body, 401, contains=INCORRECT)
        assert key not in json.dumps(reply.body)
        assert key not in json.dumps(reply.headers)
        shown = re.fullmatch(r"Incorrect API key provided: (.*)\.", reply.body["error"]["message"])
        assert shown is not None
        assert "***" in shown.group(1)
        assert len(shown.group(1).replace("***", "")) <= 7  # at most the ends: 3 + 4 characters


def test_a_revoked_key_is_refused_at_once_by_the_container_that_revoked_it(api: Api) -> None:
    key = auth.create_key("alpha")
    assert api("GET", "/threads", key=key).status == 200  # cached now
    assert auth.revoke_key(key)
    reply = api("GET", "/threads", key=key)
    assert reply.status == 401
    assert_error(reply.body, 401, contains=INCORRECT)


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


def test_a_warm_container_accepts_a_revoked_key_only_until_the_cache_bound(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    bound = auth.CACHE_SECONDS
    if "KEY_CACHE_SECONDS" not in os.environ:
        assert bound == 30  # the documented default (README, template's KeyCacheSeconds)
    assert bound > 0
    clock = _Clock()
    monkeypatch.setattr(auth, "time", clock)  # auth's own view of time.monotonic
    auth._cache.clear()
    key = auth.create_key("alpha")
    thread = api("POST", "/threads", key=key).body  # remembered until 1000 + bound
    digest = auth.hash_key(key)
    assert digest in auth._cache

    # `make revoke` runs in the operator's process: the warm container's memory is not cleared by it.
    warm = dict(auth._cache)
    assert auth.revoke_key(key)
    auth._cache.update(warm)

    # A new container (empty cache) refuses it at once; the warm one goes on accepting it ...
    auth._cache.clear()
    assert api("GET", f"/threads/{thread['id']}", key=key).status == 401
    auth._cache.update(warm)
    for elapsed in (0.0, bound / 2, bound - 0.001):  # a cache hit does not extend the bound
        clock.now = 1_000.0 + elapsed
        assert api("GET", f"/threads/{thread['id']}", key=key).status == 200, elapsed

    # ... and refuses it from the bound on, for good.
    for elapsed in (bound, bound + 0.001, bound + 3600):
        clock.now = 1_000.0 + elapsed
        reply = api("GET", f"/threads/{thread['id']}", key=key)
        assert reply.status == 401, elapsed
        assert_error(reply.body, 401, contains=INCORRECT)
    assert digest not in auth._cache
    assert api("GET", f"/threads/{thread['id']}").status == 200  # alpha's other keys are untouched


def test_routes_without_a_key_serve_the_same_to_everyone_and_write_nothing(api: Api, dynamodb: Any) -> None:
    # No catch-all: an unknown route is API Gateway's own 404, answered before any function (test_edge).
    assert {_id(r) for r in PUBLIC} == {"GET /docs", "GET /openapi.json"}
    local = LocalApi()
    before = _table(dynamodb)
    for route in PUBLIC:
        method = "GET" if route.method == "ANY" else route.method
        path = "/v1" + ("/fine_tuning/jobs" if route.greedy else route.path)
        answers = []
        for authorization in (None, f"Bearer {api.key}", f"Bearer {api.other_key}", "Bearer sk-thr-unknown"):
            headers = {} if authorization is None else {"authorization": authorization}
            handler, event = local.event(method, path, headers, b"", "127.0.0.1")
            assert handler is not None, path
            result = handler(event, None)
            result["headers"].pop("x-request-id")
            answers.append(result)
        assert all(answer == answers[0] for answer in answers), _id(route)
        assert answers[0]["statusCode"] in (200, 404), _id(route)
    assert _table(dynamodb) == before
