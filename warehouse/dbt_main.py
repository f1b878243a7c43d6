"""``python -m warehouse.dbt_main <dbt arguments>``: dbt's command line for ``python -m warehouse.build``, with
costs of dbt's process removed from the end of the build (where nothing else runs: the build waits for dbt to exit).

- **manifest.json**: dbt serialises its whole manifest twice, after parsing and after the run (every column's
  documentation: ~0.3 s each at the build's size). The build reads a few fields of it (which model depends on what,
  the compiled SQL, the names of the sources), so dbt's own ``write_manifest`` is replaced by :func:`write_manifest`,
  which writes those fields only (same file, same JSON layout for them) and only after the run.
- **per-node SQL files**: dbt writes each node's compiled SQL under ``target/compiled`` and the SQL it ran under
  ``target/run`` (~300 files for the build's ~150 nodes), and ``graph.gpickle`` (every node serialised again). The build
  reads none of them (the compiled SQL comes from ``run_results.json`` and the manifest), and deleting those files
  with the work folder came after dbt, at the very end of the build (~2 ms per file here: ~0.3-0.6 s of wall time).
- **Python's interpreter teardown**: once dbt has returned, its atexit handlers run (dbt-duckdb's closes the
  database: the checkpoint of the warehouse file), the output is flushed, and the process leaves with ``os._exit``
  instead of tearing down every object of dbt's manifest and modules (~0.5 s).

The exit code is dbt's: 0 success, 1 a model or test failed, 2 dbt itself failed. Other dbt commands (Spark, docs)
keep ``python -m dbt.cli.main``.
"""

from __future__ import annotations

import atexit
import json
import marshal
import os
import sys
import threading
from pathlib import Path
from typing import Any

MANIFEST_FILE = "manifest.json"
JINJA_CACHE_ENV = "HC_DBT_JINJA_CACHE"  # the file of CompiledTemplates (set by warehouse.build)
JINJA_CACHE_FILE = "jinja_code.marshal"


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


def _no_file(*args: Any, **kwargs: Any) -> None:
    """Replaces dbt's writers of files the build never reads (see the module's docstring)."""


def _patch_dbt() -> None:
    import dbt.compilation
    import dbt.contracts.graph.nodes
    import dbt.parser.manifest
    import dbt.task.runnable

    for module in (dbt.parser.manifest, dbt.task.runnable):
        if hasattr(module, "write_manifest"):
            module.write_manifest = write_manifest
    dbt.contracts.graph.nodes.ParsedNode.write_node = _no_file  # target/compiled and target/run: 2 files per node
    dbt.compilation.Compiler.write_graph_file = _no_file  # graph.gpickle: every node serialised again


class CompiledTemplates:
    """Jinja's compiled Python code of every template string dbt compiles, kept in a file between builds.

    dbt renders each node's SQL, each test's arguments and every macro it calls from template strings, and Jinja
    parses and compiles each of them into Python code anew in every process (~1.3 CPU s of the build's ~8-9 s of
    dbt Python, whatever the data's size). The code of a string depends only on the string, the environment's class
    and options and the versions of Python and Jinja, which key the entries: a template seen by an earlier build is
    not compiled again. The file is read once and rewritten once at the end when new strings were compiled or some
    were not used (it holds the templates of the last build only: it does not grow as the project changes)."""

    def __init__(self, path: Path) -> None:
        import jinja2

        self.path = path
        self.version = f"{sys.version}|jinja2 {jinja2.__version__}"
        self.codes: dict[tuple, Any] = {}
        self.used: set[tuple] = set()
        self.added = 0
        self._lock = threading.Lock()
        try:
            version, codes = marshal.loads(path.read_bytes())
            if version == self.version and isinstance(codes, dict):
                self.codes = codes
        except (OSError, ValueError, EOFError, TypeError):
            pass

    def install(self) -> None:
        import jinja2

        original = jinja2.Environment.compile
        cache = self

        def compile(env: Any, source: Any, name: str | None = None, filename: str | None = None, raw: bool = False,
                    defer_init: bool = False) -> Any:
            if raw or not isinstance(source, str):
                return original(env, source, name, filename, raw, defer_init)
            key = (_environment_key(env), name, filename, defer_init, source)
            code = cache.codes.get(key)
            cache.used.add(key)
            if code is None:
                code = original(env, source, name, filename, raw, defer_init)
                with cache._lock:
                    cache.codes[key] = code
                    cache.added += 1
            return code

        jinja2.Environment.compile = compile

    def save(self) -> None:
        with self._lock:
            if not self.added and len(self.used) == len(self.codes):
                return
            codes = {key: self.codes[key] for key in self.used}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            staging = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            staging.write_bytes(marshal.dumps((self.version, codes)))
            os.replace(staging, self.path)
        except (OSError, ValueError):  # a cache only: never fail a build over it
            pass


def _environment_key(env: Any) -> tuple:
    """What Jinja's generated code depends on besides the source: the environment's class (sandboxed, native), its
    extensions, its syntax and code-generation options."""
    return (type(env).__module__, type(env).__qualname__, tuple(sorted(env.extensions)), env.optimized, env.is_async,
            env.autoescape if isinstance(env.autoescape, bool) else repr(env.autoescape),
            getattr(env.finalize, "__qualname__", repr(env.finalize)), env.block_start_string, env.block_end_string,
            env.variable_start_string, env.variable_end_string, env.comment_start_string, env.comment_end_string,
            env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks,
            env.newline_sequence, env.keep_trailing_newline)


def main(argv: list[str]) -> int:
    _patch_dbt()
    templates = CompiledTemplates(Path(os.environ[JINJA_CACHE_ENV])) if os.environ.get(JINJA_CACHE_ENV) else None
    if templates is not None:
        templates.install()
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(argv)
    if templates is not None:
        templates.save()
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
