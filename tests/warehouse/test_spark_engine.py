"""The Spark engine (HC_ENGINE=spark) on the fixture data: the dbt project built by dbt-spark matches the
DuckDB build column by column, a failed build keeps the previous one, training on Spark writes the artifact
the API loads, and Spark batch scoring writes the same submission as the single-machine path.

One Spark build of the fixture (local[2], every model and data test) serves the module; marked ``spark``
(deselect with ``-m 'not spark'``) and skipped with the reason when pyspark / dbt-spark / Java 17 are absent.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models_ml.data import load_applicants
from models_ml.registry import load_current
from models_ml.settings import ModelSettings
from models_ml.submission import write_submission
from warehouse.build import WarehouseBuildError
from warehouse.engine_parity import compare_tables, read_duckdb_table, read_parquet_table
from warehouse.settings import WarehouseSettings
from warehouse.spark_settings import SparkSettings, SparkUnavailableError, check_spark_available

try:
    check_spark_available()
    SPARK_MISSING = ""
except SparkUnavailableError as exc:  # the reason is shown in the skip line
    SPARK_MISSING = str(exc)

spark_only = pytest.mark.skipif(bool(SPARK_MISSING), reason=f"Spark cannot run here: {SPARK_MISSING}")
# tiny data: one shuffle partition, two local cores, two XGBoost workers
TEST_SPARK = {"spark_master": "local[2]", "spark_shuffle_partitions": 1, "spark_workers": 2,
              "spark_driver_memory": "1g"}
XGB_TINY = {"min_child_weight": 0.1, "max_depth": 3}  # 24 training rows: let the trees split


def spark_settings(folder: Path) -> SparkSettings:
    return SparkSettings(spark_warehouse=folder, **TEST_SPARK)


@pytest.fixture(scope="module")
def spark_fixture_build(tmp_path_factory, fixture_warehouse):
    from warehouse.spark_build import build_spark_warehouse

    root = tmp_path_factory.mktemp("spark_wh")
    folder = root / "spark-warehouse"
    # HC_WAREHOUSE of a Spark build: the DuckDB serving file (views over the Parquet tables + meta tables)
    settings = WarehouseSettings(raw_dir=fixture_warehouse.raw_dir, warehouse=root / "serving.duckdb")
    report = build_spark_warehouse(settings, spark_settings(folder), echo=False)
    yield report
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()  # the training / scoring tests' session, if any
    if active is not None:
        active.stop()


@pytest.mark.spark
def test_missing_java_is_one_clear_line_and_exit_2(monkeypatch, tmp_path, capsys):
    from warehouse import spark_build

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    with pytest.raises(SparkUnavailableError, match="openjdk-17-jre-headless"):
        check_spark_available()
    monkeypatch.setenv("HC_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.setenv("HC_SPARK_WAREHOUSE", str(tmp_path / "sw"))
    assert spark_build.main(["--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Java 17" in err[0]
    assert not (tmp_path / "sw").exists()


@pytest.mark.spark
@spark_only
def test_bad_raw_value_is_named_before_spark_and_keeps_previous_build(tmp_path, fixture_tables):
    from wh_fixture_data import write_csvs

    from warehouse.spark_build import build_spark_warehouse

    previous = tmp_path / "spark-warehouse"
    (previous / "applicant_features").mkdir(parents=True)
    (previous / "applicant_features" / "part-0.parquet").write_bytes(b"previous build")
    tables = {k: v.copy() for k, v in fixture_tables.items()}
    tables["bureau"]["AMT_CREDIT_SUM"] = tables["bureau"]["AMT_CREDIT_SUM"].astype(object)
    tables["bureau"].loc[tables["bureau"].index[1], "AMT_CREDIT_SUM"] = "12,5"
    raw = write_csvs(tmp_path / "raw", tables)
    with pytest.raises(WarehouseBuildError) as info:
        build_spark_warehouse(WarehouseSettings(raw_dir=raw), spark_settings(previous), echo=False)
    message = str(info.value)
    assert "bureau.csv, column AMT_CREDIT_SUM: value '12,5'" in message
    assert "is not a number (DOUBLE)" in message
    assert "previous Spark warehouse" in message and "unchanged" in message
    assert (previous / "applicant_features" / "part-0.parquet").read_bytes() == b"previous build"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folder left


@pytest.mark.spark
@spark_only
def test_failed_dbt_spark_run_keeps_previous_build(tmp_path, fixture_warehouse, monkeypatch):
    from warehouse import spark_build
    from warehouse.dbt_runner import DbtBuildError

    previous = tmp_path / "spark-warehouse"
    (previous / "applicant_features").mkdir(parents=True)
    (previous / "applicant_features" / "part-0.parquet").write_bytes(b"previous build")
    seen = {}

    def failing_dbt(command, **kwargs):  # dbt-spark wrote part of the tables, then a data test failed
        seen.update(kwargs)
        half = Path(kwargs["env"]["HC_SPARK_BUILD_DIR"]) / "homecredit.db" / "applicant_features"
        half.mkdir(parents=True)
        (half / "part-0.parquet").write_bytes(b"half-written")
        raise DbtBuildError(command, ["test columns_between_applicant_features_...: fail (2 offending rows)"], "")

    monkeypatch.setattr(spark_build, "run_dbt", failing_dbt)
    with pytest.raises(WarehouseBuildError, match="dbt build failed") as info:
        spark_build.build_spark_warehouse(WarehouseSettings(raw_dir=fixture_warehouse.raw_dir),
                                          spark_settings(previous), echo=False)
    assert "columns_between_applicant_features" in str(info.value) and "unchanged" in str(info.value)
    assert seen["extra_args"][:2] == ["--target", "spark"] and seen["env"]["HC_SPARK_MASTER"] == "local[2]"
    assert (previous / "applicant_features" / "part-0.parquet").read_bytes() == b"previous build"
    assert [p.name for p in tmp_path.iterdir()] == ["spark-warehouse"]  # the temporary build folder is gone


@pytest.mark.spark
@spark_only
def test_spark_build_runs_every_test_and_matches_duckdb_column_by_column(spark_fixture_build, fixture_warehouse):
    report = spark_fixture_build
    folder = report.warehouse
    info = json.loads((folder / "_build_info.json").read_text())
    assert info["engine"] == "spark" and "applicant_features" in info["tables"]
    assert not any(t.startswith("stg_") for t in report.tables)  # copies of the CSVs are not published
    assert sorted(p.name for p in (folder / "applicant_features").glob("*.parquet"))  # plain Parquet files
    assert report.n_passed == fixture_warehouse.report.n_passed  # the same models and data tests, all passed
    duck = read_duckdb_table(fixture_warehouse.path)
    spark = read_parquet_table(folder / "applicant_features")
    assert list(spark.columns) == list(duck.columns)
    assert [str(t) for t in spark.dtypes] == [str(t) for t in duck.dtypes]  # same types (incl. NULL-able ints)
    parity = compare_tables(duck, spark, rtol=1e-12, atol=1e-12)
    assert parity.equal, "\n".join(parity.differences)
    assert parity.rows == 30 and parity.columns == len(duck.columns)
    # the comparison itself can fail: one changed value and one NULL are reported by column
    broken = spark.copy()
    broken.loc[0, "credit_income_ratio"] = broken.loc[0, "credit_income_ratio"] + 1e-6
    broken.loc[1, "ext_source_mean"] = np.nan
    found = compare_tables(duck, broken, rtol=1e-12, atol=1e-12).differences
    assert [d.split(":")[0] for d in found] == ["credit_income_ratio", "ext_source_mean"]


SHARED_STEPS = ("calibrate", "choose_threshold", "explain", "package", "promote_version")
SPARK_STEP_CALLS: dict[str, list] = {}  # what the shared steps returned in the module's Spark training run


@pytest.mark.spark
@spark_only
def test_spark_build_writes_a_duckdb_serving_file(spark_fixture_build, fixture_warehouse, fixture_tables):
    """HC_WAREHOUSE after a Spark build: the API, dashboard and monitoring read it as a DuckDB build."""
    import duckdb
    from test_online import assert_same_rows, rows_of, warehouse_rows

    from warehouse.online import OnlineFeatureBuilder

    serving = spark_fixture_build.serving
    assert serving is not None and serving.name == "serving.duckdb" and serving.is_file()
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        info = dict(con.execute("select key, value from meta_build_info").fetchall())
        views = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
        n_train = con.execute("select count(*) from training_set").fetchone()[0]
        sql = dict(con.execute("select model_name, compiled_sql from meta_feature_sql").fetchall())
    assert tables == {"meta_build_info", "meta_feature_sql", "meta_feature_dependencies"}  # rows stay in Parquet
    assert info["engine"] == "spark" and info["catalog"] == "warehouse"
    assert Path(info["spark_warehouse"]) == spark_fixture_build.warehouse
    assert {"applicant_features", "training_set", "int_bureau_features"} <= views
    assert n_train == 24
    # the feature SQL is DuckDB's (the online builder replays it): the same models as the DuckDB build
    with duckdb.connect(str(fixture_warehouse.path), read_only=True) as con:
        duck_models = [r[0] for r in con.execute("select model_name from meta_feature_sql order by run_order").fetchall()]
    assert list(sql) == duck_models and '"warehouse"."main"."int_bureau_features"' in sql["applicant_features"]
    # the rows read through it are the Spark build's, equal to the DuckDB build's
    parity = compare_tables(read_duckdb_table(fixture_warehouse.path), read_duckdb_table(serving), rtol=1e-12,
                            atol=1e-12)
    assert parity.equal, "\n".join(parity.differences)
    # new applications scored against a Spark build: online features equal the Spark-built rows
    ids = [int(x) for x in fixture_tables["application_train"].SK_ID_CURR.iloc[:4]]
    with OnlineFeatureBuilder.from_warehouse(serving) as builder:
        got = builder.build(rows_of(fixture_tables, ids))
    assert_same_rows(got, warehouse_rows(serving, ids))


@pytest.mark.spark
@spark_only
def test_api_serves_a_spark_build(spark_model, spark_fixture_build, fixture_tables):
    """`make warehouse ENGINE=spark && make train ENGINE=spark && make api`: a Spark model scores by id."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import ApiSettings

    artifacts, _ = spark_model
    settings = ApiSettings(warehouse=spark_fixture_build.serving, artifacts=artifacts, api_keys="k1",
                           api_reload_seconds=0.0, api_log_flush_seconds=3600.0, api_log_salt="test-salt")
    train_id = int(fixture_tables["application_train"].SK_ID_CURR.iloc[0])
    with TestClient(create_app(settings)) as client:
        headers = {"X-API-Key": "k1"}
        by_id = client.get(f"/v1/applicants/{train_id}/score", headers=headers)
        assert by_id.status_code == 200, by_id.text
        known = by_id.json()
        assert 0.0 <= known["probability"] <= 1.0 and known["decision"] in ("grant", "refuse")
        assert client.get("/v1/applicants/999999999/score", headers=headers).status_code == 404
        # new applications: the fixture's random rows break the API's plausibility bounds, so posting them is a
        # 422; the serving file's online features are checked against the Spark rows in the test above


