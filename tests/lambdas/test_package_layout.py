"""The Lambda code runs one way: ``frontdoor -> summarizer -> inference``.

Every import in ``lambdas/`` (deferred ones inside functions included, since they
run too) is read with ``ast``; a test fails on an arrow against that order, on an
import cycle between files, or on a function package reaching into another.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
# Higher may import lower, never the reverse.
# tenants (tenant keys: authorizer, budgets, usage) is the floor: anything may use it, it uses none.
LAYERS = {"frontdoor": 3, "summarizer": 2, "inference": 1, "tenants": 0}
# Packages of their own functions: nothing imports them; the idle checker uses the shared
# model layer (its observability and clients), the Studio cleanup and the Studio reaper
# (plain boto3, shipped alone) nothing at all.
APART = {"idle_sleeper": {"inference"}, "studio_cleanup": set(), "studio_reaper": set()}


def _module(path: Path) -> str:
    parts = list(path.relative_to(LAMBDAS).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in LAMBDAS.rglob("*.py") if "__pycache__" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                # `from pkg import mod` imports a module when pkg.mod is one.
                targets.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


GRAPH = _graph()


def test_the_graph_is_read():
    assert "frontdoor.api" in GRAPH and "summarizer.mapreduce" in GRAPH and "inference.runtime" in GRAPH
    assert "inference.errors" in GRAPH["inference.runtime"]
    assert "summarizer.errors" in GRAPH["frontdoor.api"]


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_arrow_runs_against_frontdoor_summarizer_inference(module):
    top = module.split(".")[0]
    wrong = []
    for target in sorted(GRAPH[module]):
        other = target.split(".")[0]
        if other == top:
            continue
        if other in APART or (top in APART and other not in APART[top]):
            wrong.append(target)
        elif top in LAYERS and other in LAYERS and LAYERS[other] > LAYERS[top]:
            wrong.append(target)
    assert not wrong, f"{module} imports {wrong}: the order is frontdoor -> summarizer -> inference"


def test_no_file_level_import_cycle():
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(GRAPH):
        if node not in state:
            cycle = visit(node)
            assert cycle is None, " -> ".join(cycle)


def test_a_planted_back_arrow_and_cycle_are_caught(tmp_path, monkeypatch):
    """The checks can fail: an inference module importing the front door is reported."""
    graph = {k: set(v) for k, v in GRAPH.items()}
    graph["inference.catalog"].add("frontdoor.api")
    monkeypatch.setitem(globals(), "GRAPH", graph)
    with pytest.raises(AssertionError, match="frontdoor.api"):
        test_no_arrow_runs_against_frontdoor_summarizer_inference("inference.catalog")
    with pytest.raises(AssertionError, match="inference.catalog"):
        test_no_file_level_import_cycle()
