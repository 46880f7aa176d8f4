"""End-to-end: `make serve`'s server in a subprocess, driven over HTTP by the openai SDK and raw requests.

Every response the SDK receives is recorded and validated against OpenAI's reference schemas.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import openai
import pytest

from infra.local.dynamodb import free_port
from infra.ops.chat_server import ChatServer
from tests import least_privilege
from tests.contract.schemas import assert_valid
from tests.contract.streams import assert_valid_events, events

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@dataclass
class Server:
    base_url: str
    key: str
    state: Path
    process: subprocess.Popen[str]

    def env(self) -> dict[str, str]:
        return _clean_env() | {"THREADS_API_STATE": str(self.state)}

    def mint(self, project: str) -> str:
        """A key from the admin command, as `make key PROJECT=...` runs it against the local API."""
        out = subprocess.run(
            [sys.executable, "-m", "infra.ops.keys", "mint", "--project", project],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()

    def table_items(self, thread_id: str) -> list[dict[str, Any]]:
        """What the embedded DynamoDB holds for a thread: the test looks behind the API."""
        import boto3

        state = json.loads(self.state.read_text())
        client = boto3.client("dynamodb", endpoint_url=state["dynamodb_endpoint"], region_name="us-east-1")
        return client.query(
            TableName=state["table"],
            KeyConditionExpression="pk = :t",
            ExpressionAttributeValues={":t": {"S": thread_id}},
        )["Items"]


def _clean_env() -> dict[str, str]:
    """The environment of a user's shell: none of the unit tests' fake AWS settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "TABLE_NAME"}


# The modes the suite runs in: the deployed mode (what `sam deploy` ships: packaged functions in Lambda-like
# processes under their IAM roles and Lambda's limits) with X-Ray tracing off and on. E2E_MODES=in-process
# runs it against the quick development mode instead.
MODES = os.environ.get("E2E_MODES", "deployed-tracing-off,deployed-tracing-on").split(",")


MODEL_KEY = "sk-model-" + secrets.token_hex(8)  # what the model server demands: the worker must send it


@pytest.fixture(scope="session")
def model() -> Iterator[ChatServer]:
    """The runs' model: a local OpenAI-compatible Chat Completions server (``infra/ops/chat_server.py``) that
    answers from markers in the last user message and checks every request against OpenAI's schema."""
    with ChatServer(api_key=MODEL_KEY) as chat:
        yield chat
    assert not chat.invalid, f"requests that break CreateChatCompletionRequest: {chat.invalid[:3]}"


@pytest.fixture(scope="session", params=MODES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, model: ChatServer
) -> Iterator[Server]:
    mode = str(request.param)
    port = free_port()
    key = "sk-thr-e2e" + secrets.token_hex(16)
    state = tmp_path_factory.mktemp("serve") / "serve.json"
    iam_log = state.with_name("iam.jsonl")
    env = _clean_env() | {
        "PORT": str(port),
        "THREADS_API_KEY": key,
        "THREADS_API_STATE": str(state),
        "THREADS_API_IAM_LOG": str(iam_log),
        "PYTHONUNBUFFERED": "1",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "MODEL_BASE_URL": model.url,
        "MODEL_API_KEY": MODEL_KEY,
    }
    # make serve throttles no project unless asked (PROJECT_RATE_LIMIT): the suite drives one project as fast
    # as it goes; the usage plan's throttle is tested on its own (tests/handlers/test_edge.py).
    for name in ("PROJECT_RATE_LIMIT", "PROJECT_BURST_LIMIT"):
        env.pop(name, None)
    if mode.startswith("deployed"):
        env |= {"DEPLOYED": "1", "TRACING": "Active" if mode.endswith("tracing-on") else "Disabled"}
    log = state.with_suffix(".log")
    with log.open("w") as out:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base_url = ""
    deadline = time.monotonic() + 300  # the deployed mode's first start installs its layer and runtime
    while time.monotonic() < deadline and process.poll() is None:
        if match := re.search(r"Threads API on (\S+)", log.read_text()):
            base_url = match.group(1)
            break
        time.sleep(0.1)
    assert base_url, "the local API did not start: " + log.read_text()[-2000:]
    yield Server(base_url, key, state, process)
    if os.environ.get("E2E_HOLD"):
        time.sleep(float(os.environ["E2E_HOLD"]))
    process.terminate()
    process.wait(timeout=30)
    _assert_no_denial_and_no_server_error(log.read_text(), iam_log)


