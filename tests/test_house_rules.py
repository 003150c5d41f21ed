"""The house stays walkable: the rules issue 19 set, read from the code with `ast`.

- `stacks/` is rooms in one direction: config and compliance at the bottom, then model
  resolution, the Lambda contract, constructs, the stack modules, and app_builder on top;
  no arrow up, no import cycle between files (deferred imports count: they run too).
- `stacks/` holds at most 10 top-level modules; what is not a stack lives in a sub-package.
- Outside tests, no module takes a private name (`_x`) from another module.
- Outside tests, no function is longer than 60 lines unless its docstring says why it
  reads better whole; no file is longer than 400 lines unless it is listed below with why.
- Tests share helpers through helper modules, never by importing another test module or a
  conftest (pytest loads conftests itself; a conftest holds fixtures).
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCE_ROOTS = ("app.py", "stacks", "lambdas", "local", "tools", "bench")
MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 400
# Files allowed over MAX_FILE_LINES, each with why it is one room.
LONG_FILES: dict[str, str] = {}
# Room of a stacks/ module -> its floor; a module may import only from its floor or below.
FLOORS = {"compliance": 1, "config": 1, "models": 2, "contract": 3, "constructs": 4, "stack": 5, "app_builder": 6}


def _sources() -> list[Path]:
    files: list[Path] = []
    for root in SOURCE_ROOTS:
        path = REPO / root
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


@lru_cache(maxsize=None)
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO / "lambdas" if path.is_relative_to(REPO / "lambdas") else REPO)
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    return [n for n in ast.walk(_tree(path)) if isinstance(n, (ast.Import, ast.ImportFrom))]


def _stacks_room(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "stack"  # the package itself
    if parts[1] in FLOORS:
        return parts[1]
    if parts[1].endswith("_stack"):
        return "stack"
    raise AssertionError(f"{module}: not in a known room of stacks/ ({', '.join(FLOORS)})")


def _stacks_graph() -> dict[str, set[str]]:
    paths = sorted((REPO / "stacks").rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        name = _module_name(path)
        targets: set[str] = set()
        for node in _imports(path):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif node.module:
                targets.update(
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names
                )
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def test_stacks_holds_at_most_ten_top_level_modules():
    top = sorted(p.name for p in (REPO / "stacks").glob("*.py"))
    assert len(top) <= 10, top


def test_stacks_imports_run_down_the_floors():
    graph = _stacks_graph()
    assert "stacks.models.jumpstart" in graph["stacks.app_builder"], "the graph is not read"
    up = [
        f"{src} -> {dst}"
        for src, targets in graph.items()
        for dst in targets
        if FLOORS[_stacks_room(dst)] > FLOORS[_stacks_room(src)]
    ]
    assert not up, "arrows up the floors of stacks/: " + "; ".join(sorted(up))


def test_stacks_has_no_import_cycle():
    graph = _stacks_graph()
    state: dict[str, int] = {}

    def cycle_from(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            # A package __init__ that re-exports its modules is not a cycle with them.
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                return [*trail, node, nxt]
            if state.get(nxt) is None and (found := cycle_from(nxt, [*trail, node])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := cycle_from(start, [])):
            pytest.fail("import cycle: " + " -> ".join(found))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_private_name_is_imported_from_another_module(path):
    taken = [
        f"from {node.module} import {alias.name}"
        for node in _imports(path)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert not taken, taken


def _long_functions(path: Path) -> list[str]:
    out = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            doc = ast.get_docstring(node) or ""
            if length > MAX_FUNCTION_LINES and "reads better whole" not in doc.lower():
                out.append(f"{node.name} ({length} lines, line {node.lineno})")
    return out


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_functions_are_short_or_say_why_not(path):
    assert not _long_functions(path), (
        f"over {MAX_FUNCTION_LINES} lines without 'reads better whole' in the docstring: {_long_functions(path)}"
    )


def test_long_files_are_few_and_named():
    long = {
        str(p.relative_to(REPO)): n
        for p in _sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    }
    assert set(long) <= set(LONG_FILES), f"over {MAX_FILE_LINES} lines and not in LONG_FILES: {long}"
    assert len(LONG_FILES) <= 4


def test_test_modules_do_not_import_each_other():
    tests = REPO / "tests"
    test_modules = {_module_name(p) for p in tests.rglob("test_*.py")}
    wrong = [
        f"{p.relative_to(REPO)}: {node.module}"
        for p in sorted(tests.rglob("*.py"))
        for node in _imports(p)
        if isinstance(node, ast.ImportFrom)
        and (node.module in test_modules or (node.module or "").rsplit(".", 1)[-1] == "conftest")
    ]
    assert not wrong, "move shared helpers into a helper module: " + "; ".join(wrong)
