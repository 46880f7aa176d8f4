"""Least privilege, enforced rather than listed: every DynamoDB, S3 and S3 Vectors call a function makes in the
tests is checked against the role SAM generates for it (``infra.local.stack``), in-process on moto and in the
deployed mode's Lambda workers alike. A call the role does not allow is refused as AWS refuses it and fails the
run; at the end of a full run, a permission that no call used fails it too (``tests/conftest.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from infra import template
from infra.local import iam, stack

used: set[tuple[str, str, str]] = set()  # (function, action, resource) allowed and used
denied: list[tuple[str, str, str]] = []  # (function, action, resource) refused
_current: ContextVar[str | None] = ContextVar("current_function", default=None)


@cache
def local_stack(table_name: str) -> stack.Stack:
    """The stack as SAM translates template.yaml (default parameters), for this table name."""
    return stack.load(template.TEMPLATE, table_name=table_name)


@contextmanager
def running(function: str) -> Iterator[None]:
    """Calls made inside are the named function's (its role applies)."""
    token = _current.set(function)
    try:
        yield
    finally:
        _current.reset(token)


def check_call(model: Any, params: dict[str, Any], **_: Any) -> None:
    """botocore ``before-parameter-build`` hook: IAM's decision for the running function's call."""
    function = _current.get()
    if function is None:
        return  # the test's own set-up and inspection, not a function
    from botocore.exceptions import ClientError

    deployed = local_stack(os.environ["TABLE_NAME"]).functions[function]
    service = model.service_model.endpoint_prefix  # dynamodb, s3
    for action, resource in iam.required(service, model.name, params, stack.REGION, stack.ACCOUNT):
        if deployed.allows(action, resource):
            used.add((function, action, resource))
            continue
        denied.append((function, action, resource))
        message = iam.denial_message(deployed.role_arn, action, resource)
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": message}}, model.name)


def record_worker_log(lines: list[dict[str, Any]]) -> None:
    """The deployed mode's IAM log (one line per distinct call of each worker)."""
    for line in lines:
        entry = (line["function"], line["action"], line["resource"])
        if line["allowed"]:
            used.add(entry)
        else:
            denied.append(entry)


def unused_grants(table_name: str) -> list[tuple[str, str, str]]:
    """DynamoDB, S3 and S3 Vectors permissions of a function's own policy that no call of that function used."""
    deployed = local_stack(table_name)
    arns = {deployed.table_arn()} | {f"{deployed.table_arn()}/index/{name}" for name in _index_names()}
    arns |= {deployed.bucket_objects_arn(), _vector_indexes_arn(table_name)}
    unused = []
    for name, function in deployed.functions.items():
        for statement in function.statements:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in actions:
                if not action.startswith(("dynamodb:", "s3:", "s3vectors:")) or "*" in action:
                    continue  # the managed policies' stream and log actions are Lambda's, not our code's
                for resource in resources:
                    if resource in arns and (name, action, resource) not in _used_by_table(table_name):
                        unused.append((name, action, resource))
    return unused


def _used_by_table(table_name: str) -> set[tuple[str, str, str]]:
    """Usage under any table name, mapped onto ``table_name`` (the deployed mode's table differs)."""
    mapped = set()
    for function, action, resource in used:
        if resource.startswith("arn:aws:s3:::"):  # an object of the files bucket: the grant is on all of them
            mapped.add((function, action, local_stack(table_name).bucket_objects_arn()))
            continue
        if resource.startswith("arn:aws:s3vectors:"):  # an index of the vector bucket (a store's): likewise
            mapped.add((function, action, _vector_indexes_arn(table_name)))
            continue
        table, _, rest = resource.partition("/index/")
        prefix = table.rsplit("/", 1)[0]
        mapped.add((function, action, f"{prefix}/{table_name}" + (f"/index/{rest}" if rest else "")))
    return mapped


def _vector_indexes_arn(table_name: str) -> str:
    """Every index of the stack's vector bucket, as the roles grant them (one index a vector store)."""
    return f"arn:aws:s3vectors:{stack.REGION}:{stack.ACCOUNT}:bucket/{stack.vector_bucket_name(table_name)}/index/*"


def _index_names() -> list[str]:
    props = template.load()["Resources"]["Table"]["Properties"]
    return [i["IndexName"] for i in props.get("LocalSecondaryIndexes", []) + props.get("GlobalSecondaryIndexes", [])]
