"""The layer's requirements (``functions/dependencies/requirements.txt``), generated from the one lock.

    python -m infra.ops.lock           writes the layer's requirements from requirements.lock
    python -m infra.ops.lock --check   exits 1, saying so, if the file is not what the lock gives

``make lock`` runs it after freezing ``.venv`` into ``requirements.lock``. The layer is installed ``--no-deps``
(``functions/dependencies/Makefile``), so its list must be complete: every package that the functions' runtime
dependencies (``pyproject.toml``'s ``[project].dependencies``) need on Lambda (Python 3.13, Linux, arm64),
followed through their dependencies' metadata, each at the lock's version. What the Lambda runtime provides
(``infra/local/lambda_runtime.txt``: boto3 and botocore) is left out, and so is what only they need: a copy in
the layer would shadow the runtime's. The dependency metadata is read from ``.venv``, which ``make`` installs
under the lock: a package whose installed version is not the lock's is an error (run ``make`` first).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
RUNTIME = ROOT / "infra" / "local" / "lambda_runtime.txt"
LAYER = ROOT / "functions" / "dependencies" / "requirements.txt"

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


def layer_requirements(requires: Callable[[str], list[str]] = _installed_requires) -> str:
    """The layer's requirements.txt, as the lock, pyproject.toml and the runtime's list make it."""
    locked = pins(LOCK.read_text().splitlines())
    provided = set(pins(RUNTIME.read_text().splitlines()))
    roots = [Requirement(text) for text in tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]]
    for root in roots:
        pinned = [spec.version for spec in root.specifier if spec.operator == "=="]
        name = str(canonicalize_name(root.name))
        if pinned and locked.get(name) != pinned[0]:
            raise LockError(
                f"pyproject.toml pins {root.name}=={pinned[0]}, requirements.lock has {locked.get(name)}: "
                "run make (it installs pyproject.toml's pins), then make lock."
            )
    environment = {**{k: str(v) for k, v in default_environment().items()}, **LAMBDA_ENVIRONMENT}
    needed = closure(roots, requires, provided, environment)
    lines = []
    for name in sorted(needed):
        if name not in locked:
            raise LockError(f"{name} (needed by {needed[name]}) is not in requirements.lock: run make lock.")
        lines.append(f"{name}=={locked[name]}  # {'via ' if needed[name] != 'pyproject.toml' else ''}{needed[name]}")
    return HEADER + "\n".join(lines) + "\n"


def _check_installed(text: str) -> None:
    """The metadata read is the lock's: each package of the layer is installed in .venv at its pinned version."""
    for name, version in pins(text.splitlines()).items():
        installed = metadata.version(name)
        if installed != version:
            raise LockError(f"{name}: .venv has {installed}, requirements.lock {version}: run make, then this again.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.ops.lock", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the file is up to date (exit 1 if not)")
    args = parser.parse_args(argv)
    relative = LAYER.relative_to(ROOT)
    try:
        text = layer_requirements()
        _check_installed(text)
    except LockError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.check:
        if LAYER.read_text() != text:
            print(f"{relative} is not what requirements.lock gives: run make lock.", file=sys.stderr)
            return 1
        return 0
    LAYER.write_text(text)
    print(f"{relative}: {len(pins(text.splitlines()))} packages from requirements.lock.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
