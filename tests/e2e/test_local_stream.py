"""``make serve`` (in process) streams a run's events as they happen; deployed, Lambda's Python runtime sends
them together when the run stops (tests/e2e/test_runs.py covers that mode)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from infra.local.dynamodb import free_port
from infra.ops.chat_server import ChatServer
from tests.contract.streams import assert_valid_events, events
from tests.e2e.conftest import _clean_env

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-thr-stream" + "s" * 32
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def model() -> Iterator[ChatServer]:
    with ChatServer() as chat:
        yield chat


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, model: ChatServer) -> Iterator[str]:
    state = tmp_path_factory.mktemp("serve-stream") / "serve.json"
    env = _clean_env() | {
        "PORT": str(free_port()),
        "THREADS_API_KEY": KEY,
        "THREADS_API_STATE": str(state),
        "MODEL_BASE_URL": model.url,
    }
    env.pop("DEPLOYED", None)
    log = state.with_suffix(".log")
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.serve"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (found := re.search(r"Threads API on (\S+)", log.read_text())):
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        assert found, log.read_text()
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert '"gateway_5xx"' not in log.read_text(), log.read_text()[-2000:]


def test_make_serve_sends_a_runs_first_events_while_the_model_is_still_answering(
    base_url: str, model: ChatServer
) -> None:
    """The model's answer is held (the chat server's ``[[hold:NAME]]``) until the test has read the first event
    and the run's status, however slow the machine: no race with a fixed delay."""
    headers = {"Authorization": f"Bearer {KEY}"}
    gate = f"stream-{uuid.uuid4().hex}"
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        assistant = client.post("/assistants", json={"model": "m"}).json()
        content = f"Hi [[hold:{gate}]]"
        thread = client.post("/threads", json={"messages": [{"role": "user", "content": content}]}).json()
        body = {"assistant_id": assistant["id"], "stream": True}
        text = ""
        try:
            with client.stream("POST", f"/threads/{thread['id']}/runs", json=body) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                pieces = response.iter_text()
                while "\n\n" not in text:
                    text += next(pieces)
                (name, run), *_ = events(text.split("\n\n")[0] + "\n\n")
                assert name == "thread.run.created"
                # The first event came while the model's answer is still held: the run has not ended.
                seen = client.get(f"/threads/{thread['id']}/runs/{run['id']}").json()
                assert seen["status"] in ("queued", "in_progress")
                model.release(gate)
                text += "".join(pieces)
        finally:
            model.release(gate)
    stream = events(text)
    assert_valid_events(stream)
    assert [name for name, _ in stream][-2:] == ["thread.run.completed", "done"]
    deltas = [data["delta"]["content"][0]["text"]["value"] for name, data in stream if name == "thread.message.delta"]
    assert "".join(deltas) == "echo: Hi"
