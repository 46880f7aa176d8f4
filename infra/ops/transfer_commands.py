"""The transfer commands: a project exported as JSON Lines, and a checked file imported under its ids.

Import: the file is read and checked whole first (``transfer_read``): a problem anywhere, and nothing is
written. Then it is read again, an object at a time: each assistant, and each thread with its messages, is
compared with what the table holds under its id: absent, it is written (a thread whole or not at all);
identical, skipped; different, refused (``--overwrite`` replaces it); a thread id that another project holds
is refused without saying whose.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from infra.ops.cli_errors import CliError, usage
from infra.ops.key_commands import _dynamodb, _project
from infra.ops.key_target import Target, functions_importable, resolve
from infra.ops.transfer_read import Plan, read
from infra.ops.transfer_records import shape

PROGRESS_SECONDS = 2.0


def _transfer() -> Any:
    functions_importable()
    from threads_api.store import transfer

    return transfer


# -- export ---------------------------------------------------------------------------------------------


def export(args: argparse.Namespace) -> None:
    project = _project(args.project)
    target = resolve(args)
    _transfer()  # the store, once resolve has named its table (and before _dynamodb reads its errors)
    if args.out:
        with Path(args.out).open("w", encoding="utf-8") as out:
            counts = _dynamodb(target, _export, project, out)
    else:
        counts = _dynamodb(target, _export, project, sys.stdout)
    where = f" to {args.out}" if args.out else ""
    print(
        f"Exported {counts[0]} assistants, {counts[1]} threads and {counts[2]} messages of project '{project}' "
        f"from {target.where}{where}.",
        file=sys.stderr,
    )


def _export(project: str, out: IO[str]) -> tuple[int, int, int]:
    """Assistants, then each thread followed by its messages in order: one page in memory at a time."""
    transfer = _transfer()
    counts = [0, 0, 0]
    for assistant in transfer.project_assistants(project):
        _line(out, shape(assistant))
        counts[0] += 1
    for thread in transfer.project_threads(project):
        _line(out, shape(thread))
        counts[1] += 1
        for page in transfer.thread_messages(thread.id):
            for message in page:
                _line(out, shape(message))
            counts[2] += len(page)
    out.flush()
    return counts[0], counts[1], counts[2]


def _line(out: IO[str], value: dict[str, Any]) -> None:
    out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")


# -- import ---------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What an import did, for its progress lines and its summary."""

    total: int
    started: float = field(default_factory=time.monotonic)
    shown: float = field(default_factory=time.monotonic)
    imported: dict[str, int] = field(default_factory=lambda: {"assistants": 0, "threads": 0, "messages": 0})
    skipped: int = 0
    refused: list[str] = field(default_factory=list)
    done: int = 0

    def progress(self, messages: int, force: bool = False) -> None:
        """Counts, rate and time left on stderr, every PROGRESS_SECONDS."""
        self.done += 1 + messages
        now = time.monotonic()
        if not force and now - self.shown < PROGRESS_SECONDS:
            return
        self.shown = now
        rate = self.done / max(now - self.started, 1e-6)
        left = (self.total - self.done) / rate if rate else 0.0
        print(
            f"… {self.done}/{self.total} objects ({self.imported['threads']} threads, {self.imported['messages']} "
            f"messages, {self.imported['assistants']} assistants imported; {rate:.0f} objects/s, about "
            f"{left:.0f} s left)",
            file=sys.stderr,
            flush=True,
        )


def import_(args: argparse.Namespace) -> None:
    project = _project(args.project)
    if not args.file:
        raise usage("No file to import: name one, `make import FILE=<path> PROJECT=<name>`.")
    plan = read(Path(args.file))
    target = resolve(args)
    _transfer()
    tally = Tally(len(plan.threads) + len(plan.assistants) + plan.message_count)
    _dynamodb(target, _import, project, plan, tally, args.overwrite)
    _summary(project, target, tally)


def _import(project: str, plan: Plan, tally: Tally, overwrite: bool) -> None:
    transfer = _transfer()
    n = 0
    for assistant_id, line, assistant in plan.each_assistant():
        n += 1
        existing = transfer.find_assistant(project, assistant_id)
        what = f"assistant {assistant_id}"
        if _should_write(tally, line, what, existing is not None, existing == assistant, overwrite) and _put(
            tally, line, what, transfer.import_assistant, project, assistant, n, replace=existing is not None
        ):
            tally.imported["assistants"] += 1
        tally.progress(0)
    for _, line, thread, messages in plan.each_thread():
        n += 1
        if _import_thread(transfer, tally, project, (n, line), thread, messages, overwrite):
            tally.imported["threads"] += 1
            tally.imported["messages"] += len(messages)
        tally.progress(len(messages))


