"""Gates against regrowth: modules of one purpose stay short (at most 300 lines), functions rarely pass 60
lines, and every handler module is parse, one call, shape (at most 20 lines). An exception is named here,
with its reason, or it fails."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULE_MAX_LINES = 300
FUNCTION_MAX_LINES = 60
HANDLER_MAX_LINES = 20

# (module, function) -> why it may be longer than FUNCTION_MAX_LINES.
LONG_FUNCTIONS: dict[tuple[str, str], str] = {}
# module -> why it may be longer than MODULE_MAX_LINES.
LONG_MODULES: dict[str, str] = {}
# handler module -> why it may be longer than HANDLER_MAX_LINES.
LONG_HANDLERS: dict[str, str] = {}


def _sources() -> list[Path]:
    found = []
    for top in ("functions", "infra", "bench", "tests"):
        for path in (ROOT / top).rglob("*.py"):
            if "__pycache__" not in path.parts and "dependencies" not in path.parts:
                found.append(path)
    return sorted(found)


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_modules_are_short() -> None:
    long = {
        _name(p): n
        for p in _sources()
        if (n := p.read_text().count("\n")) > MODULE_MAX_LINES and _name(p) not in LONG_MODULES
    }
    assert not long, f"modules over {MODULE_MAX_LINES} lines: {long}"


def test_functions_are_short() -> None:
    long = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > FUNCTION_MAX_LINES and (_name(path), node.name) not in LONG_FUNCTIONS:
                    long[f"{_name(path)}:{node.name}"] = length
    assert not long, f"functions over {FUNCTION_MAX_LINES} lines: {long}"


@pytest.mark.parametrize("handler", sorted((ROOT / "functions" / "handlers").glob("[!_]*.py")), ids=lambda p: p.name)
def test_handlers_are_parse_one_call_shape(handler: Path) -> None:
    lines = handler.read_text().count("\n")
    assert lines <= HANDLER_MAX_LINES or _name(handler) in LONG_HANDLERS, f"{_name(handler)}: {lines} lines"


def test_every_named_exception_still_needs_its_place() -> None:
    """An exception that is no longer needed is removed, so that the list never hides new growth."""
    sources = {_name(p): p.read_text() for p in _sources()}
    stale = [m for m in LONG_MODULES if sources.get(m, "").count("\n") <= MODULE_MAX_LINES]
    stale += [m for m in LONG_HANDLERS if sources.get(m, "").count("\n") <= HANDLER_MAX_LINES]
    assert not stale, f"no longer over their limit: {stale}"
