"""``python -m infra.ops.keys``: each expected failure is a sentence and an exit code, never a traceback (usage,
the local API's state file, AWS's region, credentials, stack and table, a denial; ``make revoke``)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from infra.local.dynamodb import free_port
from tests.cli.conftest import ROOT, Aws, Run, fails
from tests.cli.keys_support import _state

# The commands as subprocesses; moto's server warms while the first tests run.
pytestmark = [pytest.mark.process, pytest.mark.usefixtures("aws")]


ELSEWHERE = "Start it with `make serve`, or use STACK=<stack> / TABLE_NAME=<table>."


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


# -- usage: exit 2 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["create", "mint", "list", "revoke"])
def test_help(run: Run, command: str) -> None:
    result = run(command, "--help")
    assert result.code == 0, result.output
    assert "--stack" in result.stdout
    assert "--table" in result.stdout
    assert "exit codes" in result.stdout


def test_help_of_the_tool(run: Run) -> None:
    result = run("--help")
    assert result.code == 0
    assert all(word in result.stdout for word in ("create", "list", "revoke"))


def test_no_command(run: Run) -> None:
    result = run()
    assert result.code == 2
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [["revoke", ""], ["revoke"], ["revoke", "  "]])
def test_revoke_an_empty_key(run: Run, args: list[str]) -> None:
    fails(run(*args), 2, "No key to revoke: KEY is empty.", "make revoke KEY=<key or id>")


@pytest.mark.parametrize("args", [["create", "--project", ""], ["create"], ["mint", "--project", " "]])
def test_create_with_no_project(run: Run, args: list[str]) -> None:
    fails(run(*args), 2, "The project name is empty.", "make key PROJECT=<name>")


def test_create_with_an_invalid_project(run: Run) -> None:
    fails(run("create", "--project", "a/b"), 2, "'a/b' is not a valid project name")


def test_an_empty_stack_flag(run: Run) -> None:
    fails(run("list", "--stack", ""), 2, "--stack is empty")


# -- the local API's state file --------------------------------------------------------------------------


def test_no_local_api(run: Run) -> None:
    fails(run("list"), 1, "No local API is running (there is no", "make serve")


def test_state_file_of_an_exited_process(run: Run, env: dict[str, str]) -> None:
    pid = _dead_pid()
    _state(env, pid=pid, dynamodb_endpoint="http://127.0.0.1:1")
    fails(
        run("create", "--project", "x"),
        1,
        f"No local API is running on port 3000 (the state file names process {pid}, which has exited). {ELSEWHERE}",
    )


def test_state_file_naming_a_closed_port(run: Run, env: dict[str, str]) -> None:
    port = free_port()  # nothing listens on it
    _state(env, pid=os.getpid(), dynamodb_endpoint=f"http://127.0.0.1:{port}")
    result = run("revoke", "sk-thr-whatever")
    fails(result, 1, f"No local API is answering on port 3000 (its DynamoDB at http://127.0.0.1:{port} refuses")


def test_state_file_unreadable(run: Run, env: dict[str, str]) -> None:
    Path(env["THREADS_API_STATE"]).write_text("{not json")
    fails(run("list"), 1, "state file", "cannot be read", "make serve")


# -- AWS: region, credentials, stack, table ------------------------------------------------------------------


def test_stack_without_a_region(run: Run) -> None:
    result = run("list", STACK="threads-api", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    fails(result, 1, "No AWS region is configured, so stack threads-api cannot be reached.", "AWS_DEFAULT_REGION")


def test_table_without_credentials(run: Run) -> None:
    result = run("list", "--table", "threads-api", AWS_DEFAULT_REGION="eu-west-1")
    fails(result, 1, "No AWS credentials were found for table threads-api.", "aws configure")


def test_a_missing_profile(run: Run) -> None:
    fails(run("list", STACK="s", AWS_PROFILE="nowhere"), 1, "The AWS profile 'nowhere' is not in your AWS config.")


def test_a_stack_that_does_not_exist(run: Run, aws: Aws) -> None:
    result = run("list", "--stack", "no-such-stack", **aws.env())
    fails(result, 1, "Stack no-such-stack does not exist in us-east-1.")


def test_a_stack_without_a_table_name_output(run: Run, aws: Aws) -> None:
    aws.stack("not-threads", {})
    result = run("list", STACK="not-threads", **aws.env())
    fails(result, 1, "Stack not-threads has no TableName output (it has no outputs)")


def test_a_table_that_does_not_exist(run: Run, aws: Aws) -> None:
    result = run("create", "--project", "billing", TABLE_NAME="no-such-table", **aws.env())
    fails(result, 1, "Table no-such-table does not exist in us-east-1.")
    assert result.stdout == ""


def test_dynamodb_endpoint_unreachable(run: Run) -> None:
    port = free_port()  # nothing listens on it
    result = run(
        "list",
        TABLE_NAME="t",
        AWS_ENDPOINT_URL_DYNAMODB=f"http://127.0.0.1:{port}",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="y",
    )
    fails(
        result,
        1,
        f"Nothing answers at http://127.0.0.1:{port}, the DynamoDB endpoint that AWS_ENDPOINT_URL_DYNAMODB names",
    )


@pytest.fixture
def denying() -> Iterator[str]:
    """An endpoint that answers every DynamoDB call as AWS does a caller without the permission."""

    class Deny(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            body = json.dumps(
                {
                    "__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException",
                    "message": "User: arn:aws:iam::123456789012:user/ops is not authorized to perform: "
                    "dynamodb:Query on resource: arn:aws:dynamodb:us-east-1:123456789012:table/t/index/by_owner",
                }
            ).encode()
            self.send_response(400)
            self.send_header("content-type", "application/x-amz-json-1.0")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Deny)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_dynamodb_access_denied(run: Run, denying: str) -> None:
    result = run(
        "list",
        TABLE_NAME="t",
        AWS_ENDPOINT_URL=denying,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="y",
    )
    fails(result, 1, "AWS denied Query on table t (us-east-1): User: arn:aws:iam::123456789012:user/ops")


# -- --debug ------------------------------------------------------------------


def test_debug_shows_the_traceback(run: Run) -> None:
    result = run("--debug", "list")
    assert result.code == 1
    assert "Traceback" in result.stderr
    assert "No local API is running" in result.stderr


# -- the Make target -------------------------------------------------------------------------------------


def test_make_revoke_with_an_empty_key(env: dict[str, str]) -> None:
    done = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "revoke", "KEY="],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "No key to revoke: KEY is empty." in output
    assert "Error 2" in output  # the tool's exit code, as make reports it
    assert "Traceback" not in output
