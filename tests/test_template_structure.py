"""The generated project's runtime reads as the definition of production, one piece per module.

What a platform team maintains and what `update` will merge: small modules with one job each, one
error type, no import cycle, and no library module that prints (only the command line does).
"""

from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[1] / "templates/production/template/src/{{package_name}}"
MODULES = {p.stem: p for p in RUNTIME.glob("*.py")}
MAX_LINES = 400


def _tree(name: str) -> ast.Module:
    return ast.parse(MODULES[name].read_text(encoding="utf-8"))


def _imports(name: str, *, top_level_only: bool) -> set[str]:
    """Sibling modules ``name`` imports (``from . import x``, ``from .x import y``)."""
    tree = _tree(name)
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return {m for m in found if m in MODULES or m == "settings"}


def test_every_runtime_module_is_small():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()}
    assert len(sizes) >= 15
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}


def test_no_module_but_the_command_line_prints():
    printing = set()
    for name in MODULES:
        for node in ast.walk(_tree(name)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                printing.add(name)
    assert printing == {"__main__"}


def test_there_is_no_import_cycle():
    graph = {name: _imports(name, top_level_only=False) for name in MODULES}

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    return path + [nxt]
                if nxt not in path:
                    stack.append((nxt, path + [nxt]))
        return None

    cycles = {name: cycle_from(name) for name in graph}
    assert {k: v for k, v in cycles.items() if v} == {}


def test_one_error_type():
    raised = set()
    for name in MODULES:
        for node in ast.walk(_tree(name)):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name) and b.id in ("Exception", "ValueError", "RuntimeError") for b in node.bases):
                raised.add((name, node.name))
    # ProjectError, and ContractError: what Contract.load raises for a file it cannot use, turned into a
    # ProjectError by check_data at the command boundary
    assert raised == {("errors", "ProjectError"), ("rules", "ContractError")}


def test_the_reader_and_the_rules_load_without_the_project():
    """Shipyard loads them itself (shipyard.runtime): they must not need the rendered settings."""
    for name in ("tables", "rules", "contract", "dataset_checks", "errors"):
        assert "settings" not in _imports(name, top_level_only=False), name
