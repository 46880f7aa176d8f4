"""The project's own tooling: one Python (3.13) everywhere, and ``make test``'s coverage figure."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
MAKEFILE = (ROOT / "Makefile").read_text()


def _locked(name: str) -> str | None:
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        pinned, _, version = line.partition("==")
        if pinned.lower().replace("_", "-") == name:
            return version
    return None


def test_one_python_everywhere() -> None:
    """Lambda's python3.13: the package, ruff's target, mypy's, the layer's wheels, the template's runtime, and
    the only Python the Makefile looks for."""
    assert PYPROJECT["project"]["requires-python"] == ">=3.13"
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py313"
    assert PYPROJECT["tool"]["mypy"]["python_version"] == "3.13"
    assert "--python-version 3.13" in (ROOT / "functions/dependencies/Makefile").read_text()
    assert "Runtime: python3.13" in (ROOT / "template.yaml").read_text()
    (search,) = re.findall(r"^PYTHON \?= .*?done\)$", MAKEFILE, flags=re.MULTILINE | re.DOTALL)
    assert "3.13" in search
    assert not re.search(r"3\.1[0-24-9]|\(3, 1[0-24-9]\)", search), search
    assert sys.version_info[:2] == (3, 13)


def _has_python_3_13(path: str) -> bool:
    for name in ("python3.13", "python3"):
        found = shutil.which(name, path=path)
        check = [found, "-c", "import sys; assert sys.version_info[:2] == (3, 13)"] if found else None
        if check and subprocess.run(check, capture_output=True, check=False).returncode == 0:
            return True
    return False


@pytest.mark.process
def test_make_says_so_when_no_python_3_13_is_found(tmp_path: Path) -> None:
    """No fallback to another version: a clear sentence, and nothing created."""
    path = "/usr/bin:/bin"
    if _has_python_3_13(path):
        pytest.skip("this machine's system Python is 3.13: there is always one to find")
    venv = tmp_path / "venv"
    env = {"PATH": path, "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    done = subprocess.run(
        ["make", "-s", f"VENV={venv}", f"{venv}/.installed"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "No Python 3.13 was found" in done.stderr
    assert "PYTHON=/path/to/python3.13" in done.stderr
    assert not venv.exists()


def test_make_test_measures_coverage_of_functions_and_infra_and_prints_it() -> None:
    assert "pytest-cov==7.1.0" in PYPROJECT["project"]["optional-dependencies"]["dev"]
    assert _locked("pytest-cov") == "7.1.0"
    assert _locked("coverage") is not None
    assert PYPROJECT["tool"]["coverage"]["run"]["source"] == ["functions", "infra"]
    recipe = MAKEFILE.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "--cov --cov-report=" in recipe
    assert "-n 2" in recipe
    assert "coverage report --include='functions/*' --format=total" in recipe
    assert "coverage report --include='infra/*' --format=total" in recipe


@pytest.mark.process
def test_coverage_is_collected_across_xdist_workers(tmp_path: Path) -> None:
    """What ``make test`` runs, on two workers: one combined figure, not 0. Without the suite's conftest, whose
    session hooks would clear the running suite's IAM usage files, and in a data file of its own."""
    data = tmp_path / "coverage"
    env = {k: v for k, v in os.environ.items() if k != "CHECK_UNUSED_GRANTS"} | {"COVERAGE_FILE": str(data)}
    pytest_args = ["-m", "pytest", "-q", "-n", "2", "-p", "no:schemathesis", "--noconftest", "--cov", "--cov-report="]
    done = subprocess.run(
        [sys.executable, *pytest_args, "tests/unit/test_lock.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = [sys.executable, "-m", "coverage", "report", "--include=infra/ops/lock.py", "--format=total"]
    total = subprocess.run(report, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert 50 < float(total) <= 100, total
    assert not list(tmp_path.glob("coverage.*")), "the workers' data files are combined into one"
