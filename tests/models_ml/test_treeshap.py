"""The tabled TreeSHAP (models_ml/treeshap.py) gives XGBoost's own ``pred_contribs``: on rows with missing values,
unseen and missing levels, categorical splits and features split twice on a path; only the first ``n_rounds``
trees count; models it cannot table keep the library's values exactly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from models_ml_synth import make_features

from models_ml import treeshap
from models_ml.data import FeatureSchema, FeatureSpec
from models_ml.families import Candidate, FitContext, default_params, fit_candidate
from models_ml.families.boosted import BoostedModel
from models_ml.settings import PROFILES

TYPES = {"code_gender": "categorical", "name_family_status": "categorical", "name_education_type": "categorical",
         "flag_own_car": "boolean"}


def _fit(df: pd.DataFrame, **params) -> tuple[BoostedModel, FeatureSchema, pd.DataFrame]:
    schema = FeatureSchema(tuple(FeatureSpec(c, TYPES.get(c, "numeric"))  # type: ignore[arg-type]
                                 for c in df.columns if c not in ("sk_id_curr", "target")))
    X, y = schema.prepare(df), df["target"].to_numpy()
    ctx = FitContext(schema, PROFILES["fast"], seed=0, n_jobs=1, undersample_ratio=0.5)
    candidate = Candidate("xgboost", "none", {**default_params("xgboost", len(y), PROFILES["fast"]), **params})
    model = fit_candidate(candidate, X, y, ctx)
    assert isinstance(model, BoostedModel)
    return model, schema, X


def _rows(model: BoostedModel, X: pd.DataFrame) -> np.ndarray:
    """The model's matrix of X, with awkward rows on top: all missing, unseen level codes, missing levels."""
    M = model.encoder.transform(X)
    cats = model.encoder.categorical_indices
    odd = np.repeat(M[:4], 2, axis=0)
    odd[0, :] = np.nan                      # nothing known
    odd[1, cats] = np.nan                   # levels missing
    odd[2, cats] = 250.0                    # codes no split lists
    odd[3, cats] = -1.0                     # invalid codes
    return np.vstack([odd, M])


@pytest.fixture(scope="module")
def deep() -> tuple[BoostedModel, np.ndarray]:
    model, _, X = _fit(make_features(3000, seed=21), max_depth=4, eta=0.3, min_child_weight=1)
    return model, _rows(model, X)


def test_tabled_contributions_equal_the_library_s(deep) -> None:
    model, M = deep
    table = model.shap_table()
    assert table is not None
    tree_json = json.loads(model.booster.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
    # the cases are really there: categorical splits, both default directions, a feature split twice on a path
    assert any(1 in t["split_type"] for t in tree_json)
    assert {0, 1} <= {d for t in tree_json for d, left in zip(t["default_left"], t["left_children"], strict=True)
                      if left != -1}
    widths = np.diff(table.leaf_pair_start)
    assert widths.max() <= 4 and (widths < 4).mean() > 0.1  # depth 4: some paths repeat a feature
    ours, library = model.predict_matrix(M, contributions=True), model.library_predict(M, contributions=True)
    assert ours.shape == library.shape == (len(M), M.shape[1] + 1)
    np.testing.assert_allclose(ours, library, rtol=0, atol=2e-6)  # the library sums in float32
    assert np.abs(library).max() > 0.5  # contributions of a real size, not all near zero
    margin = np.log(model.predict_matrix(M) / (1 - model.predict_matrix(M)))
    np.testing.assert_allclose(ours.sum(axis=1), margin, rtol=0, atol=2e-5)


def test_rows_are_explained_alone_as_in_a_batch(deep) -> None:
    model, M = deep
    together = model.predict_matrix(M[:20], contributions=True)
    alone = np.vstack([model.predict_matrix(M[i : i + 1], contributions=True) for i in range(20)])
    assert np.array_equal(together, alone)


def test_only_the_model_s_rounds_count() -> None:
    model, _, X = _fit(make_features(1500, seed=22), max_depth=3, eta=0.3)
    assert model.n_rounds > 4
    fewer = BoostedModel("xgboost", model.encoder, model.booster, 4)
    M = _rows(model, X.head(200))
    np.testing.assert_allclose(fewer.predict_matrix(M, contributions=True),
                               fewer.library_predict(M, contributions=True), rtol=0, atol=2e-6)
    assert not np.allclose(fewer.predict_matrix(M, contributions=True), model.predict_matrix(M, contributions=True))


def test_a_model_too_deep_to_table_keeps_the_library_s_values(deep, monkeypatch) -> None:
    """Paths of more distinct features than MAX_PATH_FEATURES (2 here, against the model's 4) are not tabled."""
    model, M = deep
    monkeypatch.setattr(treeshap, "MAX_PATH_FEATURES", 2)
    again = BoostedModel("xgboost", model.encoder, model.booster, model.n_rounds)
    assert again.shap_table() is None
    assert np.array_equal(again.predict_matrix(M, contributions=True), again.library_predict(M, contributions=True))


def test_a_matrix_of_other_columns_is_refused(deep) -> None:
    model, M = deep
    with pytest.raises(ValueError, match=rf"expected a matrix of {M.shape[1]} feature columns"):
        model.shap_table().contributions(M[:, :-1])


def test_the_kernels_compile_where_no_cache_location_is_writable(monkeypatch) -> None:
    """numba refuses ``cache=True`` when neither the package's folder nor a user cache is writable (a read-only
    install): the kernels are then compiled without a disk cache instead of failing the import."""
    def strict_njit(**options):
        if options.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")
        return lambda function: ("compiled", function, options)

    monkeypatch.setattr(treeshap, "njit", strict_njit)
    kernel = treeshap._compiled(nogil=True)(len)
    assert kernel == ("compiled", len, {"nogil": True})
