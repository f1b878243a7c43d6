"""The tabled TreeSHAP (models_ml/treeshap.py) gives XGBoost's ``pred_contribs`` and LightGBM's ``pred_contrib``: on
rows with missing values, unseen, invalid and missing levels, categorical splits, both default directions, LightGBM's
missing types and features split twice on a path; only the first ``n_rounds`` trees count; models it cannot table
keep the library's values exactly."""

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


def _fit(df: pd.DataFrame, family: str = "xgboost", **params) -> tuple[BoostedModel, FeatureSchema, pd.DataFrame]:
    schema = FeatureSchema(tuple(FeatureSpec(c, TYPES.get(c, "numeric"))  # type: ignore[arg-type]
                                 for c in df.columns if c not in ("sk_id_curr", "target")))
    X, y = schema.prepare(df), df["target"].to_numpy()
    ctx = FitContext(schema, PROFILES["fast"], seed=0, n_jobs=1, undersample_ratio=0.5)
    candidate = Candidate(family, "none", {**default_params(family, len(y), PROFILES["fast"]), **params})
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


DEEP = {"xgboost": {"max_depth": 4, "eta": 0.3, "min_child_weight": 1},
        "lightgbm": {"num_leaves": 12, "max_depth": 4, "learning_rate": 0.3, "min_child_samples": 5,
                     "cat_smooth": 1, "min_data_per_group": 5}}


@pytest.fixture(scope="module", params=sorted(DEEP))
def deep(request) -> tuple[BoostedModel, np.ndarray]:
    df = make_features(3000, seed=21)
    df.loc[df.index[::7], "amt_income_total"] = 0.0  # zeros: LightGBM's missing type Zero, if it picks it
    model, _, X = _fit(df, request.param, **DEEP[request.param])
    return model, _rows(model, X)


def _splits(model: BoostedModel) -> list[dict]:
    """Every split node of the model as {categorical, default_left, missing}."""
    if model.family == "xgboost":
        trees = json.loads(model.booster.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
        return [{"categorical": t["split_type"][n] == 1, "default_left": bool(t["default_left"][n]), "missing": None}
                for t in trees for n in range(len(t["left_children"])) if t["left_children"][n] != -1]
    out = []
    stack = [t["tree_structure"] for t in model.booster.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if "leaf_value" not in node:
            out.append({"categorical": node["decision_type"] == "==", "default_left": node["default_left"],
                        "missing": node["missing_type"]})
            stack += [node["left_child"], node["right_child"]]
    return out


def test_tabled_contributions_equal_the_library_s(deep) -> None:
    model, M = deep
    table = model.shap_table()
    assert table is not None
    # the cases are really there: categorical splits, both default directions, a feature split twice on a path
    splits = _splits(model)
    assert any(s["categorical"] for s in splits)
    assert {s["default_left"] for s in splits if not s["categorical"]} == {True, False}
    if model.family == "lightgbm":
        assert {"None", "NaN"} <= {s["missing"] for s in splits}
    widths = np.diff(table.leaf_pair_start)
    assert widths.max() <= 4 and (widths < 4).mean() > 0.1  # depth 4: some paths repeat a feature
    ours, library = model.predict_matrix(M, contributions=True), model.library_predict(M, contributions=True)
    assert ours.shape == library.shape == (len(M), M.shape[1] + 1)
    np.testing.assert_allclose(ours, library, rtol=0, atol=2e-6)  # XGBoost sums in float32
    assert np.abs(library).max() > 0.5  # contributions of a real size, not all near zero
    margin = np.log(model.predict_matrix(M) / (1 - model.predict_matrix(M)))
    np.testing.assert_allclose(ours.sum(axis=1), margin, rtol=0, atol=2e-5)


def test_long_paths_are_tabled_exactly() -> None:
    """Leaf-wise LightGBM trees: paths of up to ~10 distinct features (2^d patterns per leaf)."""
    model, _, X = _fit(make_features(3000, seed=24), "lightgbm", num_leaves=40, min_child_samples=3,
                       learning_rate=0.3, feature_fraction=1.0)
    table = model.shap_table()
    assert table is not None and np.diff(table.leaf_pair_start).max() >= 7
    M = _rows(model, X.head(300))
    np.testing.assert_allclose(model.predict_matrix(M, contributions=True),
                               model.library_predict(M, contributions=True), rtol=0, atol=1e-9)


def test_rows_are_explained_alone_as_in_a_batch(deep) -> None:
    model, M = deep
    together = model.predict_matrix(M[:20], contributions=True)
    alone = np.vstack([model.predict_matrix(M[i : i + 1], contributions=True) for i in range(20)])
    assert np.array_equal(together, alone)


@pytest.mark.parametrize("family", sorted(DEEP))
def test_only_the_model_s_rounds_count(family: str) -> None:
    model, _, X = _fit(make_features(1500, seed=22), family, **DEEP[family])
    assert model.n_rounds > 4
    fewer = BoostedModel(family, model.encoder, model.booster, 4)
    M = _rows(model, X.head(200))
    np.testing.assert_allclose(fewer.predict_matrix(M, contributions=True),
                               fewer.library_predict(M, contributions=True), rtol=0, atol=2e-6)
    assert not np.allclose(fewer.predict_matrix(M, contributions=True), model.predict_matrix(M, contributions=True))


def test_a_model_too_deep_to_table_keeps_the_library_s_values(deep, monkeypatch) -> None:
    """Paths of more distinct features than MAX_PATH_FEATURES (2 here, against the model's 4) are not tabled."""
    model, M = deep
    monkeypatch.setattr(treeshap, "MAX_PATH_FEATURES", 2)
    again = BoostedModel(model.family, model.encoder, model.booster, model.n_rounds)
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


def test_models_whose_trees_the_tables_cannot_hold_are_not_tabled() -> None:
    """Linear-leaf LightGBM trees and multi-class XGBoost models keep the library's TreeSHAP."""
    import lightgbm as lgb
    import xgboost as xgb

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] > 0).astype(int)
    plain = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 4}, lgb.Dataset(X, y), 3)
    linear = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 4, "linear_tree": True},
                       lgb.Dataset(X, y), 3)
    assert treeshap.from_lightgbm_dump(plain.dump_model(), None, 3, 0.0) is not None
    assert treeshap.from_lightgbm_dump(linear.dump_model(), None, 3, 0.0) is None
    classes = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 2},
                        xgb.DMatrix(X, label=rng.integers(0, 3, 400)), 3)
    assert treeshap.from_xgboost_json(json.loads(classes.save_raw("json")), None, 3, 0.0) is None


def test_a_table_that_fails_to_build_leaves_the_library_s_values(deep, monkeypatch, caplog) -> None:
    """The table is an optimisation: a failure to build it is logged and the library's TreeSHAP serves."""
    model, M = deep
    again = BoostedModel(model.family, model.encoder, model.booster, model.n_rounds)

    def broken(*args, **kwargs):
        raise KeyError("split_conditions")

    monkeypatch.setattr(type(again._impl), "shap_table", broken)
    with caplog.at_level("WARNING", logger="models_ml.families.boosted"):
        got = again.predict_matrix(M, contributions=True)
    assert np.array_equal(got, again.library_predict(M, contributions=True))
    assert "SHAP table of this" in caplog.text and "KeyError" in caplog.text
