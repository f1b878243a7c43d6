"""Build the warehouse: ``python -m warehouse.build`` (what ``make warehouse`` runs).

1. validate HC_RAW_DIR (files, headers, values, application ids) while loading it, typed, into temporary
   DuckDB files, one per table; ``dbt build`` starts as soon as the headers are right, so its start-up (imports,
   parsing) runs beside the load, and each staging model waits for its raw table only
   (``warehouse/dbt_raw_gate.py``): the models and data tests of the tables already loaded run beside the load
   of the others;
2. ``dbt build`` (models + data tests) into a temporary warehouse file, which the profile attaches under the
   fixed catalog name ``warehouse`` (``WAREHOUSE_CATALOG``, whatever HC_WAREHOUSE is called; recorded in
   ``meta_build_info``) with 61,440-row groups; staging models are views over the validated raw tables;
3. drop the staging views, store the compiled feature SQL (``meta_feature_sql``) and build facts
   (``meta_build_info``), check the file is self-contained (no view), checkpoint;
4. swap the new file onto HC_WAREHOUSE atomically. On any failure the previous file is left untouched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from hc_contracts.raw_format import TABLES
from warehouse.build_timings import DbtTimings, StepFigures, StepMeter, dbt_timings
from warehouse.dbt_main import JINJA_CACHE_ENV, JINJA_CACHE_FILE
from warehouse.dbt_runner import DbtBuildError, DbtRun, start_dbt
from warehouse.feature_sql import FEATURE_MART, feature_models, write_meta_tables
from warehouse.raw_gate import failed_file, ready_file
from warehouse.raw_validation import RawDataError, attach_table_files, validate_and_load_tables
from warehouse.settings import WarehouseSettings

SELF_CONTAINED_VIEWS = {"training_set"}  # views over tables of the same file, named without the catalog
RAW_CATALOG = "raw"  # the alias under which the profile attaches the raw tables (sources' database)
WAREHOUSE_CATALOG = "warehouse"  # the alias under which the profile attaches the file dbt builds (profiles.yml)
# the row-group size of that attach (profiles.yml): the finalize step must write with the same, or its checkpoint
# merges every table's row groups back into DuckDB's default 122,880 (a re-write: ~9 CPU s, the file 1.7 GiB)
ROW_GROUP_SIZE = 61440
RAW_GATE = "raw"  # <workdir>/raw/<table>.duckdb, .ready once loaded (dbt, started during the load, waits for it)


class WarehouseBuildError(RuntimeError):
    """The build stopped; the previous HC_WAREHOUSE (if any) is unchanged."""


@dataclass(frozen=True)
class BuildReport:
    warehouse: Path
    seconds: float
    n_applicants: int
    n_train: int
    n_feature_columns: int
    n_passed: int
    warnings: list[str]
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds per build step
    steps: dict[str, StepFigures] = field(default_factory=dict)  # wall, CPU seconds and peak RSS per build step
    slowest_nodes: list[tuple[str, float]] = field(default_factory=list)  # dbt models / tests
    dbt: DbtTimings | None = None  # dbt start-up, each model, the data tests per layer


def _dbt_env(settings: WarehouseSettings, warehouse_file: Path, raw_dir: Path) -> dict[str, str]:
    # paths relative to the work folder dbt runs in (the file there is always <WAREHOUSE_CATALOG>.duckdb): the
    # rendered profile is then the same for every build, which keeps dbt's partial parsing valid between builds
    return {
        "HC_WAREHOUSE": warehouse_file.name,
        "HC_RAW_DB": ":memory:",  # the catalog `raw`: views over <workdir>/raw/<table>.duckdb (macro open_raw_table)
        "HC_RAW_GATE": RAW_GATE,
        "HC_RAW_LAST_TABLE": TABLES[-1],  # loaded last: once there, dbt's queries take every thread (open_raw_table)
        "HC_RAW_DIR": str(raw_dir),
        "HC_DUCKDB_THREADS": str(settings.dbt_duckdb_threads),
        "HC_DUCKDB_LAST_THREADS": str(settings.duckdb_threads),  # applicant_features: the last model, run alone
        "HC_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "HC_DBT_THREADS": str(settings.dbt_threads),
        "DBT_PROFILES_DIR": str(settings.project_dir),
    }


class PartialParseCache:
    """dbt's ``partial_parse.msgpack`` kept between builds (each build has its own target folder).

    dbt re-parses the whole project (~2x the CPU of its start-up) when the rendered profile differs from the one
    the file was written with: one file per profile (the warehouse's name and the resources in ``env``), so
    builds of differently named warehouses (tests, a second warehouse) do not spoil each other's cache."""

    FILE = "partial_parse.msgpack"
    PROFILE_VARS = ("HC_WAREHOUSE", "HC_RAW_DB", "HC_RAW_GATE", "HC_DUCKDB_THREADS", "HC_DUCKDB_MEMORY_LIMIT",
                    "HC_DBT_THREADS", "HC_DUCKDB_LAST_THREADS")

    def __init__(self, folder: Path, env: dict[str, str] | None = None) -> None:
        if env is not None:
            rendered = json.dumps({k: env.get(k, "") for k in self.PROFILE_VARS}, sort_keys=True)
            folder = folder / hashlib.sha256(rendered.encode()).hexdigest()[:16]
        self.folder = folder

    def restore_into(self, target: Path) -> None:
        source = self.folder / self.FILE
        if source.exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / self.FILE)

    def save_from(self, target: Path) -> None:
        produced = target / self.FILE
        if not produced.exists():
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            staging = self.folder / f".{self.FILE}.{os.getpid()}"
            shutil.copy2(produced, staging)
            os.replace(staging, self.folder / self.FILE)
        except OSError:  # a cache only: never fail a build over it
            pass


