"""``make key``: mint, list and revoke API keys, on the local API's table or a deployed stack's.

    python -m infra.keys mint --project NAME     prints a new key (shown once; only its SHA-256 is kept)
    python -m infra.keys list                    id (SHA-256), project, prefix, created_at of every key
    python -m infra.keys revoke KEY_OR_ID        revokes; warm functions forget it within KEY_CACHE_SECONDS

The table: ``STACK=<stack name>`` reads the deployed stack's ``TableName`` output (your AWS credentials and
region); ``TABLE_NAME=<table>`` names one directly; otherwise the running ``make serve``'s embedded table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import UTC, datetime

from infra import template
from infra.serve import STATE_FILE


def _target() -> str:
    """Point the store at the right table (before it is imported); return a description of it."""
    stack = os.environ.get("STACK")
    if stack:
        import boto3

        outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
        table = next((o["OutputValue"] for o in outputs if o["OutputKey"] == "TableName"), None)
        if table is None:
            sys.exit(f"Stack {stack} has no TableName output.")
        os.environ["TABLE_NAME"] = table
        return f"stack {stack} (table {table})"
    if os.environ.get("TABLE_NAME"):
        return f"table {os.environ['TABLE_NAME']}"
    if not STATE_FILE.exists():
        sys.exit("No local API is running (start it with `make serve`), and neither STACK nor TABLE_NAME is set.")
    state = json.loads(STATE_FILE.read_text())
    os.environ["TABLE_NAME"] = state["table"]
    if state.get("dynamodb_endpoint"):
        os.environ.update(
            {
                "AWS_ENDPOINT_URL_DYNAMODB": state["dynamodb_endpoint"],
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
            }
        )
    return f"the local API at {state['base_url']}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="make key", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    mint = commands.add_parser("mint", help="mint a key for a project")
    mint.add_argument("--project", required=True)
    commands.add_parser("list", help="list keys")
    revoke = commands.add_parser("revoke", help="revoke a key, by the key or its id")
    revoke.add_argument("key")
    args = parser.parse_args(argv)

    if args.command == "mint" and not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", args.project):
        sys.exit("A project name is 1 to 64 letters, digits, '_', '-' or '.'.")
    where = _target()
    sys.path.insert(0, str(template.ROOT / "functions"))
    from threads_api import auth, store

    if args.command == "mint":
        print(auth.create_key(args.project))
        print(f"(project '{args.project}', on {where})", file=sys.stderr)
    elif args.command == "list":
        for key in store.list_keys():
            created = datetime.fromtimestamp(key["created_at"], UTC).isoformat(timespec="seconds")
            print(f"{key['id']}  {key['project']:<24} {key['prefix']}…  {created}")
    elif not auth.revoke_key(args.key):
        sys.exit(f"No such key on {where}.")
    else:
        print(f"Revoked on {where}.", file=sys.stderr)


if __name__ == "__main__":
    main()
