"""Build the warehouse on Apache Spark: ``python -m warehouse.spark_build`` (``make warehouse ENGINE=spark``).

The same dbt project as ``warehouse.build``, run with dbt-spark (``--target spark``: a local pyspark session,
``method: session``) instead of DuckDB:

1. check that pyspark, dbt-spark and Java 17 are there (else one line saying what to install, exit 2);
2. validate HC_RAW_DIR with the DuckDB checks of ``warehouse.raw_validation`` (same errors: file, column,
   value, expected type) -- before any Spark start;
3. ``dbt build --target spark`` (every model and every data test) into a temporary folder beside
   HC_SPARK_WAREHOUSE; the CSVs are external Spark tables typed from the sources YAML (macro
   ``spark__create_raw_views``), every model a Parquet table;
4. publish one folder per table (``<HC_SPARK_WAREHOUSE>/applicant_features/*.parquet``, ...; the staging
   copies of the CSVs are not published) with ``_build_info.json``, check the feature mart reads back with
   DuckDB, and swap the new folder onto HC_SPARK_WAREHOUSE. A failure at any step leaves the previous
   build untouched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.build import WarehouseBuildError
from warehouse.dbt_runner import DbtBuildError, DbtResult, run_dbt
from warehouse.feature_sql import FEATURE_MART, feature_models
from warehouse.raw_validation import RawDataError, validate_and_load
from warehouse.settings import WarehouseSettings
from warehouse.spark_serving import PreparedServing, SparkServingError
from warehouse.spark_serving import prepare as prepare_serving
from warehouse.spark_serving import publish as publish_serving
from warehouse.spark_settings import SparkSettings, SparkUnavailableError, check_spark_available

DBT_TARGET = "spark"
DBT_SCHEMA = "homecredit"  # the profile's schema: Spark writes <warehouse dir>/homecredit.db/<table>
BUILD_INFO_FILE = "_build_info.json"
# The compiled SQL of the feature models (run order), as the DuckDB build keeps it in meta_feature_sql:
# the trainer reads which features are computed from a protected attribute from it.
FEATURE_SQL_FILE = "_feature_sql.json"
UNPUBLISHED_PREFIXES = ("stg_",)  # 1:1 typed copies of the CSVs: build intermediates only


@dataclass(frozen=True)
class SparkBuildReport:
    warehouse: Path
    seconds: float
    n_applicants: int
    n_train: int
    n_feature_columns: int
    n_passed: int
    tables: list[str]
    warnings: list[str]
    phases: dict[str, float] = field(default_factory=dict)
    serving: Path | None = None  # the DuckDB serving file (HC_WAREHOUSE): views over the Parquet tables


def parquet_glob(folder: Path) -> str:
    """The Parquet files of one published table (what DuckDB's read_parquet / pandas take)."""
    return str(folder / "*.parquet")


def _dbt_env(settings: WarehouseSettings, spark: SparkSettings, build_dir: Path, raw_dir: Path) -> dict[str, str]:
    return {
        "HC_RAW_DIR": str(raw_dir),
        "HC_SPARK_BUILD_DIR": str(build_dir),
        "HC_SPARK_MASTER": spark.spark_master,
        "HC_SPARK_DRIVER_MEMORY": spark.spark_driver_memory,
        "HC_SPARK_SHUFFLE_PARTITIONS": str(spark.spark_shuffle_partitions),
        "DBT_PROFILES_DIR": str(settings.project_dir),
        "PYSPARK_PYTHON": sys.executable,
    }


def _publish(build_dir: Path, publish_dir: Path, build_info: dict[str, str]) -> list[str]:
    """Move the Parquet folder of every non-staging table to ``publish_dir/<table>``."""
    schema_dir = build_dir / f"{DBT_SCHEMA}.db"
    if not schema_dir.is_dir():
        raise WarehouseBuildError(f"dbt-spark wrote no tables under {schema_dir}")
    publish_dir.mkdir(parents=True)
    tables = []
    for folder in sorted(p for p in schema_dir.iterdir() if p.is_dir()):
        if folder.name.startswith(UNPUBLISHED_PREFIXES):
            continue
        if not any(folder.glob("*.parquet")):
            continue  # an empty table still has one Parquet file; anything else is not a table
        shutil.move(str(folder), publish_dir / folder.name)
        tables.append(folder.name)
    if FEATURE_MART not in tables:
        raise WarehouseBuildError(f"the Spark build produced no {FEATURE_MART} table (found: {', '.join(tables)})")
    (publish_dir / BUILD_INFO_FILE).write_text(json.dumps({**build_info, "tables": tables}, indent=1))
    return tables


def _check_mart(publish_dir: Path) -> tuple[int, int, int]:
    """The published feature mart reads back with DuckDB: (applicants, train rows, feature columns)."""
    glob = parquet_glob(publish_dir / FEATURE_MART)
    try:
        with duckdb.connect() as con:
            n_all, n_train = con.execute(
                "select count(*), count(*) filter (where dataset = 'train') from read_parquet(?)", [glob]
            ).fetchone()
            n_cols = len(con.execute("select * from read_parquet(?) limit 0", [glob]).description)
    except duckdb.Error as exc:
        raise WarehouseBuildError(f"the Parquet files of {FEATURE_MART} do not read back with DuckDB: {exc}") from exc
    return n_all, n_train, n_cols - 3  # minus sk_id_curr, dataset, target


def _swap(new_dir: Path, final: Path, trash: Path) -> None:
    """Put ``new_dir`` in place of ``final``; the previous build is kept until the new one is in place."""
    if final.exists():
        os.replace(final, trash)
        try:
            os.replace(new_dir, final)
        except OSError:
            os.replace(trash, final)  # put the previous build back
            raise
    else:
        os.replace(new_dir, final)


def build_spark_warehouse(settings: WarehouseSettings | None = None, spark: SparkSettings | None = None, *,
                          echo: bool = True) -> SparkBuildReport:
    settings = settings or WarehouseSettings()
    spark = spark or SparkSettings()
    check_spark_available()
    started = time.perf_counter()
    raw_dir = settings.raw_dir.expanduser().resolve()
    final = spark.spark_warehouse.expanduser().resolve()
    if final.exists() and not final.is_dir():
        raise WarehouseBuildError(f"HC_SPARK_WAREHOUSE={spark.spark_warehouse} exists and is not a folder")
    final.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f".{final.name}.build-", dir=final.parent))
    phases: dict[str, float] = {}
    try:
        prepared, build_info, result, tables, counts = _build_and_publish(settings, spark, raw_dir, final, workdir,
                                                                          phases, echo)
        tick = time.perf_counter()
        try:
            serving_file = publish_serving(prepared, final, settings.warehouse.expanduser().resolve(), build_info)
        except (SparkServingError, duckdb.Error, OSError) as exc:
            raise WarehouseBuildError(f"the Parquet tables were published to {final}, but the DuckDB serving file "
                                      f"could not be written: {exc}\n{_serving_unchanged(settings)}") from exc
        phases["serving_file"] = time.perf_counter() - tick
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    n_all, n_train, n_cols = counts
    return SparkBuildReport(final, time.perf_counter() - started, n_all, n_train, n_cols,
                            result.count("pass") + result.count("success"), tables, result.warnings(), phases,
                            serving_file)