def _finalize(warehouse_file: Path, manifest: dict, build_info: dict[str, str]) -> tuple[int, int, int]:
    final_catalog = build_info["catalog"]
    models = feature_models(manifest)
    staging_views = sorted(n["name"] for n in manifest["nodes"].values()
                           if n["resource_type"] == "model" and n["name"].startswith("stg_"))
    with duckdb.connect() as con:
        con.execute(f"attach '{_sql_string(warehouse_file)}' as \"{WAREHOUSE_CATALOG}\" "
                    f"(row_group_size {ROW_GROUP_SIZE})")
        con.execute(f'use "{WAREHOUSE_CATALOG}"')
        for view in staging_views:  # views over the temporary raw tables: not part of the final file
            con.execute(f'drop view if exists main."{view}"')
        write_meta_tables(con, models, build_info)
        views = con.execute(
            "select view_name, sql from duckdb_views() where not internal and schema_name = 'main'"
        ).fetchall()
        for name, sql in views:
            if name not in SELF_CONTAINED_VIEWS or f'"{final_catalog}".' in sql or "read_csv" in sql \
                    or f"{RAW_CATALOG}." in sql.lower():
                raise WarehouseBuildError(
                    f"the warehouse would not be self-contained: view {name} refers to a catalog or a file "
                    "(models must be tables, or views naming tables of this file without the catalog)"
                )
        n_all, n_train = con.execute(
            f"select count(*), count(*) filter (where dataset = 'train') from {FEATURE_MART}"
        ).fetchone()
        n_cols = len(con.execute(f"select * from {FEATURE_MART} limit 0").description)
        con.execute("checkpoint")
    return n_all, n_train, n_cols - 3  # minus sk_id_curr, dataset, target


def _swap(new_file: Path, final: Path) -> None:
    stale_wal = final.with_name(final.name + ".wal")
    if stale_wal.exists():  # a WAL left by a crashed writer of the old file must not replay onto the new one
        stale_wal.unlink()
    os.replace(new_file, final)


def build_warehouse(settings: WarehouseSettings | None = None, *, echo: bool = True) -> BuildReport:
    settings = settings or WarehouseSettings()
    started = time.perf_counter()
    raw_dir = settings.raw_dir.expanduser().resolve()
    final = settings.warehouse.expanduser().resolve()
    if final.suffix != ".duckdb":
        raise WarehouseBuildError(f"HC_WAREHOUSE={settings.warehouse} must be a file ending in .duckdb")
    final.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f".{final.stem}.build-", dir=final.parent))
    dbt: DbtRun | None = None
    dbt_started = dt.datetime.now(dt.UTC)
    try:
        new_file = workdir / f"{WAREHOUSE_CATALOG}.duckdb"  # swapped onto `final` (its name is free)
        gate = workdir / RAW_GATE
        gate.mkdir()
        _say(echo, f"validating and loading {raw_dir}")
        meter = StepMeter()
        env = _dbt_env(settings, new_file, raw_dir)
        kept = settings.project_dir / "target" / "warehouse_build"  # what builds keep for the next one
        cache = PartialParseCache(kept, env)
        # Jinja's compiled templates, kept between builds (warehouse.dbt_main.CompiledTemplates)
        env[JINJA_CACHE_ENV] = str(kept / JINJA_CACHE_FILE)
        cache.restore_into(workdir / "target")

        def start_dbt_beside_the_load() -> None:  # once the headers are right: dbt's start-up overlaps the load
            nonlocal dbt, dbt_started
            dbt_started = dt.datetime.now(dt.UTC)
            _say(echo, f"dbt build into {new_file} (each staging model waits for its raw table)")
            # one dbt thread per staging model may be waiting for its raw table: HC_DBT_THREADS more do the work
            threads = settings.dbt_threads + len(TABLES)
            dbt = start_dbt("build", project_dir=settings.project_dir, target_path=workdir / "target", cwd=workdir,
                            env=env, echo=echo, extra_args=["--vars", json.dumps({"staging_materialized": "view"}),
                                                            "--threads", str(threads)],
                            module="warehouse.dbt_main")

        try:
            validate_and_load_tables(raw_dir, gate, threads=settings.duckdb_threads,
                                     memory_limit=settings.load_memory_limit, meter=meter,
                                     on_headers_ok=start_dbt_beside_the_load,
                                     on_table_loaded=lambda table: ready_file(gate, table).touch(),
                                     on_problem=failed_file(gate).touch)
        except BaseException:
            failed_file(gate).touch()  # dbt stops at its gate; terminate() reaps it
            raise
        with meter.step("dbt build"):  # wall: what dbt still had to do once the last raw table was loaded
            assert dbt is not None
            result = dbt.wait()
            dbt = None
            cache.save_from(workdir / "target")
        timings = dbt_timings(result.results, result.manifest, dbt_started)
        with meter.step("finalize and swap"):
            build_info = {
                "catalog": WAREHOUSE_CATALOG,  # what the compiled SQL names (the profile's attach alias)
                "raw_catalog": RAW_CATALOG,
                "raw_schema": "main",
                "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "raw_dir": str(raw_dir),
                "dbt_version": result.manifest["metadata"].get("dbt_version", ""),
                "duckdb_version": duckdb.__version__,
            }
            n_all, n_train, n_cols = _finalize(new_file, result.manifest, build_info)
            _swap(new_file, final)
    except RawDataError as exc:
        raise WarehouseBuildError(f"{exc}\n{_unchanged(final)}") from exc
    except DbtBuildError as exc:
        examples = _failing_test_examples(new_file, workdir / RAW_GATE, exc.failed_results)
        raise WarehouseBuildError(f"{exc}{examples}\n{_unchanged(final)}") from exc
    except WarehouseBuildError as exc:
        raise WarehouseBuildError(f"{exc}\n{_unchanged(final)}") from exc
    finally:
        if dbt is not None:  # the load failed or the build was interrupted: no dbt left running on the folder
            dbt.terminate()
        shutil.rmtree(workdir, ignore_errors=True)
    slowest = sorted(((str(r.get("unique_id", "")).split(".", 2)[-1][:70], float(r.get("execution_time") or 0))
                      for r in result.results), key=lambda x: -x[1])[:12]
    return BuildReport(final, time.perf_counter() - started, n_all, n_train, n_cols,
                       result.count("pass") + result.count("success"), result.warnings(), meter.walls, meter.steps,
                       slowest, timings)


