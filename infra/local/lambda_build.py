"""What the deployed mode runs, built as for a deployment: ``sam build``'s packaged functions, each layer's
requirements installed for this machine, and the boto3/botocore that the Lambda runtime provides.

Everything lands under ``.local/deployed/`` and is rebuilt only when its inputs change (the layer and
runtime by the hash of their requirements; the functions on every start, as ``sam build`` is quick).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra import template

BUILD_ROOT = template.ROOT / ".local" / "deployed"
# The boto3 of Lambda's python3.13 runtime (AWS documents the runtime-included SDK versions); the
# functions must work with it, not with the development virtualenv's newer one.
RUNTIME_REQUIREMENTS = template.ROOT / "infra" / "local" / "lambda_runtime.txt"


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def _exclusive(name: str) -> Iterator[None]:
    """One builder at a time across processes (two test workers may both start the deployed mode)."""
    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    with (BUILD_ROOT / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _pip_install(requirements: Path, target: Path, *, no_deps: bool) -> None:
    """``pip install --target`` into a fresh folder, moved into place only when complete."""
    with _exclusive(target.name):
        _pip_install_unlocked(requirements, target, no_deps=no_deps)


def _pip_install_unlocked(requirements: Path, target: Path, *, no_deps: bool) -> None:
    if target.exists():
        return
    partial = target.with_name(target.name + ".partial")
    subprocess.run(["rm", "-rf", str(partial)], check=True)
    started = time.monotonic()
    _progress(f"Installing {requirements.relative_to(template.ROOT)} for this machine into {target.name} ...")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--only-binary=:all:"]
    command += ["--no-deps"] if no_deps else []
    command += ["--target", str(partial / "python" if no_deps else partial), "-r", str(requirements)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"pip could not install {requirements.name}:\n{result.stderr[-3000:]}")
    partial.rename(target)
    _progress(f"  done in {time.monotonic() - started:.0f} s")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def runtime_dir() -> Path:
    """boto3 and botocore as the Lambda runtime provides them (``/var/runtime``)."""
    target = BUILD_ROOT / f"runtime-{_digest(RUNTIME_REQUIREMENTS)}"
    _pip_install(RUNTIME_REQUIREMENTS, target, no_deps=False)
    return target


def host_layer(content_dir: Path) -> Path:
    """A layer's requirements (``<ContentUri>/requirements.txt``) installed for this machine's architecture,
    laid out as Lambda mounts a layer (``python/`` inside), and the other files of its folder at its root."""
    requirements = content_dir / "requirements.txt"
    target = BUILD_ROOT / f"layer-{content_dir.name}-{_digest(requirements)}"
    _pip_install(requirements, target, no_deps=True)
    for extra in content_dir.iterdir():  # what the layer's Makefile puts at its root (the tokenizer's file)
        if extra.is_file() and extra.name not in ("Makefile", "requirements.txt"):
            shutil.copy2(extra, target / extra.name)
    return target


def _sources_digest() -> str:
    """What ``sam build`` reads: the template and every file under ``functions/``."""
    digest = hashlib.sha256(template.TEMPLATE.read_bytes())
    for path in sorted((template.ROOT / "functions").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(template.ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


KEPT_BUILDS = 4  # the newest builds kept (older ones are from code since changed: no server starts on them)


def _prune_builds(keep: int) -> None:
    builds = sorted(BUILD_ROOT.glob("sam-*"), key=lambda d: d.stat().st_mtime, reverse=True)
    for old in builds[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def sam_build() -> Path:
    """``sam build`` into ``.local/deployed/sam-<digest of its sources>``; returns the built template (what
    ``sam deploy`` ships). Skipped when a build of the same template and ``functions/`` is there. A folder a
    digest: a server still running an older build keeps its code while a newer one is built (editing the
    code under a running ``make serve DEPLOYED=1`` once made a starting environment find no ``handlers``)."""
    with _exclusive("sam"):
        return _sam_build_unlocked()


def _sam_build_unlocked() -> Path:
    digest = _sources_digest()
    build_dir = BUILD_ROOT / f"sam-{digest[:16]}"
    stamp = build_dir / ".sources-sha256"
    if stamp.exists() and stamp.read_text() == digest and (build_dir / "template.yaml").exists():
        return build_dir / "template.yaml"
    _prune_builds(keep=KEPT_BUILDS)
    started = time.monotonic()
    _progress("Packaging the functions with sam build ...")
    sam = Path(sys.executable).parent / "sam"
    python_dir = Path(sys.executable).parent  # the layer's Makefile runs python3: this one (3.13)
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "PATH": f"{python_dir}:{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [str(sam), "build", "--template-file", str(template.TEMPLATE), "--build-dir", str(build_dir)],
        cwd=template.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"sam build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    stamp.write_text(digest)
    _progress(f"  done in {time.monotonic() - started:.0f} s")
    return build_dir / "template.yaml"