@pytest.fixture(scope="module")
def spark_model(spark_fixture_build, tmp_path_factory):
    """One Spark training run; the shared training steps it calls are recorded (name -> returned value)."""
    import models_ml.spark.train as spark_train
    from models_ml import steps

    calls = SPARK_STEP_CALLS
    calls.clear()

    def spy(name):
        real = getattr(steps, name)

        def wrapper(*args, **kwargs):
            out = real(*args, **kwargs)
            calls.setdefault(name, []).append(out)
            return out
        return wrapper

    artifacts = tmp_path_factory.mktemp("spark_artifacts")
    settings = ModelSettings(artifacts=artifacts, train_profile="fast", n_folds=2)
    with pytest.MonkeyPatch.context() as mp:
        for name in SHARED_STEPS:
            mp.setattr(spark_train, name, spy(name))
        path = spark_train.run_spark_training(settings, spark_settings(spark_fixture_build.warehouse),
                                              xgb_overrides=XGB_TINY)
    return artifacts, path


@pytest.mark.spark
@spark_only
def test_spark_trainer_composes_the_shared_training_steps(spark_model):
    """The business cost, calibration, threshold, explanation and packaging exist once (models_ml.steps): the
    Spark trainer calls those functions, and what they return is what its model version holds."""
    import ast
    import inspect

    import models_ml.spark.train as spark_train

    artifacts, path = spark_model
    calls = SPARK_STEP_CALLS
    assert {k: len(v) for k, v in calls.items()} == dict.fromkeys(SHARED_STEPS, 1)
    meta = json.loads((path / "metadata.json").read_text())
    decision, calibrated, explained = calls["choose_threshold"][0], calls["calibrate"][0], calls["explain"][0]
    assert meta["threshold"] == decision.threshold and meta["risk_bands"] == decision.bands
    assert meta["calibration"]["method"] == calibrated.calibrator.method
    assert meta["global_importance"] == explained.importance
    assert calls["package"][0] == path and calls["promote_version"][0] is True
    # no private helper of the single-machine trainer is borrowed any more
    tree = ast.parse(inspect.getsource(spark_train))
    borrowed = [a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module == "models_ml.train" for a in node.names]
    assert borrowed and not [b for b in borrowed if b.startswith("_")]


