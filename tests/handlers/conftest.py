"""Handler tests: the real handlers, dispatched by the template's routes, on moto's DynamoDB."""

from __future__ import annotations

import base64
import copy
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from moto import mock_aws

from infra import template
from infra.local import dynamodb as local_dynamodb
from infra.local import moto_patches
from infra.local.invoke import LocalContext
from tests import least_privilege

T = TypeVar("T")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


class Api:
    """Sends requests through the same event translation as the local API, to the template's handlers: the
    template's authorizer first (in this process, under its own role), as API Gateway runs it; a request it
    refuses gets API Gateway's answer and no function runs (``invoked`` lists the functions that did)."""

    def __init__(self, keys: tuple[str, str]) -> None:
        from handlers import cleanup
        from infra.local.api_gateway import LocalApi
        from infra.local.edge import Edge, in_process

        self.invoked: list[str] = []

        def authorizer(function: str, event: dict[str, Any]) -> Any:
            self.invoked.append(function)
            with least_privilege.running(function):
                return in_process(function, event)

        # No throttle (as make serve without PROJECT_RATE_LIMIT): the usage plan's is tested in test_edge.py.
        self.edge = Edge(authorizer)
        self._local = LocalApi(self.edge)
        self.key, self.other_key = keys  # projects alpha's and beta's

        def cleanup_function(event: dict[str, Any]) -> Any:
            with least_privilege.running("CleanupFunction"):
                return cleanup.handler(event)

        self.stream = local_dynamodb.StreamPoller(
            None, os.environ["TABLE_NAME"], cleanup_function, filters=template.stream_filters("CleanupFunction")
        )

    def once(self, name: str, build: Callable[[Api], T]) -> T:
        """What ``build(self)`` makes, made once per test process: later tests start from a copy of the table
        as the first one's build left it (same keys, same ids), which is what building again would give them,
        for a fraction of the requests."""
        tables = _moto_tables()
        table = os.environ["TABLE_NAME"]
        if name in _built:
            saved, value = _built[name]
            tables[table] = copy.deepcopy(saved)
            return copy.deepcopy(value)  # type: ignore[no-any-return]
        value = build(self)
        _built[name] = (copy.deepcopy(tables[table]), copy.deepcopy(value))
        return value

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = "default",
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        sent = {"content-type": "application/json", **(headers or {})}
        if key is not None:
            sent["authorization"] = f"Bearer {self.key if key == 'default' else key}"
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        handler, event = self._local.event(method, f"/v1{path}", sent, data, "127.0.0.1")
        route, _, _ = self._local.match(method, urlsplit(path).path)
        if route is None:  # a route the API does not have: API Gateway's own 404, and no function runs
            result = handler(event, None)
        else:
            if "authorizer" in event["requestContext"] or route.authorizer is None:  # the function runs
                self.invoked.append(route.function)
            with least_privilege.running(route.function):  # the function's own role applies to its calls
                result = handler(event, LocalContext(route.function, event["requestContext"]["requestId"]))
        text = result["body"]  # JSON, bytes (base64: a file's content), or for stream: true an event stream (text)
        if result.get("isBase64Encoded"):
            answer: Any = base64.b64decode(text)
        else:
            streamed = result["headers"]["content-type"].startswith("text/event-stream")
            answer = text if streamed else (json.loads(text) if text else None)  # a redirect has no body
        reply = Reply(result["statusCode"], result["headers"], answer)
        # The function's answers carry its request id; API Gateway's own carry it as x-amzn-RequestId.
        request_id = reply.headers.get("x-request-id") or reply.headers["x-amzn-RequestId"]
        assert request_id == event["requestContext"]["requestId"]
        return reply

    def items(self, thread_id: str) -> list[dict[str, Any]]:
        """Every item left in a thread's partition."""
        client = local_dynamodb.client(None)
        pages = client.get_paginator("query").paginate(
            TableName=os.environ["TABLE_NAME"],
            KeyConditionExpression="pk = :t",
            ExpressionAttributeValues={":t": {"S": thread_id}},
        )
        return [item for page in pages for item in page["Items"]]


# DynamoDB's limits that moto does not enforce; every call the handlers make in these tests must keep them.
ITEM_MAX_BYTES = 400 * 1024
TRANSACTION_MAX_ITEMS, TRANSACTION_MAX_BYTES = 100, 4 * 1024 * 1024
BATCH_WRITE_MAX, BATCH_GET_MAX = 25, 100
limit_checks: dict[str, int] = {}


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_SMALLEST, _LARGEST = Decimal("1E-130"), Decimal("9." + "9" * 37 + "E+125")


