"""docs/performance.md's section on import and export, from results.json's ``transfer`` (``bench/transfer.py``)."""

from __future__ import annotations

from typing import Any

from bench.report_tables import table

RUNS = {
    "import": "import (into an empty table)",
    "import again": "the same import again (all skipped)",
    "export": "export (to a file)",
}
SHORT = {"import": "the import", "import again": "the re-run", "export": "the export"}


def _own_rate(run: Any, messages: int) -> Any:
    """Messages a second of the command's own time: the run's, less its wait on DynamoDB's answers."""
    own = run["seconds"] - run["in_dynamodb_s"]
    return round(messages / own) if own > 0 else "—"


def _requests(run: Any) -> str:
    by_operation = ", ".join(f"{n:g} {op}" for op, n in run["by_operation_per_1000_messages"].items())
    return f"**{run['requests_per_1000_messages']:g}**: {by_operation}"


def _throughput(t: Any) -> str:
    rows = [
        [
            RUNS.get(name, name),
            run["seconds"],
            f"**{run['threads_per_s']}**",
            f"**{run['messages_per_s']}**",
            run["in_dynamodb_s"],
            _own_rate(run, t["messages"]),
            _requests(run),
        ]
        for name, run in t["runs"].items()
    ]
    header = [
        "run",
        "s",
        "threads/s",
        "messages/s",
        "waiting on DynamoDB, s",
        "messages/s without the wait",
        "DynamoDB requests per 1,000 messages",
    ]
    return "\n\n".join(
        [
            table(header, rows),
            "The requests are each HTTP request the store's client sent (botocore's `before-send`, so a retry "
            "would count), and the wait is from each request's sending to its answer read: moto's work and the "
            "loopback, botocore's building and parsing being the command's. The import writes each thread with "
            "its messages as new, in one `TransactWriteItems` whose condition refuses an id already taken (one "
            "whose items pass a transaction's 100 items or 4 MB goes in stages: a hidden thread item, "
            "`BatchWriteItem`s of 25, an `UpdateItem`), and an assistant in a `PutItem` after reading its id "
            "(`GetItem`). Run again, each thread's write is refused by its condition, and only then is the "
            "thread read (`GetItem`) with its messages (a `Query`, a page of up to 1 MB) to compare them. The "
            "export reads the project's threads 100 at a time, then each thread's messages a page at a time "
            "(`Query`).",
            f"The wait is {_waited(t)}. Moto answers a `Query` of an index (`by_order`, `by_owner`) by reading "
            "every item of the table, so each query costs in proportion to the table (here the file's items "
            "alone), where DynamoDB reads the thread's partition only, single-digit milliseconds a request in "
            "AWS: the column without the wait is the command's own pace.",
        ]
    )


def _waited(t: Any) -> str:
    """The share of each run's time spent waiting on DynamoDB, in words."""
    shares = [
        f"{round(run['in_dynamodb_s'] / run['seconds'] * 100)}% of {SHORT.get(name, name)}'s time"
        for name, run in t["runs"].items()
        if run["seconds"] > 0
    ]
    return ", ".join(shares[:-1]) + (" and " if len(shares) > 1 else "") + shares[-1]


def _growth(grew: float, size: float) -> str:
    if grew >= 0.75 * size:
        return "in proportion to the file"
    if grew <= 1.25:
        return "about flat"
    return "less than the file"


def _memory(sizes: list[Any]) -> str:
    rows = [
        [s["messages"], s["threads"], s["file_mb"], f"**{s['import_peak_mib']}**", f"**{s['export_peak_mib']}**"]
        for s in sizes
    ]
    text = (
        "**Peak memory.** Python's allocations (tracemalloc) during an import into a table of its own and "
        "during its export, after a small import and export that load what the command loads once (the "
        "reference schemas' validators, the response shapes)."
    )
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        size = large["messages"] / small["messages"]
        grew = {kind: large[f"{kind}_peak_mib"] / max(small[f"{kind}_peak_mib"], 0.1) for kind in ("import", "export")}
        text += (
            f" From {small['messages']:,} to {large['messages']:,} messages ({size:g}× the file), the import's "
            f"peak grew {grew['import']:.1f}× ({_growth(grew['import'], size)}: the check keeps under 1 KB of "
            "each object, whatever its size, and the writing one thread at a time; here a message is about "
            f"1 KB of file), the export's {grew['export']:.1f}× ({_growth(grew['export'], size)})."
        )
    header = ["messages", "threads", "file MB", "import peak MiB", "export peak MiB"]
    export = (
        "The export holds one page of a query at a time: a thread's messages (and at most 2 MB of large "
        "messages' bodies), and, while it reads each thread's, the page of the project's threads (100): its "
        "peak follows neither the number of messages nor that of threads."
    )
    return "\n\n".join([text, table(header, rows), export])


def transfer_section(t: Any) -> str:
    return "\n\n".join(
        [
            f"`make bench-transfer` measures this section alone (last on {t['when']}), `make bench` with the rest: "
            "`bench/transfer.py` runs the real command (`python -m infra.ops.transfer`, in process) on a "
            f"synthetic OpenAI export (`bench/transfer_data.py`) of {t['threads']} threads of "
            f"{t['messages_per_thread']} messages each and {t['assistants']} assistants, {t['file_mb']} MB of "
            "JSON Lines: English prose of a few hundred characters a message, a user's questions and a run's "
            "replies in turn, some with an image or an attached file. Its DynamoDB is `make serve`'s embedded "
            "one (moto's server, `infra/local/dynamodb.py`), in a process of its own and called over HTTP, as "
            "a deployed import calls DynamoDB. The export's counts are checked against the import's.",
            _throughput(t),
            _memory(t["memory"]),
        ]
    )
