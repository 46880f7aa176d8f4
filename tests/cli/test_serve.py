"""``make serve`` answers its operator in sentences, keeps its state file honest, and parses HTTP with
werkzeug: a malformed or huge ``Content-Length`` gets API Gateway's answer, never a crash or a hang."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra import template
from infra.local.dynamodb import free_port
from tests.cli.conftest import ROOT, clean_env
from tests.cli.forked import zygote

pytestmark = pytest.mark.process  # make serve as a subprocess


def _serve(env: dict[str, str], **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "infra.local.serve"],
        cwd=ROOT,
        env=env | {"PYTHONUNBUFFERED": "1", "THREADS_API_KEY": "sk-thr-cli-test"} | extra,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _started(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if match := re.search(r"Threads API on (\S+)", line):
            return match.group(1)
    raise AssertionError(f"the local API did not start (exit {process.wait()})")


@pytest.fixture(scope="module")
def served_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of the one local API the module's tests share (``running``)."""
    return clean_env(tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="module")
def running(served_env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str, int]]:
    """A local API for the module's tests that only read from it (it starts in seconds: one for all)."""
    port = free_port()
    process = _serve(served_env, PORT=str(port))
    base_url = _started(process)
    yield process, base_url, port
    process.kill()
    process.wait()


def _finished(env: dict[str, str], **extra: str) -> tuple[int, str]:
    """A ``make serve`` that is expected to stop by itself (a process of its own, forked from a zygote)."""
    done = zygote.run(
        "infra.local.serve", [], env | {"PYTHONUNBUFFERED": "1", "THREADS_API_KEY": "sk-thr-cli-test"} | extra, ROOT, 60
    )
    return done.code, done.stdout + done.stderr


@pytest.mark.parametrize("port", ["abc", "0", "70000", "-1", "３０００"])
def test_a_port_that_is_not_a_port(env: dict[str, str], port: str) -> None:
    code, output = _finished(env, PORT=port)
    assert code == 2
    assert f"PORT must be a number from 1 to 65535 (got {port!r})" in output
    assert "Traceback" not in output


def test_the_deployed_mode_refuses_a_real_table(env: dict[str, str]) -> None:
    code, output = _finished(env, PORT=str(free_port()), DEPLOYED="1", TABLE_NAME="my-table")
    assert code == 2
    assert "The deployed mode runs on the embedded DynamoDB only" in output
    assert "Traceback" not in output


def test_a_port_that_is_taken(env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output = _finished(env, PORT=str(port))
    assert code == 1
    expected = rf"Port {port} on 127\.0\.0\.1 is not available \(.+\)\. Try another, for example: make serve PORT=\d+"
    assert re.search(expected, output)
    assert "Traceback" not in output


def test_a_second_serve_says_where_the_first_one_is(served_env: dict[str, str], running: Any) -> None:
    process, base_url, _ = running
    code, output = _finished(served_env, PORT=str(free_port()))
    assert code == 1
    assert f"already running on {base_url} (process {process.pid})" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_state_file_goes_when_serve_stops(env: dict[str, str], stop: signal.Signals) -> None:
    state = Path(env["THREADS_API_STATE"])
    process = _serve(env, PORT=str(free_port()))
    base_url = _started(process)
    assert json.loads(state.read_text())["base_url"] == base_url
    process.send_signal(stop)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Traceback" not in output
    assert not state.exists()


def _raw(port: int, content_length: str, body: bytes = b"{}") -> tuple[int, dict[str, Any]]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        head = (
            f"POST /v1/threads HTTP/1.1\r\nHost: local\r\nAuthorization: Bearer sk-thr-cli-test\r\n"
            f"Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n"
        )
        connection.sendall(head.encode() + body)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


@pytest.mark.parametrize(
    ("content_length", "status"),
    [("99999999999", 413), ("10485761", 413), ("-1", 400), ("abc", 400), ("1e3", 400)],
)
def test_content_length_is_parsed_not_trusted(running: Any, content_length: str, status: int) -> None:
    _, _, port = running
    code, body = _raw(port, content_length)
    assert code == status
    assert set(body["error"]) == {"message", "type", "param", "code"}


def test_a_handler_that_crashes_is_api_gateways_502() -> None:
    """The in-process mode answers a crashed handler as AWS does (502 in DEFAULT_5XX), not as a 503 to retry."""
    from infra.local.invokers import in_process_invoker

    route = template.Route("GET", "/probe", "tests.deployed.probe.probe:handler", "ProbeFunction")
    invoke = in_process_invoker()
    event = {"queryStringParameters": {"action": "raise"}, "requestContext": {"requestId": "r-1"}}
    assert invoke(route, event).error == "Unhandled"
    event = {"queryStringParameters": {"action": "echo"}, "requestContext": {"requestId": "r-2"}}
    assert invoke(route, event).response()["statusCode"] == 200


def test_make_model_serves_the_test_model_that_readme_points_make_serve_at(env: dict[str, str]) -> None:
    """README: `make model`, then `make serve MODEL_BASE_URL=http://127.0.0.1:8001/v1`; with .venv's Python,
    whatever python is first on PATH."""
    import httpx2 as httpx

    port = free_port()
    model = subprocess.Popen(
        ["make", "-s", "model", f"MODEL_PORT={port}"],
        cwd=ROOT,
        env=env | {"PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # make and its python stop together
    )
    try:
        assert model.stdout is not None
        assert model.stdout.readline().strip().endswith(f"MODEL_BASE_URL=http://127.0.0.1:{port}/v1")
        body = {"model": "any", "messages": [{"role": "user", "content": "Hello"}]}
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json()["choices"][0]["message"]["role"] == "assistant"
    finally:
        os.killpg(model.pid, signal.SIGTERM)
        model.wait(timeout=10)
