"""Projects are isolated (BOLA) and keys are checked, on every route the template declares.

Another project's key gets OpenAI's 404 for a thread, a message, a run, a run step or an assistant (never
403: it cannot even learn that the object exists) and changes nothing; a missing, malformed, unknown or
revoked key gets 401 and changes nothing; a revoked key stops working within the documented cache bound.
Keys are checked by the template's authorizer, which the ``api`` fixture runs before each function as API
Gateway does (tests/handlers/test_edge.py: what it refuses never reaches a function).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from infra import template
from infra.local.serve import LocalApi
from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api
from tests.handlers.runs_support import Runs, model, runs
from threads_api import auth

__all__ = ["model", "runs"]  # fixtures

NEVER_THREAD = "thread_" + "N" * 24  # well-formed ids that were never created
NEVER_MESSAGE = "msg_" + "N" * 24
NEVER_ASSISTANT = "asst_" + "N" * 24
ASSISTANT = "{caller's assistant}"  # in a body: the caller's own assistant, so that only the path is foreign

# A body that would succeed on each POST route if the caller were allowed.
BODIES: dict[str, dict[str, Any]] = {
    "/threads": {"messages": [{"role": "user", "content": "from an intruder"}], "metadata": {"owner": "intruder"}},
    "/threads/{thread_id}": {"metadata": {"owner": "intruder"}},
    "/threads/{thread_id}/messages": {"role": "user", "content": "from an intruder"},
    "/threads/{thread_id}/messages/{message_id}": {"metadata": {"owner": "intruder"}},
    "/assistants": {"model": "gpt-4o", "name": "intruder"},
    "/assistants/{assistant_id}": {"metadata": {"owner": "intruder"}},
    "/threads/runs": {"assistant_id": ASSISTANT, "thread": {"messages": [{"role": "user", "content": "hi"}]}},
    "/threads/{thread_id}/runs": {"assistant_id": ASSISTANT},
    "/threads/{thread_id}/runs/{run_id}": {"metadata": {"owner": "intruder"}},
    "/threads/{thread_id}/runs/{run_id}/cancel": {},
    "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs": {"tool_outputs": [{"tool_call_id": "call_1"}]},
}
# Creates whose object the caller owns at once (no foreign id in the path).
CREATES = {"/threads", "/assistants", "/threads/runs"}


@pytest.fixture(autouse=True)
def _worker(runs: Runs) -> None:
    runs.immediate = True  # a run is worked on at once: the world's runs have ended, with their steps


def _body(route_path: str, assistant_id: str) -> dict[str, Any] | None:
    body = BODIES.get(route_path)
    return (
        None if body is None else json.loads(json.dumps(body).replace(json.dumps(ASSISTANT), json.dumps(assistant_id)))
    )


def _public(route: template.Route) -> bool:
    """A route API Gateway serves without the authorizer (tests/test_template.py: only functions without
    permissions are public, so none serves a project's data)."""
    return route.authorizer is None


AUTHENTICATED = [r for r in template.routes() if not _public(r)]
PUBLIC = [r for r in template.routes() if _public(r)]
# The routes that name another project's objects by id; POST /threads and GET /threads have tests of their own.
OBJECT_ROUTES = [r for r in AUTHENTICATED if "{thread_id}" in r.path]
MESSAGE_ROUTES = [r for r in OBJECT_ROUTES if "{message_id}" in r.path]
ASSISTANT_ROUTES = [r for r in AUTHENTICATED if "{assistant_id}" in r.path]


def _id(route: template.Route) -> str:
    return f"{route.method} {route.path}"


@dataclass
class World:
    thread: dict[str, Any]  # alpha's
    message: dict[str, Any]  # alpha's, in alpha's thread
    beta_thread: dict[str, Any]
    beta_message: dict[str, Any]
    assistant: dict[str, Any]  # alpha's
    run: dict[str, Any]  # alpha's, in alpha's thread, ended
    step: dict[str, Any]  # its step
    beta_assistant: dict[str, Any]
    view: tuple[Any, ...] = ()  # what alpha sees of it (_alpha_view), as built


def _world(api: Api) -> World:
    thread = api(
        "POST",
        "/threads",
        {
            "metadata": {"owner": "alpha"},
            "messages": [
                {"role": "user", "content": "alpha's question", "metadata": {"m": "1"}},
                {"role": "assistant", "content": "alpha's answer"},
            ],
        },
    ).body
    message = api("GET", f"/threads/{thread['id']}/messages?order=asc").body["data"][0]
    beta_thread = api("POST", "/threads", {"messages": [{"role": "user", "content": "beta's"}]}, key=api.other_key).body
    beta_message = api("GET", f"/threads/{beta_thread['id']}/messages", key=api.other_key).body["data"][0]
    assistant = api("POST", "/assistants", {"model": "gpt-4o", "metadata": {"owner": "alpha"}}).body
    run = api("POST", f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]}).body
    run = api("GET", f"/threads/{thread['id']}/runs/{run['id']}").body
    step = api("GET", f"/threads/{thread['id']}/runs/{run['id']}/steps").body["data"][0]
    beta_assistant = api("POST", "/assistants", {"model": "gpt-4o"}, key=api.other_key).body
    world = World(thread, message, beta_thread, beta_message, assistant, run, step, beta_assistant)
    world.view = _alpha_view(api, world)
    return world


