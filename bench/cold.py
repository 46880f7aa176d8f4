"""Cold start: a fresh interpreter importing a handler module and resolving its function, as a ratio to a
fresh interpreter doing ``import boto3; boto3.client("dynamodb")`` (the floor every handler pays)."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = sorted(p.stem for p in (ROOT / "functions" / "handlers").glob("*.py") if p.stem != "__init__")
FLOOR = "import boto3; boto3.client('dynamodb')"


def _env() -> dict[str, str]:
    # What Lambda sets, and the template's variables; nothing that reaches the network at import.
    return {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "TABLE_NAME": "bench",
        "TRACING": "false",
        "POWERTOOLS_SERVICE_NAME": "threads-api",
        "POWERTOOLS_METRICS_NAMESPACE": "ThreadsApi",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "PYTHONDONTWRITEBYTECODE": "",
    }


def _time(code: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one fresh interpreter running ``code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT / "functions", env=_env(), check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(runs: int) -> dict[str, dict[str, float]]:
    """Medians per variant, interleaved run by run so that machine noise hits all alike.

    The ratio is of CPU time, which other load on the machine disturbs far less than wall time; the wall
    medians are reported beside it.
    """
    variants = {"boto3 floor": FLOOR} | {name: f"import handlers.{name} as m; m.handler" for name in HANDLERS}
    for code in variants.values():  # warm the OS caches and the bytecode once
        _time(code)
    walls: dict[str, list[float]] = {name: [] for name in variants}
    cpus: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, code in variants.items():
            wall, cpu = _time(code)
            walls[name].append(wall)
            cpus[name].append(cpu)
    floor_cpu = statistics.median(cpus["boto3 floor"])
    floor_wall = statistics.median(walls["boto3 floor"])
    return {
        name: {
            "cpu_ms": round(statistics.median(cpus[name]) * 1000, 1),
            "wall_ms": round(statistics.median(walls[name]) * 1000, 1),
            "ratio": round(statistics.median(cpus[name]) / floor_cpu, 3),
            "wall_ratio": round(statistics.median(walls[name]) / floor_wall, 3),
        }
        for name in variants
    }
