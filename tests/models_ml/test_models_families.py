"""The model-family interface: every registered family honours it, artifacts written before the families became
a package still load and predict identically, and the per-fold binned-data cache changes no prediction."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from models_ml_synth import make_features

from models_ml.cv import cross_validate, make_folds
from models_ml.data import FeatureSchema, FeatureSpec
from models_ml.errors import ArtifactError
from models_ml.families import (
    Candidate,
    FitContext,
    FoldDataCache,
    default_params,
    describe_families,
    fit_candidate,
    get_family,
    imbalance_strategies,
    registered,
)
from models_ml.predictor import Predictor
from models_ml.settings import FAMILIES, PROFILES

TYPES = {"code_gender": "categorical", "name_family_status": "categorical", "name_education_type": "categorical",
         "flag_own_car": "boolean"}
LEGACY = Path(__file__).parent / "legacy_artifacts"
PROFILE = dataclasses.replace(PROFILES["fast"], rf_trees=5)


def schema_of(df: pd.DataFrame) -> FeatureSchema:
    return FeatureSchema(tuple(FeatureSpec(c, TYPES.get(c, "numeric"))  # type: ignore[arg-type]
                               for c in df.columns if c not in ("sk_id_curr", "target")))


@pytest.fixture(scope="module")
def data() -> tuple[FeatureSchema, pd.DataFrame, np.ndarray]:
    df = make_features(400, seed=3)
    schema = schema_of(df)
    return schema, schema.prepare(df), df["target"].to_numpy()


def test_the_registry_holds_every_family_the_settings_accept() -> None:
    assert set(registered()) == set(FAMILIES)
    with pytest.raises(ValueError, match="unknown model family 'catboost'"):
        get_family("catboost")
    described = {d["family"]: d for d in describe_families()}
    assert described["lightgbm"]["pooled_early_stopping"] is True
    assert described["scorecard"]["output_scale"] == "points"
    assert described["logistic_regression"]["search_space"] == {"C": [0.001, 0.003, 0.03, 0.1]}
    assert imbalance_strategies("dummy") == ["none"] and imbalance_strategies("xgboost") == [
        "none", "class_weight", "undersample"]


@pytest.mark.trains
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_fits_predicts_explains_saves_and_loads(data, family: str, tmp_path: Path) -> None:
    schema, X, y = data
    impl = get_family(family)
    ctx = FitContext(schema, PROFILE, seed=0, n_jobs=1, undersample_ratio=0.5)
    imbalance = impl.imbalance_strategies[min(1, len(impl.imbalance_strategies) - 1)]  # class_weight if any
    model = fit_candidate(Candidate(family, imbalance, default_params(family, len(y), PROFILE)), X, y, ctx)
    assert model.family == family
    raw = model.predict_raw(X)
    assert raw.shape == (len(y),) and np.all((raw >= 0) & (raw <= 1))
    if family != "dummy":  # a real model ranks the synthetic defaulters above the others
        from sklearn.metrics import roc_auc_score

        assert roc_auc_score(y, raw) > 0.6
    pred = Predictor.from_fitted(model, schema, X)
    expl = pred.explain(X.head(30))
    assert expl.values.shape == (30, len(schema.names)) and expl.output_scale == impl.output_scale
    out = expl.base_value + expl.values.sum(axis=1)  # contributions add up to the model output on its scale
    r = raw[:30]
    if impl.output_scale == "log_odds":
        assert np.allclose(out, np.log(r / (1 - r)), atol=1e-4)
    elif impl.output_scale == "probability":
        assert np.allclose(out, r, atol=1e-4)
    written = pred.save(tmp_path)
    assert "preprocessing.json" in written and all((tmp_path / f).is_file() for f in written)
    assert not any(f.endswith((".pkl", ".pickle", ".joblib")) for f in written)
    loaded = Predictor.load(tmp_path)
    assert loaded.family == family and loaded.output_scale == impl.output_scale
    assert np.array_equal(loaded.predict_raw(X), raw)
    assert np.allclose(loaded.explain(X.head(30)).values, expl.values, rtol=0, atol=1e-12)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_artifacts_written_before_the_family_package_load_and_predict_identically(family: str) -> None:
    """tests/models_ml/legacy_artifacts/<family>: written by commit 8da5712 (make_legacy.py there)."""
    expected = json.loads((LEGACY / family / "expected.json").read_text())
    rows = schema_of(make_features(40, seed=11)).prepare(make_features(40, seed=11))
    loaded = Predictor.load(LEGACY / family)
    assert np.array_equal(loaded.predict_raw(rows), np.asarray(expected["raw"]))
    expl = loaded.explain(rows)
    # XGBoost's SHAP values now come from the tabled TreeSHAP: the library's up to its float32 rounding
    # (tests/models_ml/test_treeshap.py); the others' are still the library's own, to the bit
    tolerance = 1e-6 if family == "xgboost" else 1e-12
    assert np.allclose(expl.values, np.asarray(expected["shap"]), rtol=0, atol=tolerance)
    assert expl.base_value == pytest.approx(expected["base_value"], abs=1e-12)
    assert expl.output_scale == expected["output_scale"]


def test_a_model_directory_naming_an_unknown_family_is_a_clear_error(tmp_path: Path) -> None:
    shutil.copytree(LEGACY / "lightgbm", tmp_path / "v")
    prep = json.loads((tmp_path / "v" / "preprocessing.json").read_text())
    (tmp_path / "v" / "preprocessing.json").write_text(json.dumps({**prep, "family": "catboost"}))
    with pytest.raises(ArtifactError, match=r"preprocessing.json is malformed.*unknown model family 'catboost'"):
        Predictor.load(tmp_path / "v")
    (tmp_path / "v" / "preprocessing.json").write_text(json.dumps({k: v for k, v in prep.items() if k != "encoder"}))
    with pytest.raises(ArtifactError, match="encoder or n_rounds of the lightgbm model"):
        Predictor.load(tmp_path / "v")


@pytest.mark.trains
@pytest.mark.parametrize("family", ["lightgbm", "xgboost"])
def test_the_binned_data_cache_gives_the_predictions_of_fits_without_it(family: str) -> None:
    df = make_features(1000, seed=4)
    schema = schema_of(df)
    X, y = schema.prepare(df), df["target"].to_numpy()
    folds = make_folds(y, 3, 0)
    cached = FitContext(schema, PROFILE, seed=0, n_jobs=1, undersample_ratio=0.5, monotone="auto")
    uncached = dataclasses.replace(cached, data_cache=None)
    cache = cached.data_cache
    assert isinstance(cache, FoldDataCache)
    params = default_params(family, len(y), PROFILE)
    trials = [Candidate(family, s, params) for s in imbalance_strategies(family)]
    # a tuning trial (LightGBM's min_child_samples shapes its binned data: that one gets its own entries)
    space = {k: v[0] for k, v in get_family(family).search_space.items() if k != "min_child_samples"}
    trials.append(Candidate(family, "none", {**params, **space}))
    for cand in trials:
        with_cache = cross_validate(cand, X, y, folds, cached)
        without = cross_validate(cand, X, y, folds, uncached)
        assert np.array_equal(with_cache.oof, without.oof), cand
        assert with_cache.n_rounds == without.n_rounds
    # 3 folds binned once for early stopping and once for the refit on whole folds (small data); the other
    # candidates and the tuning trial reuse them
    assert cache.misses == 6 and cache.hits == 6 * (len(trials) - 1)
    # the final fit (exact rounds on every row) is fitted and predicts like an uncached one too
    final = fit_candidate(trials[1], X, y, cached, n_rounds=20)
    assert np.array_equal(final.predict_raw(X), fit_candidate(trials[1], X, y, uncached, n_rounds=20).predict_raw(X))


@pytest.mark.trains
def test_a_new_family_is_one_class_and_one_registration(data, tmp_path: Path, monkeypatch) -> None:
    """Nothing else changes: cross-validation, the predictor's save / load / explain work for it."""
    from models_ml.families import base
    from models_ml.families.logistic import LogisticFamily

    class RidgeLogistic(LogisticFamily):
        name = "ridge_logistic"
        default_params = {"C": 1.0}  # noqa: RUF012

    monkeypatch.setitem(base._REGISTRY, "ridge_logistic", RidgeLogistic())
    schema, X, y = data
    ctx = FitContext(schema, PROFILE, seed=0, n_jobs=1, undersample_ratio=0.5)
    cand = Candidate("ridge_logistic", "none", default_params("ridge_logistic", len(y), PROFILE))
    res = cross_validate(cand, X, y, make_folds(y, 3, 0), ctx)
    assert not np.isnan(res.oof).any() and res.n_rounds == [None, None, None]
    model = fit_candidate(cand, X, y, ctx)
    assert model.pipeline.named_steps["clf"].C == 1.0  # type: ignore[attr-defined]
    Predictor.from_fitted(model, schema, X).save(tmp_path)
    loaded = Predictor.load(tmp_path)
    assert loaded.family == "ridge_logistic" and np.array_equal(loaded.predict_raw(X), model.predict_raw(X))


def test_the_native_matrix_of_a_large_frame_is_the_one_of_its_small_pieces(data) -> None:
    """Above 256 rows the numeric columns are converted one by one (no copy of the frame's numeric block); below,
    in one block (online scoring). Both give the same matrix, in float32 for training and float64 for scoring."""
    from models_ml.preprocessing import NativeEncoder

    schema, X, _ = data
    X = X.copy()
    X.iloc[::7, 0] = np.nan  # missing values go through both paths too
    encoder = NativeEncoder(schema).fit(X)
    for dtype in (np.float32, np.float64):
        whole = encoder.transform(X, dtype=dtype)
        pieces = np.vstack([encoder.transform(X.iloc[i:i + 100], dtype=dtype) for i in range(0, len(X), 100)])
        assert len(X) > 256 and whole.dtype == dtype and whole.shape == (len(X), len(schema.features))
        np.testing.assert_array_equal(whole, pieces)
        assert np.isnan(whole[::7, 0]).all() and not np.isnan(whole[1::7, 0]).any()