def _import_thread(
    transfer: Any, tally: Tally, project: str, at: tuple[int, int], thread: Any, messages: list[Any], overwrite: bool
) -> bool:
    """Whether ``thread`` was written. It is written first as new: one request for a thread not there yet,
    the write's own condition refusing an id that is taken; only then is what holds the id read, to refuse,
    skip or overwrite it."""
    n, line = at
    what = f"thread {thread.id}"
    write = transfer.import_thread
    written = _put(tally, line, what, write, project, thread, messages, n, replace=False, probe=True)
    if written is not None:
        return written
    state, existing = transfer.find_thread(project, thread.id)
    if state == transfer.ELSEWHERE:
        tally.refused.append(
            f"line {line}: {what}: this id is taken in this table, by another project; it was not imported."
        )
        return False
    if state == transfer.STALE and transfer.clear_stale(thread.id):  # a write that stopped midway, expired
        return bool(_put(tally, line, what, write, project, thread, messages, n, replace=False))
    if state in (transfer.PENDING, transfer.STALE):
        tally.refused.append(f"line {line}: {what} is being written by another request; run the import again later.")
        return False
    if state == transfer.ABSENT:  # the write met another (a transaction's conflict), and left nothing: once more
        return bool(_put(tally, line, what, write, project, thread, messages, n, replace=False))
    same = existing == thread and _same_messages(transfer, thread.id, messages)
    return _should_write(tally, line, what, True, same, overwrite) and bool(
        _put(tally, line, what, write, project, thread, messages, n, replace=True)
    )


def _same_messages(transfer: Any, thread_id: str, messages: list[Any]) -> bool:
    """Whether the thread holds exactly ``messages``, in order (read a page at a time)."""
    held: list[Any] = []
    for page in transfer.thread_messages(thread_id):
        held += page
        if len(held) > len(messages) or held != messages[: len(held)]:
            return False
    return len(held) == len(messages)


def _should_write(tally: Tally, line: int, what: str, exists: bool, same: bool, overwrite: bool) -> bool:
    """Whether to write an object: absent, or different with --overwrite; identical, it is skipped."""
    if not exists:
        return True
    if same:
        tally.skipped += 1
        return False
    if overwrite:
        return True
    tally.refused.append(
        f"line {line}: {what} is already in the project with other content; kept as it is (--overwrite, "
        "OVERWRITE=1 for make, replaces it)."
    )
    return False


def _put(tally: Tally, line: int, what: str, write: Any, *args: Any, probe: bool = False, **kwargs: Any) -> bool | None:
    """One object's write; what refuses it (text DynamoDB cannot store, a value too large, another writer
    first) is a reason in the summary, not the end of the import. ``probe``: the write of an object as new,
    whose failed condition (the id is taken) is None, for the caller to read what holds the id."""
    from botocore.exceptions import ClientError

    from threads_api.domain.errors import Invalid, InvalidText

    try:
        write(*args, **kwargs)
        return True
    except InvalidText:
        tally.refused.append(f"line {line}: {what} holds text with a lone surrogate, which cannot be stored.")
    except Invalid as exc:
        tally.refused.append(f"line {line}: {what}: {exc}")
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in {"ConditionalCheckFailedException", "TransactionCanceledException"}:
            raise
        if probe:
            return None
        tally.refused.append(f"line {line}: {what} was written meanwhile by another writer; run the import again.")
    return False


def _summary(project: str, target: Target, tally: Tally) -> None:
    imported = tally.imported
    elapsed = time.monotonic() - tally.started
    text = (
        f"Imported {imported['threads']} threads ({imported['messages']} messages) and {imported['assistants']} "
        f"assistants into project '{project}' on {target.where} in {elapsed:.1f} s; skipped {tally.skipped} "
        f"(already there, identical); refused {len(tally.refused)}"
    )
    if not tally.refused:
        print(text + ".", file=sys.stderr)
        return
    raise CliError(text + ":\n" + "\n".join(f"  {reason}" for reason in tally.refused))