@pytest.mark.spark
@spark_only
def test_spark_training_writes_the_version_the_api_loads(spark_model, fixture_warehouse):
    artifacts, path = spark_model
    meta = json.loads((path / "metadata.json").read_text())
    assert meta["engine"] == "spark" and meta["model_family"] == "xgboost"
    assert meta["spark"]["trainer"] == "xgboost.spark.SparkXGBClassifier"
    for name in ("model.json", "preprocessing.json", "calibration.json", "model_card.md", "reference_sample.parquet"):
        assert (path / name).is_file(), name
    assert 0.0 <= meta["threshold"] <= 1.0 and meta["data"]["rows"] == 24
    model = load_current(artifacts)  # what the API loads at start-up
    assert model.version == meta["version"]
    test_rows = load_applicants(fixture_warehouse.path, dataset="test")  # the DuckDB warehouse's rows
    proba = model.predict_proba(test_rows)
    assert proba.shape == (6,) and np.all((proba >= 0) & (proba <= 1))
    assert len(np.unique(np.round(proba, 9))) > 1  # a real model, not a constant
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(str(path / "model.json"))
    assert booster.feature_names == model.feature_names  # same names and order as the single-machine schema
    # protected attributes (default CODE_GENDER) never feed a Spark-trained model either
    assert "code_gender" not in model.feature_names
    assert meta["protected_attributes"]["attributes"] == ["code_gender"]
    assert meta["protected_attributes"]["features_left_out"] == {"code_gender": "code_gender"}
    explained = model.explain(test_rows.iloc[:2])  # the API's explanation path works on this model too
    assert np.isfinite(np.asarray(explained.values)).all()


