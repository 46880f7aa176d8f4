"""The logs hold one line per request and never a key, a message's text, a metadata value or an error's message.

A whole session runs through every route with the request lines on (DEBUG, as ``POWERTOOLS_LOG_LEVEL=DEBUG``
gives), while everything written to stdout and stderr (what Lambda sends to CloudWatch) and every log
record is captured.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra import template
from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api, Reply
from threads_api import auth, store
from threads_api.observability import logger

ERROR_MESSAGE = "SECRET-CONTENT-XYZ"  # a failure's message may quote content: it must not be logged
CLIENT_ERROR_MESSAGE = "One or more parameter values were invalid: SECRET-DYNAMODB-MESSAGE-QW7"
UNKNOWN_KEY = "sk-thr-UNKNOWNlogKEYzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
IDEMPOTENCY_KEY = "IDEMPOTENCY-KEY-LOGS-5TQ"

# Everything a client sends that is content: message texts, metadata keys and values.
TEXTS = [f"MESSAGE-TEXT-{n}-Zq81" for n in range(6)]
META = {
    "THREAD-META-KEY-Hb2": "THREAD-META-VALUE-Hb2",
    "MESSAGE-META-KEY-Lp9": "MESSAGE-META-VALUE-Lp9",
    "MODIFIED-META-KEY-Ux4": "MODIFIED-META-VALUE-Ux4",
}
BAD_FIELD = "UNKNOWN-FIELD-NAME-Ke3"
BAD_VALUE = "BAD-METADATA-VALUE-Rr5"


def _operation(method: str, path: str) -> str:
    """The operation a request line names: the handler module of the template's route."""
    local = path.partition("?")[0]
    for route in template.routes():
        if route.method in (method, "ANY") and route.pattern.match(local):
            return route.handler.partition(":")[0].rpartition(".")[2]
    raise AssertionError(f"no route for {method} {path}")


@dataclass
class Session:
    """Sends requests and remembers the (operation, status) line each one should log."""

    api: Api
    expected: list[tuple[str, int]] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)  # each request's, in the same order

    def __call__(self, method: str, path: str, body: Any = None, *, status: int = 200, **kwargs: Any) -> Reply:
        reply = self.api(method, path, body, **kwargs)
        assert reply.status == status, (method, path, reply.body)
        if "x-request-id" in reply.headers:  # a function answered; a key the authorizer refused reaches none
            self.expected.append((_operation(method, path), status))
            self.request_ids.append(reply.headers["x-request-id"])
        return reply