def _assert_no_denial_and_no_server_error(log: str, iam_log: Path) -> None:
    """What the whole session did in this mode: no call its IAM role refused, no 5xx answered."""
    lines = [json.loads(line) for line in iam_log.read_text().splitlines()] if iam_log.exists() else []
    least_privilege.record_worker_log(lines)
    denied = [line for line in lines if not line["allowed"]]
    assert not denied, f"calls refused by the functions' IAM roles: {denied}"
    server_errors = [line for line in log.splitlines() if '"gateway_5xx"' in line]
    assert not server_errors, "5xx answers: " + "\n".join(server_errors[:20])


@dataclass
class Exchange:
    method: str
    path: str
    status: int
    headers: httpx.Headers
    body: Any


_SCHEMAS = [  # the first match applies
    ("POST", r"/files", "OpenAIFile"),
    ("GET", r"/files", "ListFilesResponse"),
    ("GET", r"/files/[^/]+", "OpenAIFile"),
    ("DELETE", r"/files/[^/]+", "DeleteFileResponse"),
    ("POST", r"/vector_stores", "VectorStoreObject"),
    ("GET", r"/vector_stores", "ListVectorStoresResponse"),
    ("GET", r"/vector_stores/[^/]+", "VectorStoreObject"),
    ("POST", r"/vector_stores/[^/]+", "VectorStoreObject"),
    ("DELETE", r"/vector_stores/[^/]+", "DeleteVectorStoreResponse"),
    ("POST", r"/vector_stores/[^/]+/search", "VectorStoreSearchResultsPage"),
    ("POST", r"/vector_stores/[^/]+/files", "VectorStoreFileObject"),
    ("GET", r"/vector_stores/[^/]+/(files|file_batches/[^/]+/files)", "ListVectorStoreFilesResponse"),
    ("GET", r"/vector_stores/[^/]+/files/[^/]+", "VectorStoreFileObject"),
    ("POST", r"/vector_stores/[^/]+/files/[^/]+", "VectorStoreFileObject"),
    ("DELETE", r"/vector_stores/[^/]+/files/[^/]+", "DeleteVectorStoreFileResponse"),
    ("GET", r"/vector_stores/[^/]+/files/[^/]+/content", "VectorStoreFileContentResponse"),
    ("POST", r"/vector_stores/[^/]+/file_batches(/[^/]+/cancel)?", "VectorStoreFileBatchObject"),
    ("GET", r"/vector_stores/[^/]+/file_batches/[^/]+", "VectorStoreFileBatchObject"),
    ("POST", r"/uploads", "Upload"),
    ("POST", r"/uploads/[^/]+/parts", "UploadPart"),
    ("POST", r"/uploads/[^/]+/(complete|cancel)", "Upload"),
    ("POST", r"/threads/runs", "RunObject"),
    ("POST", r"/threads", "ThreadObject"),
    ("GET", r"/threads/[^/]+", "ThreadObject"),
    ("POST", r"/threads/[^/]+", "ThreadObject"),
    ("DELETE", r"/threads/[^/]+", "DeleteThreadResponse"),
    ("GET", r"/threads/[^/]+/messages", "ListMessagesResponse"),
    ("POST", r"/threads/[^/]+/messages", "MessageObject"),
    ("GET", r"/threads/[^/]+/messages/[^/]+", "MessageObject"),
    ("POST", r"/threads/[^/]+/messages/[^/]+", "MessageObject"),
    ("DELETE", r"/threads/[^/]+/messages/[^/]+", "DeleteMessageResponse"),
    ("POST", r"/assistants", "AssistantObject"),
    ("GET", r"/assistants", "ListAssistantsResponse"),
    ("GET", r"/assistants/[^/]+", "AssistantObject"),
    ("POST", r"/assistants/[^/]+", "AssistantObject"),
    ("DELETE", r"/assistants/[^/]+", "DeleteAssistantResponse"),
    ("POST", r"/threads/[^/]+/runs", "RunObject"),
    ("GET", r"/threads/[^/]+/runs", "ListRunsResponse"),
    ("GET", r"/threads/[^/]+/runs/[^/]+", "RunObject"),
    ("POST", r"/threads/[^/]+/runs/[^/]+(/cancel|/submit_tool_outputs)?", "RunObject"),
    ("GET", r"/threads/[^/]+/runs/[^/]+/steps", "ListRunStepsResponse"),
    ("GET", r"/threads/[^/]+/runs/[^/]+/steps/[^/]+", "RunStepObject"),
]


