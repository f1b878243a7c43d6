"""Package boundaries: the contracts depend on no other package of ours; the API runs without the generator;
packages import each other at module top (no hidden, guarded imports between our own packages)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

OURS = ("hc_contracts", "warehouse", "synthetic", "models_ml", "api", "dashboard", "monitoring")


CONTRACTS = ("hc_contracts.settings", "hc_contracts.layout", "hc_contracts.metadata", "hc_contracts.raw_format",
             "hc_contracts.request_log", "hc_contracts.log_privacy")


def test_the_contracts_import_no_other_package_of_ours(repo_root: Path) -> None:
    code = ("import importlib, sys\n"
            f"for name in {CONTRACTS!r}: importlib.import_module(name)\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(out.stdout.split())
    assert "hc_contracts" in loaded
    assert not loaded & (set(OURS) - {"hc_contracts"})


def _module_imports(repo_root: Path) -> dict[str, set[str]]:
    """``{module: modules of ours it imports}`` (every import statement, at any depth)."""
    graph: dict[str, set[str]] = {}
    for package in OURS:
        for path in (repo_root / package).rglob("*.py"):
            parts = path.relative_to(repo_root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {a.name for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            graph[name] = {m for m in found if m.split(".")[0] in OURS}
    return graph


def test_the_api_does_not_load_the_synthetic_generator(repo_root: Path) -> None:
    """Everything ``import api.main`` can reach through our own imports (the boundary test below keeps them
    all at module top): the modelling, warehouse and contracts packages, never the generator."""
    graph = _module_imports(repo_root)
    seen, todo = set(), ["api.main"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        todo += [m for m in (name, *parents) if m in graph and m not in seen and m != name]
        todo += [m for m in graph.get(name, ()) if m not in seen]
    roots = {m.split(".")[0] for m in seen if m in graph}
    assert {"api", "models_ml", "warehouse", "hc_contracts"} <= roots
    assert "synthetic" not in roots, sorted(m for m in seen if m.startswith("synthetic"))


def _nested_cross_imports(path: Path, package: str) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in top:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                root = name.split(".")[0]
                if root in OURS and root != package:
                    found.append(f"{path}:{node.lineno} imports {name} inside a function or try block")
    return found


def test_packages_import_each_other_at_module_top(repo_root: Path) -> None:
    problems = [p for package in OURS for f in sorted((repo_root / package).rglob("*.py"))
                for p in _nested_cross_imports(f, package)]
    assert problems == []