class _Stdout:
    """Whatever ``sys.stdout`` is when a line is written: Lambda sends the process's stdout to CloudWatch."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The request lines on; the Powertools logger writing to the captured stdout; every record caught."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    monkeypatch.setattr(handler, "stream", _Stdout())  # it holds the stdout of import time, not capsys's
    caplog.set_level(logging.INFO)  # every library's records from INFO up: more than Lambda's root logger shows
    caplog.set_level(logging.DEBUG, logger="aws_lambda_powertools")  # Powertools' idempotency, at DEBUG
    previous = logger.log_level
    logger.setLevel("DEBUG")
    try:
        yield
    finally:
        logger.setLevel(previous)


def _session(api: Api, monkeypatch: pytest.MonkeyPatch) -> Session:
    s = Session(api)
    revoked = auth.create_key("alpha")
    assert auth.revoke_key(revoked)
    s("GET", "/threads", key=UNKNOWN_KEY, status=401)
    s("GET", "/threads", key=revoked, status=401)
    s("GET", "/threads", key=None, status=401)

    thread = s(
        "POST",
        "/threads",
        {
            "messages": [
                {
                    "role": "user",
                    "content": TEXTS[0],
                    "metadata": {"MESSAGE-META-KEY-Lp9": META["MESSAGE-META-KEY-Lp9"]},
                },
                {"role": "assistant", "content": [{"type": "text", "text": TEXTS[1]}]},
            ],
            "metadata": {"THREAD-META-KEY-Hb2": META["THREAD-META-KEY-Hb2"]},
        },
    ).body
    thread_id = thread["id"]
    once = {"messages": [{"role": "user", "content": TEXTS[2]}]}
    first = s("POST", "/threads", once, headers={"Idempotency-Key": IDEMPOTENCY_KEY})
    replayed = s("POST", "/threads", once, headers={"Idempotency-Key": IDEMPOTENCY_KEY})
    assert replayed.body == first.body
    appended = s("POST", f"/threads/{thread_id}/messages", {"role": "user", "content": TEXTS[3]}).body

    listed = s("GET", f"/threads/{thread_id}/messages?order=asc&limit=2").body
    assert [m["content"][0]["text"]["value"] for m in listed["data"]] == TEXTS[:2]
    s("GET", f"/threads/{thread_id}/messages?after={listed['data'][0]['id']}")
    s("GET", f"/threads/{thread_id}/messages/{appended['id']}")
    s("GET", f"/threads/{thread_id}")
    s("GET", "/threads?limit=1")
    s("POST", f"/threads/{thread_id}", {"metadata": {"MODIFIED-META-KEY-Ux4": META["MODIFIED-META-KEY-Ux4"]}})
    s("POST", f"/threads/{thread_id}/messages/{appended['id']}", {"metadata": {"k": META["MESSAGE-META-KEY-Lp9"]}})

    # Bad requests, whose bodies quote what was sent: the response may, the logs may not.
    s("POST", "/threads", {BAD_FIELD: TEXTS[4]}, status=400)
    s("POST", f"/threads/{thread_id}/messages", {"role": "system", "content": TEXTS[4]}, status=400)
    s("POST", f"/threads/{thread_id}", {"metadata": {"k": BAD_VALUE * 40}}, status=400)
    s("POST", "/threads", raw=f'{{"metadata": {{"k": "{TEXTS[5]}"'.encode(), status=400)
    s("GET", f"/threads/{thread_id}/messages?limit={BAD_VALUE}", status=400)
    # Another project's key: 404.
    s("GET", f"/threads/{thread_id}/messages/{appended['id']}", key=api.other_key, status=404)
    s("POST", f"/threads/{thread_id}", {"metadata": {"k": TEXTS[5]}}, key=api.other_key, status=404)

    # Failures: the type (and DynamoDB's code) is logged, never the message.
    def failing_get_thread(*args: Any) -> Any:
        raise RuntimeError(ERROR_MESSAGE)

    with monkeypatch.context() as patch:
        patch.setattr(store, "get_thread", failing_get_thread)
        failed = s("GET", f"/threads/{thread_id}", status=500)
    assert_error(failed.body, 500)
    assert ERROR_MESSAGE not in json.dumps(failed.body)

    def failing_query(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "ValidationException", "Message": CLIENT_ERROR_MESSAGE}}, "Query")

    with monkeypatch.context() as patch:
        patch.setattr(store.client, "query", failing_query)
        failed = s("GET", "/threads", status=500)
    assert CLIENT_ERROR_MESSAGE not in json.dumps(failed.body)

    s("DELETE", f"/threads/{thread_id}/messages/{appended['id']}")
    s("DELETE", f"/threads/{thread_id}")
    s("DELETE", f"/threads/{first.body['id']}")
    assert api.stream.drain() > 0  # the cleanup function runs (and logs) too
    return s


def _secrets(api: Api) -> list[str]:
    keys = [api.key, api.other_key, UNKNOWN_KEY]
    return [
        *keys,
        *(key[len(auth.KEY_PREFIX) :] for key in keys),  # the secret part alone
        *TEXTS,
        *META,
        *META.values(),
        BAD_FIELD,
        BAD_VALUE,
        ERROR_MESSAGE,
        CLIENT_ERROR_MESSAGE,
        "SECRET-DYNAMODB-MESSAGE-QW7",
        IDEMPOTENCY_KEY,
    ]


def test_a_whole_session_logs_each_request_and_no_secret(
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    debug_logs: None,
) -> None:
    session = _session(api, monkeypatch)
    captured = capsys.readouterr()
    records = [json.dumps(vars(record), default=str) for record in caplog.records]

    # What was written is JSON, one object a line, as CloudWatch Logs Insights reads it.
    lines = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    requests = [line for line in lines if line["message"] == "request"]
    assert [(line["operation"], line["status"]) for line in requests] == session.expected
    for line, request_id in zip(requests, session.request_ids, strict=True):
        assert line["level"] == ("INFO" if line["status"] >= 400 else "DEBUG")
        assert (line.get("project") is None) == (line["status"] == 401)  # Powertools drops None fields
        assert isinstance(line["duration_ms"], float | int)
        assert line["correlation_id"] == request_id
        _assert_lambda_context(line, request_id)
    assert {line.get("project") for line in requests} == {"alpha", "beta"}  # a 401 is the gateway's: no line

    failures = [line for line in lines if line["message"] == "request failed"]
    assert [(f["level"], f["error_type"], f.get("error_code")) for f in failures] == [
        ("ERROR", "RuntimeError", None),
        ("ERROR", "ClientError", "ValidationException"),
    ]
    assert all(f["frames"] for f in failures)
    assert any(line["message"] == "thread purged" for line in lines)
    # The same lines reach the logging records, so the check below covers both.
    assert sum(1 for record in caplog.records if record.getMessage() == "request") == len(session.expected)

    haystacks = {"stdout": captured.out, "stderr": captured.err, "records": "\n".join(records), "text": caplog.text}
    for secret in _secrets(api):
        for where, text in haystacks.items():
            assert secret not in text, f"{secret!r} is in the {where}"


def _assert_lambda_context(line: dict[str, Any], request_id: str) -> None:
    """Lambda's context, as Powertools' ``inject_lambda_context`` writes it. The local gateway's context gives
    API Gateway's request id as Lambda's (in AWS they differ: ``correlation_id`` is API Gateway's)."""
    assert line["function_request_id"] == request_id
    assert isinstance(line["cold_start"], bool)
    assert line["function_name"].endswith("Function") and line["function_arn"].endswith(line["function_name"])


def test_at_the_deployed_level_only_failures_are_logged(
    api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], debug_logs: None
) -> None:
    deployed = template.load()["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"]
    assert deployed == "INFO"
    logger.setLevel(deployed)  # the fixture restores the level after the test
    session = _session(api, monkeypatch)
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    failed = [line for line in lines if line["message"] == "request"]
    logged = [
        (sent, request_id)
        for sent, request_id in zip(session.expected, session.request_ids, strict=True)
        if sent[1] >= 400
    ]
    assert [(line["operation"], line["status"]) for line in failed] == [sent for sent, _ in logged]
    assert failed and all(line["level"] != "DEBUG" for line in lines)
    for line, (_, request_id) in zip(failed, logged, strict=True):
        _assert_lambda_context(line, request_id)
    for secret in _secrets(api):
        assert secret not in captured.out + captured.err, secret