def _build_and_publish(settings: WarehouseSettings, spark: SparkSettings, raw_dir: Path, final: Path, workdir: Path,
                       phases: dict[str, float], echo: bool
                       ) -> tuple[PreparedServing, dict[str, str], DbtResult, list[str], tuple[int, int, int]]:
    """Validate, dbt build, publish the Parquet folders and prepare the serving file (before the swap)."""
    try:
        _say(echo, f"validating {raw_dir}")
        tick = time.perf_counter()
        check_db = workdir / "raw-check.duckdb"
        validate_and_load(raw_dir, check_db, threads=settings.duckdb_threads,
                          memory_limit=settings.duckdb_memory_limit)
        check_db.unlink()
        phases["validate"], tick = time.perf_counter() - tick, time.perf_counter()
        build_dir = workdir / "spark"
        _say(echo, f"dbt build --target {DBT_TARGET} ({spark.spark_master}) into {build_dir}")
        result = run_dbt("build", project_dir=settings.project_dir, target_path=workdir / "target", cwd=workdir,
                         env=_dbt_env(settings, spark, build_dir, raw_dir), echo=echo,
                         extra_args=["--target", DBT_TARGET, "--vars", json.dumps({"staging_materialized": "table"})])
        phases["dbt_build"], tick = time.perf_counter() - tick, time.perf_counter()
        build_info = {
            "engine": "spark",
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "raw_dir": str(raw_dir),
            "spark_master": spark.spark_master,
            "dbt_version": result.manifest["metadata"].get("dbt_version", ""),
            "pyspark_version": _pyspark_version(),
        }
        new_dir = workdir / "publish"
        tables = _publish(build_dir, new_dir, build_info)
        (new_dir / FEATURE_SQL_FILE).write_text(json.dumps(
            [{"run_order": m.run_order, "model_name": m.model_name, "compiled_sql": m.compiled_sql}
             for m in feature_models(result.manifest)], indent=1))
        n_all, n_train, n_cols = _check_mart(new_dir)
        _say(echo, f"compiling the feature SQL for DuckDB (serving file {settings.warehouse})")
        serving = prepare_serving(settings, new_dir, tables, workdir)
        _swap(new_dir, final, workdir / "previous")
        phases["publish_and_swap"], tick = time.perf_counter() - tick, time.perf_counter()
    except (RawDataError, DbtBuildError, WarehouseBuildError, SparkServingError, duckdb.Error) as exc:
        raise WarehouseBuildError(f"{exc}\n{_unchanged(final)}\n{_serving_unchanged(settings)}") from exc
    return serving, build_info, result, tables, (n_all, n_train, n_cols)


