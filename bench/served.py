"""``make serve`` started for a benchmark: a subprocess of the local API on a free port, with a fresh key and
state, no per-project throttle, and the settings given (DEPLOYED, MODEL_BASE_URL)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 300  # the deployed mode's first start builds its packages


def start(extra: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str, str, Path]:
    """The process, its base URL, its key, and its log file."""
    from infra.local.dynamodb import free_port

    key = "sk-thr-bench" + secrets.token_hex(16)
    state = Path(tempfile.mkdtemp()) / "serve.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "TABLE_NAME"}
    env |= {"PORT": str(free_port()), "THREADS_API_KEY": key, "THREADS_API_STATE": str(state)} | (extra or {})
    # The local API's capacity: make serve throttles no project unless PROJECT_RATE_LIMIT asks it to.
    env.pop("PROJECT_RATE_LIMIT", None)
    log = state.with_suffix(".log")
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if match := re.search(r"Threads API on (\S+)", log.read_text()):
            return process, match.group(1), key, log
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the local API did not start: " + log.read_text()[-2000:])


@contextmanager
def served(extra: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """The base URL and key of a local API that stops when the block ends."""
    process, base_url, key, _ = start(extra)
    try:
        yield base_url, key
    finally:
        process.terminate()
        process.wait(timeout=30)
