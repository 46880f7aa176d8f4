"""The layers' requirements (``functions/dependencies/requirements.txt``, ``infra/ingest_layer/requirements.txt``),
generated from the one lock.

    python -m infra.ops.lock           writes the layers' requirements from requirements.lock
    python -m infra.ops.lock --check   exits 1, saying so, if a file is not what the lock gives

``make lock`` runs it after freezing ``.venv`` into ``requirements.lock``. The layer is installed ``--no-deps``
(``functions/dependencies/Makefile``), so its list must be complete: every package that the functions' runtime
dependencies (``pyproject.toml``'s ``[project].dependencies``) need on Lambda (Python 3.13, Linux, arm64),
followed through their dependencies' metadata, each at the lock's version. What the Lambda runtime provides
(``infra/local/lambda_runtime.txt``: boto3 and botocore) is left out, and so is what only they need: a copy in
the layer would shadow the runtime's. The dependency metadata is read from ``.venv``, which ``make`` installs
under the lock: a package whose installed version is not the lock's is an error (run ``make`` first).

The ingest layer (the ingestion worker's second layer: tiktoken, pypdf, python-docx) is the same for
``pyproject.toml``'s ``ingest`` extra, less what the functions' layer already holds (the worker has both) and
less ``requests`` and what only it needs: tiktoken imports requests only to download an encoding from a URL,
and the layer ships cl100k_base as a file (``threads_api/ingest/tokens.py`` reads it; a test proves it loads
with requests absent).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
RUNTIME = ROOT / "infra" / "local" / "lambda_runtime.txt"
LAYER = ROOT / "functions" / "dependencies" / "requirements.txt"
INGEST_LAYER = ROOT / "infra" / "ingest_layer" / "requirements.txt"
INGEST_EXTRA = "ingest"
# Declared dependencies that the ingest layer's code never imports (their dependencies are not followed either).
NOT_IMPORTED = {"requests": "tiktoken imports it only to download an encoding from a URL"}

# Lambda's python3.13 runtime on arm64, for the environment markers of the dependencies' metadata.
LAMBDA_ENVIRONMENT = {
    "implementation_name": "cpython",
    "implementation_version": "3.13.0",
    "os_name": "posix",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "python_full_version": "3.13.0",
    "python_version": "3.13",
    "sys_platform": "linux",
}

HEADER = """\
# Generated from requirements.lock by `make lock` (python -m infra.ops.lock): do not edit by hand.
# The functions' shared layer, installed --no-deps (see Makefile): what pyproject.toml's runtime dependencies
# need on Lambda (python3.13, arm64), at the lock's versions. Not boto3 and botocore, nor what only they need:
# the Lambda runtime provides them (infra/local/lambda_runtime.txt), and a copy here would shadow the runtime's.
"""


INGEST_HEADER = """\
# Generated from requirements.lock by `make lock` (python -m infra.ops.lock): do not edit by hand.
# The ingestion worker's second layer, installed --no-deps (see Makefile): what pyproject.toml's `ingest` extra
# needs on Lambda (python3.13, arm64), at the lock's versions, less what the functions' layer
# (functions/dependencies/requirements.txt) or the Lambda runtime provides, and less requests and what only it
# needs: tiktoken imports requests only to download an encoding by URL, and this layer ships cl100k_base as a file.
"""


class LockError(Exception):
    """The lock, pyproject.toml and .venv disagree: a sentence saying what to run."""


def pins(lines: Iterable[str]) -> dict[str, str]:
    """``name==version`` lines (comments and blank lines skipped) by canonical name."""
    found: dict[str, str] = {}
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        name, separator, version = text.partition("==")
        if not separator:
            raise LockError(f"{text!r} is not pinned (name==version)")
        found[str(canonicalize_name(name.split("[", 1)[0]))] = version.strip()
    return found


def closure(
    roots: Iterable[Requirement],
    requires: Callable[[str], list[str]],
    provided: set[str],
    environment: dict[str, str],
) -> dict[str, str]:
    """Every package the roots need (canonical name -> what first needed it: ``pyproject.toml`` for a root),
    through ``requires(name)`` (its Requires-Dist) under ``environment``'s markers and the extras asked for,
    not entering the ``provided`` packages."""
    needed: dict[str, str] = {}
    pending: list[tuple[Requirement, str]] = [(root, "pyproject.toml") for root in roots]
    seen: set[tuple[str, str]] = set()
    while pending:
        requirement, via = pending.pop(0)
        name = str(canonicalize_name(requirement.name))
        if name in provided:
            continue
        needed.setdefault(name, via)
        for extra in sorted(requirement.extras) or [""]:
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            for text in requires(name):
                dependency = Requirement(text)
                if dependency.marker is None or dependency.marker.evaluate({**environment, "extra": extra}):
                    pending.append((dependency, name))
    return needed


def _installed_requires(name: str) -> list[str]:
    return list(metadata.distribution(name).requires or [])


def _pyproject() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads(PYPROJECT.read_text())["project"]
    return project


def _roots(texts: list[str], locked: dict[str, str]) -> list[Requirement]:
    """pyproject.toml's requirements, each pin checked against the lock."""
    roots = [Requirement(text) for text in texts]
    for root in roots:
        pinned = [spec.version for spec in root.specifier if spec.operator == "=="]
        name = str(canonicalize_name(root.name))
        if pinned and locked.get(name) != pinned[0]:
            raise LockError(
                f"pyproject.toml pins {root.name}=={pinned[0]}, requirements.lock has {locked.get(name)}: "
                "run make (it installs pyproject.toml's pins), then make lock."
            )
    return roots


