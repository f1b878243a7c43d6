"""``python -m warehouse.dbt_main``: dbt for the DuckDB build, with a compact manifest.json and no interpreter
teardown (the build itself is exercised end to end by test_build_fixture / test_bad_input)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from warehouse.dbt_main import compact_manifest, write_manifest
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
