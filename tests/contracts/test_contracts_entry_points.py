"""Every ``python -m <module>`` entry point defines all it uses before it runs.

A module's ``if __name__ == "__main__":`` block runs when Python reaches it, so a function defined below it
does not exist yet when ``python -m`` runs the module -- while tests that import the module and call its
functions never notice (``python -m models_ml.spark.train`` failed with ``NameError: _feature_sql`` this way
at SCALE=1, with every Spark test green)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "dashboard", "deploy", "hc_contracts", "models_ml", "monitoring", "synthetic", "warehouse", "bench")


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    names = [n for n in (node.test.left, *node.test.comparators) if isinstance(n, ast.Name)]
    consts = [n for n in (node.test.left, *node.test.comparators) if isinstance(n, ast.Constant)]
    return any(n.id == "__name__" for n in names) and any(c.value == "__main__" for c in consts)


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES if (REPO / pkg).is_dir() for p in (REPO / pkg).rglob("*.py")
                  if ".venv" not in p.parts)


def test_the_main_guard_is_the_last_statement_of_every_module() -> None:
    late = []
    for path in _modules():
        body = ast.parse(path.read_text(), filename=str(path)).body
        guards = [i for i, node in enumerate(body) if _is_main_guard(node)]
        if guards and guards[0] + 1 < len(body):
            late.append(f"{path.relative_to(REPO)} (line {body[guards[0] + 1].lineno})")
    assert len(_modules()) > 100  # the scan found the packages
    assert not late, f"statements after `if __name__ == '__main__':` (python -m runs main() before them): {late}"
