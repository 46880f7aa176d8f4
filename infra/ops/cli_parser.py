"""The command lines of the table's tools (``keys``, ``transfer``): one shape for both, so that their
options (where the table is, ``--debug``), help, epilog and exit codes read the same."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from infra.ops import cli_errors

EPILOG = """\
the table: --stack (or STACK) a deployed stack's TableName output, with your AWS credentials and region;
--table (or TABLE_NAME) a table by name; else the running `make serve`'s (its state file: THREADS_API_STATE,
else .local/serve.json).
exit codes: 0 done; 2 a missing, empty or invalid argument; 1 any other failure (a sentence on stderr)."""
FORMATTER = argparse.RawDescriptionHelpFormatter
DEBUG_HELP = "show the traceback of a failure"

Commands = argparse._SubParsersAction  # argparse does not export the type add_subparsers() returns


class Tool:
    """A tool's parser and its commands, each of which takes where the table is and --debug."""

    def __init__(self, prog: str, description: str, names: list[str]) -> None:
        self.parser = argparse.ArgumentParser(
            prog=prog, description=description, epilog=EPILOG, formatter_class=FORMATTER
        )
        self.parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
        metavar = "{" + ",".join(names) + "}"
        self.commands: Commands[argparse.ArgumentParser] = self.parser.add_subparsers(
            dest="command", required=True, metavar=metavar
        )
        self.common = _where()

    def command(
        self, name: str, run: Callable[[argparse.Namespace], None], summary: str, description: str, **more: Any
    ) -> argparse.ArgumentParser:
        """A command's parser (``summary`` is its line in the main help), which runs ``run``."""
        command = self.commands.add_parser(
            name,
            parents=[self.common],
            help=summary,
            description=description,
            epilog=EPILOG,
            formatter_class=FORMATTER,
            **more,
        )
        command.set_defaults(run=run)
        return command

    def main(self, argv: list[str] | None) -> int:
        """Parse ``argv`` and run its command; its exit code (``cli_errors.run``)."""
        args = self.parser.parse_args(argv)
        return cli_errors.run(lambda: args.run(args), debug=getattr(args, "debug", False))


def _where() -> argparse.ArgumentParser:
    """The options every command takes: where the table is (--stack, --table), and --debug."""
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("where")
    where.add_argument("--stack", metavar="STACK", help="a deployed stack (its TableName output); env STACK")
    where.add_argument("--table", metavar="TABLE", help="a DynamoDB table by name; env TABLE_NAME")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    return common
