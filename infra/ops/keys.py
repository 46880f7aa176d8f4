"""API keys: create, list and revoke them, on the local API's table or a deployed stack's.

    python -m infra.ops.keys create --project NAME   prints a new key (shown once; only its SHA-256 is kept)
    python -m infra.ops.keys list                    id (SHA-256), project, prefix, created_at of every key
    python -m infra.ops.keys revoke KEY_OR_ID        revokes; warm authorizers forget it within KEY_CACHE_SECONDS

On a stack, ``create`` also puts the project's API key in the stack's usage plan (which throttles each
project), and revoking a project's last key deletes it (``infra/ops/usage_plans.py``).

``mint`` is another name for ``create``. The table: ``--stack``/``STACK`` reads a deployed stack's
``TableName`` output (your AWS credentials and region); ``--table``/``TABLE_NAME`` names one directly;
otherwise the running ``make serve``'s, from its state file (``THREADS_API_STATE``, else .local/serve.json).

Exit codes: 0 done, 2 a missing, empty or invalid argument, 1 any other failure (one or two sentences on
stderr that say what to do; ``--debug`` adds the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from infra.ops import cli_errors
from infra.ops.cli_errors import CliError, usage

if TYPE_CHECKING:
    from botocore.session import Session

# As infra.local.serve computes it, without importing serve (and the embedded DynamoDB's dependencies).
ROOT = Path(__file__).resolve().parents[2]
PROJECT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
ELSEWHERE = "or use STACK=<stack> / TABLE_NAME=<table>"
CONNECT_SECONDS = 0.5


def state_file() -> Path:
    """The local API's state file, as ``infra.local.serve.STATE_FILE`` names it."""
    return Path(os.environ.get("THREADS_API_STATE") or ROOT / ".local" / "serve.json")


@dataclass(frozen=True)
class Target:
    table: str
    where: str  # for sentences: "the local API at ...", "stack S (table T)", "table T"
    endpoint: str | None = None  # the embedded DynamoDB's, for the local API
    region: str | None = None
    # A stack's: its name, API id and usage plan (outputs ApiId, UsagePlanId), and the session to reach them.
    stack: str | None = None
    api_id: str | None = None
    usage_plan: str | None = None
    session: Any = None


# -- arguments ---------------------------------------------------------------------------------------


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


def _named(flag: str | None, env: str, flag_name: str) -> str | None:
    """A flag's value, else the environment's; an empty flag is a usage error, an empty variable is unset."""
    if flag is not None:
        if not flag.strip():
            raise usage(f"{flag_name} is empty: give a name, or leave it out to use the running local API.")
        return flag.strip()
    return os.environ.get(env, "").strip() or None


# -- the table -----------------------------------------------------------------------------------------


def resolve(args: argparse.Namespace) -> Target:
    """The table to act on; the environment is set so that ``threads_api.store`` (imported after) uses it."""
    if args.stack is not None and args.table is not None:
        raise usage("Give --stack or --table, not both.")
    stack = _named(args.stack, "STACK", "--stack") if args.table is None else None  # a flag beats the environment
    table = _named(args.table, "TABLE_NAME", "--table") if args.stack is None else None
    if stack:
        session, region = _aws(f"stack {stack}")
        table, outputs = _stack_table(session, region, stack)
        target = Target(
            table,
            f"stack {stack} (table {table}, {region})",
            region=region,
            stack=stack,
            api_id=outputs.get("ApiId"),
            usage_plan=outputs.get("UsagePlanId"),
            session=session,
        )
    elif table:
        _, region = _aws(f"table {table}")
        target = Target(table, f"table {table} ({region})", region=region)
    else:
        target = _local()
    variable, endpoint = _custom_endpoint()
    if target.endpoint is None and endpoint and not _answers(endpoint):
        raise CliError(
            f"Nothing answers at {endpoint}, the DynamoDB endpoint that {variable} names for {target.where}. "
            f"Start that DynamoDB, or unset {variable} to use AWS's."
        )
    os.environ["TABLE_NAME"] = target.table
    return target