def _failing_test_examples(warehouse_file: Path, gate: Path, failed: list[dict], limit: int = 3) -> str:
    """A few offending rows of each failing data test (they name the column and the value)."""
    lines: list[str] = []
    tests = [r for r in failed if str(r.get("unique_id", "")).startswith("test.") and r.get("compiled_code")]
    if not tests or not warehouse_file.exists():
        return ""
    try:
        with duckdb.connect() as con:  # the warehouse read-only under dbt's catalog name; staging views read `raw`
            con.execute(f"attach '{_sql_string(warehouse_file)}' as \"{WAREHOUSE_CATALOG}\" (read_only)")
            con.execute(f'use "{WAREHOUSE_CATALOG}"')
            con.execute(f"attach ':memory:' as {RAW_CATALOG}")
            attach_table_files(con, gate, TABLES, f"{RAW_CATALOG}.main")
            for result in tests:
                name = result["unique_id"].split(".")[2]
                try:
                    rel = con.sql(f"select * from (\n{result['compiled_code']}\n) as failing limit {limit}")
                    rows = [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]
                except duckdb.Error:
                    continue
                lines += [f"  offending row of {name}: {row}" for row in rows]
    except duckdb.Error:
        return ""
    return ("\n" + "\n".join(lines)) if lines else ""


def _sql_string(path: Path) -> str:
    return str(path).replace("'", "''")


def _unchanged(final: Path) -> str:
    if final.exists():
        return f"The previous warehouse {final} is unchanged."
    return f"No warehouse was written to {final}."


def _say(echo: bool, message: str) -> None:
    if echo:
        print(f"[warehouse] {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate HC_RAW_DIR and build HC_WAREHOUSE with dbt.")
    parser.add_argument("--quiet", action="store_true", help="do not echo dbt's output")
    parser.add_argument("--timings", action="store_true", help="print the time of each step and the slowest nodes")
    args = parser.parse_args(argv)
    try:
        report = build_warehouse(echo=not args.quiet)
    except WarehouseBuildError as exc:
        print(f"[warehouse] build failed: {exc}", file=sys.stderr)
        return 1
    if args.timings:
        print("[warehouse] steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.phases.items()))
        for line in StepMeter.format(report.steps):
            print(f"[warehouse] {line}")
        for line in report.dbt.lines() if report.dbt else []:
            print(f"[warehouse] {line}")
        print("[warehouse] slowest dbt nodes: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.slowest_nodes))
    for warning in report.warnings:
        print(f"[warehouse] warning: {warning}")
    print(
        f"[warehouse] built {report.warehouse} in {report.seconds:.1f} s: {report.n_applicants} applicants "
        f"({report.n_train} train), {report.n_feature_columns} feature columns, {report.n_passed} models/tests "
        f"passed, {len(report.warnings)} warning(s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