def validate_exchange(exchange: Exchange) -> None:
    """Check one response against the schema its route and status call for."""
    if exchange.path.split("/")[1] != "v1":  # S3, at a presigned URL the API redirected to: a file's bytes
        assert (exchange.method, exchange.status) == ("GET", 200), exchange
        assert isinstance(exchange.body, bytes)
        return
    # Our functions set x-request-id; API Gateway's own answers carry its request id as x-amzn-RequestId.
    gateway_made = exchange.headers.get("x-amzn-errortype") and exchange.headers.get("x-amzn-requestid")
    assert exchange.headers.get("x-request-id") or gateway_made, exchange
    if exchange.status >= 400:
        assert_valid(exchange.body, "ErrorResponse")
        return
    if exchange.headers.get("content-type", "").startswith("text/event-stream"):
        assert_valid_events(exchange.body)
        return
    path = exchange.path.split("/v1", 1)[1]
    if exchange.status == 302:  # a file larger than a Lambda response carries: its bytes at a presigned S3 URL
        assert exchange.method == "GET"
        assert re.fullmatch(r"/files/[^/]+/content", path), path
        assert exchange.headers["location"].startswith("http"), exchange.headers
        return
    if exchange.method == "GET" and re.fullmatch(r"/files/[^/]+/content", path):
        assert isinstance(exchange.body, bytes)  # the file's bytes, as they were uploaded
        assert exchange.headers["content-type"] == "application/octet-stream"
        return
    if exchange.method == "GET" and path == "/threads":
        for thread in exchange.body["data"]:
            assert_valid(thread, "ThreadObject")
        return
    for method, pattern, schema in _SCHEMAS:
        if method == exchange.method and re.fullmatch(pattern, path):
            assert_valid(exchange.body, schema)
            return
    raise AssertionError(f"no schema for {exchange.method} {path}")


@pytest.fixture
def exchanges() -> Iterator[list[Exchange]]:
    """Every response of the test's SDK clients; each validated against the reference when the test ends."""
    recorded: list[Exchange] = []
    yield recorded
    assert recorded, "the test made no request"
    for exchange in recorded:
        validate_exchange(exchange)


@pytest.fixture
def sdk(server: Server, exchanges: list[Exchange]) -> Any:
    """``sdk(key=None)``: an OpenAI client on the local API whose responses are recorded."""
    clients: list[httpx.Client] = []

    def record(response: httpx.Response) -> None:
        response.read()
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            recorded_body: Any = events(response.text)
        elif response.headers.get("content-type", "") == "application/octet-stream":
            recorded_body = response.content
        else:
            recorded_body = response.json() if response.content else None
        exchanges.append(
            Exchange(
                response.request.method,
                response.request.url.path,
                response.status_code,
                response.headers,
                recorded_body,
            )
        )

    def make(key: str | None = None, **options: Any) -> openai.OpenAI:
        # Redirects followed, as the SDK's own client does (a large file's content is a redirect to S3).
        http = httpx.Client(event_hooks={"response": [record]}, follow_redirects=True)
        clients.append(http)
        return openai.OpenAI(
            base_url=server.base_url, api_key=key or server.key, http_client=http, max_retries=0, **options
        )

    yield make
    for http in clients:
        http.close()


def assert_not_found(call: Any, kind: str, object_id: str) -> None:
    """``call()`` raises the SDK's NotFoundError with OpenAI's body for a ``kind`` that is not there."""
    with pytest.raises(openai.NotFoundError) as missing:
        call()
    assert missing.value.body == {
        "message": f"No {kind} found with id '{object_id}'.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
