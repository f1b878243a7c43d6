"""The DuckDB serving file of a Spark build: what lets the API, dashboard and monitoring run unchanged.

After ``python -m warehouse.spark_build`` has published its Parquet tables under HC_SPARK_WAREHOUSE, this
module writes HC_WAREHOUSE as a small DuckDB file that holds no feature rows of its own:

- one view per published table (``applicant_features``, ``int_*``) reading its Parquet folder
  (``read_parquet('<HC_SPARK_WAREHOUSE>/<table>/*.parquet')``), and the ``training_set`` view as the DuckDB
  build defines it;
- the meta tables of a DuckDB build (``meta_feature_sql``, ``meta_feature_dependencies``, ``meta_build_info``):
  the feature SQL is the same dbt project compiled for DuckDB (``dbt compile --target dev`` against these
  views), so the online builder replays DuckDB SQL; the engine parity test proves both dialects compute the
  same features.

So ``make warehouse ENGINE=spark && make train ENGINE=spark && make api`` serves the Spark build. The file is
written in two steps around the Parquet swap: ``prepare`` (views over the new, not yet published folder, dbt
compile) before it, ``publish`` (views re-pointed at the published folder, meta tables, atomic swap onto
HC_WAREHOUSE) after it. A failure in ``prepare`` leaves both the previous Parquet build and HC_WAREHOUSE
untouched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

# dbt parses the project once, later builds reuse it (PartialParseCache)
from warehouse.build import WAREHOUSE_CATALOG, PartialParseCache
from warehouse.dbt_runner import run_dbt
from warehouse.feature_sql import FEATURE_MART, CompiledModel, feature_models, write_meta_tables
from warehouse.settings import WarehouseSettings

SERVING_VIEW = "training_set"  # the dbt view model of the mart's train rows (Spark keeps no folder for it)
STAGING_STAND_IN = "stg_application_train"
RAW_CATALOG = "raw"  # the catalog the compiled staging SQL reads (the online builder creates it in memory)


class SparkServingError(RuntimeError):
    """The DuckDB serving file could not be written; HC_WAREHOUSE is unchanged."""


@dataclass(frozen=True)
class PreparedServing:
    file: Path  # the new serving file, named like HC_WAREHOUSE, inside the build's work folder
    tables: list[str]
    models: list[CompiledModel]
    training_set_sql: str


def _parquet_view(con: duckdb.DuckDBPyConnection, table: str, folder: Path) -> None:
    glob = str(folder / table / "*.parquet").replace("'", "''")
    con.execute(f'create or replace view main."{table}" as select * from read_parquet(\'{glob}\')')


def prepare(settings: WarehouseSettings, parquet_dir: Path, tables: list[str], workdir: Path) -> PreparedServing:
    """Views over ``parquet_dir`` in a new file named like HC_WAREHOUSE, and the project compiled for DuckDB."""
    final = settings.warehouse.expanduser().resolve()
    if final.suffix != ".duckdb":
        raise SparkServingError(f"HC_WAREHOUSE={settings.warehouse} must be a file ending in .duckdb")
    folder = workdir / "serving"
    folder.mkdir()
    new_file = folder / final.name  # the profile attaches it as WAREHOUSE_CATALOG: the compiled SQL names that
    with duckdb.connect(str(new_file)) as con:
        for table in tables:
            _parquet_view(con, table, parquet_dir)
        # int_applications lists the columns of stg_application_train when compiled (columns_of); Spark does not
        # publish staging tables, so a column-only stand-in (its columns are int_applications' minus `dataset`,
        # in the same order) answers that introspection; dropped right after the compile
        con.execute(f'create view main."{STAGING_STAND_IN}" as select * exclude (dataset) from int_applications '
                    "limit 0")
    env = {
        "HC_WAREHOUSE": new_file.name,
        "HC_RAW_DB": ":memory:",  # the on-run-start hook (not run by compile anyway) then reads no CSV
        "HC_DUCKDB_THREADS": str(settings.duckdb_threads),
        "HC_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "HC_DBT_THREADS": str(settings.dbt_threads),
        "DBT_PROFILES_DIR": str(settings.project_dir),
    }
    cache = PartialParseCache(settings.project_dir / "target" / "spark_serving")
    cache.restore_into(folder / "target")
    result = run_dbt("compile", project_dir=settings.project_dir, target_path=folder / "target", cwd=folder,
                     env=env, echo=False, extra_args=["--target", "dev", "--select", f"+{SERVING_VIEW}", "--quiet"])
    cache.save_from(folder / "target")
    with duckdb.connect(str(new_file)) as con:
        con.execute(f'drop view main."{STAGING_STAND_IN}"')
    manifest = result.manifest
    models = feature_models(manifest, FEATURE_MART)
    view = next((n for n in manifest["nodes"].values()
                 if n["resource_type"] == "model" and n["name"] == SERVING_VIEW), None)
    if view is None or not view.get("compiled_code"):
        raise SparkServingError(f"dbt compile gave no SQL for the {SERVING_VIEW} view")
    return PreparedServing(new_file, tables, models, view["compiled_code"])


def publish(prepared: PreparedServing, parquet_dir: Path, final: Path, build_info: dict[str, str]) -> Path:
    """Point the views at the published ``parquet_dir``, add the meta tables, swap the file onto ``final``."""
    info = {**build_info, "catalog": WAREHOUSE_CATALOG, "raw_catalog": RAW_CATALOG, "raw_schema": "main",
            "engine": "spark", "spark_warehouse": str(parquet_dir), "duckdb_version": duckdb.__version__}
    with duckdb.connect(str(prepared.file)) as con:
        for table in prepared.tables:
            _parquet_view(con, table, parquet_dir)
        con.execute(f'create or replace view main."{SERVING_VIEW}" as {prepared.training_set_sql}')
        write_meta_tables(con, prepared.models, {k: str(v) for k, v in info.items()})
        n = con.execute(f"select count(*) from {FEATURE_MART}").fetchone()[0]
        if not n:
            raise SparkServingError(f"{FEATURE_MART} read through {parquet_dir} is empty")
        con.execute("checkpoint")
    stale_wal = final.with_name(final.name + ".wal")
    if stale_wal.exists():
        stale_wal.unlink()
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(prepared.file, final)
    return final
