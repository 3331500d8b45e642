"""The package forms layers: no module imports, directly or through others, a module that imports it back
(an import inside a function counts the same). A phase that needs a higher one is handed what it needs
(collect(rows=…), the review table of kinds) instead of importing it."""
from __future__ import annotations

import ast
from pathlib import Path

import perftables

PACKAGE = Path(perftables.__file__).parent


def imports() -> dict[str, set[str]]:
    mods = {p.stem for p in PACKAGE.glob("*.py")}
    graph = {}
    for path in PACKAGE.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("perftables"):
                parts = node.module.split(".")
                deps |= {parts[1]} if len(parts) > 1 else {a.name for a in node.names}
        graph[path.stem] = (deps & mods) - {path.stem}
    return graph


def cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    graph = imports()
    assert len(graph) > 30
    assert cycles(graph) == []


def test_the_detector_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_layers_the_readme_names():
    """The lower layers never reach the phases above them."""
    graph = imports()

    def reach(m, seen=None):
        seen = set() if seen is None else seen
        for d in graph[m]:
            if d not in seen:
                seen.add(d)
                reach(d, seen)
        return seen
    for low in ("value", "cells", "files", "forms", "formcheck", "layout", "read", "parallel"):
        assert not reach(low) & {"extract", "generate", "collect", "review", "summary", "pipeline", "api", "cli"}, low
    assert "generate" not in reach("extract") and "collect" not in reach("generate")
    assert not reach("collect") & {"summary", "pipeline", "api"}
    assert not reach("checks") & {"review", "dept", "selfeval"}
