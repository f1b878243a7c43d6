"""The DuckDB serving file of a Spark build (warehouse/spark_serving.py), without Spark: the fixture warehouse's
tables written as Parquet folders the way the Spark build publishes them, then ``prepare`` / ``publish``.
(tests/warehouse/test_spark_engine.py checks the same on a real Spark build, and the API on top of it.)"""

from __future__ import annotations

import duckdb
import pytest
from test_online import assert_same_rows, rows_of, warehouse_rows

from warehouse.engine_parity import compare_tables, read_duckdb_table
from warehouse.online import OnlineFeatureBuilder
from warehouse.settings import WarehouseSettings
from warehouse.spark_serving import SparkServingError, prepare, publish


@pytest.fixture(scope="module")
def parquet_build(fixture_warehouse, tmp_path_factory):
    """The fixture warehouse's tables as one Parquet folder per table (what the Spark build publishes)."""
    folder = tmp_path_factory.mktemp("parquet_build") / "spark-warehouse"
    with duckdb.connect(str(fixture_warehouse.path), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where table_name not like 'meta_%' order by 1").fetchall()]
        for table in tables:
            (folder / table).mkdir(parents=True)
            con.execute(f"copy {table} to '{folder / table / 'part-00000.parquet'}' (format parquet)")
    return folder, tables


@pytest.fixture(scope="module")
def serving(parquet_build, tmp_path_factory):
    folder, tables = parquet_build
    root = tmp_path_factory.mktemp("serving")
    work = root / "work"
    work.mkdir()
    prepared = prepare(WarehouseSettings(warehouse=root / "hc.duckdb"), folder, tables, work)
    return publish(prepared, folder, root / "hc.duckdb", {"built_at": "2026-11-29T00:00:00+00:00"})


def test_serving_file_reads_the_parquet_rows_and_replays_duckdb_sql(serving, parquet_build, fixture_warehouse,
                                                                    fixture_tables):
    folder, _ = parquet_build
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        views = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
        info = dict(con.execute("select key, value from meta_build_info").fetchall())
        n_train = con.execute("select count(*) from training_set").fetchone()[0]
        sql = dict(con.execute("select model_name, compiled_sql from meta_feature_sql").fetchall())
    assert tables == {"meta_build_info", "meta_feature_sql", "meta_feature_dependencies"}  # no rows of its own
    assert {"applicant_features", "training_set", "int_applications", "int_bureau_features"} <= views
    assert info["engine"] == "spark" and info["catalog"] == "warehouse" and info["spark_warehouse"] == str(folder)
    assert n_train == 24
    with duckdb.connect(str(fixture_warehouse.path), read_only=True) as con:
        expected_sql = dict(con.execute("select model_name, compiled_sql from meta_feature_sql").fetchall())
    assert list(sql) == list(expected_sql)  # the same models, compiled for DuckDB under the same fixed catalog
    assert sql["int_pos_cash_features"] == expected_sql["int_pos_cash_features"]
    assert '"warehouse".' in sql["int_pos_cash_features"]  # the profile's catalog, whatever the file is named
    parity = compare_tables(read_duckdb_table(fixture_warehouse.path), read_duckdb_table(serving),
                            rtol=0, atol=0)
    assert parity.equal, "\n".join(parity.differences)
    ids = [int(x) for x in fixture_tables["application_train"].SK_ID_CURR.iloc[:4]]
    with OnlineFeatureBuilder.from_warehouse(serving) as builder:
        assert_same_rows(builder.build(rows_of(fixture_tables, ids)), warehouse_rows(serving, ids))


def test_serving_file_needs_a_duckdb_name(parquet_build, tmp_path):
    folder, tables = parquet_build
    with pytest.raises(SparkServingError, match="HC_WAREHOUSE=.*must be a file ending in .duckdb"):
        prepare(WarehouseSettings(warehouse=tmp_path / "hc.db"), folder, tables, tmp_path)
    assert list(tmp_path.iterdir()) == []
