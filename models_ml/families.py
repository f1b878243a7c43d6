"""The compared model families and how each one is fitted under an imbalance strategy.

Linear and forest models are scikit-learn pipelines (imputation, scaling, one-hot); LightGBM and
XGBoost get the native encoder (their own categorical and missing-value handling) and early stopping
on an inner validation split of the training data. Undersampling (imbalanced-learn) only ever touches
the rows a model is fitted on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb
from imblearn.pipeline import Pipeline as ImbPipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from models_ml.data import FeatureSchema
from models_ml.early_stopping import LightGBMCallback, SmoothedStopper, XGBoostCallback
from models_ml.preprocessing import NativeEncoder, make_sklearn_preprocessor
from models_ml.settings import ScorecardConfig, TrainingProfile

BOOSTED = ("lightgbm", "xgboost")
SKLEARN = ("dummy", "logistic_regression", "random_forest")
SCORECARD = "scorecard"  # optbinning points scorecard (models_ml/scorecard.py)


@dataclass(frozen=True)
class Candidate:
    family: str
    imbalance: str = "none"
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.family}/{self.imbalance}"


@dataclass(frozen=True)
class FitContext:
    schema: FeatureSchema
    profile: TrainingProfile
    seed: int
    n_jobs: int
    undersample_ratio: float
    scorecard: ScorecardConfig = ScorecardConfig()
    monotone: str = "off"  # "auto": boosted trees constrained to the clear trends of the training rows


DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "dummy": {},
    "logistic_regression": {"C": 0.01},
    "random_forest": {"min_samples_leaf": 10, "max_features": "sqrt", "max_samples": 0.5, "max_depth": 16},
    "lightgbm": {"num_leaves": 31, "min_child_samples": 100, "feature_fraction": 0.3, "lambda_l2": 10.0,
                 "learning_rate": 0.05},
    "xgboost": {"max_depth": 5, "min_child_weight": 10, "colsample_bytree": 0.3, "reg_lambda": 10.0, "eta": 0.05},
    "scorecard": {},  # configured by ScorecardConfig (binning, screening, scaling), not tuned
}

SEARCH_SPACE: dict[str, dict[str, list[Any]]] = {
    "dummy": {},
    "logistic_regression": {"C": [0.001, 0.003, 0.03, 0.1]},
    "random_forest": {"min_samples_leaf": [3, 10, 25, 50], "max_features": ["sqrt", 0.1, 0.2],
                      "max_depth": [8, 12, 16, None]},
    "lightgbm": {"num_leaves": [4, 7, 15, 31, 63], "min_child_samples": [50, 100, 200],
                 "feature_fraction": [0.1, 0.2, 0.3, 0.5], "lambda_l2": [1.0, 10.0, 30.0]},
    "xgboost": {"max_depth": [2, 3, 4, 6], "min_child_weight": [1, 10, 30],
                "colsample_bytree": [0.1, 0.2, 0.3, 0.5], "reg_lambda": [1.0, 10.0, 30.0]},
    "scorecard": {},
}

INNER_VALIDATION = 0.15  # share of a training fold held out for early stopping
SMALL_DATA = 30_000   # rows: below, shallow trees and a low learning rate generalise best
LARGE_DATA = 150_000  # rows: above, deeper trees and a higher learning rate keep training affordable
RF_ROWS_PER_TREE = 20_000  # a forest's tree draws at most this many rows: bounded cost, little loss
THREAD_SETTINGS = (1, 2)  # threads of a prediction: small batches, large batches (BoostedModel.threads)


def default_params(family: str, n_rows: int, profile: TrainingProfile) -> dict[str, Any]:
    """Starting hyper-parameters scaled with the data size (tuning then explores around them)."""
    p = dict(DEFAULT_PARAMS[family])
    if family == "lightgbm":
        if n_rows < SMALL_DATA:
            p.update(num_leaves=4, learning_rate=0.02)
        elif n_rows < LARGE_DATA:
            p.update(num_leaves=15, learning_rate=0.05)
    elif family == "xgboost":
        if n_rows < SMALL_DATA:
            p.update(max_depth=2, eta=0.02)
        elif n_rows < LARGE_DATA:
            p.update(max_depth=4, eta=0.05)
    if profile.learning_rate is not None and family in ("lightgbm", "xgboost"):
        p["learning_rate" if family == "lightgbm" else "eta"] = profile.learning_rate
    return p


def imbalance_strategies(family: str) -> list[str]:
    # the scorecard's points are log-odds: reweighting would only shift them (calibration undoes it)
    return ["none"] if family in ("dummy", SCORECARD) else ["none", "class_weight", "undersample"]


def prior_beta(y: np.ndarray, imbalance: str, undersample_ratio: float) -> float | None:
    """Rate at which non-defaulters were effectively kept (or down-weighted) by the strategy."""
    n_pos = int(np.sum(y == 1))
    n_neg = int(np.sum(y == 0))
    if imbalance == "class_weight":
        return n_pos / n_neg
    if imbalance == "undersample":
        kept = min(n_neg, int(round(n_pos / undersample_ratio)))
        return kept / n_neg
    return None


class FittedModel:
    """A fitted candidate: ``predict_raw`` returns the uncalibrated probability of default."""

    family: str
    n_rounds: int | None = None

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError


class SklearnModel(FittedModel):
    def __init__(self, family: str, pipeline: Pipeline) -> None:
        self.family = family
        self.pipeline = pipeline

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        if self.family == "dummy":
            return self.pipeline.predict_proba(np.zeros((len(X), 1)))[:, 1]
        return self.pipeline.predict_proba(X)[:, 1]


class BoostedModel(FittedModel):
    """A LightGBM or XGBoost booster with its encoder, safe to share between threads.

    Nothing is changed on a booster after construction: LightGBM takes its thread count per call, and
    XGBoost (whose thread count is a booster parameter) gets one booster copy per thread setting,
    configured here once. Setting a parameter on a booster that other threads predict with races
    (`XGBoostError ... need_configuration_`, crashes), so it must never happen after this.
    """

    def __init__(self, family: str, encoder: NativeEncoder, booster: Any, n_rounds: int,
                 validation_curve: list[float] | None = None) -> None:
        self.family = family
        self.encoder = encoder
        self.booster = booster
        self.n_rounds = n_rounds
        self.validation_curve = validation_curve or []  # inner-validation AUC after each round
        self.monotone: list[int] = []  # constraint per matrix column (HC_MONOTONE=auto), [] when off
        self._xgb_boosters: dict[int, Any] = {}
        if family == "xgboost":
            for nthread in THREAD_SETTINGS:
                copy = booster.copy()
                copy.set_param({"nthread": nthread})
                self._xgb_boosters[nthread] = copy

    def matrix(self, X: pd.DataFrame) -> np.ndarray:
        return self.encoder.transform(X)

    def threads(self, n_rows: int) -> int:
        """One thread for small batches (a single applicant scores in milliseconds), two for large ones."""
        return THREAD_SETTINGS[0] if n_rows < 2000 else THREAD_SETTINGS[1]

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        return self.predict_matrix(self.matrix(X))

    def predict_matrix(self, M: np.ndarray, contributions: bool = False) -> np.ndarray:
        nthread = self.threads(len(M))
        if self.family == "lightgbm":
            return self.booster.predict(M, num_iteration=self.n_rounds, pred_contrib=contributions,
                                        num_threads=nthread)
        return self._xgb_boosters[nthread].predict(xgb_dmatrix(M, self.encoder), pred_contribs=contributions,
                                                   iteration_range=(0, self.n_rounds))


def xgb_dmatrix(M: np.ndarray, encoder: NativeEncoder, label: np.ndarray | None = None,
                weight: np.ndarray | None = None) -> xgb.DMatrix:
    cats = set(encoder.categorical_indices)
    types = ["c" if j in cats else "q" for j in range(M.shape[1])]
    return xgb.DMatrix(M, label=label, weight=weight, feature_names=encoder.feature_names,
                       feature_types=types, enable_categorical=True, missing=np.nan, nthread=1)


def _sklearn_estimator(c: Candidate, ctx: FitContext) -> Any:
    p = {**DEFAULT_PARAMS[c.family], **c.params}
    cw = "balanced" if c.imbalance == "class_weight" else None
    if c.family == "dummy":
        return DummyClassifier(strategy="prior")
    if c.family == "logistic_regression":
        return LogisticRegression(C=p["C"], class_weight=cw, max_iter=300, solver="lbfgs")
    if c.family == "random_forest":
        return RandomForestClassifier(
            n_estimators=ctx.profile.rf_trees, min_samples_leaf=p["min_samples_leaf"],
            max_features=p["max_features"], max_samples=p["max_samples"], max_depth=p["max_depth"],
            class_weight=cw, n_jobs=ctx.n_jobs, random_state=ctx.seed)
    raise ValueError(f"not a scikit-learn family: {c.family}")


def _rows_fitted(y: np.ndarray, imbalance: str, ctx: FitContext) -> int:
    """Rows the classifier is fitted on: all of them, or what random undersampling keeps."""
    if imbalance != "undersample":
        return max(len(y), 1)
    n_pos, n_neg = int(np.sum(y == 1)), int(np.sum(y == 0))
    return max(n_pos + min(n_neg, int(n_pos / ctx.undersample_ratio)), 1)


def fit_sklearn(c: Candidate, X: pd.DataFrame, y: np.ndarray, ctx: FitContext) -> SklearnModel:
    clf = _sklearn_estimator(c, ctx)
    if c.family == "dummy":  # ignores the features: no preprocessing to fit
        return SklearnModel(c.family, Pipeline([("clf", clf.fit(np.zeros((len(y), 1)), y))]))
    pre = make_sklearn_preprocessor(ctx.schema)
    steps: list[tuple[str, Any]] = [("pre", pre)]
    if c.imbalance == "undersample" and c.family != "dummy":
        steps.append(("sample", RandomUnderSampler(sampling_strategy=ctx.undersample_ratio,
                                                   random_state=ctx.seed)))
    if c.family == "random_forest":  # max_samples is a share of the rows the forest sees (after sampling)
        share = {**DEFAULT_PARAMS[c.family], **c.params}["max_samples"]
        clf.set_params(max_samples=min(share, RF_ROWS_PER_TREE / _rows_fitted(y, c.imbalance, ctx)))
    steps.append(("clf", clf))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=RuntimeWarning)
        fitted = ImbPipeline(steps).fit(X, y)
    # keep only the transform + classifier: a plain scikit-learn pipeline, serialisable with skops
    plain = Pipeline([("pre", fitted.named_steps["pre"]), ("clf", fitted.named_steps["clf"])])
    return SklearnModel(c.family, plain)


def _undersample(M: np.ndarray, y: np.ndarray, ctx: FitContext) -> tuple[np.ndarray, np.ndarray]:
    sampler = RandomUnderSampler(sampling_strategy=ctx.undersample_ratio, random_state=ctx.seed)
    idx = np.arange(len(y)).reshape(-1, 1)
    idx_s, y_s = sampler.fit_resample(idx, y)
    idx_s = np.sort(idx_s.ravel())
    return M[idx_s], y[idx_s]


def _lgb_params(c: Candidate, ctx: FitContext, y: np.ndarray) -> dict[str, Any]:
    p = {**DEFAULT_PARAMS["lightgbm"], **c.params}
    params = {
        "objective": "binary", "metric": "auc", "learning_rate": p["learning_rate"],
        "num_leaves": p["num_leaves"], "min_child_samples": p["min_child_samples"],
        "feature_fraction": p["feature_fraction"], "lambda_l2": p["lambda_l2"],
        "bagging_fraction": 0.8, "bagging_freq": 1, "cat_smooth": 10.0, "cat_l2": 10.0,
        "min_data_per_group": 50, "max_cat_to_onehot": 4, "max_bin": 255,
        "num_threads": ctx.n_jobs, "seed": ctx.seed, "deterministic": True, "force_col_wise": True,
        "verbosity": -1,
    }
    if c.imbalance == "class_weight":
        params["scale_pos_weight"] = float(np.sum(y == 0) / max(np.sum(y == 1), 1))
    return params


def _xgb_params(c: Candidate, ctx: FitContext, y: np.ndarray) -> dict[str, Any]:
    p = {**DEFAULT_PARAMS["xgboost"], **c.params}
    params = {
        "objective": "binary:logistic", "eval_metric": "auc", "eta": p["eta"],
        "max_depth": p["max_depth"], "min_child_weight": p["min_child_weight"],
        "colsample_bytree": p["colsample_bytree"], "reg_lambda": p["reg_lambda"], "subsample": 0.8,
        "tree_method": "hist", "max_bin": 256, "max_cat_to_onehot": 4, "nthread": ctx.n_jobs,
        "seed": ctx.seed,
    }
    if c.imbalance == "class_weight":
        params["scale_pos_weight"] = float(np.sum(y == 0) / max(np.sum(y == 1), 1))
    return params


def fit_boosted(c: Candidate, X: pd.DataFrame, y: np.ndarray, ctx: FitContext,
                n_rounds: int | None = None) -> BoostedModel:
    """Fit LightGBM / XGBoost. Without ``n_rounds``: early stopping (smoothed validation AUC, see
    ``early_stopping``) on a stratified 15 % inner split of (X, y); with ``n_rounds``: exactly that many
    rounds on all of (X, y)."""
    encoder = NativeEncoder(ctx.schema).fit(X)
    M = encoder.transform(X)
    y = np.asarray(y).astype(int)
    if n_rounds is None:
        idx_tr, idx_va = train_test_split(np.arange(len(y)), test_size=INNER_VALIDATION, stratify=y, random_state=ctx.seed)
        idx_tr, idx_va = np.sort(idx_tr), np.sort(idx_va)
        M_tr, y_tr, M_va, y_va = M[idx_tr], y[idx_tr], M[idx_va], y[idx_va]
    else:
        M_tr, y_tr, M_va, y_va = M, y, None, None
    if c.imbalance == "undersample":
        M_tr, y_tr = _undersample(M_tr, y_tr, ctx)
    max_rounds = ctx.profile.max_boost_rounds if n_rounds is None else n_rounds
    prof = ctx.profile
    monotone: list[int] = []
    if ctx.monotone == "auto":  # trends of the rows this model learns from, never of a test fold
        from models_ml.monotone import monotone_directions

        monotone = monotone_directions(M_tr, y_tr, encoder.categorical_indices)
    stopper = SmoothedStopper(prof.early_stopping_rounds, prof.smoothing_window, prof.min_boost_rounds)
    if c.family == "lightgbm":
        params = _lgb_params(c, ctx, y_tr)
        if any(monotone):
            params["monotone_constraints"] = monotone
        dtrain = lgb.Dataset(M_tr, label=y_tr, feature_name=encoder.feature_names,
                             categorical_feature=encoder.categorical_indices, free_raw_data=True)
        callbacks: list[Any] = []
        valid_sets = []
        if M_va is not None:
            valid_sets = [lgb.Dataset(M_va, label=y_va, reference=dtrain)]
            callbacks = [LightGBMCallback(stopper)]
        booster = lgb.train(params, dtrain, num_boost_round=max_rounds, valid_sets=valid_sets,
                            callbacks=callbacks)
        best = stopper.rounds_to_keep() if M_va is not None else max_rounds
        fitted = BoostedModel("lightgbm", encoder, booster, int(min(best, booster.current_iteration())),
                              stopper.history)
        fitted.monotone = monotone
        return fitted
    if c.family == "xgboost":
        params = _xgb_params(c, ctx, y_tr)
        if any(monotone):
            params["monotone_constraints"] = "(" + ",".join(str(v) for v in monotone) + ")"
        dtrain = xgb_dmatrix(M_tr, encoder, label=y_tr)
        kwargs: dict[str, Any] = {}
        if M_va is not None:
            kwargs = {"evals": [(xgb_dmatrix(M_va, encoder, label=y_va), "valid")],
                      "callbacks": [XGBoostCallback(stopper)]}
        booster = xgb.train(params, dtrain, num_boost_round=max_rounds, verbose_eval=False, **kwargs)
        best = stopper.rounds_to_keep() if M_va is not None else max_rounds
        fitted = BoostedModel("xgboost", encoder, booster, int(min(best, booster.num_boosted_rounds())),
                              stopper.history)
        fitted.monotone = monotone
        return fitted
    raise ValueError(f"not a boosted family: {c.family}")


def fit_candidate(c: Candidate, X: pd.DataFrame, y: np.ndarray, ctx: FitContext,
                  n_rounds: int | None = None) -> FittedModel:
    if c.family in BOOSTED:
        return fit_boosted(c, X, y, ctx, n_rounds)
    if c.family in SKLEARN:
        return fit_sklearn(c, X, y, ctx)
    if c.family == SCORECARD:
        from models_ml.scorecard import fit_scorecard  # imports optbinning only when a scorecard is fitted

        return fit_scorecard(X, y, ctx.schema, ctx.scorecard)
    raise ValueError(f"unknown model family {c.family!r}")
