"""Where the key commands act: the running ``make serve``'s table (from its state file), a table by name, or a
deployed stack's (its TableName, ApiId and UsagePlanId outputs), each checked fast before any call.

``resolve`` picks one from the flags and the environment (``--stack``/``STACK``, ``--table``/``TABLE_NAME``, else
the local API's state file: ``THREADS_API_STATE``, else .local/serve.json) and sets ``TABLE_NAME`` for the store.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from infra.ops import cli_errors
from infra.ops.cli_errors import CliError, usage

if TYPE_CHECKING:
    from botocore.session import Session

# As infra.local.serve computes it, without importing serve (and the embedded DynamoDB's dependencies).
ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = str(ROOT / "functions")


def functions_importable() -> None:
    """``threads_api`` importable: the functions' folder on ``sys.path``, once (a command asks per object)."""
    if FUNCTIONS not in sys.path:
        sys.path.insert(0, FUNCTIONS)


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
    # The stack's KeyCacheSeconds: how long a warm authorizer may still let a revoked key through.
    key_cache_seconds: float = 30.0


def named(flag: str | None, env: str, flag_name: str) -> str | None:
    """A flag's value, else the environment's; an empty flag is a usage error, an empty variable is unset."""
    if flag is not None:
        if not flag.strip():
            raise usage(f"{flag_name} is empty: give a name, or leave it out to use the running local API.")
        return flag.strip()
    return os.environ.get(env, "").strip() or None


def resolve(args: argparse.Namespace) -> Target:
    """The table to act on; the environment is set so that ``threads_api.store`` (imported after) uses it."""
    if args.stack is not None and args.table is not None:
        raise usage("Give --stack or --table, not both.")
    stack = named(args.stack, "STACK", "--stack") if args.table is None else None  # a flag beats the environment
    table = named(args.table, "TABLE_NAME", "--table") if args.stack is None else None
    if stack:
        session, region = _aws(f"stack {stack}")
        table, outputs, parameters = _stack_table(session, region, stack)
        target = Target(
            table,
            f"stack {stack} (table {table}, {region})",
            region=region,
            stack=stack,
            api_id=outputs.get("ApiId"),
            usage_plan=outputs.get("UsagePlanId"),
            session=session,
            key_cache_seconds=float(parameters.get("KeyCacheSeconds") or Target.key_cache_seconds),
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


def _stack_table(session: Session, region: str, stack: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The stack's table, its outputs and its parameters."""
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
    parameters = {str(p.get("ParameterKey")): str(p.get("ParameterValue")) for p in stacks[0].get("Parameters") or []}
    return table, outputs, parameters


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