def _numbers(value: Any) -> Iterator[str]:
    """Every number attribute value anywhere in a call's parameters."""
    if isinstance(value, dict):
        if isinstance(value.get("N"), str) and len(value) == 1:
            yield value["N"]
        for inner in value.values():
            yield from _numbers(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _numbers(inner)


def _a_dynamodb_number(text: str) -> bool:
    """DynamoDB's number type: 0, or a magnitude from 1E-130 to 9.99…9E+125 (38 nines), with at most 38
    significant digits. Counted at a precision that rounds nothing (Decimal's default of 28 would)."""
    if not _NUMBER.fullmatch(text):
        return False
    with localcontext(prec=400):
        number = Decimal(text)
        if number == 0:
            return True
        digits = "".join(map(str, number.as_tuple().digits)).strip("0")
        return _SMALLEST <= number.copy_abs() <= _LARGEST and len(digits) <= 38


def _stored_size(item: dict[str, Any]) -> int:
    """An item's size against the 400 KB limit; a message (it has ``ok``) counts twice, for its copy in the
    by_order local index, which projects every attribute."""
    from threads_api.store import item_size

    return item_size(item) * (2 if "ok" in item else 1)


def _enforce_dynamodb_limits(model: Any, params: dict[str, Any], **_: Any) -> None:
    from threads_api.store import item_size

    name = model.name
    limit_checks[name] = limit_checks.get(name, 0) + 1
    bad = [n for n in _numbers(params) if not _a_dynamodb_number(n)]
    assert not bad, f"numbers DynamoDB refuses: {bad}"
    if name == "TransactWriteItems":
        items = [next(iter(action.values())) for action in params["TransactItems"]]
        sizes = [item_size(i.get("Item") or i.get("Key") or {}) for i in items]
        assert len(items) <= TRANSACTION_MAX_ITEMS, f"{len(items)} items in one transaction"
        assert sum(sizes) <= TRANSACTION_MAX_BYTES, f"{sum(sizes)} bytes in one transaction"
        assert max(_stored_size(i.get("Item") or {}) for i in items) <= ITEM_MAX_BYTES
    elif name == "BatchWriteItem":
        requests = [r for table in params["RequestItems"].values() for r in table]
        assert len(requests) <= BATCH_WRITE_MAX, f"{len(requests)} requests in one BatchWriteItem"
        for r in requests:
            assert _stored_size(r.get("PutRequest", {}).get("Item", {})) <= ITEM_MAX_BYTES
    elif name == "BatchGetItem":
        keys = [k for table in params["RequestItems"].values() for k in table["Keys"]]
        assert len(keys) <= BATCH_GET_MAX, f"{len(keys)} keys in one BatchGetItem"
    elif name == "PutItem":
        assert _stored_size(params["Item"]) <= ITEM_MAX_BYTES


# Per test process: the template's table holding only the keys of projects alpha and beta, and those keys.
_pristine: dict[str, tuple[Any, tuple[str, str]]] = {}
_built: dict[str, tuple[Any, Any]] = {}  # per test process: Api.once's tables and what their builds returned


def _moto_tables() -> dict[str, Any]:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][local_dynamodb.REGION].tables


def _fresh_table(name: str) -> tuple[str, str]:
    """The template's table with a key for projects alpha and beta (returned), in the moto that was just
    started: made once per test process, then a deep copy of that first one (a tenth of the cost of creating
    the table and the keys, on hundreds of tests)."""
    from threads_api import auth

    auth._cache.clear()  # each test is a fresh container: nothing cached from another test's keys
    auth._misses.clear()
    if name in _pristine:
        table, keys = _pristine[name]
        _moto_tables()[name] = copy.deepcopy(table)
        return keys
    local_dynamodb.create_table(local_dynamodb.client(None), name)
    keys = (auth.create_key("alpha"), auth.create_key("beta"))
    _pristine[name] = (copy.deepcopy(_moto_tables()[name]), keys)
    return keys


_keys: list[tuple[str, str]] = []  # the running test's keys, from its fresh table


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    from threads_api import store
    from threads_api.bucket import s3
    from threads_api.index import s3vectors

    moto_patches.apply()
    store.client.meta.events.register("before-parameter-build.dynamodb", _enforce_dynamodb_limits, unique_id="limits")
    store.client.meta.events.register("before-parameter-build.dynamodb", least_privilege.check_call, unique_id="iam")
    s3.client().meta.events.register("before-parameter-build.s3", least_privilege.check_call, unique_id="iam")
    s3vectors.client().meta.events.register(
        "before-parameter-build.s3vectors", least_privilege.check_call, unique_id="iam"
    )
    denied_before = len(least_privilege.denied)
    with mock_aws():  # a fresh moto for each test: no test sees another's items, keys, objects or stream records
        client = local_dynamodb.client(None)
        _keys[:] = [_fresh_table(os.environ["TABLE_NAME"])]
        local_dynamodb.client(None, "s3").create_bucket(Bucket=os.environ["BUCKET_NAME"])
        local_dynamodb.create_vector_bucket(local_dynamodb.client(None, "s3vectors"), os.environ["VECTOR_BUCKET_NAME"])
        yield client
    # A denial fails the test that caused it, even where the code turned the error into a response.
    assert least_privilege.denied[denied_before:] == [], "a call the function's IAM role does not allow"


@pytest.fixture
def api(dynamodb: Any) -> Api:
    return Api(_keys[0])
