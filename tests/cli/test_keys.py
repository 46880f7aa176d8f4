"""``python -m infra.ops.keys``: keys created, listed and revoked on the local API and on a stack, and each
project's API key in the stack's usage plan (put by the first key, removed with the last, synced)."""

from __future__ import annotations

import os
import re
import threading
import time

import pytest

from tests.cli.conftest import Aws, Result, Run, fails
from tests.cli.keys_support import _state

# The commands as subprocesses; moto's server warms while the first tests run.
pytestmark = [pytest.mark.process, pytest.mark.usefixtures("aws")]


def test_create_list_revoke_on_the_local_api(run: Run, env: dict[str, str], aws: Aws) -> None:
    table = aws.table("threads-api-local")
    _state(env, table=table, pid=os.getpid(), dynamodb_endpoint=aws.endpoint)

    created = run("create", "--project", "billing")
    assert created.code == 0, created.output
    key = created.stdout.strip()
    assert re.fullmatch(r"sk-thr-\w{48}", key)
    assert "project 'billing' on the local API at http://127.0.0.1:3000/v1" in created.stderr
    other = run("mint", "--project", "search").stdout.strip()

    listed = run("list")
    assert listed.code == 0, listed.output
    rows = {line.split()[1]: line.split()[0] for line in listed.stdout.splitlines()}
    assert {"billing", "search"} <= set(rows)
    assert f"{key[:11]}…" in listed.stdout

    by_key = run("revoke", key)
    assert by_key.code == 0, by_key.output
    assert "Revoked on the local API" in by_key.stderr
    by_id = run("revoke", rows["search"])
    assert by_id.code == 0, by_id.output
    assert other

    fails(run("revoke", key), 1, f"No key {key[:11]}… on the local API at", "`make keys`")


def test_create_on_a_stack(run: Run, aws: Aws) -> None:
    table = aws.table("threads-api-stack-table")
    aws.stack("threads-api", {"TableName": table})
    created = run("create", "--project", "ops", STACK="threads-api", **aws.env())
    assert created.code == 0, created.output
    assert f"on stack threads-api (table {table}, us-east-1)" in created.stderr
    items = aws.client("dynamodb").scan(TableName=table)["Items"]
    assert [(item["prj"]["S"], item["prefix"]["S"]) for item in items] == [("ops", created.stdout.strip()[:11])]


def test_keys_on_a_stack_put_the_projects_api_key_in_its_usage_plan_and_the_last_revoke_removes_it(
    run: Run, aws: Aws
) -> None:
    from threads_api.auth import usage_identifier

    gateway = aws.client("apigateway")
    api_id = gateway.create_rest_api(name="threads-api")["id"]
    plan_id = gateway.create_usage_plan(name="projects", throttle={"rateLimit": 25, "burstLimit": 50})["id"]
    table = aws.table("threads-api-plan-table")
    outputs = {"TableName": table, "ApiId": api_id, "UsagePlanId": plan_id}
    aws.stack("threads-plan", outputs, {"KeyCacheSeconds": "0"})  # no authorizer remembers a key: no wait
    stack = {"STACK": "threads-plan", **aws.env()}

    keys = [run("create", "--project", "ops", **stack) for _ in range(2)]  # the second finds the first's
    assert all(k.code == 0 for k in keys), [k.output for k in keys]
    assert f"in usage plan {plan_id}" in keys[0].stderr
    (in_plan,) = gateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]
    assert in_plan["name"] == "threads-plan/ops"
    # The value the authorizer returns as usageIdentifierKey for this API and project.
    assert gateway.get_api_key(apiKey=in_plan["id"], includeValue=True)["value"] == usage_identifier(api_id, "ops")

    assert run("revoke", keys[0].stdout.strip(), **stack).code == 0  # the project has another key: kept
    assert len(gateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]) == 1
    last = run("revoke", keys[1].stdout.strip(), **stack)
    assert last.code == 0, last.output
    assert "last key" in last.stderr
    assert gateway.get_usage_plan_keys(usagePlanId=plan_id)["items"] == []
    assert gateway.get_api_keys(nameQuery="threads-plan/")["items"] == []


def test_the_last_keys_usage_plan_entry_outlives_every_warm_authorizers_memory_of_it(run: Run, aws: Aws) -> None:
    """A warm authorizer allows a revoked key for up to KeyCacheSeconds, with the project's API key as its
    usageIdentifierKey: were that API key gone, API Gateway would tell the key 403 project_not_enabled instead of
    (from the bound on) 401 invalid_api_key. So the table's record goes at once, the plan's entry only after the
    bound (tests/handlers/test_edge.py shows what a client is told)."""
    gateway = aws.client("apigateway")
    api_id = gateway.create_rest_api(name="threads-api")["id"]
    plan_id = gateway.create_usage_plan(name="projects")["id"]
    table = aws.table("threads-api-retire-table")
    outputs = {"TableName": table, "ApiId": api_id, "UsagePlanId": plan_id}
    aws.stack("threads-retire", outputs, {"KeyCacheSeconds": "3"})
    stack = {"STACK": "threads-retire", **aws.env()}
    created = run("create", "--project", "solo", **stack)
    assert created.code == 0, created.output
    dynamodb = aws.client("dynamodb")

    revoked: list[Result] = []
    revoking = threading.Thread(target=lambda: revoked.append(run("revoke", created.stdout.strip(), **stack)))
    started = time.monotonic()
    revoking.start()
    while dynamodb.scan(TableName=table)["Items"] and time.monotonic() - started < 20:
        time.sleep(0.05)
    assert dynamodb.scan(TableName=table)["Items"] == []  # the record first: a cold authorizer refuses it
    assert len(gateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]) == 1  # warm ones may still allow it
    revoking.join(timeout=60)
    assert time.monotonic() - started >= 3 + 1  # KeyCacheSeconds, and the margin
    (result,) = revoked
    assert result.code == 0, result.output
    assert "once no warm authorizer can still let the key through" in result.stderr
    assert "last key: its API key is deleted from usage plan" in result.stderr
    assert gateway.get_usage_plan_keys(usagePlanId=plan_id)["items"] == []


def test_sync_puts_every_project_with_a_key_in_the_usage_plan_once(run: Run, aws: Aws) -> None:
    """A stack deployed before per-project throttling: its projects' keys exist, no API key is in the plan."""
    gateway = aws.client("apigateway")
    api_id = gateway.create_rest_api(name="threads-api")["id"]
    plan_id = gateway.create_usage_plan(name="projects")["id"]
    table = aws.table("threads-api-sync-table")
    aws.stack("threads-sync", {"TableName": table, "ApiId": api_id, "UsagePlanId": plan_id})
    for project in ("ops", "ops", "web"):
        assert run("create", "--project", project, TABLE_NAME=table, **aws.env()).code == 0  # no plan: by table
    assert gateway.get_usage_plan_keys(usagePlanId=plan_id)["items"] == []
    for _ in range(2):  # again: nothing new
        synced = run("sync", STACK="threads-sync", **aws.env())
        assert synced.code == 0, synced.output
        assert "2 projects in the usage plan" in synced.stderr
        names = sorted(k["name"] for k in gateway.get_usage_plan_keys(usagePlanId=plan_id)["items"])
        assert names == ["threads-sync/ops", "threads-sync/web"]
    fails(run("sync"), 1, "sync is for a deployed stack")
