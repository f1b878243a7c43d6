"""Package boundaries: the contracts depend on no other package of ours; the API runs without the generator;
packages import each other at module top (no hidden, guarded imports between our own packages)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

OURS = ("hc_contracts", "warehouse", "synthetic", "models_ml", "api", "dashboard", "monitoring")


def _loaded_after(statement: str, repo_root: Path) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return set(out.stdout.split())


def test_the_contracts_import_no_other_package_of_ours(repo_root: Path) -> None:
    loaded = _loaded_after("import hc_contracts.settings, hc_contracts.layout, hc_contracts.metadata, "
                           "hc_contracts.raw_format, hc_contracts.request_log, hc_contracts.log_privacy", repo_root)
    assert "hc_contracts" in loaded
    assert not loaded & (set(OURS) - {"hc_contracts"})


@pytest.mark.slow
def test_the_api_does_not_load_the_synthetic_generator(repo_root: Path) -> None:
    loaded = _loaded_after("import api.main", repo_root)
    assert {"api", "models_ml", "warehouse", "hc_contracts"} <= loaded
    assert "synthetic" not in loaded


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
