"""Import and export a project's threads, messages and assistants in OpenAI's format, keeping their ids.

    python -m infra.ops.transfer export --project P [--out FILE]    JSON Lines on stdout (or FILE)
    python -m infra.ops.transfer import --project P FILE [--overwrite]

The format (docs/import-export.md): one OpenAI object a line (``assistant``, ``thread``, ``thread.message``)
or a list envelope as the API returned it (``{"object": "list", "data": [...]}``). An export writes the
assistants, then each thread followed by its messages in order; it imports back equal.

The table: as the key commands find it (``key_target.py``): ``--stack``/``STACK``, ``--table``/``TABLE_NAME``,
else the running ``make serve``'s. Exit codes: 0 done, 2 a missing or invalid argument (a file that is not
there), 1 any other failure: a file with problems (each by line; nothing imported), or objects refused (the
summary says which and why; the others are imported).

This module is the command line; the commands are ``transfer_commands.py``, the file's reading
``transfer_read.py``, the objects as records ``transfer_records.py``, the table's side ``store/transfer.py``.
"""

from __future__ import annotations

import sys

from infra.ops.cli_parser import Tool
from infra.ops.transfer_commands import export, import_


def tool() -> Tool:
    transfer = Tool(
        "python -m infra.ops.transfer",
        "Import and export a project's threads, messages and assistants in OpenAI's format.",
        ["export", "import"],
    )
    out = transfer.command(
        "export",
        export,
        "write a project's assistants, threads and messages as JSON Lines",
        "Write every assistant, thread and message of a project as JSON Lines of OpenAI objects (stdout, or\n"
        "--out FILE), one page of the table in memory at a time.\n"
        "The Make target: make export PROJECT=<name> [STACK=<stack> | TABLE_NAME=<table>] > file.jsonl.",
    )
    out.add_argument("--project", help="the project to export")
    out.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    into = transfer.command(
        "import",
        import_,
        "import OpenAI objects into a project, keeping their ids",
        "Import a file of OpenAI objects (JSON Lines, or list envelopes) into a project under their ids.\n"
        "An identical object already there is skipped; a different one is refused unless --overwrite.\n"
        "The Make target: make import FILE=<path> PROJECT=<name> [OVERWRITE=1] [STACK=... | TABLE_NAME=...].",
    )
    into.add_argument("--project", help="the project to import into")
    into.add_argument("file", nargs="?", metavar="FILE", help="the file to import")
    into.add_argument("--overwrite", action="store_true", help="replace objects that differ from the file's")
    return transfer


def main(argv: list[str] | None = None) -> int:
    return tool().main(argv)


if __name__ == "__main__":
    sys.exit(main())
