"""The staging models' pre-hook (macro `open_raw_table`): wait for the raw table, attach it, and once the last table the
build loads is there, let dbt's DuckDB run each query on every thread of the build. Rendered with plain Jinja (the
macro's dbt context reduced to what it reads), so no dbt start-up is needed."""

from __future__ import annotations

from pathlib import Path

import jinja2

from hc_contracts.raw_format import TABLES
from warehouse.build import _dbt_env
from warehouse.settings import REPO_ROOT, WarehouseSettings

MACROS = REPO_ROOT / "warehouse" / "macros"


class _Returned(Exception):  # dbt's `return()` ends the macro with a value
    def __init__(self, value: str) -> None:
        self.value = value


def _return(value: str) -> None:
    raise _Returned(value)


def render_open_raw_table(table: str, env: dict[str, str]) -> str:
    source_id = f"source.homecredit.home_credit.{table}"
    source = (MACROS / "create_raw_views.sql").read_text() + (MACROS / "duckdb_threads.sql").read_text()
    template = jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(source + "{{ open_raw_table() }}")
    context = {
        "execute": True,
        "return": _return,
        "env_var": lambda name, default="": env.get(name, default),
        "target": {"type": "duckdb"},
        "model": {"depends_on": {"nodes": [source_id]}},
        "graph": {"sources": {source_id: {"identifier": table, "database": "raw", "schema": "main"}}},
    }
    try:
        return template.render(context)
    except _Returned as returned:
        return returned.value


def test_dbt_takes_every_thread_once_the_last_raw_table_is_loaded(tmp_path: Path) -> None:
    settings = WarehouseSettings(raw_dir=tmp_path, warehouse=tmp_path / "w.duckdb", duckdb_threads=2,
                                 dbt_duckdb_threads=1)
    env = _dbt_env(settings, tmp_path / "w.duckdb", tmp_path)
    assert env["HC_RAW_LAST_TABLE"] == TABLES[-1]  # the build loads TABLES in order: the last one ends the load
    assert env["HC_DUCKDB_THREADS"] == "1" and env["HC_DUCKDB_LAST_THREADS"] == "2"

    last = [s.strip() for s in render_open_raw_table(TABLES[-1], env).split(";\n")]
    assert last[0] == f"select hc_raw_gate('{TABLES[-1]}')"
    assert last[1].startswith(f"attach if not exists 'raw/{TABLES[-1]}.duckdb'")
    assert last[-1] == "set threads = 2"  # after the wait: the CSV load is over, its core is free

    earlier = render_open_raw_table(TABLES[0], env)  # loaded while others still load: one thread per query
    assert f"hc_raw_gate('{TABLES[0]}')" in earlier and "set threads" not in earlier

    assert render_open_raw_table(TABLES[-1], {**env, "HC_RAW_GATE": ""}) == ""  # plain `dbt build`: no hook
