"""What the log tests share: a whole session through every route (``_session``), the secrets it sends that no
log may hold (``_secrets``), and the checks of a request line's Lambda context."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra import template
from tests.contract.schemas import assert_error
from tests.handlers.conftest import Api, Reply
from threads_api import auth, store

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


def _session(api: Api, monkeypatch: pytest.MonkeyPatch) -> Session:
    s = Session(api)
    _refused_keys(s)
    thread_id, first_id, message_id = _threads_and_messages(s)
    _bad_requests(s, thread_id, message_id)
    _failures(s, thread_id, monkeypatch)
    s("DELETE", f"/threads/{thread_id}/messages/{message_id}")
    s("DELETE", f"/threads/{thread_id}")
    s("DELETE", f"/threads/{first_id}")
    assert api.stream.drain() > 0  # the cleanup function runs (and logs) too
    return s


def _refused_keys(s: Session) -> None:
    """An unknown key, a revoked one, none: the authorizer refuses them."""
    revoked = auth.create_key("alpha")
    assert auth.revoke_key(revoked)
    s("GET", "/threads", key=UNKNOWN_KEY, status=401)
    s("GET", "/threads", key=revoked, status=401)
    s("GET", "/threads", key=None, status=401)


def _threads_and_messages(s: Session) -> tuple[str, str, str]:
    """Every route of threads and messages but the deletes, with content and metadata; the ids of the thread
    with metadata, of the one created with an Idempotency-Key, and of the message appended to the first."""
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
    return thread_id, first.body["id"], appended["id"]


def _bad_requests(s: Session, thread_id: str, message_id: str) -> None:
    """Bad requests, whose bodies quote what was sent: the response may, the logs may not."""
    s("POST", "/threads", {BAD_FIELD: TEXTS[4]}, status=400)
    s("POST", f"/threads/{thread_id}/messages", {"role": "system", "content": TEXTS[4]}, status=400)
    s("POST", f"/threads/{thread_id}", {"metadata": {"k": BAD_VALUE * 40}}, status=400)
    s("POST", "/threads", raw=f'{{"metadata": {{"k": "{TEXTS[5]}"'.encode(), status=400)
    s("GET", f"/threads/{thread_id}/messages?limit={BAD_VALUE}", status=400)
    # Another project's key: 404.
    s("GET", f"/threads/{thread_id}/messages/{message_id}", key=s.api.other_key, status=404)
    s("POST", f"/threads/{thread_id}", {"metadata": {"k": TEXTS[5]}}, key=s.api.other_key, status=404)


def _failures(s: Session, thread_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Failures: the type (and DynamoDB's code) is logged, never the message."""

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


def _assert_lambda_context(line: dict[str, Any], request_id: str) -> None:
    """Lambda's context, as Powertools' ``inject_lambda_context`` writes it. The local gateway's context gives
    API Gateway's request id as Lambda's (in AWS they differ: ``correlation_id`` is API Gateway's)."""
    assert line["function_request_id"] == request_id
    assert isinstance(line["cold_start"], bool)
    assert line["function_name"].endswith("Function")
    assert line["function_arn"].endswith(line["function_name"])
