"""Bring your threads home, as a team would: an OpenAI-format export imported with the command into the local
API's table, then the application's own code (the official SDK) reads the threads by their old ids, appends
to them and runs its imported assistant on them, and ``make export`` gives it all back in the same format."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest

from infra.ops.chat_server import ChatServer
from tests.e2e.conftest import ROOT, Server
from tests.openai_export import ASSISTANT, THREAD, openai_file

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
warnings.filterwarnings("ignore", category=DeprecationWarning)


def _transfer(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    """The command as `make import` / `make export` run it against the running local API."""
    return subprocess.run(
        [sys.executable, "-m", "infra.ops.transfer", *args],
        cwd=ROOT,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,  # the test reads the exit code and stderr
    )


def _dump(value: Any) -> dict[str, Any]:
    return dict(value.model_dump(mode="json", exclude_unset=True))


def test_an_imported_export_is_read_by_its_old_ids_and_carried_on(
    sdk: Any, server: Server, model: ChatServer, tmp_path: Path
) -> None:
    project = f"e2e-import-{uuid.uuid4().hex[:8]}"
    given = openai_file(tmp_path / "openai.jsonl")
    done = _transfer(server, "import", "--project", project, str(tmp_path / "openai.jsonl"))
    assert done.returncode == 0, done.stderr
    assert "Imported 1 threads (5 messages) and 1 assistants" in done.stderr
    client = sdk(key=server.mint(project))

    # Read by the ids the application kept: equal to what OpenAI returned.
    assert _dump(client.beta.assistants.retrieve(ASSISTANT)) == given[0]
    assert _dump(client.beta.threads.retrieve(THREAD)) == given[1]
    listed = client.beta.threads.messages.list(THREAD, order="asc", limit=2)  # auto-paginated by the SDK
    assert [_dump(m) for m in listed] == given[2:]
    newest = client.beta.threads.messages.list(THREAD, limit=1)
    assert newest.data[0].id == given[-1]["id"]
    assert newest.has_more is True
    assert _dump(client.beta.threads.messages.retrieve(given[3]["id"], thread_id=THREAD)) == given[3]

    # Carried on: a new message after the imported ones, and a run of the imported assistant that sees them.
    added = client.beta.threads.messages.create(THREAD, role="user", content="And after the move?")
    run = client.beta.threads.runs.create_and_poll(
        thread_id=THREAD, assistant_id=ASSISTANT, tools=[], poll_interval_ms=50
    )
    assert run.status == "completed", run.last_error
    assert run.instructions == given[0]["instructions"]
    [reply] = client.beta.threads.messages.list(THREAD, run_id=run.id).data
    history = [r.body["messages"] for r in model.requests if "And after the move?" in str(r.body["messages"])]
    assert history, "the model was not asked"
    said = json.dumps(history[-1])
    assert "Hello" in said
    assert "Hi!" in said  # the imported history reached the model, the assistant's replies among it
    ids = [m.id for m in client.beta.threads.messages.list(THREAD, order="asc")]
    assert ids == [m["id"] for m in given[2:]] + [added.id, reply.id]
    client.beta.threads.update(THREAD, metadata={"user": "42", "moved": "yes"})

    # Taken out again: the same objects, the new ones after them.
    out = tmp_path / "export.jsonl"
    done = _transfer(server, "export", "--project", project, "--out", str(out))
    assert done.returncode == 0, done.stderr
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert [o["id"] for o in exported] == [o["id"] for o in given] + [added.id, reply.id]
    assert exported[1]["metadata"] == {"user": "42", "moved": "yes"}
    assert exported[2:7] == given[2:]
