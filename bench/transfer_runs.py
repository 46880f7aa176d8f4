"""The import/export bench's machinery (``bench/transfer.py``): the embedded DynamoDB in a process of its own,
this process pointed at it, the DynamoDB requests counted and timed, and one run of the real command with its
counts checked.

The server runs apart, as DynamoDB is not in the command's process: in it, tracemalloc would count moto's copy
of the table, and moto's CPU would share the command's interpreter.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import re
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, suppress
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.env import ROOT

COUNTER = "bench-transfer"  # the DynamoDB request counter's id on the store's client
SERVER_START_SECONDS = 60
KINDS = ("assistants", "threads", "messages")
IMPORTED = re.compile(r"Imported (\d+) threads \((\d+) messages\) and (\d+) assistants.*skipped (\d+)", re.DOTALL)
EXPORTED = re.compile(r"Exported (\d+) assistants, (\d+) threads and (\d+) messages")


def local_aws(**more: str) -> None:
    """This process's AWS configuration: fake credentials and a region, as ``make serve`` sets them for its
    embedded DynamoDB (``key_target`` likewise for a command on it), and nothing that points elsewhere."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "STACK"):
        os.environ.pop(name, None)
    local = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    os.environ.update(local | more)


# -- the embedded DynamoDB, in a process of its own ---------------------------------------------------------


def _serve(conn: Connection) -> None:
    """``make serve``'s DynamoDB (moto's server on a loopback port); it serves until ``conn`` closes."""
    from infra.local import dynamodb

    local_aws()
    conn.send(dynamodb.start_embedded())
    with suppress(EOFError):  # the pipe closed: the bench is done
        conn.recv()


@contextmanager
def embedded() -> Iterator[str]:
    """The embedded DynamoDB's endpoint, for as long as the block runs."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=_serve, args=(theirs,), name="embedded-dynamodb", daemon=True)
    server.start()
    theirs.close()
    try:
        if not ours.poll(SERVER_START_SECONDS):
            raise RuntimeError(f"the embedded DynamoDB did not start within {SERVER_START_SECONDS} s")
        yield str(ours.recv())
    finally:
        ours.close()
        server.join(10)
        if server.is_alive():
            server.terminate()


class Requests:
    """Each HTTP request the store's client sends, by operation (botocore's ``before-send``: a retry counts),
    and the seconds from its sending to its answer read (the commands send one request at a time)."""

    def __init__(self, client: Any) -> None:
        self.sent: Counter[str] = Counter()
        self.seconds, self._since = 0.0, 0.0
        # One id for each handler: botocore keeps one handler per unique_id, whatever its event.
        client.meta.events.register("before-send.dynamodb", self._send, unique_id=f"{COUNTER}-send")
        client.meta.events.register("before-parse.dynamodb", self._answered, unique_id=f"{COUNTER}-parse")

    def _send(self, event_name: str, **_: Any) -> None:
        self.sent[event_name.rpartition(".")[2]] += 1
        self._since = time.perf_counter()

    def _answered(self, **_: Any) -> None:
        self.seconds += time.perf_counter() - self._since

    def clear(self) -> None:
        self.sent.clear()
        self.seconds = 0.0


def on_table(endpoint: str, table: str) -> Requests:
    """This process pointed at ``table`` (created) of the embedded DynamoDB, as ``make serve``'s commands are,
    and the store imported (it binds its table and endpoint then): its requests, counted."""
    from infra.local import dynamodb

    local_aws(AWS_ENDPOINT_URL_DYNAMODB=endpoint, TABLE_NAME=table)
    dynamodb.create_table(dynamodb.client(endpoint), table)
    sys.path.insert(0, str(ROOT / "functions"))
    from threads_api import store

    return Requests(store.client)


# -- one run of the command ---------------------------------------------------------------------------------


def command(argv: list[str], requests: Requests, *, traced: bool = False) -> dict[str, Any]:
    """``python -m infra.ops.transfer`` with ``argv``, in process: its wall time, its requests, what it said
    (stderr, kept from the terminal), and with ``traced`` its peak of Python memory; a failure raises."""
    from infra.ops import transfer

    said = io.StringIO()
    requests.clear()
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    with redirect_stderr(said):
        code = transfer.main(argv)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()
    if code != 0:
        raise RuntimeError(f"`{' '.join(argv)}` exited {code}:\n{said.getvalue()}")
    sent, text = Counter(requests.sent), said.getvalue()
    return {"seconds": seconds, "sent": sent, "in_dynamodb": requests.seconds, "said": text, "peak": peak}


def counts(counted: dict[str, int]) -> dict[str, int]:
    return {kind: counted[kind] for kind in KINDS}


def imported(run: dict[str, Any]) -> dict[str, int]:
    """The import's counts, as its summary says them."""
    match = IMPORTED.search(run["said"])
    if match is None:
        raise RuntimeError(f"no summary in the import's output:\n{run['said']}")
    threads, messages, assistants, skipped = map(int, match.groups())
    return {"assistants": assistants, "threads": threads, "messages": messages, "skipped": skipped}


def exported(run: dict[str, Any], path: Path) -> dict[str, int]:
    """The export's counts as its summary says them, checked against the objects in its file."""
    match = EXPORTED.search(run["said"])
    if match is None:
        raise RuntimeError(f"no summary in the export's output:\n{run['said']}")
    said = dict(zip(KINDS, map(int, match.groups()), strict=True))
    with path.open(encoding="utf-8") as lines:
        kinds = Counter(json.loads(line)["object"] for line in lines)
    written = {"assistants": kinds["assistant"], "threads": kinds["thread"], "messages": kinds["thread.message"]}
    if written != said:
        raise RuntimeError(f"the export said {said} but its file holds {written}")
    return said


def check(what: str, got: dict[str, int], expected: dict[str, int]) -> None:
    """``got`` holds ``expected``'s counts, or the bench stops: a figure of a transfer that lost objects would
    mean nothing."""
    wrong = {key: (got.get(key), n) for key, n in expected.items() if got.get(key) != n}
    if wrong:
        raise RuntimeError(f"{what}: counts differ from what was expected, as (got, expected): {wrong}")
