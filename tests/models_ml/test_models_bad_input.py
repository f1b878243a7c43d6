"""Bad input gives clear errors naming the file, table or column."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from models_ml_synth import fast_settings, make_features, write_warehouse

from models_ml.data import load_training_set
from models_ml.errors import (
    ArtifactError,
    FeatureMismatchError,
    FeatureTypeError,
    TrainingDataError,
    WarehouseError,
)
from models_ml.registry import load_current
from models_ml.train import main as train_main
from models_ml.train import run_training


def test_missing_warehouse_file(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match=r"warehouse file not found: .*nope\.duckdb"):
        load_training_set(tmp_path / "nope.duckdb")


def test_not_a_duckdb_file(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    path.write_text("hello")
    with pytest.raises(WarehouseError, match="cannot open"):
        load_training_set(path)


def test_warehouse_without_training_set(tmp_path: Path) -> None:
    path = write_warehouse(tmp_path / "w.duckdb", make_features(50), with_training_set=False)
    with pytest.raises(WarehouseError, match=r"no table 'training_set' \(found: applicant_features\)"):
        load_training_set(path)


def test_empty_training_set(tmp_path: Path) -> None:
    path = write_warehouse(tmp_path / "w.duckdb", make_features(50).head(0))
    with pytest.raises(TrainingDataError, match="empty"):
        load_training_set(path)


def test_single_class_training_set(tmp_path: Path) -> None:
    df = make_features(80)
    df["target"] = 0
    path = write_warehouse(tmp_path / "w.duckdb", df)
    with pytest.raises(TrainingDataError, match=r"single class \(0 on all 80 rows\)"):
        load_training_set(path)


def test_too_few_defaulters_for_the_folds(tmp_path: Path) -> None:
    df = make_features(80)
    df["target"] = 0
    df.loc[:2, "target"] = 1
    path = write_warehouse(tmp_path / "w.duckdb", df)
    with pytest.raises(TrainingDataError, match="too few rows of one class"):
        load_training_set(path, min_per_class=5)


def test_target_must_be_binary(tmp_path: Path) -> None:
    df = make_features(60)
    df.loc[0, "target"] = 2
    path = write_warehouse(tmp_path / "w.duckdb", df)
    with pytest.raises(TrainingDataError, match="must be 0 or 1"):
        load_training_set(path)


def test_cli_reports_bad_input_and_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = train_main(["--warehouse", str(tmp_path / "missing.duckdb"), "--artifacts", str(tmp_path / "a")])
    assert rc == 2
    assert "warehouse file not found" in capsys.readouterr().out
    assert not (tmp_path / "a" / "models" / "current").exists()


def test_failed_training_writes_nothing(tmp_path: Path) -> None:
    df = make_features(60)
    df["target"] = 1
    path = write_warehouse(tmp_path / "w.duckdb", df)
    with pytest.raises(TrainingDataError):
        run_training(fast_settings(path, tmp_path / "art"))
    assert not (tmp_path / "art" / "models" / "current").exists()


def test_scoring_with_missing_features_names_them(trained_artifacts: Path, small_warehouse: Path) -> None:
    model = load_current(trained_artifacts)
    con = duckdb.connect(str(small_warehouse), read_only=True)
    df = con.execute("select * from applicant_features limit 5").df()
    con.close()
    with pytest.raises(FeatureMismatchError) as err:
        model.predict_proba(df.drop(columns=["ext_source_2", "name_family_status", "code_gender"]))
    # code_gender is a protected attribute: not a model feature, so never asked for
    assert err.value.missing == ["ext_source_2", "name_family_status"]
    assert "ext_source_2" in str(err.value) and "name_family_status" in str(err.value)
    assert model.version in str(err.value)
    with pytest.raises(FeatureMismatchError):
        model.explain(df[["sk_id_curr"]])
    # extra columns are ignored, column order does not matter
    shuffled = df[df.columns[::-1]].assign(extra=1)
    assert np.array_equal(model.predict_proba(shuffled), model.predict_proba(df))


def test_scoring_with_wrong_types(trained_artifacts: Path, small_warehouse: Path) -> None:
    model = load_current(trained_artifacts)
    con = duckdb.connect(str(small_warehouse), read_only=True)
    df = con.execute("select * from applicant_features limit 3").df()
    con.close()
    bad = df.astype({"amt_credit": object})
    bad.loc[0, "amt_credit"] = "a lot"
    with pytest.raises(FeatureTypeError, match="'amt_credit' must be numeric"):
        model.predict_proba(bad)
    bad = df.astype({"flag_own_car": object})
    bad.loc[0, "flag_own_car"] = "maybe"
    with pytest.raises(FeatureTypeError, match="'flag_own_car' must be boolean"):
        model.predict_proba(bad)
    # JSON-like input (strings for numbers, Python booleans, None) is accepted
    as_json = pd.DataFrame(df.astype(object).where(df.notna(), None).to_dict("records"))
    as_json["amt_credit"] = as_json["amt_credit"].astype(str)
    assert np.allclose(model.predict_proba(as_json), model.predict_proba(df))


def test_no_promoted_model(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no promoted model"):
        load_current(tmp_path)
