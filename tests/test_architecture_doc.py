"""docs/architecture.md's layout matches the tree: every module of functions/ and infra/ is named there, and
every module and folder it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _section() -> str:
    """The fenced block under `## Layout` in docs/architecture.md."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1]


def _modules(folder: str) -> set[str]:
    return {
        p.name
        for p in (ROOT / folder).rglob("*.py")
        if p.name != "__init__.py" and "__pycache__" not in p.parts and "dependencies" not in p.parts
    }


def test_every_module_of_functions_and_infra_is_named() -> None:
    named = set(re.findall(r"[\w.]+\.py\b", _section()))
    missing = (_modules("functions") | _modules("infra")) - named
    assert not missing, f"modules docs/architecture.md's layout does not name: {sorted(missing)}"


def test_every_module_and_folder_named_exists() -> None:
    section = _section()
    tree = [ROOT, *(ROOT / top for top in ("functions", "infra", "tests", "bench"))]
    everywhere = {p.name for top in tree for p in (top.rglob("*") if top != ROOT else top.iterdir())}
    folders = set(re.findall(r"^ *([\w.-]+)/(?: |$)", section, re.MULTILINE))  # a line of the tree that is a folder
    named = set(re.findall(r"[\w.]+\.py\b", section)) | folders
    assert not named - everywhere, f"named but not in the tree: {sorted(named - everywhere)}"