def _table(dynamodb: Any) -> list[dict[str, Any]]:
    """Every item of the table, in key order: what "nothing changed" is checked against."""
    pages = dynamodb.get_paginator("scan").paginate(TableName=os.environ["TABLE_NAME"], ConsistentRead=True)
    return sorted((item for page in pages for item in page["Items"]), key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def _alpha_view(api: Api, world: World) -> tuple[Any, ...]:
    """What alpha sees of its thread: the thread, its messages, one message, its listing."""
    thread_id = world.thread["id"]
    return (
        api("GET", f"/threads/{thread_id}").body,
        api("GET", f"/threads/{thread_id}/messages?order=asc").body,
        api("GET", f"/threads/{thread_id}/messages/{world.message['id']}").body,
        api("GET", "/threads").body,
        api("GET", f"/threads/{thread_id}/runs").body,
        api("GET", f"/threads/{thread_id}/runs/{world.run['id']}/steps").body,
        api("GET", "/assistants").body,
    )


@contextmanager
def _nothing_changes(api: Api, dynamodb: Any, world: World) -> Iterator[None]:
    """The table and what alpha sees are the same after the block, once the stream is drained (a deletion that
    slipped through would purge the partition then)."""
    before = _table(dynamodb)
    yield
    api.stream.drain()
    assert _table(dynamodb) == before
    assert _alpha_view(api, world) == world.view


def _path(route: template.Route, world: World, **ids: str) -> str:
    """The route's path on alpha's objects, or on the ``ids`` given instead."""
    mine = {
        "thread_id": world.thread["id"],
        "message_id": world.message["id"],
        "run_id": world.run["id"],
        "step_id": world.step["id"],
        "assistant_id": world.assistant["id"],
    }
    return route.path.format(**(mine | ids))


# -- BOLA ---------------------------------------------------------------------------------------------


def test_every_authenticated_route_has_an_isolation_test() -> None:
    own = {"POST /threads", "GET /threads", "POST /assistants", "GET /assistants", "POST /threads/runs"}
    covered = {_id(r) for r in OBJECT_ROUTES + ASSISTANT_ROUTES} | own
    assert {_id(r) for r in AUTHENTICATED} == covered
    assert {r.path for r in AUTHENTICATED if r.method == "POST"} == set(BODIES)


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=_id)
def test_another_projects_key_gets_404_and_changes_nothing(api: Api, dynamodb: Any, route: template.Route) -> None:
    world = api.once("world", _world)
    body = _body(route.path, world.beta_assistant["id"]) if route.method == "POST" else None
    with _nothing_changes(api, dynamodb, world):
        reply = api(route.method, _path(route, world), body, key=api.other_key)
        assert reply.status == 404
        assert_error(reply.body, 404, contains=f"No thread found with id '{world.thread['id']}'.")
        assert reply.headers["x-should-retry"] == "false"

        # No oracle: alpha's real thread answers exactly as a thread that never existed.
        never = api(route.method, _path(route, world, thread_id=NEVER_THREAD), body, key=api.other_key)
        assert never.status == reply.status
        message = never.body["error"]["message"]
        assert message.replace(NEVER_THREAD, world.thread["id"]) == reply.body["error"]["message"]


@pytest.mark.parametrize("route", MESSAGE_ROUTES, ids=_id)
def test_another_projects_message_through_ones_own_thread_is_404(
    api: Api, dynamodb: Any, route: template.Route
) -> None:
    world = api.once("world", _world)
    body = BODIES.get(route.path) if route.method == "POST" else None
    with _nothing_changes(api, dynamodb, world):
        path = _path(route, world, thread_id=world.beta_thread["id"])
        reply = api(route.method, path, body, key=api.other_key)
        assert reply.status == 404
        assert_error(reply.body, 404, contains=f"No message found with id '{world.message['id']}'.")
        never_path = _path(route, world, thread_id=world.beta_thread["id"], message_id=NEVER_MESSAGE)
        never = api(route.method, never_path, body, key=api.other_key)
        assert never.status == 404
        message = never.body["error"]["message"]
        assert message.replace(NEVER_MESSAGE, world.message["id"]) == reply.body["error"]["message"]