def _aws(what: str) -> tuple[Session, str]:
    """A session with a region and credentials, checked before any call (no waiting on botocore's retries)."""
    from botocore.exceptions import BotoCoreError, ProfileNotFound
    from botocore.session import Session

    try:
        session = Session()
        region = session.get_config_variable("region")
        credentials = session.get_credentials()
    except ProfileNotFound:
        raise CliError(
            f"The AWS profile {os.environ.get('AWS_PROFILE', '')!r} is not in your AWS config. Set AWS_PROFILE "
            "to one that is (`aws configure list-profiles`), or unset it."
        ) from None
    except BotoCoreError as exc:
        raise CliError(f"Your AWS configuration could not be read: {exc}. Fix it (`aws configure`).") from None
    if not region:
        if os.environ.get("AWS_REGION"):
            raise CliError(
                f"No AWS region is configured for {what}: AWS_REGION is set, but the AWS SDK for Python reads "
                "AWS_DEFAULT_REGION. Set AWS_DEFAULT_REGION=$AWS_REGION, or a region with `aws configure`."
            )
        raise CliError(
            f"No AWS region is configured, so {what} cannot be reached. Set one in the environment "
            "(AWS_DEFAULT_REGION=eu-west-1, say) or with `aws configure`, then run this again."
        )
    if credentials is None:
        raise CliError(
            f"No AWS credentials were found for {what}. Configure them (`aws configure`, `aws sso login`, "
            "or AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), then run this again."
        )
    return session, region


def _stack_table(session: Session, region: str, stack: str) -> tuple[str, dict[str, str]]:
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    config = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=3)
    client: Any = session.create_client("cloudformation", config=config)
    try:
        stacks = client.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if "does not exist" in message:
            raise CliError(
                f"Stack {stack} does not exist in {region}. Check the name (`aws cloudformation list-stacks`) "
                "and the region (AWS_DEFAULT_REGION, AWS_PROFILE)."
            ) from None
        raise cli_errors.aws(exc, f"reading stack {stack}", region=region) from None
    except BotoCoreError as exc:
        raise cli_errors.aws(exc, f"reading stack {stack}", region=region) from None
    outputs = {str(o.get("OutputKey", "")): str(o.get("OutputValue", "")) for o in stacks[0].get("Outputs") or []}
    table = outputs.get("TableName")
    if not table:
        has = f"its outputs are {', '.join(sorted(outputs))}" if outputs else "it has no outputs"
        raise CliError(
            f"Stack {stack} has no TableName output ({has}), so it is not a Threads API stack or its deployment "
            "did not finish. Check the name, or name the table with TABLE_NAME=<table>."
        )
    return table, outputs


def _local() -> Target:
    """The running ``make serve``'s table, after checking fast that its state file is not stale."""
    path = state_file()
    shown = _shown(path)
    if not path.exists():
        raise CliError(
            f"No local API is running (there is no {shown}). Start it with `make serve` in another terminal, "
            f"{ELSEWHERE}."
        )
    try:
        state = json.loads(path.read_text())
        table, base_url = str(state["table"]), str(state["base_url"])
        pid, endpoint = state.get("pid"), state.get("dynamodb_endpoint")
        port = urlsplit(base_url).port
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CliError(
            f"The local API's state file {shown} cannot be read ({type(exc).__name__}: {exc}). Start the API "
            f"again with `make serve` (it rewrites the file), {ELSEWHERE}."
        ) from None
    if isinstance(pid, int) and not _alive(pid):
        raise CliError(
            f"No local API is running on port {port} (the state file names process {pid}, which has exited). "
            f"Start it with `make serve`, {ELSEWHERE}."
        )
    if endpoint and not _answers(str(endpoint)):
        raise CliError(
            f"No local API is answering on port {port} (its DynamoDB at {endpoint} refuses connections; "
            f"{shown} is stale). Start it with `make serve`, {ELSEWHERE}."
        )
    if not endpoint:  # make serve on a real table: that table, with the operator's AWS credentials
        _, region = _aws(f"table {table}")
        return Target(table, f"table {table} ({region}, the local API's)", region=region)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL_DYNAMODB": str(endpoint),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }
    )
    return Target(table, f"the local API at {base_url}", endpoint=str(endpoint))


def _custom_endpoint() -> tuple[str, str | None]:
    """The DynamoDB endpoint the environment names instead of AWS's (DynamoDB Local, say), if any."""
    for variable in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"):
        if os.environ.get(variable):
            return variable, os.environ[variable]
    return "", None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    except OSError:
        return False
    return True


