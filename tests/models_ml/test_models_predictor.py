"""Artifact round trip per family: saved then loaded models give identical probabilities and SHAP values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from models_ml_synth import make_features

from hc_contracts.metadata import build_metadata
from models_ml.data import FeatureSchema, FeatureSpec
from models_ml.errors import ArtifactError
from models_ml.families import Candidate, FitContext, default_params, fit_candidate
from models_ml.predictor import Predictor
from models_ml.settings import PROFILES

TYPES = {"code_gender": "categorical", "name_family_status": "categorical", "name_education_type": "categorical",
         "flag_own_car": "boolean"}


@pytest.fixture(scope="module")
def data() -> tuple[FeatureSchema, pd.DataFrame, np.ndarray]:
    df = make_features(600, seed=5)
    schema = FeatureSchema(tuple(FeatureSpec(c, TYPES.get(c, "numeric"))  # type: ignore[arg-type]
                                 for c in df.columns if c not in ("sk_id_curr", "target")))
    return schema, schema.prepare(df), df["target"].to_numpy()


@pytest.mark.parametrize("family,imbalance", [("lightgbm", "none"), ("xgboost", "class_weight"),
                                              ("logistic_regression", "undersample"),
                                              ("random_forest", "class_weight"), ("dummy", "none")])
def test_round_trip_gives_identical_probabilities_and_shap(data, family: str, imbalance: str,
                                                           tmp_path: Path) -> None:
    schema, X, y = data
    profile = PROFILES["fast"]
    ctx = FitContext(schema, profile, seed=0, n_jobs=1, undersample_ratio=0.5)
    model = fit_candidate(Candidate(family, imbalance, default_params(family, len(y), profile)), X, y, ctx)
    pred = Predictor.from_fitted(model, schema, X)
    written = pred.save(tmp_path)
    assert not any(name.endswith((".pkl", ".pickle", ".joblib")) for name in written)
    loaded = Predictor.load(tmp_path)
    assert np.array_equal(pred.predict_raw(X), loaded.predict_raw(X))
    e1, e2 = pred.explain(X.head(40)), loaded.explain(X.head(40))
    assert np.allclose(e1.values, e2.values, atol=1e-10) and e1.base_value == pytest.approx(e2.base_value)
    assert e1.values.shape == (40, len(schema.features))
    # additivity: base + sum of contributions = the model output on its scale
    raw = pred.predict_raw(X.head(40))
    out = e1.base_value + e1.values.sum(axis=1)
    expected = np.log(raw / (1 - raw)) if e1.output_scale == "log_odds" else raw
    assert np.allclose(out, expected, atol=1e-4)


@pytest.mark.parametrize("imbalance", ["none", "undersample"])
def test_forest_trees_draw_a_share_of_the_rows_actually_fitted(data, imbalance: str, monkeypatch) -> None:
    """The cap on rows per tree applies to what the forest sees: after undersampling, not before."""
    from models_ml import families

    schema, X, y = data
    monkeypatch.setattr(families.forest, "RF_ROWS_PER_TREE", 100)
    ctx = FitContext(schema, PROFILES["fast"], seed=0, n_jobs=1, undersample_ratio=0.5)
    model = fit_candidate(Candidate("random_forest", imbalance, {}), X, y, ctx)
    n_pos = int(y.sum())
    fitted = len(y) if imbalance == "none" else n_pos + int(n_pos / 0.5)
    forest = model.pipeline.named_steps["clf"]
    assert forest.max_samples == pytest.approx(min(0.5, 100 / fitted))
    assert forest.max_samples * fitted == pytest.approx(min(fitted / 2, 100))


def test_linear_shap_sums_one_hot_columns_back_to_their_feature(data) -> None:
    schema, X, y = data
    ctx = FitContext(schema, PROFILES["fast"], seed=0, n_jobs=1, undersample_ratio=0.5)
    model = fit_candidate(Candidate("logistic_regression", "none", {"C": 1.0}), X, y, ctx)
    expl = Predictor.from_fitted(model, schema, X).explain(X)
    j = schema.names.index("name_family_status")
    # rows sharing a level share the categorical feature's contribution
    married = (X["name_family_status"] == "Married").to_numpy()
    assert np.allclose(expl.values[married, j], expl.values[married, j][0])
    # a feature's SHAP values average to ~0 over the training data (interventional, independent features)
    assert abs(expl.values[:, schema.names.index("ext_source_2")].mean()) < 1e-9


def test_loading_refuses_unknown_skops_types(tmp_path: Path) -> None:
    from skops import io as sio

    from models_ml.predictor import load_skops

    sio.dump({"a": Path("x")}, tmp_path / "model.skops")
    with pytest.raises(ArtifactError, match="refusing|Pipeline"):
        load_skops(tmp_path / "model.skops")


def test_loading_an_incomplete_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="preprocessing.json"):
        Predictor.load(tmp_path)


@pytest.mark.parametrize("family", ["lightgbm", "xgboost"])
def test_one_applicant_fast_path_equals_the_frame_path(family: str) -> None:
    """Boosted models score and explain a few rows without a typed DataFrame: same numbers as the frame
    path, including missing and unseen categories, booleans, pandas nullable types and extra columns."""

    df = make_features(600, seed=7)
    model, schema = _scoring_model(family, df)
    rows = _awkward(df.head(12))
    assert model._small_matrix(rows) is not None  # the fast path is taken
    for i in range(len(rows)):
        one = rows.iloc[i : i + 1]
        slow = model._predictor.explain(schema.prepare(one))
        fast = model.explain(one)
        assert np.array_equal(fast.values, slow.values) and fast.base_value == slow.base_value
        assert fast.data.columns.tolist() == slow.data.columns.tolist()
        for name in schema.names:
            a, b = fast.data[name].iloc[0], slow.data[name].iloc[0]
            assert (pd.isna(a) and pd.isna(b)) or a == b, name
        expected = np.clip(model._calibrator.transform(model._predictor.predict_raw(schema.prepare(one))), 0, 1)
        assert np.array_equal(model.predict_proba(one), expected)
    assert np.array_equal(model.predict_proba(rows), np.concatenate([model.predict_proba(rows.iloc[[i]])
                                                                      for i in range(len(rows))]))
    assert model.predict_proba(rows.iloc[:0]).shape == (0,)


def _scoring_model(family: str, df: pd.DataFrame) -> tuple[Any, FeatureSchema]:
    from models_ml.calibration import Calibrator
    from models_ml.registry import ScoringModel

    schema = FeatureSchema(tuple(FeatureSpec(c, TYPES.get(c, "numeric"))  # type: ignore[arg-type]
                                 for c in df.columns if c not in ("sk_id_curr", "target")))
    X, y = schema.prepare(df), df["target"].to_numpy()
    ctx = FitContext(schema, PROFILES["fast"], seed=0, n_jobs=1, undersample_ratio=0.5)
    fitted = fit_candidate(Candidate(family, "none", default_params(family, len(y), PROFILES["fast"])), X, y, ctx)
    meta = build_metadata({"version": "v", "threshold": 0.1, "features": schema.to_list()})
    return ScoringModel(Path("."), meta, Predictor.from_fitted(fitted, schema, X),
                        Calibrator("sigmoid").fit(fitted.predict_raw(X), y)), schema


def _awkward(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows as a warehouse table may hold them: nullable types, a missing flag, an unseen and a missing
    level, an infinite number, a column the model does not use."""
    rows = frame.copy()
    rows["cnt_children"] = rows["cnt_children"].astype("Int64")
    rows["flag_own_car"] = rows["flag_own_car"].astype("boolean")
    rows.loc[rows.index[0], "flag_own_car"] = pd.NA
    rows.loc[rows.index[1], "code_gender"] = "XNA"  # never seen in training
    rows.loc[rows.index[2], ["name_education_type", "ext_source_2"]] = [None, np.inf]
    rows["extra"] = "ignored"
    return rows