@pytest.mark.parametrize("route", ASSISTANT_ROUTES, ids=_id)
def test_another_projects_assistant_is_404_and_changes_nothing(api: Api, dynamodb: Any, route: template.Route) -> None:
    world = api.once("world", _world)
    body = BODIES.get(route.path) if route.method == "POST" else None
    with _nothing_changes(api, dynamodb, world):
        reply = api(route.method, _path(route, world), body, key=api.other_key)
        assert reply.status == 404
        assert_error(reply.body, 404, contains=f"No assistant found with id '{world.assistant['id']}'.")
        never = api(route.method, _path(route, world, assistant_id=NEVER_ASSISTANT), body, key=api.other_key)
        assert never.status == 404
        message = never.body["error"]["message"]
        assert message.replace(NEVER_ASSISTANT, world.assistant["id"]) == reply.body["error"]["message"]


@pytest.mark.parametrize("path", ["/threads/runs", "/threads/{thread_id}/runs"])
def test_another_projects_assistant_runs_nothing_on_ones_own_thread(api: Api, dynamodb: Any, path: str) -> None:
    world = api.once("world", _world)
    body = _body(path, world.assistant["id"])
    with _nothing_changes(api, dynamodb, world):
        reply = api("POST", path.format(thread_id=world.beta_thread["id"]), body, key=api.other_key)
        assert reply.status == 404
        assert_error(reply.body, 404, contains=f"No assistant found with id '{world.assistant['id']}'.")
    assert api("GET", f"/threads/{world.beta_thread['id']}/runs", key=api.other_key).body["data"] == []


def test_listing_never_shows_another_projects_assistants(api: Api) -> None:
    world = api.once("world", _world)
    listed = api("GET", "/assistants?limit=100", key=api.other_key).body["data"]
    assert [a["id"] for a in listed] == [world.beta_assistant["id"]]
    reply = api("GET", f"/assistants?after={world.assistant['id']}", key=api.other_key)
    never = api("GET", f"/assistants?after={NEVER_ASSISTANT}", key=api.other_key)
    assert reply.status == never.status == 400
    assert (
        never.body["error"]["message"].replace(NEVER_ASSISTANT, world.assistant["id"]) == reply.body["error"]["message"]
    )


def test_create_thread_belongs_to_the_callers_project_only(api: Api, dynamodb: Any) -> None:
    world = api.once("world", _world)
    seen, before = world.view, _table(dynamodb)
    created = api("POST", "/threads", BODIES["/threads"], key=api.other_key)
    assert created.status == 200
    new_id = created.body["id"]
    gone = api("GET", f"/threads/{new_id}")
    assert gone.status == 404
    assert_error(gone.body, 404, contains=f"No thread found with id '{new_id}'.")
    assert _alpha_view(api, world) == seen
    after = _table(dynamodb)
    assert [item for item in after if item["pk"]["S"] != new_id] == before  # only the new thread's items


def test_listing_never_shows_another_projects_threads(api: Api) -> None:
    alphas = {api("POST", "/threads", {"metadata": {"n": str(i)}}).body["id"] for i in range(3)}
    betas = {api("POST", "/threads", key=api.other_key).body["id"] for _ in range(2)}
    for order in ("asc", "desc"):
        for key, mine in ((api.key, alphas), (api.other_key, betas)):
            listed = api("GET", f"/threads?limit=100&order={order}", key=key)
            assert listed.status == 200
            assert {t["id"] for t in listed.body["data"]} == mine
        page = api("GET", f"/threads?limit=1&order={order}", key=api.other_key)  # the page boundary too
        assert page.body["data"][0]["id"] in betas

    # Alpha's thread as a cursor is refused exactly as an id that never existed.
    for cursor in ("after", "before"):
        alpha_id = next(iter(alphas))
        reply = api("GET", f"/threads?{cursor}={alpha_id}", key=api.other_key)
        never = api("GET", f"/threads?{cursor}={NEVER_THREAD}", key=api.other_key)
        assert reply.status == never.status == 400
        assert_error(reply.body, 400, param=cursor)
        assert never.body["error"]["message"].replace(NEVER_THREAD, alpha_id) == reply.body["error"]["message"]