def _pyspark_version() -> str:
    import pyspark

    return pyspark.__version__


def _unchanged(final: Path) -> str:
    if final.exists():
        return f"The previous Spark warehouse {final} is unchanged."
    return f"No Spark warehouse was written to {final}."


def _serving_unchanged(settings: WarehouseSettings) -> str:
    path = settings.warehouse.expanduser().resolve()
    return f"HC_WAREHOUSE {path} is unchanged." if path.exists() else f"No DuckDB serving file was written to {path}."


def _say(echo: bool, message: str) -> None:
    if echo:
        print(f"[warehouse:spark] {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate HC_RAW_DIR and build HC_SPARK_WAREHOUSE with dbt-spark.")
    parser.add_argument("--quiet", action="store_true", help="do not echo dbt's output")
    args = parser.parse_args(argv)
    try:
        report = build_spark_warehouse(echo=not args.quiet)
    except SparkUnavailableError as exc:
        print(f"[warehouse:spark] cannot run: {exc}", file=sys.stderr)
        return 2
    except WarehouseBuildError as exc:
        print(f"[warehouse:spark] build failed: {exc}", file=sys.stderr)
        return 1
    print("[warehouse:spark] steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.phases.items()))
    for warning in report.warnings:
        print(f"[warehouse:spark] warning: {warning}")
    print(
        f"[warehouse:spark] built {report.warehouse} in {report.seconds:.1f} s: {report.n_applicants} applicants "
        f"({report.n_train} train), {report.n_feature_columns} feature columns, {report.n_passed} models/tests "
        f"passed, tables {', '.join(report.tables)}"
    )
    print(f"[warehouse:spark] DuckDB serving file {report.serving} (views over the Parquet tables + the feature SQL "
          "compiled for DuckDB): `make train ENGINE=spark`, `make api`, `make dashboard` read it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
