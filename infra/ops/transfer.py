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

import argparse
import sys

from infra.ops import cli_errors
from infra.ops.keys import DEBUG_HELP, EPILOG, FORMATTER, _command, _where
from infra.ops.transfer_commands import export, import_


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="python -m infra.ops.transfer",
        description="Import and export a project's threads, messages and assistants in OpenAI's format.",
        epilog=EPILOG,
        formatter_class=FORMATTER,
    )
    main_parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="{export,import}")
    common = _where()
    out = _command(
        commands,
        common,
        "export",
        export,
        "write a project's assistants, threads and messages as JSON Lines",
        "Write every assistant, thread and message of a project as JSON Lines of OpenAI objects (stdout, or\n"
        "--out FILE), one page of the table in memory at a time.\n"
        "The Make target: make export PROJECT=<name> [STACK=<stack> | TABLE_NAME=<table>] > file.jsonl.",
    )
    out.add_argument("--project", help="the project to export")
    out.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    into = _command(
        commands,
        common,
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
    return main_parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return cli_errors.run(lambda: args.run(args), debug=getattr(args, "debug", False))


if __name__ == "__main__":
    sys.exit(main())
