"""``python -m warehouse.dbt_main``: dbt for the DuckDB build, with a compact manifest.json, no per-node SQL files,
Jinja's compiled templates kept between builds and no interpreter teardown (the build itself is exercised end to end by test_build_fixture / test_bad_input)."""

from __future__ import annotations

import json
import marshal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import jinja2
import jinja2.nativetypes
import jinja2.sandbox

from warehouse.dbt_main import CompiledTemplates, _environment_key, compact_manifest, write_manifest
from warehouse.feature_sql import feature_models

REPO = Path(__file__).resolve().parents[2]


def _node(name: str, kind: str, parents: list[str], code: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(name=name, resource_type=kind,
                           depends_on=SimpleNamespace(nodes=parents), compiled_code=code)


def _manifest(compiled: bool = True) -> SimpleNamespace:
    code = (lambda sql: sql) if compiled else (lambda sql: None)
    nodes = {
        "model.p.stg_a": _node("stg_a", "model", ["source.p.raw.A_TABLE"], code("select 1")),
        "model.p.int_a": _node("int_a", "model", ["model.p.stg_a"], code("select 2")),
        "model.p.applicant_features": _node("applicant_features", "model", ["model.p.int_a"], code("select 3")),
        "test.p.not_null_int_a_x": _node("not_null_int_a_x", "test", ["model.p.int_a"], code("select 4")),
    }
    sources = {"source.p.raw.A_TABLE": SimpleNamespace(name="a_table", source_name="raw", identifier="A_TABLE")}
    return SimpleNamespace(nodes=nodes, sources=sources, metadata=SimpleNamespace(dbt_version="1.2.3"))


def test_compact_manifest_keeps_what_the_build_reads(tmp_path):
    write_manifest(_manifest(), str(tmp_path))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["metadata"]["dbt_version"] == "1.2.3"
    assert manifest["nodes"]["test.p.not_null_int_a_x"]["depends_on"]["nodes"] == ["model.p.int_a"]
    models = feature_models(manifest)
    assert [(m.model_name, m.compiled_sql, m.depends_on) for m in models] == [
        ("stg_a", "select 1", ("A_TABLE",)), ("int_a", "select 2", ("stg_a",)),
        ("applicant_features", "select 3", ("int_a",))]
    assert compact_manifest(_manifest())["nodes"]["model.p.stg_a"]["resource_type"] == "model"


def test_no_manifest_before_the_run(tmp_path):
    write_manifest(_manifest(compiled=False), str(tmp_path))  # dbt's write after parsing: nothing compiled yet
    assert not (tmp_path / "manifest.json").exists()


def test_a_dbt_error_exits_with_code_2_and_says_why(tmp_path):
    done = subprocess.run([sys.executable, "-m", "warehouse.dbt_main", "build", "--no-such-option"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "dbt failed" in done.stderr and "no-such-option" in done.stderr


def _render_with(templates: CompiledTemplates, source: str, **context) -> str:
    templates.install()
    try:
        return jinja2.sandbox.SandboxedEnvironment(extensions=["jinja2.ext.do"]).from_string(source).render(**context)
    finally:
        jinja2.Environment.compile = _JINJA_COMPILE


_JINJA_COMPILE = jinja2.Environment.compile


def test_compiled_templates_are_reused_by_the_next_build(tmp_path, monkeypatch):
    path = tmp_path / "cache" / "jinja_code.marshal"
    source = "{% set xs = [] %}{% for i in range(n) %}{% do xs.append(i * 2) %}{% endfor %}{{ xs | join(',') }}"
    first = CompiledTemplates(path)
    assert _render_with(first, source, n=3) == "0,2,4" and first.added == 1
    first.save()
    second = CompiledTemplates(path)  # the next build's process: the code comes from the file, not from Jinja
    compiled: list[str] = []
    monkeypatch.setattr(jinja2.Environment, "_generate", lambda *a, **k: compiled.append("x") or 1 / 0)
    assert _render_with(second, source, n=4) == "0,2,4,6" and second.added == 0 and not compiled
    monkeypatch.undo()
    assert _render_with(second, "{{ 1 + 1 }}") == "2" and second.added == 1
    second.save()
    third = CompiledTemplates(path)
    assert _render_with(third, "{{ 1 + 1 }}") == "2" and third.added == 0
    third.save()  # the first template was not used: the file keeps the last build's templates only
    assert len(CompiledTemplates(path).codes) == 1
    # another environment class or option is another entry (Jinja generates other code for it)
    native = jinja2.nativetypes.NativeEnvironment()
    key_native, key_sandbox = _environment_key(native), _environment_key(jinja2.sandbox.SandboxedEnvironment())
    assert key_native != key_sandbox
    assert _environment_key(jinja2.Environment(trim_blocks=True)) != _environment_key(jinja2.Environment())


def test_compiled_templates_ignore_another_version_or_a_damaged_file(tmp_path):
    path = tmp_path / "jinja_code.marshal"
    path.write_bytes(b"not marshal data")
    assert CompiledTemplates(path).codes == {}
    path.write_bytes(marshal.dumps(("python 2.7|jinja2 0.1", {("k",): compile("1", "<t>", "eval")})))
    assert CompiledTemplates(path).codes == {}
    unchanged = CompiledTemplates(path)
    unchanged.save()  # nothing compiled nor used: the file is left as it is
    assert marshal.loads(path.read_bytes())[0] == "python 2.7|jinja2 0.1"


def test_dbt_writes_no_per_node_sql_files(tmp_path):
    """dbt's compiled / run SQL files and graph.gpickle: the build reads none of them (only run_results.json and the
    compact manifest), and deleting ~310 of them came at the very end of the build."""
    script = ("import dbt.compilation, dbt.contracts.graph.nodes\n"
              "from warehouse.dbt_main import _patch_dbt\n"
              "_patch_dbt()\n"
              "node = dbt.contracts.graph.nodes.ParsedNode.__new__(dbt.contracts.graph.nodes.ParsedNode)\n"
              f"node.write_node({str(tmp_path)!r}, 'target/compiled/x.sql', 'select 1')\n"
              "dbt.compilation.Compiler.write_graph_file(None, None, None)\n")
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=300)
    assert list(tmp_path.iterdir()) == []
