"""The layout's arrows, read from the source (every import, lazy ones included): no import cycle between the
packages of ``functions/`` and of ``infra/``, no arrow from a lower room of ``threads_api`` back up to a higher
one, and none from the product into ``tests/`` (users run nothing from there, ``bench/`` neither)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Where each top-level package's source lives (``threads_api`` and ``handlers`` are on Lambda's path as is).
SOURCES = {"threads_api": ROOT / "functions", "handlers": ROOT / "functions", "infra": ROOT, "bench": ROOT}

# What each room of threads_api may import, besides itself (a room not named may import any room).
ALLOWED = {
    "threads_api.domain": set(),
    "threads_api.observability": set(),
    "threads_api.providers": set(),
    "threads_api.wire": {"threads_api.domain"},
    "threads_api.store": {"threads_api.domain", "threads_api.observability"},
    "threads_api.bucket": {"threads_api.domain"},
    "threads_api.index": {"threads_api.domain"},
    "threads_api.files": {"threads_api.domain", "threads_api.store", "threads_api.bucket"},
    # The embedders reuse the runs' retry loop and key reading; providers/ imports nothing of ours, so no cycle.
    "threads_api.embeddings": {"threads_api.domain", "threads_api.providers"},
    "threads_api.ingest": {"threads_api.domain"},
    "threads_api.auth": {"threads_api.store"},
    "threads_api.http": {
        "threads_api.domain",
        "threads_api.wire",
        "threads_api.store",
        "threads_api.observability",
    },
}


def _modules(package: str) -> Iterator[tuple[str, Path]]:
    base = SOURCES[package]
    for path in sorted((base / package).rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        dotted = ".".join(path.relative_to(base).with_suffix("").parts)
        yield dotted.removesuffix(".__init__"), path


def _imports(module: str, path: Path) -> set[str]:
    """The modules of this project that ``module`` imports, anywhere in its body."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    # A bare top-level package (``from threads_api import store``) is its empty __init__: not an arrow.
    return {name for name in found if name.split(".")[0] in {*SOURCES, "tests"} and name not in {module, *SOURCES}}


def _graph() -> dict[str, set[str]]:
    modules = {name: path for package in SOURCES for name, path in _modules(package)}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        # ``from pkg import name`` names a module or an attribute: keep only what is a module.
        graph[name] = {target for target in _imports(name, path) if target in modules or target.startswith("tests")}
    return graph


def _package(module: str) -> str:
    return module.rsplit(".", 1)[0] if "." in module else module


def _room(module: str) -> str:
    """threads_api's rooms are its first level (``threads_api.store.runs`` is in ``threads_api.store``)."""
    return ".".join(module.split(".")[:2])


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph, as its nodes in order, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_no_import_cycle_between_packages() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        here = _package(module)
        packages.setdefault(here, set()).update(_package(t) for t in targets if _package(t) != here)
    # A package's __init__ re-exporting its own modules is not an arrow between packages.
    for name in list(packages):
        packages[name] = {t for t in packages[name] if not t.startswith(f"{name}.") and not name.startswith(f"{t}.")}
    assert _cycle(packages) is None, f"import cycle between packages: {' -> '.join(_cycle(packages) or [])}"


def test_no_import_cycle_between_modules() -> None:
    graph = _graph()
    # ``pkg/__init__.py`` importing its own modules, which import the package back, is Python's ordinary way
    # of exporting names: only cycles through two or more other modules count.
    edges = {m: {t for t in ts if not (m == _package(t) or t == _package(m))} for m, ts in graph.items()}
    assert _cycle(edges) is None, f"import cycle: {' -> '.join(_cycle(edges) or [])}"


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_no_arrow_back_up(room: str) -> None:
    wrong = {
        f"{module} -> {target}"
        for module, targets in _graph().items()
        if _room(module) == room
        for target in targets
        if target.startswith("threads_api") and _room(target) != room and _room(target) not in ALLOWED[room]
    }
    assert not wrong, f"{room} may import only {sorted(ALLOWED[room])}: {sorted(wrong)}"


def test_the_product_and_bench_import_nothing_from_tests() -> None:
    wrong = {f"{m} -> {t}" for m, ts in _graph().items() for t in ts if t.startswith("tests")}
    assert not wrong, f"tests/ is not part of the product: {sorted(wrong)}"


def test_the_check_sees_a_cycle() -> None:
    """The cycle finder itself: a check that cannot fail proves nothing."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
