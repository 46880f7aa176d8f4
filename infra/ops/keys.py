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

This module is the command line (its shape: ``cli_parser.py``); where the keys are is ``key_target.py``, the
commands ``key_commands.py``.
"""

from __future__ import annotations

import sys

from infra.ops.cli_parser import Tool
from infra.ops.key_commands import create, list_, revoke, sync


def tool() -> Tool:
    keys = Tool(
        "python -m infra.ops.keys",
        "Create, list and revoke the Threads API's keys.",
        ["create", "list", "revoke", "sync"],
    )
    keys.command(
        "create",
        create,
        "create a key for a project; the key goes to stdout",
        "Create a key for a project and print it on stdout (shown once: only its SHA-256 is kept).\n"
        "The Make target: make key PROJECT=<name> [STACK=<stack> | TABLE_NAME=<table>].",
        aliases=["mint"],
    ).add_argument("--project", help="the key's project: 1 to 64 letters, digits, '_', '-' or '.'")
    keys.command(
        "list",
        list_,
        "list the keys",
        "List the keys: id (the SHA-256 of the key), project, prefix, created.\n"
        "The Make target: make keys [STACK=<stack> | TABLE_NAME=<table>].",
    )
    keys.command(
        "revoke",
        revoke,
        "revoke a key, by the key or its id",
        "Revoke a key, named by the key itself or by its id (as `list` shows it). Warm functions\n"
        "forget it within KeyCacheSeconds (30 s by default). On a stack, a project's last key takes its API key\n"
        "out of the usage plan after that bound: the command waits for it.\n"
        "The Make target: make revoke KEY=<key or id> [STACK=<stack> | TABLE_NAME=<table>].",
    ).add_argument("key", nargs="?", metavar="KEY_OR_ID", help="the key, or its id (SHA-256)")
    keys.command(
        "sync",
        sync,
        "put every project that has a key in the stack's usage plan",
        "Put the API key of every project that has a key in the stack's usage plan (once, after\n"
        "upgrading a stack deployed before per-project throttling). Running it again changes nothing.\n"
        "The Make target: make sync-keys STACK=<stack>.",
    )
    return keys


def main(argv: list[str] | None = None) -> int:
    return tool().main(argv)


if __name__ == "__main__":
    sys.exit(main())