def test_a_500_logs_one_short_line_whatever_the_depth_of_its_traceback(
    api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], debug_logs: None
) -> None:
    """A recursion that fails deep (two functions in turn, which no traceback formatting folds) logs its
    innermost frames only: no log line can grow with the depth of a failure."""

    def ping(n: int) -> Any:
        return pong(n + 1)

    def pong(n: int) -> Any:
        return ping(n + 1)

    thread_id = api("POST", "/threads").body["id"]
    capsys.readouterr()
    with monkeypatch.context() as patch:
        patch.setattr(store, "get_thread", lambda *args: ping(0))
        reply = api("GET", f"/threads/{thread_id}")
    assert reply.status == 500
    assert_error(reply.body, 500)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    failures = [json.loads(line) for line in lines if json.loads(line)["message"] == "request failed"]
    assert [f["error_type"] for f in failures] == ["RecursionError"]
    assert 1 <= len(failures[0]["frames"]) <= 10
    assert "in pong" in failures[0]["frames"][-1] or "in ping" in failures[0]["frames"][-1]
    assert max(len(line) for line in lines) < 8_000


def test_a_failed_requests_line_says_whether_it_was_a_cold_start(
    api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], debug_logs: None
) -> None:
    """The first invocation of a process is its cold start; a call without a Lambda context (a tool's, or a
    test's) logs without the context's fields, and without the previous invocation's."""
    from aws_lambda_powertools.logging import logger as powertools_logger

    from handlers import retrieve_thread

    monkeypatch.setattr(powertools_logger, "is_cold_start", True)  # a new process
    missing = "/threads/thread_doesnotexist"
    capsys.readouterr()
    first, second = api("GET", missing), api("GET", missing)
    event = {"httpMethod": "GET", "requestContext": {"requestId": "no-context"}, "headers": {}}
    assert retrieve_thread.handler(event, None)["statusCode"] == 401
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    requests = [line for line in lines if line["message"] == "request"]
    assert [(line["status"], line.get("cold_start")) for line in requests] == [(404, True), (404, False), (401, None)]
    for line, reply in zip(requests, (first, second), strict=False):
        _assert_lambda_context(line, reply.headers["x-request-id"])
    assert requests[2]["correlation_id"] == "no-context"
    assert not set(requests[2]) & {"function_request_id", "function_name", "function_arn", "function_memory_size"}
