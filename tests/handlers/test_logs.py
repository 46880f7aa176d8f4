"""The logs hold one line per request and never a key, a message's text, a metadata value or an error's message.

A whole session runs through every route with the request lines on (DEBUG, as ``POWERTOOLS_LOG_LEVEL=DEBUG``
gives), while everything written to stdout and stderr (what Lambda sends to CloudWatch) and every log
record is captured.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from infra import template
from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api
from tests.handlers.logs_support import _assert_lambda_context, _secrets, _session, _Stdout
from threads_api import store
from threads_api.observability import logger


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
    assert failed
    assert all(line["level"] != "DEBUG" for line in lines)
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
