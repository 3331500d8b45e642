"""The house: the package is layered (core < forms < model < io < review < cycle < outputs | mail < api < cli),
a module imports only its own package or lower ones — import-linter's contract in setup.cfg, checked here and
in .ci/run — and no module imports, directly or through others, a module that imports it back (an import
inside a function counts the same)."""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import perftables

PACKAGE = Path(perftables.__file__).parent
ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["core", "forms", "model", "io", "review", "cycle", "outputs", "mail", "web", "api", "cli"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Module (dotted, under perftables) → the package's modules it imports."""
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for mod, path in paths.items():
        base = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                anchor = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(anchor + (node.module.split(".") if node.module else []))
            elif (node.module or "").startswith("perftables"):
                target = node.module[len("perftables."):] if "." in node.module else ""
            else:
                continue
            for cand in [target] + [f"{target}.{a.name}".strip(".") for a in node.names]:
                if cand in paths:
                    deps.add(cand)
        graph[mod] = deps - {mod}
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


def lint_imports(cwd: Path, config: Path):
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), str(config), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(cwd)}, timeout=120)


def test_the_layers_contract_is_kept():
    r = lint_imports(ROOT, ROOT / "setup.cfg")
    assert r.returncode == 0 and "1 kept, 0 broken" in r.stdout, r.stdout + r.stderr


def test_the_contract_refuses_an_upward_import(tmp_path):
    """The checker is not a formality: a core module reaching up to the command line breaks the contract."""
    shutil.copytree(PACKAGE, tmp_path / "house", ignore=shutil.ignore_patterns("__pycache__", "templates", "examples"))
    cells = tmp_path / "house" / "core" / "cells.py"
    cells.write_text(cells.read_text(encoding="utf-8") + "\nfrom ..cli import main  # noqa\n", encoding="utf-8")
    config = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    config = config[config.index("[importlinter]"):].replace("perftables", "house")
    (tmp_path / "lint.cfg").write_text(config, encoding="utf-8")
    r = lint_imports(tmp_path, tmp_path / "lint.cfg")
    assert r.returncode != 0 and "house.core.cells -> house.cli" in r.stdout, r.stdout + r.stderr


def test_every_module_lives_in_a_layer():
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == ["__init__.py", "__main__.py"]
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()
                  and p.name not in ("templates", "examples")) == sorted(PACKAGES)


def test_the_api_functions_are_real_functions():
    import inspect
    for name in ("collect", "generate", "publish", "read_summary"):
        fn = getattr(perftables, name)
        assert inspect.isfunction(fn) and fn.__doc__, name
    assert list(inspect.signature(perftables.collect).parameters)[:2] == ["inputs", "roster"]


def test_no_function_is_longer_than_80_lines():
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 80:
                long.append(f"{module_name(path)}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert long == []


def test_every_module_has_tests_that_import_it():
    """Tests mirror the house: each module is imported by a test (its own test file, as a rule), not only reached
    through the command line."""
    tests = Path(__file__).parent
    imported = set()
    for path in tests.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("perftables"):
                imported.add(node.module)
                imported.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names if a.name.startswith("perftables"))
    modules = {"perftables." + module_name(p) for p in PACKAGE.rglob("*.py")
               if p.name not in ("__init__.py", "__main__.py")}
    assert sorted(modules - imported) == []


def _compares_a_kind(node) -> bool:
    """`x == FormKind.A`, `x is not FormKind.B` …: a branch on one form kind."""
    if not isinstance(node, ast.Compare):
        return False
    sides = [node.left, *node.comparators]
    return any(isinstance(s, ast.Attribute) and isinstance(s.value, ast.Name) and s.value.id == "FormKind"
               for s in sides) and any(isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)) for op in node.ops)


def test_no_branch_compares_a_form_kind():
    """What a kind can do is asked of the kind (core.kinds: is_department, projects_from_roster …) or of a
    registry of kinds; no module branches on one kind by name."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        if module_name(path) == "core.kinds":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if _compares_a_kind(node):
                found.append(f"{module_name(path)}:{node.lineno}")
    assert found == []
    assert _compares_a_kind(ast.parse("kind == FormKind.DEPT_TARGET").body[0].value)


def test_long_parameter_lists_are_settings_objects():
    """A function takes at most 11 parameters; more travel as one settings object (api.pipeline.CollectOptions,
    mail.send.SmtpServer, mail.fetch.Mailbox, mail.send.MailJob). A command's function is exempt: click gives it
    one parameter an option."""
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            a = node.args
            n = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
            command = any("click" in ast.unparse(d) or "command" in ast.unparse(d) for d in node.decorator_list)
            if n > 11 and not command:
                long.append(f"{module_name(path)}.{node.name}: {n}")
    assert long == []
