"""``python -m warehouse.dbt_main <dbt arguments>``: dbt's command line for ``python -m warehouse.build``, with two
costs of dbt's process removed from the end of the build (where nothing else runs: the build waits for dbt to exit).

- **manifest.json**: dbt serialises its whole manifest twice, after parsing and after the run (every column's
  documentation: ~0.3 s each at the build's size). The build reads a few fields of it (which model depends on what,
  the compiled SQL, the names of the sources), so dbt's own ``write_manifest`` is replaced by :func:`write_manifest`,
  which writes those fields only (same file, same JSON layout for them) and only after the run.
- **Python's interpreter teardown**: once dbt has returned, its atexit handlers run (dbt-duckdb's closes the
  database: the checkpoint of the warehouse file), the output is flushed, and the process leaves with ``os._exit``
  instead of tearing down every object of dbt's manifest and modules (~0.5 s).

The exit code is dbt's: 0 success, 1 a model or test failed, 2 dbt itself failed. Other dbt commands (Spark, docs)
keep ``python -m dbt.cli.main``.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
from pathlib import Path
from typing import Any

MANIFEST_FILE = "manifest.json"


def compact_manifest(manifest: Any) -> dict:
    """The parts of dbt's ``manifest.json`` the build reads, from dbt's in-memory ``Manifest``."""
    nodes = {}
    for uid, node in manifest.nodes.items():
        data = {"unique_id": uid, "name": node.name, "resource_type": str(node.resource_type),
                "depends_on": {"nodes": list(getattr(node.depends_on, "nodes", []) or [])}}
        code = getattr(node, "compiled_code", None)
        if code is not None:
            data["compiled_code"] = code
        nodes[uid] = data
    sources = {uid: {"unique_id": uid, "name": source.name, "source_name": source.source_name,
                     "identifier": source.identifier}
               for uid, source in manifest.sources.items()}
    metadata = {"dbt_version": getattr(manifest.metadata, "dbt_version", "")}
    return {"metadata": metadata, "nodes": nodes, "sources": sources}


def write_manifest(manifest: Any, target_path: str, which: str | None = None) -> None:
    """Replaces ``dbt.parser.manifest.write_manifest`` in this process: the compact manifest, after the run only
    (a manifest without compiled SQL is of no use to the build)."""
    if not any(getattr(node, "compiled_code", None) for node in manifest.nodes.values()):
        return
    path = Path(target_path) / MANIFEST_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(compact_manifest(manifest)), encoding="utf-8")


def _patch_dbt() -> None:
    import dbt.parser.manifest
    import dbt.task.runnable

    for module in (dbt.parser.manifest, dbt.task.runnable):
        if hasattr(module, "write_manifest"):
            module.write_manifest = write_manifest


def main(argv: list[str]) -> int:
    _patch_dbt()
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(argv)
    if result.exception is not None:
        print(f"dbt failed: {type(result.exception).__name__}: {result.exception}", file=sys.stderr)
        return 2
    return 0 if result.success else 1


if __name__ == "__main__":
    code = main(sys.argv[1:])
    atexit._run_exitfuncs()  # dbt-duckdb closes the database here (its checkpoint); logging flushes
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
