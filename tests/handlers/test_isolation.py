"""Projects are isolated (BOLA) on every route the template declares.

Another project's key gets OpenAI's 404 for a thread, a message, a run, a run step or an assistant (never
403: it cannot even learn that the object exists) and changes nothing; lists never show another project's
objects, and an Idempotency-Key never replays another project's response. (Keys themselves:
test_key_checks.py.)
"""

from __future__ import annotations

from typing import Any

import pytest

from infra import template
from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api
from tests.handlers.runs_support import model, runs
from tests.handlers.security_support import (
    ASSISTANT_ROUTES,
    AUTHENTICATED,
    BODIES,
    CREATES,
    MESSAGE_ROUTES,
    NEVER_ASSISTANT,
    NEVER_MESSAGE,
    NEVER_THREAD,
    OBJECT_ROUTES,
    _alpha_view,
    _body,
    _id,
    _nothing_changes,
    _path,
    _table,
    _worker,
    _world,
)

__all__ = ["_worker", "model", "runs"]  # fixtures


def test_every_authenticated_route_has_an_isolation_test() -> None:
    own = {"POST /threads", "GET /threads", "POST /assistants", "GET /assistants", "POST /threads/runs"}
    # Files: test_files.py's test_another_projects_key_finds_nothing (retrieve, content, delete, list).
    own |= {"POST /files", "GET /files", "GET /files/{file_id}", "DELETE /files/{file_id}"}
    own |= {"GET /files/{file_id}/content"}
    # Uploads: test_uploads.py's test_another_projects_key_finds_no_upload (parts, complete, cancel).
    own |= {"POST /uploads", "POST /uploads/{upload_id}/parts", "POST /uploads/{upload_id}/complete"}
    own |= {"POST /uploads/{upload_id}/cancel"}
    # Vector stores: test_vector_stores.py's test_another_projects_key_finds_nothing (every route of a store).
    own |= {_id(r) for r in AUTHENTICATED if r.path.startswith("/vector_stores")}
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
    """Whether ``item`` belongs to the object a create answered with ``body`` (a thread, a run, an assistant, an
    upload)."""
    thread_id = body["id"] if body["object"] == "thread" else body.get("thread_id")
    if thread_id:
        return str(item["pk"]["S"]).startswith(thread_id)
    return bool(item["sk"]["S"] in (f"asst#{body['id']}", f"upload#{body['id']}", f"vs#{body['id']}"))


# Cancel and submit_tool_outputs succeed once only (a run is cancelled once): not a replay's subject here; a
# file's upload and an upload's part are forms, not JSON (their keyed retries: tests/handlers/test_files_faults.py,
# test_uploads_idempotency.py), and an upload's completion needs alpha's upload and its parts (the same file).
# A vector store's routes need alpha's store: tests/handlers/test_vector_stores.py's
# test_an_idempotency_key_never_replays_another_projects_store_response.
REPEATABLE = sorted(
    p
    for p in BODIES
    if not p.endswith(("/cancel", "/submit_tool_outputs", "/parts", "/complete"))
    and p != "/files"
    and not p.startswith("/vector_stores/")
)


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
        assert theirs.status == 200
        assert theirs.headers["idempotent-replayed"] == "false"
        assert theirs.body["id"] != first.body["id"]
        after = [i for i in _table(dynamodb) if not _made_by(i, theirs.body) and not _idempotency_record(i)]
        assert after == [i for i in before if not _idempotency_record(i)]
    else:
        assert theirs.status == 404
        assert_error(theirs.body, 404, contains="No assistant found" if "{assistant_id}" in path else "No thread found")
        assert _table(dynamodb) == before
    assert _alpha_view(api, world) == seen
