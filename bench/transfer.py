"""Import and export: throughput on the embedded DynamoDB, DynamoDB requests per 1,000 messages, peak memory.

python -m bench.transfer [--threads N] [--messages N]   (make bench-transfer)

Measures this section alone and writes it into bench/results.json as ``transfer``, every other key as it was
(``make bench`` measures it with the rest). The real command, ``infra.ops.transfer.main``, run in process on a
synthetic OpenAI export (``bench/transfer_data.py``: ``--threads`` threads of ``--messages`` messages each,
and three assistants), against the embedded DynamoDB of ``make serve`` (``infra/local/dynamodb.py``: moto's
server on a loopback port, the template's table), over HTTP as a deployed import calls DynamoDB
(``bench/transfer_runs.py``):

- **import**, then the same **import again** (everything there already: each object read and skipped), then
  the **export** of the project to a file: wall time, threads and messages a second, the time spent waiting on
  DynamoDB's answers, and the requests sent, by operation, per 1,000 messages;
- **peak memory** (tracemalloc) of an import and of its export, at a quarter of the size and at the size:
  whether it grows with the file.

Each measure runs in a fresh process on a table of its own: the store binds its table and endpoint at its
import (which ``make bench``'s earlier steps have done in theirs), and moto's queries of an index read every
item of the table, so a table that held another measure's items would slow this one's.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench import section
from bench.transfer_runs import check, command, counts, embedded, exported, imported, on_table

TABLE, PROJECT = "threads-api-bench", "bench"
MIB = 1024 * 1024


def _figures(run: dict[str, Any], counted: dict[str, int]) -> dict[str, Any]:
    seconds, per = run["seconds"], 1000 / counted["messages"]
    return {
        "seconds": round(seconds, 2),
        "threads_per_s": round(counted["threads"] / seconds, 1),
        "messages_per_s": round(counted["messages"] / seconds),
        "in_dynamodb_s": round(run["in_dynamodb"], 2),
        "requests": dict(run["sent"].most_common()),
        "requests_per_1000_messages": round(run["sent"].total() * per, 1),
        "by_operation_per_1000_messages": {op: round(n * per, 1) for op, n in run["sent"].most_common()},
    }


def throughput(endpoint: str, folder: str, threads: int, messages: int) -> dict[str, Any]:
    """The import, the same import again, the export: each timed and counted, their counts checked."""
    from bench.transfer_data import write_export

    requests = on_table(endpoint, TABLE)
    given, out = Path(folder) / "openai.jsonl", Path(folder) / "export.jsonl"
    written = write_export(given, threads, messages)
    where = ["--project", PROJECT, "--table", TABLE]
    first = command(["import", *where, str(given)], requests)
    check("the import", imported(first), counts(written) | {"skipped": 0})
    again = command(["import", *where, str(given)], requests)
    skipped = written["threads"] + written["assistants"]
    check("the import run again", imported(again), {"threads": 0, "messages": 0, "skipped": skipped})
    export = command(["export", *where, "--out", str(out)], requests)
    check("the export", exported(export, out), counts(imported(first)))
    return {
        "threads": threads,
        "messages_per_thread": messages,
        "messages": written["messages"],
        "assistants": written["assistants"],
        "file_mb": round(written["bytes"] / 1_000_000, 1),
        "runs": {
            "import": _figures(first, written),
            "import again": _figures(again, written),
            "export": _figures(export, written),
        },
    }


def memory(endpoint: str, folder: str, threads: int, messages: int) -> dict[str, Any]:
    """Peak Python memory of an import of ``threads`` threads, then of its export, on a table of their own;
    after a small import and export, so that what the command loads once (the schemas' validators, the
    response shapes' modules) is not in the peaks."""
    from bench.transfer_data import write_export

    requests = on_table(endpoint, f"{TABLE}-memory-{threads}")
    where = ["--table", f"{TABLE}-memory-{threads}"]
    given, out, warm, warm_out = (
        Path(folder) / f"memory-{threads}{name}.jsonl" for name in ("", "-export", "-warm", "-warm-export")
    )
    write_export(warm, 1, 2, seed=1)  # ids of its own: the measured file's are seed 0's
    command(["import", "--project", "warm", *where, str(warm)], requests)
    command(["export", "--project", "warm", *where, "--out", str(warm_out)], requests)
    written = write_export(given, threads, messages)
    into = ["import", "--project", PROJECT, *where, str(given)]
    check("the traced import", imported(traced_import := command(into, requests, traced=True)), counts(written))
    traced_export = command(["export", "--project", PROJECT, *where, "--out", str(out)], requests, traced=True)
    check("the traced export", exported(traced_export, out), counts(written))
    return {
        "threads": threads,
        "messages": written["messages"],
        "file_mb": round(written["bytes"] / 1_000_000, 1),
        "import_peak_mib": round(traced_import["peak"] / MIB, 1),
        "export_peak_mib": round(traced_export["peak"] / MIB, 1),
    }


def measure(threads: int = 200, messages: int = 50) -> dict[str, Any]:
    """The import and export figures: ``threads`` threads of ``messages`` messages each; memory also at a
    quarter of the threads."""
    when = time.strftime("%F %T")
    spawn = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory(prefix="bench-transfer-") as folder,
        embedded() as endpoint,
        ProcessPoolExecutor(max_workers=1, mp_context=spawn, max_tasks_per_child=1) as fresh,
    ):
        figures = fresh.submit(throughput, endpoint, folder, threads, messages).result()
        sizes = sorted({max(1, threads // 4), threads})
        figures["memory"] = [fresh.submit(memory, endpoint, folder, n, messages).result() for n in sizes]
    return {"when": when} | figures


def title(t: dict[str, Any]) -> str:
    return (
        f"Import and export ({t['threads']} threads of {t['messages_per_thread']} messages; make serve's embedded "
        "DynamoDB: for trend only)"
    )


def rows(t: dict[str, Any]) -> list[list[Any]]:
    """The figures as (figure, value) rows, for the terminal."""
    out: list[list[Any]] = []
    for name, run in t["runs"].items():
        speed = f"{run['threads_per_s']}, {run['messages_per_s']}"
        waited = f"{run['seconds']} s, {run['in_dynamodb_s']} s of it waiting on DynamoDB"
        out.append([f"{name}: threads/s, messages/s", f"{speed} ({waited})"])
        by_operation = ", ".join(f"{n:g} {op}" for op, n in run["by_operation_per_1000_messages"].items())
        out.append([f"{name}: requests per 1,000 messages", f"{run['requests_per_1000_messages']:g} ({by_operation})"])
    for size in t["memory"]:
        out.append(
            [
                f"peak memory, {size['messages']} messages ({size['file_mb']} MB)",
                f"import {size['import_peak_mib']} MiB, export {size['export_peak_mib']} MiB",
            ]
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.transfer")
    parser.add_argument("--threads", type=int, default=200, help="threads in the file (memory: also a quarter)")
    parser.add_argument("--messages", type=int, default=50, help="messages in each thread")
    args = parser.parse_args()
    figures = measure(args.threads, args.messages)
    section.save("transfer", figures, rows(figures))


if __name__ == "__main__":
    main()