@pytest.mark.spark
@spark_only
def test_spark_submission_equals_single_machine_submission(spark_model, spark_fixture_build, fixture_warehouse,
                                                           tmp_path):
    from models_ml.spark.submission import write_spark_submission

    artifacts, _ = spark_model
    single, n_single = write_submission(ModelSettings(warehouse=fixture_warehouse.path, artifacts=artifacts),
                                        tmp_path / "single.csv")
    on_spark, n_spark = write_spark_submission(ModelSettings(artifacts=artifacts),
                                               spark_settings(spark_fixture_build.warehouse), tmp_path / "spark.csv")
    assert n_spark == n_single == 6
    assert on_spark.read_text() == single.read_text()
    sub = pd.read_csv(on_spark)
    assert list(sub.columns) == ["SK_ID_CURR", "TARGET"] and sub["SK_ID_CURR"].is_monotonic_increasing
    assert sub["TARGET"].nunique() > 1


@pytest.mark.spark
@spark_only
def test_spark_training_without_a_spark_warehouse_names_the_folder(tmp_path):
    from models_ml.errors import WarehouseError
    from models_ml.spark.train import run_spark_training

    with pytest.raises(WarehouseError, match="make warehouse ENGINE=spark"):
        run_spark_training(ModelSettings(artifacts=tmp_path / "a", train_profile="fast", n_folds=2),
                           spark_settings(tmp_path / "missing"))
    assert not (tmp_path / "a").exists()
    shutil.rmtree(tmp_path, ignore_errors=True)
