"""What the isolation and key tests share: every route the template declares (those behind the authorizer, the
public ones), a body for each POST, a world of objects of two projects (alpha's and beta's) and alpha's view of
it, and the bad credentials a request may carry."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from infra import template
from tests.handlers.conftest import Api
from tests.handlers.runs_support import Runs

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
    "/files": {"purpose": "assistants"},  # a form, in truth (tests/handlers/test_files.py); refused before it
    "/uploads": {"filename": "f.txt", "purpose": "assistants", "bytes": 1, "mime_type": "text/plain"},
    "/uploads/{upload_id}/parts": {"data": "x"},  # a form, in truth (tests/handlers/test_uploads.py)
    "/uploads/{upload_id}/complete": {"part_ids": ["part_" + "A" * 24]},
    "/uploads/{upload_id}/cancel": {},
    "/vector_stores": {"name": "intruder"},
    "/vector_stores/{vector_store_id}": {"name": "intruder"},
    "/vector_stores/{vector_store_id}/search": {"query": "anything"},
    "/vector_stores/{vector_store_id}/files": {"file_id": "file-" + "A" * 24},
    "/vector_stores/{vector_store_id}/files/{file_id}": {"attributes": {"owner": "intruder"}},
    "/vector_stores/{vector_store_id}/file_batches": {"file_ids": ["file-" + "A" * 24]},
    "/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel": {},
}


# Creates whose object the caller owns at once (no foreign id in the path).
CREATES = {"/threads", "/assistants", "/threads/runs", "/uploads", "/vector_stores"}


@pytest.fixture(autouse=True)
def _worker(runs: Runs) -> None:
    runs.immediate = True  # a run is worked on at once: the world's runs have ended, with their steps


def _body(route_path: str, assistant_id: str) -> dict[str, Any] | None:
    body = BODIES.get(route_path)
    return (
        None if body is None else json.loads(json.dumps(body).replace(json.dumps(ASSISTANT), json.dumps(assistant_id)))
    )


def _public(route: template.Route) -> bool:
    """A route API Gateway serves without the authorizer (tests/test_template_iam.py: only functions without
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
        "file_id": "file-" + "A" * 24,  # files' isolation is tests/handlers/test_files.py's
        "upload_id": "upload_" + "A" * 24,  # uploads' is tests/handlers/test_uploads.py's
        "vector_store_id": "vs_" + "A" * 24,  # vector stores' is tests/handlers/test_vector_stores.py's
        "batch_id": "vsfb_" + "A" * 24,
    }
    return route.path.format(**(mine | ids))


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