def test_another_projects_message_is_no_cursor_in_ones_own_thread(api: Api) -> None:
    world = api.once("world", _world)
    path = f"/threads/{world.beta_thread['id']}/messages"
    reply = api("GET", f"{path}?after={world.message['id']}", key=api.other_key)
    never = api("GET", f"{path}?after={NEVER_MESSAGE}", key=api.other_key)
    assert reply.status == never.status == 400
    assert_error(reply.body, 400, param="after")
    assert never.body["error"]["message"].replace(NEVER_MESSAGE, world.message["id"]) == reply.body["error"]["message"]


def _idempotency_record(item: dict[str, Any]) -> bool:
    return str(item["pk"]["S"]).startswith("idempotency#")


def _made_by(item: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether ``item`` belongs to the object a create answered with ``body`` (a thread, a run, an assistant)."""
    thread_id = body["id"] if body["object"] == "thread" else body.get("thread_id")
    if thread_id:
        return str(item["pk"]["S"]).startswith(thread_id)
    return bool(item["sk"]["S"] == f"asst#{body['id']}")


# Cancel and submit_tool_outputs succeed once only (a run is cancelled once): not a replay's subject here.
REPEATABLE = sorted(p for p in BODIES if not p.endswith(("/cancel", "/submit_tool_outputs")))


@pytest.mark.parametrize("path", REPEATABLE)
def test_an_idempotency_key_never_replays_another_projects_response(api: Api, dynamodb: Any, path: str) -> None:
    world = api.once("world", _world)
    concrete = path.format(
        thread_id=world.thread["id"],
        message_id=world.message["id"],
        run_id=world.run["id"],
        assistant_id=world.assistant["id"],
    )
    headers = {"Idempotency-Key": "the-same-key"}
    first = api("POST", concrete, _body(path, world.assistant["id"]), headers=headers)
    assert first.status == 200, first.body
    seen, before = _alpha_view(api, world), _table(dynamodb)

    theirs = api("POST", concrete, _body(path, world.beta_assistant["id"]), headers=headers, key=api.other_key)
    assert theirs.body != first.body
    if path in CREATES:  # beta's own new object, not alpha's replayed
        assert theirs.status == 200 and theirs.headers["idempotent-replayed"] == "false"
        assert theirs.body["id"] != first.body["id"]
        after = [i for i in _table(dynamodb) if not _made_by(i, theirs.body) and not _idempotency_record(i)]
        assert after == [i for i in before if not _idempotency_record(i)]
    else:
        assert theirs.status == 404
        assert_error(theirs.body, 404, contains="No assistant found" if "{assistant_id}" in path else "No thread found")
        assert _table(dynamodb) == before
    assert _alpha_view(api, world) == seen


# -- keys -----------------------------------------------------------------------------------------------

MISSING = "You didn't provide an API key"
INCORRECT = "Incorrect API key provided"


def _bad_credentials(api: Api, revoked: str) -> list[tuple[str, dict[str, str], str]]:
    """(what, headers, expected message) for every way of not presenting a valid key."""
    return [
        ("no header", {}, MISSING),
        ("empty bearer", {"Authorization": "Bearer "}, MISSING),
        ("bearer alone", {"Authorization": "Bearer"}, MISSING),
        ("blank bearer", {"Authorization": "Bearer    "}, MISSING),
        ("basic", {"Authorization": "Basic abc"}, MISSING),
        ("basic with a valid key", {"Authorization": f"Basic {api.key}"}, MISSING),
        ("no space", {"Authorization": "Bearerxyz"}, MISSING),
        ("no space before a valid key", {"Authorization": f"Bearer{api.key}"}, MISSING),
        ("empty portkey header", {"x-portkey-api-key": ""}, MISSING),
        ("a valid key with a suffix", {"Authorization": f"Bearer {api.key} x"}, INCORRECT),
        ("unknown key", {"Authorization": "Bearer sk-thr-" + "U" * 48}, INCORRECT),
        ("unknown portkey key", {"x-portkey-api-key": "sk-thr-" + "P" * 48}, INCORRECT),
        ("revoked key", {"Authorization": f"Bearer {revoked}"}, INCORRECT),
    ]


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
        assert key not in json.dumps(reply.body) and key not in json.dumps(reply.headers)
        shown = re.fullmatch(r"Incorrect API key provided: (.*)\.", reply.body["error"]["message"])
        assert shown is not None and "***" in shown.group(1)
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


# -- routes that need no key ----------------------------------------------------------------------------


def test_routes_without_a_key_serve_the_same_to_everyone_and_write_nothing(api: Api, dynamodb: Any) -> None:
    assert {_id(r) for r in PUBLIC} >= {"ANY /", "ANY /{proxy+}"}
    local = LocalApi()
    before = _table(dynamodb)
    for route in PUBLIC:
        method = "GET" if route.method == "ANY" else route.method
        path = "/v1" + ("/vector_stores" if route.greedy else route.path)
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
