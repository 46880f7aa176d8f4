"""The key commands: create, list, revoke and sync keys on the table ``key_target.resolve`` picks, in sentences.

On a stack, ``create`` also puts the project's API key in the stack's usage plan (which throttles each
project), and revoking a project's last key deletes it (``infra/ops/usage_plans.py``), but only once no warm
authorizer can still let the key through: until then API Gateway would meter the key's requests under an API
key that is gone, and answer 403 ``project_not_enabled`` where the key must be told 401 ``invalid_api_key``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from infra.ops import cli_errors
from infra.ops.cli_errors import CliError, usage
from infra.ops.key_target import Target, functions_importable, named, resolve

PROJECT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _project(value: str | None) -> str:
    if value is None or not value.strip():
        raise usage(
            "The project name is empty. Name one: `make key PROJECT=<name>` (or `--project <name>`), "
            "1 to 64 letters, digits, '_', '-' or '.'."
        )
    if not PROJECT_NAME.fullmatch(value):
        raise usage(
            f"{value!r} is not a valid project name: use 1 to 64 letters, digits, '_', '-' or '.' "
            "(for example PROJECT=billing)."
        )
    return value


def _key(value: str | None) -> str:
    if value is None or not value.strip():
        raise usage(
            "No key to revoke: KEY is empty. Name the key or its id (the SHA-256 that `make keys` lists): "
            "`make revoke KEY=<key or id>`."
        )
    return value.strip()


def _store() -> Any:
    """``threads_api`` (auth, store), imported once the environment names the table."""
    functions_importable()
    from threads_api import auth, store

    return auth, store


def _dynamodb(target: Target, call: Any, *args: Any) -> Any:
    """One store call; DynamoDB's failures become sentences."""
    from threads_api.domain.errors import Unavailable

    try:
        return call(*args)
    except Exception as exc:
        cause = exc.__cause__ if isinstance(exc, Unavailable) and exc.__cause__ is not None else exc
        if cli_errors.is_aws(cause):
            raise cli_errors.aws(
                cause, f"on {target.where}", region=target.region, table=target.table, endpoint=target.endpoint
            ) from exc
        raise


def create(args: argparse.Namespace) -> None:
    project = _project(args.project)
    target = resolve(args)
    auth, _ = _store()
    key = _dynamodb(target, auth.create_key, project)
    plan = _usage_plan(target, project, enable=True)
    print(key, flush=True)
    print(f"A key for project '{project}' on {target.where}: shown once, keep it now.{plan}", file=sys.stderr)


def list_(args: argparse.Namespace) -> None:
    target = resolve(args)
    _, store = _store()
    keys = _dynamodb(target, store.list_keys)
    for key in keys:
        created = datetime.fromtimestamp(key["created_at"], UTC).isoformat(timespec="seconds")
        print(f"{key['id']}  {key['project']:<24} {key['prefix']}…  {created}")
    count = f"{len(keys)} key{'' if len(keys) == 1 else 's'}" if keys else "No keys"
    print(f"{count} on {target.where}.", file=sys.stderr)


def revoke(args: argparse.Namespace) -> None:
    key = _key(args.key)
    revoke_on(resolve(args), key)


# How long the revocation of a project's last key waits beyond KeyCacheSeconds before the project's API key
# leaves the usage plan: a request the authorizer allowed just before is past the usage plan by then.
RETIRE_MARGIN_SECONDS = 1.0
pause = time.sleep


def revoke_on(target: Target, key: str) -> None:
    """Revoke ``key`` (the table's record first: cold authorizers refuse it at once); on a stack, the project's
    API key leaves the usage plan only if no key of the project is left, after warm authorizers forget it."""
    auth, _ = _store()
    project = _dynamodb(target, auth.revoke_key, key)
    if not project:
        shown = f"id {key[:12]}…" if auth.is_digest(key) else f"key {key[:11]}…"
        raise CliError(
            f"No {shown} on {target.where}: it was never created there, or is revoked already. "
            "`make keys` lists the ids of the keys there are."
        )
    plan = ""
    if _last_key(target, project):
        if target.stack and target.api_id and target.usage_plan and target.key_cache_seconds > 0:
            wait = target.key_cache_seconds + RETIRE_MARGIN_SECONDS
            print(
                f"Revoked; it was project '{project}''s last key. Its API key leaves usage plan {target.usage_plan} "
                f"in {wait:g} s, once no warm authorizer can still let the key through (KeyCacheSeconds), so that "
                "the key is always refused as invalid (401), never as a project not enabled (403) …",
                file=sys.stderr,
                flush=True,
            )
            pause(wait)
        if _last_key(target, project):  # unless a key was created meanwhile
            plan = _usage_plan(target, project, enable=False)
    print(
        f"Revoked on {target.where}; warm authorizers forget it within KeyCacheSeconds "
        f"({target.key_cache_seconds:g} s).{plan}",
        file=sys.stderr,
    )


def _last_key(target: Target, project: str) -> bool:
    _, store = _store()
    return not any(k["project"] == project for k in _dynamodb(target, store.list_keys))


def sync(args: argparse.Namespace) -> None:
    """Every project that has a key, in the stack's usage plan: once after upgrading a stack deployed before
    per-project throttling, whose projects' requests are refused (403) until their API key is in the plan."""
    if named(args.stack, "STACK", "--stack") is None:
        raise CliError("sync is for a deployed stack: name it with STACK=<stack> (make sync-keys STACK=...).")
    target = resolve(args)
    _, store = _store()
    projects = sorted({key["project"] for key in _dynamodb(target, store.list_keys)})
    for project in projects:
        print(f"{project}:{_usage_plan(target, project, enable=True)}", file=sys.stderr)
    print(
        f"{len(projects)} project{'' if len(projects) == 1 else 's'} in the usage plan on {target.where}.",
        file=sys.stderr,
    )


def _usage_plan(target: Target, project: str, *, enable: bool) -> str:
    """On a stack, the project's API key in (or out of) its usage plan; a sentence for stderr."""
    if target.stack is None:
        return ""  # the local API meters every project without one; a bare table has no API
    if not (target.api_id and target.usage_plan):
        return (
            f" Stack {target.stack} has no ApiId/UsagePlanId output (deployed before per-project throttling?): "
            "no usage plan was changed; deploy the current template, then run this again."
        )
    from botocore.exceptions import BotoCoreError, ClientError

    from infra.ops import usage_plans

    auth, _ = _store()
    value = auth.usage_identifier(target.api_id, project)
    client = target.session.create_client("apigateway", region_name=target.region)
    try:
        if enable:
            usage_plans.enable(client, stack=target.stack, plan_id=target.usage_plan, project=project, value=value)
            return f" Its project's API key is in usage plan {target.usage_plan}."
        usage_plans.disable(client, stack=target.stack, plan_id=target.usage_plan, project=project, value=value)
        return f" It was project '{project}''s last key: its API key is deleted from usage plan {target.usage_plan}."
    except (BotoCoreError, ClientError) as exc:
        raise cli_errors.aws(exc, f"updating usage plan {target.usage_plan} of stack {target.stack}") from None
