"""The packages are stacked in the order data flows; no module imports a package above its own, and
no modules import each other in a circle. docs/architecture.md draws the same stack."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Each layer may import itself and any layer below it (later in this list), never one above.
LAYERS = [
    {"cli"},
    {"scheduler"},
    {"triage"},
    {"pipeline"},
    {"intake", "classifier", "responders"},
    {"casework"},
    {"text", "core"},
]
SIBLINGS_MAY_NOT_IMPORT_EACH_OTHER = {"intake", "classifier", "responders"}
TOP = {name for layer in LAYERS for name in layer}


def layer_of(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def modules() -> dict[str, Path]:
    found = {"scheduler": REPO / "scheduler.py"}
    for package in TOP - {"scheduler"}:
        for path in (REPO / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(path: Path) -> set[str]:
    """Every module this file imports, at module level or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] in TOP}


MODULES = modules()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_package_above_its_own(module):
    own = module.split(".")[0]
    for imported in imports_of(MODULES[module]):
        target = imported.split(".")[0]
        assert layer_of(target) >= layer_of(own), f"{module} imports {imported}, which is above it"
        if own != target and {own, target} <= SIBLINGS_MAY_NOT_IMPORT_EACH_OTHER:
            pytest.fail(f"{module} imports {imported}: {own} and {target} are siblings and stay apart")


def test_there_is_no_import_circle_between_modules():
    graph = {name: {i for i in imports_of(path) if i in MODULES and i != name} for name, path in MODULES.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])


def test_the_walk_sees_every_package():
    assert {name.split(".")[0] for name in MODULES} == TOP