def _answers(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=CONNECT_SECONDS):
            return True
    except (OSError, ValueError):
        return False


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# -- the commands -------------------------------------------------------------------------------------


def _store() -> Any:
    """``threads_api`` (auth, store), imported once the environment names the table."""
    sys.path.insert(0, str(ROOT / "functions"))
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
    target = resolve(args)
    auth, _ = _store()
    project = _dynamodb(target, auth.revoke_key, key)
    if not project:
        shown = f"id {key[:12]}…" if auth.is_digest(key) else f"key {key[:11]}…"
        raise CliError(
            f"No {shown} on {target.where}: it was never created there, or is revoked already. "
            "`make keys` lists the ids of the keys there are."
        )
    _, store = _store()
    last = not any(k["project"] == project for k in _dynamodb(target, store.list_keys))
    plan = _usage_plan(target, project, enable=False) if last else ""
    print(
        f"Revoked on {target.where}; warm authorizers forget it within KeyCacheSeconds (30 s).{plan}", file=sys.stderr
    )


def sync(args: argparse.Namespace) -> None:
    """Every project that has a key, in the stack's usage plan: once after upgrading a stack deployed before
    per-project throttling, whose projects' requests are refused (403) until their API key is in the plan."""
    if _named(args.stack, "STACK", "--stack") is None:
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


# -- the parser ---------------------------------------------------------------------------------------

EPILOG = """\
the table: --stack (or STACK) a deployed stack's TableName output, with your AWS credentials and region;
--table (or TABLE_NAME) a table by name; else the running `make serve`'s (its state file: THREADS_API_STATE,
else .local/serve.json).
exit codes: 0 done; 2 a missing, empty or invalid argument; 1 any other failure (a sentence on stderr)."""


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("where")
    where.add_argument("--stack", metavar="STACK", help="a deployed stack (its TableName output); env STACK")
    where.add_argument("--table", metavar="TABLE", help="a DynamoDB table by name; env TABLE_NAME")
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of a failure"
    )
    formatter = argparse.RawDescriptionHelpFormatter

    main_parser = argparse.ArgumentParser(
        prog="python -m infra.ops.keys",
        description="Create, list and revoke the Threads API's keys.",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    main_parser.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of a failure"
    )
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="{create,list,revoke,sync}")
    create_parser = commands.add_parser(
        "create",
        aliases=["mint"],
        parents=[common],
        help="create a key for a project; the key goes to stdout",
        description="Create a key for a project and print it on stdout (shown once: only its SHA-256 is kept).\n"
        "The Make target: make key PROJECT=<name> [STACK=<stack> | TABLE_NAME=<table>].",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    create_parser.add_argument("--project", help="the key's project: 1 to 64 letters, digits, '_', '-' or '.'")
    create_parser.set_defaults(run=create)
    list_parser = commands.add_parser(
        "list",
        parents=[common],
        help="list the keys",
        description="List the keys: id (the SHA-256 of the key), project, prefix, created.\n"
        "The Make target: make keys [STACK=<stack> | TABLE_NAME=<table>].",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    list_parser.set_defaults(run=list_)
    revoke_parser = commands.add_parser(
        "revoke",
        parents=[common],
        help="revoke a key, by the key or its id",
        description="Revoke a key, named by the key itself or by its id (as `list` shows it). Warm functions\n"
        "forget it within KeyCacheSeconds (30 s by default).\n"
        "The Make target: make revoke KEY=<key or id> [STACK=<stack> | TABLE_NAME=<table>].",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    revoke_parser.add_argument("key", nargs="?", metavar="KEY_OR_ID", help="the key, or its id (SHA-256)")
    revoke_parser.set_defaults(run=revoke)
    sync_parser = commands.add_parser(
        "sync",
        parents=[common],
        help="put every project that has a key in the stack's usage plan",
        description="Put the API key of every project that has a key in the stack's usage plan (once, after\n"
        "upgrading a stack deployed before per-project throttling). Running it again changes nothing.\n"
        "The Make target: make sync-keys STACK=<stack>.",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    sync_parser.set_defaults(run=sync)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return cli_errors.run(lambda: args.run(args), debug=getattr(args, "debug", False))


if __name__ == "__main__":
    sys.exit(main())
