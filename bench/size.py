"""Package sizes as `sam build` makes them: each function's code and the shared dependencies layer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def measure() -> dict[str, Any]:
    sam = Path(sys.executable).parent / "sam"
    if not sam.exists():
        return {"error": "sam is not installed in this environment"}
    build = Path(tempfile.mkdtemp())
    source = Path(tempfile.mkdtemp()) / "src"
    # Build from a clean copy: no __pycache__ or local state in what is measured.
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", ".aws-sam", ".local", "__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache"
        ),
    )
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(
        [str(sam), "build", "--build-dir", str(build)], check=False, cwd=source, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        return {"error": "sam build failed: " + done.stderr[-500:]}
    sizes = {d.name: _size(d) for d in sorted(build.iterdir()) if d.is_dir()}
    shutil.rmtree(build, ignore_errors=True)
    shutil.rmtree(source.parent, ignore_errors=True)
    return {name: {"bytes": size, "kib": round(size / 1024, 1)} for name, size in sizes.items()}
