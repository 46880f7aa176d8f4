"""Raw HTTP against the local API: what the SDK never sends, and the seeds' curl requests as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any

import httpx2 as httpx
import pytest

from infra.ops.reference import document
from tests.contract.schemas import SEEDS, assert_error
from tests.e2e.conftest import Exchange, Server, validate_exchange

pytestmark = pytest.mark.e2e


def send(server: Server, method: str, path: str, *, key: str | None = "default", **kwargs: Any) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}))
    if key is not None:
        headers["Authorization"] = f"Bearer {server.key if key == 'default' else key}"
    response = httpx.request(method, server.base_url + path, headers=headers, timeout=30, **kwargs)
    body = response.json()
    validate_exchange(
        Exchange(method, httpx.URL(server.base_url + path).path, response.status_code, response.headers, body)
    )
    return response


def test_empty_body_creates_a_thread(server: Server) -> None:
    response = send(server, "POST", "/threads", content=b"", headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json()["object"] == "thread"


@pytest.mark.parametrize(
    ("content", "status", "contains"),
    [
        (b"{", 400, "could not parse the JSON body"),
        (b"[]", 400, "expected an object"),
        (b"null", 400, "expected an object"),
        (b'{"messages": [{"role": "user", "content": "x"}], "messages": 5}', 400, "expected an array"),
        (b'{"metadata": {"a": "\\udc00"}}', 400, "invalid Unicode"),
        (b"\xc3\x28", 400, "not valid UTF-8"),
        (b'{"metadata":' * 5000 + b"{}" + b"}" * 5000, 400, ""),
        (b'{"metadata": {"k": "' + b"x" * (4 * 1024 * 1024 + 1) + b'"}}', 413, "too large"),
    ],
    ids=["truncated", "array", "null", "duplicate-key", "lone-surrogate", "bad-utf8", "deep-nesting", "huge"],
)
def test_malformed_requests_are_enveloped_400s(server: Server, content: bytes, status: int, contains: str) -> None:
    response = send(server, "POST", "/threads", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert_error(response.json(), status, contains=contains)


def test_keys(server: Server) -> None:
    missing = send(server, "GET", "/threads", key=None)
    assert missing.status_code == 401
    assert_error(missing.json(), 401, contains="You didn't provide an API key")
    wrong = send(server, "GET", "/threads", key="sk-thr-0000000000000000000000")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    empty = send(server, "GET", "/threads", key=None, headers={"Authorization": "Bearer"})
    assert empty.status_code == 401
    portkey = send(server, "GET", "/threads", key=None, headers={"x-portkey-api-key": server.key})
    assert portkey.status_code == 200


def test_routes_and_ids_that_do_not_exist(server: Server) -> None:
    for method, path in (
        ("GET", "/fine_tuning/jobs"),
        ("PUT", "/threads"),
        ("GET", "/threads/thread_abc/files"),
        ("GET", "/"),
        ("POST", "/fine_tuning/jobs?limit=2"),
    ):
        for key in ("default", None):
            response = send(server, method, path, key=key)
            assert response.status_code == 404, path
            assert_error(response.json(), 404)
            # What OpenAI says (and our catch-all function said), to the letter: the path with the stage,
            # without the query string.
            assert response.json()["error"]["message"] == f"Invalid URL ({method} /v1{path.split('?')[0]})"
            # API Gateway's own answer (MISSING_AUTHENTICATION_TOKEN): no function ran, none set x-request-id.
            assert response.headers["x-amzn-errortype"] == "MISSING_AUTHENTICATION_TOKEN"
            assert "x-request-id" not in response.headers
    for thread_id in ("thread_a%2Fb", "..", "thread_" + "x" * 500, "%2e%2e"):
        response = send(server, "GET", f"/threads/{thread_id}")
        assert response.status_code == 404
    outside = httpx.get(server.base_url.rsplit("/v1", 1)[0] + "/v2/threads")
    assert outside.status_code == 404
    assert outside.headers["x-amzn-requestid"]  # API Gateway answers it


def test_repeated_query_parameters_are_refused(server: Server) -> None:
    thread = send(server, "POST", "/threads").json()
    response = send(server, "GET", f"/threads/{thread['id']}/messages?order=asc&order=desc")
    assert response.status_code == 400
    assert_error(response.json(), 400, param="order")


def test_every_response_has_a_request_id(server: Server) -> None:
    ids = {send(server, "GET", "/threads").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


# -- the seeds' curl requests, with only the host changed --------------------------------------------


def _curl_commands(text: str) -> list[str]:
    """Every ``curl ...`` command in a text: backslash-continued lines and multi-line quoted bodies."""
    commands, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if not lines[i].lstrip().startswith("curl "):
            i += 1
            continue
        command = lines[i]
        while command.rstrip().endswith("\\") or command.count("'") % 2:
            i += 1
            command += "\n" + lines[i]
        commands.append(command)
        i += 1
    return commands


def _reference_curls() -> list[str]:
    out = []
    for path, item in document()["paths"].items():
        if not path.startswith("/threads"):
            continue
        for operation in item.values():
            examples = operation.get("x-oaiMeta", {}).get("examples")
            for example in examples if isinstance(examples, list) else [examples]:
                out += _curl_commands(example["request"]["curl"])
    return out


SEED_CURLS = [c for seed in sorted(SEEDS.glob("*.txt")) for c in _curl_commands(seed.read_text())]
REFERENCE_CURLS = _reference_curls()


def _run_curl(server: Server, command: str, thread_id: str, message_id: str) -> tuple[int, str, Any]:
    command = re.sub(r"https://api\.(openai\.com|portkey\.ai)/v1", server.base_url, command)
    command = command.replace("thread_abc123", thread_id).replace("msg_abc123", message_id)
    env = {
        **os.environ,
        "OPENAI_API_KEY": server.key,
        "PORTKEY_API_KEY": server.key,
        "PORTKEY_PROVIDER_VIRTUAL_KEY": "virtual-key",
    }
    script = command + " -s -w '\\n%{http_code} %{method}'"
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True)
    body, _, status_method = out.stdout.rpartition("\n")
    status, method = status_method.split()
    return int(status), method, json.loads(body)


def test_the_seeds_hold_the_expected_requests() -> None:
    assert len(SEED_CURLS) == 5  # OpenAI's create, retrieve, modify, delete; Portkey's create
    assert any("x-portkey-api-key" in c for c in SEED_CURLS)
    assert any("-d ''" in c for c in SEED_CURLS)
    assert len(REFERENCE_CURLS) >= 9


@pytest.mark.parametrize("command", SEED_CURLS + REFERENCE_CURLS)
def test_seed_and_reference_curl_requests_work_as_written(server: Server, command: str) -> None:
    created = send(server, "POST", "/threads", json={"messages": [{"role": "user", "content": "hi"}]}).json()
    message = send(server, "GET", f"/threads/{created['id']}/messages").json()["data"][0]
    status, method, body = _run_curl(server, command, created["id"], message["id"])
    assert status == 200, body
    path = "/v1" + re.search(r"/v1(/\S*)", command.replace(server.base_url, "/v1")).group(1)  # type: ignore[union-attr]
    path = path.replace("thread_abc123", created["id"]).replace("msg_abc123", message["id"])
    validate_exchange(Exchange(method, path, status, httpx.Headers({"x-request-id": "curl"}), body))