def _needed(
    texts: list[str], locked: dict[str, str], provided: set[str], requires: Callable[[str], list[str]]
) -> dict[str, str]:
    environment = {**{k: str(v) for k, v in default_environment().items()}, **LAMBDA_ENVIRONMENT}
    return closure(_roots(texts, locked), requires, provided, environment)


def _render(header: str, needed: dict[str, str], locked: dict[str, str]) -> str:
    lines = []
    for name in sorted(needed):
        if name not in locked:
            raise LockError(f"{name} (needed by {needed[name]}) is not in requirements.lock: run make lock.")
        lines.append(f"{name}=={locked[name]}  # {'via ' if needed[name] != 'pyproject.toml' else ''}{needed[name]}")
    return header + "\n".join(lines) + "\n"


def _layer_needs(locked: dict[str, str], requires: Callable[[str], list[str]]) -> dict[str, str]:
    runtime = set(pins(RUNTIME.read_text().splitlines()))
    return _needed(_pyproject()["dependencies"], locked, runtime, requires)


def layer_requirements(requires: Callable[[str], list[str]] = _installed_requires) -> str:
    """The layer's requirements.txt, as the lock, pyproject.toml and the runtime's list make it."""
    locked = pins(LOCK.read_text().splitlines())
    return _render(HEADER, _layer_needs(locked, requires), locked)


def ingest_layer_requirements(requires: Callable[[str], list[str]] = _installed_requires) -> str:
    """The ingest layer's requirements.txt: the ``ingest`` extra's closure, less what the runtime or the
    functions' layer provides and what is never imported."""
    locked = pins(LOCK.read_text().splitlines())
    runtime = set(pins(RUNTIME.read_text().splitlines()))
    provided = runtime | set(_layer_needs(locked, requires)) | set(NOT_IMPORTED)
    roots = _pyproject()["optional-dependencies"][INGEST_EXTRA]
    return _render(INGEST_HEADER, _needed(roots, locked, provided, requires), locked)


def _check_installed(text: str) -> None:
    """The metadata read is the lock's: each package of the layer is installed in .venv at its pinned version."""
    for name, version in pins(text.splitlines()).items():
        installed = metadata.version(name)
        if installed != version:
            raise LockError(f"{name}: .venv has {installed}, requirements.lock {version}: run make, then this again.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.ops.lock", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="only say whether the files are up to date (exit 1 if not)"
    )
    args = parser.parse_args(argv)
    try:
        texts = {LAYER: layer_requirements(), INGEST_LAYER: ingest_layer_requirements()}
        for text in texts.values():
            _check_installed(text)
    except LockError as exc:
        print(exc, file=sys.stderr)
        return 1
    stale = [path for path, text in texts.items() if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is not what requirements.lock gives: run make lock.", file=sys.stderr)
        return 1 if stale else 0
    for path, text in texts.items():
        path.write_text(text)
        print(
            f"{path.relative_to(ROOT)}: {len(pins(text.splitlines()))} packages from requirements.lock.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