@pytest.mark.parametrize("family", ["lightgbm", "xgboost"])
def test_rows_of_an_encoded_table_explain_like_the_rows_themselves(family: str) -> None:
    """`encode_rows` once, then `explain_rows` / `predict_rows` by position (the API's warehouse): exactly the
    values, data and probabilities of `explain` / `predict_proba` on the same rows, whichever chunk (frame or
    small-batch conversion) a row was in."""
    df = make_features(600, seed=7)
    model, schema = _scoring_model(family, df)
    table = _awkward(df.sample(frac=1.0, random_state=3).reset_index(drop=True))
    table.loc[[0, 1, 2, 590, 599], "code_gender"] = ["XNA", None, "F", "XNA", None]
    encoded = model.encode_rows(table, chunk=250)  # chunks of 250, 250 and 100 rows (the small-batch path)
    assert encoded.values.shape == (600, len(schema.names))
    for positions in ([0], [1, 2, 599], [590, 3, 0, 250, 251, 499, 500, 598]):
        got = model.explain_rows(encoded, positions)
        want = model.explain(table.iloc[positions])
        assert np.array_equal(got.values, want.values) and got.base_value == want.base_value
        assert np.array_equal(model.predict_rows(encoded, positions), model.predict_proba(table.iloc[positions]))
        assert got.data.columns.tolist() == schema.names and len(got.data) == len(positions)
        for name in schema.names:
            for a, b in zip(got.data[name], want.data[name], strict=True):
                assert (pd.isna(a) and pd.isna(b)) or (a == b and type(a) is type(b)), (name, a, b)


def test_only_boosted_models_encode_a_table() -> None:
    df = make_features(300, seed=2)
    model, _ = _scoring_model("logistic_regression", df)
    assert model.encode_rows(df) is None


def test_xgboost_predictions_without_names_equal_the_checked_ones(tmp_path: Path) -> None:
    """Predictions skip XGBoost's per-call feature-name check: same numbers as the checked call, and a saved
    booster whose columns are not the encoder's is refused once, at loading, naming the file and column."""
    import json

    import xgboost as xgb

    from models_ml.families.xgboost import feature_types

    df = make_features(400, seed=4)
    model, schema = _scoring_model("xgboost", df)
    fitted = model._predictor.model
    M = fitted.encoder.transform(schema.prepare(_awkward(df.head(40))))
    checked = xgb.DMatrix(M, feature_names=fitted.encoder.feature_names, enable_categorical=True, missing=np.nan,
                          feature_types=feature_types(fitted.encoder, M.shape[1]))
    rounds = (0, fitted.n_rounds)
    assert np.array_equal(fitted.predict_matrix(M), fitted.booster.predict(checked, iteration_range=rounds))
    assert np.array_equal(fitted.library_predict(M, contributions=True),  # predict_matrix's: test_treeshap.py
                          fitted.booster.predict(checked, iteration_range=rounds, pred_contribs=True))

    model._predictor.save(tmp_path)
    assert Predictor.load(tmp_path).model.n_rounds == fitted.n_rounds  # the saved version loads
    prep = json.loads((tmp_path / "preprocessing.json").read_text())
    features = prep["encoder"]["features"]
    features[3], features[4] = features[4], features[3]  # two columns swapped: every prediction would be wrong
    (tmp_path / "preprocessing.json").write_text(json.dumps(prep))
    with pytest.raises(ArtifactError, match=rf"model\.json.*column 3 is '{features[4]['name']}', "
                                            rf"expected '{features[3]['name']}'"):
        Predictor.load(tmp_path)
