"""The layers point one way: no import cycle in ``aidetect/``, ``aidetect_training/`` or
``aidetect_server/``, and the core imports neither of them.

Imports are read from the source (``ast``), those inside functions included: a lazy
import that closes a circle is still a circle (the run bouncing between two modules).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("aidetect", "aidetect_server", "aidetect_training")


def _modules() -> dict[str, Path]:
    found = {}
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` refers to (``a.b.func`` -> ``a.b``), or None."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{a.name}" for a in node.names]
            for t in targets:
                target = _resolve(t, modules)
                if target and target != mod:
                    graph[mod].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(sorted(scc))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 50  # the walk found the packages
    assert cycles(graph) == []


def test_the_core_does_not_import_backend_or_training() -> None:
    graph = import_graph()
    upward = {
        (m, t)
        for m, targets in graph.items()
        if m.split(".")[0] == "aidetect"
        for t in targets
        if t.split(".")[0] in ("aidetect_server", "aidetect_training")
    }
    assert upward == set()


def test_the_core_does_not_name_them_in_strings_either() -> None:
    """No ``__import__("aidetect_training.cli")`` or
    ``"aidetect_server.app.main:create_app"`` in the core."""
    pattern = re.compile(r"^(aidetect_server|aidetect_training|backend|training)([.:]\w+)+$")
    named = []
    for path in sorted((REPO / "aidetect").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if is_text and pattern.match(node.value):
                named.append(f"{path.relative_to(REPO)}: {node.value}")
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
                named.append(f"{path.relative_to(REPO)}:{node.lineno}: __import__")
    assert named == []


def test_other_parts_register_their_commands_through_entry_points() -> None:
    """pyproject's ``aidetect.commands`` group gives serve, train, ensemble and corpus."""
    import argparse
    import importlib
    import tomllib

    from aidetect.cli import COMMAND_GROUP, build_parser

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    for target in declared[COMMAND_GROUP].values():
        module, _, attr = target.partition(":")
        getattr(importlib.import_module(module), attr)(sub)
    assert {"serve", "train", "ensemble", "corpus"} <= set(sub.choices)
    installed = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    missing = set(sub.choices) - set(installed)
    assert not missing, f"{missing} not registered: reinstall the project (pip install -e .)"
