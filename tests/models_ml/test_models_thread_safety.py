"""A loaded model is shared by the API's threads: predicting and explaining concurrently must neither fail
nor change any result (issue 10: XGBoost's thread count was re-set on the shared booster before every
prediction, so a bulk scoring thread and request threads raced -> `XGBoostError need_configuration_`)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from models_ml_synth import make_features

from models_ml.data import FeatureSchema, FeatureSpec
from models_ml.families import Candidate, FitContext, default_params, fit_candidate
from models_ml.predictor import Predictor
from models_ml.settings import PROFILES

TYPES = {"code_gender": "categorical", "name_family_status": "categorical", "name_education_type": "categorical",
         "flag_own_car": "boolean"}
SECONDS = 1.5


@pytest.fixture(scope="module")
def data() -> tuple[FeatureSchema, pd.DataFrame, np.ndarray]:
    df = make_features(2500, seed=7)  # >= 2000 rows: the "large batch" thread setting of boosted models
    schema = FeatureSchema(tuple(FeatureSpec(c, TYPES.get(c, "numeric"))  # type: ignore[arg-type]
                                 for c in df.columns if c not in ("sk_id_curr", "target")))
    return schema, schema.prepare(df), df["target"].to_numpy()


def _loaded(data, family: str, tmp_path: Path) -> Predictor:
    schema, X, y = data
    profile = PROFILES["fast"]
    ctx = FitContext(schema, profile, seed=0, n_jobs=2, undersample_ratio=0.5)
    model = fit_candidate(Candidate(family, "none", default_params(family, len(y), profile)), X, y, ctx)
    Predictor.from_fitted(model, schema, X).save(tmp_path)
    return Predictor.load(tmp_path)


@pytest.mark.parametrize("family", ["xgboost", "lightgbm"])
def test_bulk_and_single_row_predictions_in_parallel_never_fail(data, family: str, tmp_path: Path) -> None:
    _, X, _ = data
    pred = _loaded(data, family, tmp_path)
    expected_all = pred.predict_raw(X)
    expected_rows = {i: pred.explain(X.iloc[i : i + 1]).values for i in range(4)}
    errors: list[str] = []
    mismatches: list[str] = []
    stop = time.monotonic() + SECONDS

    def bulk() -> None:
        while time.monotonic() < stop:
            try:
                if not np.array_equal(pred.predict_raw(X), expected_all):
                    mismatches.append("bulk")
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")

    def single(i: int) -> None:
        while time.monotonic() < stop:
            try:
                row = X.iloc[i : i + 1]
                if pred.predict_raw(row)[0] != expected_all[i]:
                    mismatches.append(f"row {i}")
                if not np.allclose(pred.explain(row).values, expected_rows[i], atol=1e-12):
                    mismatches.append(f"explanation {i}")
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")

    threads = [threading.Thread(target=bulk)] + [threading.Thread(target=single, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, f"{len(errors)} concurrent predictions failed, e.g. {errors[:2]}"
    assert not mismatches, mismatches[:5]


def test_predicting_leaves_the_loaded_xgboost_booster_unchanged(data, tmp_path: Path) -> None:
    _, X, _ = data
    pred = _loaded(data, "xgboost", tmp_path)
    before = pred.model.booster.save_config()
    pred.predict_raw(X)
    pred.predict_raw(X.head(1))
    pred.explain(X.head(3))
    assert pred.model.booster.save_config() == before


def test_forest_explainer_is_built_once_even_under_concurrent_first_use(data, tmp_path: Path,
                                                                        monkeypatch) -> None:
    import shap

    built: list[int] = []
    real = shap.TreeExplainer

    def slow_explainer(*args, **kwargs):
        built.append(1)
        time.sleep(0.05)  # widens the window in which a second thread would build its own
        return real(*args, **kwargs)

    monkeypatch.setattr(shap, "TreeExplainer", slow_explainer)
    _, X, _ = data
    pred = _loaded(data, "random_forest", tmp_path)
    results: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: results.append(pred.explain(X.head(2)).values)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and all(np.array_equal(r, results[0]) for r in results)
    assert len(built) == 1
